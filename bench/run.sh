#!/bin/sh
# `make bench`: builds the benchmark drivers, then runs every comparison
# against the Python pipeline in one run and writes docs/benchmarks.md.
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
make -s BUILD="$BUILD" all "$BUILD/bench/preprocess_bench" "$BUILD/bench/predict_bench" \
    "$BUILD/bench/bare_forward" "$BUILD/bench/engine_load_bench" "$BUILD/bench/engine_load_bench_linked"
exec "$PYTHON" bench/run.py --build "$BUILD" "$@"
