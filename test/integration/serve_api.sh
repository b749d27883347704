#!/bin/sh
# imgclass-serve (examples/serve), all traffic on 127.0.0.1: every endpoint with curl, http.client and requests; every error status with its JSON; answers equal to imgclass classify; /metrics; SIGTERM exits 0.
# The checks are in helpers/serve_check.py (api).
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
exec timeout 300 "$PYTHON" "$(dirname "$0")/helpers/serve_check.py" api "$BUILD" "$M"
