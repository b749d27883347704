# Sourced by the CLI integration suites (test/integration/cli_*.sh).
# Environment: BUILD (build folder), PYTHON (interpreter with torch),
# IMGCLASS_TEST_MODELS (tiny models; made here into a temp folder if absent).
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
IC=$BUILD/imgclass
HERE=$(dirname "$0")
CHECK="$PYTHON $HERE/helpers/cli_check.py"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/imgclass-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
# The programs' model cache goes to a folder of the suite's, never to the
# user's ~/.cache (test/run_all.sh sets one for the whole run).
IMGCLASS_CACHE_DIR=${IMGCLASS_CACHE_DIR-$TMP/model-cache}
export IMGCLASS_CACHE_DIR
failures=0

if [ ! -x "$IC" ]; then
    echo "FAIL: $IC not built (make BUILD=$BUILD cli)"
    exit 1
fi
M=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}
if [ ! -f "$M/tiny.pt" ]; then
    M=$TMP/models
    $PYTHON test/models/make_test_models.py "$M" >/dev/null || { echo "FAIL: cannot make test models"; exit 1; }
fi
# The tiny model takes 3x8x8: resize exactly to 8x8, no crop.
PP="--size 8x8 --crop none"

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# A sanitizer's report (ASan, LSan, UBSan, TSan) in a program's stderr.
# make check-asan gives the sanitizers an exit status of their own (86), but
# a check must not depend on that alone: a report on an error path, where
# leaks live, would otherwise pass wherever the program is expected to fail.
SANITIZER_REPORT='Sanitizer|runtime error:'

# no_sanitizer_report DESCRIPTION FILE: fails (and shows the report) if FILE
# holds one, whatever the exit status was.
no_sanitizer_report() {
    grep -qE "$SANITIZER_REPORT" "$2" || return 0
    fail "$1: a sanitizer report in stderr:"
    grep -E -A12 "$SANITIZER_REPORT" "$2" | head -30 | sed 's/^/    /'
    return 1
}

# expect_rc WANT DESCRIPTION COMMAND...: runs it, output in $TMP/out, $TMP/err.
expect_rc() {
    want=$1 what=$2
    shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if ! no_sanitizer_report "$what (exit $rc)" "$TMP/err"; then
        :
    elif [ "$rc" -ne "$want" ]; then
        fail "$what: exit status $rc, expected $want; stderr:"
        sed 's/^/    /' "$TMP/err" | head -5
    else
        ok "$what (exit $rc)"
    fi
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed"
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
