/* Result filtering (imgclass_filter): the score threshold at, just above
 * and just below a score; allow and deny lists by index and by label (text
 * and id); results emptied by the filter; topk = -1; conflicting and bad
 * options; the same filter in the pipeline. Scores come from the 5-class
 * test model, so every expectation is derived from its real output. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "imgclass.h"
#include "model_fixtures.h"

#define K 5

static const char labels_txt[] = "n00000000 zero\n"
                                 "n00000001 one\n"
                                 "n00000002 two\n"
                                 "n00000003 twin\n"
                                 "n00000004 twin\n";

typedef struct fixture {
    imgclass_model *model;
    imgclass_image *image;
    imgclass_input input;
    float scores[K]; /* the unfiltered scores of `image` */
    int order[K];    /* class indices, best first */
} fixture;

/* What the options below point at (options hold them by pointer). */
static imgclass_preprocess_options tiny_pre;
static imgclass_filter flt;

/* Classify options on the tiny model, with `flt` reset to no filter. */
static imgclass_classify_options tiny_options(void)
{
    imgclass_classify_options o = imgclass_classify_options_default();
    tiny_pre = fx_preprocess_exact(8);
    o.preprocess = &tiny_pre;
    flt = imgclass_filter_default();
    o.filter = &flt;
    return o;
}

