/* Driver of bench/pipeline_bench.py: one measurement of the library's
 * pipeline (or of the bare forward pass it is compared with) per run.
 *
 *   pipeline_bench MODE MODEL LISTFILE [--count N] [--batch N] [--delay-us D]
 *                  [--threads T] [--pp-threads P] [--pp-nice N] [--lanes L] [--interval-ms I]
 *                  [--latencies FILE] [--per-call N]
 *
 * MODE forward: imgclass_predict on one ready batch of --batch images,
 *               repeated until --count images have passed.
 * MODE steady:  --count images (the list cycled) submitted as fast as the
 *               pipeline takes them, after one untimed warm-up batch.
 * MODE lowload: one image every --interval-ms; also measures, in this
 *               process, the forward pass at batch 1 and decode+preprocess
 *               of the same images, the two terms of the latency goal.
 * MODE classify: imgclass_classify() over --count images in calls of
 *               --per-call (default 100) paths, after one untimed call.
 * Prints one JSON object; --latencies writes each image's latency (us).
 * forward_busy is the engine's forward time over the timed wall time: near
 * 1 means the engine never waited for images, so whatever the pipeline
 * loses against the bare forward pass is lost inside the forward passes
 * (the CPU that preprocessing takes from them), not between them. */
#include "imgclass.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct run {
    double *lat_us;
    double *parts_us[3]; /* queued, preprocess, forward of each image */
    double *submitted;   /* when timed image i was submitted (now_s) */
    size_t n, cap;
} run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    run *x = ctx;
    if (r->status != IMGCLASS_OK)
        fprintf(stderr, "pipeline_bench: %s\n", r->error);
    /* Timed images carry their index + 1; the warm-up carries NULL. Latency
     * is submit to callback: queued + preprocess + the wait for the batch's
     * cut (its deadline) + forward + top-k and delivery. */
    size_t i = (size_t)(uintptr_t)r->user;
    if (i && x->n < x->cap) {
        x->parts_us[0][x->n] = r->queued_us;
        x->parts_us[1][x->n] = r->preprocess_us;
        x->parts_us[2][x->n] = r->forward_us;
        x->lat_us[x->n++] = (now_s() - x->submitted[i - 1]) * 1e6;
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i];
}

static char **read_list(const char *path, int *n)
{
    FILE *f = fopen(path, "r");
    char line[4096], **v = NULL;
    *n = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char **nv = realloc(v, (size_t)(*n + 1) * sizeof *v);
        if (!nv || !(nv[*n] = strdup(line)))
            exit(1);
        v = nv;
        (*n)++;
    }
    if (f)
        fclose(f);
    return v;
}

