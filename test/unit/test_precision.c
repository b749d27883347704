/* Precision as a model option (imgclass_model_options.precision): the
 * CPU's bf16 detection against an oracle of the test's own; bf16 on the
 * tiny model close to float32 where the CPU has native bf16, and refused
 * (IMGCLASS_ERR_UNSUPPORTED, naming the model and the feature) where it
 * has not: valgrind's emulated CPU, or a CPU without bf16 as the library
 * is told to simulate it; an int8 model ignoring it; bad values refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpu_features.h"
#include "imgclass.h"
#include "model_fixtures.h"
#include "test_env.h"

#define TINY_N 4
#define TINY_K 5
#define TINY_PIXELS (3 * 8 * 8)

/* bf16 against PyTorch's float32 probabilities of tiny.pt: bfloat16 keeps
 * 8 significant bits (relative rounding error <= 2^-9), and the tiny net
 * rounds to it about five times (input, convolution, batch norm, pooling,
 * linear), so its logits (|x| ~ 1) may move by ~1 %, which moves its
 * probabilities (all below 0.27) by at most ~5e-3. Observed: ~5e-4. */
#define BF16_TOLERANCE 5e-3f
/* ... and must really differ from float32 (else bf16 silently did not
 * apply): exact float32 paths agree with PyTorch to 1e-5 (test_predict). */
#define BF16_MIN_DIFFERENCE 2e-5f

/* The test's own answer to "does this CPU run bf16 natively?", as this
 * process sees it (valgrind's emulated CPU included), from the compiler's
 * __builtin_cpu_supports: independent of the library's cpuid reading.
 * -1 where that builtin does not know the features. */
static int oracle_bf16(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__clang__) && \
    __GNUC__ >= 12
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
#else
    return -1;
#endif
}

/* 1 when /proc/cpuinfo's flags name avx512_bf16 or amx_bf16, 0 when they
 * name neither, -1 when it cannot be read. The kernel's view of the real
 * CPU: under valgrind it differs from what the process sees. */
static int cpuinfo_bf16(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[8192];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        found = strstr(line, " avx512_bf16") || strstr(line, " amx_bf16");
        break;
    }
    fclose(f);
    return found;
}

/* Whether this CPU has native bf16: the oracle where there is one, else the
 * library's own answer (said so). */
static int cpu_has_bf16(void)
{
    int oracle = oracle_bf16();
    return oracle >= 0 ? oracle : ic_cpu_bf16_missing() == NULL;
}

static imgclass_model_options tiny_options(imgclass_precision precision, unsigned optimize)
{
    imgclass_model_options o = imgclass_model_options_default();
    o.input_height = o.input_width = 8;
    o.precision = precision;
    o.optimize = optimize;
    return o;
}

static void predict_tiny(const imgclass_model *m, const float *input, float *out)
{
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_wrap((float *)input, TINY_N, 8, 8, &b), IMGCLASS_OK);
    assert_int_equal(imgclass_predict(m, b, out, TINY_N * TINY_K), IMGCLASS_OK);
    imgclass_batch_free(b);
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* Loading tiny.pt with precision bf16 and `optimize` is refused as on a CPU
 * without bf16: IMGCLASS_ERR_UNSUPPORTED, no model, and a message naming
 * the model file and what the CPU lacks. */
static void assert_bf16_refused(unsigned optimize)
{
    imgclass_model_options o = tiny_options(IMGCLASS_PRECISION_BF16, optimize);
    imgclass_model *m = (imgclass_model *)0x1;
    imgclass_status st = imgclass_model_load(fx_model_path("tiny.pt"), &o, &m);
    if (st != IMGCLASS_ERR_UNSUPPORTED)
        fail_msg("bf16 on a CPU without it: status %d, expected IMGCLASS_ERR_UNSUPPORTED (%s)",
                 st, imgclass_last_error());
    assert_null(m);
    const char *msg = imgclass_last_error();
    const char *lacks = ic_cpu_bf16_missing();
    assert_non_null(lacks);
    if (!strstr(msg, fx_model_path("tiny.pt")) || !strstr(msg, "precision bf16") ||
        !strstr(msg, lacks))
        fail_msg("refusal \"%s\" does not name the model, the precision and \"%s\"", msg, lacks);
#if defined(__x86_64__) || defined(__i386__)
    assert_non_null(strstr(msg, "avx512_bf16"));
#endif
}

