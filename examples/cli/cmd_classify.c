/* imgclass classify: files, folders and streams of paths through a model.
 *
 * Pipeline: a producer thread reads input paths, cuts them into batches
 * (full, or --window-ms after the batch's first path) and has a small pool
 * decode and preprocess each batch into its own tensor, while the main
 * thread runs the forward pass of the previous batch and prints it. Two
 * batch buffers alternate between them. --no-pipeline does the same steps
 * one after the other in the main thread, to measure the gain. */
#include "commands.h"
#include "model_open.h"
#include "path_source.h"
#include "pp_options.h"
#include "pp_pool.h"
#include "progress.h"
#include "result_output.h"

#include <imgclass.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "imgclass classify"
/* Chosen by measurement (docs/imgclass.1, BATCH SIZE). */
#define DEFAULT_BATCH 8
#define DEFAULT_WINDOW_MS 100

typedef struct classify_args {
    const char *model_path, *labels_path, *device;
    int batch, window_ms, topk, threads, pp_threads, pipeline, progress, verbose;
    char delim;
    out_format format;
    imgclass_preprocess_options pp;
    char **inputs;
    int ninputs;
} classify_args;

/* One batch in flight: its tensor and the inputs it holds, in order. */
typedef struct work_batch {
    imgclass_batch *tensor; /* capacity args.batch */
    pp_job *jobs;
    size_t n;
    int last; /* no input follows this batch */
    const char *cut; /* why it was cut: "full", "window", "end" (for --verbose) */
} work_batch;

typedef struct pipeline {
    const classify_args *args;
    path_source *source;
    pp_pool *pool;
    work_batch bufs[2];
    /* hand-over between producer and consumer */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    work_batch *ready; /* filled, waiting for the consumer */
    int free_mask;     /* bit i: bufs[i] may be filled */
    int failed;        /* the producer ran out of memory */
} pipeline;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: imgclass classify --model M.pt [--labels L] [OPTIONS] INPUT...\n\n"
            "Classifies image files; folders (recursively); and '-', which reads one path\n"
            "per line from standard input and prints each batch as soon as it is done.\n"
            "One record per input, in input order, on standard output.\n\n"
            "  -m, --model PATH     TorchScript model (plain or gzip) (required)\n"
            "  -l, --labels PATH    labels: one per line (ImageNet synset lines too) or\n"
            "                       TorchServe index_to_name.json\n"
            "  -k, --topk K         classes per input (default 1)\n"
            "      --text           (default) PATH: LABEL (PROB), or with K > 1 PATH: and\n"
            "                       K lines; a failed input: PATH: error: MESSAGE\n"
            "      --json           JSON Lines: {\"path\": ..., \"top\": [{\"index\": ...,\n"
            "                       \"label\": ..., \"probability\": ...}]} or\n"
            "                       {\"path\": ..., \"error\": ...}; no \"label\" without labels\n"
            "      --tsv            PATH<TAB>INDEX<TAB>LABEL<TAB>PROBABILITY (top-1);\n"
            "                       a failed input: PATH<TAB>-1<TAB>MESSAGE<TAB>nan\n"
            "  -b, --batch N        images per forward pass (default %d)\n"
            "  -w, --window-ms T    cut a batch T ms after its first input even if not\n"
            "                       full (default %d; 0: only full batches)\n"
            "  -0, --null           paths on standard input end with NUL, not newline\n"
            "  -t, --threads N      engine (libtorch) threads (default: libtorch's)\n"
            "      --preprocess-threads N  decode/preprocess threads (default: CPUs)\n"
            "      --device DEV     cpu (default), cuda, cuda:N\n"
            "      --no-pipeline    do not overlap preprocessing with the forward pass\n"
            "  -v, --verbose        log each batch on stderr (size, why it was cut) and\n"
            "                       the time in forward passes vs waiting for input\n"
            "      --progress, --no-progress  force the progress bar on stderr on or off\n"
            "                       (default: on when stderr is a terminal)\n\n",
            DEFAULT_BATCH, DEFAULT_WINDOW_MS);
    pp_args_help(out);
    fputs("\nFolders: hidden entries are skipped, links to files followed, links to\n"
          "folders not; image files are found by extension or content; the order is\n"
          "strcmp order of the path below the folder. Text and TSV escape \\ TAB LF CR\n"
          "as \\\\ \\t \\n \\r; JSON writes bytes that are not UTF-8 as \\udcXX.\n"
          "Exit status: 0 all classified, 2 some inputs failed, 1 usage or fatal error.\n"
          "A summary goes to stderr: images, failures, images per second.\n",
          out);
}

