#!/bin/sh
# make install into a temporary prefix, then checks what an installed copy
# must do:
#   - every file is in place, the engine module under $(libdir)/imgclass/;
#   - neither the installed CLI nor libimgclass.so links libtorch, and
#     `pkg-config --libs` (also --static) names no libtorch;
#   - the installed CLI loads its engine module from the install location
#     (seen with the dynamic loader's own trace, LD_DEBUG=files);
#   - a program built against the installed imgclass.pc runs, and its model
#     load goes through the installed module;
#   - without the module the CLI still preprocesses, and a model load fails
#     naming the module and every place looked at;
#   - DESTDIR staging installs the same files; uninstall removes them all.
#
# The install location is compiled into the core, so the installed build is
# made for its prefix: in a copy of the build tree (the objects are kept, so
# only the loader is recompiled and the programs relinked).
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
if [ "${SANITIZED:-0}" = 1 ]; then
    echo "install: skipped under sanitizers (the installed library is the sanitized one)"
    exit 77
fi
fail() { echo "install: $*"; exit 1; }

# The build tree's CLI and core are pure C too.
for f in "$BUILD/imgclass" "$BUILD/libimgclass.so"; do
    if ldd "$f" | grep -E 'libtorch|libc10|libstdc\+\+'; then
        fail "$f links libtorch or the C++ runtime"
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
build=$tmp/build
cp -a "$BUILD" "$build"
# The suites pin the engine module of the build under test; this test is
# about the search an installed program does by itself.
unset IMGCLASS_ENGINE_PATH

make -s BUILD="$build" PREFIX="$prefix" install >/dev/null

. test/integration/helpers/project_version.sh
version=$(project_version)
for f in include/imgclass.h lib/libimgclass.so lib/libimgclass.so.1 lib/libimgclass.a \
         lib/imgclass/libimgclass-torch.so bin/imgclass bin/imgclass-serve bin/imgclass-watch \
         lib/pkgconfig/imgclass.pc share/man/man1/imgclass.1 share/man/man1/imgclass-serve.1 \
         share/man/man1/imgclass-watch.1 share/man/man3/imgclass.3 lib/systemd/system/imgclass-serve@.service \
         lib/systemd/system/imgclass-watch@.service; do
    [ -e "$prefix/$f" ] || fail "missing $prefix/$f"
done
# The file's name: the soname number, then the version's minor and patch.
[ "$(readlink "$prefix/lib/libimgclass.so.1")" = "libimgclass.so.1.${version#*.}" ] ||
    fail "libimgclass.so.1 does not point at libimgclass.so.1.${version#*.}"

# The core is pure C: no libtorch (nor C++ runtime) behind it.
for f in "$prefix/bin/imgclass" "$prefix/bin/imgclass-serve" "$prefix/bin/imgclass-watch" \
         "$prefix/lib/libimgclass.so"; do
    if ldd "$f" | grep -E 'libtorch|libc10|libstdc\+\+'; then
        fail "$f links libtorch or the C++ runtime"
    fi
done
ldd "$prefix/lib/imgclass/libimgclass-torch.so" | grep -q libtorch ||
    fail "the engine module does not link libtorch"

# Only imgclass_* leaves the core; only the entry point leaves the module.
others=$(nm -D --defined-only "$prefix/lib/libimgclass.so" | awk '{print $3}' | grep -v '^imgclass_' || true)
[ -z "$others" ] || { echo "install: symbols other than imgclass_* exported:"; echo "$others" | head; exit 1; }
exported=$(nm -D --defined-only "$prefix/lib/imgclass/libimgclass-torch.so" | awk '{print $3}')
[ "$exported" = imgclass_engine_module ] ||
    { echo "install: the engine module exports more than its entry point:"; echo "$exported" | head; exit 1; }

# A tiny model, made by PyTorch (the suites' own when they exist).
model=${IMGCLASS_TEST_MODELS:-$BUILD/test-models}/tiny.pt
if [ ! -f "$model" ]; then
    model=$tmp/tiny.pt
    "$PYTHON" test/models/make_test_models.py "$tmp/models" >/dev/null
    model=$tmp/models/tiny.pt
fi
"$PYTHON" - "$tmp/img.png" <<'PY'
import sys
from PIL import Image
Image.new("RGB", (40, 30), (200, 30, 90)).save(sys.argv[1])
PY

# The installed CLI finds its engine at the install location: the dynamic
# loader reports which file it opened.
LD_DEBUG=files "$prefix/bin/imgclass" info --model "$model" >"$tmp/info.out" 2>"$tmp/info.trace" ||
    { cat "$tmp/info.out" "$tmp/info.trace" | tail -5; fail "installed imgclass info failed"; }
