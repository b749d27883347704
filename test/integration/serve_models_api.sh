#!/bin/sh
# imgclass-serve's management API (--enable-model-api), all traffic on 127.0.0.1: every endpoint and error (TorchServe's /models, KServe v2's repository), then hot swap under 16 clients (/predictions and v2 infer) with zero failed requests and RSS back after unload; then tokens, HTTPS and the abuse limits on the management address.
# The checks are in helpers/serve_mgmt_check.py (api, hotswap, secure); each mode runs under a 300 s bound.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
M=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
if [ ! -x "$BUILD/imgclass-serve" ]; then
    echo "FAIL: $BUILD/imgclass-serve not built (make BUILD=$BUILD all)"
    exit 1
fi
if [ ! -f "$M/tiny.pt" ] || [ ! -f "$M/two_class.pt" ]; then
    echo "FAIL: no test models in $M (make BUILD=$BUILD tests)"
    exit 1
fi
H=$(dirname "$0")/helpers
rc=0
for mode in api hotswap secure; do
    timeout 300 "$PYTHON" "$H/serve_mgmt_check.py" "$mode" "$BUILD" "$M" || rc=1
done
exit $rc
