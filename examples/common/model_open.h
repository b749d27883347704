/* Opening a model the same way in every subcommand and example program. */
#ifndef IMGCLASS_CLI_MODEL_OPEN_H
#define IMGCLASS_CLI_MODEL_OPEN_H

#include <imgclass.h>
#include <stdint.h>

#include "model_args.h"
#include "pp_options.h"

/* Sets the engine's thread count (ma->threads > 0), loads the model at
 * `path` for height x width inputs with the device and precision of `ma`
 * (NULL: cli_model_args_init()'s defaults), then its labels (labels_path
 * may be NULL). On failure prints "PROG: message" to stderr and returns
 * NULL (precision bf16 on a CPU without it: the library's refusal). */
imgclass_model *cli_model_open(const char *prog, const char *path, const char *labels_path,
                               const cli_model_args *ma, int height, int width);

/* Opens the model and settles its preprocessing: the --preset when given,
 * else the model's recipe (imgclass.json) when it carries one, else the
 * imagenet preset, with the other options of `pa` on top, into *pp. The
 * model runs at the size those options produce (reloaded once when only
 * the model could tell it and the options then changed it). On failure
 * prints "PROG: message" and returns NULL. */
imgclass_model *cli_model_open_pp(const char *prog, const char *path, const char *labels_path,
                                  const cli_model_args *ma, const pp_args *pa,
                                  imgclass_preprocess_options *pp);
/* The pipeline flags the programs share (--batch, the batch deadline
 * --window-ms / --max-batch-delay-ms, --preprocess-threads, --queue,
 * --topk). */
typedef struct cli_pipeline_args {
    int batch;
    int64_t max_delay_us;   /* -1: no deadline */
    int preprocess_threads; /* 0: the library's choice */
    int engine_lanes;       /* 0: the library's choice */
    int queue;              /* 0: the library's default */
    int topk;
} cli_pipeline_args;

/* The one builder of a program's pipeline options: the defaults with `pp`,
 * the preprocessing cli_model_open_pp() settled, `decode` (NULL: the
 * defaults), the shared flags and the callback. The options point at `pp`
 * and `decode`, which must live until imgclass_pipeline_create(). The
 * caller sets what only it has (filter, ordered). */
imgclass_pipeline_options cli_pipeline_options(const imgclass_model *model,
                                               const imgclass_preprocess_options *pp,
                                               const imgclass_decode_options *decode,
                                               const cli_pipeline_args *args,
                                               imgclass_result_fn on_result, void *ctx);

/* "PROG: MODEL: preprocess <flags> (<origin>)" on stderr: what a program
 * feeds the model, and where it comes from. */
void cli_print_preprocess(const char *prog, const char *model_name, const imgclass_model *model,
                          const pp_args *args, const imgclass_preprocess_options *pp);

/* The optimisation flags cli_model_open() asks for (the library's default). */
unsigned cli_model_optimize_asked(void);

/* IMGCLASS_QENGINE in the environment ("onednn", "qnnpack") sets the
 * quantized engine of int8 models (imgclass_model_options.qengine). */

#endif
