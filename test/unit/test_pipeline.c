/* imgclass_pipeline: ordering, cuts (full, deadline, flush), backpressure,
 * bad inputs, engine failures, many producers, shutdown, statistics. The
 * results are checked against imgclass_classify on the same inputs.
 *
 * No check depends on how threads are scheduled: the tests wait for state
 * (results, statistics, a flag, a thread seen asleep) with a generous upper
 * bound, never for a time, and assert only what the design guarantees.
 * Callbacks run on the pipeline's threads, where cmocka (not thread-safe)
 * must not assert: they record, and the test thread asserts. */
#define _GNU_SOURCE /* gettid() */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "imgclass.h"
#include "image_fixtures.h"
#include "model_fixtures.h"

#define K 5
#define MAX_RESULTS 2000

/* ---- what the callback records --------------------------------------- */

typedef struct record {
    uint64_t seq;
    void *user;
    imgclass_status status;
    char error[512];
    float scores[K];
    int k, top1, batch_size, batch_inputs;
    uint64_t batch_id;
    imgclass_cut_reason cut;
    double queued_us, preprocess_us, forward_us;
    int64_t delivered_ns;
    uint64_t delivered_seen; /* the statistics' count, read in the callback */
} record;

typedef struct collector {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    record rec[MAX_RESULTS];
    size_t n;
    /* a gate that holds the engine thread inside the callback */
    int hold, held;
    /* set while imgclass_pipeline_free() runs: the callback tries to submit */
    imgclass_pipeline *closing_pipeline;
    /* when set, the callback reads this pipeline's statistics */
    imgclass_pipeline *stats_of;
    imgclass_status submit_while_closing;
    int after_free; /* a callback after free() returned sets `late` */
    int late;
    /* what a callback found wrong, asserted on the test thread */
    char problem[256];
} collector;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Keeps the first thing a callback found wrong. Caller holds c->lock. */
static void problem(collector *c, const char *what, long long value)
{
    if (!c->problem[0])
        snprintf(c->problem, sizeof c->problem, "in a callback: %s (%lld)", what, value);
}

static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    collector *c = ctx;
    pthread_mutex_lock(&c->lock);
    if (c->after_free)
        c->late = 1;
    if (c->n >= MAX_RESULTS) {
        problem(c, "more results than MAX_RESULTS", (long long)c->n + 1);
        pthread_mutex_unlock(&c->lock);
        return;
    }
    record *x = &c->rec[c->n];
    memset(x, 0, sizeof *x);
    x->seq = r->seq;
    x->user = r->user;
    x->status = r->status;
    snprintf(x->error, sizeof x->error, "%s", r->error);
    x->k = r->k;
    x->top1 = r->k > 0 ? r->top[0].index : -1;
    x->batch_size = r->batch_size;
    x->cut = r->cut;
    x->batch_id = r->batch_id;
    x->batch_inputs = r->batch_inputs;
    x->queued_us = r->queued_us;
    x->preprocess_us = r->preprocess_us;
    x->forward_us = r->forward_us;
    x->delivered_ns = mono_ns();
    if (c->stats_of) {
        imgclass_pipeline_stats s = {.struct_size = sizeof s};
        if (imgclass_pipeline_stats_get(c->stats_of, &s) != IMGCLASS_OK)
            problem(c, "stats_get failed in a callback", (long long)r->seq);
        x->delivered_seen = s.delivered;
    }
    if (r->scores && r->num_classes != K)
        problem(c, "num_classes is not K", r->num_classes);
    else if (r->scores)
        memcpy(x->scores, r->scores, sizeof x->scores);
    c->n++;
    pthread_cond_broadcast(&c->changed);
    c->held = c->hold;
    while (c->hold)
        pthread_cond_wait(&c->changed, &c->lock);
    if (c->closing_pipeline) {
        imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = "x.png"};
        c->submit_while_closing =
            imgclass_pipeline_submit(c->closing_pipeline, &in, NULL, IMGCLASS_SUBMIT_NONBLOCK, NULL);
    }
    pthread_mutex_unlock(&c->lock);
}

static collector *collector_new(void)
{
    collector *c = calloc(1, sizeof *c);
    assert_non_null(c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    return c;
}

/* On the test thread: fails with what a callback recorded, if anything. */
static void assert_callbacks_fine(collector *c)
{
    pthread_mutex_lock(&c->lock);
    char what[sizeof c->problem];
    memcpy(what, c->problem, sizeof what);
    pthread_mutex_unlock(&c->lock);
    if (what[0])
        fail_msg("%s", what);
}

static void collector_free(collector *c)
{
    assert_callbacks_fine(c);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->changed);
    free(c);
}

