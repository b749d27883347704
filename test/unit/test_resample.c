/* The resample kernels (lib/resample.c): weights derivable by hand, the
 * invariants of Pillow's windows, and that computing only part of the
 * output (what a crop keeps) gives the same bytes as computing all of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "image_fixtures.h"
#include "resample.h"
#include "skip_note.h"

/* The filter make_axis() builds; the bicubic_* tests rerun the generic
 * tests with it set to bicubic. */
static imgclass_interpolation g_interp = IMGCLASS_INTERP_BILINEAR;

static ic_resample_axis make_axis(int in, int out, int first, int count, void **mem)
{
    ic_resample_axis a;
    *mem = malloc(ic_resample_axis_bytes(in, out, count, g_interp));
    assert_non_null(*mem);
    ic_resample_axis_init(&a, in, out, first, count, g_interp, *mem);
    return a;
}

/* 4 -> 2: scale 2, support 2. Output 0: center 1.0, window [0, 3),
 * triangle weights 0.75, 0.75, 0.25, normalised to 3/7, 3/7, 1/7, then
 * round(w * 2^22): 1797559, 1797559, 599186. */
static void test_halving_weights_by_hand(void **state)
{
    (void)state;
    void *mem;
    ic_resample_axis a = make_axis(4, 2, 0, 2, &mem);
    assert_int_equal(a.src_first, 0);
    assert_int_equal(a.src_end, 4);
    assert_int_equal(a.start[0], 0);
    assert_int_equal(a.taps[0], 3);
    assert_int_equal(a.coeffs[0], 1797559);
    assert_int_equal(a.coeffs[1], 1797559);
    assert_int_equal(a.coeffs[2], 599186);
    /* output 1 mirrors it: center 3.0, window [1, 4) */
    assert_int_equal(a.start[1], 1);
    assert_int_equal(a.taps[1], 3);
    const int32_t *k1 = a.coeffs + a.ksize;
    assert_int_equal(k1[0], 599186);
    assert_int_equal(k1[1], 1797559);
    assert_int_equal(k1[2], 1797559);
    free(mem);
}

static void test_identity_and_single_source(void **state)
{
    (void)state;
    void *mem;
    ic_resample_axis a = make_axis(9, 9, 2, 5, &mem);
    assert_int_equal(a.src_first, 2);
    assert_int_equal(a.src_end, 7);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(a.taps[i], 1);
        assert_int_equal(a.start[i], i);
        assert_int_equal(a.coeffs[i * a.ksize], 1 << 22);
    }
    free(mem);
    /* Upscaling one sample: every window holds only it, weight 1.0. */
    a = make_axis(1, 256, 0, 256, &mem);
    for (int i = 0; i < 256; i++) {
        assert_int_equal(a.taps[i], 1);
        assert_int_equal(a.coeffs[(size_t)i * a.ksize], 1 << 22);
    }
    free(mem);
}

/* Windows move right, stay inside the source, and their weights sum to
 * 1.0 within rounding (each weight rounds by at most 1/2). */
static void test_window_invariants(void **state)
{
    (void)state;
    const int pairs[][2] = {{500, 341}, {375, 256}, {3, 256}, {256, 224}, {3000, 3840},
                            {1000, 7},  {7, 1000},  {200, 256}, {4000, 100}};
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        int in = pairs[p][0], out = pairs[p][1];
        void *mem;
        ic_resample_axis a = make_axis(in, out, 0, out, &mem);
        int prev_start = -1, prev_end = -1;
        for (int i = 0; i < out; i++) {
            int s = a.src_first + a.start[i], e = s + a.taps[i];
            assert_true(s >= 0 && e <= in && a.taps[i] >= 1 && a.taps[i] <= a.ksize);
            assert_true(s >= prev_start && e >= prev_end);
            prev_start = s;
            prev_end = e;
            long long sum = 0;
            for (int j = 0; j < a.taps[i]; j++) {
                /* the triangle is never negative; the cubic's lobes are */
                if (g_interp == IMGCLASS_INTERP_BILINEAR)
                    assert_true(a.coeffs[(size_t)i * a.ksize + j] >= 0);
                sum += a.coeffs[(size_t)i * a.ksize + j];
            }
            assert_true(llabs(sum - (1 << 22)) <= a.taps[i]);
        }
        /* the span of a sub-range agrees with the table built for it */
        int first = out / 3, count = out - out / 3 - out / 5;
        if (count < 1)
            count = 1;
        int s0, s1;
        ic_resample_axis_span(in, out, first, count, g_interp, &s0, &s1);
        void *mem2;
        ic_resample_axis b = make_axis(in, out, first, count, &mem2);
        assert_int_equal(s0, b.src_first);
        assert_int_equal(s1, b.src_end);
        assert_int_equal(b.src_first + b.start[0], a.src_first + a.start[first]);
        free(mem2);
        free(mem);
    }
}

