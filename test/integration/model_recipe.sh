#!/bin/sh
# A model that carries its recipe (imgclass.json, written by
# tools/export_model.py): imgclass info prints it, classify and bench use it
# with no preprocessing option (options override it), --preset
# torchvision:NAME, and clear errors for a broken recipe or an unknown name.
. "$(dirname "$0")/helpers/common.sh"
IMGCLASS_OFFLINE=1 # tools/export_model.py never downloads here
export IMGCLASS_OFFLINE
EXPORT="$PYTHON tools/export_model.py"

G=$TMP/g.png
$PYTHON -c "
import numpy as np; from PIL import Image
y, x = np.mgrid[0:90, 0:120]
Image.fromarray(np.stack([x * 2, y * 3, x + y], -1).astype(np.uint8)).save('$G')"

# The recipe of a bicubic torchvision weights, random weights (no network).
expect_rc 0 "export with EfficientNet-B4's recipe" $EXPORT --arch resnet18 --random-seed 3 \
    --recipe-weights EfficientNet_B4_Weights.IMAGENET1K_V1 "$TMP/b4.pt"
expect_rc 0 "info on it" "$IC" info --model "$TMP/b4.pt"
grep -q "input:    3 x 380 x 380" "$TMP/out" || fail "info: the input size is not the recipe's crop"
grep -q -- "--size 384 --crop 380x380 --interpolation bicubic" "$TMP/out" ||
    fail "info does not print the recipe: $(grep recipe "$TMP/out")"
grep -q "labels:   (from the recipe)" "$TMP/out" && grep -q "tench" "$TMP/out" ||
    fail "info does not show the recipe's labels"

# classify with no option = classify with the same recipe as a preset.
expect_rc 0 "classify with the model's recipe" "$IC" classify --model "$TMP/b4.pt" --json "$G"
cp "$TMP/out" "$TMP/recipe.json"
expect_rc 0 "classify with --preset torchvision:" "$IC" classify --model "$TMP/b4.pt" --json \
    --preset torchvision:EfficientNet_B4_Weights.IMAGENET1K_V1 "$G"
cmp -s "$TMP/out" "$TMP/recipe.json" || fail "the recipe and the same preset classify differently"
grep -q '"label": "' "$TMP/recipe.json" || fail "classify output lacks the recipe's labels"
# An option overrides one field of the recipe: other pixels, other scores.
expect_rc 0 "classify, recipe with --interpolation bilinear" "$IC" classify \
    --model "$TMP/b4.pt" --json --interpolation bilinear "$G"
cmp -s "$TMP/out" "$TMP/recipe.json" && fail "--interpolation did not override the recipe"
# A preset of another size reloads the model at that size.
expect_rc 0 "classify with a 224 preset" "$IC" classify --model "$TMP/b4.pt" --json \
    --preset imagenet "$G"
expect_rc 0 "bench with the recipe" "$IC" bench --model "$TMP/b4.pt" --runs 1 --batch 1 "$G"
grep -q "input 380x380" "$TMP/out" || fail "bench does not run at the recipe's size"

# --torchscript: an existing TorchScript archive re-saved with a recipe from flags.
expect_rc 0 "--torchscript re-export with flags" $EXPORT --torchscript "$TMP/b4.pt" \
    --resize 300x200 --crop none --interpolation bicubic --mean 0.5,0.5,0.5 --std 0.5,0.5,0.5 \
    "$TMP/m.pt"
expect_rc 0 "info on the --torchscript export" "$IC" info --model "$TMP/m.pt"
grep -q -- "--resize-mode exact --size 300x200 --crop none --interpolation bicubic --mean 0.5,0.5,0.5" \
    "$TMP/out" || fail "the --torchscript recipe: $(grep recipe "$TMP/out")"
grep -q "input:    3 x 200 x 300" "$TMP/out" || fail "--torchscript: input size not 200 x 300"
expect_rc 0 "--no-recipe export" $EXPORT --random-seed 3 --no-recipe "$TMP/plain.pt"
expect_rc 0 "info without a recipe" "$IC" info --model "$TMP/plain.pt"
grep -q "recipe:   none" "$TMP/out" && grep -q "input:    3 x 224 x 224" "$TMP/out" ||
    fail "a model without a recipe is not shown as before"

# Errors.
expect_rc 2 "unknown --recipe-weights" $EXPORT --random-seed 1 --recipe-weights Nope.V1 \
    "$TMP/x.pt"
expect_rc 1 "unknown torchvision preset" "$IC" classify --model "$TMP/b4.pt" \
    --preset torchvision:EfficientNet_B4_Weights.NOPE "$G"
grep -q "unknown torchvision weights 'EfficientNet_B4_Weights.NOPE'" "$TMP/err" ||
    fail "unknown preset message: $(cat "$TMP/err")"
expect_rc 1 "a model with a broken recipe" "$IC" info --model "$M/tiny_recipe_bad_interp.pt"
grep -q 'tiny_recipe_bad_interp.pt: invalid model: recipe imgclass.json: field "interpolation"' \
    "$TMP/err" || fail "broken recipe message: $(cat "$TMP/err")"
finish
