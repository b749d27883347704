/* imgclass_classify: N inputs through a pipeline of the call's own
 * (lib/pipeline.c), gathered into per-input results. */
#include "model_internal.h"

#include "error.h"
#include "filter.h"
#include "pipeline_internal.h"
#include "struct_size.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct result_slot {
    imgclass_status status;
    char *error;           /* malloc'd message, NULL when it succeeded */
    int k;                 /* entries in top */
    imgclass_class *top;   /* points into results->tops */
    float *scores;         /* points into results->all_scores; NULL if failed */
} result_slot;

struct imgclass_results {
    size_t count;
    result_slot *slots;
    imgclass_class *tops;  /* count x k */
    float *all_scores;     /* count x num_classes */
};

IMGCLASS_API imgclass_status imgclass_classify_options_init(imgclass_classify_options *opts,
                                                            size_t size)
{
    imgclass_classify_options o;
    memset(&o, 0, sizeof o);
    o.topk = 5;
    o.decode = NULL;     /* the defaults */
    o.preprocess = NULL; /* the model's recipe, else the defaults */
    o.preprocess_threads = 0;
    o.filter = NULL;
    return ic_struct_init(&ic_layout_classify_options, opts, size, &o);
}

IMGCLASS_API void imgclass_results_free(imgclass_results *results)
{
    if (!results)
        return;
    for (size_t i = 0; i < results->count; i++)
        free(results->slots[i].error);
    free(results->slots);
    free(results->tops);
    free(results->all_scores);
    free(results);
}

/* Forward passes of this many images: the batch size at which ResNet-18's
 * per-image cost stops falling on a CPU (docs/engine.md), and small enough
 * that the activations of one pass stay a few hundred MB at most. */
#define IC_CLASSIFY_BATCH 8
/* The pipeline's own limit on preprocessing threads. */
#define IC_CLASSIFY_MAX_THREADS 1024

/* What the pipeline's callback fills: the results being built. */
typedef struct collector {
    imgclass_results *r;
    const imgclass_input *inputs;
    size_t stride; /* inputs[0].struct_size: the caller's sizeof(imgclass_input) */
    int k;
    size_t num_classes;
} collector;

/* The messages of a classify call name an input that is not a path by its
 * index, whatever the pipeline's own numbering. */
static void name_input(void *user, char *buf, size_t size)
{
    snprintf(buf, size, "input %zu", (size_t)(uintptr_t)user);
}

static void slot_fail(result_slot *s, imgclass_status st, const char *msg)
{
    s->status = st;
    s->error = strdup(msg);
    if (!s->error) /* no memory even for the message */
        s->status = IMGCLASS_ERR_OUT_OF_MEMORY;
}

static void collect(void *ctx, const imgclass_pipeline_result *pr)
{
    collector *c = ctx;
    size_t i = (size_t)(uintptr_t)pr->user;
    result_slot *s = &c->r->slots[i];
    if (pr->status != IMGCLASS_OK) {
        /* "memory buffer: ..." alone does not say which of the inputs
         * failed; a path does. */
        const imgclass_input *in =
            (const imgclass_input *)(const void *)((const char *)c->inputs + i * c->stride);
        if (in->kind == IMGCLASS_INPUT_MEMORY && !strncmp(pr->error, "memory buffer", 13)) {
            char msg[1024];
            snprintf(msg, sizeof msg, "input %zu: %s", i, pr->error);
            slot_fail(s, pr->status, msg);
        } else {
            slot_fail(s, pr->status, pr->error);
        }
        return;
    }
    s->status = IMGCLASS_OK;
    s->scores = c->r->all_scores + i * c->num_classes;
    memcpy(s->scores, pr->scores, c->num_classes * sizeof(float));
    s->k = pr->k;
    memcpy(s->top, pr->top, (size_t)pr->k * sizeof *pr->top);
}

