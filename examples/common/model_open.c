/* cli_model_open(): the load sequence shared by classify, info and bench. */
#include "model_open.h"

#include <stdio.h>
#include <stdlib.h>

unsigned cli_model_optimize_asked(void)
{
    return imgclass_model_options_default().optimize;
}

imgclass_model *cli_model_open(const char *prog, const char *path, const char *labels_path,
                               const cli_model_args *ma, int height, int width)
{
    const cli_model_args defaults = cli_model_args_init();
    if (!ma)
        ma = &defaults;
    if (ma->threads > 0 && imgclass_set_num_threads(ma->threads) != IMGCLASS_OK) {
        fprintf(stderr, "%s: %s\n", prog, imgclass_last_error());
        return NULL;
    }
    imgclass_model_options mo = imgclass_model_options_default();
    if (ma->device)
        mo.device = ma->device;
    mo.precision = ma->precision;
    mo.input_height = height;
    mo.input_width = width;
    /* The int8 engine, for every subcommand alike (docs/engine.md). */
    const char *qengine = getenv("IMGCLASS_QENGINE");
    if (qengine && *qengine)
        mo.qengine = qengine;
    char cache_dir[4096];
    mo.cache_dir = cli_model_cache_dir(ma, cache_dir, sizeof cache_dir);
    if (ma->warmup_runs >= 0)
        mo.warmup_runs = ma->warmup_runs;
    imgclass_model *model = NULL;
    if (imgclass_model_load(path, &mo, &model) != IMGCLASS_OK) {
        fprintf(stderr, "%s: %s\n", prog, imgclass_last_error());
        return NULL;
    }
    if (labels_path && imgclass_model_load_labels(model, labels_path) != IMGCLASS_OK) {
        fprintf(stderr, "%s: %s\n", prog, imgclass_last_error());
        imgclass_model_free(model);
        return NULL;
    }
    return model;
}

imgclass_model *cli_model_open_pp(const char *prog, const char *path, const char *labels_path,
                                  const cli_model_args *ma, const pp_args *pa,
                                  imgclass_preprocess_options *pp)
{
    int h = 0, w = 0; /* 0 x 0: the model's recipe tells */
    if (!pp_args_known_size(pa, &h, &w))
        h = w = 0;
    imgclass_model *model = cli_model_open(prog, path, labels_path, ma, h, w);
    if (!model)
        return NULL;
    imgclass_preprocess_options base = imgclass_preprocess_options_default(), o;
    int oh, ow, mh, mw;
    if (imgclass_model_preprocess_options(model, &base) != IMGCLASS_OK ||
        pp_args_finish_base(pa, &base, &o, prog) || pp_fixed_output_size(&o, &oh, &ow, prog)) {
        imgclass_model_free(model);
        return NULL;
    }
    imgclass_model_input_size(model, NULL, &mh, &mw);
    if (oh != mh || ow != mw) {
        imgclass_model_free(model);
        model = cli_model_open(prog, path, labels_path, ma, oh, ow);
        if (!model)
            return NULL;
    }
    *pp = o;
    return model;
}

imgclass_pipeline_options cli_pipeline_options(const imgclass_model *model,
                                               const imgclass_preprocess_options *pp,
                                               const imgclass_decode_options *decode,
                                               const cli_pipeline_args *a,
                                               imgclass_result_fn on_result, void *ctx)
{
    (void)model; /* a NULL preprocess would be its recipe; `pp` is always given */
    imgclass_pipeline_options o = imgclass_pipeline_options_default();
    o.preprocess = pp; /* copied by imgclass_pipeline_create() */
    o.decode = decode; /* NULL: the defaults */
    o.max_batch = a->batch;
    o.max_delay_us = a->max_delay_us;
    o.preprocess_threads = a->preprocess_threads;
    o.engine_lanes = a->engine_lanes;
    o.queue_capacity = a->queue;
    o.topk = a->topk;
    o.on_result = on_result;
    o.on_result_ctx = ctx;
    return o;
}

void cli_print_preprocess(const char *prog, const char *model_name, const imgclass_model *model,
                          const pp_args *args, const imgclass_preprocess_options *pp)
{
    char flags[512], origin[96];
    pp_describe(pp, flags, sizeof flags);
    pp_args_origin(args, imgclass_model_has_recipe(model), origin, sizeof origin);
    fprintf(stderr, "%s: %s: preprocess %s (%s)\n", prog, model_name, flags, origin);
}
