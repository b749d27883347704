/* The row conversion of YUV 4:2:0 frames (the formula and its constants:
 * yuv.c), portable and with AVX2, bit-identical: the same 32-bit integer
 * operations in the same order, eight pixels at a time.
 *
 * It writes R,G,B,0 quadruples rather than R,G,B triples: the horizontal
 * resize works on such quadruples, so the frame reaches it with one
 * conversion, and eight quadruples are one 256-bit store. */
#include "yuv_row.h"

#include "image_internal.h" /* the layout of a wrapped frame */
#include "yuv.h"

#include <stdint.h>
#include <string.h>

enum { YUV_SHIFT = 20 };

int ic_yuv_portable_only = 0;

static inline uint8_t sat8(int32_t v)
{
    v = v < 0 ? 0 : v;
    return (uint8_t)(v > 255 ? 255 : v);
}

/* The row's planes and constants, set up once per call. */
typedef struct row_ctx {
    const uint8_t *y, *u, *v;
    size_t step; /* bytes between chroma samples: 2 interleaved, 1 planar */
    int32_t cy, cvr, cvg, cug, cub, off;
} row_ctx;

static row_ctx row_setup(const imgclass_image *image, int y)
{
    const ic_yuv_coeffs *k = &image->coeffs;
    row_ctx r = {image->pixels + (size_t)y * image->stride,
                 image->u + (size_t)(y / 2) * image->u_stride,
                 image->v + (size_t)(y / 2) * image->v_stride,
                 (size_t)image->chroma_step,
                 k->cy, k->cvr, k->cvg, k->cug, k->cub, k->y_offset};
    return r;
}

/* Pixels [x, end) with plain C; returns where rgbx ends. */
static uint8_t *rows_portable(const row_ctx *r, int x, int end, uint8_t *rgbx)
{
    const int32_t half = 1 << (YUV_SHIFT - 1);
    /* Two pixels share a chroma sample: its three terms are computed once
     * per pair. */
    while (x < end) {
        const size_t c = (size_t)(x >> 1) * r->step;
        const int32_t u = (int32_t)r->u[c] - 128, v = (int32_t)r->v[c] - 128;
        const int32_t ruv = half + r->cvr * v, guv = half + r->cvg * v + r->cug * u,
                      buv = half + r->cub * u;
        const int last = (x | 1) < end ? (x | 1) : end - 1;
        for (; x <= last; x++, rgbx += 4) {
            int32_t yy = (int32_t)r->y[x] - r->off;
            yy = (yy & ~(yy >> 31)) * r->cy; /* max(0, yy) without a branch */
            /* >> of a negative int is arithmetic with GCC and Clang, as
             * OpenCV relies on too. */
            rgbx[0] = sat8((yy + ruv) >> YUV_SHIFT);
            rgbx[1] = sat8((yy + guv) >> YUV_SHIFT);
            rgbx[2] = sat8((yy + buv) >> YUV_SHIFT);
            rgbx[3] = 0;
        }
    }
    return rgbx;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define IC_YUV_AVX2 1

/* Four chroma samples from sample index c on, widened to int32; gathered
 * byte by byte, so no load reaches past the last sample (an NV21 U
 * pointer is one byte into the plane). */
__attribute__((target("avx2"))) static inline __m128i chroma4(const uint8_t *p, size_t c,
                                                              size_t step)
{
    const uint8_t *q = p + c * step;
    return _mm_setr_epi32(q[0], q[step], q[2 * step], q[3 * step]);
}

/* Pixels [x, x + 8 * blocks) for an even x: per block, eight Y samples and
 * the four chroma samples they share; each lane computes what the
 * portable loop computes for its pixel. */
__attribute__((target("avx2"))) static uint8_t *rows_avx2(const row_ctx *r, int x, int blocks,
                                                          uint8_t *rgbx)
{
    const __m128i c128 = _mm_set1_epi32(128), half = _mm_set1_epi32(1 << (YUV_SHIFT - 1));
    const __m128i cvr = _mm_set1_epi32(r->cvr), cvg = _mm_set1_epi32(r->cvg);
    const __m128i cug = _mm_set1_epi32(r->cug), cub = _mm_set1_epi32(r->cub);
    const __m256i cy = _mm256_set1_epi32(r->cy), off = _mm256_set1_epi32(r->off);
    const __m256i zero = _mm256_setzero_si256(), max8 = _mm256_set1_epi32(255);
    const __m256i pairs = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
    for (int b = 0; b < blocks; b++, x += 8, rgbx += 32) {
        const size_t c = (size_t)(x >> 1);
        const __m128i u = _mm_sub_epi32(chroma4(r->u, c, r->step), c128);
        const __m128i v = _mm_sub_epi32(chroma4(r->v, c, r->step), c128);
        const __m128i ruv4 = _mm_add_epi32(half, _mm_mullo_epi32(cvr, v));
        const __m128i guv4 =
            _mm_add_epi32(_mm_add_epi32(half, _mm_mullo_epi32(cvg, v)), _mm_mullo_epi32(cug, u));
        const __m128i buv4 = _mm_add_epi32(half, _mm_mullo_epi32(cub, u));
        /* each chroma term to the two pixels that share it */
        const __m256i ruv = _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(ruv4), pairs);
        const __m256i guv = _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(guv4), pairs);
        const __m256i buv = _mm256_permutevar8x32_epi32(_mm256_castsi128_si256(buv4), pairs);
        const __m256i y8 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(r->y + x)));
        const __m256i yy = _mm256_mullo_epi32(_mm256_max_epi32(_mm256_sub_epi32(y8, off), zero), cy);
        const __m256i rr = _mm256_min_epi32(
            _mm256_max_epi32(_mm256_srai_epi32(_mm256_add_epi32(yy, ruv), YUV_SHIFT), zero), max8);
        const __m256i gg = _mm256_min_epi32(
            _mm256_max_epi32(_mm256_srai_epi32(_mm256_add_epi32(yy, guv), YUV_SHIFT), zero), max8);
        const __m256i bb = _mm256_min_epi32(
            _mm256_max_epi32(_mm256_srai_epi32(_mm256_add_epi32(yy, buv), YUV_SHIFT), zero), max8);
        const __m256i px = _mm256_or_si256(
            rr, _mm256_or_si256(_mm256_slli_epi32(gg, 8), _mm256_slli_epi32(bb, 16)));
        _mm256_storeu_si256((__m256i *)(void *)rgbx, px);
    }
    return rgbx;
}
#else
#define IC_YUV_AVX2 0
#endif

void ic_yuv_row_to_rgbx(const imgclass_image *image, int y, int x0, int n, uint8_t *rgbx)
{
    const row_ctx r = row_setup(image, y);
    int x = x0;
    const int end = x0 + n;
#if IC_YUV_AVX2
    if (!ic_yuv_portable_only && __builtin_cpu_supports("avx2")) {
        /* An odd first pixel alone, so that each block starts a chroma
         * pair; the blocks; the last few pixels in plain C. */
        if ((x & 1) && x < end) {
            rgbx = rows_portable(&r, x, x + 1, rgbx);
            x++;
        }
        const int blocks = (end - x) / 8;
        rgbx = rows_avx2(&r, x, blocks, rgbx);
        x += 8 * blocks;
    }
#endif
    rows_portable(&r, x, end, rgbx);
}
