/* Command-line options that choose the preprocessing recipe, shared by the
 * subcommands that preprocess (classify, bench, preprocess):
 *   --preset imagenet|djl|torchvision:Weights.NAME
 *   --resize-mode shorter|exact|none  --size N|WxH
 *   --crop N|WxH|none  --interpolation bilinear|bicubic  --mean R,G,B
 *   --std R,G,B  --fast  --exif-transpose
 * The preset is the base whatever its position; the other options override
 * it field by field, so "--crop 200 --preset djl" means djl with a 200 crop.
 * Without --preset the base is the model's recipe when it carries one
 * (pp_args_finish_base), else the imagenet preset. */
#ifndef IMGCLASS_CLI_PP_OPTIONS_H
#define IMGCLASS_CLI_PP_OPTIONS_H

#include <imgclass.h>
#include <stdio.h>

#include "cli_args.h"
#include "torchvision_presets.h"

typedef struct pp_args {
    int have_preset; /* --preset given: it, not the model's recipe, is the base */
    int preset_djl;  /* 0: imagenet (torchvision's recipe), 1: djl */
    const tv_preset *tv; /* --preset torchvision:NAME, else NULL */
    int have_mode, mode;
    int have_size, size, size_w, size_h, size_is_wh;
    int have_crop, crop_w, crop_h;
    int have_interp, interp;
    int have_mean, have_std;
    float mean[3], std[3];
    int fast;
    int exif_transpose; /* --exif-transpose: a decode option, see pp_args_decode() */
} pp_args;

/* A zeroed pp_args (the imagenet preset, nothing overridden). */
pp_args pp_args_init(void);

/* The codes of the preprocessing options in a getopt_long table. */
enum {
    PP_OPT_PRESET = CLI_CODE_PP,
    PP_OPT_RESIZE_MODE,
    PP_OPT_SIZE,
    PP_OPT_CROP,
    PP_OPT_INTERPOLATION,
    PP_OPT_MEAN,
    PP_OPT_STD,
    PP_OPT_FAST,
    PP_OPT_EXIF_TRANSPOSE,
};

/* The preprocessing options as `struct option` entries: a program's table
 * lists its own options, then PP_ARGS_LONG_OPTIONS, then the zeroed end;
 * pp_args_option() handles the codes they return. */
#define PP_ARGS_LONG_OPTIONS                                                                 \
    {"preset", required_argument, NULL, PP_OPT_PRESET},                                     \
    {"resize-mode", required_argument, NULL, PP_OPT_RESIZE_MODE},                           \
    {"size", required_argument, NULL, PP_OPT_SIZE},                                         \
    {"crop", required_argument, NULL, PP_OPT_CROP},                                         \
    {"interpolation", required_argument, NULL, PP_OPT_INTERPOLATION},                       \
    {"mean", required_argument, NULL, PP_OPT_MEAN},                                         \
    {"std", required_argument, NULL, PP_OPT_STD},                                           \
    {"fast", no_argument, NULL, PP_OPT_FAST},                                               \
    {"exif-transpose", no_argument, NULL, PP_OPT_EXIF_TRANSPOSE}

/* Applies the option with getopt code `code` and value `value` (NULL for
 * the flags). Returns 1 when it is a preprocessing option, 0 when it is
 * not one (nothing changed), -1 after printing "PROG: reason" to stderr
 * when its value is bad. */
int pp_args_option(pp_args *args, int code, const char *value, const char *prog);

/* Builds the options: preset first, then the overrides. Returns 0, or -1
 * after printing the reason when they are inconsistent. */
int pp_args_finish(const pp_args *args, imgclass_preprocess_options *out, const char *prog);

/* The decode options these arguments ask for (--exif-transpose) on top of
 * imgclass_decode_options_default(). */
imgclass_decode_options pp_args_decode(const pp_args *args);

/* As pp_args_finish(), on `base` (the model's own preprocessing) unless a
 * --preset was given; base NULL means the imagenet preset. */
int pp_args_finish_base(const pp_args *args, const imgclass_preprocess_options *base,
                        imgclass_preprocess_options *out, const char *prog);

/* 1 and the output size when the options given fix it whatever the base
 * (a --preset, a crop, or an exact resize without crop), else 0. */
int pp_args_known_size(const pp_args *args, int *height, int *width);

/* The fixed output height and width of these options (the model's input),
 * or -1 with a message when it depends on the image (e.g. shorter-side
 * resize without a crop), which a batch cannot hold. */
int pp_fixed_output_size(const imgclass_preprocess_options *o, int *height, int *width,
                         const char *prog);

/* The options `o` as the flags that give them ("--resize-mode short
 * --size 320 --crop 300x300 --interpolation bicubic --mean ... --std ..."),
 * so a user can repeat them by hand; into buf (truncated to size). */
void pp_describe(const imgclass_preprocess_options *o, char *buf, size_t size);

/* Where the base of these arguments comes from, for the start-up lines:
 * "--preset", "the model's recipe" or "the imagenet preset (no recipe)",
 * and whether options were given on top of it ("with overrides"). */
void pp_args_origin(const pp_args *args, int model_has_recipe, char *buf, size_t size);

/* The --help paragraph for these options. */
void pp_args_help(FILE *out);

/* Small parsers used by the subcommands, exposed for their tests:
 * "N" or "WxH" (both positive); "A,B,C" floats. 0 ok, -1 bad. */
int pp_parse_dims(const char *s, int *w, int *h, int *was_wh);
int pp_parse_triple(const char *s, float v[3]);

#endif
