/* pipeline_threads: a stream of images from several threads, results by
 * callback.
 *
 * Shows the pipeline (imgclass_pipeline_*): one per model, fed by any
 * number of threads at once; it batches what arrives (up to max_batch
 * images, or whatever is ready max_delay_us after a batch's first image),
 * overlaps preprocessing with the forward pass, and calls back once per
 * submitted image, in submission order, also for an image that fails.
 * Here SUBMITTERS threads each submit their share of the files, ROUNDS
 * times over (0: until SIGINT/SIGTERM); then flush, and free.
 *
 *   pipeline_threads MODEL.pt ROUNDS IMAGE...
 *
 * Build: cc pipeline_threads.c $(pkg-config --cflags --libs imgclass) -lpthread */
#define _POSIX_C_SOURCE 200809L
#include <imgclass.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

enum { SUBMITTERS = 3 };

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

typedef struct counts {
    atomic_long submitted, delivered, failed;
} counts;

typedef struct submitter {
    imgclass_pipeline *pipeline;
    char **paths;
    int npaths, first, rounds;
    counts *counts;
    int error; /* a submit the pipeline refused */
} submitter;

/* On the pipeline's engine thread. Every pointer in r is valid only here. */
static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    counts *c = ctx;
    if (r->status == IMGCLASS_OK)
        printf("%llu %s: %s (%.4f), batch of %d\n", (unsigned long long)r->seq,
               (const char *)r->user, r->top[0].label ? r->top[0].label : "-",
               r->top[0].score, r->batch_size);
    else
        printf("%llu %s: error: %s\n", (unsigned long long)r->seq, (const char *)r->user,
               r->error);
    atomic_fetch_add(r->status == IMGCLASS_OK ? &c->delivered : &c->failed, 1);
}

/* Submits files first, first + SUBMITTERS, ... of the list, `rounds` times. */
static void *submit_share(void *arg)
{
    submitter *s = arg;
    for (int round = 0; (s->rounds == 0 || round < s->rounds) && !stop_requested; round++)
        for (int i = s->first; i < s->npaths && !stop_requested; i += SUBMITTERS) {
            imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = s->paths[i]};
            /* The path is copied; `user` comes back in the result. */
            if (imgclass_pipeline_submit(s->pipeline, &in, s->paths[i], 0, NULL) != IMGCLASS_OK) {
                fprintf(stderr, "pipeline_threads: submit: %s\n", imgclass_last_error());
                s->error = 1;
                return NULL;
            }
            atomic_fetch_add(&s->counts->submitted, 1);
        }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.pt ROUNDS IMAGE...\n", argv[0]);
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    imgclass_model *model;
    if (imgclass_model_load(argv[1], NULL, &model) != IMGCLASS_OK) {
        fprintf(stderr, "pipeline_threads: %s\n", imgclass_last_error());
        return 1;
    }
    counts c = {0};
    imgclass_pipeline_options o = imgclass_pipeline_options_default();
    o.max_batch = 4;
    o.max_delay_us = 2000;
    o.on_result = on_result;
    o.on_result_ctx = &c;
    imgclass_pipeline *p;
    if (imgclass_pipeline_create(model, &o, &p) != IMGCLASS_OK) {
        fprintf(stderr, "pipeline_threads: %s\n", imgclass_last_error());
        imgclass_model_free(model);
        return 1;
    }

    pthread_t threads[SUBMITTERS];
    submitter subs[SUBMITTERS];
    int started = 0, errors = 0;
    for (int t = 0; t < SUBMITTERS; t++) {
        subs[t] = (submitter){p, argv + 3, argc - 3, t, atoi(argv[2]), &c, 0};
        if (pthread_create(&threads[t], NULL, submit_share, &subs[t]) != 0)
            break;
        started++;
    }
    for (int t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
        errors += subs[t].error;
    }
    imgclass_pipeline_flush(p); /* every image submitted so far is delivered */
    imgclass_pipeline_free(p);  /* no callback runs after this returns */
    imgclass_model_free(model);

    long sub = atomic_load(&c.submitted), ok = atomic_load(&c.delivered);
    long bad = atomic_load(&c.failed);
    fprintf(stderr, "pipeline_threads: %ld submitted, %ld classified, %ld failed%s\n", sub, ok,
            bad, stop_requested ? " (stopped by a signal)" : "");
    return (started < SUBMITTERS || errors || ok + bad != sub) ? 1 : 0;
}
