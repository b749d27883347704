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
#include "cli_args.h"
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
          "      --device DEV     cpu (default), cuda, cuda:N\n",
          out);
    cli_model_args_help(out, 6, 23);
    fputs("\n", out);
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
    return (double)(clock_mono_ns() - t0) / 1e6;
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
    const cli_pipeline_args pa = {.batch = batch, .max_delay_us = 5000,
                                  .preprocess_threads = pp_threads, .topk = 5};
    imgclass_pipeline_options o =
        cli_pipeline_options(model, pp, NULL, &pa, on_bench_result, &failures);
    imgclass_pipeline *p = NULL;
    if (imgclass_pipeline_create(model, &o, &p) != IMGCLASS_OK) {
        fprintf(stderr, PROG ": %s\n", imgclass_last_error());
        return;
    }
    long n = (long)runs * batch;
    int64_t t0 = clock_mono_ns();
    for (long i = 0; i < n; i++) {
        imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = files[i % nfiles]};
        imgclass_pipeline_submit(p, &in, NULL, 0, NULL);
    }
    imgclass_pipeline_flush(p);
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
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

/* What the command line asks for. */
typedef struct bench_args {
    const char *model_path, *sweep;
    cli_model_args model; /* --device, --threads, --precision */
    int batch, runs, pp_threads;
    pp_args pa;
    char **inputs;
    int ninputs;
} bench_args;

enum { OPT_DEVICE = CLI_CODE_LONG, OPT_SWEEP, OPT_PP_THREADS };

static const char short_options[] = CLI_SHORT_PREFIX "hm:b:r:t:";
static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"model", required_argument, NULL, 'm'},
    {"batch", required_argument, NULL, 'b'},
    {"runs", required_argument, NULL, 'r'},
    {"threads", required_argument, NULL, 't'},
    {"preprocess-threads", required_argument, NULL, OPT_PP_THREADS},
    {"sweep", required_argument, NULL, OPT_SWEEP},
    {"device", required_argument, NULL, OPT_DEVICE},
    PP_ARGS_LONG_OPTIONS,
    MODEL_ARGS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* Applies one option (not a preprocessing one); 0, or -1 after a message. */
static int apply_option(bench_args *a, int c, const char *v)
{
    switch (c) {
    case 'm': a->model_path = v; return 0;
    case OPT_DEVICE: a->model.device = v; return 0;
    case OPT_SWEEP: a->sweep = v; return 0;
    case 'b': return cli_int_option(PROG, long_options, c, v, 1, 4096, &a->batch);
    case 'r': return cli_int_option(PROG, long_options, c, v, 1, 1000000, &a->runs);
    case 't': return cli_int_option(PROG, long_options, c, v, 1, 1024, &a->model.threads);
    case OPT_PP_THREADS: return cli_int_option(PROG, long_options, c, v, 0, 1024, &a->pp_threads);
    }
    return -1; /* not reached: every code of the table is handled */
}

/* An input; bench reads its files more than once, so not standard input. */
static int add_input(bench_args *a, char *input)
{
    if (!strcmp(input, "-")) {
        fprintf(stderr, PROG ": '-' (paths on standard input) is not an INPUT bench can take; "
                        "give files or folders (see --help)\n");
        return -1;
    }
    a->inputs[a->ninputs++] = input;
    return 0;
}

/* 0: run; 1: --help was printed; -1: usage error (printed). a->inputs is
 * allocated in every case but -1 from calloc; bench_args_free() frees it. */
static int parse_args(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    a->model = cli_model_args_init();
    a->batch = 8;
    a->runs = 20;
    a->pa = pp_args_init();
    a->inputs = calloc((size_t)argc, sizeof *a->inputs);
    if (!a->inputs)
        return -1;
    cli_getopt_begin();
    int c;
    while ((c = cli_getopt(argc, argv, short_options, long_options, PROG)) != CLI_END) {
        if (c == CLI_ERROR)
            return -1;
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c == CLI_OPERAND) {
            if (add_input(a, optarg))
                return -1;
            continue;
        }
        int r = pp_args_option(&a->pa, c, optarg, PROG);
        if (r == 0)
            r = cli_model_args_option(&a->model, c, optarg, PROG);
        if (r < 0 || (r == 0 && apply_option(a, c, optarg)))
            return -1;
    }
    while (optind < argc) /* after "--" */
        if (add_input(a, argv[optind++]))
            return -1;
    if (!a->model_path || a->ninputs == 0) {
        fprintf(stderr, PROG ": needs --model and at least one INPUT (see --help)\n");
        return -1;
    }
    return 0;
}