/* The pipeline's defaults with `flt` reset to no filter. */
static imgclass_pipeline_options pipeline_defaults(void)
{
    imgclass_pipeline_options o = imgclass_pipeline_options_default();
    flt = imgclass_filter_default();
    o.filter = &flt;
    return o;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->model = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    assert_int_equal(imgclass_model_num_classes(f->model), K);
    assert_int_equal(imgclass_model_load_labels_memory(f->model, labels_txt, sizeof labels_txt - 1),
                     IMGCLASS_OK);
    unsigned char px[8 * 8 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (unsigned char)(i * 37 + (i >> 2));
    assert_int_equal(imgclass_image_wrap(px, 8, 8, 0, IMGCLASS_PIXEL_RGB, 1, &f->image),
                     IMGCLASS_OK);
    f->input = (imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_IMAGE, .image = f->image};
    imgclass_classify_options o = tiny_options();
    o.topk = IMGCLASS_TOPK_ALL;
    imgclass_results *r = NULL;
    assert_int_equal(imgclass_classify(f->model, &f->input, 1, &o, &r), IMGCLASS_OK);
    int k = 0;
    const imgclass_class *top = imgclass_results_top(r, 0, &k);
    assert_int_equal(k, K); /* topk = -1: every class */
    memcpy(f->scores, imgclass_results_scores(r, 0), sizeof f->scores);
    for (int i = 0; i < K; i++) {
        f->order[i] = top[i].index;
        assert_true(f->scores[top[i].index] == top[i].score);
    }
    /* The threshold tests need distinct scores. */
    for (int i = 1; i < K; i++)
        assert_true(top[i - 1].score > top[i].score);
    imgclass_results_free(r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    imgclass_image_free(f->image);
    imgclass_model_free(f->model);
    free(f);
    return 0;
}

/* Classifies the fixture image with `o`; returns k and copies the indices
 * into idx (K entries). */
static int run(fixture *f, const imgclass_classify_options *o, int idx[K])
{
    imgclass_results *r = NULL;
    assert_int_equal(imgclass_classify(f->model, &f->input, 1, o, &r), IMGCLASS_OK);
    assert_int_equal(imgclass_results_status(r, 0), IMGCLASS_OK);
    int k = -1;
    const imgclass_class *top = imgclass_results_top(r, 0, &k);
    for (int i = 0; i < k; i++) {
        idx[i] = top[i].index;
        assert_non_null(top[i].label);
    }
    /* The scores are the model's, whatever the filter. */
    assert_memory_equal(imgclass_results_scores(r, 0), f->scores, sizeof f->scores);
    imgclass_results_free(r);
    return k;
}

static void test_defaults(void **state)
{
    (void)state;
    imgclass_filter d = imgclass_filter_default();
    assert_true(isinf(d.score_threshold) && d.score_threshold < 0);
    assert_null(d.allow_indices);
    assert_int_equal(d.allow_index_count + d.allow_label_count + d.deny_index_count +
                         d.deny_label_count,
                     0);
    assert_null(imgclass_classify_options_default().filter); /* NULL: no filter */
    assert_null(imgclass_pipeline_options_default().filter);
}

static void test_threshold_at_above_below(void **state)
{
    fixture *f = *state;
    int idx[K];
    for (int rank = 0; rank < K; rank++) {
        float s = f->scores[f->order[rank]];
        imgclass_classify_options o = tiny_options();
        o.topk = IMGCLASS_TOPK_ALL;
        flt.score_threshold = s; /* at: kept */
        assert_int_equal(run(f, &o, idx), rank + 1);
        assert_int_equal(idx[rank], f->order[rank]);
        flt.score_threshold = nextafterf(s, INFINITY); /* just above: dropped */
        assert_int_equal(run(f, &o, idx), rank);
        flt.score_threshold = nextafterf(s, -INFINITY); /* just below: kept */
        assert_int_equal(run(f, &o, idx), rank + 1);
        /* topk still caps what the threshold lets through. */
        o.topk = 1;
        assert_int_equal(run(f, &o, idx), 1);
        assert_int_equal(idx[0], f->order[0]);
    }
}

static void test_empty_result_is_success(void **state)
{
    fixture *f = *state;
    imgclass_classify_options o = tiny_options();
    flt.score_threshold = 1.5f; /* above every probability */
    int idx[K];
    assert_int_equal(run(f, &o, idx), 0);
    /* Deny every class: also empty, also a success. */
    int all[K] = {0, 1, 2, 3, 4};
    o = tiny_options();
    flt.deny_indices = all;
    flt.deny_index_count = K;
    assert_int_equal(run(f, &o, idx), 0);
}

static void test_allow_and_deny_by_index(void **state)
{
    fixture *f = *state;
    int idx[K];
    int allow[2] = {f->order[4], f->order[2]}; /* the worst and the middle */
    imgclass_classify_options o = tiny_options();
    flt.allow_indices = allow;
    flt.allow_index_count = 2;
    assert_int_equal(run(f, &o, idx), 2);
    assert_int_equal(idx[0], f->order[2]);
    assert_int_equal(idx[1], f->order[4]);

    int deny[1] = {f->order[0]};
    o = tiny_options();
    o.topk = 2;
    flt.deny_indices = deny;
    flt.deny_index_count = 1;
    assert_int_equal(run(f, &o, idx), 2);
    assert_int_equal(idx[0], f->order[1]);
    assert_int_equal(idx[1], f->order[2]);
}

static void test_allow_and_deny_by_label(void **state)
{
    fixture *f = *state;
    int idx[K];
    /* "twin" names classes 3 and 4; "n00000001" is class 1's id. */
    const char *allow[2] = {"twin", "n00000001"};
    imgclass_classify_options o = tiny_options();
    o.topk = IMGCLASS_TOPK_ALL;
    flt.allow_labels = allow;
    flt.allow_label_count = 2;
    int k = run(f, &o, idx);
    assert_int_equal(k, 3);
    int seen[K] = {0};
    for (int i = 0; i < k; i++)
        seen[idx[i]] = 1;
    assert_true(seen[1] && seen[3] && seen[4]);

    const char *deny[1] = {"zero"};
    o = tiny_options();
    o.topk = IMGCLASS_TOPK_ALL;
    flt.deny_labels = deny;
    flt.deny_label_count = 1;
    k = run(f, &o, idx);
    assert_int_equal(k, K - 1);
    for (int i = 0; i < k; i++)
        assert_int_not_equal(idx[i], 0);

    /* Indices and labels together in one allow list, with a threshold. */
    int allow_index[1] = {0};
    o = tiny_options();
    o.topk = IMGCLASS_TOPK_ALL;
    flt.allow_labels = allow;
    flt.allow_label_count = 2;
    flt.allow_indices = allow_index;
    flt.allow_index_count = 1;
    assert_int_equal(run(f, &o, idx), 4);
    flt.score_threshold = f->scores[f->order[0]];
    k = run(f, &o, idx);
    assert_int_equal(k, f->order[0] == 2 ? 0 : 1); /* class 2 is not allowed */
}

static void expect_refused(fixture *f, const imgclass_classify_options *o, const char *words)
{
    imgclass_results *r = (imgclass_results *)0x1;
    assert_int_equal(imgclass_classify(f->model, &f->input, 1, o, &r),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_null(r);
    if (!strstr(imgclass_last_error(), words))
        fail_msg("message \"%s\" lacks \"%s\"", imgclass_last_error(), words);
}

static void test_conflicts_and_bad_options(void **state)
{
    fixture *f = *state;
    int one[1] = {1}, bad_index[1] = {K};
    const char *two[1] = {"two"}, *unknown[1] = {"platypus"}, *null_label[1] = {NULL};
    imgclass_classify_options o = tiny_options();
    flt.allow_indices = one;
    flt.allow_index_count = 1;
    flt.deny_labels = two;
    flt.deny_label_count = 1;
    expect_refused(f, &o, "both given");

    o = tiny_options();
    flt.deny_indices = bad_index;
    flt.deny_index_count = 1;
    expect_refused(f, &o, "class 5");

    o = tiny_options();
    flt.allow_labels = unknown;
    flt.allow_label_count = 1;
    expect_refused(f, &o, "\"platypus\"");

    flt.allow_labels = null_label;
    expect_refused(f, &o, "NULL label");

    o = tiny_options();
    flt.allow_labels = NULL;
    flt.allow_label_count = 3;
    expect_refused(f, &o, "NULL array");

    o = tiny_options();
    flt.score_threshold = NAN;
    expect_refused(f, &o, "NaN");

    o = tiny_options();
    o.topk = -2;
    expect_refused(f, &o, "topk = -2");
    o.topk = 0;
    expect_refused(f, &o, "topk = 0");

    /* Labels on a model without labels. */
    imgclass_model *bare = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_DEFAULT, 8, 8);
    imgclass_results *r = NULL;
    o = tiny_options();
    flt.deny_labels = two;
    flt.deny_label_count = 1;
    assert_int_equal(imgclass_classify(bare, &f->input, 1, &o, &r), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "has none"));
    /* ... while indices work there. */
    flt.deny_labels = NULL;
    flt.deny_label_count = 0;
    flt.deny_indices = one;
    flt.deny_index_count = 1;
    assert_int_equal(imgclass_classify(bare, &f->input, 1, &o, &r), IMGCLASS_OK);
    int k;
    const imgclass_class *top = imgclass_results_top(r, 0, &k);
    assert_int_equal(k, K - 1);
    for (int i = 0; i < k; i++)
        assert_int_not_equal(top[i].index, 1);
    imgclass_results_free(r);
    imgclass_model_free(bare);
}

/* ---- the pipeline applies the same filter ---------------------------- */

typedef struct seen {
    pthread_mutex_t lock;
    int calls, k, idx[K];
    imgclass_status status;
} seen;

static void on_result(void *ctx, const imgclass_pipeline_result *r)
{
    seen *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    s->status = r->status;
    s->k = r->k;
    for (int i = 0; i < r->k && i < K; i++)
        s->idx[i] = r->top[i].index;
    pthread_mutex_unlock(&s->lock);
}

static int pipeline_run(fixture *f, imgclass_pipeline_options o, seen *s)
{
    tiny_pre = fx_preprocess_exact(8);
    o.preprocess = &tiny_pre;
    o.on_result = on_result;
    o.on_result_ctx = s;
    o.max_batch = 1;
    imgclass_pipeline *p = NULL;
    imgclass_status st = imgclass_pipeline_create(f->model, &o, &p);
    if (st != IMGCLASS_OK)
        return st;
    assert_int_equal(imgclass_pipeline_submit(p, &f->input, NULL, 0, NULL), IMGCLASS_OK);
    assert_int_equal(imgclass_pipeline_flush(p), IMGCLASS_OK);
    imgclass_pipeline_free(p);
    return IMGCLASS_OK;
}

static void test_pipeline(void **state)
{
    fixture *f = *state;
    seen s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    imgclass_pipeline_options o = pipeline_defaults();
    o.topk = IMGCLASS_TOPK_ALL;
    {
        /* The list lives only until create returns. */
        char label[8];
        snprintf(label, sizeof label, "%s", "twin");
        const char *deny[1] = {label};
        flt.deny_labels = deny;
        flt.deny_label_count = 1;
        flt.score_threshold = f->scores[f->order[3]];
        assert_int_equal(pipeline_run(f, o, &s), IMGCLASS_OK);
        memset(label, 0, sizeof label);
    }
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status, IMGCLASS_OK);
    int expect = 0;
    for (int rank = 0; rank <= 3; rank++)
        if (f->order[rank] != 3 && f->order[rank] != 4)
            assert_int_equal(s.idx[expect++], f->order[rank]);
    assert_int_equal(s.k, expect);

    /* Everything filtered out: delivered as a success with k = 0. */
    o = pipeline_defaults();
    flt.score_threshold = 2.0f;
    assert_int_equal(pipeline_run(f, o, &s), IMGCLASS_OK);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.status, IMGCLASS_OK);
    assert_int_equal(s.k, 0);

    int one[1] = {1};
    const char *zero[1] = {"zero"};
    o = pipeline_defaults();
    flt.allow_indices = one;
    flt.allow_index_count = 1;
    flt.deny_labels = zero;
    flt.deny_label_count = 1;
    assert_int_equal(pipeline_run(f, o, &s), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "imgclass_pipeline_create"));
    o = pipeline_defaults();
    o.topk = -3;
    assert_int_equal(pipeline_run(f, o, &s), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(s.calls, 2);
    pthread_mutex_destroy(&s.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_threshold_at_above_below),
        cmocka_unit_test(test_empty_result_is_success),
        cmocka_unit_test(test_allow_and_deny_by_index),
        cmocka_unit_test(test_allow_and_deny_by_label),
        cmocka_unit_test(test_conflicts_and_bad_options),
        cmocka_unit_test(test_pipeline),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
