/* The fallback driver where clang's libFuzzer is missing: mutates the seed
 * files (bit flips, byte sets, cuts, 0x00/0xFF) for a number of iterations
 * and feeds each result to the target's LLVMFuzzerTestOneInput.
 *   TARGET ITERATIONS SEED_FILE... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    if (!seeds || !sizes)
        return 2;
    for (int i = 0; i < nseeds; i++) {
        FILE *f = fopen(argv[i + 2], "rb");
        if (!f)
            return 2;
        fseek(f, 0, SEEK_END);
        sizes[i] = (size_t)ftell(f);
        rewind(f);
        seeds[i] = malloc(sizes[i] + 1);
        if (!seeds[i] || fread(seeds[i], 1, sizes[i], f) != sizes[i])
            return 2;
        fclose(f);
    }
    for (long it = 0; it < iterations; it++) {
        int s = (int)(next() % (uint32_t)nseeds);
        size_t n = sizes[s];
        unsigned char *buf = malloc(n + 1);
        if (!buf)
            return 2;
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
    printf("fuzz: %ld mutated inputs without a crash\n", iterations);
    return 0;
}
