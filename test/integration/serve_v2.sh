#!/bin/sh
# imgclass-serve's Open Inference Protocol (KServe v2) REST API, all traffic on 127.0.0.1: every v2 endpoint and error, JSON and binary bodies; answers equal to /predictions, imgclass classify and the library's predict; metrics; readiness (503 while a slow model loads and while draining, liveness 200 throughout).
# The checks are in helpers/serve_v2_check.py (modes api and ready), each bounded to 300 s.
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
helper=$(dirname "$0")/helpers/serve_v2_check.py
rc=0
timeout 300 "$PYTHON" "$helper" api "$BUILD" "$M" || rc=1
timeout 300 "$PYTHON" "$helper" ready "$BUILD" "$M" || rc=1
exit $rc
