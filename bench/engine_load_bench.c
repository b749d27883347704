/* Driver of bench/startup_bench.py: what the engine module costs a program
 * that does load a model. Built twice from this file:
 *   engine_load_bench         the library as shipped (the module is
 *                             dlopen()ed by the first engine call);
 *   engine_load_bench_linked  the same core with the engine linked in
 *                             directly, as before the split (the baseline).
 *
 *   engine_load_bench MODEL [--iters N] [--threads N]
 *
 * Times, in one process: the first engine call (imgclass_engine_version():
 * for the module build the dlopen of libimgclass-torch.so and libtorch's
 * initialisation; for the linked build nothing, libtorch having initialised
 * before main), the first model load, a second load of the same model, and
 * the median of N batch-1 forward passes. Prints one line:
 * "engine_ms=E first_load_ms=F second_load_ms=S predict_ms=P". */
#include "imgclass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static imgclass_model *load(const char *path, double *ms)
{
    imgclass_model *m = NULL;
    double t0 = now_ms();
    if (imgclass_model_load(path, NULL, &m) != IMGCLASS_OK) {
        fprintf(stderr, "engine_load_bench: %s\n", imgclass_last_error());
        return NULL;
    }
    *ms = now_ms() - t0;
    return m;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL;
    int iters = 20, threads = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc)
            iters = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!model_path && argv[i][0] != '-')
            model_path = argv[i];
        else {
            fprintf(stderr, "usage: engine_load_bench MODEL [--iters N] [--threads N]\n");
            return 1;
        }
    }
    if (!model_path || iters < 1 || iters > 10000 || threads < 1) {
        fprintf(stderr, "usage: engine_load_bench MODEL [--iters N] [--threads N]\n");
        return 1;
    }
    double t0 = now_ms();
    const char *version = imgclass_engine_version();
    double engine_ms = now_ms() - t0;
    if (!strstr(version, "libtorch")) {
        fprintf(stderr, "engine_load_bench: %s\n", imgclass_last_error());
        return 1;
    }
    if (imgclass_set_num_threads(threads) != IMGCLASS_OK) {
        fprintf(stderr, "engine_load_bench: %s\n", imgclass_last_error());
        return 1;
    }
    double first_ms = 0, second_ms = 0;
    imgclass_model *m = load(model_path, &first_ms);
    if (!m)
        return 1;
    imgclass_model *again = load(model_path, &second_ms);
    if (!again) {
        imgclass_model_free(m);
        return 1;
    }
    imgclass_model_free(again);

    int c, h, w;
    imgclass_model_input_size(m, &c, &h, &w);
    int k = imgclass_model_num_classes(m);
    imgclass_batch *batch = NULL;
    float *scores = malloc((size_t)k * sizeof *scores);
    double *times = malloc((size_t)iters * sizeof *times);
    int rc = 1;
    if (!scores || !times || imgclass_batch_create(1, h, w, &batch) != IMGCLASS_OK) {
        fprintf(stderr, "engine_load_bench: out of memory\n");
        goto out;
    }
    for (int i = 0; i < iters; i++) {
        double t = now_ms();
        if (imgclass_predict(m, batch, scores, (size_t)k) != IMGCLASS_OK) {
            fprintf(stderr, "engine_load_bench: %s\n", imgclass_last_error());
            goto out;
        }
        times[i] = now_ms() - t;
    }
    qsort(times, (size_t)iters, sizeof *times, cmp_double);
    printf("engine_ms=%.2f first_load_ms=%.2f second_load_ms=%.2f predict_ms=%.3f\n", engine_ms,
           first_ms, second_ms, times[iters / 2]);
    rc = 0;
out:
    imgclass_batch_free(batch);
    free(scores);
    free(times);
    imgclass_model_free(m);
    return rc;
}