/* --opt VALUE / --opt=VALUE for the short list of options taking a value. */
static const char *opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt,
                             int *matched)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);
    *matched = 0;
    if (!strncmp(a, lng, n) && a[n] == '=') {
        *matched = 1;
        (*i)++;
        return a + n + 1;
    }
    if (strcmp(a, lng) && !(shrt && !strcmp(a, shrt)))
        return NULL;
    *matched = 1;
    if (*i + 1 >= argc) {
        fprintf(stderr, PROG ": option %s needs a value\n", a);
        return NULL;
    }
    *i += 2;
    return argv[*i - 1];
}

/* 0: run; 1: --help was printed; -1: usage error (printed). */
static int parse_args(int argc, char **argv, classify_args *a)
{
    pp_args pa = pp_args_init();
    memset(a, 0, sizeof *a);
    a->batch = DEFAULT_BATCH;
    a->window_ms = DEFAULT_WINDOW_MS;
    a->topk = 1;
    a->pp_threads = -1;
    a->pipeline = 1;
    a->progress = -1;
    a->delim = '\n';
    a->device = "cpu";
    a->inputs = calloc((size_t)argc, sizeof *a->inputs);
    if (!a->inputs)
        return -1;
    int only_inputs = 0;
    for (int i = 1; i < argc;) {
        const char *arg = argv[i], *v;
        int m;
        if (only_inputs || arg[0] != '-' || !strcmp(arg, "-")) {
            a->inputs[a->ninputs++] = argv[i++];
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_inputs = 1;
            i++;
            continue;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return 1; /* done: exit 0 */
        }
        int r = pp_args_parse(&pa, argc, argv, &i, PROG);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
#define FLAG(name, stmt)                                                                     \
    if (!strcmp(arg, name)) {                                                                \
        stmt;                                                                                \
        i++;                                                                                 \
        continue;                                                                            \
    }
        FLAG("--json", a->format = OUT_JSON)
        FLAG("--tsv", a->format = OUT_TSV)
        FLAG("--text", a->format = OUT_TEXT)
        FLAG("--no-pipeline", a->pipeline = 0)
        FLAG("--pipeline", a->pipeline = 1)
        FLAG("--progress", a->progress = 1)
        FLAG("--no-progress", a->progress = 0)
        FLAG("-0", a->delim = '\0')
        FLAG("--null", a->delim = '\0')
        FLAG("-v", a->verbose = 1)
        FLAG("--verbose", a->verbose = 1)
#undef FLAG
#define VALUE(lng, shrt, stmt)                                                               \
    v = opt_value(argc, argv, &i, lng, shrt, &m);                                            \
    if (m) {                                                                                 \
        if (!v)                                                                              \
            return -1;                                                                       \
        stmt;                                                                                \
        continue;                                                                            \
    }
#define INT(lng, shrt, field, lo, hi)                                                        \
    VALUE(lng, shrt, if (cli_parse_int(v, lo, hi, &a->field)) {                              \
        fprintf(stderr, PROG ": bad value '%s' for %s (%d..%d)\n", v, lng, lo, hi);          \
        return -1;                                                                           \
    })
        VALUE("--model", "-m", a->model_path = v)
        VALUE("--labels", "-l", a->labels_path = v)
        VALUE("--device", NULL, a->device = v)
        INT("--topk", "-k", topk, 1, 100000)
        INT("--batch", "-b", batch, 1, 4096)
        INT("--window-ms", "-w", window_ms, 0, 86400000)
        INT("--threads", "-t", threads, 1, 1024)
        INT("--preprocess-threads", NULL, pp_threads, 0, 1024)
#undef INT
#undef VALUE
        fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", arg);
        return -1;
    }
    if (!a->model_path) {
        fprintf(stderr, PROG ": --model is required (see --help)\n");
        return -1;
    }
    if (a->ninputs == 0) {
        fprintf(stderr, PROG ": no INPUT given (files, folders, or - for standard input)\n");
        return -1;
    }
    if (pp_args_finish(&pa, &a->pp, PROG))
        return -1;
    if (a->pp_threads < 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        a->pp_threads = n > 0 ? (int)(n < 16 ? n : 16) : 2;
    }
    if (a->progress < 0)
        a->progress = isatty(STDERR_FILENO);
    return 0;
}

/* ---- producer: fill one batch ------------------------------------------ */

/* Reads inputs into `b` until it is full, its window has passed, or input
 * ends, preprocessing each one as it arrives; returns once all are done.
 * 0, or -1 when out of memory. */
