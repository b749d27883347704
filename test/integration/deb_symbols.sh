#!/bin/sh
# debian/libimgclass1.symbols lists exactly the symbols the built
# libimgclass.so exports: the Debian build (DPKG_GENSYMBOLS_CHECK_LEVEL=4)
# fails on any difference, and this says so in make check already, naming
# each symbol added or removed, without building the packages.
set -eu
BUILD=${BUILD:-build}
lib=$BUILD/libimgclass.so
symbols=debian/libimgclass1.symbols
[ -e "$lib" ] || { echo "deb_symbols: $lib missing: run make"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '{print $3}' | sort > "$tmp/exported"
# " name@Base 0.2.0" lines; comments, the header and "* Field:" lines skipped.
sed -n 's/^ \([A-Za-z_][A-Za-z0-9_]*\)@Base .*/\1/p' "$symbols" | sort > "$tmp/listed"
[ -s "$tmp/listed" ] || { echo "deb_symbols: $symbols lists no symbol"; exit 1; }
added=$(comm -23 "$tmp/exported" "$tmp/listed")
removed=$(comm -13 "$tmp/exported" "$tmp/listed")
if [ -n "$added" ] || [ -n "$removed" ]; then
    [ -z "$added" ] || printf 'deb_symbols: %s exports, %s does not list:\n%s\n' \
        "$lib" "$symbols" "$added"
    [ -z "$removed" ] || printf 'deb_symbols: %s lists, %s no longer exports (an ABI break: new soname):\n%s\n' \
        "$symbols" "$lib" "$removed"
    echo "deb_symbols: update $symbols (a new symbol: ' name@Base VERSION-that-adds-it')"
    exit 1
fi
echo "deb_symbols: $(wc -l < "$tmp/exported") symbols, as $symbols lists"
