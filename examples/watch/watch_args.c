/* Parsing of imgclass-watch's command line. */
#include "watch_args.h"

#include "cli_args.h"
#include "pp_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BATCH 8
#define DEFAULT_WINDOW_MS 100
#define DEFAULT_ROLL_SECONDS 60
#define DEFAULT_ROLL_RECORDS 10000
#define DEFAULT_POLL_MS 1000
#define STATE_NAME "_imgclass_watch_state"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: imgclass-watch --model M.pt [--labels L] --input DIR --output DIR [OPTIONS]\n\n"
            "Classifies every image under DIR (recursively), then each new one as it\n"
            "arrives, into date-partitioned part files OUTPUT/dt=YYYY-MM-DD/hour=HH/part-*.\n"
            "Each input is written exactly once, also across crashes (see --state).\n\n"
            "  -m, --model PATH       TorchScript model (plain or gzip) (required)\n"
            "  -l, --labels PATH      labels (one per line, or index_to_name.json)\n"
            "  -i, --input DIR        folder to watch (required)\n"
            "  -o, --output DIR       folder of the partitions (required; created)\n"
            "  -b, --batch N          images per forward pass (default %d)\n"
            "  -w, --window-ms T      cut a batch T ms after its first image is ready\n"
            "                         (default %d)\n"
            "      --roll-seconds S   finalize a part S seconds after it was opened\n"
            "                         (default %d; 0: never by time)\n"
            "      --roll-records R   finalize a part at R records (default %d; 0: never)\n"
            "      --format F         jsonl (default): {\"path\", \"time\", \"top\": [{\"index\",\n"
            "                         \"label\", \"probability\"}]} or {\"path\", \"time\", \"error\"};\n"
            "                         text: PATH: CLASS: PROB per class, the original job's\n"
            "                         lines; tsv: TIME PATH INDEX LABEL PROB (top-1)\n"
            "      --gzip             each part is one gzip member (.gz; zcat reads it)\n"
            "      --partition P      processing (default: the time of the result) or\n"
            "                         mtime (the input file's modification time)\n"
            "      --once             take what is under DIR now, write it, exit\n"
            "      --state DIR        journal of committed inputs (default\n"
            "                         OUTPUT/" STATE_NAME ")\n"
            "  -k, --topk K           classes per input (default 1)\n"
            "  -t, --threads N        engine (libtorch) threads (default: libtorch's)\n"
            "      --preprocess-threads N  decode/preprocess threads (default: the pipeline's)\n"
            "      --device DEV       cpu (default), cuda, cuda:N\n"
            "      --poll             poll the folder instead of using inotify\n"
            "      --poll-ms T        polling interval (default %d)\n"
            "      --stats S          print throughput and queue depth every S seconds\n"
            "      --compact-bytes N  compact the journal once it exceeds N bytes and twice\n"
            "                         its last compacted size (default 4194304)\n\n",
            DEFAULT_BATCH, DEFAULT_WINDOW_MS, DEFAULT_ROLL_SECONDS, DEFAULT_ROLL_RECORDS,
            DEFAULT_POLL_MS);
    pp_args_help(out);
    fputs("\nInputs: files closed after writing or renamed into place; names starting\n"
          "with '.' and ending in .tmp are ignored. A file rewritten under the same path\n"
          "is a new input. Signals: TERM/INT finish the batch, finalize the parts, exit\n"
          "0; HUP finalizes the open parts now. One line per finalized part on stderr.\n"
          "Exit status: 0 done; 1 usage or fatal error (nothing committed is lost);\n"
          "with --once, 2 when some inputs got error records.\n",
          out);
}

