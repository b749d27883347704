/* Loading models: plain, gzip, memory; options and their validation; every
 * kind of bad model as a clear error; queries; the thread pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "imgclass.h"
#include "model_fixtures.h"
/* valgrind emulates no AVX-512: under it oneDNN picks another int8 kernel
 * family than on the real CPU, which rounds differently from the reference
 * PyTorch computed natively. valgrind is here for memory errors; the
 * numeric int8 comparison runs natively only (RUNNING_ON_VALGRIND). */
#include "test_env.h"

/* Under ASan, allocation stacks that reach into libtorch for this binary:
 * test_bad_files hands libtorch a zip that is no TorchScript archive
 * (not_a_model.zip), and libtorch loses miniz's state on that error path
 * (its own leak). test/lsan.supp excuses it by the function it comes
 * through, 4 frames down, and only the slow unwinder gets past libtorch's
 * frames, which have no frame pointers. 8 frames keep its cost at about
 * twice the fast unwinder's (a whole stack costs five times). ASAN_OPTIONS
 * in the environment still win. */
#if defined(__SANITIZE_ADDRESS__)
/* Visible: the build hides symbols by default, and the runtime must find it
 * (the Makefile exports it from the unit tests under SANITIZE=1). */
__attribute__((visibility("default"))) const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0:malloc_context_size=8";
}
#endif

/* The x86 ISA tier oneDNN dispatches its int8 kernels by, as this process
 * sees the CPU (valgrind's emulated CPU included). */
static const char *int8_kernel_family(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vnni"))
        return "avx512_core_vnni";
    if (__builtin_cpu_supports("avx512bw"))
        return "avx512_core";
    if (__builtin_cpu_supports("avx2"))
        return "avx2";
    return "sse4.1 or older";
#else
    return "non-x86";
#endif
}

static imgclass_model_options tiny_options(void)
{
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = 8;
    o.input_width = 8;
    return o;
}

/* Loading `name` fails with `expect` and a message containing `needle`. */
static void load_fails(const char *name, const imgclass_model_options *o, imgclass_status expect,
                       const char *needle)
{
    imgclass_model *m = (imgclass_model *)0x1;
    imgclass_status st = imgclass_model_load(fx_model_path(name), o, &m);
    if (st != expect)
        fail_msg("%s: status %d, expected %d (%s)", name, st, expect, imgclass_last_error());
    assert_null(m);
    if (!strstr(imgclass_last_error(), needle))
        fail_msg("%s: message \"%s\" lacks \"%s\"", name, imgclass_last_error(), needle);
}

static void test_defaults(void **state)
{
    (void)state;
    imgclass_model_options o = imgclass_model_options_default();
    assert_string_equal(o.device, "cpu");
    assert_int_equal(o.input_channels, 3);
    /* 0 x 0: the recipe's size, else 224 x 224 (test_recipe.c) */
    assert_int_equal(o.input_height, 0);
    assert_int_equal(o.input_width, 0);
    assert_int_equal(o.softmax, 1);
    assert_int_equal(o.optimize, IMGCLASS_OPTIMIZE_DEFAULT);
    assert_int_equal(o.warmup_runs, 1);
    assert_non_null(strstr(imgclass_engine_version(), "libtorch 1."));
}

static void test_load_plain_gzip_memory(void **state)
{
    (void)state;
    imgclass_model_options o = tiny_options();
    const char *names[] = {"tiny.pt", "tiny.pt.gz"};
    for (int i = 0; i < 2; i++) {
        imgclass_model *m = NULL;
        assert_int_equal(imgclass_model_load(fx_model_path(names[i]), &o, &m), IMGCLASS_OK);
        assert_int_equal(imgclass_model_num_classes(m), 5);
        int c, h, w;
        imgclass_model_input_size(m, &c, &h, &w);
        assert_int_equal(c, 3);
        assert_int_equal(h, 8);
        assert_int_equal(w, 8);
        assert_string_equal(imgclass_model_device(m), "cpu");
        imgclass_model_free(m);

        size_t size;
        unsigned char *data = fx_model_read(names[i], &size);
        assert_int_equal(imgclass_model_load_memory(data, size, &o, &m), IMGCLASS_OK);
        free(data); /* the model must not keep the caller's buffer */
        assert_int_equal(imgclass_model_num_classes(m), 5);
        imgclass_model_free(m);
    }
    imgclass_model *m = NULL;
    o.input_height = o.input_width = 16;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny16.pt"), &o, &m), IMGCLASS_OK);
    assert_int_equal(imgclass_model_num_classes(m), 10);
    imgclass_model_free(m);
    imgclass_model_free(NULL);
    assert_int_equal(imgclass_model_num_classes(NULL), 0);
    assert_null(imgclass_model_device(NULL));
}

