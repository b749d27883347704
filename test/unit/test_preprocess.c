/* imgclass_preprocess*(): options and output sizes, crop geometry
 * (half-to-even offsets, padding split), normalisation, every pixel format
 * and stride of wrapped input, the fused decode path against load +
 * preprocess, and argument errors. Bit-exactness against torchvision
 * itself is test/parity/preprocess.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geometry.h"
#include "image_fixtures.h"
#include "imgclass.h"
#include "normalize.h"

static const float MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float STD[3] = {0.229f, 0.224f, 0.225f};

/* torchvision's definition, two float32 roundings. */
static float normalized(int c, int v)
{
    volatile float x = (float)v / 255.0f;
    volatile float y = (x - MEAN[c]) / STD[c];
    return y;
}

static imgclass_batch *batch_new(size_t n, int h, int w)
{
    imgclass_batch *b = NULL;
    assert_int_equal(imgclass_batch_create(n, h, w, &b), IMGCLASS_OK);
    return b;
}

static imgclass_image *wrap(const uint8_t *px, int w, int h, size_t stride,
                            imgclass_pixel_format f)
{
    imgclass_image *im = NULL;
    assert_int_equal(imgclass_image_wrap(px, w, h, stride, f, 1, &im), IMGCLASS_OK);
    return im;
}

static void test_option_presets(void **state)
{
    (void)state;
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    assert_int_equal(o.resize_mode, IMGCLASS_RESIZE_SHORTER);
    assert_int_equal(o.resize_size, 256);
    assert_int_equal(o.crop_width, 224);
    assert_int_equal(o.crop_height, 224);
    assert_int_equal(o.fast, 0);
    assert_int_equal(o.interpolation, IMGCLASS_INTERP_BILINEAR);
    for (int c = 0; c < 3; c++) {
        assert_true(o.mean[c] == MEAN[c]);
        assert_true(o.std[c] == STD[c]);
    }
    o = imgclass_preprocess_options_djl();
    assert_int_equal(o.resize_mode, IMGCLASS_RESIZE_EXACT);
    assert_int_equal(o.resize_width, 256);
    assert_int_equal(o.resize_height, 256);
    assert_int_equal(o.crop_width, 224);
    assert_int_equal(o.crop_height, 224);
}

static void test_output_size(void **state)
{
    (void)state;
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    int h = 0, w = 0;
    assert_int_equal(imgclass_preprocess_output_size(&o, 640, 480, &h, &w), IMGCLASS_OK);
    assert_int_equal(h, 224);
    assert_int_equal(w, 224);
    assert_int_equal(imgclass_preprocess_output_size(NULL, 1, 1, &h, &w), IMGCLASS_OK);
    o.crop_width = 300;
    o.crop_height = 100;
    assert_int_equal(imgclass_preprocess_output_size(&o, 5, 3000, &h, &w), IMGCLASS_OK);
    assert_int_equal(h, 100);
    assert_int_equal(w, 300);
    o = imgclass_preprocess_options_djl();
    o.crop_width = o.crop_height = 0;
    assert_int_equal(imgclass_preprocess_output_size(&o, 31, 7, &h, &w), IMGCLASS_OK);
    assert_int_equal(h, 256);
    assert_int_equal(w, 256);
    o.resize_mode = IMGCLASS_RESIZE_NONE;
    assert_int_equal(imgclass_preprocess_output_size(&o, 31, 7, &h, &w), IMGCLASS_OK);
    assert_int_equal(h, 7);
    assert_int_equal(w, 31);
}

static void test_invalid_options(void **state)
{
    (void)state;
    const imgclass_preprocess_options d = imgclass_preprocess_options_default();
    imgclass_preprocess_options bad[10];
    for (int i = 0; i < 10; i++)
        bad[i] = d;
    bad[0].resize_size = 0;
    bad[1].resize_mode = IMGCLASS_RESIZE_EXACT;
    bad[1].resize_width = -3;
    bad[2].crop_width = 0; /* 0 x 224 */
    bad[3].crop_width = bad[3].crop_height = 0; /* no crop after a shorter-side resize */
    bad[4].std[1] = 0.0f;
    bad[5].mean[2] = NAN;
    bad[6].std[0] = INFINITY;
    bad[7].resize_mode = (imgclass_resize_mode)7;
    bad[8].crop_height = -224;
    bad[9].interpolation = (imgclass_interpolation)2;
    int h = -1, w = -1;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(imgclass_preprocess_output_size(&bad[i], 640, 480, &h, &w),
                         IMGCLASS_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(imgclass_last_error(), "invalid argument"));
    }
    assert_int_equal(h, -1); /* untouched */
    assert_int_equal(imgclass_preprocess_output_size(&d, 0, 480, &h, &w),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_preprocess_output_size(&d, 640, 480, NULL, &w),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    /* 1 x 2^30: the long side would resize to 2^38 */
    assert_int_equal(imgclass_preprocess_output_size(&d, 1, 1 << 30, &h, &w),
                     IMGCLASS_ERR_TOO_LARGE);
}