/* Horizontal then vertical pass over a w x h RGB image to ow x oh, only
 * outputs [fx, fx + cw) x [fy, fy + ch); returns 3 planes of cw x ch. */
static uint8_t *resize_part(const uint8_t *rgb, int w, int h, int ow, int oh, int fx, int cw,
                            int fy, int ch)
{
    void *mx, *my;
    ic_resample_axis ax = make_axis(w, ow, fx, cw, &mx);
    ic_resample_axis ay = make_axis(h, oh, fy, ch, &my);
    int rows = ay.src_end - ay.src_first;
    size_t plane = (size_t)rows * cw;
    uint8_t *tmp = malloc(3 * plane), *scratch = malloc(ic_resample_row_scratch_bytes(&ax));
    uint8_t *out = malloc(3 * (size_t)cw * ch);
    assert_non_null(tmp);
    assert_non_null(scratch);
    assert_non_null(out);
    for (int r = 0; r < rows; r++)
        ic_resample_row_h(rgb + ((size_t)(ay.src_first + r) * w + ax.src_first) * 3,
                          IMGCLASS_PIXEL_RGB, &ax, scratch, tmp + (size_t)r * cw,
                          tmp + plane + (size_t)r * cw, tmp + 2 * plane + (size_t)r * cw);
    const uint8_t **ptrs = malloc((size_t)ay.ksize * sizeof *ptrs);
    assert_non_null(ptrs);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < ch; i++) {
            for (int j = 0; j < ay.taps[i]; j++)
                ptrs[j] = tmp + c * plane + (size_t)(ay.start[i] + j) * cw;
            ic_resample_col_v(ptrs, &ay, i, cw, out + ((size_t)c * ch + i) * cw);
        }
    free(ptrs);
    free(tmp);
    free(scratch);
    free(mx);
    free(my);
    return out;
}

/* Resizes a gray line of n samples (as n x 1, or as 1 x n for the
 * vertical pass) to out_n and checks every channel against `want`. */
static void check_line(const uint8_t *line, int n, int out_n, const uint8_t *want, int vertical)
{
    uint8_t rgb[3 * 16];
    assert_true(n <= 16);
    for (int i = 0; i < n; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = line[i];
    uint8_t *out = vertical ? resize_part(rgb, 1, n, 1, out_n, 0, 1, 0, out_n)
                            : resize_part(rgb, n, 1, out_n, 1, 0, out_n, 0, 1);
    for (int c = 0; c < 3; c++)
        assert_memory_equal(out + (size_t)c * out_n, want, (size_t)out_n);
    free(out);
}

/* Bilinear pixel values worked out by hand from the weights above, on
 * both axes (a change of either pass's rounding shows here, with or
 * without the sample photos). Pillow 9.4 gives the same:
 *   Image.fromarray(np.array([row], np.uint8)).resize((N, 1), BILINEAR)
 * 4 -> 2, output 0 = (6 * 1797559 + 2^21) >> 22 = 3; output 1 reads only
 *   zeros. [0,0,0,200]: output 1 = (200 * 1797559 + 2^21) >> 22 = 86.
 * 4 -> 3: scale 4/3, output 0 centred at 2/3, window [0, 2), triangle
 *   weights 0.875 and 0.375 normalised to 0.7, 0.3: 6 * 0.7 = 4.2 -> 4;
 *   output 2 mirrors it: 200 * 0.7 = 140.
 * A ramp stays a ramp: [10..50] -> 2 gives 20, 40; -> 3 gives 14, 30, 46. */
static void test_bilinear_values_by_hand(void **state)
{
    (void)state;
    static const uint8_t spike[4] = {6, 0, 0, 0}, late[4] = {0, 0, 0, 200};
    static const uint8_t ramp[5] = {10, 20, 30, 40, 50};
    for (int vertical = 0; vertical < 2; vertical++) {
        check_line(spike, 4, 2, (const uint8_t[]){3, 0}, vertical);
        check_line(spike, 4, 3, (const uint8_t[]){4, 0, 0}, vertical);
        check_line(late, 4, 2, (const uint8_t[]){0, 86}, vertical);
        check_line(late, 4, 3, (const uint8_t[]){0, 0, 140}, vertical);
        check_line(ramp, 5, 2, (const uint8_t[]){20, 40}, vertical);
        check_line(ramp, 5, 3, (const uint8_t[]){14, 30, 46}, vertical);
    }
}

static void test_partial_equals_full(void **state)
{
    (void)state;
    const int sizes[][4] = {{500, 375, 341, 256}, {97, 61, 256, 161}, {300, 900, 40, 120},
                            {256, 300, 256, 256}, {64, 64, 64, 300}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int w = sizes[s][0], h = sizes[s][1], ow = sizes[s][2], oh = sizes[s][3];
        uint8_t *rgb = fx_pattern(w, h, 3, (unsigned)s + 1);
        assert_non_null(rgb);
        uint8_t *full = resize_part(rgb, w, h, ow, oh, 0, ow, 0, oh);
        int fx = ow / 4, cw = ow / 2 + 1, fy = oh / 3, ch = oh / 2;
        uint8_t *part = resize_part(rgb, w, h, ow, oh, fx, cw, fy, ch);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < ch; y++)
                assert_memory_equal(part + ((size_t)c * ch + y) * cw,
                                    full + ((size_t)c * oh + fy + y) * ow + fx, (size_t)cw);
        free(full);
        free(part);
        free(rgb);
    }
}