/* Waits until `n` results are in, for at most `seconds`; 1 when they are. */
static int wait_for(collector *c, size_t n, int seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    while (c->n < n && rc == 0)
        rc = pthread_cond_timedwait(&c->changed, &c->lock, &ts);
    int ok = c->n >= n;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* Linux: 1 when thread `tid` of this process sleeps (state S or D in
 * /proc/self/task/TID/stat), that is, waits for something, or has ended
 * (nothing more to wait for: the caller's next check says what it did). */
static int thread_asleep(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f && errno == ENOENT)
        return 1;
    if (!f)
        fail_msg("%s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *end = strrchr(buf, ')'); /* the name may hold spaces and ')' */
    return end && end[1] == ' ' && (end[2] == 'S' || end[2] == 'D');
}

/* Polls every millisecond until thread `tid` sleeps, for at most `seconds`;
 * 1 when it did. */
static int wait_asleep(pid_t tid, int seconds)
{
    int64_t end = mono_ns() + (int64_t)seconds * 1000000000;
    while (!thread_asleep(tid)) {
        if (mono_ns() > end)
            return 0;
        sleep_ms(1);
    }
    return 1;
}

/* ---- fixtures ----------------------------------------------------------- */

/* The second group runs the tests again in the team mode: preprocess_threads
 * 0 with the engine's threads on every CPU (team_setup), so no workers and
 * the engine's own OpenMP team prepares each batch between forward passes. */
static int team_mode;
/* The third group runs them once more with two engine lanes (lanes_setup):
 * two engine threads of one intra-op thread each, each preparing and
 * running batches of its own. */
static int lanes_mode;

static imgclass_pipeline_options tiny_options(collector *c)
{
    /* o.preprocess points here (options hold it by pointer). */
    static imgclass_preprocess_options pre;
    pre = fx_preprocess_exact(8);
    imgclass_pipeline_options o = imgclass_pipeline_options_default();
    o.preprocess = &pre;
    o.on_result = on_result;
    o.on_result_ctx = c;
    o.preprocess_threads = team_mode ? 0 : 2;
    o.engine_lanes = lanes_mode ? 2 : 0; /* 0: one lane for this float model */
    return o;
}

/* A PNG of w x h in memory. */
static unsigned char *png(int w, int h, unsigned seed, size_t *size)
{
    unsigned char *px = fx_pattern(w, h, 3, seed);
    assert_non_null(px);
    unsigned char *enc = fx_encode_stb('p', px, w, h, 3, size);
    free(px);
    assert_non_null(enc);
    return enc;
}

/* The scores imgclass_classify gives for one memory input. */
static void expected_scores(const imgclass_model *m, const void *data, size_t size, float *out)
{
    /* o.preprocess points here (options hold it by pointer). */
    static imgclass_preprocess_options pre;
    pre = fx_preprocess_exact(8);
    imgclass_classify_options o = imgclass_classify_options_default();
    o.preprocess = &pre;
    imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = data, .size = size};
    imgclass_results *r = NULL;
    assert_int_equal(imgclass_classify(m, &in, 1, &o, &r), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_OK);
    memcpy(out, imgclass_results_scores(r, 0), K * sizeof *out);
    imgclass_results_free(r);
}

static imgclass_model *tiny(void)
{
    return fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
}

static imgclass_status submit_memory(imgclass_pipeline *p, const void *data, size_t size,
                                     void *user, unsigned flags)
{
    imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = data, .size = size};
    return imgclass_pipeline_submit(p, &in, user, flags, NULL);
}

static void assert_in_order(collector *c)
{
    assert_callbacks_fine(c);
    for (size_t i = 0; i < c->n; i++)
        assert_int_equal(c->rec[i].seq, i);
}

/* ---- tests -------------------------------------------------------------- */

/* Images of very different decode times, so later ones finish first: the
 * results still come in submission order and equal imgclass_classify's. */
static void test_ordered_despite_out_of_order_completion(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 3;
    o.preprocess_threads = 3;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);

    enum { N = 12 };
    unsigned char *img[N];
    size_t size[N];
    for (int i = 0; i < N; i++) /* every third image is large */
        img[i] = i % 3 == 0 ? png(1500, 1200, (unsigned)i, &size[i]) : png(9, 7, (unsigned)i, &size[i]);
    uint64_t seq;
    for (int i = 0; i < N; i++) {
        imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = img[i], .size = size[i]};
        assert_int_equal(imgclass_pipeline_submit(p, &in, img[i], 0, &seq), IMGCLASS_OK);
        assert_int_equal(seq, (uint64_t)i);
    }
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, N);
    assert_in_order(c);
    for (int i = 0; i < N; i++) {
        float want[K];
        expected_scores(m, img[i], size[i], want);
        assert_int_equal(c->rec[i].status, IMGCLASS_OK);
        assert_ptr_equal(c->rec[i].user, img[i]);
        assert_int_equal(c->rec[i].k, K);
        fx_model_assert_close(c->rec[i].scores, want, K, 1e-5f);
        assert_true(c->rec[i].batch_size >= 1 && c->rec[i].batch_size <= 3);
    }
    imgclass_pipeline_free(p);
    for (int i = 0; i < N; i++)
        free(img[i]);
    collector_free(c);
    imgclass_model_free(m);
}

/* A lone image is not held for a full batch: it goes at the deadline,
 * counted from when it was ready, and not before. */