static void test_crop_offsets(void **state)
{
    (void)state;
    assert_int_equal(ic_center_crop_offset(256, 224), 16);
    assert_int_equal(ic_center_crop_offset(224, 224), 0);
    assert_int_equal(ic_center_crop_offset(341, 224), 58); /* round(58.5) = 58 */
    assert_int_equal(ic_center_crop_offset(343, 224), 60); /* round(59.5) = 60 */
    assert_int_equal(ic_center_crop_offset(225, 224), 0);  /* round(0.5) = 0 */
    assert_int_equal(ic_center_crop_offset(227, 224), 2);  /* round(1.5) = 2 */
    assert_int_equal(ic_center_crop_offset(100, 224), -62);
    assert_int_equal(ic_center_crop_offset(101, 224), -61); /* left 61, right 62 */

    /* 1 x N: the short side becomes 256, the long one 256 * N */
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    ic_plan p;
    assert_int_equal(ic_plan_compute(&o, 1, 300, "t", &p), IMGCLASS_OK);
    assert_int_equal(p.x.resized, 256);
    assert_int_equal(p.y.resized, 76800);
    assert_int_equal(p.x.offset, 16);
    assert_int_equal(p.y.offset, (76800 - 224) / 2);
    assert_int_equal(p.y.count, 224);
    /* 500 x 375 -> 341 x 256 (floor(256 * 500 / 375) = 341) */
    assert_int_equal(ic_plan_compute(&o, 500, 375, "t", &p), IMGCLASS_OK);
    assert_int_equal(p.x.resized, 341);
    assert_int_equal(p.x.offset, 58);
}

static void test_lut_matches_direct_float(void **state)
{
    (void)state;
    ic_norm_lut t;
    ic_norm_lut_init(&t, MEAN, STD);
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) {
            float direct = normalized(c, v);
            assert_memory_equal(&t.lut[c][v], &direct, sizeof direct);
        }
}

/* A flat image gives lut[c][value] everywhere, whatever the resize: tiny
 * images that upscale, 1 x N, a size equal to the target. */
static void test_flat_images(void **state)
{
    (void)state;
    const int sizes[][2] = {{1, 1}, {2, 3}, {1, 300}, {300, 1}, {256, 256}, {224, 224},
                            {3000, 200}};
    imgclass_batch *b = batch_new(1, 224, 224);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        uint8_t *px = malloc((size_t)w * h * 3);
        assert_non_null(px);
        for (size_t i = 0; i < (size_t)w * h; i++) {
            px[3 * i] = 10;
            px[3 * i + 1] = 128;
            px[3 * i + 2] = 250;
        }
        imgclass_image *im = wrap(px, w, h, 0, IMGCLASS_PIXEL_RGB);
        assert_int_equal(imgclass_preprocess(im, NULL, b, 0), IMGCLASS_OK);
        const float *d = imgclass_batch_data_const(b);
        const int v[3] = {10, 128, 250};
        for (int c = 0; c < 3; c++) {
            float want = normalized(c, v[c]);
            for (size_t i = 0; i < 224 * 224; i++)
                assert_memory_equal(&d[(size_t)c * 224 * 224 + i], &want, sizeof want);
        }
        imgclass_image_free(im);
        free(px);
    }
    imgclass_batch_free(b);
}

/* An image already at the resize target is not resampled: the output is
 * the cropped source, here with the tie offsets of 256 x 343 (top
 * round(59.5) = 60) and 341 x 256 (left round(58.5) = 58). */
