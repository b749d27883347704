#!/bin/sh
# EXIF orientation: `imgclass preprocess --exif-transpose` against Pillow's
# ImageOps.exif_transpose + torchvision, bit for bit (see exif_parity.py).
# Environment: BUILD (build folder), PYTHON (interpreter with torch).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" test/parity/exif_parity.py "$BUILD/imgclass"
