/* Pillow 9.4's BILINEAR and BICUBIC resample (libImaging/Resample.c),
 * exactly.
 *
 * The weights are computed with the same double arithmetic, in the same
 * order, as Pillow's precompute_coeffs() + normalize_coeffs_8bpc(), so they
 * are the same 22-bit integers; the sums are exact integer arithmetic. The
 * compiler must not contract the double expressions into FMAs: GCC in ISO
 * C mode (-std=c11, as the Makefile builds) does not; clang honours the
 * pragma. */
#include "resample.h"

#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Pillow's filters: the triangle (support 1) and the cubic convolution
 * with a = -0.5 (support 2), the same double expressions as Pillow's. */
static double bilinear_filter(double x)
{
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return 1.0 - x;
    return 0.0;
}

static double bicubic_filter(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static double filter_support(imgclass_interpolation interp)
{
    return interp == IMGCLASS_INTERP_BICUBIC ? 2.0 : 1.0;
}

/* Pillow's `scale` (from the float box width) and `support`. */
static void axis_scale(int in_size, int out_size, imgclass_interpolation interp, double *scale,
                       double *filterscale, double *support)
{
    *scale = (double)(float)in_size / out_size;
    *filterscale = *scale < 1.0 ? 1.0 : *scale;
    *support = filter_support(interp) * *filterscale;
}

static int axis_ksize(int in_size, int out_size, imgclass_interpolation interp)
{
    if (in_size == out_size)
        return 1;
    double scale, filterscale, support;
    axis_scale(in_size, out_size, interp, &scale, &filterscale, &support);
    return (int)ceil(support) * 2 + 1;
}

size_t ic_resample_axis_bytes(int in_size, int out_size, int count, imgclass_interpolation interp)
{
    size_t k = (size_t)axis_ksize(in_size, out_size, interp);
    /* the double scratch first (alignment), then coeffs, start, taps */
    return k * sizeof(double) + (size_t)count * (k * sizeof(int32_t) + 2 * sizeof(int));
}

/* Pillow's window [xmin, xmax) of output xx. */
static void window(int in_size, double scale, double support, int xx, int *lo, int *hi)
{
    const double center = 0.0 + (xx + 0.5) * scale;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0)
        xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > in_size)
        xmax = in_size;
    *lo = xmin;
    *hi = xmax;
}

void ic_resample_axis_span(int in_size, int out_size, int first, int count,
                           imgclass_interpolation interp, int *src_first, int *src_end)
{
    if (in_size == out_size) {
        *src_first = first;
        *src_end = first + count;
        return;
    }
    double scale, filterscale, support;
    axis_scale(in_size, out_size, interp, &scale, &filterscale, &support);
    int lo, hi;
    window(in_size, scale, support, first, src_first, &hi);
    window(in_size, scale, support, first + count - 1, &lo, src_end);
}

void ic_resample_axis_init(ic_resample_axis *a, int in_size, int out_size, int first, int count,
                           imgclass_interpolation interp, void *mem)
{
    const int ksize = axis_ksize(in_size, out_size, interp);
    double *w = mem;
    a->count = count;
    a->ksize = ksize;
    a->coeffs = (int32_t *)(w + ksize);
    a->start = (int *)(a->coeffs + (size_t)count * ksize);
    a->taps = a->start + count;

    if (in_size == out_size) {
        for (int i = 0; i < count; i++) {
            a->start[i] = i;
            a->taps[i] = 1;
            a->coeffs[i] = (int32_t)1 << IC_PRECISION_BITS;
        }
        a->src_first = first;
        a->src_end = first + count;
        return;
    }

    /* precompute_coeffs(), with box (0, in_size) given as floats. */
    double scale, filterscale, support;
    axis_scale(in_size, out_size, interp, &scale, &filterscale, &support);
    const double ss = 1.0 / filterscale;
    double (*filter)(double) =
        interp == IMGCLASS_INTERP_BICUBIC ? bicubic_filter : bilinear_filter;
    for (int i = 0; i < count; i++) {
        const int xx = first + i;
        const double center = 0.0 + (xx + 0.5) * scale;
        int xmin, xmax;
        window(in_size, scale, support, xx, &xmin, &xmax);
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
            double v = filter((x + xmin - center + 0.5) * ss);
            w[x] = v;
            ww += v;
        }
        int32_t *k = a->coeffs + (size_t)i * ksize;
        for (int x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            /* normalize_coeffs_8bpc(): cubic weights can be < 0 */
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << IC_PRECISION_BITS))
                         : (int32_t)(0.5 + v * (1 << IC_PRECISION_BITS));
        }
        for (int x = xmax; x < ksize; x++)
            k[x] = 0;
        a->start[i] = xmin;
        a->taps[i] = xmax;
    }
    /* Windows move right monotonically: the first output starts leftmost,
     * the last ends rightmost. */
    a->src_first = a->start[0];
    a->src_end = a->start[count - 1] + a->taps[count - 1];
    for (int i = 0; i < count; i++)
        a->start[i] -= a->src_first;
}