static void test_every_optimisation_loads(void **state)
{
    (void)state;
    imgclass_model_options o = tiny_options();
    for (unsigned flags = 0; flags < 16; flags++) {
        o.optimize = flags;
        o.warmup_runs = (int)(flags % 3);
        imgclass_model *m = NULL;
        if (imgclass_model_load(fx_model_path("tiny.pt"), &o, &m) != IMGCLASS_OK)
            fail_msg("flags 0x%x: %s", flags, imgclass_last_error());
        assert_int_equal(imgclass_model_num_classes(m), 5);
        imgclass_model_free(m);
    }
}

/* int8: detected, run on a quantized engine that works, equal to PyTorch
 * running the same file; flags that do not apply skipped, never fatal; one
 * quantized engine per process; engine names checked. */
static void test_quantized(void **state)
{
    (void)state;
    fx_model_require_int8(__func__); /* skips only when this torch has no onednn */
    imgclass_model_options o = tiny_options();
    o.optimize = IMGCLASS_OPTIMIZE_DEFAULT | IMGCLASS_OPTIMIZE_BFLOAT16 | IMGCLASS_OPTIMIZE_CHANNELS_LAST;
    imgclass_model *m = NULL;
    if (imgclass_model_load(fx_model_path("tiny_int8.pt"), &o, &m) != IMGCLASS_OK)
        fail_msg("tiny_int8.pt: %s", imgclass_last_error());
    assert_int_equal(imgclass_model_is_quantized(m), 1);
    const char *engine = imgclass_model_qengine(m);
    assert_non_null(engine);
    assert_true(!strcmp(engine, "onednn") || !strcmp(engine, "qnnpack"));
    assert_int_equal(imgclass_model_optimize(m) & (IMGCLASS_OPTIMIZE_FOR_INFERENCE | IMGCLASS_OPTIMIZE_BFLOAT16),
                     0);
    assert_true(imgclass_model_optimize(m) & IMGCLASS_OPTIMIZE_CHANNELS_LAST);

    if (!strcmp(engine, "onednn")) { /* the engine the file was built and checked with */
        /* The reference was computed by PyTorch on this CPU natively, so it
         * used the kernels of the CPU's own ISA tier; say which were checked. */
        int compare = !RUNNING_ON_VALGRIND;
        printf("int8 parity: onednn, %s kernels: %s\n", int8_kernel_family(),
               compare ? "compared with PyTorch's reference on this CPU"
                       : "run for memory errors only (valgrind's emulated CPU differs from the "
                         "one the reference was computed on)");
        float *input = fx_model_floats("tiny_input.f32", 4 * 3 * 8 * 8);
        float *expect = fx_model_floats("tiny_int8_probs.f32", 4 * 5);
        float out[4 * 5];
        imgclass_batch *b = NULL;
        assert_int_equal(imgclass_batch_wrap(input, 4, 8, 8, &b), IMGCLASS_OK);
        assert_int_equal(imgclass_predict(m, b, out, 4 * 5), IMGCLASS_OK);
        imgclass_batch_free(b);
        if (compare)
            fx_model_assert_close(out, expect, 4 * 5, 1e-6f);
        free(input);
        free(expect);
    }

    /* A float model beside it reports no quantization and keeps its flags. */
    imgclass_model_options fo = tiny_options();
    imgclass_model *fm = NULL;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &fo, &fm), IMGCLASS_OK);
    assert_int_equal(imgclass_model_is_quantized(fm), 0);
    assert_null(imgclass_model_qengine(fm));
    assert_int_equal(imgclass_model_optimize(fm),
                     IMGCLASS_OPTIMIZE_DEFAULT & ~IMGCLASS_OPTIMIZE_QUANTIZE_INPUT);
    imgclass_model_free(fm);

    /* Another engine while this one lives: refused, the model still works. */
    imgclass_model_options other = tiny_options();
    other.qengine = strcmp(engine, "onednn") ? "onednn" : "qnnpack";
    load_fails("tiny_int8.pt", &other, IMGCLASS_ERR_UNSUPPORTED, "one quantized engine");
    imgclass_model_free(m);
    /* ... and accepted once no quantized model is left. */
    m = NULL;
    if (imgclass_model_load(fx_model_path("tiny_int8.pt"), &other, &m) != IMGCLASS_OK)
        fail_msg("tiny_int8.pt on %s: %s", other.qengine, imgclass_last_error());
    assert_string_equal(imgclass_model_qengine(m), other.qengine);
    imgclass_model_free(m);

    other.qengine = "mkldnn";
    load_fails("tiny_int8.pt", &other, IMGCLASS_ERR_INVALID_ARGUMENT, "\"mkldnn\"");
    other.qengine = "fbgemm"; /* Debian's libtorch lacks it; other builds may have it */
    m = NULL;
    if (imgclass_model_load(fx_model_path("tiny_int8.pt"), &other, &m) != IMGCLASS_OK)
        assert_non_null(strstr(imgclass_last_error(), "not in this libtorch"));
    imgclass_model_free(m);
    assert_int_equal(imgclass_model_is_quantized(NULL), 0);
    assert_null(imgclass_model_qengine(NULL));
    assert_int_equal(imgclass_model_optimize(NULL), 0);
}