static void test_no_resample_crop_ties(void **state)
{
    (void)state;
    const int sizes[][2] = {{256, 343}, {341, 256}, {256, 300}};
    imgclass_batch *b = batch_new(1, 224, 224);
    for (size_t s = 0; s < 3; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        uint8_t *px = fx_pattern(w, h, 3, 5);
        assert_non_null(px);
        imgclass_image *im = wrap(px, w, h, 0, IMGCLASS_PIXEL_RGB);
        assert_int_equal(imgclass_preprocess(im, NULL, b, 0), IMGCLASS_OK);
        int top = ic_center_crop_offset(h, 224), left = ic_center_crop_offset(w, 224);
        if (s == 0)
            assert_int_equal(top, 60);
        if (s == 1)
            assert_int_equal(left, 58);
        const float *d = imgclass_batch_data_const(b);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224; x++) {
                    float want = normalized(c, px[((size_t)(y + top) * w + x + left) * 3 + c]);
                    assert_true(d[((size_t)c * 224 + y) * 224 + x] == want);
                }
        imgclass_image_free(im);
        free(px);
    }
    imgclass_batch_free(b);
}

/* No resize, crop larger than the image: torchvision pads with zeros,
 * (crop - size) // 2 before, the rest after; padding is lut[c][0]. */
static void test_padding(void **state)
{
    (void)state;
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    o.resize_mode = IMGCLASS_RESIZE_NONE;
    const int w = 101, h = 300; /* pad 61 left, 62 right; crop rows 38.. */
    uint8_t *px = fx_pattern(w, h, 3, 9);
    assert_non_null(px);
    imgclass_image *im = wrap(px, w, h, 0, IMGCLASS_PIXEL_RGB);
    imgclass_batch *b = batch_new(2, 224, 224);
    assert_int_equal(imgclass_preprocess(im, &o, b, 1), IMGCLASS_OK);
    const float *d = imgclass_batch_data_const(b) + 3 * 224 * 224;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 224; y++)
            for (int x = 0; x < 224; x++) {
                int sx = x - 61, sy = y + 38;
                int v = sx >= 0 && sx < w ? px[((size_t)sy * w + sx) * 3 + c] : 0;
                assert_true(d[((size_t)c * 224 + y) * 224 + x] == normalized(c, v));
            }
    /* slot 0 untouched */
    for (size_t i = 0; i < 3 * 224 * 224; i++)
        assert_true(imgclass_batch_data_const(b)[i] == 0.0f);
    imgclass_image_free(im);
    imgclass_batch_free(b);
    free(px);
}

