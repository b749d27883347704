/* imgclass_pipeline: a long-lived classifier with persistent workers,
 * dynamic batching with a deadline, and backpressure.
 *
 * The way of one image:
 *   submit        caller's thread: copy what must be copied, take a job from
 *                 the free list (waiting while the queue is full), give it
 *                 the next sequence number, append it to the FIFO.
 *   worker        takes the FIFO's head and claims the next slot of the
 *                 batch being filled (both under the lock, so slots follow
 *                 sequence numbers), then decodes and preprocesses straight
 *                 into that slot without the lock. Where the engine's
 *                 threads use every CPU there are no workers: between
 *                 forward passes the engine thread claims what waits and
 *                 its own OpenMP team prepares it (ic_engine_parallel; "the
 *                 team" below, docs/engine.md "Thread budget").
 *   engine thread cuts the filling batch when it is full (a worker does it
 *                 at claim time), when max_delay has passed since its first
 *                 image was ready, or on flush; waits for the images still
 *                 being prepared in it; packs the good slots to the front;
 *                 one forward pass; top-k; callbacks in slot order.
 *
 * Batches live in a ring of buffers used in ring order: one in the forward
 * pass, the next filling, one more so that workers can run ahead while the
 * callbacks of the previous batch run. Since both batches and slots follow
 * sequence numbers, delivery in slot order of batch after batch is
 * submission order.
 *
 * Engine lanes (team mode, engine_lanes > 1; docs/engine.md "Engine
 * lanes"): several engine threads, each with an intra-op team of its own.
 * A lane opens the next batch, claims the images waiting into it, prepares
 * them on its team, runs the forward pass, and then delivers once every
 * earlier batch is delivered; meanwhile the other lanes prepare and run
 * theirs. The ring has a buffer per lane and one more.
 *
 * Every buffer (tensors, scores, jobs) is allocated at creation. Tensor and
 * score memory is not zeroed, so pages that a small load never touches cost
 * no memory (a --batch 4096 pipeline fed one image stays small). */
#include "batch_internal.h"
#include "error.h"
#include "filter.h"
#include "image_internal.h"
#include "struct_size.h"
#include "model_internal.h"
#include "pipeline_internal.h"
#include "pipeline_stats.h"
#include "pipeline_state.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

IMGCLASS_API imgclass_status imgclass_pipeline_options_init(imgclass_pipeline_options *opts,
                                                            size_t size)
{
    imgclass_pipeline_options o;
    memset(&o, 0, sizeof o);
    o.max_batch = 8;
    o.max_delay_us = 5000;
    o.preprocess_threads = 0;
    o.preprocess_nice = 19;
    o.queue_capacity = 0;
    o.topk = 5;
    o.decode = NULL;     /* the defaults */
    o.preprocess = NULL; /* the model's recipe, else the defaults */
    o.ordered = 1;
    o.filter = NULL;
    return ic_struct_init(&ic_layout_pipeline_options, opts, size, &o);
}
/* ---- creation and teardown ---------------------------------------------- */

/* How many workers, and whether the engine's team prepares instead. With
 * cores to spare, the workers take those. Without (the engine's threads use
 * every CPU), no workers: threads beside the engine's could only take CPU
 * from its forward passes (a preempted OpenMP thread stalls the team at its
 * next barrier), so the engine's own team prepares each batch between
 * passes, on every core. Measured on 2 CPUs (docs/engine.md, "Thread
 * budget"): the steady state of `imgclass classify` in float32 went from
 * 0.83 of the forward pass with two nice-19 workers to 0.91. */
static int pick_preparers(int requested, int *team)
{
    *team = 0;
    if (requested > 0)
        return requested;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    int engine = imgclass_get_num_threads();
    long n = cpus - (engine > 0 ? engine : 1);
    if (n < 1) {
        *team = 1;
        return 0;
    }
    return (int)(n < 64 ? n : 64);
}

/* How many engine lanes, and each one's intra-op threads. Only where the
 * team prepares: with workers the engine thread stays alone. The default
 * (0) is 2 lanes for an int8 model with at least 2 engine threads: its
 * forward pass is short, so the serial parts of each pass (where all but
 * one of a team's threads wait) and the join after each team round cost
 * it the most; two lanes of one thread each have neither. Measured on 2
 * CPUs (docs/engine.md, "Engine lanes"): int8 classify +~10 %, float32 no
 * gain, so float32 keeps one lane and its shorter batch latency. */