grep -q "file=$prefix/lib/imgclass/libimgclass-torch.so " "$tmp/info.trace" ||
    fail "the installed CLI did not load $prefix/lib/imgclass/libimgclass-torch.so"
grep -q "engine: *libtorch" "$tmp/info.out" || fail "imgclass info shows no libtorch engine"

# A program built against the installed .pc: links only the core, and its
# model load goes through the installed module.
cat > "$tmp/hello.c" <<'C'
#include <imgclass.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
    if (argc != 2 || strcmp(imgclass_version(), IMGCLASS_VERSION) != 0) {
        printf("usage or version skew: header %s, library %s\n", IMGCLASS_VERSION,
               imgclass_version());
        return 1;
    }
    imgclass_image *img = NULL;
    if (imgclass_image_load("/nonexistent/x.jpg", NULL, &img) != IMGCLASS_ERR_IO ||
        !strstr(imgclass_last_error(), "/nonexistent/x.jpg")) {
        printf("unexpected error: %s\n", imgclass_last_error());
        return 1;
    }
    imgclass_image_free(NULL);
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = 8;
    o.input_width = 8;
    imgclass_model *m = NULL;
    if (imgclass_model_load(argv[1], &o, &m) != IMGCLASS_OK) {
        printf("model load failed: %s\n", imgclass_last_error());
        return 1;
    }
    printf("linked imgclass %s, engine %s, %d classes\n", imgclass_version(),
           imgclass_engine_version(), imgclass_model_num_classes(m));
    imgclass_model_free(m);
    return 0;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
for flags in "--libs" "--static --libs"; do
    # shellcheck disable=SC2086
    if pkg-config $flags imgclass | grep -E 'torch|c10|stdc\+\+'; then
        fail "pkg-config $flags imgclass names libtorch or the C++ runtime"
    fi
done
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -o "$tmp/hello" "$tmp/hello.c" $(pkg-config --cflags --libs imgclass)
if ldd "$tmp/hello" | grep -E 'libtorch|libc10'; then fail "hello links libtorch"; fi
out=$(LD_LIBRARY_PATH="$prefix/lib" LD_DEBUG=files "$tmp/hello" "$model" 2>"$tmp/hello.trace")
echo "install: $out"
case "$out" in "linked imgclass "*", engine libtorch "*", 5 classes") ;; *) exit 1 ;; esac
grep -q "file=$prefix/lib/imgclass/libimgclass-torch.so " "$tmp/hello.trace" ||
    fail "hello did not load the installed engine module"

# Without the module (nor the build tree's copy it would fall back to),
# preprocessing still works and a model load names what is missing.
mv "$prefix/lib/imgclass/libimgclass-torch.so" "$tmp/module.so"
rm -f "$build/libimgclass-torch.so"
"$prefix/bin/imgclass" preprocess --npy "$tmp/x.npy" "$tmp/img.png" ||
    fail "preprocess failed without the engine module"
[ -s "$tmp/x.npy" ] || fail "preprocess wrote no .npy without the engine module"
if "$prefix/bin/imgclass" info --model "$model" >/dev/null 2>"$tmp/err"; then
    fail "imgclass info succeeded without the engine module"
fi
for needle in "libimgclass-torch.so is not installed" "$prefix/lib/imgclass/libimgclass-torch.so" \
              "$build/libimgclass-torch.so" IMGCLASS_ENGINE_PATH; do
    grep -qF "$needle" "$tmp/err" || { cat "$tmp/err"; fail "missing-module message lacks '$needle'"; }
done
# ... and the override finds it wherever it is.
IMGCLASS_ENGINE_PATH=$tmp/module.so "$prefix/bin/imgclass" info --model "$model" >/dev/null ||
    fail "IMGCLASS_ENGINE_PATH did not find the moved module"
mv "$tmp/module.so" "$prefix/lib/imgclass/libimgclass-torch.so"

# DESTDIR stages the same files.
make -s BUILD="$build" PREFIX="$prefix" DESTDIR="$tmp/stage" install >/dev/null 2>&1 ||
    fail "make install with DESTDIR failed"
[ -e "$tmp/stage$prefix/lib/imgclass/libimgclass-torch.so" ] || fail "DESTDIR install lacks the module"

make -s BUILD="$build" PREFIX="$prefix" uninstall >/dev/null
left=$(find "$prefix" -type f -o -type l)
[ -z "$left" ] || { echo "install: uninstall left files:"; echo "$left"; exit 1; }
[ ! -d "$prefix/lib/imgclass" ] || fail "uninstall left $prefix/lib/imgclass"
echo "install: ok"
