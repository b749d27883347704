#!/bin/sh
# imgclass-serve and imgclass-watch under a Type=notify service manager,
# played by the test (helpers/notify_check.py): READY=1 when they can work,
# watchdog pings, STOPPING=1 and a clean exit at SIGTERM. Bounded; loopback.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
M=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
for p in imgclass-serve imgclass-watch; do
    [ -x "$BUILD/$p" ] || { echo "FAIL: $BUILD/$p not built (make BUILD=$BUILD all)"; exit 1; }
done
[ -f "$M/tiny.pt" ] || { echo "FAIL: no test models in $M (make BUILD=$BUILD tests)"; exit 1; }
exec timeout 600 "$PYTHON" test/integration/helpers/notify_check.py "$BUILD" "$M"
