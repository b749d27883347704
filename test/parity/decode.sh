#!/bin/sh
# Decoding parity with Pillow (see decode_parity.py). Env: BUILD, PYTHON.
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
here=$(dirname "$0")
exec "$PYTHON" "$here/decode_parity.py" "$BUILD/libimgclass.so"
