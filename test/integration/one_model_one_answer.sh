#!/bin/sh
# One model, one answer: a model carrying a recipe far from the ImageNet
# default gives the same scores, bit for bit, through imgclass classify,
# imgclass-serve, imgclass-watch and the Python binding with no
# preprocessing option, equal to torch's on the recipe's transforms; and an
# explicit option overrides the recipe the same way in each
# (helpers/one_answer.py). Bounded by a timeout; loopback only.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
for p in imgclass imgclass-serve imgclass-watch libimgclass.so; do
    if [ ! -e "$BUILD/$p" ]; then
        echo "FAIL: $BUILD/$p not built (make BUILD=$BUILD all)"
        exit 1
    fi
done
exec timeout 600 "$PYTHON" test/integration/helpers/one_answer.py "$BUILD"
