/* Loading a model, predicting with it and freeing it, over and over, leaves
 * nothing behind: the float model (tiny.pt) and the int8 one (tiny_int8.pt),
 * CYCLES times each.
 *
 * Three watchers, one per way of running this binary:
 * - under ASan (make check-asan), LeakSanitizer at exit reports every block
 *   a cycle lost;
 * - under valgrind (make check-valgrind), memcheck does the same;
 *   test/lsan.supp and test/valgrind.supp excuse only libtorch's one-time
 *   initialisation, never a stack through the engine's load or predict;
 * - natively, where nothing else looks, the heap in use and the resident
 *   size after the cycles are compared with those after a warm-up (the
 *   first cycles fill libtorch's one-time caches), with bounds far above
 *   noise and far below what a lost model or batch per cycle adds up to. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "imgclass.h"
#include "model_fixtures.h"
#include "test_env.h"

/* The leak checkers' own accounting (ASan's quarantine, valgrind's) makes
 * the native memory bound meaningless there; they watch for leaks instead. */
#if defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED UNDER_ASAN
#endif

enum { WARMUP = 5, CYCLES = 50 };
/* Natively, after the warm-up: a lost tiny model (its module, weights and
 * frozen graph) costs tens of KiB a cycle, a lost batch of 4x3x8x8 a few
 * KiB with the tensors around it. 256 KiB over 50 cycles is > 5 KiB a
 * cycle; the resident size, which also moves with the allocator's own
 * bookkeeping, gets 16 MiB. */
#define HEAP_GROWTH_MAX ((size_t)256 << 10)
#define RSS_GROWTH_MAX ((size_t)16 << 20)

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static size_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* One cycle: load `name`, predict the 4 fixed inputs (the scores must be
 * `expect`'s, so the predict really ran; not compared when `expect` is
 * NULL), free everything. */
static void cycle(const char *name, const float *input, const float *expect, float tol)
{
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = 8;
    o.input_width = 8;
    imgclass_model *m = NULL;
    if (imgclass_model_load(fx_model_path(name), &o, &m) != IMGCLASS_OK)
        fail_msg("%s: %s", name, imgclass_last_error());
    float data[4 * 3 * 8 * 8];
    memcpy(data, input, sizeof data);
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_wrap(data, 4, 8, 8, &b), IMGCLASS_OK);
    float out[4 * 5];
    if (imgclass_predict(m, b, out, 4 * 5) != IMGCLASS_OK)
        fail_msg("%s: predict: %s", name, imgclass_last_error());
    imgclass_batch_free(b);
    imgclass_model_free(m);
    if (expect)
        fx_model_assert_close(out, expect, 4 * 5, tol);
}

static void cycles(const char *name, const char *probs, float tol)
{
    float *input = fx_model_floats("tiny_input.f32", 4 * 3 * 8 * 8);
    float *expect = probs ? fx_model_floats(probs, 4 * 5) : NULL;
    for (int i = 0; i < WARMUP; i++)
        cycle(name, input, expect, tol);
    size_t heap0 = heap_in_use(), rss0 = resident_bytes();
    for (int i = 0; i < CYCLES; i++)
        cycle(name, input, expect, tol);
    size_t heap1 = heap_in_use(), rss1 = resident_bytes();
    free(input);
    free(expect);
    long long heap_growth = (long long)heap1 - (long long)heap0;
    long long rss_growth = (long long)rss1 - (long long)rss0;
    printf("%s: %d cycles after %d: heap %+lld bytes, resident %+lld bytes%s\n", name, CYCLES,
           WARMUP, heap_growth, rss_growth,
           RUNNING_ON_VALGRIND || SANITIZED ? " (not compared: the leak checker watches here)" : "");
    /* Under valgrind and the sanitizers their own allocators and shadow
     * memory make these numbers meaningless, and their leak checks see
     * more (every block, not a sum). */
    if (RUNNING_ON_VALGRIND || SANITIZED)
        return;
    if (heap_growth > (long long)HEAP_GROWTH_MAX)
        fail_msg("%s: the heap grew by %lld bytes over %d cycles (bound %zu)", name, heap_growth,
                 CYCLES, HEAP_GROWTH_MAX);
    if (rss_growth > (long long)RSS_GROWTH_MAX)
        fail_msg("%s: the resident size grew by %lld bytes over %d cycles (bound %zu)", name,
                 rss_growth, CYCLES, RSS_GROWTH_MAX);
}

static void test_float_cycles(void **state)
{
    (void)state;
    cycles("tiny.pt", "tiny_probs.f32", 1e-5f);
}

/* Under valgrind the int8 scores are not compared: oneDNN's JIT kernels
 * write them with vector code memcheck cannot track (they read as
 * uninitialised), and valgrind's emulated CPU may take other kernels than
 * the reference's (test_model.c says more). This test is about memory. */
static void test_int8_cycles(void **state)
{
    (void)state;
    fx_model_require_int8(__func__); /* skips only when this torch has no onednn */
    cycles("tiny_int8.pt", RUNNING_ON_VALGRIND ? NULL : "tiny_int8_probs.f32", 1e-5f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_cycles),
        cmocka_unit_test(test_int8_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
