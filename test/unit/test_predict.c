/* imgclass_predict against outputs PyTorch computed for the same model and
 * inputs; every optimisation flag; argument checks; 4 threads on one model. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imgclass.h"
#include "model_fixtures.h"

#define TINY_N 4
#define TINY_K 5
#define TINY_PIXELS (3 * 8 * 8)

static imgclass_model *load_tiny(unsigned optimize, int softmax)
{
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = o.input_width = 8;
    o.optimize = optimize;
    o.softmax = softmax;
    imgclass_model *m = NULL;
    if (imgclass_model_load(fx_model_path("tiny.pt"), &o, &m) != IMGCLASS_OK)
        fail_msg("%s", imgclass_last_error());
    return m;
}

static void predict_tiny(const imgclass_model *m, const float *input, float *out)
{
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_wrap((float *)input, TINY_N, 8, 8, &b), IMGCLASS_OK);
    assert_int_equal(imgclass_predict(m, b, out, TINY_N * TINY_K), IMGCLASS_OK);
    imgclass_batch_free(b);
}

static void test_matches_pytorch(void **state)
{
    (void)state;
    float *input = fx_model_floats("tiny_input.f32", TINY_N * TINY_PIXELS);
    float *logits = fx_model_floats("tiny_logits.f32", TINY_N * TINY_K);
    float *probs = fx_model_floats("tiny_probs.f32", TINY_N * TINY_K);
    float *copy = malloc(sizeof(float) * TINY_N * TINY_PIXELS);
    assert_non_null(copy);
    memcpy(copy, input, sizeof(float) * TINY_N * TINY_PIXELS);
    float out[TINY_N * TINY_K];

    imgclass_model *m = load_tiny(0, 0);
    predict_tiny(m, input, out);
    fx_model_assert_close(out, logits, TINY_N * TINY_K, 1e-5f);
    imgclass_model_free(m);

    /* Every flag combination, each applied as asked (a flag the library
     * dropped would make the comparisons below prove nothing). bfloat16 is
     * inexact by design: it must stay close to PyTorch's float32 output
     * and also really differ from it (here by 3e-4 to 6e-4), or the flag
     * silently did nothing. */
    for (unsigned flags = 0; flags < 16; flags++) {
        m = load_tiny(flags, 1);
        assert_int_equal(imgclass_model_optimize(m), flags);
        predict_tiny(m, input, out);
        int bf16 = (flags & IMGCLASS_OPTIMIZE_BFLOAT16) != 0;
        fx_model_assert_close(out, probs, TINY_N * TINY_K, bf16 ? 3e-2f : 1e-5f);
        float max_diff = 0;
        for (int i = 0; i < TINY_N * TINY_K; i++)
            max_diff = fmaxf(max_diff, fabsf(out[i] - probs[i]));
        if (bf16 && max_diff < 1e-4f)
            fail_msg("flags 0x%x: bfloat16 output within %g of float32: not applied", flags,
                     (double)max_diff);
        /* softmax: every image's probabilities sum to 1 */
        for (int n = 0; n < TINY_N; n++) {
            float sum = 0;
            for (int k = 0; k < TINY_K; k++)
                sum += out[n * TINY_K + k];
            assert_float_equal(sum, 1.0f, 1e-3f);
        }
        imgclass_model_free(m);
    }
    /* The engine wraps the batch memory and must never write to it. */
    assert_memory_equal(copy, input, sizeof(float) * TINY_N * TINY_PIXELS);
    free(copy);
    free(input);
    free(logits);
    free(probs);
}

