#!/bin/sh
# What the serve_*.sh suites share: find the build and the test models,
# then run one mode of serve_check.py under a 300 s bound.
#   sh test/integration/helpers/serve_run.sh MODE [ARG...]
# Environment: BUILD, PYTHON, IMGCLASS_TEST_MODELS.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
M=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
if [ ! -x "$BUILD/imgclass-serve" ] || [ ! -x "$BUILD/imgclass" ]; then
    echo "FAIL: $BUILD/imgclass-serve or $BUILD/imgclass not built (make BUILD=$BUILD all)"
    exit 1
fi
if [ ! -f "$M/tiny.pt" ]; then
    echo "FAIL: no test models in $M (make BUILD=$BUILD tests)"
    exit 1
fi
mode=$1
shift
exec timeout 300 "$PYTHON" "$(dirname "$0")/serve_check.py" "$mode" "$BUILD" "$M" "$@"
