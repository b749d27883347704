/* The shared model flags (model_args.h). */
#include "model_args.h"

#include <string.h>

cli_model_args cli_model_args_init(void)
{
    cli_model_args a = {.device = "cpu", .threads = 0, .precision = IMGCLASS_PRECISION_FLOAT32};
    return a;
}

const char *cli_precision_name(imgclass_precision precision)
{
    return precision == IMGCLASS_PRECISION_BF16 ? "bf16" : "float32";
}

int cli_model_args_option(cli_model_args *args, int code, const char *value, const char *prog)
{
    if (code != MODEL_OPT_PRECISION)
        return 0;
    if (!strcmp(value, "float32"))
        args->precision = IMGCLASS_PRECISION_FLOAT32;
    else if (!strcmp(value, "bf16"))
        args->precision = IMGCLASS_PRECISION_BF16;
    else {
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
}
