/* The model table, its reference counts and the swap; see served_models.h. */
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

static void entry_free(served_model *m)
{
    if (!m)
        return;
    imgclass_pipeline_free(m->pipeline);
    imgclass_model_free(m->model);
    free((char *)m->name);
    free((char *)m->path);
    free((char *)m->labels);
    free((char *)m->version);
    free((char *)m->precision);
    free(m);
}

/* Loads one model and starts its pipeline; NULL after printing why (and
 * copying it to msg). Runs without the table's lock. */
static served_model *entry_open(const served_models *set, const served_model_spec *spec,
                                char *msg, size_t n)
{
    const serve_config *cfg = set->cfg;
    served_model *m = calloc(1, sizeof *m);
    if (!m || !(m->name = strdup(spec->name)) || !(m->path = strdup(spec->path)) ||
        (spec->labels && !(m->labels = strdup(spec->labels))) ||
        !(m->version = strdup(spec->version)) ||
        (spec->precision && !(m->precision = strdup(spec->precision)))) {
        snprintf(msg, n, "out of memory");
        entry_free(m);
        return NULL;
    }
    m->deliver = set->deliver;
    atomic_init(&m->max_batch_seen, 0);
    atomic_init(&m->v2_requests, 0);
    atomic_init(&m->v2_tensor_images, 0);
    atomic_init(&m->v2_tensor_us, 0);
    /* The engine thread count is process-wide; cli_model_open sets it.
     * --device applies to every model; --precision to every model not
     * registered with its own (an int8 one runs int8 whatever is asked; a
     * float one is refused in bf16 on a CPU without it). The model's
     * recipe with the preprocessing options on top, the same way as
     * imgclass classify. The library's open runs the warm-up pass, so the
     * entry is warm when it is served. */
    cli_model_args ma = cfg->model;
    if (m->precision && cli_precision_parse(m->precision, &ma.precision)) {
        snprintf(msg, n, "model '%s': invalid precision '%.32s' (float32 or bf16)", m->name,
                 m->precision);
        fprintf(stderr, "imgclass-serve: %s\n", msg);
        entry_free(m);
        return NULL;
    }
    imgclass_preprocess_options pp;
    m->model = cli_model_open_pp("imgclass-serve", m->path, m->labels, &ma, &cfg->pp, &pp);
    if (!m->model) {
        snprintf(msg, n, "model '%s' (%s): %s", m->name, m->path, imgclass_last_error());
        entry_free(m);
        return NULL;
    }
    cli_print_preprocess("imgclass-serve", m->name, m->model, &cfg->pp, &pp);
    m->num_classes = imgclass_model_num_classes(m->model);
    imgclass_model_input_size(m->model, &m->channels, &m->height, &m->width);
    m->has_labels = imgclass_model_label(m->model, 0) != NULL;
    m->batch = spec->batch > 0 ? spec->batch : cfg->batch;
    m->max_batch_delay_ms = spec->max_batch_delay_ms >= 0 ? spec->max_batch_delay_ms
                                                          : cfg->max_batch_delay_ms;
    /* A larger batch than the command line's needs room for 4 batches. */
    m->queue = spec->batch > 0 && cfg->queue < 4 * m->batch ? 4 * m->batch : cfg->queue;

    const cli_pipeline_args pa = {
        .batch = m->batch,
        .max_delay_us = (int64_t)m->max_batch_delay_ms * 1000,
        .preprocess_threads = cfg->preprocess_threads,
        .queue = m->queue,
        .topk = 1, /* each request picks its own k from the full scores */
    };
    imgclass_pipeline_options po =
        cli_pipeline_options(m->model, &pp, &cfg->decode, &pa, on_result, m);
    /* Unordered: a request with an undecodable image is answered as soon
     * as a worker sees it, not after the batch before it. */
    po.ordered = 0;
    if (imgclass_pipeline_create(m->model, &po, &m->pipeline) != IMGCLASS_OK) {
        snprintf(msg, n, "model '%s': %s", m->name, imgclass_last_error());
        fprintf(stderr, "imgclass-serve: %s\n", msg);
        entry_free(m);
        return NULL;
    }
    m->refs = 1; /* the table's */
    return m;
}

static int name_is(const char *s, const char *name, size_t len)
{
    return strlen(s) == len && !memcmp(s, name, len);
}

static int slot_of(const served_models *set, const char *name, size_t len)
{
    for (int i = 0; i < set->count; i++)
        if (name_is(set->items[i]->name, name, len))
            return i;
    return -1;
}

