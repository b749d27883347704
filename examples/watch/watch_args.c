/* Parsing of imgclass-watch's command line. */
#include "watch_args.h"

#include "cli_args.h"
#include "net_address.h"
#include "pp_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
            "      --device DEV       cpu (default), cuda, cuda:N\n",
            DEFAULT_BATCH, DEFAULT_WINDOW_MS, DEFAULT_ROLL_SECONDS, DEFAULT_ROLL_RECORDS);
    cli_model_args_help(out, 6, 25);
    fprintf(out,
            "      --poll             poll the folder instead of using inotify\n"
            "      --poll-ms T        polling interval (default %d)\n"
            "      --stats S          print throughput and queue depth every S seconds\n"
            "      --metrics-listen ADDR:PORT  serve Prometheus metrics at GET /metrics\n"
            "                         there (numeric; port 0: any free port; default: none;\n"
            "                         a loopback address such as 127.0.0.1:9108 keeps it\n"
            "                         local)\n"
            "      --compact-bytes N  compact the journal once it exceeds N bytes and twice\n"
            "                         its last compacted size (default 4194304)\n\n",
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

enum {
    OPT_STATE = CLI_CODE_LONG,
    OPT_DEVICE,
    OPT_FORMAT,
    OPT_PARTITION,
    OPT_ROLL_SECONDS,
    OPT_ROLL_RECORDS,
    OPT_PP_THREADS,
    OPT_POLL_MS,
    OPT_STATS,
    OPT_COMPACT_BYTES,
    OPT_METRICS_LISTEN,
    OPT_GZIP,
    OPT_ONCE,
    OPT_POLL,
    OPT_VERSION,
};

static const char short_options[] = CLI_SHORT_PREFIX "hm:l:i:o:b:w:k:t:";
static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"model", required_argument, NULL, 'm'},
    {"labels", required_argument, NULL, 'l'},
    {"input", required_argument, NULL, 'i'},
    {"output", required_argument, NULL, 'o'},
    {"batch", required_argument, NULL, 'b'},
    {"window-ms", required_argument, NULL, 'w'},
    {"roll-seconds", required_argument, NULL, OPT_ROLL_SECONDS},
    {"roll-records", required_argument, NULL, OPT_ROLL_RECORDS},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"gzip", no_argument, NULL, OPT_GZIP},
    {"partition", required_argument, NULL, OPT_PARTITION},
    {"once", no_argument, NULL, OPT_ONCE},
    {"state", required_argument, NULL, OPT_STATE},
    {"topk", required_argument, NULL, 'k'},
    {"threads", required_argument, NULL, 't'},
    {"preprocess-threads", required_argument, NULL, OPT_PP_THREADS},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"poll", no_argument, NULL, OPT_POLL},
    {"poll-ms", required_argument, NULL, OPT_POLL_MS},
    {"stats", required_argument, NULL, OPT_STATS},
    {"compact-bytes", required_argument, NULL, OPT_COMPACT_BYTES},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    PP_ARGS_LONG_OPTIONS,
    MODEL_ARGS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

/* An integer option's value in lo..hi; 0, or -1 after the message. */
static int int_value(int code, const char *v, int lo, int hi, int *out)
{
    return cli_int_option(WATCH_PROG, long_options, code, v, lo, hi, out);
}

/* Applies one option (not a preprocessing one); 0, or -1 after a message.
 * Integers that are not int in watch_args go through *roll_records and
 * *compact. */
static int apply_option(watch_args *a, int c, const char *v, int *roll_records, int *compact)
{
    switch (c) {
    case 'm': a->model_path = v; return 0;
    case 'l': a->labels_path = v; return 0;
    case 'i': a->input = v; return 0;
    case 'o': a->output = v; return 0;
    case OPT_STATE: a->state = v; return 0;
    case OPT_DEVICE: a->model.device = v; return 0;
    case OPT_GZIP: a->gzip = 1; return 0;
    case OPT_ONCE: a->once = 1; return 0;
    case OPT_POLL: a->mode = WATCH_POLL; return 0;
    case OPT_FORMAT:
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
        return 0;
    case OPT_PARTITION:
        if (!strcmp(v, "processing"))
            a->partition_mtime = 0;
        else if (!strcmp(v, "mtime"))
            a->partition_mtime = 1;
        else {
            fprintf(stderr, WATCH_PROG ": bad --partition '%s' (processing or mtime)\n", v);
            return -1;
        }
        return 0;
    case 'b': return int_value(c, v, 1, 4096, &a->batch);
    case 'w': return int_value(c, v, 0, 86400000, &a->window_ms);
    case OPT_ROLL_SECONDS: return int_value(c, v, 0, 86400 * 366, &a->roll_seconds);
    case OPT_ROLL_RECORDS: return int_value(c, v, 0, 1 << 30, roll_records);
    case 'k': return int_value(c, v, 1, 100000, &a->topk);
    case 't': return int_value(c, v, 1, 1024, &a->model.threads);
    case OPT_PP_THREADS: return int_value(c, v, 0, 1024, &a->pp_threads);
    case OPT_POLL_MS: return int_value(c, v, 1, 86400000, &a->poll_ms);
    case OPT_STATS: return int_value(c, v, 1, 86400, &a->stats_seconds);
    case OPT_COMPACT_BYTES: return int_value(c, v, 1, 1 << 30, compact);
    case OPT_METRICS_LISTEN: {
        struct sockaddr_storage ss;
        size_t len;
        if (net_parse_address(v, &ss, &len)) {
            fprintf(stderr, WATCH_PROG ": bad --metrics-listen '%s' (want ADDR:PORT, numeric)\n",
                    v);
            return -1;
        }
        a->metrics_listen = v;
        return 0;
    }
    }
    return -1; /* not reached: every code of the table is handled */
}

int watch_args_parse(int argc, char **argv, watch_args *a)
{
    pp_args pa = pp_args_init();
    memset(a, 0, sizeof *a);
    a->model = cli_model_args_init();
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
    cli_getopt_begin();
    int c;
    while ((c = cli_getopt(argc, argv, short_options, long_options, WATCH_PROG)) != CLI_END) {
        if (c == CLI_ERROR)
            return -1;
        if (c == CLI_OPERAND) {
            /* The folder is --input: an operand is a mistake. */
            fprintf(stderr, WATCH_PROG ": unknown option '%s' (see --help)\n", optarg);
            return -1;
        }
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c == OPT_VERSION) {
            printf("imgclass-watch %s (library %s)\n", IMGCLASS_VERSION, imgclass_version());
            return 1;
        }
        int r = pp_args_option(&pa, c, optarg, WATCH_PROG);
        if (r == 0)
            r = cli_model_args_option(&a->model, c, optarg, WATCH_PROG);
        if (r < 0 || (r == 0 && apply_option(a, c, optarg, &roll_records, &compact)))
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, WATCH_PROG ": unknown option '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    a->roll_records = roll_records;
    a->compact_bytes = (uint64_t)compact;
    if (!a->model_path || !a->input || !a->output) {
        fprintf(stderr, WATCH_PROG ": --model, --input and --output are required (see --help)\n");
        return -1;
    }
    a->decode = pp_args_decode(&pa);
    a->pa = pa; /* settled on the model's recipe when it is loaded (main.c) */
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
