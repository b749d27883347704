#!/bin/sh
# --precision float32|bf16 in every program that opens a model (imgclass
# classify, info, bench; imgclass-serve, applied to every --model;
# imgclass-watch): one option of examples/common/model_args.c. Where the CPU
# has native bf16 (avx512_bf16 or amx_bf16 in /proc/cpuinfo) bf16 runs and
# gives float32's top-1 on a few images; where it has not, each program
# refuses it, naming the model and the missing feature. Which branch ran is
# printed; both assert. An int8 model runs int8 whatever is asked; a bad
# value is refused with the one shared message.
. "$(dirname "$0")/helpers/common.sh"

if grep -qE '^flags.* (avx512_bf16|amx_bf16)( |$)' /proc/cpuinfo; then
    native=1
    echo "branch: this CPU has native bf16: bf16 runs and is compared with float32"
else
    native=0
    echo "branch: this CPU lacks native bf16: every program must refuse it"
fi

# refused_bf16 WHAT: the last command exited 1 with the library's refusal
# naming the precision, the feature and tiny.pt.
refused_bf16() {
    for w in "precision bf16" "avx512_bf16" "tiny.pt"; do
        grep -qF -- "$w" "$TMP/err" || fail "$1: the refusal does not name '$w': $(cat "$TMP/err")"
    done
}

# Plain colours whose top-1 on tiny.pt (8x8) is class 4 or 0 by a margin of
# at least 0.02, far above bf16's error on it (~1e-3).
mkdir -p "$TMP/img"
$PYTHON - "$TMP/img" <<'EOF' || { echo "FAIL: fixtures"; exit 1; }
import sys
from PIL import Image
colours = [(255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0), (255, 255, 0),
           (0, 255, 255), (255, 0, 255)]
for i, c in enumerate(colours):
    Image.new("RGB", (10, 10), c).save(f"{sys.argv[1]}/c{i}.png")
EOF

# --- info
expect_rc 0 "info (default precision)" "$IC" info --model "$M/tiny.pt" --size 8x8
grep -q "^precision: float32$" "$TMP/out" || fail "info does not say float32: $(grep precision "$TMP/out")"
if [ $native = 1 ]; then
    expect_rc 0 "info --precision bf16" "$IC" info --model "$M/tiny.pt" --size 8x8 --precision bf16
    grep -q "^precision: bf16$" "$TMP/out" || fail "info --precision bf16: $(grep precision "$TMP/out")"
    grep -q "^weights:  bfloat16$" "$TMP/out" || fail "info --precision bf16: $(grep weights "$TMP/out")"
    expect_rc 0 "info --precision=bf16" "$IC" info --model "$M/tiny.pt" --size 8x8 --precision=bf16
    grep -q "^precision: bf16$" "$TMP/out" || fail "info --precision=bf16: not bf16"
else
    expect_rc 1 "info --precision bf16 (refused)" "$IC" info --model "$M/tiny.pt" --size 8x8 \
        --precision bf16
    refused_bf16 "info"
fi
expect_rc 0 "info --precision float32" "$IC" info --model "$M/tiny.pt" --size 8x8 --precision float32
grep -q "^precision: float32$" "$TMP/out" || fail "info --precision float32: not float32"
if [ -f "$M/tiny_int8.pt" ]; then
    # Ignored, not refused, also on a CPU without bf16.
    expect_rc 0 "info int8 --precision bf16" "$IC" info --model "$M/tiny_int8.pt" --size 8x8 \
        --precision bf16
    grep -q "^precision: int8 (bf16 asked: an int8 model runs int8)$" "$TMP/out" ||
        fail "info int8 --precision bf16: $(grep precision "$TMP/out")"
fi

# --- classify: the same top-1 as float32, probabilities within 5e-3 (the
# bound test_precision.c explains), and really computed in bf16.
# shellcheck disable=SC2086
expect_rc 0 "classify float32" "$IC" classify --model "$M/tiny.pt" $PP --tsv "$TMP/img"
cp "$TMP/out" "$TMP/f32.tsv"
if [ $native = 1 ]; then
    # shellcheck disable=SC2086
    expect_rc 0 "classify --precision bf16" "$IC" classify --model "$M/tiny.pt" $PP --tsv \
        --precision bf16 "$TMP/img"
    cp "$TMP/out" "$TMP/bf16.tsv"
    [ "$(wc -l <"$TMP/bf16.tsv")" -eq 7 ] || fail "classify bf16: $(wc -l <"$TMP/bf16.tsv") lines, not 7"
    paste "$TMP/f32.tsv" "$TMP/bf16.tsv" | awk -F '\t' '
        BEGIN { max = 0 }
        $1 != $5 || $2 != $6 { print "top-1 differs: " $1 " " $2 " vs " $6; bad = 1 }
        { d = $4 - $8; if (d < 0) d = -d; if (d > 5e-3) { print "off by " d ": " $1; bad = 1 }
          if (d > max) max = d }
        END { if (max < 2e-5) { print "within " max " of float32: bf16 not applied"; bad = 1 }
              if (!bad) print "largest difference " max; exit bad }' >"$TMP/cmp" ||
        fail "classify bf16 vs float32: $(cat "$TMP/cmp")"
    ok "classify bf16: float32's top-1 on 7 images ($(cat "$TMP/cmp"))"
    classes=$(cut -f2 "$TMP/bf16.tsv" | sort -u | wc -l)
    [ "$classes" -ge 2 ] || fail "the fixture images give only $classes top-1 class"
