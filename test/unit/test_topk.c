/* imgclass_topk: order, ties, clamping, NaN, errors, labels. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imgclass.h"
#include "model_fixtures.h"

static void test_sorted_best_first(void **state)
{
    (void)state;
    const float s[6] = {0.1f, 0.4f, 0.05f, 0.3f, 0.1f, 0.05f};
    imgclass_class out[6];
    int k = -1;
    assert_int_equal(imgclass_topk(NULL, s, 6, 3, out, &k), IMGCLASS_OK);
    assert_int_equal(k, 3);
    assert_int_equal(out[0].index, 1);
    assert_int_equal(out[1].index, 3);
    assert_int_equal(out[2].index, 0); /* 0.1 at 0 and 4: lower index first */
    assert_true(out[0].score == 0.4f);
    assert_null(out[0].label);
    assert_null(out[0].id);
    assert_int_equal(imgclass_topk(NULL, s, 6, 6, out, &k), IMGCLASS_OK);
    const int expect[6] = {1, 3, 0, 4, 2, 5};
    for (int i = 0; i < 6; i++)
        assert_int_equal(out[i].index, expect[i]);
}

static void test_all_equal_keeps_index_order(void **state)
{
    (void)state;
    float s[10];
    for (int i = 0; i < 10; i++)
        s[i] = 0.1f;
    imgclass_class out[4];
    int k;
    assert_int_equal(imgclass_topk(NULL, s, 10, 4, out, &k), IMGCLASS_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(out[i].index, i);
}

static void test_k_clamped(void **state)
{
    (void)state;
    const float s[2] = {0.25f, 0.75f};
    imgclass_class out[5];
    int k;
    assert_int_equal(imgclass_topk(NULL, s, 2, 5, out, &k), IMGCLASS_OK);
    assert_int_equal(k, 2);
    assert_int_equal(out[0].index, 1);
    assert_int_equal(out[1].index, 0);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const float s[2] = {0.25f, 0.75f};
    imgclass_class out[2];
    int k = 77;
    assert_int_equal(imgclass_topk(NULL, s, 2, 0, out, &k), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_topk(NULL, s, 2, -3, out, &k), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_topk(NULL, s, 0, 1, out, &k), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_topk(NULL, NULL, 2, 1, out, &k), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_topk(NULL, s, 2, 1, NULL, &k), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_topk(NULL, s, 2, 1, out, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(k, 77);
    assert_non_null(strstr(imgclass_last_error(), "invalid argument"));
}

static void test_nan_ranks_last(void **state)
{
    (void)state;
    const float s[5] = {NAN, 0.2f, -INFINITY, NAN, 0.5f};
    imgclass_class out[5];
    int k;
    assert_int_equal(imgclass_topk(NULL, s, 5, 5, out, &k), IMGCLASS_OK);
    const int expect[5] = {4, 1, 2, 0, 3};
    for (int i = 0; i < 5; i++)
        assert_int_equal(out[i].index, expect[i]);
    assert_true(isnan(out[3].score));
    const float all_nan[3] = {NAN, NAN, NAN};
    assert_int_equal(imgclass_topk(NULL, all_nan, 3, 1, out, &k), IMGCLASS_OK);
    assert_int_equal(out[0].index, 0);
}

static void test_labels_from_model(void **state)
{
    (void)state;
    imgclass_model *m = fx_model_load("tiny.pt", 0, 8, 8);
    assert_int_equal(imgclass_model_load_labels(m, fx_model_path("labels_synset.txt")),
                     IMGCLASS_OK);
    const float s[5] = {0.1f, 0.1f, 0.5f, 0.2f, 0.1f};
    imgclass_class out[2];
    int k;
    assert_int_equal(imgclass_topk(m, s, 5, 2, out, &k), IMGCLASS_OK);
    assert_int_equal(out[0].index, 2);
    assert_string_equal(out[0].label, "great white shark");
    assert_string_equal(out[0].id, "n01484850");
    assert_string_equal(out[1].label, "tiger shark");
    imgclass_model_free(m);
}

/* The heap selection against a plain full ranking (a stable sort by
 * score, NaN last, ties to the lower index), on random scores with many
 * ties and NaNs, for every k. */
static int rank_cmp(const void *pa, const void *pb)
{
    const imgclass_class *a = pa, *b = pb;
    int an = isnan(a->score), bn = isnan(b->score);
    if (an != bn)
        return an - bn;
    if (!an && a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->index - b->index;
}

static void test_matches_full_sort(void **state)
{
    (void)state;
    enum { N = 300 };
    float s[N];
    imgclass_class want[N], got[N];
    unsigned seed = 12345;
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) % 50;
            s[i] = r == 0 ? NAN : (float)(r % 17); /* many ties */
            want[i] = (imgclass_class){i, s[i], NULL, NULL};
        }
        qsort(want, N, sizeof want[0], rank_cmp);
        for (int k = 1; k <= N; k += 1 + k / 3) {
            int n = -1;
            assert_int_equal(imgclass_topk(NULL, s, N, k, got, &n), IMGCLASS_OK);
            assert_int_equal(n, k);
            for (int j = 0; j < k; j++)
                assert_int_equal(got[j].index, want[j].index);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_best_first),
        cmocka_unit_test(test_all_equal_keeps_index_order),
        cmocka_unit_test(test_k_clamped),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_nan_ranks_last),
        cmocka_unit_test(test_labels_from_model),
        cmocka_unit_test(test_matches_full_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
