/* imgclass bench: the speed of each stage, to size a deployment.
 *
 * Stages, each timed per call on the calling thread:
 *   decode             imgclass_image_load, one image per call
 *   preprocess         imgclass_preprocess of a decoded image
 *   decode+preprocess  imgclass_preprocess_file (what classify runs)
 *   predict b=1 / b=N  imgclass_predict on 1 or N preprocessed images
 *   end-to-end b=1/b=N imgclass_classify of 1 or N files
 * Each prints calls, images per second and the median, p90 and p99 latency
 * of one call (one image at b=1, one batch at b=N). Each predict size gets
 * one untimed call first (TorchScript specialises on a new input shape). */
#include "commands.h"
#include "model_open.h"
#include "path_source.h"
#include "pp_options.h"

#include <imgclass.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "imgclass bench"

static void usage(FILE *out)
{
    fputs("usage: imgclass bench --model M.pt [OPTIONS] INPUT...\n\n"
          "Measures decode, preprocess, predict and end-to-end speed on the given\n"
          "images (files or folders): images per second and per-call latency\n"
          "(median, p90, p99). Inputs are cycled until each stage has --runs calls.\n"
          "The last row, pipeline b=N, streams --runs x N images through the library's\n"
          "pipeline; its latencies are per image, submit to result.\n\n"
          "  -m, --model PATH     TorchScript model (required)\n"
          "  -b, --batch N        batch size of the batched rows (default 8)\n"
          "  -r, --runs N         calls per stage (default 20)\n"
          "  -t, --threads N      engine threads\n"
          "      --preprocess-threads N  preprocessing threads of the end-to-end and\n"
          "                       pipeline rows (default 0: chosen by the library)\n"
          "      --sweep LIST     also time predict at these batch sizes, e.g. 1,2,4,8,16\n"
          "      --device DEV     cpu (default), cuda, cuda:N\n\n",
          out);
    pp_args_help(out);
}

typedef struct samples {
    double *ms;
    int n;
} samples;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double pct(const samples *s, double p)
{
    int idx = (int)ceil(p * s->n) - 1;
    if (idx < 0)
        idx = 0;
    if (idx >= s->n)
        idx = s->n - 1;
    return s->ms[idx];
}

static void report(const char *stage, samples *s, int images_per_call)
{
    if (s->n == 0) {
        printf("%-22s %6s  (no successful call)\n", stage, "-");
        return;
    }
    double total = 0;
    for (int i = 0; i < s->n; i++)
        total += s->ms[i];
    qsort(s->ms, (size_t)s->n, sizeof *s->ms, cmp_double);
    printf("%-22s %6d %10.1f %10.3f %10.3f %10.3f\n", stage, s->n,
           total > 0 ? 1000.0 * s->n * images_per_call / total : 0.0, pct(s, 0.5), pct(s, 0.9),
           pct(s, 0.99));
    fflush(stdout);
}

static double ms_since(int64_t t0)
{
    return (double)(monotonic_ns() - t0) / 1e6;
}

/* The pipeline row: runs x batch images through imgclass_pipeline, fed as
 * fast as it takes them; images/s over the whole run, latency quantiles
 * (submit to result) per image from the pipeline's own statistics. */
static void on_bench_result(void *ctx, const imgclass_pipeline_result *r)
{
    if (r->status != IMGCLASS_OK)
        ++*(int *)ctx;
}

static void bench_pipeline(const imgclass_model *model, const imgclass_preprocess_options *pp,
                           int pp_threads, char **files, int nfiles, int batch, int runs)
{
    int failures = 0;
    imgclass_pipeline_options o = imgclass_pipeline_options_default();
    o.max_batch = batch;
    o.preprocess_threads = pp_threads;
    o.preprocess = *pp;
    o.on_result = on_bench_result;
    o.on_result_ctx = &failures;
    imgclass_pipeline *p = NULL;
    if (imgclass_pipeline_create(model, &o, &p) != IMGCLASS_OK) {
        fprintf(stderr, PROG ": %s\n", imgclass_last_error());
        return;
    }
    long n = (long)runs * batch;
    int64_t t0 = monotonic_ns();
    for (long i = 0; i < n; i++) {
        imgclass_input in = {.kind = IMGCLASS_INPUT_PATH, .path = files[i % nfiles]};
        imgclass_pipeline_submit(p, &in, NULL, 0, NULL);
    }
    imgclass_pipeline_flush(p);
    double secs = (double)(monotonic_ns() - t0) / 1e9;
    imgclass_pipeline_stats st = {.struct_size = sizeof st};
    imgclass_pipeline_stats_get(p, &st);
    imgclass_pipeline_free(p);
    char name[64];
    snprintf(name, sizeof name, "pipeline b=%d", batch);
    printf("%-22s %6ld %10.1f %10.3f %10.3f %10.3f\n", name, n, secs > 0 ? (double)n / secs : 0.0,
           st.latency_p50_us / 1e3, st.latency_p90_us / 1e3, st.latency_p99_us / 1e3);
    if (failures)
        fprintf(stderr, PROG ": %d pipeline images failed\n", failures);
    fflush(stdout);
}

