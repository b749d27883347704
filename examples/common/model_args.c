/* The shared model flags (model_args.h). */
#include "model_args.h"

#include <stdlib.h>
#include <string.h>

cli_model_args cli_model_args_init(void)
{
    cli_model_args a = {.device = "cpu", .threads = 0, .precision = IMGCLASS_PRECISION_FLOAT32,
                        .no_cache = 0, .warmup_runs = -1};
    return a;
}

const char *cli_model_cache_dir(const cli_model_args *args, char *buf, size_t size)
{
    if (args && args->no_cache)
        return NULL;
    const char *env = getenv("IMGCLASS_CACHE_DIR");
    int n;
    if (env)
        n = *env ? snprintf(buf, size, "%s", env) : -1;
    else if ((env = getenv("XDG_CACHE_HOME")) && *env)
        n = snprintf(buf, size, "%s/imgclass", env);
    else if ((env = getenv("HOME")) && *env)
        n = snprintf(buf, size, "%s/.cache/imgclass", env);
    else
        n = -1;
    return n > 0 && (size_t)n < size ? buf : NULL;
}

const char *cli_precision_name(imgclass_precision precision)
{
    return precision == IMGCLASS_PRECISION_BF16 ? "bf16" : "float32";
}

int cli_precision_parse(const char *name, imgclass_precision *out)
{
    if (!strcmp(name, "float32"))
        *out = IMGCLASS_PRECISION_FLOAT32;
    else if (!strcmp(name, "bf16"))
        *out = IMGCLASS_PRECISION_BF16;
    else
        return -1;
    return 0;
}

int cli_model_args_option(cli_model_args *args, int code, const char *value, const char *prog)
{
    if (code == MODEL_OPT_NO_CACHE) {
        args->no_cache = 1;
        return 1;
    }
    if (code != MODEL_OPT_PRECISION)
        return 0;
    if (cli_precision_parse(value, &args->precision)) {
        fprintf(stderr, "%s: bad value '%s' for --precision (float32 or bf16)\n", prog, value);
        return -1;
    }
    return 1;
}

void cli_model_args_help(FILE *out, int indent, int column)
{
    static const char *const text[] = {
        "float32 (default) or bf16: bfloat16 weights and",
        "compute, faster on a CPU with avx512_bf16 or",
        "amx_bf16 and refused on one without; inexact",
        "(scores ~1e-2 off float32). An int8 model runs",
        "int8 whatever is asked.",
    };
    const char *option = "--precision P";
    int pad = column - indent - (int)strlen(option);
    fprintf(out, "%*s%s%*s%s\n", indent, "", option, pad > 1 ? pad : 1, "", text[0]);
    for (size_t i = 1; i < sizeof text / sizeof text[0]; i++)
        fprintf(out, "%*s%s\n", column, "", text[i]);
    static const char *const cache[] = {
        "neither use nor write the model cache, which",
        "spares later loads of a model most of their",
        "work, same scores (default folder:",
        "$IMGCLASS_CACHE_DIR, else $XDG_CACHE_HOME/imgclass,",
        "else ~/.cache/imgclass)",
    };
    option = "--no-cache";
    pad = column - indent - (int)strlen(option);
    fprintf(out, "%*s%s%*s%s\n", indent, "", option, pad > 1 ? pad : 1, "", cache[0]);
    for (size_t i = 1; i < sizeof cache / sizeof cache[0]; i++)
        fprintf(out, "%*s%s\n", column, "", cache[i]);
}
