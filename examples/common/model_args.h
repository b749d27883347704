/* How a program opens its models: the flags imgclass classify, bench and
 * info, imgclass-serve and imgclass-watch share, in one struct that
 * cli_model_open() takes. --precision is defined here once (its table
 * entry, parser, message and help); --device and --threads stay in each
 * program's own table, where their short forms differ. */
#ifndef IMGCLASS_CLI_MODEL_ARGS_H
#define IMGCLASS_CLI_MODEL_ARGS_H

#include <imgclass.h>
#include <stdio.h>

#include "cli_args.h"

typedef struct cli_model_args {
    const char *device;           /* --device; NULL: the library's default ("cpu") */
    int threads;                  /* --threads (process-wide); 0: libtorch's default */
    imgclass_precision precision; /* --precision; default float32 */
    int no_cache;                 /* --no-cache: no model cache */
    int warmup_runs;              /* imgclass_model_options.warmup_runs; -1: the
                                   * library's default (not an option) */
} cli_model_args;

/* Device "cpu", threads 0, precision float32, the model cache on, the
 * library's warm-up. */
cli_model_args cli_model_args_init(void);

/* The codes of the shared model options in a getopt_long table. */
enum {
    MODEL_OPT_PRECISION = CLI_CODE_MODEL,
    MODEL_OPT_NO_CACHE,
};

/* The shared model options as `struct option` entries: a program's table
 * lists them beside its own; cli_model_args_option() handles their codes. */
#define MODEL_ARGS_LONG_OPTIONS                                  \
    {"precision", required_argument, NULL, MODEL_OPT_PRECISION}, \
    {"no-cache", no_argument, NULL, MODEL_OPT_NO_CACHE}

/* The model cache's folder the programs use (imgclass_model_options.
 * cache_dir), written to buf: $IMGCLASS_CACHE_DIR when set (empty: no
 * cache), else $XDG_CACHE_HOME/imgclass, else $HOME/.cache/imgclass.
 * NULL with --no-cache, or when none of those is set or the name does not
 * fit. */
const char *cli_model_cache_dir(const cli_model_args *args, char *buf, size_t size);

/* Applies the option with getopt code `code` and value `value`. Returns 1
 * when it is a shared model option, 0 when it is not one (nothing
 * changed), -1 after printing "PROG: bad value 'V' for --precision
 * (float32 or bf16)" to stderr. */
int cli_model_args_option(cli_model_args *args, int code, const char *value, const char *prog);

/* "float32" or "bf16": the name --precision takes. */
const char *cli_precision_name(imgclass_precision precision);
/* The precision named `name` ("float32" or "bf16") into *out: 0, or -1
 * (nothing changed) for any other name. */
int cli_precision_parse(const char *name, imgclass_precision *out);

/* The --precision and --no-cache paragraphs of a program's --help: the
 * options at column `indent`, their text from column `column`, as the
 * program's other lines. */
void cli_model_args_help(FILE *out, int indent, int column);

#endif