static int pick_lanes(const imgclass_model *model, const imgclass_pipeline_options *o, int team,
                      int *lane_threads)
{
    int engine = imgclass_get_num_threads();
    if (engine < 1)
        engine = 1;
    int lanes = o->engine_lanes;
    if (!team)
        lanes = 1;
    else if (lanes == 0)
        lanes = model->described.quantized && engine >= 2 ? 2 : 1;
    *lane_threads = o->engine_lane_threads > 0 ? o->engine_lane_threads
                                               : (engine / lanes > 1 ? engine / lanes : 1);
    return lanes;
}

/* The library's copies of a caller's options and of the options they point
 * at, read as far as the caller's structs go (struct_size.h). */
typedef struct read_options {
    imgclass_pipeline_options o; /* decode, preprocess, filter point below */
    imgclass_decode_options decode;
    imgclass_preprocess_options preprocess;
    imgclass_filter filter;
} read_options;

static imgclass_status read_caller_options(const imgclass_model *model,
                                           const imgclass_pipeline_options *given, read_options *r)
{
    r->o = imgclass_pipeline_options_default();
    imgclass_status st = ic_struct_read(&ic_layout_pipeline_options, given, &r->o, NULL);
    if (st != IMGCLASS_OK)
        return st;
    r->decode = imgclass_decode_options_default();
    r->preprocess = imgclass_preprocess_options_default();
    r->filter = imgclass_filter_default();
    const imgclass_decode_options *d = r->o.decode;
    const imgclass_preprocess_options *pp = r->o.preprocess;
    const imgclass_filter *f = r->o.filter;
    st = ic_read_decode_options(&d, &r->decode, "imgclass_pipeline_options.decode");
    if (st == IMGCLASS_OK)
        st = ic_read_preprocess_options(&pp, &r->preprocess, "imgclass_pipeline_options.preprocess");
    if (st == IMGCLASS_OK)
        st = ic_read_filter(&f, &r->filter, "imgclass_pipeline_options.filter");
    if (st != IMGCLASS_OK)
        return st;
    if (!pp) /* NULL: the model's own (its recipe, else the defaults) */
        st = imgclass_model_preprocess_options(model, &r->preprocess);
    r->o.decode = &r->decode;
    r->o.preprocess = &r->preprocess;
    r->o.filter = &r->filter;
    return st;
}

static imgclass_status check_options(const imgclass_model *model,
                                     const imgclass_pipeline_options *o, int check_output_size)
{
    const char *bad = NULL;
    if (o->max_batch < 1)
        bad = "max_batch must be >= 1";
    else if (o->max_delay_us < -1)
        bad = "max_delay_us must be >= 0, or -1 for no deadline";
    else if (o->max_delay_us > (int64_t)3600 * 1000000)
        bad = "max_delay_us must be at most an hour";
    else if (o->preprocess_threads < 0 || o->preprocess_threads > 1024)
        bad = "preprocess_threads must be 0..1024";
    else if (o->queue_capacity < 0)
        bad = "queue_capacity must be >= 0";
    else if (o->preprocess_nice < 0 || o->preprocess_nice > 19)
        bad = "preprocess_nice must be 0..19";
    else if (o->engine_lanes < 0 || o->engine_lanes > 64)
        bad = "engine_lanes must be 0..64";
    else if (o->engine_lane_threads < 0 || o->engine_lane_threads > 1024)
        bad = "engine_lane_threads must be 0..1024";
    else if (ic_filter_resolve_topk(o->topk, model->num_classes) < 1)
        bad = "topk must be >= 1, or -1 for all classes";
    else if (!o->on_result)
        bad = "on_result is NULL";
    if (bad)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_create", "%s", bad);
    if (model->channels != 3)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_create",
                       "the model takes %d channels; images give 3", model->channels);
    /* Where the output size does not depend on the image, it must be the
     * model's input size; otherwise each image is checked as it comes. */
    int h, w;
    if (imgclass_preprocess_output_size(o->preprocess, 1000, 1000, &h, &w) != IMGCLASS_OK)
        return IMGCLASS_ERR_INVALID_ARGUMENT;
    if (!check_output_size)
        return IMGCLASS_OK;
    int fixed = o->preprocess->resize_mode == IMGCLASS_RESIZE_EXACT ||
                (o->preprocess->crop_width > 0 && o->preprocess->crop_height > 0);
    if (fixed && (h != model->height || w != model->width))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_create",
                       "preprocessing gives %d x %d, the model takes %d x %d", h, w, model->height,
                       model->width);
    return IMGCLASS_OK;
}

