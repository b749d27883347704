/* imgclass_batch_*: allocation (zeroed, aligned, overflow-checked),
 * wrapping caller memory, accessors and NULL handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "imgclass.h"

static void test_create_zeroed_aligned(void **state)
{
    (void)state;
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_create(3, 5, 7, &b), IMGCLASS_OK);
    assert_non_null(b);
    assert_int_equal(imgclass_batch_count(b), 3);
    assert_int_equal(imgclass_batch_height(b), 5);
    assert_int_equal(imgclass_batch_width(b), 7);
    float *d = imgclass_batch_data(b);
    assert_non_null(d);
    assert_ptr_equal(d, imgclass_batch_data_const(b));
    assert_int_equal((uintptr_t)d % 64, 0);
    for (size_t i = 0; i < 3 * 3 * 5 * 7; i++)
        assert_true(d[i] == 0.0f);
    d[3 * 3 * 5 * 7 - 1] = 1.0f; /* the whole tensor is writable (ASan/valgrind check) */
    imgclass_batch_free(b);
}

static void test_wrap_uses_caller_memory(void **state)
{
    (void)state;
    enum { N = 2 * 3 * 4 * 4 };
    float mem[N];
    for (int i = 0; i < N; i++)
        mem[i] = (float)i * 0.5f;
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_wrap(mem, 2, 4, 4, &b), IMGCLASS_OK);
    assert_ptr_equal(imgclass_batch_data(b), mem);
    assert_int_equal(imgclass_batch_count(b), 2);
    assert_int_equal(imgclass_batch_height(b), 4);
    assert_int_equal(imgclass_batch_width(b), 4);
    /* Wrapping neither clears nor copies the caller's values: the batch
     * sees them as they are, and what the caller writes afterwards. */
    const float *seen = imgclass_batch_data_const(b);
    for (int i = 0; i < N; i++)
        assert_true(seen[i] == (float)i * 0.5f);
    mem[N - 1] = -7.0f;
    assert_true(seen[N - 1] == -7.0f);
    /* Freeing the wrapper must neither free mem (ASan/valgrind would report
     * a bad free of stack memory) nor touch its values. */
    imgclass_batch_free(b);
    for (int i = 0; i < N - 1; i++)
        assert_true(mem[i] == (float)i * 0.5f);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    imgclass_batch *b = (imgclass_batch *)0x1;
    float f[3];
    assert_int_equal(imgclass_batch_create(1, 4, 4, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_batch_create(0, 4, 4, &b), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_batch_create(1, 0, 4, &b), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_batch_create(1, 4, -1, &b), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_ptr_equal(b, (imgclass_batch *)0x1); /* untouched on failure */
    assert_int_equal(imgclass_batch_wrap(NULL, 1, 1, 1, &b), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_batch_wrap(f, 1, 1, 1, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "invalid argument"));
    /* count * 3 * h * w * 4 bytes overflows size_t */
    assert_int_equal(imgclass_batch_create(SIZE_MAX / 2, 1024, 1024, &b), IMGCLASS_ERR_TOO_LARGE);
    assert_int_equal(imgclass_batch_wrap(f, SIZE_MAX / 8, 2, 2, &b), IMGCLASS_ERR_TOO_LARGE);
    assert_ptr_equal(b, (imgclass_batch *)0x1);
}

static void test_null_handle(void **state)
{
    (void)state;
    imgclass_batch_free(NULL);
    assert_int_equal(imgclass_batch_count(NULL), 0);
    assert_int_equal(imgclass_batch_height(NULL), 0);
    assert_int_equal(imgclass_batch_width(NULL), 0);
    assert_null(imgclass_batch_data(NULL));
    assert_null(imgclass_batch_data_const(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_zeroed_aligned),
        cmocka_unit_test(test_wrap_uses_caller_memory),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_null_handle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