/* The decision from raw cpuid values, each condition on its own. */
static void test_x86_decision(void **state)
{
    (void)state;
    const ic_x86_cpuid avx512 = {.max_leaf = 0xd,
                                 .leaf1_ecx = 1u << 27,
                                 .leaf7_max_subleaf = 1,
                                 .leaf7_1_eax = 1u << 5,
                                 .xcr0 = 0xe7};
    assert_int_equal(ic_x86_bf16_native(&avx512), 1);
    ic_x86_cpuid c = avx512;
    c.leaf7_1_eax = 0; /* an AVX-512 CPU without BF16 (Skylake-X) */
    assert_int_equal(ic_x86_bf16_native(&c), 0);
    c = avx512;
    c.leaf7_max_subleaf = 0; /* subleaf 1 not reported: its bits are not read */
    assert_int_equal(ic_x86_bf16_native(&c), 0);
    c = avx512;
    c.max_leaf = 6; /* no leaf 7 at all */
    assert_int_equal(ic_x86_bf16_native(&c), 0);
    c = avx512;
    c.leaf1_ecx = 0; /* no OSXSAVE: the OS saves no extended state */
    assert_int_equal(ic_x86_bf16_native(&c), 0);
    c = avx512;
    c.xcr0 = 0x7; /* the OS does not save the AVX-512 registers */
    assert_int_equal(ic_x86_bf16_native(&c), 0);

    const ic_x86_cpuid amx = {.max_leaf = 0x1f,
                              .leaf1_ecx = 1u << 27,
                              .leaf7_edx = 1u << 22,
                              .xcr0 = 0x60007};
    assert_int_equal(ic_x86_bf16_native(&amx), 1);
    c = amx;
    c.xcr0 = 0x7; /* AMX-BF16 without the tile state */
    assert_int_equal(ic_x86_bf16_native(&c), 0);
    c = amx;
    c.leaf7_edx = 1u << 23; /* the neighbouring AVX512_FP16, not AMX-BF16 */
    assert_int_equal(ic_x86_bf16_native(&c), 0);
}

/* The library's answer on this CPU against the test's oracle, and the
 * oracle against the kernel's flags where they describe the same CPU. */
static void test_cpu_detection(void **state)
{
    (void)state;
    int lib = ic_cpu_bf16_missing() == NULL;
    int oracle = oracle_bf16();
    int flags = cpuinfo_bf16();
    printf("bf16 detection: library %s, __builtin_cpu_supports %s, /proc/cpuinfo %s%s\n",
           lib ? "native" : "missing", oracle < 0 ? "n/a" : oracle ? "native" : "missing",
           flags < 0 ? "n/a" : flags ? "native" : "missing",
           RUNNING_ON_VALGRIND ? " (under valgrind: its emulated CPU)" : "");
    if (oracle >= 0)
        assert_int_equal(lib, oracle);
#if defined(__x86_64__) || defined(__i386__)
    ic_x86_cpuid c;
    assert_int_equal(ic_x86_cpuid_read(&c), 1);
    assert_int_equal(ic_x86_bf16_native(&c), lib); /* the cpuid path agrees */
#endif
    if (flags >= 0 && !RUNNING_ON_VALGRIND)
        assert_int_equal(lib, flags);

    ic_cpu_bf16_simulate_missing(1);
    assert_non_null(ic_cpu_bf16_missing());
    ic_cpu_bf16_simulate_missing(0);
    assert_int_equal(ic_cpu_bf16_missing() == NULL, lib);
}

/* bf16 on tiny.pt: close to float32 with the same argmax where the CPU has
 * native bf16, refused where it has not. Both branches assert. */