static inline uint8_t clip8(int32_t v)
{
    v >>= IC_PRECISION_BITS;
    return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* Integer SIMD makes these loops several times faster and stays exact;
 * x86-64's baseline (SSE2) lacks a 32-bit multiply, so build an AVX2 clone
 * too and let the loader pick (GCC function multiversioning). */
/* Not under ThreadSanitizer: the clones' ifunc resolver runs before TSan's
 * runtime is set up and crashes at load. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && \
    !defined(__SANITIZE_THREAD__)
#define IC_MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define IC_MULTIVERSION
#endif

/* The horizontal pass gathers window pixels with AVX2 where the CPU has it
 * (checked at run time); elsewhere it runs the portable code. */
#if defined(__x86_64__) && defined(__GNUC__)
#define IC_HAVE_AVX2_PATH 1
#include <immintrin.h>
#else
#define IC_HAVE_AVX2_PATH 0
#endif

int ic_resample_portable_only = 0;

size_t ic_resample_row_scratch_bytes(const ic_resample_axis *a)
{
    /* three planar rows with ksize zero pixels after each, or one RGBX row */
    return 4 * ((size_t)(a->src_end - a->src_first) + (size_t)a->ksize + 1);
}

/* convert("RGB") of n pixels into three planes. */
static inline __attribute__((always_inline)) void
split(const uint8_t *row, int n, int bpp, int ro, int go, int bo, uint8_t *restrict r,
      uint8_t *restrict g, uint8_t *restrict b)
{
    for (int x = 0; x < n; x++, row += bpp) {
        r[x] = row[ro];
        g[x] = row[go];
        b[x] = row[bo];
    }
}

static void split_row(const uint8_t *row, imgclass_pixel_format format, int n, uint8_t *r,
                      uint8_t *g, uint8_t *b)
{
    switch (format) {
    case IMGCLASS_PIXEL_BGR: split(row, n, 3, 2, 1, 0, r, g, b); break;
    case IMGCLASS_PIXEL_RGBA: split(row, n, 4, 0, 1, 2, r, g, b); break;
    case IMGCLASS_PIXEL_BGRA: split(row, n, 4, 2, 1, 0, r, g, b); break;
    case IMGCLASS_PIXEL_GRAY:
        memcpy(r, row, (size_t)n);
        memcpy(g, row, (size_t)n);
        memcpy(b, row, (size_t)n);
        break;
    case IMGCLASS_PIXEL_RGB:
    default: split(row, n, 3, 0, 1, 2, r, g, b); break;
    }
}

/* One output pixel per window, three channels at once (independent sums
 * keep the multipliers busy); KS, the slot count, is a constant after
 * inlining so the tap loop unrolls. Slots past a window's taps hold 0 and
 * read the zero padding after the row, so they add nothing. */
static inline __attribute__((always_inline)) void
conv_fixed(const uint8_t *restrict pr, const uint8_t *restrict pg, const uint8_t *restrict pb,
           const ic_resample_axis *a, uint8_t *restrict r, uint8_t *restrict g,
           uint8_t *restrict b, const int KS)
{
    for (int i = 0; i < a->count; i++) {
        const int32_t *k = a->coeffs + (size_t)i * KS;
        const int o = a->start[i];
        int32_t s0 = 1 << (IC_PRECISION_BITS - 1), s1 = s0, s2 = s0;
#pragma GCC unroll 16
        for (int j = 0; j < KS; j++) {
            s0 += pr[o + j] * k[j];
            s1 += pg[o + j] * k[j];
            s2 += pb[o + j] * k[j];
        }
        r[i] = clip8(s0);
        g[i] = clip8(s1);
        b[i] = clip8(s2);
    }
}

static void conv_rgb(const uint8_t *pr, const uint8_t *pg, const uint8_t *pb,
                     const ic_resample_axis *a, uint8_t *r, uint8_t *g, uint8_t *b)
{
    switch (a->ksize) {
    case 1: /* identity: start[i] == i */
        memcpy(r, pr, (size_t)a->count);
        memcpy(g, pg, (size_t)a->count);
        memcpy(b, pb, (size_t)a->count);
        return;
    case 3: conv_fixed(pr, pg, pb, a, r, g, b, 3); return;
    case 5: conv_fixed(pr, pg, pb, a, r, g, b, 5); return;
    case 7: conv_fixed(pr, pg, pb, a, r, g, b, 7); return;
    case 9: conv_fixed(pr, pg, pb, a, r, g, b, 9); return;
    /* Other sizes: the same loop with a run-time trip count. Weights past
     * `taps` are 0 and the rows carry ksize zero bytes of padding, so
     * running all ksize slots reads in bounds and adds nothing. */
    default: conv_fixed(pr, pg, pb, a, r, g, b, a->ksize); return;
    }
}

#if IC_HAVE_AVX2_PATH
/* convert("RGB") of n pixels into R, G, B, 0 quadruples. */
static inline __attribute__((always_inline)) void
to_rgbx(const uint8_t *row, int n, int bpp, int ro, int go, int bo, uint8_t *restrict q)
{
    for (int x = 0; x < n; x++, row += bpp, q += 4) {
        q[0] = row[ro];
        q[1] = row[go];
        q[2] = row[bo];
        q[3] = 0;
    }
}

static void rgbx_row(const uint8_t *row, imgclass_pixel_format format, int n, uint8_t *q)
{
    switch (format) {
    case IMGCLASS_PIXEL_BGR: to_rgbx(row, n, 3, 2, 1, 0, q); break;
    case IMGCLASS_PIXEL_RGBA: to_rgbx(row, n, 4, 0, 1, 2, q); break;
    case IMGCLASS_PIXEL_BGRA: to_rgbx(row, n, 4, 2, 1, 0, q); break;
    case IMGCLASS_PIXEL_GRAY: to_rgbx(row, n, 1, 0, 0, 0, q); break;
    case IMGCLASS_PIXEL_RGB:
    default: to_rgbx(row, n, 3, 0, 1, 2, q); break;
    }
}

/* One output pixel per step, its R, G, B (and the zero X) side by side:
 * two window pixels at a time are widened to 8 x int32 and multiplied by
 * their two weights (exact 32-bit products), an odd last one in 128 bits.
 * No gathers: they are slow on CPUs with the Gather Data Sampling
 * mitigation. Reads stay inside each window. */
__attribute__((target("avx2"))) static inline __m128i
window_sum(const uint8_t *q, const ic_resample_axis *a, int i)
{
    const __m256i pairsel = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
    const int32_t *k = a->coeffs + (size_t)i * a->ksize;
    const uint8_t *p = q + 4 * (size_t)a->start[i];
    const int n = a->taps[i];
    __m256i acc = _mm256_setzero_si256();
    int j = 0;
    for (; j + 2 <= n; j += 2) {
        const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 4 * j)));
        const __m256i kk = _mm256_permutevar8x32_epi32(
            _mm256_castsi128_si256(_mm_loadl_epi64((const __m128i *)(k + j))), pairsel);
        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(v, kk));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_set1_epi32(1 << (IC_PRECISION_BITS - 1)));
    if (j < n) {
        int32_t px;
        memcpy(&px, p + 4 * j, 4);
        const __m128i v = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(px));
        s = _mm_add_epi32(s, _mm_mullo_epi32(v, _mm_set1_epi32(k[j])));
    }
    return _mm_srai_epi32(s, IC_PRECISION_BITS); /* R, G, B, X >> 22 */
}

