#!/bin/sh
# Engine throughput on a random-weight ResNet-18 in one go: the library
# (imgclass_predict), Python (torch.jit.load + inference_mode) and a bare
# libtorch C++ forward, each with the same thread count, at batch 1 and 8.
#
#   sh bench/predict_bench.sh            library default vs Python vs bare C++
#   sh bench/predict_bench.sh --flags    the library under each optimisation set
#
# Environment: BUILD (build folder, default build), PYTHON (/usr/bin/python3),
# THREADS (2), SECONDS_PER_RUN (3), BATCHES ("1 8"), ROUNDS (3).
# Build first: make BUILD=... lib $BUILD/bench/predict_bench $BUILD/bench/bare_forward
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-2}
SECS=${SECONDS_PER_RUN:-3}
BATCHES=${BATCHES:-"1 8"}
ROUNDS=${ROUNDS:-3}
# The bare forward runs in the library's default configuration
# (IMGCLASS_OPTIMIZE_DEFAULT = freeze + optimize_for_inference).
BARE_FLAGS=${BARE_FLAGS:---for-inference}
MODEL=$BUILD/bench/resnet18-random.pt
mkdir -p "$BUILD/bench"
for b in predict_bench bare_forward; do
    [ -x "$BUILD/bench/$b" ] || { echo "missing $BUILD/bench/$b: make BUILD=$BUILD $BUILD/bench/$b" >&2; exit 2; }
done
[ -f "$MODEL" ] || "$PYTHON" tools/export_model.py --random-seed 0 "$MODEL" 2>/dev/null

echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) CPUs, $THREADS threads, ${SECS}s per run, model $MODEL"
if [ "${1:-}" = "--flags" ]; then
    for batch in $BATCHES; do
        for opt in none freeze for-inference freeze,channels-last for-inference,channels-last freeze,bfloat16; do
            "$BUILD/bench/predict_bench" "$MODEL" --batch "$batch" --threads "$THREADS" --seconds "$SECS" --optimize "$opt"
        done
    done
    exit 0
fi
# Interleaved rounds, best of each side: the machine is shared and noisy,
# and the best round is the one least disturbed by other processes.
rate() { echo "$1" | sed 's/.*: \([0-9.]*\) img\/s.*/\1/'; }
for batch in $BATCHES; do
    best_lib=0 best_py=0 best_bare=0
    for round in $(seq "$ROUNDS"); do
        lib=$("$BUILD/bench/predict_bench" "$MODEL" --batch "$batch" --threads "$THREADS" --seconds "$SECS" --optimize default)
        py=$("$PYTHON" bench/predict_bench.py "$MODEL" --batch "$batch" --threads "$THREADS" --seconds "$SECS")
        bare=$("$BUILD/bench/bare_forward" "$MODEL" --batch "$batch" --threads "$THREADS" --seconds "$SECS" $BARE_FLAGS)
        echo "round $round: $lib"; echo "round $round: $py"; echo "round $round: $bare"
        best_lib=$(awk -v a="$best_lib" -v b="$(rate "$lib")" 'BEGIN { print (b > a ? b : a) }')
        best_py=$(awk -v a="$best_py" -v b="$(rate "$py")" 'BEGIN { print (b > a ? b : a) }')
        best_bare=$(awk -v a="$best_bare" -v b="$(rate "$bare")" 'BEGIN { print (b > a ? b : a) }')
    done
    awk -v l="$best_lib" -v p="$best_py" -v b="$best_bare" -v n="$batch" 'BEGIN {
        printf "batch=%d best of rounds: library %.2f, python %.2f, bare C++ %.2f img/s; library/python = %.2fx, library/bare = %.3f (%+.1f%%)\n",
               n, l, p, b, l / p, l / b, (l / b - 1) * 100 }'
done
