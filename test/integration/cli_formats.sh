#!/bin/sh
# imgclass classify: every output format, with and without labels, top-1 and
# top-k, against what Pillow + PyTorch compute in the test (cli_check.py);
# folders with mixed content, links, hidden files and names that need
# escaping; pipelined and --no-pipeline give the same bytes.
. "$(dirname "$0")/helpers/common.sh"

$CHECK make-images "$TMP/fx" || { echo "FAIL: fixtures"; exit 1; }
IN="$TMP/fx/good $TMP/fx/mixed/ $TMP/fx/names $TMP/fx/missing.png"
L=$M/labels_synset.txt

run_check() { # format k labels(- for none) extra-options...
    fmt=$1 k=$2 lab=$3
    shift 3
    if [ "$lab" = - ]; then labopt=""; else labopt="--labels $lab"; fi
    # shellcheck disable=SC2086
    expect_rc 2 "$fmt top-$k labels=$lab $*" "$IC" classify --model "$M/tiny.pt" $labopt $PP \
        --"$fmt" --topk "$k" -b 3 "$@" $IN
    n=$((n + 1))
    cp "$TMP/out" "$TMP/out.$n"
    [ "$fmt$k$lab" = "json3$L" ] && cp "$TMP/out" "$TMP/out.json.3"
    specs="$specs $fmt:$k:$lab:$TMP/out.$n"
    grep -q "20 images, 3 failed" "$TMP/err" || fail "summary line: $(cat "$TMP/err")"
}

n=0 specs=""
run_check json 3 "$L"
run_check tsv 1 "$L"
run_check text 1 "$L"
run_check text 3 "$L"
run_check json 2 -
run_check tsv 1 - --no-pipeline --preprocess-threads 0
# shellcheck disable=SC2086
$CHECK check-many "$M/tiny.pt" $specs -- $IN || fail "output differs from PyTorch's"

# Exact ties (tied.pt scores classes 1, 2, 4 equal, then 0, 3): the lower
# index first, in the pipelined and the direct path alike.
for mode in "" --no-pipeline; do
    # shellcheck disable=SC2086
    "$IC" classify --model "$M/tied.pt" $PP --json -k 5 $mode "$TMP/fx/good" \
        >"$TMP/tied" 2>"$TMP/err" || fail "tied.pt $mode: $(cat "$TMP/err")"
    $CHECK check json 5 "$M/tied.pt" - "$TMP/tied" "$TMP/fx/good" >/dev/null ||
        fail "tie order differs from PyTorch's ($mode)"
    # every record, not only the first: indices of each line in order
    orders=$(sed 's/"index": \([0-9]*\)/\n#\1\n/g' "$TMP/tied" | sed -n 's/^#//p' |
        tr '\n' ' ')
    records=$(grep -c '"top"' "$TMP/tied")
    want=$(for _ in $(seq "$records"); do printf '1 2 4 0 3 '; done)
    [ "$records" -gt 0 ] && [ "$orders" = "$want" ] && ok "tie order 1 2 4 0 3 $mode" ||
        fail "tie order: got '$orders' ($mode)"
done

# The pipeline does not change a byte of the output.
# shellcheck disable=SC2086
"$IC" classify --model "$M/tiny.pt" --labels "$L" $PP --json -k 3 -b 3 --no-pipeline $IN \
    >"$TMP/nopipe" 2>/dev/null
cmp -s "$TMP/nopipe" "$TMP/out.json.3" && ok "--no-pipeline output identical" ||
    fail "--no-pipeline output differs from the pipelined one"

# The order is strcmp order of the relative path, not per-folder order.
grep -a -o '"path": "[^"]*mixed/[^"]*"' "$TMP/out.json.3" | sed 's/.*\(mixed[^"]*\)"/\1/' |
    tr '\n' ' ' >"$TMP/order"
want="mixed/Upper.JPG mixed/a.png mixed/corrupt.jpg mixed/fake.png mixed/link_to_file.png mixed/noext mixed/sub.png mixed/sub/c.png "
[ "$(cat "$TMP/order")" = "$want" ] && ok "folder order and selection" ||
    fail "folder order: got '$(cat "$TMP/order")', want '$want'"

# JSON escaping, byte for byte.
grep -a -q '"path": "[^"]*/names/bad\\udcffbyte.png"' "$TMP/out.json.3" || fail "non-UTF-8 byte not \\udcff"
grep -a -q '"path": "[^"]*/names/quo\\"te.png"' "$TMP/out.json.3" || fail "quote not escaped"
grep -a -q '"path": "[^"]*/names/new\\nline.png"' "$TMP/out.json.3" || fail "newline not escaped"
grep -a -q '"path": "[^"]*/names/tab\\there.png"' "$TMP/out.json.3" || fail "tab not escaped"
grep -a -q "names/café.png" "$TMP/out.json.3" || fail "valid UTF-8 not passed through"
[ "$(wc -l <"$TMP/out.json.3")" -eq 20 ] && ok "one JSON line per input" || fail "JSON line count"
finish
