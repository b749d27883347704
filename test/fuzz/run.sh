#!/bin/sh
# Fuzzing (issue 11). Builds six targets from the library sources with
# ASan + UBSan (no libtorch: the model target uses engine_stub.c):
#   decode  ic_decode, every decoder, with regions and DCT scales
#   image   imgclass_image_load_memory + imgclass_preprocess_memory
#   labels  label parsing, text and JSON, plain and gzip
#   gzip    gzip inflation under the size and ratio limits
#   model   model loading up to the engine (sniffing, gzip, options)
#   serve_v2  imgclass-serve's v2 infer requests (JSON, base64, binary data)
#           and answers (examples/serve/v2_json.c, with Nettle's base64)
# and runs each with libFuzzer (clang) under the bounds: -malloc_limit_mb=512
# (no single allocation above 512 MiB) and -timeout=FUZZ_TIMEOUT (default
# 10 s: the 2 s bound of docs/hostile-input.md times ASan's cost, which
# fills every freed buffer, on a shared machine; an input that times out is
# kept as an artifact to replay on the plain build), or, without libFuzzer,
# with standalone.c's mutator.
#   sh test/fuzz/run.sh [--smoke] [TARGET...]
# --smoke: FUZZ_SMOKE_RUNS inputs each from seed 1 (make check; the same
# verdict every run), starting from the generated seeds alone: what it
# finds goes to a fresh temporary corpus, removed afterwards, so the verdict
# never depends on what earlier runs left behind. Otherwise FUZZ_SECONDS
# each (default 300; make fuzz). FUZZ_RUNS=N runs N inputs instead (the long
# campaign). Those long runs' corpora grow in $BUILD/fuzz/corpus/TARGET.
# Env: BUILD, PYTHON, IMGCLASS_TEST_MODELS, FUZZ_SECONDS, FUZZ_SMOKE_RUNS.
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
smoke=0
[ "${1:-}" = "--smoke" ] && { smoke=1; shift; }
targets=${*:-decode image labels gzip model serve_v2}
out="$BUILD/fuzz"
mkdir -p "$out/obj"
rm -rf "$out/seeds"
"$PYTHON" test/fuzz/seeds.py "$out/seeds" "${IMGCLASS_TEST_MODELS:-$BUILD/test-models}"

if command -v clang >/dev/null 2>&1 && clang -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null <<'C'
#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
C
then
    cc=clang libfuzzer=1
    obj_san="-fsanitize=fuzzer-no-link,address,undefined"
    link_san="-fsanitize=fuzzer,address,undefined"
else
    cc=${CC:-cc} libfuzzer=0
    obj_san="-fsanitize=address,undefined"
    link_san="$obj_san"
    echo "fuzz: clang's libFuzzer not found; using the standalone mutator"
fi
# The dependencies' flags are the Makefile's, so a library the core comes
# to need (nettle for the model cache) cannot be missing here.
dep_cflags=$(MAKEFLAGS='' make -s --no-print-directory print-dep-cflags) &&
    dep_libs=$(MAKEFLAGS='' make -s --no-print-directory print-dep-libs) &&
    [ -n "$dep_libs" ] || { echo "fuzz: make print-dep-libs gave nothing"; exit 1; }
cflags="-std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined
        -Iinclude -Ilib $dep_cflags"
libs="$dep_libs -lm -lpthread"

# The library sources a target can need, compiled once into an archive
# (an object is rebuilt when its source or any header is newer); the linker
# takes what each target uses. The list is the Makefile's, so a new lib/*.c
# cannot be missing here. MAKEFLAGS is cleared: under `make fuzz` it names
# a jobserver this recipe does not hand down.
lib_src=$(MAKEFLAGS='' make -s --no-print-directory BUILD="$BUILD" print-fuzz-lib-sources) &&
    [ -n "$lib_src" ] || { echo "fuzz: make print-fuzz-lib-sources gave no sources"; exit 1; }
objs=""
for src in $lib_src; do
    o="$out/obj/$(basename "$src" .c).o"
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ] ||
        [ -n "$(find include lib -name '*.h' -newer "$o" | head -n 1)" ]; then
        # shellcheck disable=SC2086
        $cc $cflags $obj_san -c "$src" -o "$o"
    fi
    objs="$objs $o"
done
rm -f "$out/libfuzzlib.a"
# shellcheck disable=SC2086
ar rcs "$out/libfuzzlib.a" $objs

corpus_root="$out/corpus"
if [ $smoke = 1 ]; then
    corpus_root=$(mktemp -d "${TMPDIR:-/tmp}/imgclass-fuzz-smoke.XXXXXX")
    trap 'rm -rf "$corpus_root"' EXIT
    trap 'exit 130' INT TERM
fi

status=0
for t in $targets; do
    extra=""
    [ "$t" = model ] && extra="test/fuzz/engine_stub.c"
    # The server's own parser, with the server's helpers it writes with.
    [ "$t" = serve_v2 ] && extra="-Iexamples/serve -Iexamples/common examples/serve/v2_json.c test/fuzz/engine_stub.c
        examples/serve/json_buf.c examples/common/text_escape.c -lnettle"
    main=""
    [ $libfuzzer = 0 ] && main="test/fuzz/standalone.c"
    # shellcheck disable=SC2086
    $cc $cflags $link_san -o "$out/fuzz_$t" "test/fuzz/fuzz_$t.c" $extra $main \
        "$out/libfuzzlib.a" $libs
    mkdir -p "$corpus_root/$t"
    if [ $libfuzzer = 1 ]; then
        if [ $smoke = 1 ]; then
            # A fixed seed and count: the smoke run in make check must give
            # the same verdict every time (the long runs explore instead).
            limit="-runs=${FUZZ_SMOKE_RUNS:-4000} -seed=1"
        elif [ -n "${FUZZ_RUNS:-}" ]; then
            limit="-runs=$FUZZ_RUNS"
        else
            limit="-max_total_time=${FUZZ_SECONDS:-300}"
        fi
        echo "=== fuzz $t ($limit)"
        if ! "$out/fuzz_$t" $limit -max_len=65536 -timeout="${FUZZ_TIMEOUT:-10}" -malloc_limit_mb=512 \
            -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
            "$corpus_root/$t" "$out/seeds/$t" 2>"$out/$t.log"; then
            echo "FAIL: fuzz $t: see $out/$t.log and $out/crash-$t-*"
            tail -30 "$out/$t.log"
            status=1
        fi
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$t.log" | tr '\n' ' '
        echo
    else
        n=${FUZZ_ITERATIONS:-200000}
        [ $smoke = 1 ] && n=${FUZZ_SMOKE_ITERATIONS:-3000}
        echo "=== fuzz $t (standalone, $n inputs)"
        "$out/fuzz_$t" "$n" "$out/seeds/$t"/* || { echo "FAIL: fuzz $t"; status=1; }
    fi
done
exit $status
