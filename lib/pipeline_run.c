/* The threads that run a pipeline: preprocessing workers, the engine's
 * team preparing between forward passes, the engine thread (one lane) or
 * the engine lanes, and delivery in submission order. lib/pipeline.c has
 * the API and says the way of one image; lib/pipeline_state.h the state
 * both halves share. */
#include "engine.h"
#include "error.h"
#include "image_internal.h"
#include "model_internal.h"
#include "pipeline_state.h"
#include "prepare_order.h"
#include "thread_priority.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double us_between(int64_t a, int64_t b)
{
    return b > a ? (double)(b - a) / 1000.0 : 0.0;
}

/* ---- batches -------------------------------------------------------------- */

static void batch_open(imgclass_pipeline *p, pipe_batch *b)
{
    b->id = p->next_batch_id++;
    b->state = BATCH_FILLING;
    b->claimed = b->done = 0;
    b->first_ready = -1;
    b->cut = IMGCLASS_CUT_FULL;
}

/* Closes the filling batch to new images; the next buffer becomes the one to
 * fill once the engine has given it back. Caller holds the lock. */
void ic_pipe_batch_cut(imgclass_pipeline *p, pipe_batch *b, imgclass_cut_reason why)
{
    b->state = BATCH_CUT;
    b->cut = why;
    p->fill_idx = (p->fill_idx + 1) % p->nbatches;
    pthread_cond_broadcast(&p->engine); /* lanes: the batch's own may wait */
}

/* The batch workers claim slots in, opening it if it is free; NULL while
 * every buffer is busy. Caller holds the lock. */
static pipe_batch *fill_batch(imgclass_pipeline *p)
{
    pipe_batch *b = &p->batches[p->fill_idx];
    if (b->state == BATCH_FREE)
        batch_open(p, b);
    return b->state == BATCH_FILLING ? b : NULL;
}

/* A flush asks for every job submitted before it to be in a cut batch: once
 * all of them have slots, the filling batch is cut if it holds one. */
int ic_pipe_flush_due(const imgclass_pipeline *p, const pipe_batch *b)
{
    return b->claimed > 0 && b->first_seq < p->flush_upto && p->claimed_seq >= p->flush_upto;
}

/* ---- delivery ------------------------------------------------------------- */

void ic_pipe_job_release(imgclass_pipeline *p, pipe_job *j)
{
    free(j->path);
    free(j->data_copy);
    imgclass_image_free(j->image_copy);
    free(j->error);
    j->path = NULL;
    j->data_copy = NULL;
    j->image_copy = NULL;
    j->error = NULL;
    j->in_use = 0;
    j->batch = NULL;
    j->next = p->free_jobs;
    p->free_jobs = j;
}

/* Calls the callback for `j` (without the lock), then returns the job.
 * `batch_size`/`forward_us` describe the forward pass it ran in, `b` the
 * batch it was cut in (NULL for an early failure). `top`: room for the
 * top-k of `scores` (NULL with no scores). */