else
    # shellcheck disable=SC2086
    expect_rc 1 "classify --precision bf16 (refused)" "$IC" classify --model "$M/tiny.pt" $PP \
        --precision bf16 "$TMP/img"
    refused_bf16 "classify"
fi

# --- bench names the precision in its header
if [ $native = 1 ]; then
    # shellcheck disable=SC2086
    expect_rc 0 "bench --precision bf16" "$IC" bench --model "$M/tiny.pt" $PP --runs 2 --batch 2 \
        --precision bf16 "$TMP/img/c0.png"
    grep -q "precision bf16," "$TMP/out" || fail "bench header: $(head -1 "$TMP/out")"
else
    # shellcheck disable=SC2086
    expect_rc 1 "bench --precision bf16 (refused)" "$IC" bench --model "$M/tiny.pt" $PP --runs 2 \
        --precision bf16 "$TMP/img/c0.png"
    refused_bf16 "bench"
fi

# --- imgclass-watch --once: bf16's records have float32's top-1
if [ -x "$BUILD/imgclass-watch" ]; then
    # shellcheck disable=SC2086
    expect_rc "$((1 - native))" "imgclass-watch --once --precision bf16" "$BUILD/imgclass-watch" \
        --model "$M/tiny.pt" $PP --input "$TMP/img" --output "$TMP/wout" --once --format tsv \
        --precision bf16
    if [ $native = 1 ]; then
        # TIME PATH INDEX LABEL PROB -> PATH INDEX, against classify's PATH INDEX
        find "$TMP/wout" -path "$TMP/wout/_*" -prune -o -name 'part-*' -type f -print |
            xargs cat | awk -F '\t' '{ print $2 "\t" $3 }' | sort >"$TMP/w.top"
        cut -f1,2 "$TMP/f32.tsv" | sort >"$TMP/f.top"
        if cmp -s "$TMP/w.top" "$TMP/f.top"; then
            ok "imgclass-watch bf16: float32's top-1 on 7 images"
        else
            fail "imgclass-watch bf16 top-1 differs from float32:"; diff "$TMP/f.top" "$TMP/w.top" | head -5
        fi
    else
        refused_bf16 "imgclass-watch"
    fi
else
    fail "$BUILD/imgclass-watch not built"
fi

# --- imgclass-serve: --precision applies to every --model; each start-up
# line names the precision the model runs in (int8 stays int8).
if [ -x "$BUILD/imgclass-serve" ]; then
    set -- --model "f=$M/tiny.pt"
    [ -f "$M/tiny_int8.pt" ] && set -- "$@" --model "q=$M/tiny_int8.pt"
    # shellcheck disable=SC2086
    "$BUILD/imgclass-serve" "$@" $PP --precision bf16 --listen 127.0.0.1:0 \
        --metrics-listen 127.0.0.1:0 --quiet >/dev/null 2>"$TMP/serve.err" &
    pid=$!
    i=0
    while [ $i -lt 600 ] && kill -0 $pid 2>/dev/null && ! grep -q "listening on" "$TMP/serve.err"; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ $native = 1 ]; then
        if grep -q "listening on" "$TMP/serve.err"; then
            grep -q "model f: .*tiny.pt, precision bf16," "$TMP/serve.err" ||
                fail "serve: model f's line: $(grep 'model f' "$TMP/serve.err")"
            if [ -f "$M/tiny_int8.pt" ]; then
                grep -q "model q: .*tiny_int8.pt, precision int8," "$TMP/serve.err" ||
                    fail "serve: model q's line: $(grep 'model q' "$TMP/serve.err")"
            fi
            ok "imgclass-serve --precision bf16: each model's start-up line names its precision"
        else
            fail "imgclass-serve --precision bf16 did not start: $(tail -3 "$TMP/serve.err")"
        fi
        kill $pid 2>/dev/null
        wait $pid
    else
        wait $pid
        rc=$?
        [ $rc -eq 1 ] || fail "imgclass-serve --precision bf16: exit $rc, expected 1 (refused)"
        cp "$TMP/serve.err" "$TMP/err"
        refused_bf16 "imgclass-serve"
    fi
else
    fail "$BUILD/imgclass-serve not built"
fi

# --- a bad value: the one shared message, before any model is loaded
for form in "--precision fp16" "--precision=fp16"; do
    for c in classify info bench; do
        # shellcheck disable=SC2086
        expect_rc 1 "$c $form" "$IC" $c --model "$M/tiny.pt" $form "$TMP/img/c0.png"
        grep -qF "imgclass $c: bad value 'fp16' for --precision (float32 or bf16)" "$TMP/err" ||
            fail "$c $form: $(cat "$TMP/err")"
    done
    for prog in imgclass-serve imgclass-watch; do
        # shellcheck disable=SC2086
        expect_rc 1 "$prog $form" "$BUILD/$prog" $form
        grep -qF "$prog: bad value 'fp16' for --precision (float32 or bf16)" "$TMP/err" ||
            fail "$prog $form: $(cat "$TMP/err")"
    done
done
expect_rc 1 "classify --precision without a value" "$IC" classify --precision
grep -qF -- "--precision needs a value" "$TMP/err" || fail "no value: $(cat "$TMP/err")"
finish
