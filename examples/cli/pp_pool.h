/* A small pool of threads that decode and preprocess files into slots of a
 * batch (imgclass_preprocess_file), so the images of one batch are prepared
 * in parallel. One submitter at a time: jobs are submitted, then
 * pp_pool_wait() returns once all of them are done. */
#ifndef IMGCLASS_CLI_PP_POOL_H
#define IMGCLASS_CLI_PP_POOL_H

#include <imgclass.h>
#include <stddef.h>

typedef struct pp_job {
    char *path;           /* the input as it is printed; owned by the job's owner */
    imgclass_batch *batch;
    size_t slot;
    imgclass_status status; /* filled when done */
    char *error;            /* filled when done and failed (owned by the job's owner) */
} pp_job;

typedef struct pp_pool pp_pool;

/* threads == 0 runs each job in pp_pool_submit() itself. The options are
 * copied. NULL when out of memory or threads cannot start. */
pp_pool *pp_pool_new(int threads, const imgclass_decode_options *decode,
                     const imgclass_preprocess_options *preprocess);
/* Queues a job; it stays owned by the caller and must live until
 * pp_pool_wait() returns. */
void pp_pool_submit(pp_pool *pool, pp_job *job);
void pp_pool_wait(pp_pool *pool);
void pp_pool_free(pp_pool *pool);

#endif