static void test_bf16_tiny(void **state)
{
    (void)state;
    int native = cpu_has_bf16();
    printf("bf16 branch: %s\n",
           native ? "native bf16: loaded and compared with float32"
                  : "no native bf16 on this CPU: refusal checked");
    if (!native) {
        assert_bf16_refused(IMGCLASS_OPTIMIZE_DEFAULT);
        return;
    }
    float *input = fx_model_floats("tiny_input.f32", TINY_N * TINY_PIXELS);
    float *probs = fx_model_floats("tiny_probs.f32", TINY_N * TINY_K);
    float out[TINY_N * TINY_K];
    /* The default set (frozen, optimize_for_inference), frozen only, and
     * none: each path of the engine in bf16. */
    const unsigned sets[] = {IMGCLASS_OPTIMIZE_DEFAULT, IMGCLASS_OPTIMIZE_FREEZE, 0};
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        imgclass_model_options o = tiny_options(IMGCLASS_PRECISION_BF16, sets[s]);
        imgclass_model *m = NULL;
        if (imgclass_model_load(fx_model_path("tiny.pt"), &o, &m) != IMGCLASS_OK)
            fail_msg("bf16, flags 0x%x: %s", sets[s], imgclass_last_error());
        assert_string_equal(imgclass_model_precision(m), "bf16");
        assert_int_equal(imgclass_model_is_quantized(m), 0);
        predict_tiny(m, input, out);
        float max_diff = 0;
        for (int i = 0; i < TINY_N * TINY_K; i++)
            max_diff = fmaxf(max_diff, fabsf(out[i] - probs[i]));
        printf("bf16, flags 0x%x: largest difference from float32 %.2g\n", sets[s],
               (double)max_diff);
        if (!(max_diff <= BF16_TOLERANCE))
            fail_msg("bf16, flags 0x%x: %g from float32, over %g", sets[s], (double)max_diff,
                     (double)BF16_TOLERANCE);
        if (max_diff < BF16_MIN_DIFFERENCE)
            fail_msg("bf16, flags 0x%x: within %g of float32: bf16 did not apply", sets[s],
                     (double)max_diff);
        for (int n = 0; n < TINY_N; n++)
            assert_int_equal(argmax(out + n * TINY_K, TINY_K), argmax(probs + n * TINY_K, TINY_K));
        imgclass_model_free(m);
    }
    free(input);
    free(probs);
}

/* The refusal path on any CPU: the library told to answer as on a CPU
 * without bf16 (on a CPU without it, this is the real branch again). */
static void test_bf16_refused_simulated(void **state)
{
    (void)state;
    ic_cpu_bf16_simulate_missing(1);
    assert_bf16_refused(IMGCLASS_OPTIMIZE_DEFAULT);
    assert_bf16_refused(0);
    /* From memory too: the message names the buffer. */
    size_t size;
    unsigned char *data = fx_model_read("tiny.pt", &size);
    imgclass_model_options o = tiny_options(IMGCLASS_PRECISION_BF16, IMGCLASS_OPTIMIZE_DEFAULT);
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load_memory(data, size, &o, &m), IMGCLASS_ERR_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(imgclass_last_error(), "memory buffer"));
    free(data);
    /* float32 is never refused. */
    o.precision = IMGCLASS_PRECISION_FLOAT32;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_precision(m), "float32");
    imgclass_model_free(m);
    ic_cpu_bf16_simulate_missing(0);
}

/* An int8 file runs int8 whatever precision is asked: bf16 is ignored (not
 * refused, also on a CPU without bf16), reported as "int8", and the scores
 * are those of the same model loaded in float32, bit for bit (natively). */
