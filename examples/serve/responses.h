/* The JSON bodies the inference API sends, in TorchServe's shapes where
 * TorchServe has one. Each returns malloc'd text (length in *len) or NULL
 * when out of memory. */
#ifndef IMGCLASS_SERVE_RESPONSES_H
#define IMGCLASS_SERVE_RESPONSES_H

#include "served_models.h"

#include <imgclass.h>
#include <stddef.h>

/* The HTTP status of a prediction whose image got this status: 200 for
 * IMGCLASS_OK; 400 when the image is at fault (undecodable, unsupported,
 * over the pixel limit): only that request fails; 503 when the pipeline is
 * closing; 500 for the rest (engine failure, out of memory). */
int resp_http_status(imgclass_status status);

/* {"code": 404, "type": "ModelNotFoundException", "message": "..."} */
char *resp_error(int code, const char *type, const char *message, size_t *len);

/* TorchServe's image classifier: {"label": probability, ...} best first;
 * the class index as the key where the model has no labels. */
char *resp_predictions_torchserve(const imgclass_class *top, int k, size_t *len);

/* Timings of one request, microseconds. */
typedef struct resp_timing {
    int batch_size;
    double queued_us, preprocess_us, forward_us, total_us;
} resp_timing;

/* ?format=imgclass: {"model": ..., "top": [{"index", "label", "probability"}],
 * "batch_size": n, "queued_us", "preprocess_us", "forward_us", "latency_us"} */
char *resp_predictions_imgclass(const char *model, const imgclass_class *top, int k,
                                const resp_timing *t, size_t *len);

/* {"status": "Healthy"} */
char *resp_ping(size_t *len);
/* {"models": [{"modelName": ..., "modelUrl": ...}]} */
char *resp_models(served_model *const *ms, int n, size_t *len);
/* [{"modelName", "modelVersion", "modelUrl", "runtime", "batchSize",
 *   "maxBatchDelay", "input", "classes", "labels", "queueCapacity",
 *   "queueDepth", ...}] as TorchServe's describe-model answer. */
char *resp_model(const served_model *m, size_t *len);
/* The OPTIONS answer: an OpenAPI 3 description of the inference API. */
char *resp_api_description(served_model *const *ms, int n, size_t *len);

#endif
