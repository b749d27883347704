#!/bin/sh
# torchvision's weights recipes: every distinct recipe of the --preset
# table bit for bit against the weights' transforms(), the table against a
# fresh generation, and a model exported with a recipe classified with no
# options against the Python pipeline (see recipe_parity.py).
# Environment: BUILD (build folder), PYTHON (interpreter with torch).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
IMGCLASS_OFFLINE=1 # tools/export_model.py never downloads here
export IMGCLASS_OFFLINE
exec "$PYTHON" test/parity/recipe_parity.py "$BUILD/imgclass"
