/* imgclass classify: files, folders and streams of paths through a model.
 *
 * A client of the library's pipeline (imgclass_pipeline_*): this thread
 * reads input paths and submits them; the pipeline decodes and preprocesses
 * them on its workers, cuts batches (full, or --window-ms after a batch's
 * first image is ready, or at the end), runs the forward pass while the next
 * batch fills, and hands each result, in input order, to on_result(), which
 * prints it. --no-pipeline flushes after every batch, so the steps run one
 * after the other, to measure the gain. */
#include "cli_args.h"
#include "commands.h"
#include "model_open.h"
#include "path_source.h"
#include "pp_options.h"
#include "progress.h"
#include "result_output.h"

#include <imgclass.h>

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "imgclass classify"
/* Chosen by measurement (docs/imgclass.1, BATCH SIZE). */
#define DEFAULT_BATCH 8
#define DEFAULT_WINDOW_MS 100

typedef struct classify_args {
    const char *model_path, *labels_path;
    cli_model_args model;           /* --device, --threads, --precision */
    int batch, window_ms, topk, pp_threads, lanes, pipeline, progress, verbose;
    char delim;
    out_format format;
    pp_args pa;                     /* the preprocessing options given */
    imgclass_preprocess_options pp; /* settled once the model (its recipe) is open */
    imgclass_decode_options decode; /* --exif-transpose */
    char **inputs;
    int ninputs;
    /* --threshold, --allow, --deny; the lists point into argv. */
    float threshold;
    int *class_indices;             /* argc entries: --allow/--deny given as numbers */
    const char **class_labels;      /* argc entries: given as labels */
    int nclass_indices, nclass_labels;
    int list;                       /* 0 none, 'a' allow, 'd' deny */
} classify_args;


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
            "  -k, --topk K         classes per input (default 1; all or -1: every class)\n"
            "      --threshold S    omit classes scoring below S (a probability, or a\n"
            "                       logit); an input may then print no class\n"
            "      --allow CLASS    report only these classes (repeatable): a class\n"
            "                       index, or a label or synset id of --labels\n"
            "      --deny CLASS     never report these classes (repeatable; not with\n"
            "                       --allow)\n"
            "      --text           (default) PATH: LABEL (PROB), or with K > 1 PATH: and\n"
            "                       K lines; a failed input: PATH: error: MESSAGE\n"
            "      --json           JSON Lines: {\"path\": ..., \"top\": [{\"index\": ...,\n"
            "                       \"label\": ..., \"probability\": ...}]} or\n"
            "                       {\"path\": ..., \"error\": ...}; no \"label\" without labels\n"
            "      --tsv            PATH<TAB>INDEX<TAB>LABEL<TAB>PROBABILITY (top-1);\n"
            "                       a failed input: PATH<TAB>-1<TAB>MESSAGE<TAB>nan\n"
            "  -b, --batch N        images per forward pass (default %d)\n"
            "  -w, --window-ms T    cut a batch T ms after its first image is ready even\n"
            "                       if not full (default %d; 0: only full batches)\n"
            "  -0, --null           paths on standard input end with NUL, not newline\n"
            "  -t, --threads N      engine (libtorch) threads (default: libtorch's)\n"
            "      --preprocess-threads N  decode/preprocess threads (default 0: CPUs\n"
            "                       minus engine threads; none where that leaves\n"
            "                       none: the engine's threads prepare between passes)\n"
            "      --lanes N        forward passes at once where the engine's threads\n"
            "                       prepare, each with threads/N of them (default 0:\n"
            "                       2 for an int8 model, else 1)\n"
            "      --device DEV     cpu (default), cuda, cuda:N\n",
            DEFAULT_BATCH, DEFAULT_WINDOW_MS);
    cli_model_args_help(out, 6, 23);
    fputs("      --no-pipeline    do not overlap preprocessing with the forward pass\n"
          "  -v, --verbose        log each batch on stderr (size, why it was cut) and\n"
          "                       the time in forward passes vs waiting for input\n"
          "      --progress, --no-progress  force the progress bar on stderr on or off\n"
          "                       (default: on when stderr is a terminal)\n\n",
          out);
    pp_args_help(out);
    fputs("\nFolders: hidden entries are skipped, links to files followed, links to\n"
          "folders not; image files are found by extension or content; the order is\n"
          "strcmp order of the path below the folder. Text and TSV escape \\ TAB LF CR\n"
          "as \\\\ \\t \\n \\r; JSON writes bytes that are not UTF-8 as \\udcXX.\n"
          "Exit status: 0 all classified, 2 some inputs failed, 1 usage or fatal error.\n"
          "A summary goes to stderr: images, failures, images per second.\n",
          out);
}