static void *alloc_lazy(size_t bytes)
{
    /* Not zeroed: large blocks come from mmap and cost memory only once
     * touched. Every slot is fully written before it is read. */
    size_t padded = (bytes + IC_PIPE_TENSOR_ALIGN - 1) / IC_PIPE_TENSOR_ALIGN * IC_PIPE_TENSOR_ALIGN;
    void *mem = NULL;
    if (padded < bytes || posix_memalign(&mem, IC_PIPE_TENSOR_ALIGN, padded) != 0)
        return NULL;
    return mem;
}

static imgclass_status allocate(imgclass_pipeline *p)
{
    const imgclass_model *m = p->model;
    size_t cap = (size_t)p->o.queue_capacity;
    size_t mb = (size_t)p->o.max_batch;
    size_t nc = (size_t)m->num_classes;
    p->slot_floats = (size_t)3 * (size_t)m->height * (size_t)m->width;
    if (mb > SIZE_MAX / sizeof(float) / p->slot_floats || mb > SIZE_MAX / sizeof(float) / nc)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, "imgclass_pipeline_create", "batches of %zu", mb);
    p->jobs = calloc(cap, sizeof *p->jobs);
    p->lanes = calloc((size_t)p->nlanes, sizeof *p->lanes);
    p->nbatches = p->nlanes > 1 ? (size_t)p->nlanes + 1 : IC_PIPE_BUFFERS;
    p->batches = calloc(p->nbatches, sizeof *p->batches);
    if (!p->jobs || !p->lanes || !p->batches)
        return ic_error_oom("imgclass_pipeline_create", "job buffers");
    for (int i = 0; i < p->nlanes; i++) {
        pipe_lane *l = &p->lanes[i];
        l->p = p;
        l->scores = alloc_lazy(mb * nc * sizeof(float));
        l->top = calloc((size_t)p->k, sizeof *l->top);
        l->team_jobs = calloc(mb, sizeof *l->team_jobs);
        l->team_cost = calloc(mb, sizeof *l->team_cost);
        l->team_order = calloc(mb, sizeof *l->team_order);
        if (!l->scores || !l->top || !l->team_jobs || !l->team_cost || !l->team_order)
            return ic_error_oom("imgclass_pipeline_create", "score buffers");
    }
    for (size_t i = cap; i-- > 0;) {
        p->jobs[i].next = p->free_jobs;
        p->free_jobs = &p->jobs[i];
    }
    for (size_t i = 0; i < p->nbatches; i++) {
        pipe_batch *b = &p->batches[i];
        b->jobs = calloc(mb, sizeof *b->jobs);
        b->tensor.data = b->tensor.owned = alloc_lazy(mb * p->slot_floats * sizeof(float));
        b->tensor.count = mb;
        b->tensor.height = m->height;
        b->tensor.width = m->width;
        if (!b->jobs || !b->tensor.data)
            return ic_error_oom("imgclass_pipeline_create", "batch tensors");
    }
    return ic_pipe_stats_init(&p->stats, p->o.queue_capacity);
}

/* Stops and joins whatever threads run; frees everything. The queue must be
 * empty (or the threads never started). */
