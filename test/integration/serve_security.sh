#!/bin/sh
# imgclass-serve (examples/serve), all traffic on loopback: bearer tokens (missing, wrong, right; TorchServe's key file; open health paths; token files refused), HTTPS with a certificate the test makes (curl --cacert; plain HTTP to the TLS port refused, the server serving on; bad certificate and key files named), and abuse limits (1,100 half-open requests from 127.0.0.1 while 127.0.0.2 is served; the header deadline closes silent and trickling connections; counted in /metrics).
# The checks are in helpers/serve_security_check.py, run under a 300 s bound.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
M=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
if [ ! -x "$BUILD/imgclass-serve" ]; then
    echo "FAIL: $BUILD/imgclass-serve not built (make BUILD=$BUILD all)"
    exit 1
fi
if [ ! -f "$M/tiny.pt" ]; then
    echo "FAIL: no test models in $M (make BUILD=$BUILD tests)"
    exit 1
fi
for tool in openssl curl; do
    if ! command -v $tool >/dev/null; then
        echo "SKIP: $tool is not installed (tools/deps.sh)"
        exit 77
    fi
done
exec timeout 300 "$PYTHON" "$(dirname "$0")/helpers/serve_security_check.py" "$BUILD" "$M"