/* Each output pixel's R, G, B (and the zero X) side by side: two window
 * pixels at a time are widened to 8 x int32 and multiplied by their two
 * weights (exact 32-bit products), an odd last one in 128 bits; four
 * outputs are then saturated to 0..255 and split into planes together.
 * No gathers: they are slow on CPUs with the Gather Data Sampling
 * mitigation. Reads stay inside each window. */
__attribute__((target("avx2"))) static void
conv_rgbx_avx2(const uint8_t *q, const ic_resample_axis *a, uint8_t *r, uint8_t *g, uint8_t *b)
{
    const int count = a->count;
    /* RGBX x 4 -> RRRR GGGG BBBB XXXX */
    const __m128i planar = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    int i = 0;
    for (; i + 4 <= count; i += 4) {
        const __m128i s0 = window_sum(q, a, i), s1 = window_sum(q, a, i + 1);
        const __m128i s2 = window_sum(q, a, i + 2), s3 = window_sum(q, a, i + 3);
        /* saturating packs clip as Pillow's clip8(): cubic sums can be
         * negative (-> 0) or above 255 (-> 255) */
        __m128i v = _mm_packus_epi16(_mm_packus_epi32(s0, s1), _mm_packus_epi32(s2, s3));
        v = _mm_shuffle_epi8(v, planar);
        uint32_t w;
        w = (uint32_t)_mm_cvtsi128_si32(v);
        memcpy(r + i, &w, 4);
        w = (uint32_t)_mm_extract_epi32(v, 1);
        memcpy(g + i, &w, 4);
        w = (uint32_t)_mm_extract_epi32(v, 2);
        memcpy(b + i, &w, 4);
    }
    for (; i < count; i++) {
        __m128i v = window_sum(q, a, i);
        v = _mm_packus_epi16(_mm_packus_epi32(v, v), v);
        const uint32_t rgbx = (uint32_t)_mm_cvtsi128_si32(v);
        r[i] = (uint8_t)rgbx;
        g[i] = (uint8_t)(rgbx >> 8);
        b[i] = (uint8_t)(rgbx >> 16);
    }
}
#endif

