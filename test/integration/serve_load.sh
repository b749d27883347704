#!/bin/sh
# imgclass-serve (examples/serve), all traffic on 127.0.0.1: 32 clients x 20 requests beside 200 idle and slow connections, batches > 1 in /metrics, 413 without reading the body, garbage, half requests, malformed multipart, early disconnects; SIGTERM with requests in flight. Under ASan (make check-asan) a leak makes the server's exit status, and so this suite, fail.
# The checks are in helpers/serve_check.py (load).
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
exec timeout 300 "$PYTHON" "$(dirname "$0")/helpers/serve_check.py" load "$BUILD" "$M"
