#!/bin/sh
# The argument forms every subcommand (classify, info, preprocess, bench)
# takes, through one parser (examples/common/cli_args.c, getopt_long):
# --opt=VALUE gives what --opt VALUE gives, and so do the short forms;
# an unknown option, a prefix of one, a flag given a value and a missing
# value are usage errors (exit 1) naming the option; "--" lets a file named
# like an option through; --help exits 0. imgclass-serve and imgclass-watch
# share the parser: their usage errors are checked at the end.
. "$(dirname "$0")/helpers/common.sh"

case "$IC" in /*) ICA=$IC ;; *) ICA=$(pwd)/$IC ;; esac
case "$M" in /*) MA=$M ;; *) MA=$(pwd)/$M ;; esac
mkdir -p "$TMP/d"
G=$TMP/d/g.png
# A file whose name starts with '-', reachable only as an operand after --.
$PYTHON -c "from PIL import Image; Image.new('RGB', (20, 14), (200, 30, 90)).save('$G'); \
Image.new('RGB', (9, 17), (10, 220, 40)).save('$TMP/d/-x.png')" || { echo "FAIL: fixtures"; exit 1; }

# in_d COMMAND...: runs it in $TMP/d, where "-x.png" names the file.
in_d() { (cd "$TMP/d" && "$@"); }

# same_output WHAT: $TMP/out.a and $TMP/out.b hold the same bytes.
same_output() {
    if cmp -s "$TMP/out.a" "$TMP/out.b" && [ -s "$TMP/out.a" ]; then
        ok "$1: the same output"
    else
        fail "$1: outputs differ or are empty:"; diff "$TMP/out.a" "$TMP/out.b" | head -6
    fi
}

# refused WHAT WORD COMMAND...: exit 1, and stderr names WORD (fixed string).
refused() {
    what=$1 word=$2
    shift 2
    expect_rc 1 "$what" "$@"
    grep -qF -- "$word" "$TMP/err" || fail "$what: stderr does not name $word: $(cat "$TMP/err")"
    [ -s "$TMP/out" ] && fail "$what: wrote to stdout: $(head -3 "$TMP/out")"
}

# --- classify
expect_rc 0 "classify --opt value" "$IC" classify --model "$M/tiny.pt" --topk 3 --size 8x8 \
    --crop none --json "$G"
cp "$TMP/out" "$TMP/out.a"
expect_rc 0 "classify --opt=value" "$IC" classify "$G" --model="$M/tiny.pt" --topk=3 \
    --size=8x8 --crop=none --json
cp "$TMP/out" "$TMP/out.b"
same_output "classify --opt=value, inputs first"
expect_rc 0 "classify short options" "$IC" classify -m "$M/tiny.pt" -k 3 --size 8x8 \
    --crop none --json "$G"
cp "$TMP/out" "$TMP/out.b"
same_output "classify -m -k"
[ "$(grep -o '"index"' "$TMP/out.a" | wc -l)" -eq 3 ] || fail "classify --topk 3 not applied"
refused "classify unknown option" "'--frobnicate'" "$IC" classify --model "$M/tiny.pt" \
    --frobnicate "$G"
refused "classify abbreviated option" "'--mod'" "$IC" classify --mod "$M/tiny.pt" "$G"
refused "classify unknown short option" "'-q'" "$IC" classify --model "$M/tiny.pt" -q "$G"
refused "classify flag given a value" "--json takes no value" "$IC" classify \
    --model "$M/tiny.pt" --json=1 "$G"
refused "classify missing value" "--topk needs a value" "$IC" classify "$G" \
    --model "$M/tiny.pt" --topk
refused "classify missing short value" "-m needs a value" "$IC" classify "$G" -m
refused "classify bad value" "--batch" "$IC" classify --model "$M/tiny.pt" --batch=0 "$G"
refused "classify -x.png without --" "'-x'" in_d "$ICA" classify --model "$MA/tiny.pt" \
    --size 8x8 --crop none -x.png
expect_rc 0 "classify -- -x.png" in_d "$ICA" classify --model "$MA/tiny.pt" --size 8x8 \
    --crop none -- -x.png
grep -q '^-x\.png: class [0-4] ' "$TMP/out" || fail "classify -- -x.png: $(cat "$TMP/out")"
expect_rc 0 "classify --help" "$IC" classify --help
grep -qF -- "--topk" "$TMP/out" || fail "classify --help does not document --topk"

# --- info
expect_rc 0 "info --opt value" "$IC" info --model "$M/tiny.pt" --labels "$M/labels_synset.txt" \
    --size 8x8 --show 2
cp "$TMP/out" "$TMP/out.a"
expect_rc 0 "info --opt=value" "$IC" info --model="$M/tiny.pt" --labels="$M/labels_synset.txt" \
    --size=8x8 --show=2
cp "$TMP/out" "$TMP/out.b"
same_output "info --opt=value"
expect_rc 0 "info short options" "$IC" info -m "$M/tiny.pt" -l "$M/labels_synset.txt" \
    --size 8x8 -n 2
cp "$TMP/out" "$TMP/out.b"
same_output "info -m -l -n"
grep -q "(3 more)" "$TMP/out.a" || fail "info --show 2 not applied: $(cat "$TMP/out.a")"
refused "info unknown option" "'--frobnicate'" "$IC" info --model "$M/tiny.pt" --frobnicate
refused "info missing value" "--show needs a value" "$IC" info --model "$M/tiny.pt" --show
refused "info bad value" "--show" "$IC" info --model "$M/tiny.pt" --show=-1
# info takes no operand: after --, '-x' is one (refused as such, not as an option)
refused "info -- -x" "unexpected argument '-x'" "$IC" info --model "$M/tiny.pt" --size 8x8 -- -x
expect_rc 0 "info --help" "$IC" info --help

# --- preprocess
expect_rc 0 "preprocess --opt value" "$IC" preprocess --npy "$TMP/a.npy" --size 8x8 \
    --crop none --mean 0.5,0.5,0.5 "$G"
expect_rc 0 "preprocess --opt=value" "$IC" preprocess "$G" --npy="$TMP/b.npy" --size=8x8 \
    --crop=none --mean=0.5,0.5,0.5
if cmp -s "$TMP/a.npy" "$TMP/b.npy" && [ -s "$TMP/a.npy" ]; then
    ok "preprocess --opt=value: the same array"
else
    fail "preprocess --opt=value: the arrays differ"
fi
expect_rc 0 "preprocess other --mean" "$IC" preprocess --npy "$TMP/c.npy" --size 8x8 \
    --crop none "$G"
cmp -s "$TMP/a.npy" "$TMP/c.npy" && fail "preprocess: --mean had no effect"
refused "preprocess unknown option" "'--frobnicate'" "$IC" preprocess --npy "$TMP/x.npy" \
    --frobnicate "$G"
refused "preprocess missing value" "--npy needs a value" "$IC" preprocess --size 8x8 "$G" --npy
refused "preprocess bad value" "--crop" "$IC" preprocess --npy "$TMP/x.npy" --crop=-3 "$G"
[ -e "$TMP/x.npy" ] && fail "preprocess wrote an array after a usage error"
expect_rc 0 "preprocess -- -x.png" in_d "$ICA" preprocess --npy "$TMP/dash.npy" --size 8x8 \
    --crop none -- -x.png
$PYTHON -c "import numpy, sys; a = numpy.load(sys.argv[1]); assert a.shape == (1, 3, 8, 8), a.shape" \
    "$TMP/dash.npy" || fail "preprocess -- -x.png: not a [1, 3, 8, 8] array"
expect_rc 0 "preprocess --help" "$IC" preprocess --help

# --- bench: timings differ run to run; the header and the call counts do not
bench_shape() { # the header line without the version, and stage + calls
    sed -n '1s/^imgclass [^,]*, //p' "$TMP/out"
    sed -n '3,$p' "$TMP/out" | cut -c1-29 # "%-22s %6d": the stage and its calls
}
expect_rc 0 "bench --opt value" "$IC" bench --model "$M/tiny.pt" --size 8x8 --crop none \
    --runs 3 --batch 2 --threads 1 "$G"
bench_shape >"$TMP/out.a"
expect_rc 0 "bench --opt=value" "$IC" bench "$G" --model="$M/tiny.pt" --size=8x8 --crop=none \
    --runs=3 --batch=2 --threads=1
bench_shape >"$TMP/out.b"
same_output "bench --opt=value"
expect_rc 0 "bench short options" "$IC" bench -m "$M/tiny.pt" --size 8x8 --crop none \
    -r 3 -b 2 -t 1 "$G"
bench_shape >"$TMP/out.b"
same_output "bench -m -r -b -t"
grep -q "^predict b=2  *3$" "$TMP/out.a" || fail "bench --runs 3 --batch 2 not applied: $(cat "$TMP/out.a")"
refused "bench unknown option" "'--frobnicate'" "$IC" bench --model "$M/tiny.pt" --frobnicate "$G"
refused "bench missing value" "--runs needs a value" "$IC" bench --model "$M/tiny.pt" "$G" --runs
refused "bench bad value" "--runs" "$IC" bench --model "$M/tiny.pt" --runs=0 "$G"
refused "bench standard input" "'-'" "$IC" bench --model "$M/tiny.pt" -
expect_rc 0 "bench -- -x.png" in_d "$ICA" bench --model "$MA/tiny.pt" --size 8x8 --crop none \
    --runs 1 --batch 1 -- -x.png
grep -q ", 1 image files," "$TMP/out" || fail "bench -- -x.png: $(head -1 "$TMP/out")"
expect_rc 0 "bench --help" "$IC" bench --help

# --- imgclass-serve and imgclass-watch read their arguments the same way
# (only what fails before a model is loaded or a port opened is run here).
for prog in imgclass-serve imgclass-watch; do
    P=$BUILD/$prog
    [ -x "$P" ] || { fail "$P not built"; continue; }
    refused "$prog unknown option" "'--frobnicate'" "$P" --frobnicate
    refused "$prog missing value" "--batch needs a value" "$P" --batch
    refused "$prog flag given a value" "--help takes no value" "$P" --help=1
    refused "$prog operand" "'stray'" "$P" stray
    expect_rc 0 "$prog --help" "$P" --help
done
for form in "--listen=nonsense" "--listen nonsense"; do
    # shellcheck disable=SC2086
    refused "imgclass-serve $form" "--listen (want ADDR:PORT" "$BUILD/imgclass-serve" $form
done
for form in "--format=xml" "--format xml"; do
    # shellcheck disable=SC2086
    refused "imgclass-watch $form" "bad --format 'xml'" "$BUILD/imgclass-watch" $form
done
finish
