#!/bin/sh
# imgclass classify: exit statuses (0 ok, 2 some input failed, 1 usage or
# fatal) and error records for missing, corrupt and non-image files.
. "$(dirname "$0")/helpers/common.sh"

$CHECK make-images "$TMP/fx" || { echo "FAIL: fixtures"; exit 1; }
G=$TMP/fx/good/a.png

# shellcheck disable=SC2086
{
expect_rc 0 "all inputs good" "$IC" classify --model "$M/tiny.pt" $PP "$G" "$TMP/fx/good"
grep -q "img/s" "$TMP/err" && fail "progress bar drawn on a pipe by default"
expect_rc 2 "missing, corrupt, non-image and unreadable inputs" "$IC" classify --model "$M/tiny.pt" \
    $PP --json "$G" "$TMP/none.png" "$TMP/fx/mixed/corrupt.jpg" "$TMP/fx/mixed/notes.txt" \
    "$TMP/fx/nodir/" "$G"
for want in '"error": ".*none.png: i/o error' '"path": ".*corrupt.jpg", "error": ".*corrupt' \
            '"path": ".*notes.txt", "error": "' '"path": ".*nodir/", "error": "'; do
    grep -q "$want" "$TMP/out" || fail "no record matching $want in: $(cat "$TMP/out")"
done
[ "$(grep -c '"top"' "$TMP/out")" -eq 2 ] && [ "$(wc -l <"$TMP/out")" -eq 6 ] &&
    ok "the run goes on after failed inputs" || fail "records after failures: $(cat "$TMP/out")"
grep -q "6 images, 4 failed" "$TMP/err" || fail "summary: $(cat "$TMP/err")"
expect_rc 2 "TSV error record" "$IC" classify --model "$M/tiny.pt" $PP --tsv "$TMP/fx/mixed/corrupt.jpg"
grep -q "corrupt.jpg	-1	.*corrupt.*	nan$" "$TMP/out" || fail "TSV error record: $(cat "$TMP/out")"
expect_rc 1 "no --model" "$IC" classify "$G"
expect_rc 1 "no input" "$IC" classify --model "$M/tiny.pt" $PP
expect_rc 1 "unknown option" "$IC" classify --model "$M/tiny.pt" --frobnicate "$G"
expect_rc 1 "bad --batch" "$IC" classify --model "$M/tiny.pt" --batch 0 "$G"
expect_rc 1 "image-dependent size (no crop, shorter side)" "$IC" classify --model "$M/tiny.pt" --crop none "$G"
expect_rc 1 "not a model" "$IC" classify --model "$M/not_a_model.txt" $PP "$G"
grep -q "not_a_model.txt" "$TMP/err" || fail "model error does not name the file"
expect_rc 1 "missing model" "$IC" classify --model "$TMP/none.pt" $PP "$G"
expect_rc 1 "wrong label count" "$IC" classify --model "$M/tiny.pt" --labels "$M/labels_wrong_count.txt" $PP "$G"
expect_rc 0 "--progress forced on a pipe" "$IC" classify --model "$M/tiny.pt" $PP --progress "$TMP/fx/good"
grep -q "4/4, 0 failed" "$TMP/err" && grep -q "4 images, 0 failed" "$TMP/err" || fail "progress bar or summary: $(cat "$TMP/err")"
expect_rc 0 "--help" "$IC" classify --help
}
grep -q -- "--window-ms" "$TMP/out" || fail "--help does not document --window-ms"
finish
