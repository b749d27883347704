/* Command-line parsing of imgclass-serve; see serve_config.h. */
#include "serve_config.h"

#include "cli_args.h"
#include "net_address.h"
#include "pp_options.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "imgclass-serve"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: imgclass-serve --model NAME=PATH[:LABELS] [--model ...] [options]\n\n"
        "An HTTP inference server speaking TorchServe's inference API, with dynamic\n"
        "batching across requests.\n\n"
        "  --model NAME=PATH[:LABELS]  serve the TorchScript model PATH as\n"
        "                        /predictions/NAME (labels: a text file or\n"
        "                        index_to_name.json); repeat for more models\n"
        "  --listen ADDR:PORT    inference API address (default 127.0.0.1:8080);\n"
        "                        another address than loopback exposes the server\n"
        "  --metrics-listen ADDR:PORT  Prometheus /metrics (default 127.0.0.1:8082)\n"
        "  --enable-model-api    serve the management API (TorchServe's GET/POST/DELETE\n"
        "                        /models, KServe v2's /v2/repository): load, swap and\n"
        "                        unload models at run time; off by default\n"
        "  --management-listen ADDR:PORT  management API address (default\n"
        "                        127.0.0.1:8081); whoever reaches it loads files\n"
        "  --model-store DIR     POST /models?url=PATH loads PATH from DIR only (no\n"
        "                        downloads; without DIR, any local file path)\n"
        "  --batch N             images per forward pass (default 8)\n"
        "  --max-batch-delay-ms T  longest wait for a batch to fill (default 5)\n"
        "  --queue N             images waiting per model before 503 (default 4 x batch)\n"
        "  --max-request-bytes B largest request body (default 6553500, TorchServe's)\n"
        "  --max-connections C   open connections at most (default 8192; the open-file\n"
        "                        limit is raised to hold them)\n"
        "  --max-connections-per-client N  open connections per client address (on\n"
        "                        each API address); more are refused (default 256;\n"
        "                        0: no limit)\n"
        "  --timeout-s S         idle connection timeout, and how long SIGTERM waits\n"
        "                        for requests in flight (default 30)\n"
        "  --header-timeout-s S  a connection must send its request headers within S\n"
        "                        seconds, or is closed (default 10; at most --timeout-s)\n"
        "  --token-file FILE     require 'Authorization: Bearer TOKEN' (but on /, /ping\n"
        "                        and the health checks): FILE holds one token, or is\n"
        "                        TorchServe's key_file.json (the inference key for\n"
        "                        --listen, the management key for the management\n"
        "                        API); not readable by every user\n"
        "  --certificate FILE --private-key FILE  serve HTTPS (the inference and\n"
        "                        management APIs) with this PEM certificate (chain)\n"
        "                        and unencrypted PEM key\n"
        "  --threads N           engine (libtorch) threads (default: libtorch's)\n"
        "  --preprocess-threads N  decode/preprocess threads per model (default: auto)\n"
        "  --topk K              classes per answer when ?topk= is absent (default 5)\n"
        "  --device DEV          cpu (default), cuda, cuda:N, for every model\n");
    cli_model_args_help(out, 2, 24);
    fputs("                        (--precision applies to every --model and to a\n"
          "                        register without its own precision=)\n"
          "  --quiet               no request log on stderr\n"
          "  --version, --help\n\n",
          out);
    pp_args_help(out);
}

static int bad(const char *what, const char *value)
{
    fprintf(stderr, PROG ": invalid %s '%s' (see --help)\n", what, value ? value : "");
    return -1;
}

static int parse_model(serve_config *cfg, const char *spec)
{
    if (cfg->num_models >= SERVE_MAX_MODELS) {
        fprintf(stderr, PROG ": at most %d models\n", SERVE_MAX_MODELS);
        return -1;
    }
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return bad("--model (want NAME=PATH[:LABELS])", spec);
    for (const char *p = spec; p < eq; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return bad("model name (letters, digits, '_', '-', '.')", spec);
    serve_model_spec *m = &cfg->models[cfg->num_models];
    const char *path = eq + 1;
    /* The last ':' separates the labels, unless what follows it is empty. */
    const char *colon = strrchr(path, ':');
    m->name = strndup(spec, (size_t)(eq - spec));
    m->path = colon && colon[1] ? strndup(path, (size_t)(colon - path)) : strdup(path);
    m->labels = colon && colon[1] ? strdup(colon + 1) : NULL;
    if (!m->name || !m->path || (colon && colon[1] && !m->labels)) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    for (int i = 0; i < cfg->num_models; i++)
        if (!strcmp(cfg->models[i].name, m->name)) {
            fprintf(stderr, PROG ": model name '%s' given twice\n", m->name);
            free(m->name), free(m->path), free(m->labels);
            memset(m, 0, sizeof *m);
            return -1;
        }
    cfg->num_models++;
    return 0;
}

static int set_string(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy) {
        fprintf(stderr, PROG ": out of memory\n");
        return -1;
    }
    free(*field);
    *field = copy;
    return 0;
}

