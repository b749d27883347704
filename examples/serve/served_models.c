/* Model loading and one pipeline per model; see served_models.h. */
#include "served_models.h"

#include "model_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    served_model *m = ctx;
    int seen = atomic_load(&m->max_batch_seen);
    while (r->batch_size > seen &&
           !atomic_compare_exchange_weak(&m->max_batch_seen, &seen, r->batch_size)) {
    }
    m->deliver(r);
}

static int open_one(served_model *m, const serve_model_spec *spec, const serve_config *cfg,
                    served_result_fn deliver)
{
    m->name = spec->name;
    m->path = spec->path;
    m->labels = spec->labels;
    m->deliver = deliver;
    atomic_init(&m->max_batch_seen, 0);
    atomic_init(&m->v2_requests, 0);
    atomic_init(&m->v2_tensor_images, 0);
    atomic_init(&m->v2_tensor_us, 0);
    /* The engine thread count is process-wide; cli_model_open sets it.
     * --device and --precision apply to every model (an int8 one runs int8
     * whatever --precision says; a float one is refused in bf16 on a CPU
     * without it, and the server does not start).
     * The model's recipe with the preprocessing options on top, the same
     * way as imgclass classify. */
    imgclass_preprocess_options pp;
    m->model = cli_model_open_pp("imgclass-serve", spec->path, spec->labels, &cfg->model,
                                 &cfg->pp, &pp);
    if (!m->model)
        return -1;
    cli_print_preprocess("imgclass-serve", spec->name, m->model, &cfg->pp, &pp);
    m->num_classes = imgclass_model_num_classes(m->model);
    imgclass_model_input_size(m->model, &m->channels, &m->height, &m->width);
    m->has_labels = imgclass_model_label(m->model, 0) != NULL;
    m->batch = cfg->batch;
    m->max_batch_delay_ms = cfg->max_batch_delay_ms;
    m->queue = cfg->queue;

    const cli_pipeline_args pa = {
        .batch = cfg->batch,
        .max_delay_us = (int64_t)cfg->max_batch_delay_ms * 1000,
        .preprocess_threads = cfg->preprocess_threads,
        .queue = cfg->queue,
        .topk = 1, /* each request picks its own k from the full scores */
    };
    imgclass_pipeline_options po =
        cli_pipeline_options(m->model, &pp, &cfg->decode, &pa, on_result, m);
    /* Unordered: a request with an undecodable image is answered as soon
     * as a worker sees it, not after the batch before it. */
    po.ordered = 0;
    if (imgclass_pipeline_create(m->model, &po, &m->pipeline) != IMGCLASS_OK) {
        fprintf(stderr, "imgclass-serve: model '%s': %s\n", spec->name, imgclass_last_error());
        imgclass_model_free(m->model);
        m->model = NULL;
        return -1;
    }
    return 0;
}

int served_models_open(served_models *set, const serve_config *cfg, served_result_fn deliver)
{
    set->count = 0;
    set->items = calloc((size_t)cfg->num_models, sizeof *set->items);
    if (!set->items) {
        fprintf(stderr, "imgclass-serve: out of memory\n");
        return -1;
    }
    for (int i = 0; i < cfg->num_models; i++) {
        if (open_one(&set->items[i], &cfg->models[i], cfg, deliver)) {
            served_models_close(set);
            return -1;
        }
        set->count++;
    }
    return 0;
}

served_model *served_models_find(const served_models *set, const char *name, size_t len)
{
    for (int i = 0; i < set->count; i++)
        if (strlen(set->items[i].name) == len && !memcmp(set->items[i].name, name, len))
            return &set->items[i];
    return NULL;
}

void served_models_stop(served_models *set)
{
    for (int i = 0; i < set->count; i++) {
        imgclass_pipeline_free(set->items[i].pipeline);
        set->items[i].pipeline = NULL;
    }
}

void served_models_close(served_models *set)
{
    if (!set->items)
        return;
    served_models_stop(set);
    for (int i = 0; i < set->count; i++)
        imgclass_model_free(set->items[i].model);
    free(set->items);
    set->items = NULL;
    set->count = 0;
}
