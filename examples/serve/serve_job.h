/* What a pipeline submission's `user` pointer points at: a struct whose
 * first member is a serve_job. The models' pipelines deliver every result
 * to serve_job_deliver(), which hands it to the API that submitted it
 * (TorchServe's /predictions in http_api.c, or the v2 protocol's infer in
 * v2_api.c), so the pipelines need not know who submitted what. */
#ifndef IMGCLASS_SERVE_JOB_H
#define IMGCLASS_SERVE_JOB_H

#include <imgclass.h>

typedef struct serve_job {
    /* Receives the result; result->user is this serve_job. */
    void (*deliver)(const imgclass_pipeline_result *result);
} serve_job;

static inline void serve_job_deliver(const imgclass_pipeline_result *result)
{
    const serve_job *job = result->user;
    job->deliver(result);
}

#endif