void ic_resample_row_h(const uint8_t *row, imgclass_pixel_format format, const ic_resample_axis *a,
                       uint8_t *scratch, uint8_t *r, uint8_t *g, uint8_t *b)
{
#if IC_HAVE_AVX2_PATH
    /* Identity rows (ksize 1) are plain copies, below. */
    if (a->ksize > 1 && !ic_resample_portable_only && __builtin_cpu_supports("avx2")) {
        const int n = a->src_end - a->src_first;
        rgbx_row(row, format, n, scratch);
        conv_rgbx_avx2(scratch, a, r, g, b);
        return;
    }
#endif
    const int n = a->src_end - a->src_first;
    const size_t len = (size_t)n + (size_t)a->ksize;
    uint8_t *pr = scratch, *pg = scratch + len, *pb = scratch + 2 * len;
    split_row(row, format, n, pr, pg, pb);
    memset(pr + n, 0, (size_t)a->ksize);
    memset(pg + n, 0, (size_t)a->ksize);
    memset(pb + n, 0, (size_t)a->ksize);
    conv_rgb(pr, pg, pb, a, r, g, b);
}

void ic_resample_row_h_rgbx(const uint8_t *rgbx, const ic_resample_axis *a, uint8_t *scratch,
                            uint8_t *r, uint8_t *g, uint8_t *b)
{
#if IC_HAVE_AVX2_PATH
    if (a->ksize > 1 && !ic_resample_portable_only && __builtin_cpu_supports("avx2")) {
        conv_rgbx_avx2(rgbx, a, r, g, b);
        return;
    }
#endif
    ic_resample_row_h(rgbx, IMGCLASS_PIXEL_RGBA, a, scratch, r, g, b);
}

enum { COL_CHUNK = 32 };

/* COL_CHUNK columns: constant trip counts and local accumulators, which
 * the vectoriser handles even at -O2's cheap cost model. */
static inline __attribute__((always_inline)) void
col_chunk(const uint8_t *const *rows, size_t x0, const int32_t *k, int n, uint8_t *restrict out)
{
    int32_t acc[COL_CHUNK];
    for (int x = 0; x < COL_CHUNK; x++)
        acc[x] = 1 << (IC_PRECISION_BITS - 1);
    for (int j = 0; j < n; j++) {
        const uint8_t *restrict p = rows[j] + x0;
        const int32_t kj = k[j];
        for (int x = 0; x < COL_CHUNK; x++)
            acc[x] += p[x] * kj;
    }
    for (int x = 0; x < COL_CHUNK; x++) {
        int32_t v = acc[x] >> IC_PRECISION_BITS;
        out[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

IC_MULTIVERSION
void ic_resample_col_v(const uint8_t *const *rows, const ic_resample_axis *a, int i, int width,
                       uint8_t *out)
{
    const int32_t *k = a->coeffs + (size_t)i * a->ksize;
    const int n = a->taps[i];
    if (n == 1 && k[0] == (int32_t)1 << IC_PRECISION_BITS) { /* identity */
        memcpy(out, rows[0], (size_t)width);
        return;
    }
    size_t x = 0;
    for (; x + COL_CHUNK <= (size_t)width; x += COL_CHUNK)
        col_chunk(rows, x, k, n, out + x);
    for (; x < (size_t)width; x++) {
        int32_t s = 1 << (IC_PRECISION_BITS - 1);
        for (int j = 0; j < n; j++)
            s += rows[j][x] * k[j];
        out[x] = clip8(s);
    }
}
