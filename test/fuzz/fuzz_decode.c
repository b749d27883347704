/* Fuzz target for ic_decode, the decoders behind every image call, and the
 * header probe that shares them: any
 * bytes must give a status, never a crash, a leak, undefined behaviour or a
 * bound exceeded; region and scale requests are derived from the input
 * too, and the second decode applies the EXIF orientation. Built by run.sh with libFuzzer, or with standalone.c's mutator
 * where clang's libFuzzer is missing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "imgclass.h"

typedef struct fuzz_ctx {
    uint32_t bits;
} fuzz_ctx;

static int fuzz_scale(void *ctx, int w, int h)
{
    (void)w, (void)h;
    static const int scales[] = {1, 2, 4, 8};
    return scales[((fuzz_ctx *)ctx)->bits & 3];
}

static void fuzz_region(void *ctx, int w, int h, ic_region *r)
{
    uint32_t b = ((fuzz_ctx *)ctx)->bits >> 2;
    r->x = (int)(b % (uint32_t)w);
    r->y = (int)((b >> 8) % (uint32_t)h);
    r->width = 1 + (int)((b >> 16) % (uint32_t)(w - r->x));
    r->height = 1 + (int)((b >> 24) % (uint32_t)(h - r->y));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ctx ctx = {0};
    for (size_t i = 0; i < size && i < 64; i++)
        ctx.bits = ctx.bits * 31u + data[i];
    /* The library's limits, with fewer pixels to keep each run short: one
     * input in 16 may decode up to 4 megapixels, the rest up to 256 K.
     * Large decodes find no branch that small ones miss but cost ~98 % of
     * the time under ASan (measured on a campaign's corpus), so this runs
     * several times more inputs per second and still reaches every limit. */
    imgclass_decode_options opt = imgclass_decode_options_default();
    opt.max_pixels = (ctx.bits >> 28) == 0 ? 4000000 : 262144;
    ic_decoded out;
    imgclass_status whole = ic_decode(data, size, "fuzz", &opt, NULL, &out);
    if (whole == IMGCLASS_OK)
        free(out.pixels);
    /* The probe reads the same header: it must never fail where the
     * decode succeeded, nor give another size. */
    imgclass_image_info info = {.struct_size = sizeof info};
    imgclass_status probed = imgclass_image_probe_memory(data, size, &opt, &info);
    if (whole == IMGCLASS_OK &&
        (probed != IMGCLASS_OK || info.width != out.image_width || info.height != out.image_height))
        abort();
    ic_decode_request req = {&ctx, fuzz_scale, fuzz_region, 0};
    opt.exif_transpose = 1; /* the EXIF walk, and a transposed whole image */
    if (ic_decode(data, size, "fuzz", &opt, &req, &out) == IMGCLASS_OK) {
        /* Read every row of the block through memchr, which ASan checks
         * over its whole range in one call (a byte-by-byte loop here cost
         * seconds per tall image under coverage instrumentation). */
        volatile size_t found = 0;
        for (int y = 0; y < out.block.height; y++)
            found += memchr(out.pixels + (size_t)y * out.stride, 0x5A,
                            (size_t)out.block.width * 3) != NULL;
        free(out.pixels);
    }
    return 0;
}