/* IMGCLASS_OPTIMIZE_QUANTIZE_INPUT: imgclass quantizes the input in place of
 * the graph's quantize_per_tensor, bit for bit as torch does, on values made
 * to catch every way the rounding can go wrong (make_test_models.py's
 * quant_probe_input): both overloads, quint8 and qint8, with and without the
 * flag and channels_last. A graph whose input has another use keeps torch's
 * quantize, and the flag is reported as not applied. */
static void test_quantize_input_exact(void **state)
{
    (void)state;
    enum { N = 8, K = 3 * 8 * 8 };
    static const struct {
        const char *name;
        int taken; /* whether imgclass can quantize this graph's input */
    } probes[] = {{"u8", 1}, {"s8", 1}, {"shared", 0}};
    static const unsigned flag_sets[] = {
        IMGCLASS_OPTIMIZE_DEFAULT, IMGCLASS_OPTIMIZE_DEFAULT & ~IMGCLASS_OPTIMIZE_QUANTIZE_INPUT,
        IMGCLASS_OPTIMIZE_QUANTIZE_INPUT | IMGCLASS_OPTIMIZE_CHANNELS_LAST};
    float *input = fx_model_floats("quant_probe_input.f32", N * K);
    for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
        char model[64], expected[64];
        snprintf(model, sizeof model, "quant_probe_%s.pt", probes[p].name);
        snprintf(expected, sizeof expected, "quant_probe_%s_out.f32", probes[p].name);
        float *expect = fx_model_floats(expected, N * K);
        for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
            imgclass_model_options o = tiny_options();
            o.softmax = 0;
            o.optimize = flag_sets[f];
            imgclass_model *m = NULL;
            if (imgclass_model_load(fx_model_path(model), &o, &m) != IMGCLASS_OK)
                fail_msg("%s: %s", model, imgclass_last_error());
            assert_int_equal(imgclass_model_num_classes(m), K);
            int asked = (flag_sets[f] & IMGCLASS_OPTIMIZE_QUANTIZE_INPUT) != 0;
            assert_int_equal((imgclass_model_optimize(m) & IMGCLASS_OPTIMIZE_QUANTIZE_INPUT) != 0,
                             asked && probes[p].taken);
            float out[N * K];
            imgclass_batch *b = NULL;
            assert_int_equal(imgclass_batch_wrap(input, N, 8, 8, &b), IMGCLASS_OK);
            assert_int_equal(imgclass_predict(m, b, out, N * K), IMGCLASS_OK);
            imgclass_batch_free(b);
            for (int i = 0; i < N * K; i++)
                if (memcmp(&out[i], &expect[i], sizeof(float)))
                    fail_msg("%s, flags 0x%x, input %.9g: got %.9g, torch %.9g", model,
                             flag_sets[f], (double)input[i], (double)out[i], (double)expect[i]);
            imgclass_model_free(m);
        }
        free(expect);
    }
    free(input);
}

static void test_bad_files(void **state)
{
    (void)state;
    imgclass_model_options o = tiny_options();
    load_fails("not_a_model.txt", &o, IMGCLASS_ERR_MODEL, "not a TorchScript archive");
    load_fails("not_a_model.zip", &o, IMGCLASS_ERR_MODEL, "not_a_model.zip: invalid model: ");
    load_fails("tiny_truncated.pt", &o, IMGCLASS_ERR_MODEL, "tiny_truncated.pt: invalid model: ");
    load_fails("labels_synset.txt.gz", &o, IMGCLASS_ERR_MODEL, "not a TorchScript archive");
    load_fails("does_not_exist.pt", &o, IMGCLASS_ERR_IO, "does_not_exist.pt");
    load_fails("", &o, IMGCLASS_ERR_IO, "directory"); /* the folder itself */

    /* Output shapes: rank 3, batch not kept, a tuple. */
    load_fails("rank3.pt", &o, IMGCLASS_ERR_MODEL, "[2, 5, 1]");
    load_fails("fixed_batch.pt", &o, IMGCLASS_ERR_MODEL, "expected [2, K]");
    load_fails("tuple_out.pt", &o, IMGCLASS_ERR_MODEL, "not a tensor");

    /* A wrong input size fails in the check forward, not later. */
    o.input_channels = 4;
    load_fails("tiny.pt", &o, IMGCLASS_ERR_MODEL, "tiny.pt: invalid model: ");
}