static void test_deadline_cut(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 64;
    o.max_delay_us = 30000;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(20, 20, 1, &size);
    int64_t t0 = mono_ns();
    assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_true(wait_for(c, 1, 30)); /* no flush: only the deadline can cut it */
    record *r = &c->rec[0];
    assert_int_equal(r->status, IMGCLASS_OK);
    assert_int_equal(r->cut, IMGCLASS_CUT_DEADLINE);
    assert_int_equal(r->batch_size, 1);
    /* submit -> delivery spans queueing, preprocessing, the whole delay and
     * the forward pass: the cut never comes early */
    double waited_us = (double)(r->delivered_ns - t0) / 1000.0;
    assert_true(waited_us >= r->queued_us + r->preprocess_us + (double)o.max_delay_us);
    imgclass_pipeline_stats s = {.struct_size = sizeof s};
    assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    assert_int_equal(s.batches_deadline, 1);
    assert_int_equal(s.batches_full + s.batches_flush, 0);
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

/* An idle engine thread prepares the first image of its next batch itself
 * (no hand-off to a worker at low load), and never more than that one per
 * batch, so the deadline of a batch that holds an image can always be cut. */
static void test_engine_prepares_when_idle(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 4;
    o.max_delay_us = 1000;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(20, 20, 1, &size);
    imgclass_pipeline_stats s = {.struct_size = sizeof s};
    /* A burst first: workers prepare the rest, the engine at most one image
     * a batch; and every batch buffer of the ring has been used, so the
     * lone images below meet buffers that held images before. */
    for (int i = 0; i < 40; i++)
        assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    assert_int_equal(s.delivered, 40);
    assert_true(s.engine_prepared <= s.batches);
    uint64_t before = s.engine_prepared;
    /* Lone images, one at a time: whoever prepares one (the engine if it
     * is already waiting again when the image comes, else a worker), it
     * goes alone at the deadline. How many the engine takes depends on the
     * scheduler, so the test only sends lone images, with growing pauses,
     * until the engine has taken one, and gives up after 200 (about 20 s
     * of pauses: the engine goes idle within microseconds of a delivery). */
    size_t sent = 40;
    int lone = 0;
    do {
        sleep_ms(lone < 100 ? lone : 100);
        assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
        assert_true(wait_for(c, ++sent, 30));
        lone++;
        assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    } while (s.engine_prepared == before && lone < 200);
    if (s.engine_prepared == before)
        fail_msg("the engine prepared none of %d lone images", lone);
    assert_callbacks_fine(c);
    for (size_t i = 40; i < c->n; i++) {
        assert_int_equal(c->rec[i].status, IMGCLASS_OK);
        assert_int_equal(c->rec[i].cut, IMGCLASS_CUT_DEADLINE);
        assert_int_equal(c->rec[i].batch_size, 1);
    }
    /* the engine, lone images or not, prepares at most one image a batch */
    assert_true(s.engine_prepared <= s.batches);
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

/* Full batches go without flush or deadline; flush cuts a partial one. */
static void test_full_cuts_and_flush(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 4;
    o.max_delay_us = -1; /* no deadline */
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(12, 10, 2, &size);
    for (int i = 0; i < 8; i++)
        assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_true(wait_for(c, 8, 30));
    for (int i = 0; i < 8; i++) {
        assert_int_equal(c->rec[i].cut, IMGCLASS_CUT_FULL);
        assert_int_equal(c->rec[i].batch_size, 4);
        assert_int_equal(c->rec[i].batch_inputs, 4);
        assert_int_equal(c->rec[i].batch_id, (uint64_t)(i / 4));
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, 11); /* flush returned: everything delivered */
    for (int i = 8; i < 11; i++) {
        assert_int_equal(c->rec[i].cut, IMGCLASS_CUT_FLUSH);
        assert_int_equal(c->rec[i].batch_size, 3);
        assert_int_equal(c->rec[i].batch_inputs, 3);
        assert_int_equal(c->rec[i].batch_id, 2);
    }
    /* after a flush, batching goes on as before: full cuts again */
    for (int i = 0; i < 4; i++)
        assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_true(wait_for(c, 15, 30));
    assert_int_equal(c->rec[14].cut, IMGCLASS_CUT_FULL);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK); /* nothing pending: returns */
    imgclass_pipeline_stats s = {.struct_size = sizeof s};
    assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    assert_int_equal(s.batches_full, 3);
    assert_int_equal(s.batches_flush, 1);
    assert_int_equal(s.batched_images, 15);
    assert_int_equal(s.submitted, 15);
    assert_int_equal(s.delivered, 15);
    assert_int_equal(s.queue_depth, 0);
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

typedef struct blocking_submit {
    imgclass_pipeline *p;
    const void *data;
    size_t size;
    collector *c; /* its lock guards the fields below; `changed` tells */
    pid_t tid;
    int started, done;
    int returned_while_held; /* submit returned before the held callback let go */
    imgclass_status st;
} blocking_submit;

static void *submit_thread(void *arg)
{
    blocking_submit *b = arg;
    collector *c = b->c;
    pthread_mutex_lock(&c->lock);
    b->tid = gettid();
    b->started = 1;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    imgclass_status st = submit_memory(b->p, b->data, b->size, NULL, 0);
    pthread_mutex_lock(&c->lock);
    b->st = st;
    b->done = 1;
    b->returned_while_held = c->hold;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Waits until *flag is set (under c->lock, announced on c->changed), for at
 * most `seconds`; 1 when it is. */
static int wait_flag(collector *c, const int *flag, int seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    while (!*flag && rc == 0)
        rc = pthread_cond_timedwait(&c->changed, &c->lock, &ts);
    int ok = *flag;
    pthread_mutex_unlock(&c->lock);
    return ok;
}

/* With the queue full, a non-blocking submit is refused with BUSY and a
 * blocking one waits, then goes through once a result frees a place. */
static void test_backpressure(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 1;
    o.queue_capacity = 2;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(10, 10, 3, &size);

    c->hold = 1; /* the first callback holds the engine thread */
    assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_true(wait_for(c, 1, 30)); /* image 0 is in its (held) callback */
    assert_int_equal(submit_memory(p, img, size, NULL, IMGCLASS_SUBMIT_NONBLOCK), IMGCLASS_ERR_BUSY);
    assert_non_null(strstr(imgclass_last_error(), "busy"));

    blocking_submit b = {.p = p, .data = img, .size = size, .c = c};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, submit_thread, &b), 0);
    /* The submitter runs, then sleeps: waiting for room (nothing else in
     * submit sleeps with the engine held and the workers idle). Should it
     * not have reached the wait yet, the checks below still hold: its
     * submit can only return once the callback lets go. */
    assert_true(wait_flag(c, &b.started, 30));
    assert_true(wait_asleep(b.tid, 30));
    pthread_mutex_lock(&c->lock);
    assert_int_equal(b.done, 0); /* still waiting for room */
    c->hold = 0;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    assert_true(wait_flag(c, &b.done, 30)); /* room came: it went through */
    pthread_join(t, NULL);
    assert_int_equal(b.returned_while_held, 0);
    assert_int_equal(b.st, IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, 3);
    assert_in_order(c);
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

/* Bad inputs fail alone, with messages that name them; good ones in the
 * same batches are classified as usual. */
static void test_mixed_good_and_bad(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 4;
    o.max_delay_us = -1; /* batches of exactly 4, then the flush */
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(16, 16, 4, &size);
    char *path = fx_temp_file(img, size);
    assert_non_null(path);
    static const char garbage[] = "this is not an image at all";
    imgclass_image *wrapped = NULL;
    unsigned char *px = fx_pattern(11, 13, 3, 9);
    assert_int_equal(imgclass_image_wrap(px, 11, 13, 0, IMGCLASS_PIXEL_RGB, 0, &wrapped), IMGCLASS_OK);

    imgclass_input in[6] = {
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = path},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = "/nonexistent/dir/cat.jpg"},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = garbage, .size = sizeof garbage},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = img, .size = size},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = wrapped},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = img, .size = size / 2}, /* truncated */
    };
    for (int i = 0; i < 6; i++)
        assert_int_equal(imgclass_pipeline_submit(p, &in[i], NULL, 0, NULL), IMGCLASS_OK);
    /* arguments that are wrong are refused at once, nothing accepted */
    imgclass_input null_path = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = NULL};
    assert_int_equal(imgclass_pipeline_submit(p, &null_path, NULL, 0, NULL),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_pipeline_submit(p, &in[0], NULL, 0x80, NULL),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, 6);
    assert_in_order(c);
    float want[K];
    expected_scores(m, img, size, want);
    assert_int_equal(c->rec[0].status, IMGCLASS_OK);
    fx_model_assert_close(c->rec[0].scores, want, K, 1e-5f);
    assert_int_equal(c->rec[1].status, IMGCLASS_ERR_IO);
    assert_non_null(strstr(c->rec[1].error, "/nonexistent/dir/cat.jpg"));
    assert_int_equal(c->rec[1].k, 0);
    assert_int_equal(c->rec[2].status, IMGCLASS_ERR_UNSUPPORTED);
    assert_non_null(strstr(c->rec[2].error, "memory buffer"));
    assert_int_equal(c->rec[3].status, IMGCLASS_OK);
    fx_model_assert_close(c->rec[3].scores, want, K, 1e-5f);
    assert_int_equal(c->rec[4].status, IMGCLASS_OK);
    assert_int_not_equal(c->rec[5].status, IMGCLASS_OK);
    assert_string_not_equal(c->rec[5].error, "");
    /* failed images count among their batch's inputs, not in its pass */
    assert_int_equal(c->rec[0].batch_inputs, 4);
    assert_int_equal(c->rec[0].batch_size, 2);
    assert_int_equal(c->rec[1].batch_size, 0);
    assert_int_equal(c->rec[5].batch_inputs, 2);
    imgclass_pipeline_stats s = {.struct_size = sizeof s};
    assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    assert_int_equal(s.failed, 3);
    assert_int_equal(s.batched_images, 3); /* failed images take no forward slot */
    imgclass_pipeline_free(p);
    imgclass_image_free(wrapped);
    free(px);
    unlink(path);
    free(path);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

