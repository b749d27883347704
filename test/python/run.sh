#!/bin/sh
# The Python binding's tests (pytest): parity with torchvision, classify
# against PyTorch, every input type, errors, threads, the library search
# order, pip install, the torch drop-ins and a 10,000-call leak check.
# Run by test/run_all.sh --python (part of `make test`, not of the ASan and
# valgrind phases: the binding is pure Python over the same shared library
# the unit tests already check there).
# Environment: BUILD (build folder), PYTHON (interpreter with torch, pytest).
# Extra arguments go to pytest (-k dask, --durations=10, ...).
# -rs prints every skip's reason; conftest.py also hands them to
# test/run_all.sh (IMGCLASS_SKIP_LOG), which counts and lists them.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
if ! "$PYTHON" -c 'import pytest, numpy' 2>/dev/null; then
    echo "python: $PYTHON lacks pytest or numpy (sh tools/deps.sh installs them)"
    exit 77
fi
lib="$(pwd)/$BUILD/libimgclass.so"
[ -e "$lib" ] || { echo "python: $lib missing: run make"; exit 1; }
IMGCLASS_LIBRARY="$lib" BUILD="$BUILD" PYTHONDONTWRITEBYTECODE=1 \
    exec "$PYTHON" -m pytest -q -rs -p no:cacheprovider test/python "$@"