static void destroy(imgclass_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_cond_broadcast(&p->engine);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    for (int i = 0; p->lanes && i < p->nlanes; i++)
        if (p->lanes[i].started)
            pthread_join(p->lanes[i].thread, NULL);
    if (p->jobs)
        for (size_t i = 0; i < (size_t)p->o.queue_capacity; i++)
            if (p->jobs[i].in_use)
                ic_pipe_job_release(p, &p->jobs[i]);
    for (size_t i = 0; p->batches && i < p->nbatches; i++) {
        free(p->batches[i].jobs);
        free(p->batches[i].tensor.owned);
    }
    for (int i = 0; p->lanes && i < p->nlanes; i++) {
        pipe_lane *l = &p->lanes[i];
        free(l->scores);
        free(l->top);
        free(l->team_jobs);
        free(l->team_cost);
        free(l->team_order);
    }
    ic_pipe_stats_free(&p->stats);
    free(p->workers);
    free(p->lanes);
    free(p->batches);
    free(p->jobs);
    free(p->engine_failure_msg);
    ic_filter_release(&p->filter);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->engine);
    pthread_cond_destroy(&p->space);
    pthread_cond_destroy(&p->progress);
    free(p);
}

IMGCLASS_API imgclass_status imgclass_pipeline_create(const imgclass_model *model,
                                                      const imgclass_pipeline_options *options,
                                                      imgclass_pipeline **out)
{
    return ic_pipeline_create(model, options, NULL, out);
}

imgclass_status ic_pipeline_create(const imgclass_model *model,
                                   const imgclass_pipeline_options *options,
                                   const ic_pipeline_hooks *hooks, imgclass_pipeline **out)
{
    if (!model || !options || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_create", "NULL %s",
                       !model ? "model" : !options ? "options" : "out");
    *out = NULL;
    ic_pipeline_hooks h = {.check_output_size = 1};
    if (hooks)
        h = *hooks;
    read_options ro;
    imgclass_status st = read_caller_options(model, options, &ro);
    if (st == IMGCLASS_OK)
        st = check_options(model, &ro.o, h.check_output_size);
    if (st != IMGCLASS_OK)
        return st;
    ic_filter filter;
    st = ic_filter_compile(model, ro.o.filter, "imgclass_pipeline_create", &filter);
    if (st != IMGCLASS_OK)
        return st;
    imgclass_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        ic_filter_release(&filter);
        return ic_error_oom("imgclass_pipeline_create", "the pipeline");
    }
    p->model = model;
    p->o = ro.o;
    p->decode = ro.decode;
    p->preprocess = ro.preprocess;
    p->o.decode = &p->decode;
    p->o.preprocess = &p->preprocess;
    p->hooks = h;
    /* The caller's lists need not outlive this call: only the resolved
     * flags are kept. */
    p->o.filter = NULL;
    p->filter = filter;
    if (p->o.queue_capacity == 0)
        p->o.queue_capacity = p->o.max_batch <= INT32_MAX / 4 ? 4 * p->o.max_batch : INT32_MAX;
    p->k = ic_filter_resolve_topk(p->o.topk, model->num_classes);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_condattr_t mono;
    pthread_condattr_init(&mono);
    pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
    pthread_cond_init(&p->engine, &mono);
    pthread_condattr_destroy(&mono);
    pthread_cond_init(&p->space, NULL);
    pthread_cond_init(&p->progress, NULL);

    int nworkers = pick_preparers(p->o.preprocess_threads, &p->team);
    int lane_threads = 1;
    p->nlanes = pick_lanes(model, &p->o, p->team, &lane_threads);
    st = allocate(p);
    /* + 1: calloc(0) may return NULL (the team mode has no workers) */
    p->workers = st == IMGCLASS_OK ? calloc((size_t)nworkers + 1, sizeof *p->workers) : NULL;
    if (st == IMGCLASS_OK && !p->workers)
        st = ic_error_oom("imgclass_pipeline_create", "thread handles");
    for (int i = 0; st == IMGCLASS_OK && i < p->nlanes; i++) {
        pipe_lane *l = &p->lanes[i];
        l->threads = lane_threads;
        if (pthread_create(&l->thread, NULL, p->nlanes > 1 ? ic_pipe_lane_main : ic_pipe_engine_main, l) != 0)
            st = ic_fail(IMGCLASS_ERR_OUT_OF_MEMORY, "imgclass_pipeline_create",
                         "cannot start engine thread %d of %d", i + 1, p->nlanes);
        l->started = st == IMGCLASS_OK;
    }
    for (; st == IMGCLASS_OK && p->nworkers < nworkers; p->nworkers++)
        if (pthread_create(&p->workers[p->nworkers], NULL, ic_pipe_worker_main, p) != 0)
            st = ic_fail(IMGCLASS_ERR_OUT_OF_MEMORY, "imgclass_pipeline_create",
                         "cannot start worker %d of %d", p->nworkers + 1, nworkers);
    if (st != IMGCLASS_OK) {
        destroy(p);
        return st;
    }
    p->o.preprocess_threads = nworkers;
    p->o.engine_lanes = p->nlanes;
    *out = p;
    return IMGCLASS_OK;
}