/* The pipeline's options for one classify call of `count` inputs. */
static imgclass_pipeline_options pipeline_options(const imgclass_classify_options *o, size_t count,
                                                  collector *c)
{
    imgclass_pipeline_options po = imgclass_pipeline_options_default();
    po.max_batch = count < IC_CLASSIFY_BATCH ? (int)count : IC_CLASSIFY_BATCH;
    po.max_delay_us = -1; /* every batch is full but the last, which the drain cuts */
    /* 0 or less: the pipeline's choice, as this call always took it; more
     * threads than inputs would only wait. */
    int threads = o->preprocess_threads > 0 ? o->preprocess_threads : 0;
    if (threads > IC_CLASSIFY_MAX_THREADS)
        threads = IC_CLASSIFY_MAX_THREADS;
    po.preprocess_threads = (size_t)threads > count ? (int)count : threads;
    po.topk = o->topk;
    po.decode = o->decode; /* pointers into the caller's, read by the create */
    po.preprocess = o->preprocess;
    po.filter = o->filter;
    po.on_result = collect;
    po.on_result_ctx = c;
    return po;
}

/* Inputs the pipeline would refuse at submit fail their own slot here,
 * with the message naming their index. */
static int input_refused(const imgclass_input *in, size_t i, result_slot *s)
{
    char source[32];
    snprintf(source, sizeof source, "input %zu", i);
    imgclass_status st = IMGCLASS_OK;
    if (in->kind == IMGCLASS_INPUT_PATH && !in->path)
        st = ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL path");
    else if (in->kind == IMGCLASS_INPUT_MEMORY && !in->data)
        st = ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "memory buffer", "input %zu has NULL data", i);
    else if (in->kind == IMGCLASS_INPUT_IMAGE && !in->image)
        st = ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL image");
    else if (in->kind != IMGCLASS_INPUT_PATH && in->kind != IMGCLASS_INPUT_MEMORY &&
             in->kind != IMGCLASS_INPUT_IMAGE)
        st = ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "unknown kind %d", (int)in->kind);
    if (st == IMGCLASS_OK)
        return 0;
    slot_fail(s, st, imgclass_last_error());
    return 1;
}

/* Input i of the caller's array, whose elements are `stride` bytes apart,
 * read as far as it goes into *in; an element whose struct_size is not
 * the first one's fails its own slot. */
static int read_input(const imgclass_input *inputs, size_t stride, size_t i, imgclass_input *in,
                      result_slot *s)
{
    const imgclass_input *given =
        (const imgclass_input *)(const void *)((const char *)inputs + i * stride);
    char what[64];
    snprintf(what, sizeof what, "input %zu", i);
    memset(in, 0, sizeof *in);
    imgclass_status st =
        given->struct_size != stride
            ? ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, what,
                      "struct_size %zu differs from inputs[0]'s %zu (the array's stride)",
                      given->struct_size, stride)
            : ic_struct_read(&ic_layout_input, given, in, what);
    if (st == IMGCLASS_OK)
        return 0;
    slot_fail(s, st, imgclass_last_error());
    return 1;
}

