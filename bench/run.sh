#!/bin/sh
# `make bench`: builds the benchmark drivers, then runs every comparison
# against the Python pipeline in one run and writes docs/benchmarks.md.
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
make -s BUILD="$BUILD" all "$BUILD/bench/preprocess_bench" "$BUILD/bench/predict_bench" \
    "$BUILD/bench/bare_forward"
rc=0
"$PYTHON" bench/run.py --build "$BUILD" "$@" || rc=$?
# imgclass-watch --once against imgclass classify; its own section of
# docs/benchmarks.md.
"$PYTHON" bench/watch_bench.py --build "$BUILD" || rc=$?
exit $rc
