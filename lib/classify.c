/* imgclass_classify: decode + preprocess N inputs in parallel, one forward
 * pass over the ones that succeeded, top-k per input. */
#include "model_internal.h"

#include "batch_internal.h"
#include "error.h"
#include "filter.h"
#include "struct_size.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    float *all_scores;     /* successes x num_classes */
};

IMGCLASS_API imgclass_classify_options imgclass_classify_options_default(void)
{
    imgclass_classify_options o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.topk = 5;
    o.decode = imgclass_decode_options_default();
    o.preprocess = imgclass_preprocess_options_default();
    o.preprocess_threads = 0;
    o.filter = imgclass_filter_default();
    return o;
}

IMGCLASS_API imgclass_classify_options imgclass_classify_options_for_model(const imgclass_model *model)
{
    imgclass_classify_options o = imgclass_classify_options_default();
    if (model)
        imgclass_model_preprocess_options(model, &o.preprocess);
    return o;
}

/* Shared by the preprocessing workers: inputs are claimed one at a time
 * from `next`, so a slow image does not hold back a whole share. */
typedef struct work {
    const imgclass_input *inputs;
    size_t count;
    const imgclass_classify_options *options;
    imgclass_batch *batch;
    result_slot *slots;
    atomic_size_t next;
} work;

/* The error message of the current thread's last failure, copied, since
 * imgclass_last_error() is thread-local to the worker. */
static char *copy_last_error(void)
{
    return strdup(imgclass_last_error());
}

static imgclass_status preprocess_one(const imgclass_input *in,
                                      const imgclass_classify_options *o, imgclass_batch *batch,
                                      size_t i)
{
    char source[32]; /* "input N" names the slot in the messages below */
    snprintf(source, sizeof source, "input %zu", i);
    switch (in->kind) {
    case IMGCLASS_INPUT_PATH:
        if (!in->path)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL path");
        return imgclass_preprocess_file(in->path, &o->decode, &o->preprocess, batch, i);
    case IMGCLASS_INPUT_MEMORY:
        if (!in->data)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "memory buffer",
                           "input %zu has NULL data", i);
        return imgclass_preprocess_memory(in->data, in->size, &o->decode, &o->preprocess, batch,
                                          i);
    case IMGCLASS_INPUT_IMAGE:
        if (!in->image)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL image");
        return imgclass_preprocess(in->image, &o->preprocess, batch, i);
    }
    return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "unknown kind %d", (int)in->kind);
}

static void *preprocess_worker(void *arg)
{
    work *w = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&w->next, 1);
        if (i >= w->count)
            break;
        imgclass_status st = preprocess_one(&w->inputs[i], w->options, w->batch, i);
        w->slots[i].status = st;
        if (st != IMGCLASS_OK) {
            /* "memory buffer: ..." alone does not say which of the inputs
             * failed; a path does. */
            w->slots[i].error = copy_last_error();
            if (w->slots[i].error && w->inputs[i].kind == IMGCLASS_INPUT_MEMORY) {
                ic_error(st, "input %zu: %s", i, w->slots[i].error);
                free(w->slots[i].error);
                w->slots[i].error = copy_last_error();
            }
            if (!w->slots[i].error) /* no memory even for the message */
                w->slots[i].status = IMGCLASS_ERR_OUT_OF_MEMORY;
        }
    }
    return NULL;
}

static size_t pick_threads(int requested, size_t count)
{
    size_t n = requested > 0 ? (size_t)requested : 0;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (size_t)cpus : 1;
    }
    return n < count ? n : count;
}

/* Runs the workers on `threads` threads, the caller being one of them. If a
 * thread cannot be started the others simply take its share. */
