#!/bin/sh
# imgclass classify --topk all, --threshold, --allow, --deny: the records
# printed against the scores of an unfiltered run of the same image.
. "$(dirname "$0")/helpers/common.sh"

$CHECK make-images "$TMP/fx" || { echo "FAIL: fixtures"; exit 1; }
G=$TMP/fx/good/a.png
L=$M/labels_synset.txt
run() { "$IC" classify --model "$M/tiny.pt" --labels "$L" $PP --json "$@" "$G"; }
# field INDEX-LIST FILE: prints the indices of the record's classes, space separated.
indices() { $PYTHON -c 'import json,sys; print(" ".join(str(c["index"]) for c in json.load(open(sys.argv[1]))["top"]))' "$1"; }

# shellcheck disable=SC2086
{
expect_rc 0 "--topk all" run --topk all
cp "$TMP/out" "$TMP/all.json"
ALL=$(indices "$TMP/all.json")
[ "$(echo $ALL | wc -w)" -eq 5 ] && ok "all 5 classes" || fail "--topk all gave: $ALL"
expect_rc 0 "--topk -1" run --topk -1
[ "$(indices "$TMP/out")" = "$ALL" ] || fail "--topk -1 differs from all"
# The third-best score as printed (%.9g round-trips a float exactly).
THIRD=$($PYTHON -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["top"][2]["probability"]))' "$TMP/all.json")
expect_rc 0 "--threshold at the third score" run --topk all --threshold "$THIRD"
[ "$(indices "$TMP/out")" = "$(echo $ALL | cut -d' ' -f1-3)" ] || fail "threshold at score: $(cat "$TMP/out")"
expect_rc 0 "--threshold above every score" run --threshold 1.5
grep -q '"top": \[\]' "$TMP/out" && ok "no class is an empty list" || fail "empty result: $(cat "$TMP/out")"
expect_rc 0 "--threshold above every score, text" "$IC" classify --model "$M/tiny.pt" $PP --threshold 2 "$G"
expect_rc 0 "--allow by index and label" run --topk all --allow 3 --allow "goldfish, Carassius auratus"
[ "$(indices "$TMP/out" | tr ' ' '\n' | sort | tr '\n' ' ')" = "1 3 " ] || fail "allow: $(cat "$TMP/out")"
expect_rc 0 "--deny by synset id" run --topk all --deny n01440764
indices "$TMP/out" | grep -qw 0 && fail "denied class 0 printed: $(cat "$TMP/out")"
[ "$(indices "$TMP/out" | wc -w)" -eq 4 ] || fail "deny: $(cat "$TMP/out")"
expect_rc 1 "--allow with --deny" run --allow 1 --deny 2
grep -q "exclude each other" "$TMP/err" || fail "conflict message: $(cat "$TMP/err")"
expect_rc 1 "unknown label" run --allow platypus
grep -q '"platypus", which is no label' "$TMP/err" || fail "unknown label message: $(cat "$TMP/err")"
expect_rc 1 "index out of range" run --deny 7
grep -q "class 7" "$TMP/err" || fail "range message: $(cat "$TMP/err")"
expect_rc 1 "label without --labels" "$IC" classify --model "$M/tiny.pt" $PP --allow tench "$G"
expect_rc 1 "bad --threshold" run --threshold nan
expect_rc 1 "bad --topk" run --topk 0
}
finish