static int parse_topk(const char *v, int *out)
{
    if (!strcmp(v, "all") || !strcmp(v, "-1")) {
        *out = IMGCLASS_TOPK_ALL;
        return 0;
    }
    if (cli_parse_int(v, 1, 100000, out) == 0)
        return 0;
    fprintf(stderr, PROG ": bad value '%s' for --topk (1..100000, or all / -1)\n", v);
    return -1;
}

static int parse_threshold(const char *v, float *out)
{
    char *end;
    errno = 0;
    float f = strtof(v, &end);
    if (!*v || *end || errno || isnan(f)) {
        fprintf(stderr, PROG ": bad value '%s' for --threshold (a number)\n", v);
        return -1;
    }
    *out = f;
    return 0;
}

/* --allow / --deny CLASS: all digits is a class index, anything else a
 * label or id; one kind of list per run. */
static int add_class(classify_args *a, const char *v, int list)
{
    if (a->list && a->list != list) {
        fprintf(stderr, PROG ": --allow and --deny exclude each other; give one of them\n");
        return -1;
    }
    a->list = list;
    int index;
    if (*v >= '0' && *v <= '9' && cli_parse_int(v, 0, INT32_MAX, &index) == 0)
        a->class_indices[a->nclass_indices++] = index;
    else if (*v)
        a->class_labels[a->nclass_labels++] = v;
    else {
        fprintf(stderr, PROG ": --%s needs a class index or label, not an empty value\n",
                list == 'a' ? "allow" : "deny");
        return -1;
    }
    return 0;
}

/* Codes of the long options without a short form. */
enum {
    OPT_DEVICE = CLI_CODE_LONG,
    OPT_THRESHOLD,
    OPT_ALLOW,
    OPT_DENY,
    OPT_PP_THREADS,
    OPT_LANES,
    OPT_JSON,
    OPT_TSV,
    OPT_TEXT,
    OPT_PIPELINE,
    OPT_NO_PIPELINE,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
};

static const char short_options[] = CLI_SHORT_PREFIX "hm:l:k:b:w:t:0v";
static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"model", required_argument, NULL, 'm'},
    {"labels", required_argument, NULL, 'l'},
    {"topk", required_argument, NULL, 'k'},
    {"threshold", required_argument, NULL, OPT_THRESHOLD},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"deny", required_argument, NULL, OPT_DENY},
    {"text", no_argument, NULL, OPT_TEXT},
    {"json", no_argument, NULL, OPT_JSON},
    {"tsv", no_argument, NULL, OPT_TSV},
    {"batch", required_argument, NULL, 'b'},
    {"window-ms", required_argument, NULL, 'w'},
    {"null", no_argument, NULL, '0'},
    {"threads", required_argument, NULL, 't'},
    {"preprocess-threads", required_argument, NULL, OPT_PP_THREADS},
    {"lanes", required_argument, NULL, OPT_LANES},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"pipeline", no_argument, NULL, OPT_PIPELINE},
    {"no-pipeline", no_argument, NULL, OPT_NO_PIPELINE},
    {"verbose", no_argument, NULL, 'v'},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    PP_ARGS_LONG_OPTIONS,
    MODEL_ARGS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* Applies one option (not a preprocessing one); 0, or -1 after a message. */
static int apply_option(classify_args *a, int c, const char *v)
{
    switch (c) {
    case 'm': a->model_path = v; return 0;
    case 'l': a->labels_path = v; return 0;
    case OPT_DEVICE: a->model.device = v; return 0;
    case 'k': return parse_topk(v, &a->topk);
    case OPT_THRESHOLD: return parse_threshold(v, &a->threshold);
    case OPT_ALLOW: return add_class(a, v, 'a');
    case OPT_DENY: return add_class(a, v, 'd');
    case 'b': return cli_int_option(PROG, long_options, c, v, 1, 4096, &a->batch);
    case 'w': return cli_int_option(PROG, long_options, c, v, 0, 86400000, &a->window_ms);
    case 't': return cli_int_option(PROG, long_options, c, v, 1, 1024, &a->model.threads);
    case OPT_PP_THREADS: return cli_int_option(PROG, long_options, c, v, 0, 1024, &a->pp_threads);
    case OPT_LANES: return cli_int_option(PROG, long_options, c, v, 0, 64, &a->lanes);
    case OPT_JSON: a->format = OUT_JSON; return 0;
    case OPT_TSV: a->format = OUT_TSV; return 0;
    case OPT_TEXT: a->format = OUT_TEXT; return 0;
    case OPT_PIPELINE: a->pipeline = 1; return 0;
    case OPT_NO_PIPELINE: a->pipeline = 0; return 0;
    case OPT_PROGRESS: a->progress = 1; return 0;
    case OPT_NO_PROGRESS: a->progress = 0; return 0;
    case '0': a->delim = '\0'; return 0;
    case 'v': a->verbose = 1; return 0;
    }
    return -1; /* not reached: every code of the table is handled */
}

