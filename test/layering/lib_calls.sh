#!/bin/sh
# The core library's call graph (docs/design.md, "Layers"), read from its
# objects rather than from #include lines: every lib/*.c but the engine
# module's (the Makefile's LIB_C_SRC, `make print-lib-sources`) is one node,
# and an edge a.o -> b.o means a.o references a global symbol that b.o
# defines (`nm -g`: a call, or a function or variable's address). A call
# through the public header imgclass.h is an edge like any other, which the
# include rules of decode_layers.sh cannot see. It fails on
#   - any cycle, printed with the symbols that make each edge:
#       decode_common.o -> image.o (imgclass_decode_options_default)
#                       -> decode.o (ic_decode) -> decode_common.o (...)
#   - a call from outside the decode layers into a decoder (decode_jpeg,
#     decode_pnm, decode_stb, decode_complete): the rest of the library goes
#     through the dispatcher, ic_decode() in decode.o.
# There is no allow-list.
#   BUILD=build sh test/layering/lib_calls.sh
# It needs the objects of a build that is up to date ($BUILD/lib/*.o; `make
# test` builds them first) and fails, not skips, when one is missing or
# older than its source. Before judging them it judges planted objects with
# two cycles and one call into a decoder, so a check that matched nothing
# would fail, not pass.
set -u
BUILD=${BUILD:-build}
CC=${CC:-cc}

fail() {
    echo "FAIL: lib_calls: $*"
    exit 1
}

# The global symbols of each object in $@, each object's block headed by a
# line "@ <object name>", then nm's POSIX lines "<symbol> <type> ...".
symbols() {
    for o in "$@"; do
        echo "@ $(basename "$o")"
        nm -P -g "$o" || { echo "nm failed on $o" >&2; return 1; }
    done
}

