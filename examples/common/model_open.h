/* Opening a model the same way in every subcommand and example program. */
#ifndef IMGCLASS_CLI_MODEL_OPEN_H
#define IMGCLASS_CLI_MODEL_OPEN_H

#include <imgclass.h>

#include "pp_options.h"

/* Sets the engine's thread count (threads > 0), loads the model at `path`
 * for height x width inputs on `device` (NULL: the default), then its
 * labels (labels_path may be NULL). On failure prints "PROG: message" to
 * stderr and returns NULL. */
imgclass_model *cli_model_open(const char *prog, const char *path, const char *labels_path,
                               const char *device, int threads, int height, int width);

/* Opens the model and settles its preprocessing: the --preset when given,
 * else the model's recipe (imgclass.json) when it carries one, else the
 * imagenet preset, with the other options of `pa` on top, into *pp. The
 * model runs at the size those options produce (reloaded once when only
 * the model could tell it and the options then changed it). On failure
 * prints "PROG: message" and returns NULL. */
imgclass_model *cli_model_open_pp(const char *prog, const char *path, const char *labels_path,
                                  const char *device, int threads, const pp_args *pa,
                                  imgclass_preprocess_options *pp);
/* The optimisation flags cli_model_open() asks for (the library's default). */
unsigned cli_model_optimize_asked(void);

/* IMGCLASS_QENGINE in the environment ("onednn", "qnnpack") sets the
 * quantized engine of int8 models (imgclass_model_options.qengine). */

#endif
