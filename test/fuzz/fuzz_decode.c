/* Fuzz target for ic_decode: any bytes must give a status, never a crash,
 * a leak or undefined behaviour; region and scale requests are derived from
 * the input too. Built two ways by run.sh:
 *  - with clang -fsanitize=fuzzer: libFuzzer drives LLVMFuzzerTestOneInput;
 *  - otherwise (-DFUZZ_STANDALONE): main() mutates the seed files itself
 *    (bit flips, byte sets, cuts, splices) for a number of iterations. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

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
    imgclass_decode_options opt = {4000000}; /* keep allocations small */
    ic_decoded out;
    if (ic_decode(data, size, "fuzz", &opt, NULL, &out) == IMGCLASS_OK)
        free(out.pixels);
    fuzz_ctx ctx = {0};
    for (size_t i = 0; i < size && i < 64; i++)
        ctx.bits = ctx.bits * 31u + data[i];
    ic_decode_request req = {&ctx, fuzz_scale, fuzz_region};
    if (ic_decode(data, size, "fuzz", &opt, &req, &out) == IMGCLASS_OK) {
        /* Touch every byte of the block so ASan checks its extent. */
        volatile unsigned sum = 0;
        for (int y = 0; y < out.block.height; y++)
            for (size_t x = 0; x < (size_t)out.block.width * 3; x++)
                sum += out.pixels[(size_t)y * out.stride + x];
        free(out.pixels);
    }
    return 0;
}

#ifdef FUZZ_STANDALONE
static uint32_t rng = 2463534242u;
static uint32_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 10000;
    int nseeds = argc - 2;
    if (nseeds <= 0) {
        fprintf(stderr, "usage: %s ITERATIONS SEED_FILE...\n", argv[0]);
        return 2;
    }
    unsigned char **seeds = calloc((size_t)nseeds, sizeof *seeds);
    size_t *sizes = calloc((size_t)nseeds, sizeof *sizes);
    for (int i = 0; i < nseeds; i++) {
        FILE *f = fopen(argv[i + 2], "rb");
        if (!f)
            return 2;
        fseek(f, 0, SEEK_END);
        sizes[i] = (size_t)ftell(f);
        rewind(f);
        seeds[i] = malloc(sizes[i] + 1);
        if (fread(seeds[i], 1, sizes[i], f) != sizes[i])
            return 2;
        fclose(f);
    }
    for (long it = 0; it < iterations; it++) {
        int s = (int)(next() % (uint32_t)nseeds);
        size_t n = sizes[s];
        unsigned char *buf = malloc(n + 1);
        memcpy(buf, seeds[s], n);
        int edits = 1 + (int)(next() % 8);
        for (int e = 0; e < edits && n > 0; e++) {
            size_t at = next() % n;
            switch (next() % 4) {
            case 0: buf[at] ^= (unsigned char)(1u << (next() % 8)); break;
            case 1: buf[at] = (unsigned char)next(); break;
            case 2: n = at + 1; break; /* cut */
            case 3: buf[at] = (unsigned char)(next() % 2 ? 0xFF : 0x00); break;
            }
        }
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        if ((it + 1) % 10000 == 0)
            fprintf(stderr, "fuzz: %ld inputs\n", it + 1);
    }
    for (int i = 0; i < nseeds; i++)
        free(seeds[i]);
    free(seeds);
    free(sizes);
    printf("fuzz: %ld mutated inputs decoded without a crash\n", iterations);
    return 0;
}
#endif
