/* imgclass_model_load_ms(): every step of a load is measured, the steps
 * are parts of the whole, the engine starts once per process, and bad
 * arguments get -1. (No figure is asserted: times depend on the machine.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "imgclass.h"
#include "model_fixtures.h"

static double step_sum(const imgclass_model *m)
{
    double sum = 0;
    for (int s = IMGCLASS_LOAD_ENGINE_START; s < IMGCLASS_LOAD_TOTAL; s++) {
        const double ms = imgclass_model_load_ms(m, (imgclass_load_step)s);
        if (ms < 0)
            fail_msg("step %d: %f ms", s, ms);
        sum += ms;
    }
    return sum;
}

static void test_steps_measured_and_within_the_total(void **state)
{
    (void)state;
    imgclass_model *first = fx_model_load("tiny.pt", IMGCLASS_OPTIMIZE_FREEZE, 0, 0);
    /* the steps that always do work took some time */
    assert_true(imgclass_model_load_ms(first, IMGCLASS_LOAD_ENGINE_START) > 0);
    assert_true(imgclass_model_load_ms(first, IMGCLASS_LOAD_READ) > 0);
    assert_true(imgclass_model_load_ms(first, IMGCLASS_LOAD_DESERIALIZE) > 0);
    assert_true(imgclass_model_load_ms(first, IMGCLASS_LOAD_OPTIMIZE) > 0);
    assert_true(imgclass_model_load_ms(first, IMGCLASS_LOAD_CHECK) > 0);
    /* disjoint parts of one call */
    assert_true(imgclass_model_load_ms(first, IMGCLASS_LOAD_TOTAL) >= step_sum(first));
    /* the freeze ran (IMGCLASS_OPTIMIZE_FREEZE), inside the optimise step */
    assert_true(imgclass_model_load_ms(first, IMGCLASS_LOAD_FREEZE) > 0);
    assert_true(imgclass_model_load_ms(first, IMGCLASS_LOAD_FREEZE) <=
                imgclass_model_load_ms(first, IMGCLASS_LOAD_OPTIMIZE));

    /* From memory: no file read (the step is the gunzip check alone), and
     * the engine, started by the first load, is not started again. */
    size_t size;
    unsigned char *data = fx_model_read("tiny.pt", &size);
    imgclass_model *second = NULL;
    assert_int_equal(imgclass_model_load_memory(data, size, NULL, &second), IMGCLASS_OK);
    free(data);
    assert_true(imgclass_model_load_ms(second, IMGCLASS_LOAD_ENGINE_START) <
                imgclass_model_load_ms(first, IMGCLASS_LOAD_ENGINE_START));
    assert_true(imgclass_model_load_ms(second, IMGCLASS_LOAD_DESERIALIZE) > 0);
    assert_true(imgclass_model_load_ms(second, IMGCLASS_LOAD_TOTAL) >= step_sum(second));
    imgclass_model_free(second);
    imgclass_model_free(first);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_true(imgclass_model_load_ms(NULL, IMGCLASS_LOAD_TOTAL) == -1);
    imgclass_model *m = fx_model_load("tiny.pt", 0, 0, 0);
    assert_true(imgclass_model_load_ms(m, (imgclass_load_step)-1) == -1);
    assert_true(imgclass_model_load_ms(m, (imgclass_load_step)(IMGCLASS_LOAD_FREEZE + 1)) == -1);
    /* without a cache_dir, the cache's step did nothing */
    assert_true(imgclass_model_load_ms(m, IMGCLASS_LOAD_CACHE) == 0);
    imgclass_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_measured_and_within_the_total),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
