#!/bin/sh
# imgclass classify on a folder walks it the way the library decodes: a file
# without an image extension is taken when the library's probe recognises a
# format it reads (a TGA, which has no signature, included) and left out
# when the library refuses the format (text PNM P1-P4); a named text PNM is
# taken and gets the library's own error record.
. "$(dirname "$0")/helpers/common.sh"

D=$TMP/walk
mkdir -p "$D"
# An uncompressed 24-bit 2 x 2 TGA: 18-byte header, 4 BGR pixels.
tga() {
    printf '\000\000\002\000\000\000\000\000\000\000\000\000\002\000\002\000\030\000'
    printf '\020\040\060\100\120\140\160\200\220\240\260\300'
}
tga >"$D/picture.tga"
tga >"$D/tga_noext"
printf 'P1\n2 2\n0 1\n1 0\n' >"$D/bitmap.pbm"
printf 'P1\n2 2\n0 1\n1 0\n' >"$D/p1_noext"
printf 'P2\n1 1\n255\n7\n' >"$D/text.pnm"
printf 'just some notes\n' >"$D/notes.txt"

expect_rc 2 "classify a folder of TGA and text PNM files" "$IC" classify --model "$M/tiny.pt" \
    $PP --json "$D"
paths=$(sed 's/^{"path": "\([^"]*\)".*/\1/' "$TMP/out" | sed "s|^$D/||" | tr '\n' ' ')
[ "$paths" = "picture.tga text.pnm tga_noext " ] && ok "walked: $paths" ||
    fail "walked '$paths', want 'picture.tga text.pnm tga_noext '"
grep "tga_noext" "$TMP/out" | grep -q '"top"' && ok "TGA without extension classified" ||
    fail "TGA without extension: $(grep tga_noext "$TMP/out")"
grep "picture.tga" "$TMP/out" | grep -q '"top"' && ok "TGA classified" ||
    fail "TGA: $(grep picture.tga "$TMP/out")"
grep "text.pnm" "$TMP/out" | grep -q 'unsupported format: PNM variant P2' &&
    ok "named text PNM gets the library's error" || fail "text.pnm: $(grep text.pnm "$TMP/out")"

# Named on the command line, the unlisted text PNM gets the same verdict
# from the library: it is refused, not a format the walk missed.
expect_rc 2 "classify the text PNM by name" "$IC" classify --model "$M/tiny.pt" $PP --json \
    "$D/p1_noext"
grep -q 'unsupported format: PNM variant P1' "$TMP/out" && ok "P1 refused by the library" ||
    fail "P1: $(cat "$TMP/out")"
finish
