/* Prometheus text exposition format 0.0.4, as imgclass-serve and
 * imgclass-watch write their GET /metrics: a HELP and a TYPE line before
 * each family, names prefixed imgclass_, counters ending in _total, times
 * in microseconds. The figures of imgclass_pipeline_stats_get() are written
 * here once, so both programs name and describe them alike:
 *   imgclass_preprocess_microseconds_total  decode and preprocessing time
 *   imgclass_forward_microseconds_total     forward-pass time
 *   imgclass_images_submitted_total         images accepted by the pipeline
 *   imgclass_images_failed_total            images with an error result
 *   imgclass_batched_images_total           images in the forward passes
 *   imgclass_batch_size_max                 the largest batch seen (the caller's)
 *   imgclass_queue_depth, imgclass_queue_capacity
 *   imgclass_batches_total{cut=full|deadline|flush}
 *   imgclass_latency_microseconds           histogram, submit to result
 *   imgclass_recent_latency_microseconds    quantiles of the last 1024 */
#ifndef IMGCLASS_EXAMPLES_PROM_TEXT_H
#define IMGCLASS_EXAMPLES_PROM_TEXT_H

#include <imgclass.h>

#include <stdio.h>

/* The content type of the exposition. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* "# HELP name help" and "# TYPE name type". */
void prom_header(FILE *f, const char *name, const char *type, const char *help);

/* One sample line "name{labels,extra} value". `labels` and `extra` are
 * label lists ('k="v",...', values already escaped), either "" or NULL for
 * none; without both there are no braces. */
void prom_sample(FILE *f, const char *name, const char *labels, const char *extra, double value);

/* One pipeline's figures and the labels of its samples. */
typedef struct prom_pipeline {
    const char *labels; /* "" for a program with one pipeline */
    const imgclass_pipeline_stats *stats;
    int max_batch_seen; /* the largest result->batch_size the program saw */
} prom_pipeline;

/* The families listed above, with one sample (set) per pipeline. */
void prom_pipeline_families(FILE *f, const prom_pipeline *p, int n);

#endif