static void test_bad_buffers(void **state)
{
    (void)state;
    imgclass_model_options o = tiny_options();
    imgclass_model *m = NULL;
    size_t size;
    unsigned char *data = fx_model_read("tiny.pt.gz", &size);
    assert_int_equal(imgclass_model_load_memory(data, size / 2, &o, &m), IMGCLASS_ERR_CORRUPT);
    assert_non_null(strstr(imgclass_last_error(), "memory buffer: corrupt data"));
    assert_null(m);
    assert_int_equal(imgclass_model_load_memory(data, 0, &o, &m), IMGCLASS_ERR_MODEL);
    free(data);
    data = fx_model_read("tiny.pt", &size);
    for (size_t cut = 4; cut < size; cut += size / 7) {
        assert_int_equal(imgclass_model_load_memory(data, cut, &o, &m), IMGCLASS_ERR_MODEL);
        assert_null(m);
    }
    /* Flipped bytes in the middle: an error or (if only padding was hit) a
     * model, never a crash. */
    data[size / 2] ^= 0xff;
    data[size / 2 + 1] ^= 0xff;
    if (imgclass_model_load_memory(data, size, &o, &m) == IMGCLASS_OK)
        imgclass_model_free(m);
    free(data);
    assert_int_equal(imgclass_model_load_memory(NULL, 1, &o, &m), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_model_load(NULL, &o, &m), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_model_load("x", &o, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
}

static void test_devices(void **state)
{
    (void)state;
    imgclass_model_options o = tiny_options();
    imgclass_model *m = NULL;
    /* Debian's libtorch has no CUDA: a clear error, never a CPU fallback. */
    const char *cuda[] = {"cuda", "cuda:0", "cuda:3"};
    for (int i = 0; i < 3; i++) {
        o.device = cuda[i];
        assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &o, &m),
                         IMGCLASS_ERR_DEVICE);
        assert_null(m);
        assert_non_null(strstr(imgclass_last_error(), "without CUDA"));
    }
    const char *bad[] = {"gpu", "CPU", "cuda:", "cuda:x", "cuda:-1", "cuda:0 ", "cuda:99999", ""};
    for (int i = 0; i < 8; i++) {
        o.device = bad[i];
        assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &o, &m),
                         IMGCLASS_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(imgclass_last_error(), "device"));
    }
    o.device = NULL; /* the default */
    assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_device(m), "cpu");
    imgclass_model_free(m);
}

static void test_bad_options(void **state)
{
    (void)state;
    imgclass_model *m = NULL;
    imgclass_model_options o = tiny_options();
    o.input_height = 0;
    load_fails("tiny.pt", &o, IMGCLASS_ERR_INVALID_ARGUMENT, "input size");
    o = tiny_options();
    o.input_channels = -3;
    load_fails("tiny.pt", &o, IMGCLASS_ERR_INVALID_ARGUMENT, "input size");
    o = tiny_options();
    o.optimize = 0x100;
    load_fails("tiny.pt", &o, IMGCLASS_ERR_INVALID_ARGUMENT, "0x100");
    o = tiny_options();
    o.warmup_runs = -1;
    load_fails("tiny.pt", &o, IMGCLASS_ERR_INVALID_ARGUMENT, "warmup_runs");
    /* NULL options: the defaults (224 x 224), which this tiny net accepts
     * thanks to its adaptive pooling. */
    assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), NULL, &m), IMGCLASS_OK);
    int h;
    imgclass_model_input_size(m, NULL, &h, NULL);
    assert_int_equal(h, 224);
    imgclass_model_free(m);
}

static void test_threads(void **state)
{
    (void)state;
    int before = imgclass_get_num_threads();
    assert_true(before >= 1);
    assert_int_equal(imgclass_set_num_threads(2), IMGCLASS_OK);
    assert_int_equal(imgclass_get_num_threads(), 2);
    assert_int_equal(imgclass_set_num_threads(1), IMGCLASS_OK);
    assert_int_equal(imgclass_get_num_threads(), 1);
    assert_int_equal(imgclass_set_num_threads(0), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_set_num_threads(-2), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_get_num_threads(), 1);
    assert_int_equal(imgclass_set_num_threads(before), IMGCLASS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_load_plain_gzip_memory),
        cmocka_unit_test(test_every_optimisation_loads),
        cmocka_unit_test(test_quantized),
        cmocka_unit_test(test_quantize_input_exact),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_buffers),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