/* The engine fails on one batch (the model refuses a batch of 3): each of
 * its images gets the message, and the batches after it work. */
static void test_engine_error_mid_stream(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("fail_batch3.pt", 0, 8, 8);
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 8;
    o.max_delay_us = (int64_t)3600 * 1000000;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(10, 10, 5, &size);
    int per_round[3] = {2, 3, 2};
    for (int r = 0; r < 3; r++) {
        for (int i = 0; i < per_round[r]; i++)
            assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
        assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    }
    assert_int_equal(c->n, 7);
    assert_in_order(c);
    for (int i = 0; i < 7; i++) {
        int in_bad_batch = i >= 2 && i < 5;
        if (in_bad_batch) {
            assert_int_equal(c->rec[i].status, IMGCLASS_ERR_ENGINE);
            assert_non_null(strstr(c->rec[i].error, "refusing a batch of 3"));
            /* libtorch's two tracebacks cut down to one line that says
             * where in the model's code it was raised */
            assert_null(strchr(c->rec[i].error, '\n'));
            assert_non_null(strstr(c->rec[i].error, "(in the model's TorchScript code, File "));
            assert_int_equal(c->rec[i].k, 0);
            assert_int_equal(c->rec[i].batch_size, 3);
        } else {
            assert_int_equal(c->rec[i].status, IMGCLASS_OK);
            assert_int_equal(c->rec[i].k, K);
        }
    }
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

typedef struct producer {
    imgclass_pipeline *p;
    const unsigned char *img;
    size_t size;
    int id;
} producer;

#define PRODUCERS 8
#define PER_PRODUCER 200

static void *produce(void *arg)
{
    producer *pr = arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        uintptr_t tag = (uintptr_t)(pr->id * PER_PRODUCER + i + 1);
        imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = pr->img, .size = pr->size};
        if (imgclass_pipeline_submit(pr->p, &in, (void *)tag, 0, NULL) != IMGCLASS_OK)
            return (void *)1;
    }
    return NULL;
}

