/* imgclass_classify: mixed inputs (paths, memory, images), one batch of the
 * successful ones, per-input errors, top-k with labels, thread counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>


#include "file_io.h"
#include "imgclass.h"
#include "model_fixtures.h"
#include "test_env.h"

#define K 5

static imgclass_image *make_image(int w, int h, int seed)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    assert_non_null(px);
    for (int i = 0; i < w * h * 3; i++)
        px[i] = (unsigned char)((i * 31 + seed * 101) ^ (i >> 3));
    imgclass_image *img = NULL;
    assert_int_equal(imgclass_image_wrap(px, w, h, 0, IMGCLASS_PIXEL_RGB, 1, &img), IMGCLASS_OK);
    free(px);
    return img;
}

static imgclass_classify_options tiny_classify_options(void)
{
    /* o.preprocess points here (options hold it by pointer). */
    static imgclass_preprocess_options pre;
    pre = fx_preprocess_exact(8);
    imgclass_classify_options o = imgclass_classify_options_default();
    o.preprocess = &pre;
    return o;
}

static void test_defaults(void **state)
{
    (void)state;
    imgclass_classify_options o = imgclass_classify_options_default();
    assert_int_equal(o.topk, 5);
    assert_int_equal(o.preprocess_threads, 0);
    assert_null(o.preprocess); /* the model's recipe, else the defaults */
    assert_null(o.decode);     /* the defaults */
    assert_null(o.filter);
}

static void test_mixed_inputs_and_failures(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    assert_int_equal(imgclass_model_load_labels(m, fx_model_path("labels_synset.txt")),
                     IMGCLASS_OK);
    imgclass_classify_options o = tiny_classify_options();

    /* The images and their expected scores come from PyTorch
     * (test/models/make_test_models.py), never from this library. */
    size_t bmp_size, rgb_size;
    unsigned char *bmp = fx_model_read("classify_a.bmp", &bmp_size);
    unsigned char *rgb = fx_model_read("classify_c.rgb", &rgb_size);
    assert_int_equal(rgb_size, 11 * 7 * 3);
    char path[4096];
    snprintf(path, sizeof path, "%s", fx_model_path("classify_b.png"));
    imgclass_image *img = NULL;
    assert_int_equal(imgclass_image_wrap(rgb, 11, 7, 0, IMGCLASS_PIXEL_RGB, 1, &img),
                     IMGCLASS_OK);
    float *expect = fx_model_floats("classify_probs.f32", 3 * K);
    const char junk[] = "this is not an image at all";

    imgclass_input in[6] = {
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = bmp, .size = bmp_size},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = junk, .size = sizeof junk},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = path},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = "/nonexistent/photo.jpg"},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = img},
        {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = NULL},
    };
    const int ok[6] = {1, 0, 1, 0, 1, 0};
    for (int threads = 0; threads <= 3; threads++) {
        o.preprocess_threads = threads;
        imgclass_results *r = NULL;
        assert_int_equal(imgclass_classify(m, in, 6, &o, &r), IMGCLASS_OK);
        assert_int_equal(imgclass_results_count(r), 6);

        for (size_t i = 0, j = 0; i < 6; i++) {
            int k = -1;
            const imgclass_class *top = imgclass_results_top(r, i, &k);
            if (!ok[i]) {
                assert_int_not_equal(imgclass_results_status(r, i), IMGCLASS_OK);
                assert_true(strlen(imgclass_results_error(r, i)) > 0);
                assert_null(imgclass_results_scores(r, i));
                assert_int_equal(k, 0);
                continue;
            }
            assert_int_equal(imgclass_results_status(r, i), IMGCLASS_OK);
            assert_string_equal(imgclass_results_error(r, i), "");
            const float *scores = imgclass_results_scores(r, i);
            assert_non_null(scores);
            fx_model_assert_close(scores, expect + j * K, K, 1e-5f);
            j++;
            assert_int_equal(k, 5);
            imgclass_class ref[K];
            int ref_k;
            assert_int_equal(imgclass_topk(m, scores, K, 5, ref, &ref_k), IMGCLASS_OK);
            for (int c = 0; c < k; c++) {
                assert_int_equal(top[c].index, ref[c].index);
                assert_true(top[c].score == scores[top[c].index]);
                assert_string_equal(top[c].label, imgclass_model_label(m, top[c].index));
                assert_string_equal(top[c].id, imgclass_model_label_id(m, top[c].index));
            }
        }
        assert_non_null(strstr(imgclass_results_error(r, 3), "/nonexistent/photo.jpg"));
        assert_int_equal(imgclass_results_status(r, 3), IMGCLASS_ERR_IO);
        assert_non_null(strstr(imgclass_results_error(r, 1), "memory buffer"));
        imgclass_results_free(r);
    }
    free(bmp);
    free(rgb);
    free(expect);
    imgclass_image_free(img);
    imgclass_model_free(m);
}