static void sleep_until(double t)
{
    double d = t - now_s();
    if (d <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)d, .tv_nsec = (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Median ms of `reps` forward passes of `b` ready images, each after a
 * pause of pace_ms (0: back to back); *p99 (may be NULL) gets their p99. */
static double forward_ms(imgclass_model *m, imgclass_batch *batch, int b, int reps, float *scores,
                         int pace_ms, double *p99)
{
    double *ms = calloc((size_t)reps, sizeof *ms);
    imgclass_batch *view = NULL;
    imgclass_batch_wrap(imgclass_batch_data(batch), (size_t)b, imgclass_batch_height(batch),
                        imgclass_batch_width(batch), &view);
    imgclass_predict(m, view, scores, (size_t)b * 1000000); /* warm the shape */
    for (int r = 0; r < reps; r++) {
        if (pace_ms > 0)
            sleep_until(now_s() + pace_ms / 1e3);
        double t0 = now_s();
        imgclass_predict(m, view, scores, (size_t)b * 1000000);
        ms[r] = (now_s() - t0) * 1e3;
    }
    double med = quantile(ms, (size_t)reps, 0.5);
    if (p99)
        *p99 = quantile(ms, (size_t)reps, 0.99);
    imgclass_batch_free(view);
    free(ms);
    return med;
}

/* The batch-1 forward pass alone, back to back and after the pause the low
 * load leaves between images (what a lone image meets: idle OpenMP threads,
 * colder caches). */
typedef struct forward_call {
    imgclass_model *m;
    imgclass_batch *ready;
    float *scores;
    int interval_ms;
    double ms, p99, paced_ms, paced_p99;
} forward_call;

static void *forward_thread(void *arg)
{
    forward_call *c = arg;
    c->ms = forward_ms(c->m, c->ready, 1, 30, c->scores, 0, &c->p99);
    c->paced_ms = forward_ms(c->m, c->ready, 1, 30, c->scores, c->interval_ms, &c->paced_p99);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: pipeline_bench forward|steady|lowload|classify MODEL LIST [options]\n");
        return 2;
    }
    const char *mode = argv[1], *lat_file = NULL;
    int count = 400, batch = 8, threads = 2, pp_threads = 0, pp_nice = -1, interval_ms = 100;
    int lanes = 0; /* the library's choice */
    int per_call = 100;
    long delay_us = 5000;
    for (int i = 4; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--count")) count = atoi(v);
        else if (!strcmp(k, "--batch")) batch = atoi(v);
        else if (!strcmp(k, "--delay-us")) delay_us = atol(v);
        else if (!strcmp(k, "--threads")) threads = atoi(v);
        else if (!strcmp(k, "--pp-threads")) pp_threads = atoi(v);
        else if (!strcmp(k, "--pp-nice")) pp_nice = atoi(v);
        else if (!strcmp(k, "--lanes")) lanes = atoi(v);
        else if (!strcmp(k, "--interval-ms")) interval_ms = atoi(v);
        else if (!strcmp(k, "--latencies")) lat_file = v;
        else if (!strcmp(k, "--per-call")) per_call = atoi(v) > 0 ? atoi(v) : 1;
    }
    int nfiles;
    char **files = read_list(argv[3], &nfiles);
    imgclass_model *m = NULL;
    imgclass_set_num_threads(threads);
    double t_load = now_s();
    if (nfiles == 0 || imgclass_model_load(argv[2], NULL, &m) != IMGCLASS_OK) {
        fprintf(stderr, "pipeline_bench: %s\n", nfiles ? imgclass_last_error() : "no images");
        return 1;
    }
    t_load = now_s() - t_load;
    imgclass_preprocess_options pp = imgclass_preprocess_options_default();
    imgclass_decode_options dec = imgclass_decode_options_default();
    float *scores = malloc((size_t)batch * 1000000 * sizeof *scores);
    imgclass_batch *ready = NULL;
    imgclass_batch_create((size_t)batch, 224, 224, &ready);
    for (int i = 0; i < batch; i++)
        imgclass_preprocess_file(files[i % nfiles], &dec, &pp, ready, (size_t)i);

    if (!strcmp(mode, "classify")) {
        /* imgclass_classify() in calls of --per-call paths: the one-call
         * API's rate, to set against the pipeline's steady state. */
        imgclass_input *ins = calloc((size_t)per_call, sizeof *ins);
        if (!ins) {
            fprintf(stderr, "pipeline_bench: out of memory\n");
            return 1;
        }
        imgclass_results *r = NULL;
        for (int i = 0; i < per_call; i++)
            ins[i] = (imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = files[i % nfiles]};
        if (imgclass_classify(m, ins, (size_t)(per_call < batch ? per_call : batch), NULL, &r) !=
            IMGCLASS_OK) { /* warm-up, untimed */
            fprintf(stderr, "pipeline_bench: %s\n", imgclass_last_error());
            return 1;
        }
        imgclass_results_free(r);
        double t0 = now_s();
        int done = 0;
        while (done < count) {
            int n = count - done < per_call ? count - done : per_call;
            for (int i = 0; i < n; i++)
                ins[i].path = files[(done + i) % nfiles];
            if (imgclass_classify(m, ins, (size_t)n, NULL, &r) != IMGCLASS_OK) {
                fprintf(stderr, "pipeline_bench: %s\n", imgclass_last_error());
                return 1;
            }
            imgclass_results_free(r);
            done += n;
        }
        double secs = now_s() - t0;
        printf("{\"mode\": \"classify\", \"per_call\": %d, \"threads\": %d, \"images\": %d, "
               "\"images_per_s\": %.3f}\n", per_call, threads, count, count / secs);
        free(ins);
        return 0;
    }

    if (!strcmp(mode, "forward")) {
        double ms = forward_ms(m, ready, batch, count / batch > 3 ? count / batch : 3, scores, 0, NULL);
        printf("{\"mode\": \"forward\", \"batch\": %d, \"threads\": %d, \"images_per_s\": %.3f, "
               "\"load_s\": %.3f}\n", batch, threads, batch * 1e3 / ms, t_load);
        return 0;
    }

    run x = {.cap = (size_t)count};
    x.lat_us = calloc(x.cap, sizeof *x.lat_us);
    x.submitted = calloc(x.cap, sizeof *x.submitted);
    for (int i = 0; i < 3; i++)
        x.parts_us[i] = calloc(x.cap, sizeof *x.parts_us[i]);
    if (!x.lat_us || !x.submitted || !x.parts_us[0] || !x.parts_us[1] || !x.parts_us[2]) {
        fprintf(stderr, "pipeline_bench: out of memory\n");
        return 1;
    }
    imgclass_pipeline_options o = imgclass_pipeline_options_default();
    o.max_batch = batch;
    o.max_delay_us = delay_us;
    o.preprocess_threads = pp_threads;
    if (pp_nice >= 0) /* else the library's default */
        o.preprocess_nice = pp_nice;
    o.engine_lanes = lanes;
    o.on_result = on_result;
    o.on_result_ctx = &x;
    imgclass_pipeline *p = NULL;
    if (imgclass_pipeline_create(m, &o, &p) != IMGCLASS_OK) {
        fprintf(stderr, "pipeline_bench: %s\n", imgclass_last_error());
        return 1;
    }
    imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH};
    double fwd1 = 0, prep = 0, fwd1_p99 = 0, fwd1_paced = 0, fwd1_paced_p99 = 0;
    if (!strcmp(mode, "lowload")) {
        /* On a thread that ends, as the library loads models: a thread that
         * ran forward passes keeps an OpenMP team, and a second team beside
         * the pipeline's engine would slow it (lib/engine_loader.c). */
        forward_call fc = {m, ready, scores, interval_ms, 0, 0, 0, 0};
        pthread_t th;
        if (pthread_create(&th, NULL, forward_thread, &fc) != 0) {
            fprintf(stderr, "pipeline_bench: cannot start a thread\n");
            return 1;
        }
        pthread_join(th, NULL);
        fwd1 = fc.ms;
        fwd1_p99 = fc.p99;
        fwd1_paced = fc.paced_ms;
        fwd1_paced_p99 = fc.paced_p99;
        double *pms = calloc((size_t)nfiles, sizeof *pms);
        for (int i = 0; i < nfiles; i++) {
            double t0 = now_s();
            imgclass_preprocess_file(files[i], &dec, &pp, ready, 0);
            pms[i] = (now_s() - t0) * 1e3;
        }
        prep = quantile(pms, (size_t)nfiles, 0.5);
        free(pms);
    }
    for (int i = 0; i < batch; i++) { /* warm-up, untimed */
        in.path = files[i % nfiles];
        imgclass_pipeline_submit(p, &in, NULL, 0, NULL);
    }
    imgclass_pipeline_flush(p);
    /* the engine's busy share of the timed part: forward time over wall time */
    imgclass_pipeline_stats st0 = {.struct_size = sizeof st0};
    imgclass_pipeline_stats_get(p, &st0);
    x.n = 0;
    double t0 = now_s();
    for (int i = 0; i < count; i++) {
        if (!strcmp(mode, "lowload"))
            sleep_until(t0 + i * interval_ms / 1e3);
        in.path = files[i % nfiles];
        x.submitted[i] = now_s();
        imgclass_pipeline_submit(p, &in, (void *)(uintptr_t)(i + 1), 0, NULL);
    }
    imgclass_pipeline_flush(p);
    double secs = now_s() - t0;
    imgclass_pipeline_stats st = {.struct_size = sizeof st};
    imgclass_pipeline_stats_get(p, &st);
    imgclass_pipeline_free(p);
    if (lat_file) {
        FILE *f = fopen(lat_file, "w");
        for (size_t i = 0; f && i < x.n; i++)
            fprintf(f, "%.1f\n", x.lat_us[i]);
        if (f)
            fclose(f);
    }
    /* the parts' medians and p99s, then the latency's (quantile sorts) */
    double part[3][2];
    for (int k = 0; k < 3; k++) {
        part[k][0] = quantile(x.parts_us[k], x.n, 0.5) / 1e3;
        part[k][1] = quantile(x.parts_us[k], x.n, 0.99) / 1e3;
    }
    double p50 = quantile(x.lat_us, x.n, 0.5) / 1e3, p99 = quantile(x.lat_us, x.n, 0.99) / 1e3;
    printf("{\"mode\": \"%s\", \"batch\": %d, \"delay_us\": %ld, \"threads\": %d, "
           "\"pp_threads\": %d, \"pp_nice\": %d, \"lanes\": %d, \"images\": %zu, \"images_per_s\": %.3f, \"p50_ms\": %.3f, "
           "\"p99_ms\": %.3f, \"mean_batch\": %.2f, \"forward_b1_ms\": %.3f, "
           "\"forward_b1_p99_ms\": %.3f, \"forward_b1_paced_ms\": %.3f, "
           "\"forward_b1_paced_p99_ms\": %.3f, \"preprocess_ms\": %.3f, \"load_s\": %.3f, "
           "\"batches\": %llu, \"forward_busy\": %.3f, \"preprocess_sum_s\": %.3f, "
           "\"engine_prepared\": %llu, \"queued_p50_ms\": %.3f, \"queued_p99_ms\": %.3f, "
           "\"preprocess_p50_ms\": %.3f, \"preprocess_p99_ms\": %.3f, "
           "\"forward_p50_ms\": %.3f, \"forward_p99_ms\": %.3f}\n",
           mode, batch, delay_us, threads, o.preprocess_threads, o.preprocess_nice, lanes, x.n, (double)count / secs, p50,
           p99, st.batches ? (double)st.batched_images / (double)st.batches : 0.0, fwd1, fwd1_p99,
           fwd1_paced, fwd1_paced_p99, prep,
           t_load, (unsigned long long)(st.batches - st0.batches),
           (st.forward_sum_us - st0.forward_sum_us) / 1e6 / secs,
           (st.preprocess_sum_us - st0.preprocess_sum_us) / 1e6,
           (unsigned long long)(st.engine_prepared - st0.engine_prepared), part[0][0],
           part[0][1], part[1][0], part[1][1], part[2][0], part[2][1]);
    imgclass_batch_free(ready);
    imgclass_model_free(m);
    for (int i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(scores);
    free(x.lat_us);
    free(x.submitted);
    for (int i = 0; i < 3; i++)
        free(x.parts_us[i]);
    return 0;
}