/* 8 threads x 200 submits through a small queue: every result delivered
 * exactly once, in sequence order, each one right. */
static void test_many_producers(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 8;
    o.queue_capacity = 16;
    o.max_delay_us = 1000;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(10, 10, 6, &size);
    float want[K];
    expected_scores(m, img, size, want);
    pthread_t t[PRODUCERS];
    producer pr[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
        pr[i] = (producer){.p = p, .img = img, .size = size, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, produce, &pr[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        void *rv;
        pthread_join(t[i], &rv);
        assert_null(rv);
    }
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, PRODUCERS * PER_PRODUCER);
    assert_in_order(c);
    static unsigned char seen[PRODUCERS * PER_PRODUCER + 1];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < c->n; i++) {
        uintptr_t tag = (uintptr_t)c->rec[i].user;
        assert_true(tag >= 1 && tag <= PRODUCERS * PER_PRODUCER);
        assert_int_equal(seen[tag], 0);
        seen[tag] = 1;
        assert_int_equal(c->rec[i].status, IMGCLASS_OK);
        fx_model_assert_close(c->rec[i].scores, want, K, 1e-5f);
    }
    imgclass_pipeline_stats s = {.struct_size = sizeof s};
    assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    uint64_t in_buckets = 0;
    for (int i = 0; i < IMGCLASS_LATENCY_BUCKETS; i++)
        in_buckets += s.latency_buckets[i];
    assert_int_equal(in_buckets, s.delivered);
    assert_true(s.latency_p50_us > 0 && s.latency_p50_us <= s.latency_p90_us &&
                s.latency_p90_us <= s.latency_p99_us);
    /* How many batches were full depends on the scheduler (a slow machine
     * cuts more at the deadline); what holds anyway: every image in one
     * pass of at most max_batch, every pass with its cut. */
    assert_int_equal(s.batched_images, PRODUCERS * PER_PRODUCER);
    assert_true(s.batches * (uint64_t)o.max_batch >= s.batched_images);
    assert_int_equal(s.batches_full + s.batches_deadline + s.batches_flush, s.batches);
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

static void *free_thread(void *arg)
{
    imgclass_pipeline_free(arg);
    return NULL;
}

/* free() while images are queued: all are delivered before it returns,
 * none after; a submit during shutdown is refused with CLOSED. */
static void test_free_while_busy(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    enum { QUEUE = 64 };
    o.max_batch = 4;
    o.queue_capacity = QUEUE;
    o.max_delay_us = (int64_t)3600 * 1000000;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(300, 200, 7, &size);
    c->hold = 1; /* the first callback waits until free() has begun */
    for (int i = 0; i < QUEUE; i++) /* the queue full: a submit is BUSY until closing */
        assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_true(wait_for(c, 1, 30));
    pthread_mutex_lock(&c->lock);
    c->closing_pipeline = p;
    c->submit_while_closing = IMGCLASS_OK;
    pthread_mutex_unlock(&c->lock);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_thread, p), 0);
    /* free() marks the pipeline closing, then waits for the held callback
     * (so p stays valid here): a submit turns from BUSY to CLOSED. */
    imgclass_status st;
    int64_t end = mono_ns() + (int64_t)30 * 1000000000;
    while ((st = submit_memory(p, img, size, NULL, IMGCLASS_SUBMIT_NONBLOCK)) ==
               IMGCLASS_ERR_BUSY &&
           mono_ns() < end)
        sleep_ms(1);
    assert_int_equal(st, IMGCLASS_ERR_CLOSED);
    assert_non_null(strstr(imgclass_last_error(), "shutting down"));
    pthread_mutex_lock(&c->lock);
    c->hold = 0;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    pthread_join(t, NULL);
    pthread_mutex_lock(&c->lock);
    c->after_free = 1;
    assert_int_equal(c->n, QUEUE);
    assert_int_equal(c->submit_while_closing, IMGCLASS_ERR_CLOSED);
    pthread_mutex_unlock(&c->lock);
    /* free() joined every thread of the pipeline, so no callback can come
     * now; the pause only gives a wrongly surviving one the time to show
     * (this check can miss, never fail wrongly). */
    sleep_ms(50);
    pthread_mutex_lock(&c->lock);
    assert_int_equal(c->late, 0);
    pthread_mutex_unlock(&c->lock);
    assert_in_order(c);
    imgclass_pipeline_free(NULL); /* no-op */
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