static void test_other_size_and_batch_of_one(void **state)
{
    (void)state;
    float *input = fx_model_floats("tiny16_input.f32", 3 * 3 * 16 * 16);
    float *probs = fx_model_floats("tiny16_probs.f32", 3 * 10);
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = o.input_width = 16;
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny16.pt"), &o, &m), IMGCLASS_OK);
    float out[30];
    for (int i = 0; i < 3; i++) { /* one image at a time */
        imgclass_batch *b = NULL;
        assert_int_equal(imgclass_batch_wrap(input + i * 3 * 16 * 16, 1, 16, 16, &b),
                         IMGCLASS_OK);
        assert_int_equal(imgclass_predict(m, b, out + i * 10, 10), IMGCLASS_OK);
        imgclass_batch_free(b);
    }
    fx_model_assert_close(out, probs, 30, 1e-5f);
    imgclass_model_free(m);
    free(input);
    free(probs);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    imgclass_model *m = load_tiny(IMGCLASS_OPTIMIZE_DEFAULT, 1);
    imgclass_batch *b = NULL, *wrong = NULL;
    float out[2 * TINY_K];
    assert_int_equal(imgclass_batch_create(2, 8, 8, &b), IMGCLASS_OK);
    assert_int_equal(imgclass_batch_create(2, 8, 9, &wrong), IMGCLASS_OK);
    assert_int_equal(imgclass_predict(m, b, out, 2 * TINY_K), IMGCLASS_OK);
    assert_int_equal(imgclass_predict(m, b, out, 2 * TINY_K - 1), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "output holds 9 floats"));
    assert_int_equal(imgclass_predict(m, wrong, out, 2 * TINY_K), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "3 x 8 x 9"));
    assert_int_equal(imgclass_predict(NULL, b, out, 10), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_predict(m, NULL, out, 10), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_predict(m, b, NULL, 10), IMGCLASS_ERR_INVALID_ARGUMENT);
    imgclass_batch_free(b);
    imgclass_batch_free(wrong);
    imgclass_model_free(m);
}

/* Each thread runs the same batches many times and compares with the serial
 * result. */
typedef struct thread_job {
    const imgclass_model *model;
    const float *input;
    const float (*expected)[TINY_N * TINY_K]; /* serial result per batch size */
    int mismatches;
    int failures;
} thread_job;

static void *run_thread(void *arg)
{
    thread_job *j = arg;
    float out[TINY_N * TINY_K];
    for (int it = 0; it < 40; it++) {
        size_t n = 1 + (size_t)(it % TINY_N); /* batch sizes 1..4 */
        imgclass_batch *b = NULL;
        if (imgclass_batch_wrap((float *)j->input, n, 8, 8, &b) != IMGCLASS_OK ||
            imgclass_predict(j->model, b, out, n * TINY_K) != IMGCLASS_OK) {
            j->failures++;
        } else if (memcmp(out, j->expected[n], n * TINY_K * sizeof(float)) != 0) {
            j->mismatches++;
        }
        imgclass_batch_free(b);
    }
    return NULL;
}

static void test_four_threads_one_model(void **state)
{
    (void)state;
    float *input = fx_model_floats("tiny_input.f32", TINY_N * TINY_PIXELS);
    imgclass_model *m = load_tiny(IMGCLASS_OPTIMIZE_DEFAULT, 1);
    /* Serial reference per batch size: results may differ in the last bit
     * between batch sizes, so each threaded run is compared, bit for bit,
     * with the serial run of the same batch size. */
    float serial[TINY_N + 1][TINY_N * TINY_K];
    for (size_t n = 1; n <= TINY_N; n++) {
        imgclass_batch *b = NULL;
        assert_int_equal(imgclass_batch_wrap(input, n, 8, 8, &b), IMGCLASS_OK);
        assert_int_equal(imgclass_predict(m, b, serial[n], n * TINY_K), IMGCLASS_OK);
        imgclass_batch_free(b);
    }
    pthread_t t[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){m, input, (const float(*)[TINY_N * TINY_K])serial, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, run_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
        assert_int_equal(jobs[i].mismatches, 0);
    }
    /* Whatever the batch size does to the last bit, values stay close. */
    for (size_t n = 1; n <= TINY_N; n++)
        fx_model_assert_close(serial[n], serial[TINY_N], n * TINY_K, 1e-5f);
    imgclass_model_free(m);
    free(input);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_pytorch),
        cmocka_unit_test(test_other_size_and_batch_of_one),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_four_threads_one_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
