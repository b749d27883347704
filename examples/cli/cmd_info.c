/* imgclass info: what a model is and what it runs on. */
#include "cli_args.h"
#include "commands.h"
#include "model_open.h"
#include "pp_options.h"

#include <imgclass.h>

#include <stdio.h>
#include <string.h>

#define PROG "imgclass info"

static void usage(FILE *out)
{
    fputs("usage: imgclass info --model M.pt [--labels L] [OPTIONS]\n\n"
          "Prints the library and engine versions, the model's input size, class\n"
          "count, device and precision (float32, bf16, int8), whether it is quantized\n"
          "and on which engine, the optimisations applied or skipped, the engine's\n"
          "thread count and the first labels. IMGCLASS_QENGINE=onednn|qnnpack picks\n"
          "the int8 engine.\n\n"
          "  -m, --model PATH    TorchScript model (plain or gzip) (required)\n"
          "  -l, --labels PATH   labels file (text or index_to_name.json)\n"
          "      --size WxH      input size to load the model with (default: the\n"
          "                      recipe's, else 224x224)\n"
          "      --device DEV    cpu (default), cuda, cuda:N\n"
          "  -t, --threads N     engine threads to set before loading\n"
          "  -n, --show N        labels to list (default 5)\n"
          "      --timings       print what each step of the model load took\n",
          out);
    cli_model_args_help(out, 6, 22);
}

/* The preprocessing the model asks for (its imgclass.json), in the CLI's
 * own option names, so it can be repeated by hand. */
static void print_recipe(const imgclass_model *model)
{
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    if (imgclass_model_preprocess_options(model, &o) != IMGCLASS_OK)
        return;
    if (!imgclass_model_has_recipe(model)) {
        printf("recipe:   none (preprocessing defaults to the imagenet preset)\n");
        return;
    }
    char flags[512];
    pp_describe(&o, flags, sizeof flags);
    printf("recipe:   imgclass.json: %s\n", flags);
}

/* imgclass_model_load_ms() of each step, in the order they run. */
static void print_timings(const imgclass_model *model)
{
    static const struct {
        imgclass_load_step step;
        const char *name;
    } steps[] = {{IMGCLASS_LOAD_ENGINE_START, "engine start (module, libtorch)"},
                 {IMGCLASS_LOAD_READ, "read"},
                 {IMGCLASS_LOAD_DESERIALIZE, "deserialize (TorchScript, recipe)"},
                 {IMGCLASS_LOAD_OPTIMIZE, "optimise"},
                 {IMGCLASS_LOAD_FREEZE, "  of which freeze"},
                 {IMGCLASS_LOAD_CHECK, NULL}, /* its batch: see below */
                 {IMGCLASS_LOAD_WARMUP, "warm-up"},
                 {IMGCLASS_LOAD_CACHE, "model cache (hash, entry)"},
                 {IMGCLASS_LOAD_TOTAL, "total"}};
    /* A cache hit's check runs at batch 1 (imgclass_load_step). */
    const char *check = strcmp(imgclass_model_cache_state(model), "hit") == 0
                            ? "shape check (batch 1, cache hit)"
                            : "shape check (batch 2)";
    printf("load:\n");
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        printf("  %-34s %9.1f ms\n", steps[i].name ? steps[i].name : check,
               imgclass_model_load_ms(model, steps[i].step));
}

/* The flags asked for and those applied; the rest were skipped because they
 * do not apply to this model (a quantized one, docs/engine.md). */
static void print_optimize(unsigned applied, unsigned asked)
{
    static const struct {
        unsigned flag;
        const char *name;
    } names[] = {{IMGCLASS_OPTIMIZE_FREEZE, "freeze"},
                 {IMGCLASS_OPTIMIZE_FOR_INFERENCE, "optimize_for_inference"},
                 {IMGCLASS_OPTIMIZE_CHANNELS_LAST, "channels_last"},
                 {IMGCLASS_OPTIMIZE_BFLOAT16, "bfloat16"},
                 {IMGCLASS_OPTIMIZE_QUANTIZE_INPUT, "quantize_input"}};
    printf("optimise:");
    int any = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (applied & names[i].flag) {
            printf(" %s", names[i].name);
            any = 1;
        }
    if (!any)
        printf(" (none)");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((asked & names[i].flag) && !(applied & names[i].flag))
            printf(" [skipped %s: does not apply]", names[i].name);
    printf("\n");
}

enum { OPT_DEVICE = CLI_CODE_LONG, OPT_SIZE, OPT_TIMINGS };

