/* Prometheus exposition; the metric set is described in metrics.h. */
#include "metrics.h"

#include "json_buf.h"
#include "prom_text.h"

#include <stdio.h>
#include <stdlib.h>

const int metrics_http_codes[METRICS_HTTP_CODES] = {200, 400, 401, 404, 405, 408, 413, 500, 503, 0};

int metrics_http_index(int code)
{
    for (int i = 0; i < METRICS_HTTP_CODES - 1; i++)
        if (metrics_http_codes[i] == code)
            return i;
    return METRICS_HTTP_CODES - 1;
}

/* Model names are restricted to [A-Za-z0-9_.-] by the command line, so
 * they need no escaping inside a label value. */
#define LABELS "model_name=\"%s\",model_version=\"%s\""

typedef double (*model_value_fn)(const metrics_model *m);

static double v_delivered(const metrics_model *m)
{
    return (double)(m->stats.delivered + m->v2_tensor_images);
}
static double v_latency_sum(const metrics_model *m)
{
    return m->stats.latency_sum_us + m->v2_tensor_us;
}
static double v_v2_requests(const metrics_model *m) { return (double)m->v2_requests; }
static double v_queued_sum(const metrics_model *m) { return m->stats.queued_sum_us; }

/* TorchServe's families, one sample per model; the imgclass_* ones of the
 * pipeline are prom_text.c's, shared with imgclass-watch. */
static const struct {
    const char *name, *type, *help;
    model_value_fn value;
} ts_families[] = {
    {"ts_inference_requests_total", "counter",
     "Inference requests answered (images delivered by the pipeline, and images of v2 FP32 "
     "tensors).", v_delivered},
    {"ts_inference_latency_microseconds", "counter",
     "Total inference latency in microseconds, submit to result.", v_latency_sum},
    {"ts_queue_latency_microseconds", "counter",
     "Total time in microseconds requests waited in the queue for a worker.", v_queued_sum},
    {"imgclass_v2_inference_requests_total", "counter",
     "Open Inference Protocol (v2) infer requests received for the model.", v_v2_requests},
};

/* 0, or -1 when out of memory. */
static int write_all(FILE *f, const metrics_model *ms, int n, const metrics_http *http)
{
    prom_pipeline *p = calloc((size_t)n + 1, sizeof *p);
    char **labels = calloc((size_t)n + 1, sizeof *labels);
    int rc = p && labels ? 0 : -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        size_t len = (size_t)snprintf(NULL, 0, LABELS, ms[i].name, ms[i].version) + 1;
        if (!(labels[i] = malloc(len)))
            rc = -1;
        else
            snprintf(labels[i], len, LABELS, ms[i].name, ms[i].version);
    }
    if (rc == 0) {
        for (size_t k = 0; k < sizeof ts_families / sizeof ts_families[0]; k++) {
            prom_header(f, ts_families[k].name, ts_families[k].type, ts_families[k].help);
            for (int i = 0; i < n; i++)
                prom_sample(f, ts_families[k].name, labels[i], NULL, ts_families[k].value(&ms[i]));
        }
        for (int i = 0; i < n; i++)
            p[i] = (prom_pipeline){labels[i], &ms[i].stats, ms[i].max_batch_seen};
        prom_pipeline_families(f, p, n);

        prom_header(f, "imgclass_http_responses_total", "counter",
                    "HTTP responses sent, by status code.");
        for (int i = 0; i < METRICS_HTTP_CODES; i++) {
            char code[32];
            if (metrics_http_codes[i])
                snprintf(code, sizeof code, "code=\"%d\"", metrics_http_codes[i]);
            else
                snprintf(code, sizeof code, "code=\"other\"");
            prom_sample(f, "imgclass_http_responses_total", NULL, code,
                        (double)http->responses[i]);
        }
    }
    for (int i = 0; labels && i < n; i++)
        free(labels[i]);
    free(labels);
    free(p);
    return rc;
}

char *metrics_render(const metrics_model *models, int count, const metrics_http *http,
                     size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    int rc = write_all(b.f, models, count, http);
    char *text = json_buf_finish(&b, len);
    if (rc) {
        free(text);
        return NULL;
    }
    return text;
}

char *metrics_render_lifecycle(const metrics_lifecycle *ms, int n, size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    char labels[256];
    prom_header(b.f, "imgclass_model_loads_total", "counter",
                "Model loads by name: start-up, registrations and swaps.");
    for (int i = 0; i < n; i++) {
        snprintf(labels, sizeof labels, "model=\"%s\"", ms[i].name);
        prom_sample(b.f, "imgclass_model_loads_total", labels, NULL, (double)ms[i].loads);
    }
    prom_header(b.f, "imgclass_model_unloads_total", "counter",
                "Model unloads by name, the old entries that swaps retired included.");
    for (int i = 0; i < n; i++) {
        snprintf(labels, sizeof labels, "model=\"%s\"", ms[i].name);
        prom_sample(b.f, "imgclass_model_unloads_total", labels, NULL, (double)ms[i].unloads);
    }
    prom_header(b.f, "imgclass_model_info", "gauge",
                "1 for the version of each model served now.");
    for (int i = 0; i < n; i++) {
        if (!ms[i].version)
            continue;
        snprintf(labels, sizeof labels, "model=\"%s\",version=\"%s\"", ms[i].name,
                 ms[i].version);
        prom_sample(b.f, "imgclass_model_info", labels, NULL, 1);
    }
    return json_buf_finish(&b, len);
}
