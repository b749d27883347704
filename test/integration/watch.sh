#!/bin/sh
# imgclass-watch: --once, formats and partitions, files arriving while it
# runs, windows, rolling, signals, an unwritable output, /metrics and STATUS=
# (helpers/watch_check.py has the details of each scenario).
. "$(dirname "$0")/helpers/common.sh"

WATCH=$BUILD/imgclass-watch
[ -x "$WATCH" ] || { echo "FAIL: $WATCH not built (make BUILD=$BUILD watch)"; exit 1; }
scenarios="once arrivals poll windows retry metrics"
if [ "${SANITIZED:-0}" = 1 ]; then
    # Under ASan + UBSan the scenarios that reach every code path (errors,
    # retries, signals, arrivals); poll and windows check timing, which the
    # plain run covers, and would only add minutes here.
    scenarios="once arrivals retry metrics"
    echo "sanitized run: scenarios $scenarios (poll and windows run in the plain suite)"
fi
for scenario in $scenarios; do
    mkdir -p "$TMP/$scenario"
    $PYTHON "$HERE/helpers/watch_check.py" "$scenario" "$BUILD" "$M" "$TMP/$scenario" ||
        fail "scenario $scenario"
done
finish
