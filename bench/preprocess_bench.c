/* Preprocessing-only benchmark: decode + Resize + CenterCrop + Normalize of
 * encoded images held in memory (so the disk is not measured), one thread.
 *   preprocess_bench [--fast] [--bicubic] [--reps N] FILE...
 * --bicubic: EfficientNet-B0's recipe, Resize(256, BICUBIC) CenterCrop(224)
 * Prints the median over repetitions of the mean time per image, in ms. */
#include <imgclass.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: steadier on a shared machine */
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
            fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *size = (size_t)n;
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    imgclass_preprocess_options opts = imgclass_preprocess_options_default();
    int reps = 5, first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--fast"))
            opts.fast = 1;
        else if (!strcmp(argv[first], "--bicubic"))
            opts.interpolation = IMGCLASS_INTERP_BICUBIC;
        else if (!strcmp(argv[first], "--reps") && first + 1 < argc)
            reps = atoi(argv[++first]);
        else {
            fprintf(stderr, "usage: preprocess_bench [--fast] [--bicubic] [--reps N] FILE...\n");
            return 1;
        }
    }
    int n = argc - first;
    if (n <= 0 || reps <= 0) {
        fprintf(stderr, "usage: preprocess_bench [--fast] [--bicubic] [--reps N] FILE...\n");
        return 1;
    }
    unsigned char **data = calloc((size_t)n, sizeof *data);
    size_t *size = calloc((size_t)n, sizeof *size);
    double *times = calloc((size_t)reps, sizeof *times);
    imgclass_batch *batch = NULL;
    if (!data || !size || !times || imgclass_batch_create(1, 224, 224, &batch) != IMGCLASS_OK) {
        fprintf(stderr, "preprocess_bench: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++)
        if (!(data[i] = slurp(argv[first + i], &size[i]))) {
            fprintf(stderr, "preprocess_bench: cannot read %s\n", argv[first + i]);
            return 1;
        }
    for (int r = -1; r < reps; r++) { /* r == -1: warm-up */
        double t0 = now_ms();
        for (int i = 0; i < n; i++)
            if (imgclass_preprocess_memory(data[i], size[i], NULL, &opts, batch, 0) !=
                IMGCLASS_OK) {
                fprintf(stderr, "preprocess_bench: %s: %s\n", argv[first + i],
                        imgclass_last_error());
                return 1;
            }
        if (r >= 0)
            times[r] = (now_ms() - t0) / n;
    }
    qsort(times, (size_t)reps, sizeof *times, cmp_double);
    printf("%.4f\n", times[reps / 2]);
    for (int i = 0; i < n; i++)
        free(data[i]);
    free(data);
    free(size);
    free(times);
    imgclass_batch_free(batch);
    return 0;
}
