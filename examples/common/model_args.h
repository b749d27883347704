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
} cli_model_args;

/* Device "cpu", threads 0, precision float32. */
cli_model_args cli_model_args_init(void);

/* The codes of the shared model options in a getopt_long table. */
enum {
    MODEL_OPT_PRECISION = CLI_CODE_MODEL,
};

/* The shared model options as `struct option` entries: a program's table
 * lists them beside its own; cli_model_args_option() handles their codes. */
#define MODEL_ARGS_LONG_OPTIONS {"precision", required_argument, NULL, MODEL_OPT_PRECISION}

/* Applies the option with getopt code `code` and value `value`. Returns 1
 * when it is a shared model option, 0 when it is not one (nothing
 * changed), -1 after printing "PROG: bad value 'V' for --precision
 * (float32 or bf16)" to stderr. */
int cli_model_args_option(cli_model_args *args, int code, const char *value, const char *prog);

/* "float32" or "bf16": the name --precision takes. */
const char *cli_precision_name(imgclass_precision precision);

/* The --precision paragraph of a program's --help: the option at column
 * `indent`, its text from column `column`, as the program's other lines. */
void cli_model_args_help(FILE *out, int indent, int column);

#endif