/* 0: run; 1: --help was printed; -1: usage error (printed). */
static int parse_args(int argc, char **argv, classify_args *a)
{
    pp_args pa = pp_args_init();
    memset(a, 0, sizeof *a);
    a->batch = DEFAULT_BATCH;
    a->window_ms = DEFAULT_WINDOW_MS;
    a->topk = 1;
    a->pp_threads = 0;
    a->pipeline = 1;
    a->progress = -1;
    a->delim = '\n';
    a->model = cli_model_args_init();
    /* No warm-up pass: it makes a long-lived program's first request fast,
     * and here it would only run a batch-1 pass before the real ones (~30
     * ms of a one-photo run; docs/engine.md, "Cold start"). The scores are
     * the same: the load's shape check stays the model's first pass. */
    a->model.warmup_runs = 0;
    a->threshold = -INFINITY;
    a->inputs = calloc((size_t)argc, sizeof *a->inputs);
    a->class_indices = calloc((size_t)argc, sizeof *a->class_indices);
    a->class_labels = calloc((size_t)argc, sizeof *a->class_labels);
    if (!a->inputs || !a->class_indices || !a->class_labels) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    cli_getopt_begin();
    int c;
    while ((c = cli_getopt(argc, argv, short_options, long_options, PROG)) != CLI_END) {
        if (c == CLI_ERROR)
            return -1;
        if (c == CLI_OPERAND) {
            a->inputs[a->ninputs++] = optarg;
        } else if (c == 'h') {
            usage(stdout);
            return 1; /* done: exit 0 */
        } else {
            int r = pp_args_option(&pa, c, optarg, PROG);
            if (r == 0)
                r = cli_model_args_option(&a->model, c, optarg, PROG);
            if (r < 0 || (r == 0 && apply_option(a, c, optarg)))
                return -1;
        }
    }
    while (optind < argc) /* after "--" */
        a->inputs[a->ninputs++] = argv[optind++];
    if (!a->model_path) {
        fprintf(stderr, PROG ": --model is required (see --help)\n");
        return -1;
    }
    if (!*a->model_path || (a->labels_path && !*a->labels_path)) {
        fprintf(stderr, PROG ": --%s needs a file name, not an empty value\n",
                *a->model_path ? "labels" : "model");
        return -1;
    }
    if (a->ninputs == 0) {
        fprintf(stderr, PROG ": no INPUT given (files, folders, or - for standard input)\n");
        return -1;
    }
    a->pa = pa; /* finished on the model's recipe in load_model() */
    a->decode = pp_args_decode(&pa);
    if (a->progress < 0)
        a->progress = isatty(STDERR_FILENO);
    return 0;
}

/* ---- results: printed by the pipeline's callback ------------------------ */

typedef struct sink {
    const classify_args *args;
    int stream;          /* flush standard output after every batch */
    atomic_int ending;   /* the final flush has begun: its cut is "end" */
    long done, failed, batches;
    int in_batch;        /* results of the current batch printed so far */
    /* Results and time when the first batch was delivered: the rate after
     * it is the steady state, without the first forward pass's one-time
     * costs (libtorch's profiling run, oneDNN's kernel set-up). */
    long first_batch_done;
    int64_t first_batch_ns;
    progress bar;
    /* errno of the first failed write to standard output (a full disk,
     * /dev/full, a closed pipe); from then on nothing more is printed or
     * submitted, and the exit status is 1. */
    atomic_int write_errno;
} sink;

static const char *cut_name(const sink *s, imgclass_cut_reason cut)
{
    switch (cut) {
    case IMGCLASS_CUT_FULL: return "full";
    case IMGCLASS_CUT_DEADLINE: return "window";
    case IMGCLASS_CUT_FLUSH: break;
    }
    return atomic_load(&s->ending) ? "end" : "flush";
}