int watch_args_parse(int argc, char **argv, watch_args *a)
{
    pp_args pa = pp_args_init();
    memset(a, 0, sizeof *a);
    a->device = "cpu";
    a->batch = DEFAULT_BATCH;
    a->window_ms = DEFAULT_WINDOW_MS;
    a->roll_seconds = DEFAULT_ROLL_SECONDS;
    a->roll_records = DEFAULT_ROLL_RECORDS;
    a->topk = 1;
    a->format = OUT_JSON;
    a->mode = WATCH_INOTIFY;
    a->poll_ms = DEFAULT_POLL_MS;
    a->compact_bytes = 4u << 20;
    int roll_records = DEFAULT_ROLL_RECORDS, compact = 4 << 20;
    for (int i = 1; i < argc;) {
        const char *arg = argv[i], *v;
        int m;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(arg, "--version")) {
            printf("imgclass-watch %s (library %s)\n", IMGCLASS_VERSION, imgclass_version());
            return 1;
        }
        int r = pp_args_parse(&pa, argc, argv, &i, WATCH_PROG);
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
        FLAG("--gzip", a->gzip = 1)
        FLAG("--once", a->once = 1)
        FLAG("--poll", a->mode = WATCH_POLL)
#undef FLAG
#define VALUE(lng, shrt, stmt)                                                               \
    v = cli_option_value(argc, argv, &i, lng, shrt, &m, WATCH_PROG);                         \
    if (m) {                                                                                 \
        if (!v)                                                                              \
            return -1;                                                                       \
        stmt;                                                                                \
        continue;                                                                            \
    }
#define INT(lng, shrt, var, lo, hi)                                                          \
    VALUE(lng, shrt, if (cli_parse_int(v, lo, hi, &(var))) {                                 \
        fprintf(stderr, WATCH_PROG ": bad value '%s' for %s (%d..%d)\n", v, lng, lo, hi);    \
        return -1;                                                                           \
    })
        VALUE("--model", "-m", a->model_path = v)
        VALUE("--labels", "-l", a->labels_path = v)
        VALUE("--input", "-i", a->input = v)
        VALUE("--output", "-o", a->output = v)
        VALUE("--state", NULL, a->state = v)
        VALUE("--device", NULL, a->device = v)
        VALUE("--format", NULL, {
            if (!strcmp(v, "jsonl") || !strcmp(v, "json"))
                a->format = OUT_JSON;
            else if (!strcmp(v, "text"))
                a->format = OUT_TEXT;
            else if (!strcmp(v, "tsv"))
                a->format = OUT_TSV;
            else {
                fprintf(stderr, WATCH_PROG ": bad --format '%s' (jsonl, text or tsv)\n", v);
                return -1;
            }
        })
        VALUE("--partition", NULL, {
            if (!strcmp(v, "processing"))
                a->partition_mtime = 0;
            else if (!strcmp(v, "mtime"))
                a->partition_mtime = 1;
            else {
                fprintf(stderr, WATCH_PROG ": bad --partition '%s' (processing or mtime)\n", v);
                return -1;
            }
        })
        INT("--batch", "-b", a->batch, 1, 4096)
        INT("--window-ms", "-w", a->window_ms, 0, 86400000)
        INT("--roll-seconds", NULL, a->roll_seconds, 0, 86400 * 366)
        INT("--roll-records", NULL, roll_records, 0, 1 << 30)
        INT("--topk", "-k", a->topk, 1, 100000)
        INT("--threads", "-t", a->threads, 1, 1024)
        INT("--preprocess-threads", NULL, a->pp_threads, 0, 1024)
        INT("--poll-ms", NULL, a->poll_ms, 1, 86400000)
        INT("--stats", NULL, a->stats_seconds, 1, 86400)
        INT("--compact-bytes", NULL, compact, 1, 1 << 30)
#undef INT
#undef VALUE
        fprintf(stderr, WATCH_PROG ": unknown option '%s' (see --help)\n", arg);
        return -1;
    }
    a->roll_records = roll_records;
    a->compact_bytes = (uint64_t)compact;
    if (!a->model_path || !a->input || !a->output) {
        fprintf(stderr, WATCH_PROG ": --model, --input and --output are required (see --help)\n");
        return -1;
    }
    a->decode = pp_args_decode(&pa);
    if (pp_args_finish(&pa, &a->pp, WATCH_PROG))
        return -1;
    if (!a->state) {
        size_t n = strlen(a->output) + sizeof STATE_NAME + 1;
        if (!(a->state_owned = malloc(n))) {
            fprintf(stderr, WATCH_PROG ": out of memory\n");
            return -1;
        }
        snprintf(a->state_owned, n, "%s/%s", a->output, STATE_NAME);
        a->state = a->state_owned;
    }
    if (a->once)
        a->mode = WATCH_NONE;
    /* Input keys and record paths are the folder as given joined with the
     * path below it: "in/" and "in" must give the same ones. */
    size_t n = strlen(a->input);
    while (n > 1 && a->input[n - 1] == '/')
        n--;
    if (!(a->input_owned = strndup(a->input, n))) {
        fprintf(stderr, WATCH_PROG ": out of memory\n");
        return -1;
    }
    a->input = a->input_owned;
    return 0;
}

void watch_args_free(watch_args *a)
{
    free(a->state_owned);
    free(a->input_owned);
    a->state_owned = a->input_owned = NULL;
}
