/* Library side of bench/predict_bench.sh: times imgclass_predict on one
 * model at one batch size with one set of engine optimisations.
 *
 *   predict_bench MODEL [--batch N] [--threads N] [--seconds S]
 *                 [--optimize none|default|freeze,for-inference,channels-last,bfloat16,
 *                             quantize-input]
 *
 * Prints one line: "library batch=N opt=... threads=N: X img/s (Y ms/batch, Z iters)". */
#include "imgclass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_flags(const char *s, unsigned *flags)
{
    if (strcmp(s, "default") == 0) {
        *flags = IMGCLASS_OPTIMIZE_DEFAULT;
        return 1;
    }
    *flags = 0;
    if (strcmp(s, "none") == 0)
        return 1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (strcmp(tok, "freeze") == 0)
            *flags |= IMGCLASS_OPTIMIZE_FREEZE;
        else if (strcmp(tok, "for-inference") == 0)
            *flags |= IMGCLASS_OPTIMIZE_FOR_INFERENCE;
        else if (strcmp(tok, "channels-last") == 0)
            *flags |= IMGCLASS_OPTIMIZE_CHANNELS_LAST;
        else if (strcmp(tok, "bfloat16") == 0)
            *flags |= IMGCLASS_OPTIMIZE_BFLOAT16;
        else if (strcmp(tok, "quantize-input") == 0)
            *flags |= IMGCLASS_OPTIMIZE_QUANTIZE_INPUT;
        else
            return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *opt_name = "default";
    int batch = 1, threads = 2;
    double seconds = 3.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--optimize") == 0 && i + 1 < argc)
            opt_name = argv[++i];
        else if (argv[i][0] != '-' && !model_path)
            model_path = argv[i];
        else {
            fprintf(stderr, "usage: predict_bench MODEL [--batch N] [--threads N] "
                            "[--seconds S] [--optimize none|default|flag,flag...]\n");
            return 2;
        }
    }
    imgclass_model_options o = imgclass_model_options_default();
    if (!model_path || batch < 1 || !parse_flags(opt_name, &o.optimize)) {
        fprintf(stderr, "predict_bench: bad arguments (try --help)\n");
        return 2;
    }
    if (imgclass_set_num_threads(threads) != IMGCLASS_OK) {
        fprintf(stderr, "predict_bench: %s\n", imgclass_last_error());
        return 1;
    }
    imgclass_model *m = NULL;
    if (imgclass_model_load(model_path, &o, &m) != IMGCLASS_OK) {
        fprintf(stderr, "predict_bench: %s\n", imgclass_last_error());
        return 1;
    }
    imgclass_model_input_size(m, NULL, &o.input_height, &o.input_width); /* 0 x 0: resolved */
    imgclass_batch *b = NULL;
    if (imgclass_batch_create((size_t)batch, o.input_height, o.input_width, &b) != IMGCLASS_OK) {
        fprintf(stderr, "predict_bench: %s\n", imgclass_last_error());
        return 1;
    }
    float *data = imgclass_batch_data(b);
    size_t n = (size_t)batch * 3 * (size_t)o.input_height * (size_t)o.input_width;
    srand(1);
    for (size_t i = 0; i < n; i++)
        data[i] = (float)rand() / (float)RAND_MAX * 4.0f - 2.0f;
    size_t out_count = (size_t)batch * (size_t)imgclass_model_num_classes(m);
    float *out = malloc(out_count * sizeof *out);
    if (!out)
        return 1;
    /* Warm-up at this batch size: the profiling executor specialises on the
     * first calls with a new shape. */
    for (int i = 0; i < 5; i++)
        if (imgclass_predict(m, b, out, out_count) != IMGCLASS_OK) {
            fprintf(stderr, "predict_bench: %s\n", imgclass_last_error());
            return 1;
        }
    int iters = 0;
    double t0 = now(), t;
    do {
        imgclass_predict(m, b, out, out_count);
        iters++;
        t = now() - t0;
    } while (t < seconds || iters < 5);
    printf("library batch=%d opt=%s threads=%d: %.2f img/s (%.2f ms/batch, %d iters)\n", batch,
           opt_name, imgclass_get_num_threads(), (double)iters * batch / t, t * 1e3 / iters,
           iters);
    free(out);
    imgclass_batch_free(b);
    imgclass_model_free(m);
    return 0;
}