/* One record; `path` is the input as it is printed. */
static void print_record(sink *s, const char *path, imgclass_status status, const char *error,
                         const imgclass_class *top, int k)
{
    if (status != IMGCLASS_OK)
        s->failed++;
    s->done++;
    if (atomic_load(&s->write_errno))
        return;
    int rc = status == IMGCLASS_OK ? write_result(stdout, s->args->format, path, top, k)
                                   : write_failure(stdout, s->args->format, path, error);
    if (rc != 0)
        atomic_store(&s->write_errno, errno ? errno : EIO);
}

/* The pipeline's callback: in input order, on its engine thread. */
static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    sink *s = ctx;
    char *path = r->user;
    print_record(s, path, r->status, r->error, r->top, r->k);
    free(path);
    if (r->batch_inputs > 0 && ++s->in_batch == r->batch_inputs) {
        if (s->batches++ == 0) {
            s->first_batch_done = s->done;
            s->first_batch_ns = clock_mono_ns();
        }
        s->in_batch = 0;
        if (s->args->verbose)
            fprintf(stderr, "imgclass: batch %ld: %d inputs, %d preprocessed, cut: %s, forward "
                            "pass %.1f ms\n",
                    s->batches, r->batch_inputs, r->batch_size, cut_name(s, r->cut),
                    r->forward_us / 1000.0);
        if (s->stream)
            fflush(stdout); /* a stream's reader sees each batch at once */
    }
    progress_update(&s->bar, s->done, s->failed, 0);
}

/* ---- input: paths from the arguments and standard input ------------------ */

/* Submits every input; 0, or -1 on a fatal error (printed). */
static int feed(const classify_args *a, path_source *src, imgclass_pipeline *p, sink *s)
{
    long since_flush = 0;
    for (;;) {
        if (atomic_load(&s->write_errno))
            return -1; /* reported by cmd_classify */
        char *path, *error;
        int r = path_source_next(src, -1, &path, &error);
        if (r == PATH_SOURCE_END)
            return 0;
        if (r == PATH_SOURCE_FAIL) {
            fprintf(stderr, PROG ": out of memory\n");
            return -1;
        }
        if (error) {
            /* It failed before reaching the library (an unreadable folder, a
             * failed read): print it in its place, after what came before. */
            imgclass_pipeline_flush(p);
            print_record(s, path, IMGCLASS_ERR_IO, error, NULL, 0);
            if (s->stream)
                fflush(stdout);
            free(path);
            free(error);
            continue;
        }
        imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = path};
        if (imgclass_pipeline_submit(p, &in, path, 0, NULL) != IMGCLASS_OK) {
            fprintf(stderr, PROG ": %s\n", imgclass_last_error());
            free(path);
            return -1;
        }
        if (!a->pipeline && ++since_flush == a->batch) {
            imgclass_pipeline_flush(p);
            since_flush = 0;
        }
    }
}

/* ---- setup ------------------------------------------------------------- */

static imgclass_model *load_model(classify_args *a)
{
    return cli_model_open_pp(PROG, a->model_path, a->labels_path, &a->model, &a->pa, &a->pp);
}

/* The pipeline makes its batch tensors up front (two of them, so that one
 * fills while the other runs): --batch 4096 at 224 x 224 would take 4.9 GB
 * before the first image. Refused with the largest batch that fits. */
#define BATCH_MEMORY_LIMIT ((uint64_t)1 << 30)

static int check_batch_memory(const classify_args *a, const imgclass_model *model)
{
    int c, h, w;
    imgclass_model_input_size(model, &c, &h, &w);
    uint64_t per_image = (uint64_t)c * (uint64_t)h * (uint64_t)w * sizeof(float) * 2;
    if (per_image == 0 || (uint64_t)a->batch * per_image <= BATCH_MEMORY_LIMIT)
        return 0;
    fprintf(stderr,
            PROG ": --batch %d needs %llu MiB of batch tensors at %dx%d, over the %llu MiB "
                 "limit; at most --batch %llu\n",
            a->batch, (unsigned long long)(((uint64_t)a->batch * per_image) >> 20), w, h,
            (unsigned long long)(BATCH_MEMORY_LIMIT >> 20),
            (unsigned long long)(BATCH_MEMORY_LIMIT / per_image));
    return -1;
}