static int fill_batch(pipeline *p, work_batch *b)
{
    const classify_args *a = p->args;
    int64_t deadline = -1;
    b->n = 0;
    b->last = 0;
    b->cut = "full";
    while (b->n < (size_t)a->batch) {
        char *path, *error;
        int r = path_source_next(p->source, deadline, &path, &error);
        if (r == PATH_SOURCE_FAIL) {
            pp_pool_wait(p->pool);
            return -1;
        }
        if (r == PATH_SOURCE_END) {
            b->last = 1;
            b->cut = "end";
            break;
        }
        if (r == PATH_SOURCE_TIMEOUT) {
            b->cut = "window";
            break;
        }
        pp_job *job = &b->jobs[b->n];
        int64_t now = monotonic_ns();
        if (b->n == 0 && a->window_ms > 0)
            deadline = now + (int64_t)a->window_ms * 1000000;
        job->path = path;
        job->batch = b->tensor;
        job->slot = b->n;
        job->error = error;
        job->status = error ? IMGCLASS_ERR_IO : IMGCLASS_OK;
        b->n++;
        if (!error)
            pp_pool_submit(p->pool, job);
        if (deadline >= 0 && now >= deadline && b->n < (size_t)a->batch) {
            b->cut = "window";
            break;
        }
    }
    pp_pool_wait(p->pool);
    return 0;
}

static void *producer_main(void *arg)
{
    pipeline *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->free_mask)
            pthread_cond_wait(&p->changed, &p->lock);
        int idx = (p->free_mask & 1) ? 0 : 1;
        p->free_mask &= ~(1 << idx);
        pthread_mutex_unlock(&p->lock);

        work_batch *b = &p->bufs[idx];
        int rc = fill_batch(p, b);

        pthread_mutex_lock(&p->lock);
        while (p->ready) /* the consumer has not taken the previous one yet */
            pthread_cond_wait(&p->changed, &p->lock);
        if (rc) {
            p->failed = 1;
            b->last = 1;
        }
        p->ready = b;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        if (b->last)
            return NULL;
    }
}

/* ---- consumer: predict and print one batch ----------------------------- */

typedef struct consumer {
    const classify_args *args;
    imgclass_model *model;
    float *scores;
    imgclass_class *top;
    long done, failed, batches;
    int fatal;
    /* seconds in the forward pass, and waiting for (or making) the input */
    double predict_s, input_wait_s;
    progress bar;
} consumer;

static void free_job_strings(work_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->jobs[i].path);
        free(b->jobs[i].error);
        b->jobs[i].path = b->jobs[i].error = NULL;
    }
}

static void consume(consumer *c, work_batch *b)
{
    const classify_args *a = c->args;
    int K = imgclass_model_num_classes(c->model);
    int H = imgclass_batch_height(b->tensor), W = imgclass_batch_width(b->tensor);
    size_t slot_floats = (size_t)3 * (size_t)H * (size_t)W;
    float *data = imgclass_batch_data(b->tensor);

    /* Pack the images that preprocessed into the first slots, so the
     * forward pass does not spend time on failed inputs. */
    size_t ok = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->jobs[i].status != IMGCLASS_OK)
            continue;
        if (b->jobs[i].slot != ok)
            memcpy(data + ok * slot_floats, data + b->jobs[i].slot * slot_floats,
                   slot_floats * sizeof(float));
        b->jobs[i].slot = ok++;
    }
    char *engine_error = NULL;
    if (ok > 0) {
        imgclass_batch *view = NULL;
        imgclass_status st = imgclass_batch_wrap(data, ok, H, W, &view);
        int64_t t0 = monotonic_ns();
        if (st == IMGCLASS_OK)
            st = imgclass_predict(c->model, view, c->scores, ok * (size_t)K);
        c->predict_s += (double)(monotonic_ns() - t0) / 1e9;
        imgclass_batch_free(view);
        if (st != IMGCLASS_OK) {
            /* The engine failed on this batch: each of its inputs gets the
             * message; later batches still run. */
            engine_error = strdup(imgclass_last_error());
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        pp_job *j = &b->jobs[i];
        if (j->status == IMGCLASS_OK && !engine_error) {
            int k = 0;
            if (imgclass_topk(c->model, c->scores + j->slot * (size_t)K, K, a->topk, c->top, &k) ==
                IMGCLASS_OK) {
                write_result(stdout, a->format, j->path, c->top, k);
                continue;
            }
        }
        c->failed++;
        write_failure(stdout, a->format, j->path,
                      j->status != IMGCLASS_OK ? (j->error ? j->error : "failed")
                                               : (engine_error ? engine_error : "top-k failed"));
    }
    free(engine_error);
    c->batches++;
    if (a->verbose && b->n > 0)
        fprintf(stderr, "imgclass: batch %ld: %zu inputs, %zu preprocessed, cut: %s\n", c->batches,
                b->n, ok, b->cut);
    c->done += (long)b->n;
    fflush(stdout); /* a stream's reader sees each batch at once */
    free_job_strings(b);
    progress_update(&c->bar, c->done, c->failed, 0);
}

/* ---- setup ------------------------------------------------------------- */

