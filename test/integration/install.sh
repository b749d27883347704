#!/bin/sh
# Installs into a temporary DESTDIR, then builds a small C program against the
# installed header and shared library with pkg-config and runs it; finally
# checks that uninstall removes every installed file.
set -eu
BUILD=${BUILD:-build}
if [ "${SANITIZED:-0}" = 1 ]; then
    echo "install: skipped under sanitizers (the installed library is the sanitized one)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root
prefix=/opt/imgclass-test

make -s BUILD="$BUILD" PREFIX=$prefix DESTDIR="$dest" install >/dev/null

for f in include/imgclass.h lib/libimgclass.so lib/libimgclass.so.0 lib/libimgclass.a \
         bin/imgclass bin/imgclass-watch lib/pkgconfig/imgclass.pc; do
    [ -e "$dest$prefix/$f" ] || { echo "install: missing $prefix/$f"; exit 1; }
done
# The soname link must point at the versioned file.
[ "$(readlink "$dest$prefix/lib/libimgclass.so.0")" = "libimgclass.so.0.1.0" ] || {
    echo "install: libimgclass.so.0 does not point at libimgclass.so.0.1.0"; exit 1; }

cat > "$tmp/hello.c" <<'C'
#include <imgclass.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    if (strcmp(imgclass_version(), IMGCLASS_VERSION) != 0) {
        printf("version skew: header %s, library %s\n", IMGCLASS_VERSION, imgclass_version());
        return 1;
    }
    imgclass_image *img = NULL;
    if (imgclass_image_load("/nonexistent/x.jpg", NULL, &img) != IMGCLASS_ERR_IO ||
        !strstr(imgclass_last_error(), "/nonexistent/x.jpg")) {
        printf("unexpected error: %s\n", imgclass_last_error());
        return 1;
    }
    imgclass_image_free(NULL);
    printf("linked imgclass %s\n", imgclass_version());
    return 0;
}
C
export PKG_CONFIG_PATH="$dest$prefix/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -o "$tmp/hello" "$tmp/hello.c" $(pkg-config --cflags --libs imgclass)
out=$(LD_LIBRARY_PATH="$dest$prefix/lib" "$tmp/hello")
echo "install: $out"
case "$out" in "linked imgclass "*) ;; *) exit 1 ;; esac

# Only imgclass_* symbols are exported by the shared library.
others=$(nm -D --defined-only "$dest$prefix/lib/libimgclass.so" | awk '{print $3}' | grep -v '^imgclass_' || true)
[ -z "$others" ] || { echo "install: symbols other than imgclass_* exported:"; echo "$others" | head; exit 1; }

make -s BUILD="$BUILD" PREFIX=$prefix DESTDIR="$dest" uninstall >/dev/null
left=$(find "$dest" -type f -o -type l)
[ -z "$left" ] || { echo "install: uninstall left files:"; echo "$left"; exit 1; }
echo "install: ok"