/* A flat image stays flat: the weights sum to 1.0 within rounding. */
static void test_constant_image_stays_constant(void **state)
{
    (void)state;
    const int w = 333, h = 517;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    assert_non_null(rgb);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        rgb[3 * i] = 0;
        rgb[3 * i + 1] = 137;
        rgb[3 * i + 2] = 255;
    }
    uint8_t *out = resize_part(rgb, w, h, 256, 397, 0, 256, 0, 397);
    for (size_t i = 0; i < (size_t)256 * 397; i++) {
        assert_int_equal(out[i], 0);
        assert_int_equal(out[256 * 397 + i], 137);
        assert_int_equal(out[2 * 256 * 397 + i], 255);
    }
    free(out);
    free(rgb);
}

/* The AVX2 horizontal pass and the portable one give the same bytes, for
 * every pixel layout and several window sizes (skipped on a CPU without
 * AVX2). */
static void test_simd_equals_portable(void **state)
{
    (void)state;
    /* Without AVX2 both runs take the portable code: comparing it with
     * itself would prove nothing, so say so instead of passing (the CPU is
     * not the project's: a skip, listed in the summary). */
    if (!__builtin_cpu_supports("avx2"))
        fx_skip(g_interp == IMGCLASS_INTERP_BICUBIC
                    ? "bicubic: the CPU has no AVX2, so there is no SIMD pass to compare"
                    : "bilinear: the CPU has no AVX2, so there is no SIMD pass to compare");
    const int sizes[][4] = {{500, 375, 341, 256}, {97, 61, 256, 161}, {1000, 900, 100, 120},
                            {2000, 50, 77, 50}, {7, 9, 5, 300}};
    const imgclass_pixel_format fmts[] = {IMGCLASS_PIXEL_RGB, IMGCLASS_PIXEL_BGR,
                                          IMGCLASS_PIXEL_RGBA, IMGCLASS_PIXEL_BGRA,
                                          IMGCLASS_PIXEL_GRAY};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int w = sizes[s][0], ow = sizes[s][2];
        void *mem;
        ic_resample_axis ax = make_axis(w, ow, 0, ow, &mem);
        uint8_t *src = fx_pattern(w, 1, 4, (unsigned)s + 7);
        uint8_t *scratch = malloc(ic_resample_row_scratch_bytes(&ax));
        uint8_t *out = malloc(6 * (size_t)ow);
        assert_non_null(src);
        assert_non_null(scratch);
        assert_non_null(out);
        for (size_t f = 0; f < 5; f++) {
            for (int portable = 0; portable < 2; portable++) {
                ic_resample_portable_only = portable;
                uint8_t *o = out + (size_t)portable * 3 * ow;
                ic_resample_row_h(src, fmts[f], &ax, scratch, o, o + ow, o + 2 * ow);
            }
            ic_resample_portable_only = 0;
            assert_memory_equal(out, out + 3 * (size_t)ow, 3 * (size_t)ow);
        }
        free(out);
        free(scratch);
        free(src);
        free(mem);
    }
}

/* 4 -> 2 bicubic: scale 2, support 2 * 2 = 4, ss = 1/2. Output 0:
 * center 1.0, window [int(-2.5) -> 0, int(5.5) -> 4), filter arguments
 * (x - 1 + 0.5) / 2 = -0.25, 0.25, 0.75, 1.25, weights 111/128, 111/128,
 * 29/128, -9/128 (cubic convolution, a = -0.5), sum 242/128, normalised
 * to 111/242, 111/242, 29/242, -9/242, times 2^22 rounded away from 0:
 * 1923834, 1923834, 502623, -155987. Output 1 mirrors it. */