static served_record *record_of(served_models *set, const char *name)
{
    for (int i = 0; i < set->num_records; i++)
        if (!strcmp(set->records[i].name, name))
            return &set->records[i];
    return NULL;
}

static int set_str(char **field, const char *v)
{
    char *copy = v ? strdup(v) : NULL;
    if (v && !copy)
        return -1;
    free(*field);
    *field = copy;
    return 0;
}

/* Counts a load of m in its record (created on first sight). Under lock. */
static void record_load(served_models *set, const served_model *m)
{
    served_record *r = record_of(set, m->name);
    if (!r && set->num_records < SERVE_MAX_RECORDS) {
        r = &set->records[set->num_records];
        memset(r, 0, sizeof *r);
        if (!(r->name = strdup(m->name)))
            return;
        set->num_records++;
    }
    if (!r)
        return; /* more names than records: the counters of the rest are lost */
    r->loads++;
    r->loaded = 1;
    set_str(&r->path, m->path);
    set_str(&r->labels, m->labels);
    set_str(&r->version, m->version);
    set_str(&r->precision, m->precision);
}

static int init_table(served_models *set, const serve_config *cfg, served_result_fn deliver)
{
    memset(set, 0, sizeof *set);
    set->cfg = cfg;
    set->deliver = deliver;
    if (pthread_mutex_init(&set->lock, NULL))
        return -1;
    if (pthread_cond_init(&set->released, NULL)) {
        pthread_mutex_destroy(&set->lock);
        return -1;
    }
    if (pthread_mutex_init(&set->admin, NULL)) {
        pthread_cond_destroy(&set->released);
        pthread_mutex_destroy(&set->lock);
        return -1;
    }
    set->initialized = 1;
    return 0;
}

int served_models_open(served_models *set, const serve_config *cfg, served_result_fn deliver)
{
    if (init_table(set, cfg, deliver)) {
        fprintf(stderr, "imgclass-serve: cannot create a lock\n");
        return -1;
    }
    for (int i = 0; i < cfg->num_models; i++) {
        const serve_model_spec *s = &cfg->models[i];
        served_model_spec spec = {.name = s->name, .path = s->path, .labels = s->labels,
                                  .version = SERVE_MODEL_VERSION, .batch = -1,
                                  .max_batch_delay_ms = -1};
        char msg[512];
        served_model *m = entry_open(set, &spec, msg, sizeof msg);
        if (!m) {
            served_models_close(set);
            return -1;
        }
        m->loaded_at_startup = 1;
        set->items[set->count++] = m;
        record_load(set, m);
    }
    return 0;
}

served_model *served_models_acquire(served_models *set, const char *name, size_t len)
{
    pthread_mutex_lock(&set->lock);
    int i = slot_of(set, name, len);
    served_model *m = i < 0 ? NULL : set->items[i];
    if (m)
        m->refs++;
    pthread_mutex_unlock(&set->lock);
    return m;
}

void served_model_release(served_models *set, served_model *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&set->lock);
    if (--m->refs == 0)
        pthread_cond_broadcast(&set->released);
    pthread_mutex_unlock(&set->lock);
}

int served_models_snapshot(served_models *set, served_model **out, int max)
{
    pthread_mutex_lock(&set->lock);
    int n = 0;
    for (int i = 0; i < set->count && n < max; i++) {
        set->items[i]->refs++;
        out[n++] = set->items[i];
    }
    pthread_mutex_unlock(&set->lock);
    return n;
}

/* Drops the table's reference on an entry already out of the table, waits
 * for the requests holding it to be answered, then frees it (its pipeline
 * is empty by then: every request that submitted was answered). */
static void retire(served_models *set, served_model *m)
{
    pthread_mutex_lock(&set->lock);
    m->refs--;
    while (m->refs > 0)
        pthread_cond_wait(&set->released, &set->lock);
    pthread_mutex_unlock(&set->lock);
    entry_free(m);
}

