#!/bin/sh
# imgclass-watch: --once, formats and partitions, files arriving while it
# runs, windows, rolling, signals, an unwritable output
# (helpers/watch_check.py has the details of each scenario).
. "$(dirname "$0")/helpers/common.sh"

WATCH=$BUILD/imgclass-watch
[ -x "$WATCH" ] || { echo "FAIL: $WATCH not built (make BUILD=$BUILD watch)"; exit 1; }
for scenario in once arrivals poll windows retry; do
    mkdir -p "$TMP/$scenario"
    $PYTHON "$HERE/helpers/watch_check.py" "$scenario" "$BUILD" "$M" "$TMP/$scenario" ||
        fail "scenario $scenario"
done
finish