static void deliver(imgclass_pipeline *p, pipe_job *j, const float *scores, imgclass_class *top,
                    int batch_size, const pipe_batch *b, double forward_us)
{
    imgclass_pipeline_result r;
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.user = j->user;
    r.seq = j->seq;
    r.status = j->status;
    r.error = j->status == IMGCLASS_OK ? "" : (j->error ? j->error : imgclass_status_str(j->status));
    r.num_classes = p->model->num_classes;
    char why[512];
    int bad = j->status == IMGCLASS_OK && scores
                  ? ic_first_non_finite(scores, p->model->num_classes)
                  : -1;
    if (bad >= 0) {
        /* No answer for this image: a per-image error naming the input and
         * the class, not probabilities of null. */
        char where[40];
        if (p->hooks.name_input)
            p->hooks.name_input(j->user, where, sizeof where);
        else
            snprintf(where, sizeof where, "input %llu", (unsigned long long)j->seq);
        snprintf(why, sizeof why,
                 "%s: engine error: the model gave a non-finite score (%s) for class %d",
                 j->path ? j->path : where, isnan(scores[bad]) ? "NaN" : "infinity", bad);
        r.status = IMGCLASS_ERR_ENGINE;
        r.error = why;
        scores = NULL;
    }
    if (r.status == IMGCLASS_OK && scores) {
        r.scores = scores;
        r.k = ic_filter_topk(p->model, &p->filter, scores, p->model->num_classes, p->k, top);
        r.top = top;
    }
    r.queued_us = us_between(j->t_submit, j->t_start);
    r.preprocess_us = us_between(j->t_start, j->t_ready);
    r.forward_us = forward_us;
    r.batch_size = batch_size;
    r.cut = b ? b->cut : IMGCLASS_CUT_FULL;
    r.batch_id = j->batch_id;
    r.batch_inputs = b ? (int)b->claimed : 0;
    /* Counted before the callback runs: a host that answers its client
     * from the callback (imgclass-serve) must find the answer already in
     * the statistics when that client asks for them next. */
    int64_t t_done = ic_pipe_now_ns();
    pthread_mutex_lock(&p->lock);
    ic_pipe_stats_delivered(&p->stats, j->status != IMGCLASS_OK, us_between(j->t_submit, t_done),
                            r.queued_us, r.preprocess_us);
    p->outstanding--;
    pthread_mutex_unlock(&p->lock);
    p->o.on_result(p->o.on_result_ctx, &r);

    pthread_mutex_lock(&p->lock);
    ic_pipe_job_release(p, j);
    pthread_cond_signal(&p->space);
    pthread_cond_broadcast(&p->progress);
    pthread_mutex_unlock(&p->lock);
}

/* ---- workers -------------------------------------------------------------- */

static imgclass_status preprocess_job(imgclass_pipeline *p, pipe_job *j)
{
    const imgclass_input *in = &j->input;
    imgclass_batch *t = &j->batch->tensor;
    switch (in->kind) {
    case IMGCLASS_INPUT_PATH:
        return imgclass_preprocess_file(in->path, p->o.decode, p->o.preprocess, t, j->slot);
    case IMGCLASS_INPUT_MEMORY:
        return imgclass_preprocess_memory(in->data, in->size, p->o.decode, p->o.preprocess, t,
                                          j->slot);
    case IMGCLASS_INPUT_IMAGE:
        return imgclass_preprocess(in->image, p->o.preprocess, t, j->slot);
    }
    return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "pipeline", "input kind %d", (int)in->kind);
}

/* Takes the FIFO's head into the next slot of `b`, the filling batch
 * (cutting it if that fills it). Caller holds the lock. */
static pipe_job *claim_job(imgclass_pipeline *p, pipe_batch *b)
{
    pipe_job *j = p->fifo_head;
    p->fifo_head = j->next;
    if (!p->fifo_head)
        p->fifo_tail = NULL;
    j->batch = b;
    j->batch_id = b->id;
    j->slot = b->claimed;
    if (b->claimed == 0)
        b->first_seq = j->seq;
    b->jobs[b->claimed++] = j;
    p->claimed_seq = j->seq + 1;
    if (b->claimed == (size_t)p->o.max_batch)
        ic_pipe_batch_cut(p, b, IMGCLASS_CUT_FULL);
    else if (ic_pipe_flush_due(p, b))
        ic_pipe_batch_cut(p, b, IMGCLASS_CUT_FLUSH);
    j->t_start = ic_pipe_now_ns();
    return j;
}

/* Decodes and preprocesses a claimed job into its slot without the lock,
 * then records it as done. Called and returns with the lock held. */
static void prepare_job(imgclass_pipeline *p, pipe_batch *b, pipe_job *j)
{
    pthread_mutex_unlock(&p->lock);
    j->status = preprocess_job(p, j);
    if (j->status != IMGCLASS_OK) {
        /* the message is thread-local: copy it in the thread that failed */
        j->error = strdup(imgclass_last_error());
    }
    j->t_ready = ic_pipe_now_ns();
    size_t slot = j->slot;
    int early = j->status != IMGCLASS_OK && !p->o.ordered;
    if (early) /* unordered: a failure need not wait for its batch */
        deliver(p, j, NULL, NULL, 0, NULL, 0.0); /* j is returned after this */

    pthread_mutex_lock(&p->lock);
    if (early)
        b->jobs[slot] = NULL;
    b->done++;
    if (b->first_ready < 0)
        b->first_ready = j->t_ready;
    pthread_cond_signal(&p->engine);
}