/* Unordered delivery: failures may come early (from a worker), every image
 * still exactly once. */
static void test_unordered(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.ordered = 0;
    o.max_batch = 4;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(10, 10, 8, &size);
    static const char bad[] = "GIF89a nonsense";
    for (int i = 0; i < 40; i++) {
        if (i % 5 == 4)
            assert_int_equal(submit_memory(p, bad, sizeof bad, (void *)(uintptr_t)(i + 1), 0),
                             IMGCLASS_OK);
        else
            assert_int_equal(submit_memory(p, img, size, (void *)(uintptr_t)(i + 1), 0),
                             IMGCLASS_OK);
    }
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, 40);
    unsigned char seen[41] = {0};
    for (size_t i = 0; i < c->n; i++) {
        uintptr_t tag = (uintptr_t)c->rec[i].user;
        assert_int_equal(seen[tag], 0);
        seen[tag] = 1;
        assert_int_equal(c->rec[i].seq, tag - 1);
        assert_int_equal(c->rec[i].status == IMGCLASS_OK, tag % 5 != 0);
    }
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

/* The preprocessing threads give themselves the nice value of
 * preprocess_nice (19 by default; 0 leaves the creator's): seen from a
 * failure's callback, which ordered = 0 runs on the worker that saw it. */
/* The highest nice value of the threads that delivered early failures. */
static pthread_mutex_t nice_lock = PTHREAD_MUTEX_INITIALIZER;

static void record_nice(void *ctx, const imgclass_pipeline_result *r)
{
    (void)r;
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0); /* Linux: the calling thread */
    int seen = errno == 0 ? nice : -100;
    pthread_mutex_lock(&nice_lock);
    if (seen > *(int *)ctx)
        *(int *)ctx = seen;
    pthread_mutex_unlock(&nice_lock);
}

/* The nice value a worker runs at. An unordered failure is delivered by the
 * thread that prepared it; an idle engine thread prepares the first image
 * of a batch itself, so two go in, and with a long deadline the second can
 * only be a worker's (the engine prepares no more than the first). */
static int worker_nice_with(const imgclass_model *m, int preprocess_nice)
{
    imgclass_pipeline_options o = tiny_options(NULL);
    int seen = -200;
    o.on_result = record_nice;
    o.on_result_ctx = &seen;
    o.ordered = 0;
    o.preprocess_threads = 1;
    o.max_delay_us = 10000000;
    if (preprocess_nice >= 0)
        o.preprocess_nice = preprocess_nice;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    static const char bad[] = "GIF89a nonsense";
    for (int i = 0; i < 2; i++)
        assert_int_equal(submit_memory(p, bad, sizeof bad, NULL, 0), IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    imgclass_pipeline_free(p);
    return seen;
}

static void test_preprocess_nice(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    errno = 0;
    int mine = getpriority(PRIO_PROCESS, 0);
    assert_int_equal(errno, 0);
    assert_int_equal(imgclass_pipeline_options_default().preprocess_nice, 19);
    assert_int_equal(worker_nice_with(m, -1), mine > 19 ? mine : 19); /* the default */
    assert_int_equal(worker_nice_with(m, 0), mine);
    assert_int_equal(worker_nice_with(m, 7), mine > 7 ? mine : 7);
    /* the creating thread keeps its own */
    assert_int_equal(getpriority(PRIO_PROCESS, 0), mine);
    imgclass_pipeline_options o = tiny_options(NULL);
    o.on_result = record_nice;
    imgclass_pipeline *p = NULL;
    o.preprocess_nice = 20;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "preprocess_nice must be 0..19"));
    o.preprocess_nice = -1;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_null(p);
    imgclass_model_free(m);
}

/* IMGCLASS_SUBMIT_COPY: the caller may reuse its buffer at once. */
static void test_submit_copy(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    size_t size;
    unsigned char *img = png(14, 9, 10, &size);
    float want[K];
    expected_scores(m, img, size, want);
    unsigned char *buf = malloc(size);
    assert_non_null(buf);
    memcpy(buf, img, size);
    assert_int_equal(submit_memory(p, buf, size, NULL, IMGCLASS_SUBMIT_COPY), IMGCLASS_OK);
    memset(buf, 0, size); /* the copy is what counts */
    free(buf);
    unsigned char *px = fx_pattern(11, 13, 3, 9);
    imgclass_image *img2 = NULL;
    assert_int_equal(imgclass_image_wrap(px, 11, 13, 0, IMGCLASS_PIXEL_BGR, 0, &img2), IMGCLASS_OK);
    imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = img2};
    assert_int_equal(imgclass_pipeline_submit(p, &in, NULL, IMGCLASS_SUBMIT_COPY, NULL), IMGCLASS_OK);
    imgclass_image_free(img2);
    free(px);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, 2);
    assert_int_equal(c->rec[0].status, IMGCLASS_OK);
    fx_model_assert_close(c->rec[0].scores, want, K, 1e-5f);
    assert_int_equal(c->rec[1].status, IMGCLASS_OK);
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

