/* The forward pass's allocation cache (lib/engine_torch.cpp): a second
 * forward pass takes its blocks from the cache and makes none; no block is
 * left in use after a pass (the scores included); the cache empties when
 * the last model that uses it is freed, not before; its cap holds and
 * IMGCLASS_ALLOC_CACHE=0 turns it off for a model; scores are bit-identical
 * with it on and off, in float32 and in bf16; a bad IMGCLASS_ALLOC_CACHE
 * is refused naming the model and the variable. Read through the engine's
 * internal figures (ic_engine_alloc_cache_stats, lib/engine.h). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu_features.h"
#include "engine.h"
#include "imgclass.h"
#include "model_fixtures.h"
#include "skip_note.h"

#define ENV "IMGCLASS_ALLOC_CACHE"
#define N 4
#define K 5
/* 128 x 128: tiny.pt's convolution output is then 1.5 MiB a batch, over
 * the 1 MiB cap of test_cap (its adaptive pooling takes any size). */
#define SIDE 128
#define PIXELS (3 * SIDE * SIDE)

static ic_engine_alloc_stats stats(void)
{
    ic_engine_alloc_stats s;
    ic_engine_alloc_cache_stats(&s);
    return s;
}

static imgclass_model *load(const char *env, imgclass_precision precision)
{
    if (env)
        setenv(ENV, env, 1);
    else
        unsetenv(ENV);
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = o.input_width = SIDE;
    o.precision = precision;
    imgclass_model *m = NULL;
    imgclass_status st = imgclass_model_load(fx_model_path("tiny.pt"), &o, &m);
    unsetenv(ENV);
    if (st != IMGCLASS_OK)
        fail_msg("loading tiny.pt (%s=%s): %s", ENV, env ? env : "unset", imgclass_last_error());
    return m;
}

/* A fixed input (not all zeros, so that the scores differ per image). */
static float *input(void)
{
    static float *x;
    if (!x) {
        x = malloc(sizeof(float) * N * PIXELS);
        assert_non_null(x);
        uint32_t r = 12345;
        for (size_t i = 0; i < (size_t)N * PIXELS; i++) {
            r = r * 1664525u + 1013904223u;
            x[i] = (float)(r >> 8) / (float)(1u << 24) * 4.0f - 2.0f;
        }
    }
    return x;
}

static void predict(const imgclass_model *m, float *out)
{
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_wrap(input(), N, SIDE, SIDE, &b), IMGCLASS_OK);
    if (imgclass_predict(m, b, out, N * K) != IMGCLASS_OK)
        fail_msg("predict: %s", imgclass_last_error());
    imgclass_batch_free(b);
}

static void print(const char *when, ic_engine_alloc_stats s)
{
    printf("%s: installed %d, users %d, hits %llu, misses %llu, dropped %llu, held %zu bytes "
           "in %zu blocks, %zu in use\n",
           when, s.installed, s.users, s.hits, s.misses, s.dropped, s.held_bytes, s.held_blocks,
           s.live_blocks);
}

/* Before any model: the engine has not started, nothing is counted. */
static void test_nothing_before_a_model(void **state)
{
    (void)state;
    ic_engine_alloc_stats s = stats();
    assert_int_equal(s.installed, 0);
    assert_int_equal(s.users, 0);
    assert_true(s.hits == 0 && s.misses == 0 && s.held_bytes == 0 && s.live_blocks == 0);
}

/* Pass 1 may meet new sizes; passes 2 and 3 at the same batch take every
 * block from the cache (hits grow, misses do not); after each pass no
 * block is in use; freeing the model empties the cache. */
static void test_reuse_then_empty(void **state)
{
    (void)state;
    imgclass_model *m = load(NULL, IMGCLASS_PRECISION_FLOAT32);
    ic_engine_alloc_stats s0 = stats();
    print("loaded", s0);
    assert_int_equal(s0.installed, 1);
    assert_int_equal(s0.users, 1);
    assert_true(s0.cap_bytes == (size_t)256 << 20);
    float out[N * K];
    predict(m, out);
    ic_engine_alloc_stats s1 = stats();
    predict(m, out);
    predict(m, out);
    ic_engine_alloc_stats s3 = stats();
    print("after 3 passes", s3);
    if (s3.hits < s1.hits + 2)
        fail_msg("passes 2 and 3 took %llu blocks from the cache: it keeps none",
                 s3.hits - s1.hits);
    if (s3.misses != s1.misses)
        fail_msg("passes 2 and 3 allocated %llu fresh blocks: the cache did not serve them",
                 s3.misses - s1.misses);
    assert_true(s3.held_bytes > 0 && s3.held_blocks > 0);
    assert_true(s3.held_bytes <= s3.cap_bytes);
    assert_int_equal(s3.live_blocks, 0);
    imgclass_model_free(m);
    ic_engine_alloc_stats s4 = stats();
    print("freed", s4);
    assert_int_equal(s4.users, 0);
    if (s4.held_bytes != 0 || s4.held_blocks != 0)
        fail_msg("the last model is freed and the cache still holds %zu bytes", s4.held_bytes);
    assert_int_equal(s4.live_blocks, 0);
}