static void test_int8_ignores_bf16(void **state)
{
    (void)state;
    FILE *f = fopen(fx_model_path("tiny_int8.pt"), "rb");
    if (!f)
        skip(); /* this torch has no onednn: make_test_models.py made none */
    fclose(f);
    float *input = fx_model_floats("tiny_input.f32", TINY_N * TINY_PIXELS);
    float asked_f32[TINY_N * TINY_K], asked_bf16[TINY_N * TINY_K];
    imgclass_model_options o = tiny_options(IMGCLASS_PRECISION_FLOAT32, IMGCLASS_OPTIMIZE_DEFAULT);
    imgclass_model *m = NULL;
    if (imgclass_model_load(fx_model_path("tiny_int8.pt"), &o, &m) != IMGCLASS_OK)
        fail_msg("tiny_int8.pt: %s", imgclass_last_error());
    assert_string_equal(imgclass_model_precision(m), "int8");
    predict_tiny(m, input, asked_f32);
    imgclass_model_free(m);
    for (int simulate = 0; simulate <= 1; simulate++) {
        ic_cpu_bf16_simulate_missing(simulate);
        o.precision = IMGCLASS_PRECISION_BF16;
        m = NULL;
        if (imgclass_model_load(fx_model_path("tiny_int8.pt"), &o, &m) != IMGCLASS_OK)
            fail_msg("tiny_int8.pt in bf16%s: %s", simulate ? " (no bf16 simulated)" : "",
                     imgclass_last_error());
        assert_string_equal(imgclass_model_precision(m), "int8");
        assert_int_equal(imgclass_model_optimize(m) & IMGCLASS_OPTIMIZE_BFLOAT16, 0);
        predict_tiny(m, input, asked_bf16);
        /* Natively only: under valgrind oneDNN's int8 kernels leave vector
         * lanes memcheck cannot prove defined (as test_model.c's int8
         * check, the run there is for memory errors). */
        if (!RUNNING_ON_VALGRIND)
            assert_memory_equal(asked_bf16, asked_f32, sizeof asked_f32);
        imgclass_model_free(m);
    }
    ic_cpu_bf16_simulate_missing(0);
    free(input);
}

/* The default, the queries, and values that are no precision. */
static void test_defaults_and_bad_values(void **state)
{
    (void)state;
    imgclass_model_options o = imgclass_model_options_default();
    assert_int_equal(o.precision, IMGCLASS_PRECISION_FLOAT32);
    o = tiny_options(IMGCLASS_PRECISION_FLOAT32, IMGCLASS_OPTIMIZE_DEFAULT);
    imgclass_model *m = NULL;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_precision(m), "float32");
    imgclass_model_free(m);
    /* The superseded flag still converts to bfloat16 (no CPU check, no
     * channels_last weights, as before) and is reported as bf16. */
    o.optimize = IMGCLASS_OPTIMIZE_DEFAULT | IMGCLASS_OPTIMIZE_BFLOAT16;
    assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &o, &m), IMGCLASS_OK);
    assert_string_equal(imgclass_model_precision(m), "bf16");
    imgclass_model_free(m);
    assert_null(imgclass_model_precision(NULL));

    const int bad[] = {7, -1, 2};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = tiny_options(IMGCLASS_PRECISION_FLOAT32, IMGCLASS_OPTIMIZE_DEFAULT);
        o.precision = (imgclass_precision)bad[i];
        m = (imgclass_model *)0x1;
        assert_int_equal(imgclass_model_load(fx_model_path("tiny.pt"), &o, &m),
                         IMGCLASS_ERR_INVALID_ARGUMENT);
        assert_null(m);
        char want[32];
        snprintf(want, sizeof want, "precision %d is not", bad[i]);
        if (!strstr(imgclass_last_error(), want) ||
            !strstr(imgclass_last_error(), fx_model_path("tiny.pt")))
            fail_msg("precision %d: message \"%s\"", bad[i], imgclass_last_error());
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x86_decision),
        cmocka_unit_test(test_cpu_detection),
        cmocka_unit_test(test_bf16_tiny),
        cmocka_unit_test(test_bf16_refused_simulated),
        cmocka_unit_test(test_int8_ignores_bf16),
        cmocka_unit_test(test_defaults_and_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
