/* imgclass-watch's figures; see watch_metrics.h. */
#include "watch_metrics.h"

#include "clock.h"
#include "prom_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int watch_metrics_init(watch_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->published.oldest_found_ns = -1;
    atomic_init(&m->max_batch_seen, 0);
    return pthread_mutex_init(&m->lock, NULL) ? -1 : 0;
}

void watch_metrics_destroy(watch_metrics *m)
{
    pthread_mutex_destroy(&m->lock);
}

void watch_metrics_publish(watch_metrics *m, const watch_figures *f)
{
    pthread_mutex_lock(&m->lock);
    m->published = *f;
    pthread_mutex_unlock(&m->lock);
}

void watch_metrics_batch(watch_metrics *m, int batch_size)
{
    int seen = atomic_load(&m->max_batch_seen);
    while (batch_size > seen &&
           !atomic_compare_exchange_weak(&m->max_batch_seen, &seen, batch_size)) {
    }
}

/* A consistent view: the published figures, the pipeline's, and the age of
 * the oldest backlog file now. -1 when the pipeline's cannot be read. */
static int snapshot(watch_metrics *m, watch_figures *f, imgclass_pipeline_stats *s,
                    double *oldest_s)
{
    pthread_mutex_lock(&m->lock);
    *f = m->published;
    pthread_mutex_unlock(&m->lock);
    memset(s, 0, sizeof *s);
    s->struct_size = sizeof *s;
    if (imgclass_pipeline_stats_get(m->pipeline, s) != IMGCLASS_OK)
        return -1;
    *oldest_s = 0;
    if (f->backlog > 0 && f->oldest_found_ns >= 0) {
        int64_t age = clock_mono_ns() - f->oldest_found_ns;
        *oldest_s = age > 0 ? (double)age / 1e9 : 0;
    }
    return 0;
}

static uint64_t classified(const imgclass_pipeline_stats *s)
{
    return s->delivered - s->failed;
}

char *watch_metrics_render(watch_metrics *m, size_t *len)
{
    watch_figures f;
    imgclass_pipeline_stats s;
    double oldest_s;
    if (snapshot(m, &f, &s, &oldest_s))
        return NULL;
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        return NULL;
    const struct {
        const char *name, *type, *help;
        double value;
    } own[] = {
        {"imgclass_images_classified_total", "counter",
         "Images classified: results without an error (errors are "
         "imgclass_images_failed_total).",
         (double)classified(&s)},
        {"imgclass_parts_rolled_total", "counter",
         "Part files finalized: committed in the journal and renamed to their final name.",
         (double)f.parts_rolled},
        {"imgclass_records_written_total", "counter",
         "Records in finalized parts (results and error records).", (double)f.records_written},
        {"imgclass_backlog_files", "gauge",
         "Files seen and not yet committed: found and not yet submitted, in the pipeline, "
         "or in a part not yet finalized.",
         (double)f.backlog},
        {"imgclass_backlog_oldest_seconds", "gauge",
         "Seconds since the oldest backlog file was found (0 when the backlog is empty).",
         oldest_s},
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        prom_header(out, own[i].name, own[i].type, own[i].help);
        prom_sample(out, own[i].name, NULL, NULL, own[i].value);
    }
    const prom_pipeline p = {"", &s, atomic_load(&m->max_batch_seen)};
    prom_pipeline_families(out, &p, 1);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

void watch_metrics_status(watch_metrics *m, char *out, size_t n)
{
    watch_figures f;
    imgclass_pipeline_stats s;
    double oldest_s;
    if (snapshot(m, &f, &s, &oldest_s)) {
        snprintf(out, n, "figures unavailable: %s", imgclass_last_error());
        return;
    }
    char backlog[64];
    if (f.backlog > 0)
        snprintf(backlog, sizeof backlog, "backlog %ld (oldest %.1f s)", f.backlog, oldest_s);
    else
        snprintf(backlog, sizeof backlog, "backlog 0");
    snprintf(out, n, "%llu images classified, %llu failed, %s, %ld parts",
             (unsigned long long)classified(&s), (unsigned long long)s.failed, backlog,
             f.parts_rolled);
}