static void test_bad_options(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline *p = (imgclass_pipeline *)&p;
    imgclass_pipeline_options o = tiny_options(c);
    /* smaller than the first release's struct: refused */
    o.struct_size = offsetof(imgclass_pipeline_options, engine_lanes) - 8;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_null(p);
    assert_non_null(strstr(imgclass_last_error(), "bytes"));
    /* the first release's, without the lanes: accepted, the lanes default */
    o.struct_size = offsetof(imgclass_pipeline_options, engine_lanes);
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    imgclass_pipeline_free(p);
    static const struct {
        int lanes, lane_threads;
        const char *why;
    } bad_lanes[] = {{-1, 0, "engine_lanes"}, {65, 0, "engine_lanes"}, {2, -1, "engine_lane_threads"},
                     {2, 1025, "engine_lane_threads"}};
    for (size_t i = 0; i < sizeof bad_lanes / sizeof *bad_lanes; i++) {
        o = tiny_options(c);
        o.engine_lanes = bad_lanes[i].lanes;
        o.engine_lane_threads = bad_lanes[i].lane_threads;
        p = (imgclass_pipeline *)&p;
        assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
        assert_null(p);
        assert_non_null(strstr(imgclass_last_error(), bad_lanes[i].why));
    }
    o = tiny_options(c);
    o.on_result = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "on_result"));
    o = tiny_options(c);
    o.max_batch = 0;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
    o = tiny_options(c);
    imgclass_preprocess_options pre16 = *o.preprocess;
    pre16.crop_width = pre16.crop_height = 16; /* the model takes 8 x 8 */
    pre16.resize_width = pre16.resize_height = 16;
    o.preprocess = &pre16;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "8 x 8"));
    assert_int_equal(imgclass_pipeline_create(NULL, &o, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_pipeline_create(m, NULL, &p), IMGCLASS_ERR_INVALID_ARGUMENT);
    imgclass_input in = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = "a.jpg"};
    assert_int_equal(imgclass_pipeline_submit(NULL, &in, NULL, 0, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_pipeline_flush(NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    imgclass_pipeline_stats s = {.struct_size = 3};
    assert_int_equal(imgclass_pipeline_stats_get(NULL, &s), IMGCLASS_ERR_INVALID_ARGUMENT);
    o = tiny_options(c);
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_ERR_INVALID_ARGUMENT);
    s.struct_size = sizeof s;
    assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    assert_int_equal(s.queue_capacity, 4 * o.max_batch); /* the default */
    assert_int_equal(s.latency_p50_us, 0.0);
    imgclass_pipeline_free(p);
    collector_free(c);
    imgclass_model_free(m);
}

/* A callback finds its own result already counted as delivered: a server
 * that answers its client from the callback must find the answer in the
 * statistics the client asks for next (imgclass-serve's metrics). */
static void test_counted_before_the_callback(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 2;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    c->stats_of = p;
    size_t size;
    unsigned char *img = png(10, 10, 5, &size);
    enum { N = 5 };
    for (int i = 0; i < N; i++)
        assert_int_equal(submit_memory(p, img, size, NULL, 0), IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, N);
    assert_in_order(c);
    for (int i = 0; i < N; i++)
        if (c->rec[i].delivered_seen < (uint64_t)i + 1)
            fail_msg("callback %d saw %llu delivered: its own result not counted yet", i,
                     (unsigned long long)c->rec[i].delivered_seen);
    imgclass_pipeline_free(p);
    free(img);
    collector_free(c);
    imgclass_model_free(m);
}

/* Result i is image i's, classified as imgclass_classify classifies it. */
static void assert_classified(collector *c, const imgclass_model *m, int i, unsigned char *const *img,
                              const size_t *size)
{
    assert_ptr_equal(c->rec[i].user, img[i]);
    assert_int_equal(c->rec[i].status, IMGCLASS_OK);
    float want[K];
    expected_scores(m, img[i], size[i], want);
    assert_memory_equal(c->rec[i].scores, want, sizeof want);
}

/* Frees a test's pipeline, its n images, collector and model. */
static void finish(imgclass_pipeline *p, unsigned char **img, int n, collector *c,
                   imgclass_model *m)
{
    imgclass_pipeline_free(p);
    for (int i = 0; i < n; i++)
        free(img[i]);
    collector_free(c);
    imgclass_model_free(m);
}

/* Team mode: the engine's team prepared every image (no worker did), and
 * the results are those of imgclass_classify, in order, for a burst of
 * photos of mixed sizes with bad ones among them. */
static void test_team_prepares_everything(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 4;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    enum { N = 30 };
    unsigned char *img[N];
    size_t size[N];
    static const char bad[] = "GIF89a nonsense";
    for (int i = 0; i < N; i++) {
        img[i] = png(i % 4 == 0 ? 300 : 12, 10 + i, (unsigned)i, &size[i]);
        if (i % 7 == 6)
            assert_int_equal(submit_memory(p, bad, sizeof bad, img[i], 0), IMGCLASS_OK);
        else
            assert_int_equal(submit_memory(p, img[i], size[i], img[i], 0), IMGCLASS_OK);
    }
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    imgclass_pipeline_stats s = {.struct_size = sizeof s};
    assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    if (s.engine_prepared != N)
        fail_msg("the engine's team prepared %llu of %d images: workers ran",
                 (unsigned long long)s.engine_prepared, N);
    assert_int_equal(c->n, N);
    assert_in_order(c);
    for (int i = 0; i < N; i++) {
        if (i % 7 == 6) { /* refused by the decoder, with its reason */
            assert_ptr_equal(c->rec[i].user, img[i]);
            assert_int_not_equal(c->rec[i].status, IMGCLASS_OK);
            assert_non_null(strstr(c->rec[i].error, "GIF"));
            continue;
        }
        assert_classified(c, m, i, img, size);
    }
    finish(p, img, N, c, m);
}

/* Lanes: while the first batch's callback holds its lane, the other lane
 * still prepares and runs the next batch (the statistics count its forward
 * pass), and that batch's result waits for its turn: submission order
 * holds. With one engine thread the held callback stops every pass. */
static void test_lanes_run_side_by_side(void **state)
{
    (void)state;
    imgclass_model *m = tiny();
    collector *c = collector_new();
    imgclass_pipeline_options o = tiny_options(c);
    o.max_batch = 1;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);
    enum { N = 3 };
    unsigned char *img[N];
    size_t size[N];
    for (int i = 0; i < N; i++)
        img[i] = png(12 + i, 10, (unsigned)i, &size[i]);

    c->hold = 1; /* the first callback holds its lane */
    assert_int_equal(submit_memory(p, img[0], size[0], img[0], 0), IMGCLASS_OK);
    assert_true(wait_for(c, 1, 30));
    for (int i = 1; i < N; i++)
        assert_int_equal(submit_memory(p, img[i], size[i], img[i], 0), IMGCLASS_OK);
    imgclass_pipeline_stats s = {.struct_size = sizeof s};
    int64_t end = mono_ns() + (int64_t)30 * 1000000000;
    do {
        sleep_ms(1);
        assert_int_equal(imgclass_pipeline_stats_get(p, &s), IMGCLASS_OK);
    } while (s.batches < 2 && mono_ns() < end);
    pthread_mutex_lock(&c->lock);
    size_t delivered = c->n;
    c->hold = 0;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    if (s.batches < 2)
        fail_msg("no second forward pass while the first batch's callback held its lane "
                 "(%llu batches in 30 s): the lanes do not run side by side",
                 (unsigned long long)s.batches);
    assert_int_equal(delivered, 1); /* the second result waited for the first */
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    assert_int_equal(c->n, N);
    assert_in_order(c);
    for (int i = 0; i < N; i++)
        assert_classified(c, m, i, img, size);
    finish(p, img, N, c, m);
}