/* The image files among the inputs (folders expanded), malloc'd paths;
 * 0 when there is at least one, -1 after a message otherwise. */
static int collect_files(char **inputs, int ninputs, char ***out, int *nout)
{
    char **files = NULL;
    int nfiles = 0;
    path_source *src = path_source_new(inputs, ninputs, -1, '\n');
    if (src) {
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
    }
    *out = files;
    *nout = nfiles;
    if (nfiles == 0) {
        fprintf(stderr, PROG ": no image files among the inputs\n");
        return -1;
    }
    return 0;
}

/* Everything the timed stages share. */
typedef struct bench {
    const bench_args *args;
    imgclass_model *model;
    char **files;
    int nfiles;
    imgclass_preprocess_options pp;
    imgclass_decode_options dopt;
    int h, w, K, maxb;
    imgclass_batch *one, *many; /* 1 and maxb slots of the model's input */
    float *scores;              /* maxb x K */
    samples s;                  /* runs latencies, reused by every stage */
    imgclass_input *in;         /* maxb inputs */
} bench;

/* The largest batch size asked for: --batch or a --sweep entry. */
static int max_batch(const bench_args *a)
{
    int maxb = a->batch;
    if (a->sweep)
        for (const char *p = a->sweep; *p;) {
            int b = atoi(p);
            if (b > maxb && b <= 4096)
                maxb = b;
            p += strcspn(p, ",");
            p += *p == ',';
        }
    return maxb;
}

/* decode, preprocess, and the fused decode+preprocess, one image a call. */
static void bench_decode_stages(bench *b)
{
    const bench_args *a = b->args;
    samples *s = &b->s;
    int failures = 0;
    s->n = 0;
    for (int r = 0; r < a->runs; r++) {
        imgclass_image *img = NULL;
        int64_t t0 = clock_mono_ns();
        if (imgclass_image_load(b->files[r % b->nfiles], &b->dopt, &img) == IMGCLASS_OK)
            s->ms[s->n++] = ms_since(t0);
        else
            failures++;
        imgclass_image_free(img);
    }
    report("decode", s, 1);

    s->n = 0;
    for (int r = 0; r < a->runs; r++) {
        imgclass_image *img = NULL;
        if (imgclass_image_load(b->files[r % b->nfiles], &b->dopt, &img) != IMGCLASS_OK)
            continue;
        int64_t t0 = clock_mono_ns();
        if (imgclass_preprocess(img, &b->pp, b->one, 0) == IMGCLASS_OK)
            s->ms[s->n++] = ms_since(t0);
        imgclass_image_free(img);
    }
    report("preprocess", s, 1);

    s->n = 0;
    for (int r = 0; r < a->runs; r++) {
        int64_t t0 = clock_mono_ns();
        if (imgclass_preprocess_file(b->files[r % b->nfiles], &b->dopt, &b->pp, b->one, 0) ==
            IMGCLASS_OK)
            s->ms[s->n++] = ms_since(t0);
    }
    report("decode+preprocess", s, 1);
    if (failures)
        fprintf(stderr, PROG ": %d decode calls failed\n", failures);
}

/* predict at b=1, b=N and the sweep sizes, on real preprocessed data. */
static void bench_predict(bench *b)
{
    const bench_args *a = b->args;
    const size_t plane = 3 * (size_t)b->h * (size_t)b->w;
    for (int i = 0; i < b->maxb; i++) {
        if (imgclass_preprocess_file(b->files[i % b->nfiles], &b->dopt, &b->pp, b->many,
                                     (size_t)i))
            memset(imgclass_batch_data(b->many) + (size_t)i * plane, 0, sizeof(float) * plane);
    }
    char list[256];
    snprintf(list, sizeof list, "1,%d%s%s", a->batch, a->sweep ? "," : "",
             a->sweep ? a->sweep : "");
    int seen[4097] = {0};
    for (const char *p = list; *p;) {
        int n = atoi(p);
        p += strcspn(p, ",");
        p += *p == ',';
        if (n < 1 || n > b->maxb || seen[n])
            continue;
        seen[n] = 1;
        imgclass_batch *view = NULL;
        if (imgclass_batch_wrap(imgclass_batch_data(b->many), (size_t)n, b->h, b->w, &view))
            continue;
        size_t nscores = (size_t)n * (size_t)b->K;
        /* One untimed call: the engine specialises for a new batch shape. */
        imgclass_predict(b->model, view, b->scores, nscores);
        b->s.n = 0;
        for (int r = 0; r < a->runs; r++) {
            int64_t t0 = clock_mono_ns();
            if (imgclass_predict(b->model, view, b->scores, nscores) == IMGCLASS_OK)
                b->s.ms[b->s.n++] = ms_since(t0);
            else
                fprintf(stderr, PROG ": %s\n", imgclass_last_error());
        }
        imgclass_batch_free(view);
        char name[64];
        snprintf(name, sizeof name, "predict b=%d", n);
        report(name, &b->s, n);
    }
}

