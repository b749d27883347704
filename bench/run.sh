#!/bin/sh
# `make bench`: builds the benchmark drivers, then runs every comparison
# against the Python pipeline in one run and writes docs/benchmarks.md, then
# measures imgclass-serve's dynamic batching (bench/serve_bench.py) and its
# fleet goals (bench/serve_fleet_bench.py), and the other sections below.
#
# Every section is measured on a quiet machine: each script refuses (exit 3,
# nothing written) when the load average at its start exceeds 1.0, or
# IMGCLASS_BENCH_MAX_LOAD when set (bench/measure.py); the other sections
# still run. A load left by the previous section is waited for first (up to
# IMGCLASS_BENCH_SETTLE_S, 120 s). uptime at the start and the end shows the
# load around the run.
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
echo "make bench: start: $(uptime)" >&2
make -s BUILD="$BUILD" all "$BUILD/bench/preprocess_bench" "$BUILD/bench/predict_bench" \
    "$BUILD/bench/bare_forward" "$BUILD/bench/pipeline_bench" \
    "$BUILD/bench/engine_load_bench" "$BUILD/bench/engine_load_bench_linked" \
    "$BUILD/bench/yuv_bench"
rc=0
"$PYTHON" bench/run.py --build "$BUILD" "$@" || rc=$?
# The pipeline against the bare forward pass; its own section of
# docs/benchmarks.md, between <!-- pipeline --> markers.
"$PYTHON" bench/pipeline_bench.py --build "$BUILD" || rc=$?
# imgclass_classify() and Python's Model.classify against the pipeline and
# the CLI; its own section of docs/benchmarks.md.
"$PYTHON" bench/classify_bench.py --build "$BUILD" || rc=$?
# imgclass-watch --once against imgclass classify; its own section of
# docs/benchmarks.md.
"$PYTHON" bench/watch_bench.py --build "$BUILD" || rc=$?
# imgclass.dask on a 1-worker LocalCluster against the CLI; written into
# docs/scale-out.md.
"$PYTHON" bench/dask_bench.py --build "$BUILD" --update docs/scale-out.md || rc=$?
# imgclass-serve: dynamic batching against --batch 1; its own section.
"$PYTHON" bench/serve_bench.py --build "$BUILD" || rc=$?
# imgclass-serve in a fleet: v2 infer against /predictions, p99 during hot
# swaps, HTTPS against HTTP (issue 28); its own section. `make
# bench-serve-fleet` runs it alone.
"$PYTHON" bench/serve_fleet_bench.py --build "$BUILD" || rc=$?
# Camera frames: NV12 and I420 against RGB; its own section.
"$PYTHON" bench/yuv_bench.py --build "$BUILD" || rc=$?
# bf16 against float32 (speed, and agreement on the photos); its own section.
"$PYTHON" bench/bf16_bench.py --build "$BUILD" || rc=$?
# int8 ResNet-18 against float32; its own section of docs/benchmarks.md.
"$PYTHON" bench/int8_bench.py --build "$BUILD" || rc=$?
echo "make bench: end: $(uptime)" >&2
exit $rc