static void test_all_fail_and_topk_clamp(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("two_class.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    imgclass_classify_options o = tiny_classify_options();
    imgclass_input bad[2] = {{.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = "/nonexistent/a.png"},
                             {.struct_size = sizeof(imgclass_input), .kind = (imgclass_input_kind)42}};
    imgclass_results *r = NULL;
    assert_int_equal(imgclass_classify(m, bad, 2, &o, &r), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_ERR_IO);
    assert_int_equal(imgclass_results_status(r, 1), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_results_error(r, 1), "unknown kind"));
    imgclass_results_free(r);

    /* k = 5 on a 2-class model gives 2; without labels, label/id NULL. */
    imgclass_image *img = make_image(8, 8, 9);
    imgclass_input one = {.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = img};
    assert_int_equal(imgclass_classify(m, &one, 1, &o, &r), IMGCLASS_OK);
    int k;
    const imgclass_class *top = imgclass_results_top(r, 0, &k);
    assert_int_equal(k, 2);
    assert_true(top[0].score >= top[1].score);
    assert_float_equal(top[0].score + top[1].score, 1.0f, 1e-5f);
    assert_null(top[0].label);
    assert_null(top[0].id);
    /* Out-of-range queries. */
    assert_null(imgclass_results_top(r, 1, &k));
    assert_int_equal(k, 0);
    assert_null(imgclass_results_scores(r, 7));
    assert_null(imgclass_results_error(r, 7)); /* as its siblings: NULL */
    assert_null(imgclass_results_error(NULL, 0));
    assert_int_equal(imgclass_results_status(r, 1), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_results_count(NULL), 0);
    imgclass_results_free(r);
    imgclass_results_free(NULL);

    o.topk = 0;
    r = (imgclass_results *)0x1;
    assert_int_equal(imgclass_classify(m, &one, 1, &o, &r), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_null(r);
    o.topk = 1;
    assert_int_equal(imgclass_classify(m, &one, 0, &o, &r), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_classify(NULL, &one, 1, &o, &r), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_classify(m, NULL, 1, &o, &r), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_classify(m, &one, 1, &o, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    /* Default options preprocess to 224 x 224: the input size mismatch is the
     * image's own failure, not the call's. */
    assert_int_equal(imgclass_classify(m, &one, 1, NULL, &r), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_ERR_INVALID_ARGUMENT);
    imgclass_results_free(r);
    imgclass_image_free(img);
    imgclass_model_free(m);
}

static void test_many_inputs_many_threads(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    imgclass_classify_options o = tiny_classify_options();
    enum { N = 24 };
    imgclass_image *imgs[N];
    imgclass_input in[N];
    for (int i = 0; i < N; i++) {
        imgs[i] = make_image(8 + i, 6 + 2 * i, i);
        in[i] = (imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = imgs[i]};
    }
    imgclass_results *serial = NULL, *parallel = NULL;
    o.preprocess_threads = 1;
    assert_int_equal(imgclass_classify(m, in, N, &o, &serial), IMGCLASS_OK);
    o.preprocess_threads = 8;
    assert_int_equal(imgclass_classify(m, in, N, &o, &parallel), IMGCLASS_OK);
    /* Any count is taken: <= 0 is the library's choice, a count over the
     * pipeline's limit is capped, as before classify ran on it. */
    for (int t = 0; t < 2; t++) {
        imgclass_results *r = NULL;
        o.preprocess_threads = t ? 5000 : -3;
        assert_int_equal(imgclass_classify(m, in, 2, &o, &r), IMGCLASS_OK);
        assert_int_equal(imgclass_results_status(r, 1), IMGCLASS_OK);
        imgclass_results_free(r);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(imgclass_results_status(parallel, i), IMGCLASS_OK);
        assert_memory_equal(imgclass_results_scores(serial, i),
                            imgclass_results_scores(parallel, i), K * sizeof(float));
        imgclass_image_free(imgs[i]);
    }
    imgclass_results_free(serial);
    imgclass_results_free(parallel);
    imgclass_model_free(m);
}

enum { SIDE = 64 }; /* input size of the counts test: 49 KiB of tensor an image */

static imgclass_classify_options side_options(void)
{
    /* o.preprocess points here (options hold it by pointer). */
    static imgclass_preprocess_options pre;
    pre = fx_preprocess_exact(SIDE);
    imgclass_classify_options o = imgclass_classify_options_default();
    o.preprocess = &pre;
    return o;
}

/* Inputs 0..n-1 of the counts test: every 5th a file that does not exist,
 * every 7th junk bytes, the others one of `nimg` distinct images. */
static imgclass_input counts_input(size_t i, imgclass_image **imgs, size_t nimg)
{
    static const char junk[] = "not an image";
    if (i % 5 == 4)
        return (imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = "/nonexistent/x.jpg"};
    if (i % 7 == 6)
        return (imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_MEMORY, .data = junk, .size = sizeof junk};
    return (imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = imgs[i % nimg]};
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* imgclass_classify() of 1, 7, 8, 9 (around the pipeline's batch of 8) and
 * 1,000 mixed inputs: every good one gets the scores of a forward pass of
 * that image alone, every bad one its own error in its own slot; and the
 * call's memory does not grow with the number of inputs (a single forward
 * pass of 1,000 images of 64 x 64 would hold more than 200 MB). */
static void test_counts_and_bounded_memory(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, SIDE, SIDE);
    imgclass_classify_options o = side_options();
    enum { NIMG = 11 };
    imgclass_image *imgs[NIMG];
    float ref[NIMG][K];
    imgclass_batch *one = NULL;
    assert_int_equal(imgclass_batch_create(1, SIDE, SIDE, &one), IMGCLASS_OK);
    for (int i = 0; i < NIMG; i++) {
        imgs[i] = make_image(SIDE, SIDE, i);
        assert_int_equal(imgclass_preprocess(imgs[i], o.preprocess, one, 0), IMGCLASS_OK);
        assert_int_equal(imgclass_predict(m, one, ref[i], K), IMGCLASS_OK);
    }
    imgclass_batch_free(one);

    static const size_t counts[] = {1, 7, 8, 9, 10, 1000};
    long rss_after_10 = 0;
    imgclass_input *in = calloc(1000, sizeof *in);
    assert_non_null(in);
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        size_t n = counts[c];
        for (size_t i = 0; i < n; i++)
            in[i] = counts_input(i, imgs, NIMG);
        imgclass_results *r = NULL;
        assert_int_equal(imgclass_classify(m, in, n, &o, &r), IMGCLASS_OK);
        assert_int_equal(imgclass_results_count(r), n);
        for (size_t i = 0; i < n; i++) {
            int k = -1;
            const imgclass_class *top = imgclass_results_top(r, i, &k);
            if (in[i].kind == IMGCLASS_INPUT_PATH) {
                assert_int_equal(imgclass_results_status(r, i), IMGCLASS_ERR_IO);
                assert_non_null(strstr(imgclass_results_error(r, i), "/nonexistent/x.jpg"));
                assert_int_equal(k, 0);
            } else if (in[i].kind == IMGCLASS_INPUT_MEMORY) {
                char want[48];
                snprintf(want, sizeof want, "input %zu: memory buffer", i);
                assert_int_not_equal(imgclass_results_status(r, i), IMGCLASS_OK);
                if (strncmp(imgclass_results_error(r, i), want, strlen(want)))
                    fail_msg("input %zu: \"%s\" does not start with \"%s\"", i,
                             imgclass_results_error(r, i), want);
                assert_null(imgclass_results_scores(r, i));
            } else {
                assert_int_equal(imgclass_results_status(r, i), IMGCLASS_OK);
                fx_model_assert_close(imgclass_results_scores(r, i), ref[i % NIMG], K, 1e-5f);
                assert_int_equal(k, K);
                assert_true(top[0].score == imgclass_results_scores(r, i)[top[0].index]);
            }
        }
        imgclass_results_free(r);
        if (n == 10)
            rss_after_10 = peak_rss_kib();
    }
    long growth_kib = peak_rss_kib() - rss_after_10;
    if (RUNNING_ON_VALGRIND || UNDER_ASAN) {
        /* Their allocators keep freed memory (ASan's quarantine), and
         * valgrind's peak is its own: the bound is checked natively. */
        printf("peak memory bound not checked under %s\n", UNDER_ASAN ? "ASan" : "valgrind");
    } else {
        printf("peak memory: 1000 inputs grew it by %ld KiB over 10 inputs\n", growth_kib);
        assert_true(growth_kib < 64 * 1024);
    }
    free(in);
    for (int i = 0; i < NIMG; i++)
        imgclass_image_free(imgs[i]);
    imgclass_model_free(m);
}

/* Every message has the form "<source>: <status text>: <detail>", and a
 * NULL argument is named. */
static void test_error_messages(void **state)
{
    (void)state;
    unsigned char *data = NULL;
    size_t size = 0;
    assert_int_equal(ic_read_file("/some/file", 0, NULL, &size), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_string_equal(imgclass_last_error(), "/some/file: invalid argument: NULL data");
    assert_int_equal(ic_read_file("/some/file", 0, &data, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_string_equal(imgclass_last_error(), "/some/file: invalid argument: NULL size");
    assert_int_equal(ic_read_file(NULL, 0, &data, &size), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_string_equal(imgclass_last_error(), "imgclass: invalid argument: NULL path");
    assert_int_equal(ic_read_file("/nonexistent/x.png", 0, &data, &size), IMGCLASS_ERR_IO);
    assert_string_equal(imgclass_last_error(),
                        "/nonexistent/x.png: i/o error: cannot open: No such file or directory");
    assert_null(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_mixed_inputs_and_failures),
        cmocka_unit_test(test_all_fail_and_topk_clamp),
        cmocka_unit_test(test_many_inputs_many_threads),
        cmocka_unit_test(test_counts_and_bounded_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
