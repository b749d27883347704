#!/bin/sh
# Preprocessing-only benchmark, one thread, encoded images in memory (the
# disk is not measured): imgclass exact and fast (imgclass_preprocess_memory)
# against PIL + torchvision (Image.open(BytesIO) -> convert -> Resize(256)
# -> CenterCrop(224) -> ToTensor -> Normalize). Each figure is a median of
# the mean CPU time per image (see below).
#   sh bench/preprocess_bench.sh [REPS]     (BUILD, PYTHON from the environment)
# Uses ../shared/images/imagenet-sample-100 when present, else generated
# 500x375 JPEGs (the commonest ImageNet size).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
REPS=${1:-5}
make -s BUILD="$BUILD" "$BUILD/bench/preprocess_bench" >/dev/null
DRIVER=$BUILD/bench/preprocess_bench

SAMPLES=../shared/images/imagenet-sample-100
TMP=
if [ -d "$SAMPLES" ]; then
    set -- "$SAMPLES"/*
    what="$# sample photos"
else
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    "$PYTHON" - "$TMP" <<'PY'
import sys, numpy as np
from PIL import Image
rng = np.random.default_rng(1)
y, x = np.mgrid[0:375, 0:500]
for i in range(40):
    img = np.stack([128 + 100 * np.sin(x / (20 + i) + y / 31), x * 255 / 499, y * 255 / 374], -1)
    img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
    Image.fromarray(img).save("%s/g%02d.jpg" % (sys.argv[1], i), quality=90)
PY
    set -- "$TMP"/*.jpg
    what="$# generated 500x375 JPEGs"
fi

# Three interleaved rounds, so that a burst of load on a shared machine
# hits all three pipelines alike; each figure is the median of the rounds.
med3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
e1= f1= r1=
for round in 1 2 3; do
    e1="$e1 $("$DRIVER" --reps "$REPS" "$@")"
    f1="$f1 $("$DRIVER" --fast --reps "$REPS" "$@")"
    r1="$r1 $("$PYTHON" bench/preprocess_bench.py --reps "$REPS" "$@")"
done
# shellcheck disable=SC2086
exact=$(med3 $e1) fast=$(med3 $f1) ref=$(med3 $r1)
echo "preprocess benchmark: $what, 1 thread, CPU ms/image"
echo "  (median of 3 interleaved rounds, each the median of $REPS repetitions)"
printf '  PIL + torchvision   %8.3f ms\n' "$ref"
awk -v r="$ref" -v e="$exact" -v f="$fast" 'BEGIN {
    printf "  imgclass exact      %8.3f ms   %.2fx faster\n", e, r / e
    printf "  imgclass fast       %8.3f ms   %.2fx faster\n", f, r / f }'
