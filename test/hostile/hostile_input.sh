#!/bin/sh
# Hostile inputs against the CLI under a memory cap and a timeout
# (hostile.py; the cases and bounds are listed in docs/hostile-input.md).
# Environment: BUILD, PYTHON, IMGCLASS_TEST_MODELS.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
M=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
if [ ! -x "$BUILD/imgclass" ] || [ ! -f "$M/tiny.pt" ]; then
    echo "FAIL: $BUILD/imgclass or the test models are missing (make all tests)"
    exit 1
fi
if ! "$PYTHON" -c 'import numpy, PIL' 2>/dev/null; then
    echo "SKIP: $PYTHON lacks numpy or Pillow"
    exit 77
fi
exec "$PYTHON" "$(dirname "$0")/hostile.py" "$BUILD" "$M"