/* Every layout and a padded stride give the bytes of the RGB original. */
static void test_pixel_formats_and_stride(void **state)
{
    (void)state;
    const int w = 123, h = 97;
    uint8_t *rgb = fx_pattern(w, h, 3, 3);
    assert_non_null(rgb);
    imgclass_batch *b = batch_new(2, 224, 224);
    const size_t n = 3 * 224 * 224;
    imgclass_image *ref = wrap(rgb, w, h, 0, IMGCLASS_PIXEL_RGB);
    assert_int_equal(imgclass_preprocess(ref, NULL, b, 0), IMGCLASS_OK);
    imgclass_image_free(ref);
    const imgclass_pixel_format fmts[] = {IMGCLASS_PIXEL_RGB, IMGCLASS_PIXEL_BGR,
                                          IMGCLASS_PIXEL_RGBA, IMGCLASS_PIXEL_BGRA};
    for (size_t f = 0; f < 4; f++) {
        int bpp = imgclass_pixel_format_bytes(fmts[f]);
        size_t stride = (size_t)w * bpp + 13;
        uint8_t *px = calloc((size_t)h, stride);
        assert_non_null(px);
        int bgr = fmts[f] == IMGCLASS_PIXEL_BGR || fmts[f] == IMGCLASS_PIXEL_BGRA;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const uint8_t *s = rgb + ((size_t)y * w + x) * 3;
                uint8_t *p = px + (size_t)y * stride + (size_t)x * bpp;
                p[0] = s[bgr ? 2 : 0];
                p[1] = s[1];
                p[2] = s[bgr ? 0 : 2];
                if (bpp == 4)
                    p[3] = (uint8_t)(x * 7 + y); /* alpha is dropped, not composited */
            }
        imgclass_image *im = wrap(px, w, h, stride, fmts[f]);
        assert_int_equal(imgclass_preprocess(im, NULL, b, 1), IMGCLASS_OK);
        assert_memory_equal(imgclass_batch_data_const(b),
                            imgclass_batch_data_const(b) + n, n * sizeof(float));
        imgclass_image_free(im);
        free(px);
    }
    /* Gray: the same as RGB with R = G = B. */
    uint8_t *gray = malloc((size_t)w * h), *grgb = malloc((size_t)w * h * 3);
    assert_non_null(gray);
    assert_non_null(grgb);
    for (size_t i = 0; i < (size_t)w * h; i++)
        gray[i] = grgb[3 * i] = grgb[3 * i + 1] = grgb[3 * i + 2] = rgb[3 * i + 1];
    imgclass_image *g = wrap(gray, w, h, 0, IMGCLASS_PIXEL_GRAY);
    imgclass_image *gr = wrap(grgb, w, h, 0, IMGCLASS_PIXEL_RGB);
    assert_int_equal(imgclass_preprocess(g, NULL, b, 0), IMGCLASS_OK);
    assert_int_equal(imgclass_preprocess(gr, NULL, b, 1), IMGCLASS_OK);
    assert_memory_equal(imgclass_batch_data_const(b), imgclass_batch_data_const(b) + n,
                        n * sizeof(float));
    imgclass_image_free(g);
    imgclass_image_free(gr);
    free(gray);
    free(grgb);
    imgclass_batch_free(b);
    free(rgb);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    uint8_t px[3 * 4 * 4] = {0};
    imgclass_image *im = wrap(px, 4, 4, 0, IMGCLASS_PIXEL_RGB);
    imgclass_batch *b = batch_new(2, 224, 224), *small = batch_new(1, 200, 224);
    assert_int_equal(imgclass_preprocess(NULL, NULL, b, 0), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_preprocess(im, NULL, NULL, 0), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_preprocess(im, NULL, b, 2), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "out of range"));
    assert_int_equal(imgclass_preprocess(im, NULL, small, 0), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "does not match"));
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    o.std[0] = 0.0f;
    assert_int_equal(imgclass_preprocess(im, &o, b, 0), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_preprocess_memory(NULL, 10, NULL, NULL, b, 0),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_preprocess_memory(px, sizeof px, NULL, NULL, b, 5),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_preprocess_file(NULL, NULL, NULL, b, 0),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_preprocess_file("/nonexistent/x.jpg", NULL, NULL, b, 0),
                     IMGCLASS_ERR_IO);
    assert_non_null(strstr(imgclass_last_error(), "/nonexistent/x.jpg"));
    /* not an image */
    assert_true(imgclass_preprocess_memory("hello, world", 12, NULL, NULL, b, 0) != IMGCLASS_OK);
    assert_non_null(strstr(imgclass_last_error(), "memory buffer"));
    /* all slots still zero */
    for (size_t i = 0; i < 2 * 3 * 224 * 224; i++)
        assert_true(imgclass_batch_data_const(b)[i] == 0.0f);
    imgclass_image_free(im);
    imgclass_batch_free(b);
    imgclass_batch_free(small);
}

/* The fused path (region decoding) equals load + preprocess bit for bit. */
static void check_fused(const unsigned char *data, size_t size,
                        const imgclass_preprocess_options *o, int h, int w)
{
    imgclass_batch *b = batch_new(2, h, w);
    imgclass_image *im = NULL;
    assert_int_equal(imgclass_image_load_memory(data, size, NULL, &im), IMGCLASS_OK);
    assert_int_equal(imgclass_preprocess(im, o, b, 0), IMGCLASS_OK);
    assert_int_equal(imgclass_preprocess_memory(data, size, NULL, o, b, 1), IMGCLASS_OK);
    size_t n = 3 * (size_t)h * w;
    assert_memory_equal(imgclass_batch_data_const(b), imgclass_batch_data_const(b) + n,
                        n * sizeof(float));
    imgclass_image_free(im);
    imgclass_batch_free(b);
}

