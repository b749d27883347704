/* Internal: the counters, latency histogram and recent-latency window behind
 * imgclass_pipeline_stats_get(). Not thread-safe by itself: the pipeline
 * calls every function under its lock. */
#ifndef IMGCLASS_PIPELINE_STATS_H
#define IMGCLASS_PIPELINE_STATS_H

#include "imgclass.h"

/* Quantiles are taken over this many most recent deliveries. */
#define IC_PIPE_RECENT 1024

typedef struct ic_pipe_stats {
    imgclass_pipeline_stats totals; /* counters, histogram and sums */
    double *recent;                 /* ring of IC_PIPE_RECENT latencies (us) */
    size_t recent_count, recent_next;
} ic_pipe_stats;

imgclass_status ic_pipe_stats_init(ic_pipe_stats *s, int queue_capacity);
void ic_pipe_stats_free(ic_pipe_stats *s); /* also on a zeroed struct */

void ic_pipe_stats_submitted(ic_pipe_stats *s);
void ic_pipe_stats_batch(ic_pipe_stats *s, imgclass_cut_reason cut, size_t images,
                         double forward_us);
void ic_pipe_stats_delivered(ic_pipe_stats *s, int failed, double latency_us, double queued_us,
                             double preprocess_us);

/* Copies the totals into *out (whose struct_size is already checked), with
 * the current queue depth and quantiles of the recent window. */
void ic_pipe_stats_snapshot(const ic_pipe_stats *s, size_t queue_depth,
                            imgclass_pipeline_stats *out);

/* The bucket of a latency in microseconds (exposed for the unit test). */
int ic_pipe_latency_bucket(double latency_us);

#endif