enum {
    OPT_MODEL = CLI_CODE_LONG,
    OPT_LISTEN,
    OPT_METRICS_LISTEN,
    OPT_BATCH,
    OPT_MAX_BATCH_DELAY_MS,
    OPT_QUEUE,
    OPT_MAX_REQUEST_BYTES,
    OPT_MAX_CONNECTIONS,
    OPT_TIMEOUT_S,
    OPT_THREADS,
    OPT_PREPROCESS_THREADS,
    OPT_TOPK,
    OPT_DEVICE,
    OPT_QUIET,
    OPT_VERSION,
    OPT_ENABLE_MODEL_API,
    OPT_MANAGEMENT_LISTEN,
    OPT_MODEL_STORE,
    OPT_TOKEN_FILE,
    OPT_CERTIFICATE,
    OPT_PRIVATE_KEY,
    OPT_MAX_CONNECTIONS_PER_CLIENT,
    OPT_HEADER_TIMEOUT_S,
};

static const char short_options[] = CLI_SHORT_PREFIX "h";
static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"model", required_argument, NULL, OPT_MODEL},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"max-batch-delay-ms", required_argument, NULL, OPT_MAX_BATCH_DELAY_MS},
    {"queue", required_argument, NULL, OPT_QUEUE},
    {"max-request-bytes", required_argument, NULL, OPT_MAX_REQUEST_BYTES},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"timeout-s", required_argument, NULL, OPT_TIMEOUT_S},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"preprocess-threads", required_argument, NULL, OPT_PREPROCESS_THREADS},
    {"topk", required_argument, NULL, OPT_TOPK},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"enable-model-api", no_argument, NULL, OPT_ENABLE_MODEL_API},
    {"management-listen", required_argument, NULL, OPT_MANAGEMENT_LISTEN},
    {"model-store", required_argument, NULL, OPT_MODEL_STORE},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"certificate", required_argument, NULL, OPT_CERTIFICATE},
    {"private-key", required_argument, NULL, OPT_PRIVATE_KEY},
    {"max-connections-per-client", required_argument, NULL, OPT_MAX_CONNECTIONS_PER_CLIENT},
    {"header-timeout-s", required_argument, NULL, OPT_HEADER_TIMEOUT_S},
    MODEL_ARGS_LONG_OPTIONS,
    PP_ARGS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