void *ic_pipe_worker_main(void *arg)
{
    imgclass_pipeline *p = arg;
    /* The engine first (imgclass_pipeline_options.preprocess_nice). */
    ic_thread_lower_priority(p->o.preprocess_nice);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        pipe_batch *b = NULL;
        while (!p->stopping && (!p->fifo_head || !(b = fill_batch(p))))
            pthread_cond_wait(&p->work, &p->lock);
        if (p->stopping)
            break;
        prepare_job(p, b, claim_job(p, b));
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* ---- the engine's team ---------------------------------------------------- */

/* One image of a round, on a thread of the team. The lock is taken around
 * it as a worker's is: the claim's writes happen before the preparation and
 * the preparation's before the forward pass in every thread's view
 * (libgomp's own barriers are not visible to ThreadSanitizer). */
static void team_prepare_one(void *ctx, size_t i)
{
    pipe_lane *l = ctx;
    imgclass_pipeline *p = l->p;
    pthread_mutex_lock(&p->lock);
    pipe_job *j = l->team_jobs[l->team_order[i]];
    prepare_job(p, j->batch, j);
    pthread_mutex_unlock(&p->lock);
}

/* Claims every waiting image that fits in `b`, the filling batch, and
 * prepares them on the engine's team: the CPUs that run the forward passes,
 * while no forward pass runs. Called and returns with the lock held. */
static void team_prepare_waiting(pipe_lane *l, pipe_batch *b)
{
    imgclass_pipeline *p = l->p;
    size_t n = 0;
    while (p->fifo_head && b->state == BATCH_FILLING)
        l->team_jobs[n++] = claim_job(p, b);
    p->stats.totals.engine_prepared += n;
    pthread_mutex_unlock(&p->lock);
    /* Claimed: no other thread touches these jobs until they are done. The
     * costs (stat() of files) without the lock; the order, which the team's
     * threads read, under it, as the claims were. */
    for (size_t i = 0; i < n; i++)
        l->team_cost[i] = ic_prepare_cost(&l->team_jobs[i]->input);
    pthread_mutex_lock(&p->lock);
    ic_order_largest_first(l->team_cost, l->team_order, n);
    pthread_mutex_unlock(&p->lock);
    ic_engine_parallel(n, team_prepare_one, l);
    pthread_mutex_lock(&p->lock);
}

/* ---- engine thread -------------------------------------------------------- */

/* Moves the images that preprocessed well to the front of the tensor, so the
 * forward pass spends nothing on failed slots; returns how many. */
static size_t pack_good_slots(imgclass_pipeline *p, pipe_batch *b)
{
    size_t good = 0;
    float *data = b->tensor.data;
    for (size_t i = 0; i < b->claimed; i++) {
        pipe_job *j = b->jobs[i];
        if (!j || j->status != IMGCLASS_OK)
            continue;
        if (j->slot != good)
            memcpy(data + good * p->slot_floats, data + j->slot * p->slot_floats,
                   p->slot_floats * sizeof(float));
        j->slot = good++;
    }
    return good;
}

/* What a batch's forward pass gave. */
typedef struct pass_outcome {
    size_t good;       /* images in the pass */
    double forward_us;
    imgclass_status st;
    char *engine_error; /* malloc'd message of a failed pass */
} pass_outcome;

/* The forward pass of cut batch `b`, into the lane's scores. Called without
 * the lock. */
static void forward_batch(pipe_lane *l, pipe_batch *b, pass_outcome *out)
{
    imgclass_pipeline *p = l->p;
    size_t good = pack_good_slots(p, b);
    double forward_us = 0.0;
    imgclass_status st = IMGCLASS_OK;
    char *engine_error = NULL;
    if (good > 0) {
        imgclass_batch view = b->tensor;
        view.count = good;
        view.owned = NULL;
        int64_t t0 = ic_pipe_now_ns();
        st = imgclass_predict(p->model, &view, l->scores, good * (size_t)p->model->num_classes);
        forward_us = us_between(t0, ic_pipe_now_ns());
        if (st != IMGCLASS_OK)
            engine_error = strdup(imgclass_last_error());
    }
    pthread_mutex_lock(&p->lock);
    ic_pipe_stats_batch(&p->stats, b->cut, good, forward_us);
    if (st != IMGCLASS_OK && p->engine_failure == IMGCLASS_OK) {
        p->engine_failure = st;
        p->engine_failure_msg = engine_error ? strdup(engine_error) : NULL;
    }
    pthread_mutex_unlock(&p->lock);
    out->good = good;
    out->forward_us = forward_us;
    out->st = st;
    out->engine_error = engine_error;
}

/* The callbacks of `b`'s images, in slot order. Called without the lock. */
static void deliver_batch(pipe_lane *l, pipe_batch *b, pass_outcome *o)
{
    imgclass_pipeline *p = l->p;
    const imgclass_status st = o->st;
    const char *engine_error = o->engine_error;
    const size_t good = o->good;
    const double forward_us = o->forward_us;
    for (size_t i = 0; i < b->claimed; i++) {
        pipe_job *j = b->jobs[i];
        if (!j)
            continue; /* delivered early */
        const float *scores = NULL;
        if (j->status == IMGCLASS_OK && st != IMGCLASS_OK) {
            /* the engine failed: every image of the batch fails with its message */
            j->status = st;
            j->error = engine_error ? strdup(engine_error) : NULL;
        } else if (j->status == IMGCLASS_OK) {
            scores = l->scores + j->slot * (size_t)p->model->num_classes;
        }
        int in_pass = j->status == IMGCLASS_OK || st != IMGCLASS_OK;
        deliver(p, j, scores, l->top, in_pass ? (int)good : 0, b, in_pass ? forward_us : 0.0);
    }
    free(o->engine_error);
    o->engine_error = NULL;
}

static void run_batch(pipe_lane *l, pipe_batch *b)
{
    pass_outcome o;
    forward_batch(l, b, &o);
    deliver_batch(l, b, &o);
}

/* The one engine thread (engine_lanes 1, or workers): forward passes in ring
 * order. */
void *ic_pipe_engine_main(void *arg)
{
    pipe_lane *l = arg;
    imgclass_pipeline *p = l->p;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        pipe_batch *b = &p->batches[p->fwd_idx];
        int64_t deadline = -1;
        if (b->state == BATCH_FILLING && b->claimed > 0) {
            if (ic_pipe_flush_due(p, b))
                ic_pipe_batch_cut(p, b, IMGCLASS_CUT_FLUSH);
            else if (b->first_ready >= 0 && p->o.max_delay_us >= 0 &&
                     !(p->team && p->fifo_head)) {
                /* With the team, images that already wait join the batch
                 * whatever its deadline: they take a round of preparation
                 * now, a whole forward pass later. */
                deadline = b->first_ready + p->o.max_delay_us * 1000;
                if (ic_pipe_now_ns() >= deadline)
                    ic_pipe_batch_cut(p, b, IMGCLASS_CUT_DEADLINE);
            }
        }
        if (b->state == BATCH_CUT && b->done == b->claimed) {
            b->state = BATCH_FORWARD;
            pthread_mutex_unlock(&p->lock);
            run_batch(l, b);
            pthread_mutex_lock(&p->lock);
            b->state = BATCH_FREE;
            b->claimed = b->done = 0; /* a free buffer holds no image (engine_idle) */
            p->fwd_idx = (p->fwd_idx + 1) % p->nbatches;
            pthread_cond_broadcast(&p->work); /* a buffer to fill again */
            continue;
        }
        if (p->stopping)
            break;
        if (p->team && p->fifo_head && p->fill_idx == p->fwd_idx && fill_batch(p) == b) {
            team_prepare_waiting(l, b);
            continue;
        }
        if (!p->team && p->fifo_head && p->fifo_head == p->fifo_tail && p->fill_idx == p->fwd_idx &&
            fill_batch(p) == b && b->claimed == 0) {
            /* Idle, the next forward pass has no image yet and one image
             * waits: prepare it here, at the engine's priority and with no
             * hand-off to a worker (at low load that hand-off and a worker
             * at nice 19 waiting for a busy core are the latency's tail).
             * Only a lone image: once a batch holds an image its deadline
             * runs, and the engine must be free to cut it; with more
             * waiting, the workers fill the batch faster than the engine's
             * first image would start its deadline. */
            p->stats.totals.engine_prepared++;
            prepare_job(p, b, claim_job(p, b));
            continue;
        }
        p->engine_idle = p->fill_idx == p->fwd_idx &&
                         (b->state == BATCH_FREE || (b->state == BATCH_FILLING && b->claimed == 0));
        if (b->state == BATCH_FILLING && deadline >= 0) {
            /* p->engine waits on CLOCK_MONOTONIC, the clock of ic_pipe_now_ns() */
            struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000),
                                  .tv_nsec = (long)(deadline % 1000000000)};
            pthread_cond_timedwait(&p->engine, &p->lock, &ts);
        } else {
            pthread_cond_wait(&p->engine, &p->lock);
        }
        p->engine_idle = 0; /* busy or not, submit wakes a worker until it waits again */
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* A lane of several (see the top of this file). Its batch is its own from
 * the moment it opens it: the lane claims into it, cuts it, runs it and
 * frees it; the only wait on other lanes is for its turn to deliver. */
