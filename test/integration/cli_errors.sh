#!/bin/sh
# imgclass classify: exit statuses (0 ok, 2 some input failed, 1 usage or
# fatal) and error records for missing, corrupt and non-image files.
. "$(dirname "$0")/helpers/common.sh"

$CHECK make-images "$TMP/fx" || { echo "FAIL: fixtures"; exit 1; }
G=$TMP/fx/good/a.png

# shellcheck disable=SC2086
{
expect_rc 0 "all inputs good" "$IC" classify --model "$M/tiny.pt" $PP "$G" "$TMP/fx/good"
expect_rc 2 "missing file" "$IC" classify --model "$M/tiny.pt" $PP --json "$G" "$TMP/none.png" "$G"
grep -q '"error": ".*none.png: i/o error' "$TMP/out" || fail "missing file record: $(cat "$TMP/out")"
[ "$(wc -l <"$TMP/out")" -eq 3 ] && ok "the run goes on after a failed input" || fail "records after a failure"
expect_rc 2 "corrupt JPEG" "$IC" classify --model "$M/tiny.pt" $PP --tsv "$TMP/fx/mixed/corrupt.jpg"
grep -q "corrupt.jpg	-1	.*corrupt" "$TMP/out" || fail "corrupt record: $(cat "$TMP/out")"
expect_rc 2 "text file given explicitly" "$IC" classify --model "$M/tiny.pt" $PP "$TMP/fx/mixed/notes.txt"
grep -q "notes.txt: error: " "$TMP/out" || fail "non-image record: $(cat "$TMP/out")"
expect_rc 2 "unreadable folder argument" "$IC" classify --model "$M/tiny.pt" $PP --json "$TMP/fx/nodir/"
expect_rc 1 "no --model" "$IC" classify "$G"
expect_rc 1 "no input" "$IC" classify --model "$M/tiny.pt" $PP
expect_rc 1 "unknown option" "$IC" classify --model "$M/tiny.pt" --frobnicate "$G"
expect_rc 1 "bad --batch" "$IC" classify --model "$M/tiny.pt" --batch 0 "$G"
expect_rc 1 "bad --mean" "$IC" classify --model "$M/tiny.pt" --mean 1,2 "$G"
expect_rc 1 "image-dependent size (no crop, shorter side)" "$IC" classify --model "$M/tiny.pt" --crop none "$G"
expect_rc 1 "not a model" "$IC" classify --model "$M/not_a_model.txt" $PP "$G"
grep -q "not_a_model.txt" "$TMP/err" || fail "model error does not name the file"
expect_rc 1 "truncated model" "$IC" classify --model "$M/tiny_truncated.pt" $PP "$G"
expect_rc 1 "missing model" "$IC" classify --model "$TMP/none.pt" $PP "$G"
expect_rc 1 "wrong label count" "$IC" classify --model "$M/tiny.pt" --labels "$M/labels_wrong_count.txt" $PP "$G"
expect_rc 0 "gzip model" "$IC" classify --model "$M/tiny.pt.gz" $PP "$G"
expect_rc 0 "--progress forced on a pipe" "$IC" classify --model "$M/tiny.pt" $PP --progress "$TMP/fx/good"
grep -q "4/4, 0 failed" "$TMP/err" && grep -q "4 images, 0 failed" "$TMP/err" || fail "progress bar or summary: $(cat "$TMP/err")"
expect_rc 0 "no progress bar by default on a pipe" "$IC" classify --model "$M/tiny.pt" $PP "$TMP/fx/good"
grep -q "img/s" "$TMP/err" && fail "progress bar drawn on a pipe"
expect_rc 0 "--help" "$IC" classify --help
}
grep -q -- "--window-ms" "$TMP/out" || fail "--help does not document --window-ms"
finish
