#!/bin/sh
# imgclass-watch exactly-once across crashes: images arrive over 20 s, the
# program is killed with SIGKILL at 10 random moments and restarted; every
# input must then be in the finalized parts exactly once with the top-1
# `imgclass classify` gives it. WATCH_CRASH_SEED=N repeats a run.
. "$(dirname "$0")/helpers/common.sh"

WATCH=$BUILD/imgclass-watch
[ -x "$WATCH" ] || { echo "FAIL: $WATCH not built (make BUILD=$BUILD watch)"; exit 1; }
$PYTHON "$HERE/helpers/watch_check.py" crash "$BUILD" "$M" "$TMP" || fail "crash test"
finish
