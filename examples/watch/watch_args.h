/* imgclass-watch's command line. */
#ifndef IMGCLASS_WATCH_ARGS_H
#define IMGCLASS_WATCH_ARGS_H

#include "input_watch.h"
#include "model_args.h"
#include "pp_options.h"
#include "result_output.h"

#include <imgclass.h>
#include <stdint.h>

typedef struct watch_args {
    const char *model_path, *labels_path;
    cli_model_args model; /* --device, --threads, --precision */
    const char *input, *output, *state;
    int batch, window_ms, topk, pp_threads;
    int roll_seconds;
    long roll_records;
    out_format format;
    int gzip;
    int partition_mtime; /* 0: processing time */
    int once;
    watch_mode mode;
    int poll_ms;
    int stats_seconds; /* 0: no --stats */
    const char *metrics_listen; /* --metrics-listen ADDR:PORT, or NULL: no /metrics */
    uint64_t compact_bytes;
    pp_args pa; /* the preprocessing options given, applied to the model's recipe */
    imgclass_decode_options decode; /* --exif-transpose */
    char *state_owned; /* the default state folder, when --state is absent */
    char *input_owned; /* --input without trailing slashes */
} watch_args;

#define WATCH_PROG "imgclass-watch"

/* 0: run; 1: --help or --version was printed; -1: usage error (printed). */
int watch_args_parse(int argc, char **argv, watch_args *a);
void watch_args_free(watch_args *a);

#endif