served_error served_models_register(served_models *set, const served_model_spec *spec,
                                    int *replaced, char *msg, size_t n)
{
    *replaced = 0;
    pthread_mutex_lock(&set->admin);
    served_model_spec s = *spec;
    char version[32];
    pthread_mutex_lock(&set->lock);
    int slot = slot_of(set, spec->name, strlen(spec->name));
    served_model *old = slot >= 0 ? set->items[slot] : NULL;
    if (old && spec->version && !strcmp(old->version, spec->version)) {
        snprintf(msg, n, "Model version %s for model %s is already registered", spec->version,
                 spec->name);
        pthread_mutex_unlock(&set->lock);
        pthread_mutex_unlock(&set->admin);
        return SERVED_CONFLICT;
    }
    if (!old && set->count >= SERVE_MAX_MODELS) {
        snprintf(msg, n, "At most %d models are served; unload one first", SERVE_MAX_MODELS);
        pthread_mutex_unlock(&set->lock);
        pthread_mutex_unlock(&set->admin);
        return SERVED_FULL;
    }
    if (!s.version) {
        /* The next whole version after the loads of this name so far. */
        served_record *r = record_of(set, spec->name);
        unsigned long long k = r ? r->loads + 1 : 1;
        do
            snprintf(version, sizeof version, "%llu.0", k++);
        while (old && !strcmp(version, old->version));
        s.version = version;
    }
    pthread_mutex_unlock(&set->lock);

    /* The load and the warm-up, beside the old entry, which keeps serving. */
    served_model *m = entry_open(set, &s, msg, n);
    if (!m) {
        pthread_mutex_unlock(&set->admin);
        return SERVED_LOAD_FAILED;
    }
    pthread_mutex_lock(&set->lock);
    if (old)
        set->items[slot] = m; /* the switch: the next acquire gets m */
    else
        set->items[set->count++] = m;
    record_load(set, m);
    served_record *r = old ? record_of(set, old->name) : NULL;
    if (r)
        r->unloads++; /* the retired entry counts as an unload */
    pthread_mutex_unlock(&set->lock);
    if (old) {
        retire(set, old);
        *replaced = 1;
    }
    pthread_mutex_unlock(&set->admin);
    return SERVED_OK;
}

served_error served_models_unload(served_models *set, const char *name, size_t len, char *msg,
                                  size_t n)
{
    pthread_mutex_lock(&set->admin);
    pthread_mutex_lock(&set->lock);
    int slot = slot_of(set, name, len);
    if (slot < 0) {
        pthread_mutex_unlock(&set->lock);
        pthread_mutex_unlock(&set->admin);
        snprintf(msg, n, "Model not found: %.*s", (int)len, name);
        return SERVED_NOT_FOUND;
    }
    served_model *m = set->items[slot];
    memmove(&set->items[slot], &set->items[slot + 1],
            (size_t)(set->count - slot - 1) * sizeof set->items[0]);
    set->count--;
    served_record *r = record_of(set, m->name);
    if (r) {
        r->unloads++;
        r->loaded = 0;
    }
    pthread_mutex_unlock(&set->lock);
    retire(set, m);
    pthread_mutex_unlock(&set->admin);
    return SERVED_OK;
}

int served_models_records(served_models *set, served_record *out, int max)
{
    pthread_mutex_lock(&set->lock);
    int n = 0;
    for (int i = 0; i < set->num_records && n < max; i++) {
        const served_record *r = &set->records[i];
        out[n] = (served_record){.loads = r->loads, .unloads = r->unloads, .loaded = r->loaded};
        out[n].name = strdup(r->name);
        out[n].path = r->path ? strdup(r->path) : NULL;
        out[n].labels = r->labels ? strdup(r->labels) : NULL;
        out[n].version = r->version ? strdup(r->version) : NULL;
        out[n].precision = r->precision ? strdup(r->precision) : NULL;
        n++;
    }
    pthread_mutex_unlock(&set->lock);
    return n;
}

void served_records_free(served_record *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].name);
        free(r[i].path);
        free(r[i].labels);
        free(r[i].version);
        free(r[i].precision);
    }
}

void served_models_stop(served_models *set)
{
    if (!set->initialized)
        return;
    pthread_mutex_lock(&set->lock);
    for (int i = 0; i < set->count; i++) {
        imgclass_pipeline *p = set->items[i]->pipeline;
        set->items[i]->pipeline = NULL;
        pthread_mutex_unlock(&set->lock);
        imgclass_pipeline_free(p);
        pthread_mutex_lock(&set->lock);
    }
    pthread_mutex_unlock(&set->lock);
}

void served_models_close(served_models *set)
{
    if (!set->initialized)
        return;
    served_models_stop(set);
    for (int i = 0; i < set->count; i++)
        entry_free(set->items[i]);
    set->count = 0;
    served_records_free(set->records, set->num_records);
    set->num_records = 0;
    pthread_mutex_destroy(&set->admin);
    pthread_cond_destroy(&set->released);
    pthread_mutex_destroy(&set->lock);
    set->initialized = 0;
}
