#!/bin/sh
# make wheel: the Python package (bindings/python) with the core library
# inside, as DIST/imgclass-VERSION-py3-none-PLATFORM.whl, built offline by
# Debian's python3-build (python3 -m build --wheel --no-isolation).
#   sh tools/wheel/build.sh CORE VERSION DIST
# CORE is the libimgclass.so to bundle (the Makefile's wheel core). The
# package is staged next to it, so bindings/python stays as it is; the
# binding loads the bundled library first (imgclass/_lib.py).
# py3-none: the Python code runs on any Python 3, and the library is no
# extension module; PLATFORM (linux_x86_64): the library is this machine's
# code, linked to Debian's libjpeg62-turbo, zlib and json-c.
set -eu
core=${1:?usage: build.sh CORE VERSION DIST}
version=${2:?usage: build.sh CORE VERSION DIST}
dist=${3:?usage: build.sh CORE VERSION DIST}
PYTHON=${PYTHON:-/usr/bin/python3}
sh tools/check_versions.sh "$version"
"$PYTHON" -c 'import build, setuptools, wheel' 2>/dev/null ||
    { echo "wheel: $PYTHON lacks build, setuptools or wheel (sh tools/deps.sh installs python3-build)" >&2
      exit 1; }

stage=$(dirname "$core")/stage
rm -rf "$stage"
mkdir -p "$stage" "$dist"
cp bindings/python/pyproject.toml bindings/python/README.md "$stage/"
tar -cf - --exclude=__pycache__ --exclude='*.pyc' -C bindings/python imgclass | tar -xf - -C "$stage"
# The debugging information stays in the build; the wheel gets the code.
strip --strip-unneeded -o "$stage/imgclass/libimgclass.so" "$core"
plat=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')
# A pure package otherwise: bdist_wheel keeps py3-none and takes the
# platform it is given.
printf '[bdist_wheel]\nplat_name = %s\n' "$plat" > "$stage/setup.cfg"

name=imgclass-$version-py3-none-$plat.whl
rm -f "$dist/$name"
dist_abs=$(cd "$dist" && pwd)
(cd "$stage" && "$PYTHON" -m build --wheel --no-isolation --outdir "$dist_abs" .) \
    > "$stage.log" 2>&1 ||
    { tail -20 "$stage.log"; echo "wheel: python3 -m build failed (log: $stage.log)" >&2; exit 1; }
[ -f "$dist/$name" ] ||
    { ls "$dist" >&2; echo "wheel: expected $dist/$name, the build made the above" >&2; exit 1; }
# The library must be in it, where the binding looks.
"$PYTHON" -c 'import sys, zipfile
sys.exit("imgclass/libimgclass.so" not in zipfile.ZipFile(sys.argv[1]).namelist())' "$dist/$name" ||
    { echo "wheel: $dist/$name lacks imgclass/libimgclass.so" >&2; exit 1; }
echo "wheel: $dist/$name"
