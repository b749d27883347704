#!/bin/sh
# tools/export_model.py: seeded random models (loudly announced, gzip,
# reproducible), local state dicts, and --weights imagenet offline, from
# torch's cache or not; each export is loaded and run by the built program.
# Not under the sanitizers (make check-asan): almost all of its time is
# Python, and the C it drives is checked there by other suites.
if [ "${SANITIZED:-0}" = 1 ]; then
    echo "SKIP: not under the sanitizers: tools/export_model.py is Python; the C it drives (loading gzip models, labels, classify) runs under ASan in unit/test_model, unit/test_labels and the cli suites"
    exit 77
fi
. "$(dirname "$0")/helpers/common.sh"
IMGCLASS_OFFLINE=1
export IMGCLASS_OFFLINE
EXPORT="$PYTHON tools/export_model.py"

G=$TMP/g.png
$PYTHON -c "
import numpy as np; from PIL import Image
y, x = np.mgrid[0:60, 0:80]
Image.fromarray(np.stack([x * 3, y * 4, x + y], -1).astype(np.uint8)).save('$G')"

# A seeded random model, gzip: announced on stderr, 1000 labels, loadable.
expect_rc 0 "random-seed export (.pt.gz)" $EXPORT --random-seed 7 "$TMP/a.pt.gz"
grep -q "RANDOM WEIGHTS" "$TMP/err" || fail "the random model is not announced loudly"
[ "$(wc -l < "$TMP/a.labels.txt")" -eq 1000 ] || fail "labels file does not have 1000 lines"
head -c 2 "$TMP/a.pt.gz" | od -An -tx1 | grep -q "1f 8b" || fail "a.pt.gz is not gzip"
expect_rc 0 "info on the export" "$IC" info --model "$TMP/a.pt.gz" --labels "$TMP/a.labels.txt"
grep -q "classes:  1000" "$TMP/out" && grep -q "tench" "$TMP/out" ||
    fail "info does not show 1000 classes and the ImageNet labels"

# The same seed gives the same model: identical predictions.
expect_rc 0 "same seed again (plain .pt)" $EXPORT --random-seed 7 "$TMP/b.pt"
"$IC" classify --model "$TMP/a.pt.gz" --json --topk 3 "$G" > "$TMP/a.json" 2>/dev/null
"$IC" classify --model "$TMP/b.pt" --json --topk 3 "$G" > "$TMP/b.json" 2>/dev/null
[ -s "$TMP/a.json" ] && cmp -s "$TMP/a.json" "$TMP/b.json" ||
    fail "two exports with seed 7 classify differently"

# Local weights: the state dict of seed 7 reproduces the seed-7 model.
$PYTHON -c "
import torch, torchvision
torch.manual_seed(7)
torch.save(torchvision.models.resnet18(weights=None).state_dict(), '$TMP/w.pth')"
expect_rc 0 "--state-dict export" $EXPORT --state-dict "$TMP/w.pth" "$TMP/c.pt"
"$IC" classify --model "$TMP/c.pt" --json --topk 3 "$G" > "$TMP/c.json" 2>/dev/null
cmp -s "$TMP/a.json" "$TMP/c.json" || fail "--state-dict model differs from the seeded one"
echo "not weights" > "$TMP/bad.pth"
expect_rc 4 "--state-dict with a bad file" $EXPORT --state-dict "$TMP/bad.pth" "$TMP/d.pt"
grep -q "bad.pth: cannot load weights" "$TMP/err" || fail "bad state dict message"

# Pretrained weights, offline (IMGCLASS_OFFLINE=1, set above, so this suite
# never waits on the network): not in torch's cache, exit 3 at once naming
# the file to copy; in the cache (here the seed-7 state dict under the
# URL's name), loaded from it.
TORCH_HOME=$TMP/torch-home
export TORCH_HOME
expect_rc 3 "--weights imagenet offline, not cached" $EXPORT --weights imagenet "$TMP/e.pt"
grep -q "IMGCLASS_OFFLINE is set .* not in torch's cache: copy https://.* to $TORCH_HOME/hub/checkpoints/" \
    "$TMP/err" || fail "offline message: $(tail -1 "$TMP/err")"
[ -e "$TMP/e.pt" ] && fail "an export was written without weights"
cached=$($PYTHON -c "
import os, torchvision
print(os.path.basename(torchvision.models.ResNet18_Weights.DEFAULT.url))")
mkdir -p "$TORCH_HOME/hub/checkpoints"
cp "$TMP/w.pth" "$TORCH_HOME/hub/checkpoints/$cached"
expect_rc 0 "--weights imagenet offline, from torch's cache" $EXPORT --weights imagenet "$TMP/e.pt"
"$IC" classify --model "$TMP/e.pt" --json --topk 3 "$G" > "$TMP/e.json" 2>/dev/null
cmp -s "$TMP/a.json" "$TMP/e.json" || fail "the cached weights do not give the seed-7 model"
expect_rc 2 "unknown architecture" $EXPORT --arch nosuchnet --random-seed 1 "$TMP/f.pt"
finish
