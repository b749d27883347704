#!/bin/sh
# imgclass classify -: results come out while standard input is still open,
# a half-full batch is cut by --window-ms (not earlier), and without a
# window only full batches and the end of input cut; -0 reads NUL-separated
# paths (names with newlines).
. "$(dirname "$0")/helpers/common.sh"

$CHECK make-images "$TMP/fx" || { echo "FAIL: fixtures"; exit 1; }
$CHECK stream "$IC" "$M/tiny.pt" "$TMP/fx/good/a.png" || fail "streaming"

# A path list with a folder, a missing file and a name holding a newline.
printf '%s\0%s\0%s\0' "$TMP/fx/good" "$TMP/nothing.png" "$TMP/fx/names/new
line.png" >"$TMP/list0"
# shellcheck disable=SC2086
expect_rc 2 "-0 with a folder, a missing file and a newline name" \
    "$IC" classify --model "$M/tiny.pt" $PP --json -0 - <"$TMP/list0"
$CHECK check json 1 "$M/tiny.pt" - "$TMP/out" "$TMP/fx/good" "$TMP/nothing.png" \
    "$TMP/fx/names/new
line.png" || fail "-0 output"

# Empty standard input: nothing to do, success.
# shellcheck disable=SC2086
expect_rc 0 "empty standard input" "$IC" classify --model "$M/tiny.pt" $PP - </dev/null
[ -s "$TMP/out" ] && fail "output for empty input"
finish