/* ---- submit, flush, stats, free ----------------------------------------- */

static imgclass_status check_input(const imgclass_input *in)
{
    switch (in->kind) {
    case IMGCLASS_INPUT_PATH:
        if (!in->path)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_submit", "NULL path");
        return IMGCLASS_OK;
    case IMGCLASS_INPUT_MEMORY:
        if (!in->data)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "memory buffer", "NULL data");
        return IMGCLASS_OK;
    case IMGCLASS_INPUT_IMAGE:
        if (!in->image)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_submit", "NULL image");
        return IMGCLASS_OK;
    }
    return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_submit",
                   "unknown input kind %d", (int)in->kind);
}

/* The copies a job owns, made before the lock is taken. */
typedef struct job_copies {
    char *path;
    void *data;
    imgclass_image *image;
} job_copies;

static imgclass_status make_copies(const imgclass_input *in, unsigned flags, job_copies *c)
{
    memset(c, 0, sizeof *c);
    if (in->kind == IMGCLASS_INPUT_PATH) {
        c->path = strdup(in->path);
        if (!c->path)
            return ic_error_oom(in->path, "a copy of the path");
    } else if (in->kind == IMGCLASS_INPUT_MEMORY && (flags & IMGCLASS_SUBMIT_COPY)) {
        c->data = malloc(in->size ? in->size : 1);
        if (!c->data)
            return ic_error_oom("memory buffer", "a copy of the buffer");
        memcpy(c->data, in->data, in->size);
    } else if (in->kind == IMGCLASS_INPUT_IMAGE && (flags & IMGCLASS_SUBMIT_COPY)) {
        return ic_image_copy(in->image, &c->image);
    }
    return IMGCLASS_OK;
}

static void free_copies(job_copies *c)
{
    free(c->path);
    free(c->data);
    imgclass_image_free(c->image);
}

IMGCLASS_API imgclass_status imgclass_pipeline_submit(imgclass_pipeline *p,
                                                      const imgclass_input *input, void *user,
                                                      unsigned flags, uint64_t *seq)
{
    if (!p || !input)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_submit", "NULL %s",
                       !p ? "pipeline" : "input");
    if (flags & ~(IMGCLASS_SUBMIT_NONBLOCK | IMGCLASS_SUBMIT_COPY))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_submit",
                       "unknown flags 0x%x", flags);
    imgclass_input in = {0};
    imgclass_status st = ic_struct_read(&ic_layout_input, input, &in, NULL);
    if (st != IMGCLASS_OK)
        return st;
    input = &in;
    st = check_input(input);
    job_copies c;
    if (st == IMGCLASS_OK)
        st = make_copies(input, flags, &c);
    if (st != IMGCLASS_OK)
        return st;

    pthread_mutex_lock(&p->lock);
    while (!p->closing && !p->free_jobs) {
        if (flags & IMGCLASS_SUBMIT_NONBLOCK)
            break;
        pthread_cond_wait(&p->space, &p->lock);
    }
    if (p->closing || !p->free_jobs) {
        int closing = p->closing;
        pthread_mutex_unlock(&p->lock);
        free_copies(&c);
        if (closing)
            return ic_fail(IMGCLASS_ERR_CLOSED, "imgclass_pipeline_submit",
                           "the pipeline is shutting down");
        return ic_fail(IMGCLASS_ERR_BUSY, "imgclass_pipeline_submit",
                       "%d images queued (queue_capacity)", p->o.queue_capacity);
    }
    pipe_job *j = p->free_jobs;
    p->free_jobs = j->next;
    memset(j, 0, sizeof *j);
    j->in_use = 1;
    j->seq = p->next_seq++;
    j->user = user;
    j->input = *input;
    j->path = c.path;
    j->data_copy = c.data;
    j->image_copy = c.image;
    if (c.path)
        j->input.path = c.path;
    if (c.data)
        j->input.data = c.data;
    if (c.image)
        j->input.image = c.image;
    j->t_submit = ic_pipe_now_ns();
    if (p->fifo_tail)
        p->fifo_tail->next = j;
    else
        p->fifo_head = j;
    p->fifo_tail = j;
    p->outstanding++;
    ic_pipe_stats_submitted(&p->stats);
    if (seq)
        *seq = j->seq;
    if (p->team || (p->engine_idle && p->fifo_head == j)) {
        /* the team prepares it, or a lone image: the engine prepares it;
         * with lanes, any of them may be the one to */
        p->engine_idle = 0;
        pthread_cond_broadcast(&p->engine);
    } else {
        pthread_cond_signal(&p->work);
    }
    pthread_mutex_unlock(&p->lock);
    return IMGCLASS_OK;
}

