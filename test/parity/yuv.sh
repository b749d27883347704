#!/bin/sh
# YUV frames (imgclass_image_wrap_yuv) against OpenCV's cvtColor, bit for
# bit (see yuv_parity.py). Fails without python3-opencv (a test dependency,
# installed by tools/deps.sh).
# Environment: BUILD (build folder), PYTHON (interpreter with torch, cv2).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" test/parity/yuv_parity.py "$BUILD/libimgclass.so"
