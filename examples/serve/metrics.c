/* Prometheus exposition; the metric set is described in metrics.h. */
#include "metrics.h"

#include "json_buf.h"

#include <stdio.h>

const int metrics_http_codes[METRICS_HTTP_CODES] = {200, 400, 404, 405, 408, 413, 500, 503, 0};

int metrics_http_index(int code)
{
    for (int i = 0; i < METRICS_HTTP_CODES - 1; i++)
        if (metrics_http_codes[i] == code)
            return i;
    return METRICS_HTTP_CODES - 1;
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Model names are restricted to [A-Za-z0-9_.-] by the command line, so
 * they need no escaping inside a label value. */
#define LABELS "model_name=\"%s\",model_version=\"%s\""

typedef double (*model_value_fn)(const metrics_model *m);

static double v_delivered(const metrics_model *m) { return (double)m->stats.delivered; }
static double v_latency_sum(const metrics_model *m) { return m->stats.latency_sum_us; }
static double v_queued_sum(const metrics_model *m) { return m->stats.queued_sum_us; }
static double v_preprocess_sum(const metrics_model *m) { return m->stats.preprocess_sum_us; }
static double v_forward_sum(const metrics_model *m) { return m->stats.forward_sum_us; }
static double v_submitted(const metrics_model *m) { return (double)m->stats.submitted; }
static double v_failed(const metrics_model *m) { return (double)m->stats.failed; }
static double v_batched(const metrics_model *m) { return (double)m->stats.batched_images; }
static double v_max_batch(const metrics_model *m) { return m->max_batch_seen; }
static double v_depth(const metrics_model *m) { return (double)m->stats.queue_depth; }
static double v_capacity(const metrics_model *m) { return m->stats.queue_capacity; }

/* The families with one sample per model and no other label. */
static const struct {
    const char *name, *type, *help;
    model_value_fn value;
} per_model_families[] = {
    {"ts_inference_requests_total", "counter",
     "Inference requests answered (images delivered by the pipeline).", v_delivered},
    {"ts_inference_latency_microseconds", "counter",
     "Total inference latency in microseconds, submit to result.", v_latency_sum},
    {"ts_queue_latency_microseconds", "counter",
     "Total time in microseconds requests waited in the queue for a worker.", v_queued_sum},
    {"imgclass_preprocess_microseconds_total", "counter",
     "Total decode and preprocessing time in microseconds.", v_preprocess_sum},
    {"imgclass_forward_microseconds_total", "counter",
     "Total forward-pass time in microseconds (once per batch).", v_forward_sum},
    {"imgclass_images_submitted_total", "counter", "Images accepted by the pipeline.",
     v_submitted},
    {"imgclass_images_failed_total", "counter",
     "Images that failed (undecodable, too large, engine error).", v_failed},
    {"imgclass_batched_images_total", "counter",
     "Images in the forward passes (divided by imgclass_batches_total: the mean batch size).",
     v_batched},
    {"imgclass_batch_size_max", "gauge", "The largest batch a request has run in.", v_max_batch},
    {"imgclass_queue_depth", "gauge", "Images accepted and not yet answered.", v_depth},
    {"imgclass_queue_capacity", "gauge", "Images that may wait before requests get 503.",
     v_capacity},
};

static void write_all(FILE *f, const metrics_model *ms, int n, const metrics_http *http)
{
    for (size_t k = 0; k < sizeof per_model_families / sizeof per_model_families[0]; k++) {
        header(f, per_model_families[k].name, per_model_families[k].type,
               per_model_families[k].help);
        for (int i = 0; i < n; i++)
            fprintf(f, "%s{" LABELS "} %.17g\n", per_model_families[k].name, ms[i].name,
                    ms[i].version, per_model_families[k].value(&ms[i]));
    }

    header(f, "imgclass_batches_total", "counter",
           "Forward passes run, by why the batch was cut (full, deadline, flush).");
    for (int i = 0; i < n; i++) {
        const imgclass_pipeline_stats *s = &ms[i].stats;
        const char *cut[3] = {"full", "deadline", "flush"};
        const uint64_t batches[3] = {s->batches_full, s->batches_deadline, s->batches_flush};
        for (int j = 0; j < 3; j++)
            fprintf(f, "imgclass_batches_total{" LABELS ",cut=\"%s\"} %llu\n", ms[i].name,
                    ms[i].version, cut[j], (unsigned long long)batches[j]);
    }

    header(f, "imgclass_latency_microseconds", "histogram",
           "Latency of each image, submit to result, in microseconds.");
    for (int i = 0; i < n; i++) {
        const imgclass_pipeline_stats *s = &ms[i].stats;
        uint64_t cumulative = 0;
        for (int b = 0; b < IMGCLASS_LATENCY_BUCKETS; b++) {
            cumulative += s->latency_buckets[b];
            if (b == IMGCLASS_LATENCY_BUCKETS - 1)
                fprintf(f, "imgclass_latency_microseconds_bucket{" LABELS ",le=\"+Inf\"} %llu\n",
                        ms[i].name, ms[i].version, (unsigned long long)cumulative);
            else
                fprintf(f, "imgclass_latency_microseconds_bucket{" LABELS ",le=\"%.0f\"} %llu\n",
                        ms[i].name, ms[i].version, IMGCLASS_LATENCY_BUCKET_US(b),
                        (unsigned long long)cumulative);
        }
        fprintf(f, "imgclass_latency_microseconds_sum{" LABELS "} %.17g\n", ms[i].name,
                ms[i].version, s->latency_sum_us);
        fprintf(f, "imgclass_latency_microseconds_count{" LABELS "} %llu\n", ms[i].name,
                ms[i].version, (unsigned long long)cumulative);
    }
    header(f, "imgclass_recent_latency_microseconds", "summary",
           "Latency quantiles over the last 1024 images, in microseconds.");
    for (int i = 0; i < n; i++) {
        const imgclass_pipeline_stats *s = &ms[i].stats;
        const double q[3] = {s->latency_p50_us, s->latency_p90_us, s->latency_p99_us};
        const char *qn[3] = {"0.5", "0.9", "0.99"};
        for (int j = 0; j < 3; j++)
            fprintf(f, "imgclass_recent_latency_microseconds{" LABELS ",quantile=\"%s\"} %.17g\n",
                    ms[i].name, ms[i].version, qn[j], q[j]);
    }

    header(f, "imgclass_http_responses_total", "counter", "HTTP responses sent, by status code.");
    for (int i = 0; i < METRICS_HTTP_CODES; i++) {
        if (metrics_http_codes[i])
            fprintf(f, "imgclass_http_responses_total{code=\"%d\"} %llu\n", metrics_http_codes[i],
                    (unsigned long long)http->responses[i]);
        else
            fprintf(f, "imgclass_http_responses_total{code=\"other\"} %llu\n",
                    (unsigned long long)http->responses[i]);
    }
}

char *metrics_render(const metrics_model *models, int count, const metrics_http *http,
                     size_t *len)
{
    json_buf b;
    if (json_buf_open(&b))
        return NULL;
    write_all(b.f, models, count, http);
    return json_buf_finish(&b, len);
}
