/* Pipeline statistics; see pipeline_stats.h. */
#include "pipeline_stats.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

imgclass_status ic_pipe_stats_init(ic_pipe_stats *s, int queue_capacity)
{
    memset(s, 0, sizeof *s);
    s->totals.struct_size = sizeof s->totals;
    s->totals.queue_capacity = queue_capacity;
    s->recent = calloc(IC_PIPE_RECENT, sizeof *s->recent);
    if (!s->recent)
        return ic_error_oom("imgclass_pipeline_create", "the latency window");
    return IMGCLASS_OK;
}

void ic_pipe_stats_free(ic_pipe_stats *s)
{
    free(s->recent);
    s->recent = NULL;
}

void ic_pipe_stats_submitted(ic_pipe_stats *s)
{
    s->totals.submitted++;
}

void ic_pipe_stats_batch(ic_pipe_stats *s, imgclass_cut_reason cut, size_t images,
                         double forward_us)
{
    imgclass_pipeline_stats *t = &s->totals;
    t->batches++;
    if (cut == IMGCLASS_CUT_FULL)
        t->batches_full++;
    else if (cut == IMGCLASS_CUT_DEADLINE)
        t->batches_deadline++;
    else
        t->batches_flush++;
    t->batched_images += images;
    t->forward_sum_us += forward_us;
}

int ic_pipe_latency_bucket(double latency_us)
{
    int i = 0;
    while (i < IMGCLASS_LATENCY_BUCKETS - 1 && latency_us > IMGCLASS_LATENCY_BUCKET_US(i))
        i++;
    return i;
}

void ic_pipe_stats_delivered(ic_pipe_stats *s, int failed, double latency_us, double queued_us,
                             double preprocess_us)
{
    imgclass_pipeline_stats *t = &s->totals;
    t->delivered++;
    if (failed)
        t->failed++;
    t->latency_buckets[ic_pipe_latency_bucket(latency_us)]++;
    t->latency_sum_us += latency_us;
    t->queued_sum_us += queued_us;
    t->preprocess_sum_us += preprocess_us;
    s->recent[s->recent_next] = latency_us;
    s->recent_next = (s->recent_next + 1) % IC_PIPE_RECENT;
    if (s->recent_count < IC_PIPE_RECENT)
        s->recent_count++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank quantile q of n sorted values. */
static double quantile(const double *sorted, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    return sorted[(rank > n ? n : rank) - 1];
}

void ic_pipe_stats_snapshot(const ic_pipe_stats *s, size_t queue_depth,
                            imgclass_pipeline_stats *out)
{
    *out = s->totals;
    out->queue_depth = queue_depth;
    size_t n = s->recent_count;
    double sorted[IC_PIPE_RECENT];
    if (n == 0)
        return;
    memcpy(sorted, s->recent, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    out->latency_p50_us = quantile(sorted, n, 0.50);
    out->latency_p90_us = quantile(sorted, n, 0.90);
    out->latency_p99_us = quantile(sorted, n, 0.99);
}
