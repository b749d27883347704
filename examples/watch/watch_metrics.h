/* What imgclass-watch says about itself: the Prometheus exposition of
 * GET /metrics (--metrics-listen, metrics_server.c) and the one sentence of
 * its systemd STATUS= line, from the same figures.
 *
 * Threads. The main thread owns the backlog, the parts and the records; it
 * publishes them here (watch_metrics_publish) whenever they change, under
 * this struct's lock. The pipeline's result callback records batch sizes
 * (an atomic). The metrics server's thread reads only through this struct:
 * the published figures under the lock, the rest from
 * imgclass_pipeline_stats_get(), which is thread-safe. */
#ifndef IMGCLASS_WATCH_METRICS_H
#define IMGCLASS_WATCH_METRICS_H

#include <imgclass.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The main thread's figures. */
typedef struct watch_figures {
    /* Files seen and not yet committed: found and not yet checked and
     * submitted, in the pipeline or waiting for the main thread, or in a
     * part not yet finalized (README.md, "Metrics"). */
    long backlog;
    int64_t oldest_found_ns; /* monotonic instant the oldest of them was found; -1: none */
    long parts_rolled;       /* parts finalized (committed) since start */
    long records_written;    /* records in them */
} watch_figures;

typedef struct watch_metrics {
    imgclass_pipeline *pipeline; /* set before any reader starts */
    pthread_mutex_t lock;        /* guards `published` */
    watch_figures published;
    _Atomic int max_batch_seen;  /* the largest result->batch_size */
} watch_metrics;

/* 0, or -1 when the lock cannot be made. */
int watch_metrics_init(watch_metrics *m);
void watch_metrics_destroy(watch_metrics *m);

/* The main thread: the figures as they are now. */
void watch_metrics_publish(watch_metrics *m, const watch_figures *f);
/* The result callback: the batch a result ran in. */
void watch_metrics_batch(watch_metrics *m, int batch_size);

/* The exposition (Prometheus text format 0.0.4), malloc'd, its length in
 * *len; NULL when out of memory or when the pipeline's figures cannot be
 * read. Any thread. */
char *watch_metrics_render(watch_metrics *m, size_t *len);

/* The same in one sentence for STATUS=: "12034 images classified, 3
 * failed, backlog 5 (oldest 1.2 s), 41 parts". */
void watch_metrics_status(watch_metrics *m, char *out, size_t n);

#endif