static imgclass_model *load_model(const classify_args *a)
{
    int h, w;
    if (pp_fixed_output_size(&a->pp, &h, &w, PROG))
        return NULL;
    return cli_model_open(PROG, a->model_path, a->labels_path, a->device, a->threads, h, w);
}

static int buffers_init(pipeline *p, int h, int w)
{
    for (int i = 0; i < 2; i++) {
        work_batch *b = &p->bufs[i];
        b->jobs = calloc((size_t)p->args->batch, sizeof *b->jobs);
        if (!b->jobs || imgclass_batch_create((size_t)p->args->batch, h, w, &b->tensor))
            return -1;
    }
    return 0;
}

static void buffers_free(pipeline *p)
{
    for (int i = 0; i < 2; i++) {
        free_job_strings(&p->bufs[i]);
        free(p->bufs[i].jobs);
        imgclass_batch_free(p->bufs[i].tensor);
    }
}

static void run(pipeline *p, consumer *c)
{
    if (!p->args->pipeline) {
        for (;;) {
            work_batch *b = &p->bufs[0];
            int64_t t0 = monotonic_ns();
            int rc = fill_batch(p, b);
            c->input_wait_s += (double)(monotonic_ns() - t0) / 1e9;
            if (rc) {
                c->fatal = 1;
                return;
            }
            consume(c, b);
            if (b->last)
                return;
        }
    }
    pthread_t producer;
    p->free_mask = 3;
    if (pthread_create(&producer, NULL, producer_main, p)) {
        fprintf(stderr, PROG ": cannot start the producer thread\n");
        c->fatal = 1;
        return;
    }
    for (;;) {
        int64_t t0 = monotonic_ns();
        pthread_mutex_lock(&p->lock);
        while (!p->ready)
            pthread_cond_wait(&p->changed, &p->lock);
        c->input_wait_s += (double)(monotonic_ns() - t0) / 1e9;
        work_batch *b = p->ready;
        p->ready = NULL;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);

        consume(c, b);
        int last = b->last;

        pthread_mutex_lock(&p->lock);
        p->free_mask |= 1 << (int)(b - p->bufs);
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        if (last)
            break;
    }
    pthread_join(producer, NULL);
    if (p->failed)
        c->fatal = 1;
}

int cmd_classify(int argc, char **argv)
{
    classify_args a;
    int pr = parse_args(argc, argv, &a);
    if (pr) {
        free(a.inputs);
        return pr > 0 ? 0 : 1;
    }
    imgclass_model *model = load_model(&a);
    if (!model) {
        free(a.inputs);
        return 1;
    }
    int channels, h, w;
    imgclass_model_input_size(model, &channels, &h, &w);
    int K = imgclass_model_num_classes(model);
    if (a.topk > K)
        a.topk = K;

    pipeline p;
    memset(&p, 0, sizeof p);
    p.args = &a;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.changed, NULL);
    consumer c;
    memset(&c, 0, sizeof c);
    c.args = &a;
    c.model = model;
    c.scores = malloc((size_t)a.batch * (size_t)K * sizeof *c.scores);
    c.top = malloc((size_t)a.topk * sizeof *c.top);
    imgclass_decode_options dopt = imgclass_decode_options_default();
    p.source = path_source_new(a.inputs, a.ninputs, STDIN_FILENO, a.delim);
    p.pool = pp_pool_new(a.pp_threads, &dopt, &a.pp);
    int status = 1;
    if (!c.scores || !c.top || !p.source || !p.pool || buffers_init(&p, h, w)) {
        fprintf(stderr, PROG ": out of memory\n");
    } else {
        progress_start(&c.bar, a.progress, path_source_total(p.source));
        int64_t t0 = monotonic_ns();
        run(&p, &c);
        double secs = (double)(monotonic_ns() - t0) / 1e9;
        progress_finish(&c.bar, c.done, c.failed);
        if (c.fatal)
            fprintf(stderr, PROG ": out of memory; stopped\n");
        fprintf(stderr, "imgclass: %ld images, %ld failed, %.2f s, %.1f images/s (batch %d, %s)\n",
                c.done, c.failed, secs, secs > 0 ? (double)c.done / secs : 0.0, a.batch,
                a.pipeline ? "pipelined" : "not pipelined");
        if (a.verbose)
            fprintf(stderr, "imgclass: forward passes %.2f s, waiting for preprocessed input "
                            "%.2f s, other %.2f s\n", c.predict_s, c.input_wait_s,
                    secs - c.predict_s - c.input_wait_s);
        status = c.fatal ? 1 : c.failed ? 2 : 0;
    }
    buffers_free(&p);
    pp_pool_free(p.pool);
    path_source_free(p.source);
    pthread_mutex_destroy(&p.lock);
    pthread_cond_destroy(&p.changed);
    free(c.scores);
    free(c.top);
    imgclass_model_free(model);
    free(a.inputs);
    return status;
}