static const char short_options[] = CLI_SHORT_PREFIX "hm:l:t:n:";
static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"model", required_argument, NULL, 'm'},
    {"labels", required_argument, NULL, 'l'},
    {"size", required_argument, NULL, OPT_SIZE},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"threads", required_argument, NULL, 't'},
    {"show", required_argument, NULL, 'n'},
    {"timings", no_argument, NULL, OPT_TIMINGS},
    MODEL_ARGS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

int cmd_info(int argc, char **argv)
{
    const char *model_path = NULL, *labels_path = NULL;
    cli_model_args ma = cli_model_args_init();
    int show = 5, w = 0, h = 0, wh; /* 0 x 0: the recipe's, else 224 */
    int timings = 0;
    int opt, bad;
    cli_getopt_begin();
    while ((opt = cli_getopt(argc, argv, short_options, long_options, PROG)) != CLI_END) {
        switch (opt) {
        case CLI_ERROR:
            return 1;
        case CLI_OPERAND:
            fprintf(stderr, PROG ": unexpected argument '%s': info takes no INPUT (see --help)\n",
                    optarg);
            return 1;
        case 'h':
            usage(stdout);
            return 0;
        case 'm': model_path = optarg; bad = 0; break;
        case 'l': labels_path = optarg; bad = 0; break;
        case OPT_DEVICE: ma.device = optarg; bad = 0; break;
        case OPT_TIMINGS: timings = 1; bad = 0; break;
        case MODEL_OPT_PRECISION:
        case MODEL_OPT_NO_CACHE:
            if (cli_model_args_option(&ma, opt, optarg, PROG) < 0)
                return 1;
            bad = 0;
            break;
        case 't':
            if (cli_int_option(PROG, long_options, opt, optarg, 1, 1024, &ma.threads))
                return 1;
            bad = 0;
            break;
        case 'n':
            if (cli_int_option(PROG, long_options, opt, optarg, 0, 1000000, &show))
                return 1;
            bad = 0;
            break;
        default: bad = pp_parse_dims(optarg, &w, &h, &wh); break; /* --size */
        }
        if (bad) {
            fprintf(stderr, PROG ": bad value '%s' for --%s (see --help)\n", optarg,
                    cli_option_name(long_options, opt));
            return 1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s': info takes no INPUT (see --help)\n",
                argv[optind]);
        return 1;
    }
    if (!model_path) {
        fprintf(stderr, PROG ": --model is required (see --help)\n");
        return 1;
    }
    imgclass_model *model = cli_model_open(PROG, model_path, labels_path, &ma, h, w);
    if (!model)
        return 1;
    int c, ih, iw;
    imgclass_model_input_size(model, &c, &ih, &iw);
    int k = imgclass_model_num_classes(model);
    printf("library:  imgclass %s (header %s)\n", imgclass_version(), IMGCLASS_VERSION);
    printf("engine:   %s\n", imgclass_engine_version());
    printf("model:    %s\n", model_path);
    printf("input:    %d x %d x %d (channels x height x width)\n", c, ih, iw);
    printf("classes:  %d\n", k);
    printf("device:   %s\n", imgclass_model_device(model));
    const char *precision = imgclass_model_precision(model);
    if (imgclass_model_is_quantized(model))
        printf("weights:  int8 (quantized engine %s)\n", imgclass_model_qengine(model));
    else
        printf("weights:  %s\n", strcmp(precision, "bf16") ? "float" : "bfloat16");
    /* What the model runs in; an int8 model says so whatever was asked. */
    printf("precision: %s%s\n", precision,
           ma.precision == IMGCLASS_PRECISION_BF16 && !strcmp(precision, "int8")
               ? " (bf16 asked: an int8 model runs int8)"
               : "");
    print_optimize(imgclass_model_optimize(model), cli_model_optimize_asked());
    printf("threads:  %d\n", imgclass_get_num_threads());
    print_recipe(model);
    printf("cache:    %s\n", imgclass_model_cache_state(model));
    if (timings)
        print_timings(model);
    int have_labels = imgclass_model_label(model, 0) != NULL;
    printf("labels:   %s\n", labels_path ? labels_path
                             : have_labels ? "(from the recipe)" : "(none: give --labels)");
    if (have_labels && show > 0) {
        for (int i = 0; i < k && i < show; i++) {
            const char *id = imgclass_model_label_id(model, i);
            printf("  %5d  %s%s%s\n", i, id ? id : "", id ? " " : "",
                   imgclass_model_label(model, i) ? imgclass_model_label(model, i) : "");
        }
        if (k > show)
            printf("  ... (%d more)\n", k - show);
    }
    imgclass_model_free(model);
    return 0;
}
