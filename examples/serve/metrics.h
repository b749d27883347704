/* The Prometheus text exposition (format 0.0.4) of GET /metrics.
 *
 * TorchServe's names where it has them, labelled as TorchServe labels them
 * (model_name, model_version):
 *   ts_inference_requests_total        images delivered by the pipeline
 *   ts_inference_latency_microseconds  their summed latency, submit to result
 *   ts_queue_latency_microseconds      their summed time waiting for a worker
 * and imgclass_* for what TorchServe does not have: batches and images per
 * batch (by why the batch was cut), the largest batch seen, failed images,
 * queue depth and capacity, a latency histogram and recent quantiles, and
 * HTTP responses by status code. Every figure except the largest batch and
 * the HTTP counts comes from imgclass_pipeline_stats_get(); the imgclass_*
 * families of the pipeline are written by examples/common/prom_text.c,
 * which imgclass-watch's /metrics shares. */
#ifndef IMGCLASS_SERVE_METRICS_H
#define IMGCLASS_SERVE_METRICS_H

#include <imgclass.h>

#include <stddef.h>
#include <stdint.h>

typedef struct metrics_model {
    const char *name;
    const char *version;
    imgclass_pipeline_stats stats;
    int max_batch_seen;
    /* The v2 API: infer requests (imgclass_v2_inference_requests_total),
     * and the FP32 tensor images that ran outside the pipeline with their
     * summed latency, counted in ts_inference_requests_total and
     * ts_inference_latency_microseconds beside the pipeline's images. */
    uint64_t v2_requests, v2_tensor_images;
    double v2_tensor_us;
} metrics_model;

/* HTTP responses sent, by status code. */
#define METRICS_HTTP_CODES 10
extern const int metrics_http_codes[METRICS_HTTP_CODES]; /* 200 400 401 404 405 408 413 500 503 other(0) */

typedef struct metrics_http {
    uint64_t responses[METRICS_HTTP_CODES];
} metrics_http;

/* Index of a status code in metrics_http_codes (the "other" slot for codes
 * not listed). */
int metrics_http_index(int code);

/* Renders the whole exposition; NULL when out of memory. The caller frees
 * the text. */
char *metrics_render(const metrics_model *models, int count, const metrics_http *http,
                     size_t *len);

/* The model lifecycle, one per name ever served (the management API loads,
 * swaps and unloads models at run time):
 *   imgclass_model_loads_total{model}    loads, start-up and swaps included
 *   imgclass_model_unloads_total{model}  unloads, and the entries a swap retired
 *   imgclass_model_info{model,version} 1 the version served now (absent
 *                                        while unloaded) */
typedef struct metrics_lifecycle {
    const char *name;
    const char *version; /* NULL while not served */
    uint64_t loads, unloads;
} metrics_lifecycle;

/* Renders those families; NULL when out of memory. The caller frees. */
char *metrics_render_lifecycle(const metrics_lifecycle *models, int count, size_t *len);

#endif
