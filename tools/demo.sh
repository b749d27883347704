#!/bin/sh
# The README's main job (run by `make demo` after `make deps` and the build):
# export ResNet-18 to TorchScript and classify a handful of real photographs
# that Debian's python3-skimage ships, printing the top-5 of each.
#
# The ImageNet weights need the network (torchvision downloads them once into
# ~/.cache/torch). Without it the demo still runs, on a seeded RANDOM model,
# and says loudly that its labels are then meaningless.
# Environment: BUILD (build folder, default build), PYTHON (/usr/bin/python3).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
IC=$BUILD/imgclass
OUT=$BUILD/demo
MODEL=$OUT/resnet18.pt
LABELS=$OUT/resnet18.labels.txt
mkdir -p "$OUT"

banner() {
    echo "########################################################################"
    for line in "$@"; do echo "# $line"; done
    echo "########################################################################"
}

[ -x "$IC" ] || { echo "demo: $IC is not built; run 'make' first" >&2; exit 1; }

# 1. The model: reuse an export made with real weights; otherwise (re)try
#    the download, falling back to random weights.
weights=$(cat "$OUT/WEIGHTS" 2>/dev/null || echo none)
if [ "$weights" != imagenet ] || [ ! -f "$MODEL" ]; then
    echo "demo: exporting ResNet-18 with the ImageNet weights to $MODEL ..."
    set +e
    $PYTHON tools/export_model.py --arch resnet18 --weights imagenet --labels "$LABELS" "$MODEL"
    rc=$?
    set -e
    if [ $rc -eq 0 ]; then
        weights=imagenet
    elif [ $rc -eq 3 ]; then
        weights=random
        echo "demo: no network for the ImageNet weights; exporting a seeded random model" >&2
        $PYTHON tools/export_model.py --arch resnet18 --random-seed 0 --labels "$LABELS" "$MODEL"
    else
        echo "demo: tools/export_model.py failed (exit $rc)" >&2
        exit 1
    fi
    echo "$weights" >"$OUT/WEIGHTS"
fi

# 2. The photos: skimage's sample data (found without importing skimage,
#    which is slow); tools/deps.sh installs python3-skimage.
photos=""
skdata=$($PYTHON -c "import importlib.util as u; s = u.find_spec('skimage'); print(s.submodule_search_locations[0] + '/data' if s else '')" 2>/dev/null || true)
for name in chelsea.png coffee.png astronaut.png rocket.jpg motorcycle_left.png; do
    if [ -n "$skdata" ] && [ -f "$skdata/$name" ]; then
        photos="$photos $skdata/$name"
    fi
done
if [ -z "$photos" ]; then
    echo "demo: no photos: install python3-skimage (make deps)" >&2
    exit 1
fi

# 3. What the model is, then the top-5 of each photo.
echo
"$IC" info --model "$MODEL" --labels "$LABELS" --show 3
echo
if [ "$weights" = random ]; then
    banner "RANDOM WEIGHTS: this machine could not download the ImageNet weights," \
           "so $MODEL is a seeded random ResNet-18. The labels below are" \
           "MEANINGLESS (and nearly uniform probabilities); the demo only shows" \
           "that the pipeline runs. With network, delete $OUT and rerun 'make demo'."
fi
# shellcheck disable=SC2086
"$IC" classify --model "$MODEL" --labels "$LABELS" --topk 5 $photos
if [ "$weights" = random ]; then
    banner "Reminder: RANDOM WEIGHTS (no network): the labels above are meaningless."
else
    echo "demo: ResNet-18 with torchvision's ImageNet weights (IMAGENET1K_V1)."
fi
