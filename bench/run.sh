#!/bin/sh
# `make bench`: builds the benchmark drivers, then runs every comparison
# against the Python pipeline in one run and writes docs/benchmarks.md, then
# measures imgclass-serve's dynamic batching (bench/serve_bench.py).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
make -s BUILD="$BUILD" all "$BUILD/bench/preprocess_bench" "$BUILD/bench/predict_bench" \
    "$BUILD/bench/bare_forward"
"$PYTHON" bench/run.py --build "$BUILD" "$@"
# The HTTP server's section is added to docs/benchmarks.md after run.py wrote it.
exec "$PYTHON" bench/serve_bench.py --build "$BUILD"
