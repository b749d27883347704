/* The models the server serves: one loaded model and one imgclass_pipeline
 * per --model, for the life of the process. The pipeline does all the
 * batching across requests; the HTTP layer only submits and receives. */
#ifndef IMGCLASS_SERVE_SERVED_MODELS_H
#define IMGCLASS_SERVE_SERVED_MODELS_H

#include "serve_config.h"

#include <imgclass.h>
#include <stdatomic.h>

/* Receives each image's result (from the pipeline's engine thread);
 * result->user is what was given to imgclass_pipeline_submit(). */
typedef void (*served_result_fn)(const imgclass_pipeline_result *result);

typedef struct served_model {
    const char *name, *path, *labels; /* borrowed from the config */
    imgclass_model *model;
    imgclass_pipeline *pipeline; /* NULL once stopped */
    int num_classes, channels, height, width;
    int batch, max_batch_delay_ms, queue;
    int has_labels;
    served_result_fn deliver;
    _Atomic int max_batch_seen; /* the largest batch a request ran in */
    /* The v2 API's (v2_api.c): infer requests, and FP32 tensor images run
     * outside the pipeline with their summed latency, for /metrics. */
    _Atomic uint64_t v2_requests, v2_tensor_images, v2_tensor_us;
} served_model;

typedef struct served_models {
    served_model *items;
    int count;
} served_models;

/* Loads every --model and starts its pipeline. On failure prints
 * "imgclass-serve: reason" and returns -1 with nothing left open. */
int served_models_open(served_models *set, const serve_config *cfg, served_result_fn deliver);
/* The model called name[0..len), or NULL. */
served_model *served_models_find(const served_models *set, const char *name, size_t len);
/* Frees every pipeline: each delivers what it accepted first, so every
 * submitted request gets its result before this returns. */
void served_models_stop(served_models *set);
/* Stops what still runs, then frees the models. */
void served_models_close(served_models *set);

#endif