int cmd_bench(int argc, char **argv)
{
    const char *model_path = NULL, *device = "cpu", *sweep = NULL;
    int batch = 8, runs = 20, threads = 0, pp_threads = 0;
    pp_args pa = pp_args_init();
    char **inputs = calloc((size_t)argc, sizeof *inputs);
    int ninputs = 0;
    if (!inputs)
        return 1;
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(inputs);
            return 0;
        }
        if (a[0] != '-') {
            inputs[ninputs++] = argv[i++];
            continue;
        }
        int r = pp_args_parse(&pa, argc, argv, &i, PROG);
        if (r < 0)
            goto usage_error;
        if (r > 0)
            continue;
        if (i + 1 >= argc)
            goto bad;
        const char *v = argv[i + 1];
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            model_path = v;
        else if (!strcmp(a, "--device"))
            device = v;
        else if (!strcmp(a, "--sweep"))
            sweep = v;
        else if ((!strcmp(a, "-b") || !strcmp(a, "--batch")) && !cli_parse_int(v, 1, 4096, &batch))
            ;
        else if ((!strcmp(a, "-r") || !strcmp(a, "--runs")) && !cli_parse_int(v, 1, 1000000, &runs))
            ;
        else if ((!strcmp(a, "-t") || !strcmp(a, "--threads")) &&
                 !cli_parse_int(v, 1, 1024, &threads))
            ;
        else if (!strcmp(a, "--preprocess-threads") && !cli_parse_int(v, 0, 1024, &pp_threads))
            ;
        else
            goto bad;
        i += 2;
        continue;
    bad:
        fprintf(stderr, PROG ": bad option or value: %s (see --help)\n", a);
    usage_error:
        free(inputs);
        return 1;
    }
    imgclass_preprocess_options pp;
    int h, w;
    if (!model_path || ninputs == 0) {
        fprintf(stderr, PROG ": needs --model and at least one INPUT (see --help)\n");
        free(inputs);
        return 1;
    }

    /* The list of image files. */
    char **files = NULL;
    int nfiles = 0, status = 1;
    path_source *src = path_source_new(inputs, ninputs, -1, '\n');
    if (!src)
        goto out;
    long total = path_source_total(src);
    files = calloc(total > 0 ? (size_t)total : 1, sizeof *files);
    for (char *p, *e; files && path_source_next(src, -1, &p, &e) == PATH_SOURCE_ITEM;) {
        if (e) {
            fprintf(stderr, PROG ": %s: %s (skipped)\n", p, e);
            free(p);
        } else {
            files[nfiles++] = p;
        }
        free(e);
    }
    path_source_free(src);
    if (nfiles == 0) {
        fprintf(stderr, PROG ": no image files among the inputs\n");
        goto out;
    }

    /* The model's recipe, with the options given on top. */
    imgclass_model *model = cli_model_open_pp(PROG, model_path, NULL, device, threads, &pa, &pp);
    if (!model)
        goto out;
    imgclass_model_input_size(model, NULL, &h, &w);
    int K = imgclass_model_num_classes(model);
    int maxb = batch;
    if (sweep)
        for (const char *p = sweep; *p;) {
            int b = atoi(p);
            if (b > maxb && b <= 4096)
                maxb = b;
            p += strcspn(p, ",");
            p += *p == ',';
        }
    imgclass_batch *one = NULL, *many = NULL;
    float *scores = malloc((size_t)maxb * (size_t)K * sizeof *scores);
    samples s = {calloc((size_t)runs, sizeof(double)), 0};
    imgclass_input *in = calloc((size_t)maxb, sizeof *in);
    imgclass_decode_options dopt = pp_args_decode(&pa);
    if (!scores || !s.ms || !in || imgclass_batch_create(1, h, w, &one) ||
        imgclass_batch_create((size_t)maxb, h, w, &many)) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }

    printf("imgclass %s, %s, device %s, %d engine threads, %d image files, input %dx%d\n",
           imgclass_version(), imgclass_engine_version(), imgclass_model_device(model),
           imgclass_get_num_threads(), nfiles, w, h);
    printf("%-22s %6s %10s %10s %10s %10s\n", "stage", "calls", "images/s", "median ms",
           "p90 ms", "p99 ms");

    int failures = 0;
    s.n = 0;
    for (int r = 0; r < runs; r++) {
        imgclass_image *img = NULL;
        int64_t t0 = monotonic_ns();
        if (imgclass_image_load(files[r % nfiles], &dopt, &img) == IMGCLASS_OK)
            s.ms[s.n++] = ms_since(t0);
        else
            failures++;
        imgclass_image_free(img);
    }
    report("decode", &s, 1);

    s.n = 0;
    for (int r = 0; r < runs; r++) {
        imgclass_image *img = NULL;
        if (imgclass_image_load(files[r % nfiles], &dopt, &img) != IMGCLASS_OK)
            continue;
        int64_t t0 = monotonic_ns();
        if (imgclass_preprocess(img, &pp, one, 0) == IMGCLASS_OK)
            s.ms[s.n++] = ms_since(t0);
        imgclass_image_free(img);
    }
    report("preprocess", &s, 1);

    s.n = 0;
    for (int r = 0; r < runs; r++) {
        int64_t t0 = monotonic_ns();
        if (imgclass_preprocess_file(files[r % nfiles], &dopt, &pp, one, 0) == IMGCLASS_OK)
            s.ms[s.n++] = ms_since(t0);
    }
    report("decode+preprocess", &s, 1);

    /* predict at b=1, b=N and the sweep sizes, on real preprocessed data */
    for (int b = 0; b < maxb; b++) {
        if (imgclass_preprocess_file(files[b % nfiles], &dopt, &pp, many, (size_t)b))
            memset(imgclass_batch_data(many) + (size_t)b * 3 * h * w, 0, sizeof(float) * 3 * h * w);
    }
    char list[256];
    snprintf(list, sizeof list, "1,%d%s%s", batch, sweep ? "," : "", sweep ? sweep : "");
    int seen[4097] = {0};
    for (const char *p = list; *p;) {
        int b = atoi(p);
        p += strcspn(p, ",");
        p += *p == ',';
        if (b < 1 || b > maxb || seen[b])
            continue;
        seen[b] = 1;
        imgclass_batch *view = NULL;
        if (imgclass_batch_wrap(imgclass_batch_data(many), (size_t)b, h, w, &view))
            continue;
        /* One untimed call: the engine specialises for a new batch shape. */
        imgclass_predict(model, view, scores, (size_t)b * (size_t)K);
        s.n = 0;
        for (int r = 0; r < runs; r++) {
            int64_t t0 = monotonic_ns();
            if (imgclass_predict(model, view, scores, (size_t)b * (size_t)K) == IMGCLASS_OK)
                s.ms[s.n++] = ms_since(t0);
            else
                fprintf(stderr, PROG ": %s\n", imgclass_last_error());
        }
        imgclass_batch_free(view);
        char name[64];
        snprintf(name, sizeof name, "predict b=%d", b);
        report(name, &s, b);
    }

    imgclass_classify_options co = imgclass_classify_options_default();
    co.topk = 5;
    co.preprocess = pp;
    co.preprocess_threads = pp_threads;
    int sizes[2] = {1, batch};
    for (int si = 0; si < (batch == 1 ? 1 : 2); si++) {
        int b = sizes[si];
        s.n = 0;
        for (int r = 0; r < runs; r++) {
            for (int j = 0; j < b; j++) {
                in[j].kind = IMGCLASS_INPUT_PATH;
                in[j].path = files[(r * b + j) % nfiles];
            }
            imgclass_results *res = NULL;
            int64_t t0 = monotonic_ns();
            if (imgclass_classify(model, in, (size_t)b, &co, &res) == IMGCLASS_OK)
                s.ms[s.n++] = ms_since(t0);
            imgclass_results_free(res);
        }
        char name[64];
        snprintf(name, sizeof name, "end-to-end b=%d", b);
        report(name, &s, b);
    }
    bench_pipeline(model, &pp, pp_threads, files, nfiles, batch, runs);
    if (failures)
        fprintf(stderr, PROG ": %d decode calls failed\n", failures);
    status = 0;
done:
    imgclass_batch_free(one);
    imgclass_batch_free(many);
    free(scores);
    free(s.ms);
    free(in);
    imgclass_model_free(model);
out:
    for (int i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(inputs);
    return status;
}