# Reads symbols() and prints one line per problem ("  cycle: ..." or
# "  call: ..."), then a last line "# <objects> <edges>".
judge() {
    awk '
    function is_decoder(o) {
        return o == "decode_jpeg.o" || o == "decode_pnm.o" || o == "decode_stb.o" ||
               o == "decode_complete.o"
    }
    function in_decode_layers(o) {
        return is_decoder(o) || o == "decode.o" || o == "decode_common.o" || o == "exif.o"
    }
    $1 == "@" { cur = $2; name[++n] = cur; id[cur] = n; next }
    NF >= 2 {
        # U: undefined; w, v: weak undefined. The rest with -g are defined
        # here (T text, D/B/R/G/S data, C common, W/V weak, i ifunc, u unique).
        if ($2 == "U" || $2 == "w" || $2 == "v") { nref[cur]++; ref[cur, nref[cur]] = $1 }
        else if ($2 ~ /^[ABCDGRSTVWiu]$/) def[$1] = cur
    }
    END {
        edges = 0
        for (i = 1; i <= n; i++) {
            a = name[i]
            for (k = 1; k <= nref[a]; k++) {
                s = ref[a, k]
                if (!(s in def) || def[s] == a) continue
                j = id[def[s]]
                if ((i, j) in syms) syms[i, j] = syms[i, j] ", " s
                else { syms[i, j] = s; edges++ }
            }
        }
        # Adjacency lists in object order, so the output does not depend
        # on the hash order of awk arrays.
        for (i = 1; i <= n; i++)
            for (j = 1; j <= n; j++)
                if ((i, j) in syms) { deg[i]++; adj[i, deg[i]] = j }

        # For each object, the shortest cycle through it (breadth first);
        # a cycle found from several of its objects is printed once.
        for (s = 1; s <= n; s++) {
            split("", par); split("", queue)
            head = 1; tail = 1; queue[1] = s; par[s] = 0; last = 0
            while (head <= tail && !last) {
                u = queue[head++]
                for (k = 1; k <= deg[u]; k++) {
                    v = adj[u, k]
                    if (v == s) { last = u; break }
                    if (!(v in par)) { par[v] = u; queue[++tail] = v }
                }
            }
            if (!last) continue
            len = 0
            for (u = last; u != 0; u = par[u]) path[++len] = u
            # path[len] is s; reversed, it runs s -> ... -> last.
            for (k = 1; k <= len; k++) cyc[k] = path[len + 1 - k]
            low = 1
            for (k = 2; k <= len; k++) if (cyc[k] < cyc[low]) low = k
            first = cyc[low]; prev = first
            key = first; line = name[first]
            for (k = 1; k < len; k++) {
                a = cyc[(low - 1 + k) % len + 1]
                line = line " -> " name[a] " (" syms[prev, a] ")"
                key = key " " a; prev = a
            }
            if (key in seen) continue
            seen[key] = 1
            print "  cycle: " line " -> " name[first] " (" syms[prev, first] ")"
        }

        for (i = 1; i <= n; i++)
            for (j = 1; j <= n; j++)
                if ((i, j) in syms && is_decoder(name[j]) && !in_decode_layers(name[i]))
                    print "  call: " name[i] " -> " name[j] " (" syms[i, j] "): outside the " \
                          "decode layers, a decoder is reached only through the dispatcher (ic_decode)"
        print "# " n " " edges
    }'
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# The negative control: planted objects with the cycles
#   decode_common.o -> image.o -> decode.o -> decode_common.o, yuv.o <-> plane.o
# (the second through a variable) and probe.o calling decode_jpeg.o, plus
# edges that close no cycle (decode.o -> decode_jpeg.o, probe.o -> image.o).
mkdir "$tmp/planted" || exit 1
plant() { # object, C source
    printf '%s\n' "$2" > "$tmp/planted/$1.c"
    "$CC" -c -o "$tmp/planted/$1.o" "$tmp/planted/$1.c" ||
        fail "cannot compile the planted $1.c with $CC"
}
plant decode_common 'int opts_default(void); int limits(void) { return opts_default(); }'
plant image 'int dispatch(void); int opts_default(void) { return 1; } int load(void) { return dispatch(); }'
plant decode 'int limits(void); int jpeg(void); int dispatch(void) { return limits() + jpeg(); }'
plant decode_jpeg 'int jpeg(void) { return 0; }'
plant yuv 'extern int plane_rows; int yuv_bytes = 3; int yuv(void) { return plane_rows; }'
plant plane 'extern int yuv_bytes; int plane_rows = 2; int plane(void) { return yuv_bytes; }'
plant probe 'int jpeg(void); int load(void); int probe(void) { return jpeg() + load(); }'
symbols "$tmp"/planted/*.o > "$tmp/planted.sym" || fail "nm failed on the planted objects"
judge < "$tmp/planted.sym" > "$tmp/planted.out"
want='  cycle: decode.o -> decode_common.o (limits) -> image.o (opts_default) -> decode.o (dispatch)
  cycle: plane.o -> yuv.o (yuv_bytes) -> plane.o (plane_rows)
  call: probe.o -> decode_jpeg.o (jpeg): outside the decode layers, a decoder is reached only through the dispatcher (ic_decode)
# 7 8'
if [ "$(cat "$tmp/planted.out")" != "$want" ]; then
    echo "FAIL: lib_calls: the planted objects should give"
    echo "$want"
    echo "but gave"
    cat "$tmp/planted.out"
    exit 1
fi

# The core's objects, each present and no older than its source.
# MAKEFLAGS is cleared: under `make test` it names a jobserver this script
# does not hand down.
srcs=$(MAKEFLAGS='' make -s --no-print-directory BUILD="$BUILD" print-lib-sources)
[ -n "$srcs" ] || fail "make print-lib-sources gave no sources"
objs=""
for src in $srcs; do
    o="$BUILD/${src%.c}.o"
    [ -f "$o" ] || fail "$o is missing: build the library first (make lib; make test does)"
    [ -z "$(find "$src" -newer "$o")" ] || fail "$o is older than $src: rebuild the library first (make lib)"
    objs="$objs $o"
done
# shellcheck disable=SC2086 # the object paths hold no spaces: lib/ names
symbols $objs > "$tmp/lib.sym" || fail "nm failed on the objects of $BUILD/lib"
judge < "$tmp/lib.sym" > "$tmp/lib.out"
nobj=$(tail -n 1 "$tmp/lib.out" | cut -d' ' -f2)
nedges=$(tail -n 1 "$tmp/lib.out" | cut -d' ' -f3)
[ "$nedges" -gt 0 ] || fail "no call between the $nobj objects of $BUILD/lib: nm's output was not read"
if [ "$(wc -l < "$tmp/lib.out")" -ne 1 ]; then
    echo "FAIL: lib_calls: the call graph of $BUILD/lib/*.o (the core library) must have no cycle" \
         "and reach the decoders only through the dispatcher:"
    sed '$d' "$tmp/lib.out"
    exit 1
fi
echo "lib_calls: ok ($nobj objects, $nedges caller -> callee pairs, no cycle; decoders reached only through decode.o)"
