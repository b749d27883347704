/* Prometheus text exposition; see prom_text.h. */
#include "prom_text.h"

#include <stdint.h>

void prom_header(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_sample(FILE *f, const char *name, const char *labels, const char *extra, double value)
{
    int l = labels && *labels, e = extra && *extra;
    fprintf(f, "%s%s%s%s%s%s %.17g\n", name, l || e ? "{" : "", l ? labels : "",
            l && e ? "," : "", e ? extra : "", l || e ? "}" : "", value);
}

typedef double (*pipeline_value_fn)(const prom_pipeline *p);

static double v_preprocess_sum(const prom_pipeline *p) { return p->stats->preprocess_sum_us; }
static double v_forward_sum(const prom_pipeline *p) { return p->stats->forward_sum_us; }
static double v_submitted(const prom_pipeline *p) { return (double)p->stats->submitted; }
static double v_failed(const prom_pipeline *p) { return (double)p->stats->failed; }
static double v_batched(const prom_pipeline *p) { return (double)p->stats->batched_images; }
static double v_max_batch(const prom_pipeline *p) { return p->max_batch_seen; }
static double v_depth(const prom_pipeline *p) { return (double)p->stats->queue_depth; }
static double v_capacity(const prom_pipeline *p) { return p->stats->queue_capacity; }

/* The families with one sample per pipeline and no other label. */
static const struct {
    const char *name, *type, *help;
    pipeline_value_fn value;
} families[] = {
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
    {"imgclass_batch_size_max", "gauge", "The largest batch an image has run in.", v_max_batch},
    {"imgclass_queue_depth", "gauge", "Images accepted and not yet answered.", v_depth},
    {"imgclass_queue_capacity", "gauge",
     "Images the pipeline's queue holds (imgclass-serve answers 503 beyond it, "
     "imgclass-watch waits).",
     v_capacity},
};

void prom_pipeline_families(FILE *f, const prom_pipeline *p, int n)
{
    for (size_t k = 0; k < sizeof families / sizeof families[0]; k++) {
        prom_header(f, families[k].name, families[k].type, families[k].help);
        for (int i = 0; i < n; i++)
            prom_sample(f, families[k].name, p[i].labels, NULL, families[k].value(&p[i]));
    }

    prom_header(f, "imgclass_batches_total", "counter",
                "Forward passes run, by why the batch was cut (full, deadline, flush).");
    for (int i = 0; i < n; i++) {
        const imgclass_pipeline_stats *s = p[i].stats;
        const char *cut[3] = {"cut=\"full\"", "cut=\"deadline\"", "cut=\"flush\""};
        const uint64_t batches[3] = {s->batches_full, s->batches_deadline, s->batches_flush};
        for (int j = 0; j < 3; j++)
            prom_sample(f, "imgclass_batches_total", p[i].labels, cut[j], (double)batches[j]);
    }

    prom_header(f, "imgclass_latency_microseconds", "histogram",
                "Latency of each image, submit to result, in microseconds.");
    for (int i = 0; i < n; i++) {
        const imgclass_pipeline_stats *s = p[i].stats;
        uint64_t cumulative = 0;
        for (int b = 0; b < IMGCLASS_LATENCY_BUCKETS; b++) {
            char le[48];
            cumulative += s->latency_buckets[b];
            if (b == IMGCLASS_LATENCY_BUCKETS - 1)
                snprintf(le, sizeof le, "le=\"+Inf\"");
            else
                snprintf(le, sizeof le, "le=\"%.0f\"", IMGCLASS_LATENCY_BUCKET_US(b));
            prom_sample(f, "imgclass_latency_microseconds_bucket", p[i].labels, le,
                        (double)cumulative);
        }
        prom_sample(f, "imgclass_latency_microseconds_sum", p[i].labels, NULL,
                    s->latency_sum_us);
        prom_sample(f, "imgclass_latency_microseconds_count", p[i].labels, NULL,
                    (double)cumulative);
    }

    prom_header(f, "imgclass_recent_latency_microseconds", "summary",
                "Latency quantiles over the last 1024 images, in microseconds.");
    for (int i = 0; i < n; i++) {
        const imgclass_pipeline_stats *s = p[i].stats;
        const double q[3] = {s->latency_p50_us, s->latency_p90_us, s->latency_p99_us};
        const char *qn[3] = {"quantile=\"0.5\"", "quantile=\"0.9\"", "quantile=\"0.99\""};
        for (int j = 0; j < 3; j++)
            prom_sample(f, "imgclass_recent_latency_microseconds", p[i].labels, qn[j], q[j]);
    }
}
