/* imgclass-serve's command line: what to serve, where, and the limits. */
#ifndef IMGCLASS_SERVE_CONFIG_H
#define IMGCLASS_SERVE_CONFIG_H

#include <imgclass.h>

#include "model_args.h"
#include "pp_options.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SERVE_MAX_MODELS 16
#define SERVE_MODEL_VERSION "1.0" /* TorchServe's default modelVersion */

typedef struct serve_model_spec {
    char *name;   /* the {name} of /predictions/{name} */
    char *path;   /* TorchScript file */
    char *labels; /* labels file, or NULL */
} serve_model_spec;

typedef struct serve_config {
    serve_model_spec models[SERVE_MAX_MODELS];
    int num_models;
    char *listen;          /* "ADDR:PORT" of the inference API */
    char *metrics_listen;  /* "ADDR:PORT" of /metrics */
    int batch;             /* --batch: images per forward pass */
    int max_batch_delay_ms;
    int queue;             /* --queue: images accepted and not yet answered, per model */
    uint64_t max_request_bytes;
    int max_connections;
    int timeout_s;         /* idle connection timeout, and the shutdown grace period */
    cli_model_args model;  /* --device, --threads (0: the library's default),
                            * --precision: the same for every model */
    int preprocess_threads;
    int default_topk;
    pp_args pp;    /* the preprocessing options given, applied to each model's recipe */
    imgclass_decode_options decode; /* --exif-transpose */
    int quiet;             /* no request log */
    int enable_model_api;  /* --enable-model-api: the management API listens */
    char *management_listen; /* "ADDR:PORT" of the management API */
    char *model_store;     /* --model-store DIR, or NULL: where POST /models?url= looks */
    /* Tokens, TLS and abuse limits (README.md, "Security"). */
    char *token_file;      /* --token-file, or NULL: no tokens */
    char *certificate;     /* --certificate (PEM), or NULL: plain HTTP */
    char *private_key;     /* --private-key (PEM), with --certificate */
    int max_connections_per_client; /* 0: no limit */
    int header_timeout_s;  /* request headers due within this of connecting */
} serve_config;

/* Parses argv. Returns 0 when the server should run, 1 when it should exit
 * 0 at once (--help, --version, already printed), -1 after printing
 * "imgclass-serve: reason" to stderr. */
int serve_config_parse(serve_config *cfg, int argc, char **argv);
void serve_config_free(serve_config *cfg);

#endif
