#!/bin/sh
# Long-running decoder fuzzing (make fuzz; not part of make check).
# Builds the decoders alone (no libtorch) with ASan + UBSan and runs:
#   libFuzzer for FUZZ_SECONDS (default 300) when clang is there,
#   else the standalone mutator for FUZZ_ITERATIONS (default 200000).
# Seeds: small images made by Python/Pillow (every format we read) and a
# few sample photos. Env: BUILD, PYTHON.
set -eu
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
out="$BUILD/fuzz"
mkdir -p "$out/seeds" "$out/corpus"
"$PYTHON" - "$out/seeds" <<'PY'
import io, sys, numpy as np
from PIL import Image
d = sys.argv[1]
rng = np.random.default_rng(1)
img = Image.fromarray(rng.integers(0, 256, (23, 31, 3)).astype(np.uint8))
for name, im, kw in [("a.jpg", img, {}), ("p.jpg", img, {"progressive": True}),
                     ("g.jpg", img.convert("L"), {}), ("c.jpg", img.convert("CMYK"), {}),
                     ("a.png", img.convert("RGBA"), {}), ("p.png", img.convert("P"), {}),
                     ("a.bmp", img, {}), ("a.gif", img.convert("P"), {}), ("a.tga", img, {"compression": "tga_rle"}),
                     ("a.ppm", img, {}), ("a.pgm", img.convert("L"), {})]:
    im.save(f"{d}/{name}", **kw)
PY
src="lib/decode.c lib/decode_jpeg.c lib/decode_stb.c lib/decode_pnm.c lib/error.c test/fuzz/fuzz_decode.c"
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -Iinclude -Ilib -I/usr/include/stb -fsanitize=address,undefined -fno-sanitize-recover=undefined"
if command -v clang >/dev/null 2>&1 && clang -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null <<'C'
#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
C
then
    # shellcheck disable=SC2086
    clang $flags -fsanitize=fuzzer -o "$out/fuzz_decode" $src -ljpeg -lm
    cp "$out"/seeds/* "$out/corpus/"
    "$out/fuzz_decode" -max_total_time="${FUZZ_SECONDS:-300}" -max_len=65536 -rss_limit_mb=2048 "$out/corpus"
else
    # shellcheck disable=SC2086
    ${CC:-cc} $flags -DFUZZ_STANDALONE -o "$out/fuzz_decode" $src -ljpeg -lm
    "$out/fuzz_decode" "${FUZZ_ITERATIONS:-200000}" "$out"/seeds/*
fi