/* The cache empties with the last model that uses it, not with the first. */
static void test_emptied_by_the_last_model(void **state)
{
    (void)state;
    float out[N * K];
    imgclass_model *a = load(NULL, IMGCLASS_PRECISION_FLOAT32);
    imgclass_model *b = load(NULL, IMGCLASS_PRECISION_FLOAT32);
    predict(a, out);
    predict(b, out);
    assert_int_equal(stats().users, 2);
    imgclass_model_free(a);
    ic_engine_alloc_stats s = stats();
    assert_int_equal(s.users, 1);
    assert_true(s.held_bytes > 0);
    predict(b, out);
    imgclass_model_free(b);
    s = stats();
    assert_int_equal(s.users, 0);
    assert_true(s.held_bytes == 0 && s.held_blocks == 0 && s.live_blocks == 0);
}

/* Two threads predicting on one model at once: the same scores as one
 * thread, and every block back in the cache after. The threads only call
 * the library (cmocka's checks belong to the main thread). */
typedef struct {
    const imgclass_model *model;
    imgclass_batch *batch;
    float out[4][N * K];
    imgclass_status status[4];
} thread_job;

static void *predict_thread(void *arg)
{
    thread_job *j = arg;
    for (int i = 0; i < 4; i++)
        j->status[i] = imgclass_predict(j->model, j->batch, j->out[i], N * K);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    imgclass_model *m = load(NULL, IMGCLASS_PRECISION_FLOAT32);
    float want[N * K];
    predict(m, want);
    static thread_job jobs[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        jobs[i].model = m;
        assert_int_equal(imgclass_batch_wrap(input(), N, SIDE, SIDE, &jobs[i].batch),
                         IMGCLASS_OK);
        assert_int_equal(pthread_create(&t[i], NULL, predict_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 4; j++) {
            assert_int_equal(jobs[i].status[j], IMGCLASS_OK);
            assert_memory_equal(jobs[i].out[j], want, sizeof want);
        }
        imgclass_batch_free(jobs[i].batch);
    }
    assert_int_equal(stats().live_blocks, 0);
    imgclass_model_free(m);
    assert_int_equal(stats().held_bytes, 0);
}

/* IMGCLASS_ALLOC_CACHE=0: that model's passes never touch the cache, and
 * its scores are the bits of a model that uses it. */
static void check_on_off_identical(imgclass_precision precision)
{
    imgclass_model *off = load("0", precision);
    imgclass_model *on = load(NULL, precision);
    assert_int_equal(stats().users, 1);
    float a[N * K], b[N * K];
    predict(on, b);
    predict(on, b); /* from the cache */
    ic_engine_alloc_stats before = stats();
    predict(off, a);
    ic_engine_alloc_stats after = stats();
    if (after.hits != before.hits || after.misses != before.misses)
        fail_msg("a model loaded with %s=0 used the cache (%llu hits, %llu misses)", ENV,
                 after.hits - before.hits, after.misses - before.misses);
    if (memcmp(a, b, sizeof a) != 0)
        fail_msg("scores differ with the cache on and off");
    imgclass_model_free(on);
    assert_int_equal(stats().held_bytes, 0);
    imgclass_model_free(off);
}

static void test_off_is_bit_identical(void **state)
{
    (void)state;
    check_on_off_identical(IMGCLASS_PRECISION_FLOAT32);
}

static void test_off_is_bit_identical_bf16(void **state)
{
    (void)state;
    const char *missing = ic_cpu_bf16_missing();
    if (missing) {
        char why[256];
        snprintf(why, sizeof why, "no native bf16 on this CPU (it has %s)", missing);
        fx_skip(why);
    }
    check_on_off_identical(IMGCLASS_PRECISION_BF16);
}

/* A 1 MiB cap: a block that would pass it is freed at once (dropped), and
 * the cache never holds more. */
static void test_cap(void **state)
{
    (void)state;
    imgclass_model *m = load("1", IMGCLASS_PRECISION_FLOAT32);
    float out[N * K];
    for (int i = 0; i < 3; i++)
        predict(m, out);
    ic_engine_alloc_stats s = stats();
    print("cap 1 MiB", s);
    assert_true(s.cap_bytes == (size_t)1 << 20);
    if (s.held_bytes > s.cap_bytes)
        fail_msg("the cache holds %zu bytes, over its cap of %zu", s.held_bytes, s.cap_bytes);
    assert_true(s.dropped > 0);
    imgclass_model_free(m);
}

static void test_bad_values(void **state)
{
    (void)state;
    const char *bad[] = {"abc", "-1", "12x", " 5", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(ENV, bad[i], 1);
        imgclass_model_options o = imgclass_model_options_default();
        imgclass_model *m = NULL;
        imgclass_status st = imgclass_model_load(fx_model_path("tiny.pt"), &o, &m);
        unsetenv(ENV);
        assert_int_equal(st, IMGCLASS_ERR_INVALID_ARGUMENT);
        assert_null(m);
        const char *msg = imgclass_last_error();
        if (!strstr(msg, fx_model_path("tiny.pt")) || !strstr(msg, ENV "=\"") ||
            !strstr(msg, bad[i]))
            fail_msg("%s=\"%s\": message \"%s\"", ENV, bad[i], msg);
    }
    assert_int_equal(stats().users, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_before_a_model),
        cmocka_unit_test(test_reuse_then_empty),
        cmocka_unit_test(test_emptied_by_the_last_model),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_off_is_bit_identical),
        cmocka_unit_test(test_off_is_bit_identical_bf16),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
