#!/bin/sh
# imgclass info, bench, the top-level help and the man page.
. "$(dirname "$0")/helpers/common.sh"

G=$TMP/g.png
$PYTHON -c "from PIL import Image; Image.new('RGB', (20, 14), (200, 30, 90)).save('$G')"

expect_rc 0 "info" "$IC" info --model "$M/tiny.pt" --labels "$M/labels_synset.txt" --size 8x8
for want in "engine:   libtorch" "input:    3 x 8 x 8" "classes:  5" "device:   cpu" \
            "n01440764 tench, Tinca tinca" "library:  imgclass"; do
    grep -q "$want" "$TMP/out" || fail "info lacks '$want'"
done
grep -q "^load:" "$TMP/out" && fail "info prints the load's timings without --timings"
expect_rc 0 "info --timings" "$IC" info --model "$M/tiny.pt" --timings
# each step with a figure in ms, the engine's start first, the total last
awk '/^load:/ {on = 1; next} on && /^  [ a-z].* [0-9]+\.[0-9] ms$/ {print}' "$TMP/out" > "$TMP/steps"
[ "$(wc -l < "$TMP/steps")" -eq 9 ] || fail "info --timings: not 9 timed steps: $(cat "$TMP/out")"
head -1 "$TMP/steps" | grep -q "engine start" && tail -1 "$TMP/steps" | grep -q "total" ||
    fail "info --timings: steps out of order: $(cat "$TMP/steps")"
expect_rc 1 "info without --model" "$IC" info
expect_rc 1 "info on a text file" "$IC" info --model "$M/not_a_model.txt"

# shellcheck disable=SC2086
expect_rc 0 "bench" "$IC" bench --model "$M/tiny.pt" $PP --runs 3 --batch 2 --sweep 1,4 "$G"
for stage in "decode " "preprocess " "decode+preprocess" "predict b=1 " "predict b=2 " \
             "predict b=4 " "end-to-end b=1 " "end-to-end b=2 " "pipeline b=2 "; do
    grep -q "^$stage" "$TMP/out" || fail "bench lacks the '$stage' row"
done
grep -q "median ms" "$TMP/out" && grep -q "p99 ms" "$TMP/out" || fail "bench lacks the latency columns"

for c in classify info bench; do
    expect_rc 0 "$c --help" "$IC" "$c" --help
done
expect_rc 0 "--help" "$IC" --help
expect_rc 0 "--version" "$IC" --version
expect_rc 1 "unknown command" "$IC" frobnicate

if command -v man >/dev/null 2>&1; then
    if MANWIDTH=80 man -l docs/imgclass.1 >"$TMP/man" 2>"$TMP/manerr" && [ ! -s "$TMP/manerr" ]; then
        for w in --window-ms --no-pipeline udcXX "EXIT STATUS" --preset; do
            grep -q -- "$w" "$TMP/man" || fail "man page lacks $w"
        done
        ok "man page renders"
    else
        fail "man -l docs/imgclass.1: $(head -3 "$TMP/manerr")"
    fi
else
    fail "man is not installed (tools/deps.sh installs man-db)"
fi
finish