static int saved_threads;

static int team_setup(void **state)
{
    (void)state;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    saved_threads = imgclass_get_num_threads();
    team_mode = 1;
    return imgclass_set_num_threads(cpus > 1 ? (int)cpus : 1) == IMGCLASS_OK ? 0 : -1;
}

static int team_teardown(void **state)
{
    (void)state;
    team_mode = 0;
    lanes_mode = 0;
    return imgclass_set_num_threads(saved_threads) == IMGCLASS_OK ? 0 : -1;
}

static int lanes_setup(void **state)
{
    lanes_mode = 1;
    return team_setup(state);
}

/* The tests that hold in both modes: whoever prepares, the pipeline's
 * guarantees are the same. */
#define TESTS_OF_BOTH_MODES                                                                        \
    cmocka_unit_test(test_deadline_cut), cmocka_unit_test(test_full_cuts_and_flush),               \
        cmocka_unit_test(test_backpressure), cmocka_unit_test(test_mixed_good_and_bad),            \
        cmocka_unit_test(test_engine_error_mid_stream), cmocka_unit_test(test_many_producers),     \
        cmocka_unit_test(test_free_while_busy), cmocka_unit_test(test_unordered),                  \
        cmocka_unit_test(test_submit_copy), cmocka_unit_test(test_counted_before_the_callback)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordered_despite_out_of_order_completion),
        cmocka_unit_test(test_engine_prepares_when_idle),
        cmocka_unit_test(test_preprocess_nice),
        cmocka_unit_test(test_bad_options),
        TESTS_OF_BOTH_MODES,
    };
    const struct CMUnitTest team_tests[] = {
        cmocka_unit_test(test_team_prepares_everything),
        TESTS_OF_BOTH_MODES,
    };
    const struct CMUnitTest lanes_tests[] = {
        cmocka_unit_test(test_lanes_run_side_by_side),
        cmocka_unit_test(test_team_prepares_everything),
        TESTS_OF_BOTH_MODES,
    };
    int failed = cmocka_run_group_tests_name("workers", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("team", team_tests, team_setup, team_teardown);
    return failed + cmocka_run_group_tests_name("lanes", lanes_tests, lanes_setup, team_teardown);
}
