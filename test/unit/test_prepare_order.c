/* The order in which the engine's team prepares a round (lib/prepare_order.c):
 * largest guessed cost first, ties in submission order; the guesses for each
 * kind of input; and a pipeline in team mode taking a round in that order.
 * The last runs on the fake engine module (test/unit/fake_engine/, beside
 * this binary), whose team is the calling thread alone: the order is then
 * exact, where libtorch's two threads would race. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imgclass.h"
#include "model_fixtures.h"
#include "prepare_order.h"

static void test_largest_first_ties_in_order(void **state)
{
    (void)state;
    const uint64_t cost[7] = {5, 100, 5, 0, 300, 100, 7};
    size_t order[7];
    ic_order_largest_first(cost, order, 7);
    const size_t want[7] = {4, 1, 5, 6, 0, 2, 3};
    for (int i = 0; i < 7; i++)
        assert_int_equal(order[i], want[i]);

    const uint64_t ascending[5] = {1, 2, 3, 4, 5}; /* the worst case: reversed */
    ic_order_largest_first(ascending, order, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(order[i], 4 - i);

    const uint64_t one = 42;
    order[0] = 99;
    ic_order_largest_first(&one, order, 1);
    assert_int_equal(order[0], 0);
    ic_order_largest_first(NULL, NULL, 0); /* an empty round touches nothing */
}

static void test_cost_of_each_input_kind(void **state)
{
    (void)state;
    static const unsigned char bytes[1234] = {0};
    imgclass_input mem = IMGCLASS_INPUT_BUFFER(bytes, sizeof bytes);
    assert_int_equal(ic_prepare_cost(&mem), 1234);

    char path[] = "/tmp/imgclass-prepare-order-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, 777), 777);
    close(fd);
    imgclass_input file = IMGCLASS_INPUT_FILE(path);
    assert_int_equal(ic_prepare_cost(&file), 777);
    unlink(path);
    /* gone: unknown, and the preparation reports why */
    assert_int_equal(ic_prepare_cost(&file), 0);

    static unsigned char px[40 * 30 * 3];
    imgclass_image *im = NULL;
    assert_int_equal(imgclass_image_wrap(px, 40, 30, 0, IMGCLASS_PIXEL_RGB, 0, &im), IMGCLASS_OK);
    imgclass_input decoded = IMGCLASS_INPUT_DECODED(im);
    assert_int_equal(ic_prepare_cost(&decoded), 40 * 30 * 3 / 10);
    imgclass_image_free(im);
}

/* ---- a pipeline's round, on the fake engine ------------------------------ */

enum { ROUND = 4 };

typedef struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int gate_entered, gate_open;
    size_t n;
    void *user[1 + ROUND];
    int status_ok[1 + ROUND];
} recorder;

static char gate_input[] = "the gate: not an image";

/* Failures come early (ordered = 0), from the thread that prepared them, in
 * the order they were prepared. The first (the gate) holds the engine's
 * round until the test has queued the next round whole. */
static void record(void *ctx, const imgclass_pipeline_result *r)
{
    recorder *rec = ctx;
    pthread_mutex_lock(&rec->lock);
    if (rec->n < 1 + ROUND) {
        rec->user[rec->n] = r->user;
        rec->status_ok[rec->n] = r->status == IMGCLASS_OK;
    }
    rec->n++;
    if (r->user == gate_input) {
        rec->gate_entered = 1;
        pthread_cond_broadcast(&rec->cond);
        while (!rec->gate_open)
            pthread_cond_wait(&rec->cond, &rec->lock);
    }
    pthread_mutex_unlock(&rec->lock);
}

static void test_team_takes_largest_first(void **state)
{
    (void)state;
    char engine[4200], exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(len > 0);
    exe[len] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(engine, sizeof engine, "%s/fake_engine.so", exe);
    assert_int_equal(access(engine, R_OK), 0); /* make tests builds it */
    setenv("IMGCLASS_ENGINE_PATH", engine, 1);

    static const char archive[] = "PK\003\004 fake model"; /* the fake takes any archive */
    imgclass_model_options mo = imgclass_model_options_default();
    mo.input_height = mo.input_width = 8;
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load_memory(archive, sizeof archive, &mo, &m), IMGCLASS_OK);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* the engine's threads on every CPU: the team prepares */
    assert_int_equal(imgclass_set_num_threads(cpus > 1 ? (int)cpus : 1), IMGCLASS_OK);

    recorder rec = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    imgclass_preprocess_options pre = fx_preprocess_exact(8);
    imgclass_pipeline_options o = imgclass_pipeline_options_default();
    o.preprocess = &pre;
    o.on_result = record;
    o.on_result_ctx = &rec;
    o.ordered = 0;
    o.max_batch = 8;
    o.preprocess_threads = 0;
    imgclass_pipeline *p = NULL;
    assert_int_equal(imgclass_pipeline_create(m, &o, &p), IMGCLASS_OK);

    imgclass_input in = IMGCLASS_INPUT_BUFFER(gate_input, sizeof gate_input);
    assert_int_equal(imgclass_pipeline_submit(p, &in, gate_input, 0, NULL), IMGCLASS_OK);
    pthread_mutex_lock(&rec.lock);
    while (!rec.gate_entered)
        pthread_cond_wait(&rec.cond, &rec.lock);
    pthread_mutex_unlock(&rec.lock);

    /* Undecodable buffers (each fails at once), submitted smallest, largest,
     * second smallest, second largest. */
    static const size_t sizes[ROUND] = {10, 2000, 50, 500};
    static char bytes[ROUND][2000];
    for (int i = 0; i < ROUND; i++) {
        memset(bytes[i], 'x', sizes[i]);
        in = (imgclass_input)IMGCLASS_INPUT_BUFFER(bytes[i], sizes[i]);
        assert_int_equal(imgclass_pipeline_submit(p, &in, bytes[i], 0, NULL), IMGCLASS_OK);
    }
    pthread_mutex_lock(&rec.lock);
    rec.gate_open = 1;
    pthread_cond_broadcast(&rec.cond);
    pthread_mutex_unlock(&rec.lock);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);

    assert_int_equal(rec.n, 1 + ROUND);
    static const int want[ROUND] = {1, 3, 2, 0}; /* 2000, 500, 50, 10 bytes */
    for (int i = 0; i < ROUND; i++) {
        assert_false(rec.status_ok[1 + i]);
        if (rec.user[1 + i] != bytes[want[i]])
            fail_msg("preparation %d of the round: the %zu-byte input, not the %zu-byte one",
                     i + 1, sizes[(char(*)[2000])rec.user[1 + i] - bytes], sizes[want[i]]);
    }
    imgclass_pipeline_free(p);
    imgclass_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_largest_first_ties_in_order),
        cmocka_unit_test(test_cost_of_each_input_kind),
        cmocka_unit_test(test_team_takes_largest_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