/* Whether any job submitted before `upto` is still undelivered. */
static int pending_before(const imgclass_pipeline *p, uint64_t upto)
{
    for (size_t i = 0; i < (size_t)p->o.queue_capacity; i++)
        if (p->jobs[i].in_use && p->jobs[i].seq < upto)
            return 1;
    return 0;
}

/* Cuts everything submitted so far and waits for its delivery. Caller holds
 * the lock. */
static void drain_locked(imgclass_pipeline *p)
{
    uint64_t upto = p->next_seq;
    if (upto > p->flush_upto)
        p->flush_upto = upto;
    pipe_batch *b = &p->batches[p->fill_idx];
    if (b->state == BATCH_FILLING && ic_pipe_flush_due(p, b))
        ic_pipe_batch_cut(p, b, IMGCLASS_CUT_FLUSH);
    pthread_cond_broadcast(&p->engine);
    while (pending_before(p, upto))
        pthread_cond_wait(&p->progress, &p->lock);
}

IMGCLASS_API imgclass_status imgclass_pipeline_flush(imgclass_pipeline *p)
{
    if (!p)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_flush", "NULL pipeline");
    pthread_mutex_lock(&p->lock);
    drain_locked(p);
    pthread_mutex_unlock(&p->lock);
    return IMGCLASS_OK;
}

IMGCLASS_API imgclass_status imgclass_pipeline_stats_get(const imgclass_pipeline *pipeline,
                                                         imgclass_pipeline_stats *out)
{
    if (!pipeline || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_pipeline_stats_get", "NULL %s",
                       !pipeline ? "pipeline" : "out");
    imgclass_status st = ic_struct_check_out(&ic_layout_pipeline_stats, out, NULL);
    if (st != IMGCLASS_OK)
        return st;
    imgclass_pipeline *p = (imgclass_pipeline *)pipeline; /* the lock is not state */
    imgclass_pipeline_stats snap;
    pthread_mutex_lock(&p->lock);
    ic_pipe_stats_snapshot(&p->stats, p->outstanding, &snap);
    pthread_mutex_unlock(&p->lock);
    ic_struct_write(&ic_layout_pipeline_stats, &snap, out);
    return IMGCLASS_OK;
}

imgclass_status ic_pipeline_engine_failure(const imgclass_pipeline *pipeline, char *buf,
                                           size_t size)
{
    imgclass_pipeline *p = (imgclass_pipeline *)pipeline; /* the lock is not state */
    pthread_mutex_lock(&p->lock);
    imgclass_status st = p->engine_failure;
    if (size > 0)
        snprintf(buf, size, "%s",
                 p->engine_failure_msg ? p->engine_failure_msg : imgclass_status_str(st));
    pthread_mutex_unlock(&p->lock);
    return st;
}

IMGCLASS_API void imgclass_pipeline_free(imgclass_pipeline *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->closing = 1;
    pthread_cond_broadcast(&p->space); /* blocked submitters give up */
    drain_locked(p);
    pthread_mutex_unlock(&p->lock);
    destroy(p);
}