static imgclass_pipeline *start_pipeline(const classify_args *a, const imgclass_model *model,
                                         sink *s)
{
    const cli_pipeline_args pa = {.batch = a->batch,
                                  .max_delay_us = a->window_ms > 0 ? (int64_t)a->window_ms * 1000
                                                                   : -1,
                                  .preprocess_threads = a->pp_threads,
                                  .engine_lanes = a->lanes,
                                  .topk = a->topk};
    imgclass_pipeline_options o = cli_pipeline_options(model, &a->pp, &a->decode, &pa, on_result, s);
    imgclass_filter filter = imgclass_filter_default(); /* read by the create */
    filter.score_threshold = a->threshold;
    if (a->list == 'a') {
        filter.allow_indices = a->class_indices;
        filter.allow_index_count = (size_t)a->nclass_indices;
        filter.allow_labels = a->class_labels;
        filter.allow_label_count = (size_t)a->nclass_labels;
    } else if (a->list == 'd') {
        filter.deny_indices = a->class_indices;
        filter.deny_index_count = (size_t)a->nclass_indices;
        filter.deny_labels = a->class_labels;
        filter.deny_label_count = (size_t)a->nclass_labels;
    }
    o.filter = &filter;
    imgclass_pipeline *p = NULL;
    if (imgclass_pipeline_create(model, &o, &p) != IMGCLASS_OK) {
        fprintf(stderr, PROG ": %s\n", imgclass_last_error());
        return NULL;
    }
    return p;
}

static void print_summary(const classify_args *a, const sink *s, const imgclass_pipeline *p,
                          double secs, int64_t end_ns)
{
    char steady[64] = "";
    double after_first = (double)(end_ns - s->first_batch_ns) / 1e9;
    if (s->batches > 1 && after_first > 0)
        snprintf(steady, sizeof steady, ", after the first batch %.1f images/s",
                 (double)(s->done - s->first_batch_done) / after_first);
    fprintf(stderr, "imgclass: %ld images, %ld failed, %.2f s, %.1f images/s%s (batch %d, %s)\n",
            s->done, s->failed, secs, secs > 0 ? (double)s->done / secs : 0.0, steady, a->batch,
            a->pipeline ? "pipelined" : "not pipelined");
    imgclass_pipeline_stats st = {.struct_size = sizeof st};
    if (a->verbose && imgclass_pipeline_stats_get(p, &st) == IMGCLASS_OK)
        fprintf(stderr,
                "imgclass: forward passes %.2f s (%llu, %.1f images each), preprocessing "
                "%.2f s of worker time, latency p50 %.1f ms p99 %.1f ms\n",
                st.forward_sum_us / 1e6, (unsigned long long)st.batches,
                st.batches ? (double)st.batched_images / (double)st.batches : 0.0,
                st.preprocess_sum_us / 1e6, st.latency_p50_us / 1e3, st.latency_p99_us / 1e3);
}

static void free_args(classify_args *a)
{
    free(a->inputs);
    free(a->class_indices);
    free(a->class_labels);
}

int cmd_classify(int argc, char **argv)
{
    classify_args a;
    int pr = parse_args(argc, argv, &a);
    if (pr) {
        free_args(&a);
        return pr > 0 ? 0 : 1;
    }
    imgclass_model *model = load_model(&a);
    if (!model || check_batch_memory(&a, model)) {
        imgclass_model_free(model);
        free_args(&a);
        return 1;
    }
    sink s;
    memset(&s, 0, sizeof s);
    s.args = &a;
    atomic_init(&s.ending, 0);
    atomic_init(&s.write_errno, 0);
    path_source *src = path_source_new(a.inputs, a.ninputs, STDIN_FILENO, a.delim);
    s.stream = path_source_total(src) < 0;
    imgclass_pipeline *p = src ? start_pipeline(&a, model, &s) : NULL;
    int status = 1;
    if (!src)
        fprintf(stderr, PROG ": out of memory\n");
    if (p) {
        progress_start(&s.bar, a.progress, path_source_total(src));
        int64_t t0 = clock_mono_ns();
        int fatal = feed(&a, src, p, &s);
        atomic_store(&s.ending, 1);
        imgclass_pipeline_flush(p);
        int64_t t_end = clock_mono_ns();
        double secs = (double)(t_end - t0) / 1e9;
        progress_finish(&s.bar, s.done, s.failed);
        if (fflush(stdout) != 0 && !atomic_load(&s.write_errno))
            atomic_store(&s.write_errno, errno ? errno : EIO);
        int write_errno = atomic_load(&s.write_errno);
        if (write_errno)
            fprintf(stderr, PROG ": standard output: write failed: %s; the records before it "
                            "are whole, the rest were not written\n",
                    strerror(write_errno));
        else if (fatal)
            fprintf(stderr, PROG ": stopped\n");
        print_summary(&a, &s, p, secs, t_end);
        status = fatal || write_errno ? 1 : s.failed ? 2 : 0;
    }
    imgclass_pipeline_free(p);
    path_source_free(src);
    imgclass_model_free(model);
    free_args(&a);
    return status;
}