static imgclass_results *results_alloc(size_t count, size_t k, size_t nc)
{
    imgclass_results *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->slots = calloc(count, sizeof *r->slots);
    r->tops = calloc(count * k, sizeof *r->tops);
    r->all_scores = malloc(count * nc * sizeof(float));
    if (r->slots)
        r->count = count;
    if (!r->slots || !r->tops || !r->all_scores) {
        imgclass_results_free(r);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        r->slots[i].top = r->tops + i * k;
    return r;
}

IMGCLASS_API imgclass_status imgclass_classify(const imgclass_model *model,
                                               const imgclass_input *inputs, size_t count,
                                               const imgclass_classify_options *options,
                                               imgclass_results **out)
{
    if (!model || !inputs || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_classify", "NULL %s",
                       !model ? "model" : !inputs ? "inputs" : "out");
    *out = NULL;
    if (count == 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_classify", "no inputs");
    /* Read as far as the caller's struct goes; the options it points at
     * are read by the pipeline's create. */
    imgclass_classify_options local = imgclass_classify_options_default();
    imgclass_status st =
        options ? ic_struct_read(&ic_layout_classify_options, options, &local, NULL) : IMGCLASS_OK;
    if (st != IMGCLASS_OK)
        return st;
    options = &local;
    /* Each input read as far as it goes, strided by the first one's size. */
    imgclass_input first;
    st = ic_struct_read(&ic_layout_input, inputs, &first, "imgclass_classify: inputs[0]");
    if (st != IMGCLASS_OK)
        return st;
    const size_t stride = inputs[0].struct_size;
    int topk = ic_filter_resolve_topk(options->topk, model->num_classes);
    if (topk < 1)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_classify",
                       "topk = %d (must be >= 1, or -1 for all classes)", options->topk);
    if (model->channels != 3)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_classify",
                       "the model takes %d channels; images give 3", model->channels);
    size_t k = (size_t)topk;
    size_t nc = (size_t)model->num_classes;
    if (count > SIZE_MAX / (nc * sizeof(float)) || count > SIZE_MAX / (k * sizeof(imgclass_class)))
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, "imgclass_classify", "%zu inputs", count);

    collector c = {.inputs = inputs, .stride = stride, .k = topk, .num_classes = nc};
    c.r = results_alloc(count, k, nc);
    if (!c.r)
        return ic_error_oom("imgclass_classify", "results");
    imgclass_pipeline_options po = pipeline_options(options, count, &c);
    const ic_pipeline_hooks hooks = {.check_output_size = 0, .name_input = name_input};
    imgclass_pipeline *p = NULL;
    st = ic_pipeline_create(model, &po, &hooks, &p);
    if (st != IMGCLASS_OK) {
        imgclass_results_free(c.r);
        return st;
    }
    for (size_t i = 0; i < count; i++) {
        imgclass_input in;
        if (read_input(inputs, stride, i, &in, &c.r->slots[i]) || input_refused(&in, i, &c.r->slots[i]))
            continue;
        /* Blocks while the pipeline's queue is full: that bounds memory. */
        imgclass_status sub = imgclass_pipeline_submit(p, &in, (void *)(uintptr_t)i, 0, NULL);
        if (sub != IMGCLASS_OK) /* out of memory for a copy of the path */
            slot_fail(&c.r->slots[i], sub, imgclass_last_error());
    }
    imgclass_pipeline_flush(p);
    char msg[1024];
    st = ic_pipeline_engine_failure(p, msg, sizeof msg);
    imgclass_pipeline_free(p);
    if (st != IMGCLASS_OK) {
        imgclass_results_free(c.r);
        return ic_error(st, "%s", msg);
    }
    *out = c.r;
    return IMGCLASS_OK;
}

IMGCLASS_API size_t imgclass_results_count(const imgclass_results *results)
{
    return results ? results->count : 0;
}

IMGCLASS_API imgclass_status imgclass_results_status(const imgclass_results *results, size_t i)
{
    if (!results || i >= results->count)
        return IMGCLASS_ERR_INVALID_ARGUMENT;
    return results->slots[i].status;
}

IMGCLASS_API const char *imgclass_results_error(const imgclass_results *results, size_t i)
{
    if (!results || i >= results->count)
        return NULL; /* as imgclass_results_top() and _scores() */
    return results->slots[i].error ? results->slots[i].error : "";
}

IMGCLASS_API const imgclass_class *imgclass_results_top(const imgclass_results *results, size_t i,
                                                        int *k)
{
    if (!results || i >= results->count) {
        if (k)
            *k = 0;
        return NULL;
    }
    if (k)
        *k = results->slots[i].k;
    return results->slots[i].top;
}

IMGCLASS_API const float *imgclass_results_scores(const imgclass_results *results, size_t i)
{
    if (!results || i >= results->count)
        return NULL;
    return results->slots[i].scores;
}