int serve_config_parse(serve_config *cfg, int argc, char **argv)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->batch = 8;
    cfg->max_batch_delay_ms = 5;
    cfg->max_request_bytes = 6553500; /* TorchServe's max_request_size */
    cfg->max_connections = 8192;
    cfg->max_connections_per_client = 256;
    cfg->timeout_s = 30;
    cfg->header_timeout_s = 10;
    cfg->default_topk = 5;
    cfg->model = cli_model_args_init();
    if (set_string(&cfg->listen, "127.0.0.1:8080") ||
        set_string(&cfg->metrics_listen, "127.0.0.1:8082") ||
        set_string(&cfg->management_listen, "127.0.0.1:8081"))
        return -1;
    pp_args pp = pp_args_init();
    cli_getopt_begin();
    int c;
    while ((c = cli_getopt(argc, argv, short_options, long_options, PROG)) != CLI_END) {
        const char *v = optarg;
        if (c == CLI_ERROR)
            return -1;
        int r = pp_args_option(&pp, c, v, PROG);
        if (r == 0)
            r = cli_model_args_option(&cfg->model, c, v, PROG);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (c == CLI_OPERAND) {
            fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", v);
            return -1;
        } else if (c == 'h') {
            usage(stdout);
            return 1;
        } else if (c == OPT_VERSION) {
            printf("imgclass-serve %s (%s)\n", imgclass_version(), imgclass_engine_version());
            return 1;
        } else if (c == OPT_QUIET) {
            cfg->quiet = 1;
        } else if (c == OPT_MODEL) {
            if (parse_model(cfg, v))
                return -1;
        } else if (c == OPT_LISTEN) {
            struct sockaddr_storage ss;
            size_t len;
            if (net_parse_address(v, &ss, &len))
                return bad("--listen (want ADDR:PORT, numeric)", v);
            if (set_string(&cfg->listen, v))
                return -1;
        } else if (c == OPT_METRICS_LISTEN) {
            struct sockaddr_storage ss;
            size_t len;
            if (net_parse_address(v, &ss, &len))
                return bad("--metrics-listen (want ADDR:PORT, numeric)", v);
            if (set_string(&cfg->metrics_listen, v))
                return -1;
        } else if (c == OPT_ENABLE_MODEL_API) {
            cfg->enable_model_api = 1;
        } else if (c == OPT_MANAGEMENT_LISTEN) {
            struct sockaddr_storage ss;
            size_t len;
            if (net_parse_address(v, &ss, &len))
                return bad("--management-listen (want ADDR:PORT, numeric)", v);
            if (set_string(&cfg->management_listen, v))
                return -1;
        } else if (c == OPT_MODEL_STORE) {
            struct stat st;
            if (stat(v, &st) || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, PROG ": --model-store '%s': %s\n", v,
                        access(v, F_OK) ? strerror(errno) : "not a directory");
                return -1;
            }
            if (set_string(&cfg->model_store, v))
                return -1;
        } else if (c == OPT_BATCH) {
            if (cli_int_option(PROG, long_options, c, v, 1, 1024, &cfg->batch))
                return -1;
        } else if (c == OPT_MAX_BATCH_DELAY_MS) {
            if (cli_int_option(PROG, long_options, c, v, 0, 60000, &cfg->max_batch_delay_ms))
                return -1;
        } else if (c == OPT_QUEUE) {
            if (cli_int_option(PROG, long_options, c, v, 1, 1 << 20, &cfg->queue))
                return -1;
        } else if (c == OPT_MAX_REQUEST_BYTES) {
            char *end;
            errno = 0;
            unsigned long long b = strtoull(v, &end, 10);
            if (errno || *end || b < 1 || b > (1ull << 32) || v[0] == '-')
                return bad("--max-request-bytes (1-4294967296)", v);
            cfg->max_request_bytes = b;
        } else if (c == OPT_MAX_CONNECTIONS) {
            if (cli_int_option(PROG, long_options, c, v, 1, 1 << 20, &cfg->max_connections))
                return -1;
        } else if (c == OPT_TIMEOUT_S) {
            if (cli_int_option(PROG, long_options, c, v, 1, 86400, &cfg->timeout_s))
                return -1;
        } else if (c == OPT_THREADS) {
            if (cli_int_option(PROG, long_options, c, v, 1, 1024, &cfg->model.threads))
                return -1;
        } else if (c == OPT_PREPROCESS_THREADS) {
            if (cli_int_option(PROG, long_options, c, v, 1, 1024, &cfg->preprocess_threads))
                return -1;
        } else if (c == OPT_TOPK) {
            if (cli_int_option(PROG, long_options, c, v, 1, 100000, &cfg->default_topk))
                return -1;
        } else if (c == OPT_DEVICE) {
            cfg->model.device = v;
        } else if (c == OPT_TOKEN_FILE) {
            if (set_string(&cfg->token_file, v))
                return -1;
        } else if (c == OPT_CERTIFICATE) {
            if (set_string(&cfg->certificate, v))
                return -1;
        } else if (c == OPT_PRIVATE_KEY) {
            if (set_string(&cfg->private_key, v))
                return -1;
        } else if (c == OPT_MAX_CONNECTIONS_PER_CLIENT) {
            if (cli_int_option(PROG, long_options, c, v, 0, 1 << 20,
                               &cfg->max_connections_per_client))
                return -1;
        } else if (c == OPT_HEADER_TIMEOUT_S) {
            if (cli_int_option(PROG, long_options, c, v, 1, 86400, &cfg->header_timeout_s))
                return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    /* With the model API, models can all come later (POST /models). */
    if (cfg->num_models == 0 && !cfg->enable_model_api) {
        fprintf(stderr, PROG ": no --model NAME=PATH given (see --help)\n");
        return -1;
    }
    if (!cfg->certificate != !cfg->private_key) {
        fprintf(stderr, PROG ": %s given without %s (HTTPS needs both)\n",
                cfg->certificate ? "--certificate" : "--private-key",
                cfg->certificate ? "--private-key" : "--certificate");
        return -1;
    }
    /* Each model's preprocessing is settled when it is loaded: its recipe
     * (or the --preset) with these options on top (served_models.c). */
    cfg->pp = pp;
    cfg->decode = pp_args_decode(&pp);
    if (cfg->queue == 0)
        cfg->queue = 4 * cfg->batch;
    return 0;
}

void serve_config_free(serve_config *cfg)
{
    if (!cfg)
        return;
    for (int i = 0; i < cfg->num_models; i++) {
        free(cfg->models[i].name);
        free(cfg->models[i].path);
        free(cfg->models[i].labels);
    }
    free(cfg->listen);
    free(cfg->metrics_listen);
    free(cfg->management_listen);
    free(cfg->model_store);
    free(cfg->token_file);
    free(cfg->certificate);
    free(cfg->private_key);
    memset(cfg, 0, sizeof *cfg);
}
