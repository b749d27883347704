#!/bin/sh
# Preprocessing parity: `imgclass preprocess` against torchvision + Pillow,
# every float32 element bit for bit (see preprocess_parity.py).
# Environment: BUILD (build folder), PYTHON (interpreter with torch).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
exec "$PYTHON" test/parity/preprocess_parity.py "$BUILD/imgclass"
