/* The YUV row conversion (lib/yuv_row.c): its AVX2 path gives the same
 * bytes as the portable one for every layout, matrix and range, any start
 * column (odd ones split a chroma pair) and any length (a tail shorter
 * than a block), with chroma and luma at their extremes; and the portable
 * path agrees with the formula computed here independently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "image_internal.h"
#include "imgclass.h"
#include "skip_note.h"
#include "yuv.h"
#include "yuv_row.h"

enum { W = 45, H = 6 }; /* odd width: the last chroma sample covers one pixel */

static uint32_t g_seed = 12345;
static uint8_t rnd8(void)
{
    g_seed = g_seed * 1103515245u + 12345u;
    /* a third of the samples at 0 or 255, where saturation and Y's clamp
     * at the offset are decided */
    const uint8_t v = (uint8_t)(g_seed >> 16);
    return v % 3 == 0 ? (v & 8 ? 255 : 0) : v;
}

static imgclass_image *make_frame(imgclass_pixel_format layout, imgclass_yuv_matrix matrix,
                                  imgclass_yuv_range range, uint8_t *buf, size_t size)
{
    for (size_t i = 0; i < size; i++)
        buf[i] = rnd8();
    const int cw = (W + 1) / 2;
    imgclass_yuv_frame f = imgclass_yuv_frame_default();
    f.layout = layout;
    f.matrix = matrix;
    f.range = range;
    f.width = W;
    f.height = H;
    f.planes[0] = buf;
    f.strides[0] = W;
    f.planes[1] = buf + W * H;
    const int semi = layout == IMGCLASS_PIXEL_NV12 || layout == IMGCLASS_PIXEL_NV21;
    f.strides[1] = semi ? 2 * (size_t)cw : (size_t)cw;
    f.planes[2] = semi ? NULL : buf + W * H + (size_t)cw * (H / 2);
    f.strides[2] = semi ? 0 : (size_t)cw;
    /* copy: the frame then lies in a buffer of exactly its size, so a
     * read past the last sample is seen by ASan and valgrind */
    imgclass_image *image = NULL;
    assert_int_equal(imgclass_image_wrap_yuv(&f, 1, &image), IMGCLASS_OK);
    return image;
}

static uint8_t sat(int32_t v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* The formula of yuv.c, one pixel at a time, from the frame's planes. */
static void by_formula(const imgclass_image *im, int y, int x, uint8_t out[3])
{
    const ic_yuv_coeffs *k = &im->coeffs;
    const size_t c = (size_t)(x / 2) * (size_t)im->chroma_step;
    const int32_t u = im->u[(size_t)(y / 2) * im->u_stride + c] - 128;
    const int32_t v = im->v[(size_t)(y / 2) * im->v_stride + c] - 128;
    int32_t yy = im->pixels[(size_t)y * im->stride + (size_t)x] - k->y_offset;
    yy = (yy < 0 ? 0 : yy) * k->cy + (1 << 19);
    out[0] = sat((yy + k->cvr * v) >> 20);
    out[1] = sat((yy + k->cvg * v + k->cug * u) >> 20);
    out[2] = sat((yy + k->cub * u) >> 20);
}

static void test_paths_agree_with_the_formula(void **state)
{
    (void)state;
    const int avx2 = __builtin_cpu_supports("avx2");
    static const imgclass_pixel_format layouts[] = {IMGCLASS_PIXEL_NV12, IMGCLASS_PIXEL_NV21,
                                                    IMGCLASS_PIXEL_I420, IMGCLASS_PIXEL_YV12};
    const size_t size = (size_t)W * H + 2 * (size_t)((W + 1) / 2) * (H / 2);
    uint8_t *buf = malloc(size);
    uint8_t *fast = malloc(4 * W + 4), *portable = malloc(4 * W + 4);
    assert_non_null(buf);
    assert_non_null(fast);
    assert_non_null(portable);
    int compared = 0;
    for (size_t l = 0; l < 4; l++)
        for (int m = 0; m < 2; m++)
            for (int r = 0; r < 2; r++) {
                imgclass_image *im = make_frame(layouts[l], (imgclass_yuv_matrix)m,
                                                (imgclass_yuv_range)r, buf, size);
                for (int y = 0; y < H; y++)
                    for (int x0 = 0; x0 < 4; x0++)
                        for (int n = 1; x0 + n <= W; n += 5) {
                            memset(fast, 0xAA, 4 * W);
                            memset(portable, 0x55, 4 * W);
                            ic_yuv_row_to_rgbx(im, y, x0, n, fast);
                            ic_yuv_portable_only = 1;
                            ic_yuv_row_to_rgbx(im, y, x0, n, portable);
                            ic_yuv_portable_only = 0;
                            for (int i = 0; i < n; i++) {
                                uint8_t want[3];
                                by_formula(im, y, x0 + i, want);
                                if (memcmp(portable + 4 * i, want, 3) || portable[4 * i + 3])
                                    fail_msg("layout %zu matrix %d range %d row %d pixel %d: "
                                             "portable %u,%u,%u,%u, formula %u,%u,%u,0",
                                             l, m, r, y, x0 + i, portable[4 * i],
                                             portable[4 * i + 1], portable[4 * i + 2],
                                             portable[4 * i + 3], want[0], want[1], want[2]);
                            }
                            if (memcmp(fast, portable, 4 * (size_t)n))
                                fail_msg("layout %zu matrix %d range %d row %d, pixels [%d, %d): "
                                         "the AVX2 path differs from the portable one",
                                         l, m, r, y, x0, x0 + n);
                            /* nothing written past the n pixels */
                            assert_int_equal(fast[4 * n], 0xAA);
                            compared++;
                        }
                imgclass_image_free(im);
            }
    assert_true(compared > 100);
    free(portable);
    free(fast);
    free(buf);
    if (!avx2)
        fx_skip("this CPU has no AVX2: the portable path was checked against the formula, "
                "the AVX2 path not at all");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_agree_with_the_formula),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
