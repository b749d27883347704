#!/bin/sh
# Engine throughput on a random-weight ResNet-18 in one go: the library
# (imgclass_predict), Python (torch.jit.load + inference_mode) and a bare
# libtorch C++ forward, each with the same thread count, at batch 1 and 8.
#
#   sh bench/predict_bench.sh            library default vs Python vs bare C++
#   sh bench/predict_bench.sh --flags    the library under each optimisation set
#
# Environment: BUILD (build folder, default build), PYTHON (/usr/bin/python3),
# THREADS (2), SECONDS_PER_RUN (3), BATCHES ("1 8").
# Build first: make BUILD=... lib $BUILD/bench/predict_bench $BUILD/bench/bare_forward
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=${THREADS:-2}
SECS=${SECONDS_PER_RUN:-3}
BATCHES=${BATCHES:-"1 8"}
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
for batch in $BATCHES; do
    lib=$("$BUILD/bench/predict_bench" "$MODEL" --batch "$batch" --threads "$THREADS" --seconds "$SECS" --optimize default)
    py=$("$PYTHON" bench/predict_bench.py "$MODEL" --batch "$batch" --threads "$THREADS" --seconds "$SECS")
    bare=$("$BUILD/bench/bare_forward" "$MODEL" --batch "$batch" --threads "$THREADS" --seconds "$SECS")
    echo "$lib"; echo "$py"; echo "$bare"
    rate() { echo "$1" | sed 's/.*: \([0-9.]*\) img\/s.*/\1/'; }
    awk -v l="$(rate "$lib")" -v p="$(rate "$py")" -v b="$(rate "$bare")" -v n="$batch" 'BEGIN {
        printf "batch=%d: library/python = %.2fx, library/bare = %.3f (%+.1f%%)\n", n, l / p, l / b, (l / b - 1) * 100 }'
done
