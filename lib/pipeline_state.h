/* Internal: the pipeline's state, shared by its two halves: the API
 * (lib/pipeline.c: options, creation, submit, flush, stats, free) and the
 * threads that run it (lib/pipeline_run.c: workers, the engine thread or
 * lanes, the team's preparing, delivery). lib/pipeline.c's opening comment
 * says the way of one image through them. */
#ifndef IMGCLASS_PIPELINE_STATE_H
#define IMGCLASS_PIPELINE_STATE_H

#include "batch_internal.h"
#include "filter.h"
#include "imgclass.h"
#include "pipeline_internal.h"
#include "pipeline_stats.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define IC_PIPE_BUFFERS 3 /* with one engine thread */
#define IC_PIPE_TENSOR_ALIGN 64

typedef struct pipe_batch pipe_batch;

typedef struct pipe_job {
    struct pipe_job *next; /* FIFO or free list */
    int in_use;
    uint64_t seq;
    void *user;
    imgclass_input input;  /* path points to `path`; data/image to the copies if any */
    char *path;            /* our copy of a path */
    void *data_copy;       /* IMGCLASS_SUBMIT_COPY of a memory buffer */
    imgclass_image *image_copy; /* IMGCLASS_SUBMIT_COPY of an image */
    int64_t t_submit, t_start, t_ready;
    imgclass_status status;
    char *error;           /* malloc'd message of a failure */
    pipe_batch *batch;
    uint64_t batch_id;
    size_t slot;
} pipe_job;

enum batch_state { BATCH_FREE, BATCH_FILLING, BATCH_CUT, BATCH_FORWARD };

struct pipe_batch {
    enum batch_state state;
    imgclass_batch tensor;   /* capacity max_batch slots */
    pipe_job **jobs;         /* slot -> job; NULL once delivered early */
    size_t claimed, done;
    uint64_t first_seq;      /* sequence number of slot 0 */
    int64_t first_ready;     /* when its first image finished, -1 before */
    imgclass_cut_reason cut;
    uint64_t id;             /* numbered in the order batches are opened */
};

/* An engine thread and what only it touches. */
typedef struct pipe_lane {
    imgclass_pipeline *p;
    int threads;                /* its intra-op team, with several lanes */
    float *scores;              /* max_batch x num_classes */
    imgclass_class *top;        /* k entries */
    /* The images of one team round, their costs (ic_prepare_cost()) and
     * the order the team takes them in: largest first. */
    pipe_job **team_jobs;
    uint64_t *team_cost;
    size_t *team_order;
    pipe_batch *batch;          /* with several lanes: the batch it fills and runs */
    pthread_t thread;
    int started;
} pipe_lane;

struct imgclass_pipeline {
    const imgclass_model *model;
    imgclass_pipeline_options o;
    ic_pipeline_hooks hooks;
    size_t slot_floats;
    int k;                      /* top-k after clamping */

    pthread_mutex_t lock;
    pthread_cond_t work;        /* workers: a job or a batch slot became available */
    pthread_cond_t engine;      /* engine: a batch may be ready or must be cut */
    pthread_cond_t space;       /* submitters: a job was returned */
    pthread_cond_t progress;    /* flush/free: something was delivered */

    pipe_job *jobs;             /* queue_capacity of them */
    pipe_job *free_jobs;
    pipe_job *fifo_head, *fifo_tail;
    uint64_t next_seq;          /* the next sequence number to give */
    uint64_t claimed_seq;       /* jobs with seq below this have a slot */
    uint64_t flush_upto;        /* cut batches until every seq below this is cut */
    size_t outstanding;         /* accepted, not delivered */
    int closing;                /* submit refuses; free() is draining */
    int engine_idle;            /* the engine waits with no image for its next pass */
    int stopping;               /* threads exit */
    /* No workers: the engine's team prepares every image, between forward
     * passes (pick_preparers()). */
    int team;
    pipe_lane *lanes;           /* lanes[0] alone unless the team has lanes */
    int nlanes;
    uint64_t deliver_id;        /* with lanes: the batch whose turn it is to deliver */

    pipe_batch *batches;        /* the ring */
    size_t nbatches;
    size_t fill_idx, fwd_idx;
    uint64_t next_batch_id;

    ic_filter filter;           /* options.filter resolved; read-only after create */
    /* The library's copies that o.decode and o.preprocess point at. */
    imgclass_decode_options decode;
    imgclass_preprocess_options preprocess;

    ic_pipe_stats stats;
    imgclass_status engine_failure; /* the first failed forward pass, under lock */
    char *engine_failure_msg;

    pthread_t *workers;
    int nworkers;
};

static inline int64_t ic_pipe_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- lib/pipeline_run.c, for the API's half ------------------------------ */

/* Closes the filling batch `b` to new images (`why` it was cut); the next
 * buffer becomes the one to fill. Caller holds the lock. */
void ic_pipe_batch_cut(imgclass_pipeline *p, pipe_batch *b, imgclass_cut_reason why);

/* Whether a flush asks for the filling batch `b` to be cut now. Caller
 * holds the lock. */
int ic_pipe_flush_due(const imgclass_pipeline *p, const pipe_batch *b);

/* Frees a job's copies and message and returns it to the free list.
 * Caller holds the lock. */
void ic_pipe_job_release(imgclass_pipeline *p, pipe_job *j);

/* Thread mains: a preprocessing worker (arg: the pipeline), the engine
 * thread with one lane, and a lane of several (arg: its pipe_lane). */
void *ic_pipe_worker_main(void *arg);
void *ic_pipe_engine_main(void *arg);
void *ic_pipe_lane_main(void *arg);

#endif