static void test_fused_equals_load_then_preprocess(void **state)
{
    (void)state;
    const int sizes[][2] = {{500, 375}, {333, 517}, {97, 61}, {1200, 300}, {256, 343}};
    const fx_jpeg_params params[] = {{90, 2, 2, 0, 0}, {90, 2, 1, 1, 0}, {85, 1, 1, 0, 2}};
    imgclass_preprocess_options djl = imgclass_preprocess_options_djl();
    imgclass_preprocess_options none = imgclass_preprocess_options_default();
    none.resize_mode = IMGCLASS_RESIZE_NONE;
    /* Bicubic windows reach twice as far: the decoded region must grow. */
    imgclass_preprocess_options cubic = imgclass_preprocess_options_default();
    cubic.interpolation = IMGCLASS_INTERP_BICUBIC;
    imgclass_preprocess_options cubic_djl = djl;
    cubic_djl.interpolation = IMGCLASS_INTERP_BICUBIC;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int w = sizes[s][0], h = sizes[s][1];
        uint8_t *px = fx_pattern(w, h, 3, (unsigned)s + 11);
        assert_non_null(px);
        for (size_t p = 0; p < 3; p++) {
            size_t n;
            unsigned char *jpg = fx_encode_jpeg(px, w, h, 3, &params[p], 0, &n);
            assert_non_null(jpg);
            check_fused(jpg, n, NULL, 224, 224);
            check_fused(jpg, n, &djl, 224, 224);
            check_fused(jpg, n, &none, 224, 224);
            check_fused(jpg, n, &cubic, 224, 224);
            check_fused(jpg, n, &cubic_djl, 224, 224);
            free(jpg);
        }
        size_t n;
        unsigned char *gray = fx_encode_jpeg(px, w, h, 1, &params[0], 0, &n);
        unsigned char *png = fx_encode_stb('p', px, w, h, 3, &n);
        assert_non_null(gray);
        assert_non_null(png);
        check_fused(png, n, NULL, 224, 224);
        size_t ng;
        free(gray);
        gray = fx_encode_jpeg(px, w, h, 1, &params[1], 0, &ng);
        assert_non_null(gray);
        check_fused(gray, ng, NULL, 224, 224);
        free(png);
        free(gray);
        free(px);
    }
}

/* Fast mode decodes a large JPEG at reduced DCT scale (here 1/4, as
 * Pillow's draft() would): different from exact, but close on average. */
static void test_fast_mode_is_close(void **state)
{
    (void)state;
    const int w = 1600, h = 1200;
    uint8_t *px = malloc((size_t)w * h * 3); /* smooth, photo-like content */
    assert_non_null(px);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                px[((size_t)y * w + x) * 3 + c] =
                    (uint8_t)(128 + 100 * sin(x / (30.0 + 9 * c)) * cos(y / 47.0));
    const fx_jpeg_params jp = {90, 2, 2, 0, 0};
    size_t n;
    unsigned char *jpg = fx_encode_jpeg(px, w, h, 3, &jp, 0, &n);
    assert_non_null(jpg);
    imgclass_preprocess_options o = imgclass_preprocess_options_default();
    imgclass_batch *b = batch_new(2, 224, 224);
    assert_int_equal(imgclass_preprocess_memory(jpg, n, NULL, &o, b, 0), IMGCLASS_OK);
    o.fast = 1;
    assert_int_equal(imgclass_preprocess_memory(jpg, n, NULL, &o, b, 1), IMGCLASS_OK);
    const float *d = imgclass_batch_data_const(b);
    double sum = 0;
    const size_t m = 3 * 224 * 224;
    for (size_t i = 0; i < m; i++)
        sum += fabs(d[i] - d[m + i]);
    print_message("fast vs exact: mean |diff| %.4f normalised\n", sum / m);
    assert_true(sum > 0); /* the reduced-scale path was taken */
    /* mean under 2 levels (1 level ~ 0.0175 normalised); the photos of
     * docs/preprocessing.md average 1-3 levels where fast mode applies */
    assert_true(sum / m < 2 * 0.0175);
    free(jpg);
    free(px);
    imgclass_batch_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_presets),
        cmocka_unit_test(test_output_size),
        cmocka_unit_test(test_invalid_options),
        cmocka_unit_test(test_crop_offsets),
        cmocka_unit_test(test_lut_matches_direct_float),
        cmocka_unit_test(test_flat_images),
        cmocka_unit_test(test_no_resample_crop_ties),
        cmocka_unit_test(test_padding),
        cmocka_unit_test(test_pixel_formats_and_stride),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_fused_equals_load_then_preprocess),
        cmocka_unit_test(test_fast_mode_is_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