static void test_bicubic_halving_weights_by_hand(void **state)
{
    (void)state;
    void *mem;
    g_interp = IMGCLASS_INTERP_BICUBIC;
    ic_resample_axis a = make_axis(4, 2, 0, 2, &mem);
    g_interp = IMGCLASS_INTERP_BILINEAR;
    assert_int_equal(a.ksize, 9); /* ceil(4) * 2 + 1 */
    assert_int_equal(a.src_first, 0);
    assert_int_equal(a.src_end, 4);
    assert_int_equal(a.start[0], 0);
    assert_int_equal(a.taps[0], 4);
    const int32_t want0[] = {1923834, 1923834, 502623, -155987};
    for (int j = 0; j < 4; j++)
        assert_int_equal(a.coeffs[j], want0[j]);
    assert_int_equal(a.start[1], 0);
    assert_int_equal(a.taps[1], 4);
    for (int j = 0; j < 4; j++)
        assert_int_equal(a.coeffs[a.ksize + j], want0[3 - j]);
    /* [0, 0, 255, 255] -> (255 * 346636 + 2^21) >> 22 = 21 and
     * (255 * 3847668 + 2^21) >> 22 = 234, as Pillow gives. */
    uint8_t rgb[12] = {0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255};
    uint8_t r[2], g[2], b[2];
    uint8_t *scratch = malloc(ic_resample_row_scratch_bytes(&a));
    assert_non_null(scratch);
    for (int portable = 0; portable < 2; portable++) {
        ic_resample_portable_only = portable;
        ic_resample_row_h(rgb, IMGCLASS_PIXEL_RGB, &a, scratch, r, g, b);
        assert_int_equal(r[0], 21);
        assert_int_equal(r[1], 234);
        assert_int_equal(b[1], 234);
    }
    ic_resample_portable_only = 0;
    free(scratch);
    free(mem);
}

/* The cubic overshoots: sums below 0 and above 255 clip as Pillow's
 * clip8(). Expected values from Pillow 9.4:
 *   Image.fromarray(np.array([[10,10,10,250,250,250,10,10]], np.uint8))
 *        .resize((N, 1), Image.BICUBIC)
 * and the transposed column resized to (1, N), for both axes. */
static void check_bicubic_line(int out_n, const uint8_t *want, int vertical)
{
    static const uint8_t line[8] = {10, 10, 10, 250, 250, 250, 10, 10};
    uint8_t rgb[24];
    for (int i = 0; i < 8; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = line[i];
    g_interp = IMGCLASS_INTERP_BICUBIC;
    /* the same bytes read as 8 x 1 or as 1 x 8 */
    uint8_t *out = vertical ? resize_part(rgb, 1, 8, 1, out_n, 0, 1, 0, out_n)
                            : resize_part(rgb, 8, 1, out_n, 1, 0, out_n, 0, 1);
    g_interp = IMGCLASS_INTERP_BILINEAR;
    for (int c = 0; c < 3; c++)
        assert_memory_equal(out + (size_t)c * out_n, want, (size_t)out_n);
    free(out);
}

static void test_bicubic_clips_like_pillow(void **state)
{
    (void)state;
    static const uint8_t down5[5] = {5, 44, 255, 189, 0};
    static const uint8_t up13[13] = {10, 10, 10, 0, 64, 232, 255, 251, 255, 175, 15, 0, 10};
    for (int vertical = 0; vertical < 2; vertical++) {
        check_bicubic_line(5, down5, vertical);
        check_bicubic_line(13, up13, vertical);
    }
}

static void test_bicubic_window_invariants(void **state)
{
    g_interp = IMGCLASS_INTERP_BICUBIC;
    test_window_invariants(state);
    g_interp = IMGCLASS_INTERP_BILINEAR;
}

static void test_bicubic_partial_equals_full(void **state)
{
    g_interp = IMGCLASS_INTERP_BICUBIC;
    test_partial_equals_full(state);
    g_interp = IMGCLASS_INTERP_BILINEAR;
}

static void test_bicubic_constant_image_stays_constant(void **state)
{
    g_interp = IMGCLASS_INTERP_BICUBIC;
    test_constant_image_stays_constant(state);
    g_interp = IMGCLASS_INTERP_BILINEAR;
}

static void test_bicubic_simd_equals_portable(void **state)
{
    g_interp = IMGCLASS_INTERP_BICUBIC;
    test_simd_equals_portable(state);
    g_interp = IMGCLASS_INTERP_BILINEAR;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halving_weights_by_hand),
        cmocka_unit_test(test_identity_and_single_source),
        cmocka_unit_test(test_window_invariants),
        cmocka_unit_test(test_bilinear_values_by_hand),
        cmocka_unit_test(test_partial_equals_full),
        cmocka_unit_test(test_constant_image_stays_constant),
        cmocka_unit_test(test_simd_equals_portable),
        cmocka_unit_test(test_bicubic_halving_weights_by_hand),
        cmocka_unit_test(test_bicubic_clips_like_pillow),
        cmocka_unit_test(test_bicubic_window_invariants),
        cmocka_unit_test(test_bicubic_partial_equals_full),
        cmocka_unit_test(test_bicubic_constant_image_stays_constant),
        cmocka_unit_test(test_bicubic_simd_equals_portable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