static void preprocess_all(work *w, size_t threads)
{
    pthread_t *tids = threads > 1 ? calloc(threads - 1, sizeof *tids) : NULL;
    size_t started = 0;
    if (tids)
        for (; started < threads - 1; started++)
            if (pthread_create(&tids[started], NULL, preprocess_worker, w) != 0)
                break;
    preprocess_worker(w);
    for (size_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    free(tids);
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

/* A model that gives NaN or infinite scores has no answer for that
 * image: its slot fails, naming the input and the first such class,
 * instead of "succeeding" with meaningless probabilities. */
static imgclass_status non_finite_score(const imgclass_model *model, result_slot *s,
                                        const imgclass_input *in, size_t i)
{
    int c = ic_first_non_finite(s->scores, model->num_classes);
    if (c >= 0) {
        char where[48];
        snprintf(where, sizeof where, "input %zu", i);
        s->status = ic_fail(IMGCLASS_ERR_ENGINE,
                            in->kind == IMGCLASS_INPUT_PATH && in->path ? in->path : where,
                            "the model gave a non-finite score (%s) for class %d",
                            isnan(s->scores[c]) ? "NaN" : "infinity", c);
        s->error = copy_last_error();
        s->scores = NULL;
        s->k = 0;
        return s->status;
    }
    return IMGCLASS_OK;
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
    imgclass_status st = ic_check_classify_options_size(options);
    if (st != IMGCLASS_OK)
        return st;
    imgclass_classify_options defaults;
    if (!options) {
        defaults = imgclass_classify_options_for_model(model);
        options = &defaults;
    }
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
    ic_filter filter;
    st = ic_filter_compile(model, &options->filter, "imgclass_classify", &filter);
    if (st != IMGCLASS_OK)
        return st;

    imgclass_results *r = calloc(1, sizeof *r);
    imgclass_batch *batch = NULL;
    if (!r) {
        ic_filter_release(&filter);
        return ic_error_oom("imgclass_classify", "results");
    }
    r->slots = calloc(count, sizeof *r->slots);
    r->tops = calloc(count * k, sizeof *r->tops);
    if (r->slots)
        r->count = count;
    if (!r->slots || !r->tops) {
        imgclass_results_free(r);
        ic_filter_release(&filter);
        return ic_error_oom("imgclass_classify", "results");
    }
    st = imgclass_batch_create(count, model->height, model->width, &batch);
    if (st != IMGCLASS_OK) {
        imgclass_results_free(r);
        ic_filter_release(&filter);
        return st;
    }

    work w = {.inputs = inputs, .count = count, .options = options, .batch = batch,
              .slots = r->slots};
    atomic_init(&w.next, 0);
    preprocess_all(&w, pick_threads(options->preprocess_threads, count));

    /* Move the successful slots to the front, in order, so they form one
     * contiguous batch for a single forward pass. */
    size_t per_image = (size_t)3 * (size_t)model->height * (size_t)model->width;
    size_t ok = 0;
    for (size_t i = 0; i < count; i++) {
        if (r->slots[i].status != IMGCLASS_OK)
            continue;
        if (ok != i)
            memcpy(batch->data + ok * per_image, batch->data + i * per_image,
                   per_image * sizeof(float));
        ok++;
    }
    if (ok > 0) {
        r->all_scores = malloc(ok * nc * sizeof(float));
        imgclass_batch view = *batch;
        view.count = ok;
        view.owned = NULL;
        if (!r->all_scores)
            st = ic_error_oom("imgclass_classify", "scores");
        else
            st = imgclass_predict(model, &view, r->all_scores, ok * nc);
    }
    imgclass_batch_free(batch);
    if (st != IMGCLASS_OK) {
        imgclass_results_free(r);
        ic_filter_release(&filter);
        return st;
    }
    for (size_t i = 0, j = 0; i < count; i++) {
        result_slot *s = &r->slots[i];
        s->top = r->tops + i * k;
        if (s->status != IMGCLASS_OK)
            continue;
        s->scores = r->all_scores + j++ * nc;
        if (non_finite_score(model, s, &inputs[i], i) != IMGCLASS_OK)
            continue;
        s->k = ic_filter_topk(model, &filter, s->scores, model->num_classes, (int)k, s->top);
    }
    ic_filter_release(&filter);
    *out = r;
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