/* imgclass_classify of 1 and of --batch files a call. */
static void bench_classify(bench *b)
{
    const bench_args *a = b->args;
    imgclass_classify_options co = imgclass_classify_options_default();
    co.topk = 5;
    co.preprocess = &b->pp;
    co.preprocess_threads = a->pp_threads;
    int sizes[2] = {1, a->batch};
    for (int si = 0; si < (a->batch == 1 ? 1 : 2); si++) {
        int n = sizes[si];
        b->s.n = 0;
        for (int r = 0; r < a->runs; r++) {
            for (int j = 0; j < n; j++) {
                b->in[j].struct_size = sizeof b->in[j];
                b->in[j].kind = IMGCLASS_INPUT_PATH;
                b->in[j].path = b->files[(r * n + j) % b->nfiles];
            }
            imgclass_results *res = NULL;
            int64_t t0 = clock_mono_ns();
            if (imgclass_classify(b->model, b->in, (size_t)n, &co, &res) == IMGCLASS_OK)
                b->s.ms[b->s.n++] = ms_since(t0);
            imgclass_results_free(res);
        }
        char name[64];
        snprintf(name, sizeof name, "end-to-end b=%d", n);
        report(name, &b->s, n);
    }
}

/* The buffers every stage uses; 0, or -1 after a message. */
static int bench_alloc(bench *b)
{
    b->h = b->w = 0;
    imgclass_model_input_size(b->model, NULL, &b->h, &b->w);
    b->K = imgclass_model_num_classes(b->model);
    b->maxb = max_batch(b->args);
    b->dopt = pp_args_decode(&b->args->pa); /* --exif-transpose */
    b->scores = malloc((size_t)b->maxb * (size_t)b->K * sizeof *b->scores);
    b->s.ms = calloc((size_t)b->args->runs, sizeof(double));
    b->in = calloc((size_t)b->maxb, sizeof *b->in);
    if (!b->scores || !b->s.ms || !b->in || imgclass_batch_create(1, b->h, b->w, &b->one) ||
        imgclass_batch_create((size_t)b->maxb, b->h, b->w, &b->many)) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    return 0;
}

static void bench_free(bench *b)
{
    imgclass_batch_free(b->one);
    imgclass_batch_free(b->many);
    free(b->scores);
    free(b->s.ms);
    free(b->in);
    imgclass_model_free(b->model);
    for (int i = 0; i < b->nfiles; i++)
        free(b->files[i]);
    free(b->files);
}

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        free(a.inputs);
        return rc > 0 ? 0 : 1;
    }
    bench b;
    memset(&b, 0, sizeof b);
    b.args = &a;
    int status = 1;
    if (collect_files(a.inputs, a.ninputs, &b.files, &b.nfiles) == 0) {
        /* The model's recipe, with the options given on top. */
        b.model = cli_model_open_pp(PROG, a.model_path, NULL, &a.model, &a.pa, &b.pp);
        if (b.model && bench_alloc(&b) == 0) {
            printf("imgclass %s, %s, device %s, precision %s, %d engine threads, %d image "
                   "files, input %dx%d\n",
                   imgclass_version(), imgclass_engine_version(), imgclass_model_device(b.model),
                   imgclass_model_precision(b.model), imgclass_get_num_threads(), b.nfiles, b.w,
                   b.h);
            printf("%-22s %6s %10s %10s %10s %10s\n", "stage", "calls", "images/s", "median ms",
                   "p90 ms", "p99 ms");
            bench_decode_stages(&b);
            bench_predict(&b);
            bench_classify(&b);
            bench_pipeline(b.model, &b.pp, a.pp_threads, b.files, b.nfiles, a.batch, a.runs);
            status = 0;
        }
    }
    bench_free(&b);
    free(a.inputs);
    return status;
}
