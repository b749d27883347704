#!/bin/sh
# The decode layering (docs/design.md, "Layers"), checked from the
# #include lines of lib/:
#   decode.{h,c}          the dispatcher: may include every decoder;
#   decode_jpeg/pnm/stb/complete.*, exif.*
#                         the decoders: never include decode.h (a decoder
#                         that reached up to the dispatcher would close the
#                         loop this layering opened);
#   decode_common.{h,c}   below both: includes neither a decoder's header
#                         nor the dispatcher's;
#   every other lib/ file reaches a decoder only through the dispatcher.
#   sh test/layering/decode_layers.sh [LIBDIR]     (default: lib)
# Before judging LIBDIR it judges a planted copy with one violation of each
# rule, so a check that silently matched nothing would fail, not pass.
# The same layering as calls (which may also go through imgclass.h, with
# no #include to show them), and no cycle anywhere in lib/: lib_calls.sh.
set -u
libdir=${1:-lib}

# The quoted #include targets of a file, one a line.
includes() {
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"
}

# Prints one line per violation in folder $1; returns the count (capped).
violations() {
    dir=$1 n=0
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -f "$f" ] || continue
        base=$(basename "$f")
        case "$base" in
        decode.c | decode.h) role=dispatcher ;;
        decode_common.c | decode_common.h) role=common ;;
        decode_*.c | decode_*.h | exif.c | exif.h) role=decoder ;;
        *) role=other ;;
        esac
        for inc in $(includes "$f"); do
            bad=""
            case "$role:$inc" in
            decoder:decode.h)
                bad="a decoder includes the dispatcher's header" ;;
            common:decode.h | common:decode_jpeg.h | common:decode_pnm.h | common:decode_stb.h | \
            common:decode_complete.h | common:exif.h)
                bad="the common unit includes a header above it" ;;
            other:decode_jpeg.h | other:decode_pnm.h | other:decode_stb.h | other:decode_complete.h)
                bad="a file outside the decode layers includes a decoder (use decode.h)" ;;
            esac
            if [ -n "$bad" ]; then
                echo "  $f: #include \"$inc\": $bad"
                n=$((n + 1))
            fi
        done
    done
    [ $n -gt 100 ] && n=100
    return $n
}

# Judges folder $1, which must hold exactly $2 violations ($3 names it).
expect() {
    violations "$1" > "$tmp/out"
    seen=$?
    [ "$seen" -eq "$2" ] && return 0
    echo "FAIL: decode_layers: $3 should have $2 violation(s) of the decode layering, has $seen:"
    cat "$tmp/out"
    exit 1
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The negative control: one violation of each rule must be seen.
printf '#include "decode_common.h"\n#include "decode.h"\n' > "$tmp/decode_pnm.c"
printf '#include "decode.h"\n' > "$tmp/exif.h"
printf '#include "decode_stb.h"\n' > "$tmp/decode_common.c"
printf '  #  include "decode_jpeg.h" /* spaced */\n' > "$tmp/image.c"
printf '#include "decode_jpeg.h"\n#include "decode_common.h"\n' > "$tmp/decode.c"
expect "$tmp" 4 "the planted folder"

[ -f "$libdir/decode.c" ] && [ -f "$libdir/decode_common.h" ] || {
    echo "FAIL: decode_layers: $libdir/decode.c or $libdir/decode_common.h is missing"
    exit 1
}
expect "$libdir" 0 "$libdir"
echo "decode_layers: ok (dispatcher above decoders above decode_common)"