void *ic_pipe_lane_main(void *arg)
{
    pipe_lane *l = arg;
    imgclass_pipeline *p = l->p;
    ic_engine_set_thread_team(l->threads);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        pipe_batch *b = l->batch;
        if (!b && p->fifo_head) {
            /* A batch another lane fills has images already: only a
             * freshly opened one is taken (and filled before the lock is
             * let go, so no other lane sees it empty). */
            pipe_batch *f = fill_batch(p);
            if (f && f->claimed == 0)
                l->batch = b = f;
        }
        int64_t deadline = -1;
        if (b && b->state == BATCH_FILLING) {
            if (p->fifo_head) {
                team_prepare_waiting(l, b);
                continue;
            }
            if (ic_pipe_flush_due(p, b)) {
                ic_pipe_batch_cut(p, b, IMGCLASS_CUT_FLUSH);
            } else if (b->first_ready >= 0 && p->o.max_delay_us >= 0) {
                deadline = b->first_ready + p->o.max_delay_us * 1000;
                if (ic_pipe_now_ns() >= deadline)
                    ic_pipe_batch_cut(p, b, IMGCLASS_CUT_DEADLINE);
            }
        }
        if (b && b->state == BATCH_CUT) {
            /* done == claimed: this lane's team prepared every image */
            b->state = BATCH_FORWARD;
            pthread_mutex_unlock(&p->lock);
            pass_outcome o;
            forward_batch(l, b, &o);
            pthread_mutex_lock(&p->lock);
            while (p->deliver_id != b->id)
                pthread_cond_wait(&p->engine, &p->lock);
            pthread_mutex_unlock(&p->lock);
            deliver_batch(l, b, &o);
            pthread_mutex_lock(&p->lock);
            b->state = BATCH_FREE;
            b->claimed = b->done = 0;
            l->batch = NULL;
            p->deliver_id++;
            pthread_cond_broadcast(&p->engine); /* the next turn; a free buffer */
            continue;
        }
        if (p->stopping && !b)
            break;
        if (deadline >= 0) {
            struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000),
                                  .tv_nsec = (long)(deadline % 1000000000)};
            pthread_cond_timedwait(&p->engine, &p->lock, &ts);
        } else {
            pthread_cond_wait(&p->engine, &p->lock);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}
