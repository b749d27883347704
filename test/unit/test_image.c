/* imgclass_image_*: loading from files and memory, wrapping caller pixels,
 * accessors, and the errors each can give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_fixtures.h"
#include "imgclass.h"

static void test_defaults_and_format_bytes(void **state)
{
    (void)state;
    assert_int_equal(imgclass_decode_options_default().max_pixels, IMGCLASS_DEFAULT_MAX_PIXELS);
    assert_int_equal(imgclass_pixel_format_bytes(IMGCLASS_PIXEL_RGB), 3);
    assert_int_equal(imgclass_pixel_format_bytes(IMGCLASS_PIXEL_BGR), 3);
    assert_int_equal(imgclass_pixel_format_bytes(IMGCLASS_PIXEL_RGBA), 4);
    assert_int_equal(imgclass_pixel_format_bytes(IMGCLASS_PIXEL_BGRA), 4);
    assert_int_equal(imgclass_pixel_format_bytes(IMGCLASS_PIXEL_GRAY), 1);
    assert_int_equal(imgclass_pixel_format_bytes((imgclass_pixel_format)99), 0);
}

static void test_load_file_and_memory(void **state)
{
    (void)state;
    const int w = 29, h = 17;
    unsigned char *px = fx_pattern(w, h, 3, 7);
    size_t n;
    unsigned char *png = fx_encode_stb('p', px, w, h, 3, &n);
    char *path = fx_temp_file(png, n);
    assert_non_null(path);

    imgclass_image *a = NULL, *b = NULL;
    assert_int_equal(imgclass_image_load(path, NULL, &a), IMGCLASS_OK);
    assert_int_equal(imgclass_image_load_memory(png, n, NULL, &b), IMGCLASS_OK);
    assert_int_equal(imgclass_image_width(a), w);
    assert_int_equal(imgclass_image_height(a), h);
    assert_int_equal(imgclass_image_format(a), IMGCLASS_PIXEL_RGB);
    size_t sa, sb;
    const uint8_t *pa = imgclass_image_pixels(a, &sa), *pb = imgclass_image_pixels(b, &sb);
    assert_true(sa >= (size_t)w * 3);
    for (int y = 0; y < h; y++) {
        assert_memory_equal(pa + y * sa, px + (size_t)y * w * 3, (size_t)w * 3);
        assert_memory_equal(pb + y * sb, px + (size_t)y * w * 3, (size_t)w * 3);
    }
    imgclass_image_free(a);
    imgclass_image_free(b);

    /* Over the pixel limit: refused, the message names the path. */
    imgclass_decode_options small = imgclass_decode_options_default();
    small.max_pixels = 100;
    a = (imgclass_image *)1;
    assert_int_equal(imgclass_image_load(path, &small, &a), IMGCLASS_ERR_TOO_LARGE);
    assert_null(a);
    assert_non_null(strstr(imgclass_last_error(), path));
    assert_int_equal(imgclass_image_load_memory(png, n, &small, &a), IMGCLASS_ERR_TOO_LARGE);
    assert_non_null(strstr(imgclass_last_error(), "memory buffer"));

    unlink(path);
    free(path);
    free(png);
    free(px);
}

static void test_load_errors(void **state)
{
    (void)state;
    imgclass_image *im = NULL;
    assert_int_equal(imgclass_image_load("/nonexistent/dir/x.jpg", NULL, &im), IMGCLASS_ERR_IO);
    assert_null(im);
    assert_non_null(strstr(imgclass_last_error(), "/nonexistent/dir/x.jpg"));
    assert_int_equal(imgclass_image_load("/tmp", NULL, &im), IMGCLASS_ERR_IO);
    assert_non_null(strstr(imgclass_last_error(), "/tmp"));
    assert_int_equal(imgclass_image_load(NULL, NULL, &im), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_load("/tmp", NULL, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_load_memory(NULL, 4, NULL, &im), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_load_memory("abcd", 4, NULL, NULL),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_load_memory("", 0, NULL, &im), IMGCLASS_ERR_CORRUPT);
    assert_int_equal(imgclass_image_load_memory("not an image at all", 19, NULL, &im),
                     IMGCLASS_ERR_UNSUPPORTED);
    assert_non_null(strstr(imgclass_last_error(), "memory buffer"));
    /* An empty file. */
    char *path = fx_temp_file("", 0);
    assert_int_equal(imgclass_image_load(path, NULL, &im), IMGCLASS_ERR_CORRUPT);
    assert_non_null(strstr(imgclass_last_error(), path));
    unlink(path);
    free(path);
}

static void test_wrap(void **state)
{
    (void)state;
    /* 3 x 2 BGRA with 4 bytes of row padding. */
    uint8_t px[2 * 16];
    for (int i = 0; i < 32; i++)
        px[i] = (uint8_t)i;
    imgclass_image *borrowed = NULL, *copied = NULL;
    assert_int_equal(imgclass_image_wrap(px, 3, 2, 16, IMGCLASS_PIXEL_BGRA, 0, &borrowed),
                     IMGCLASS_OK);
    assert_int_equal(imgclass_image_wrap(px, 3, 2, 16, IMGCLASS_PIXEL_BGRA, 1, &copied),
                     IMGCLASS_OK);
    size_t s;
    assert_ptr_equal(imgclass_image_pixels(borrowed, &s), px);
    assert_int_equal(s, 16);
    assert_int_equal(imgclass_image_format(copied), IMGCLASS_PIXEL_BGRA);
    const uint8_t *c = imgclass_image_pixels(copied, &s);
    assert_ptr_not_equal(c, px);
    assert_int_equal(s, 12); /* copies are tightly packed */
    assert_memory_equal(c, px, 12);
    assert_memory_equal(c + 12, px + 16, 12);
    memset(px, 0, sizeof px); /* the copy does not see later changes */
    assert_int_equal(imgclass_image_pixels(copied, NULL)[5], 5);
    imgclass_image_free(borrowed);
    imgclass_image_free(copied);

    /* stride 0: tightly packed. */
    assert_int_equal(imgclass_image_wrap(px, 4, 2, 0, IMGCLASS_PIXEL_GRAY, 0, &borrowed),
                     IMGCLASS_OK);
    imgclass_image_pixels(borrowed, &s);
    assert_int_equal(s, 4);
    imgclass_image_free(borrowed);

    imgclass_image *im = (imgclass_image *)1;
    assert_int_equal(imgclass_image_wrap(NULL, 3, 2, 0, IMGCLASS_PIXEL_RGB, 0, &im),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_null(im);
    assert_int_equal(imgclass_image_wrap(px, 3, 2, 0, IMGCLASS_PIXEL_RGB, 0, NULL),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_wrap(px, 0, 2, 0, IMGCLASS_PIXEL_RGB, 0, &im),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_wrap(px, 3, -1, 0, IMGCLASS_PIXEL_RGB, 0, &im),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_wrap(px, 3, 2, 8, IMGCLASS_PIXEL_RGB, 0, &im),
                     IMGCLASS_ERR_INVALID_ARGUMENT); /* stride < 9 */
    assert_non_null(strstr(imgclass_last_error(),
                            "imgclass_image_wrap: invalid argument: stride 8 is below its row "
                            "of 9 bytes"));
    assert_int_equal(imgclass_image_wrap(px, 3, 2, 0, (imgclass_pixel_format)42, 0, &im),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_wrap(px, 2, 0x7fffffff, SIZE_MAX / 4, IMGCLASS_PIXEL_RGB, 0,
                                         &im),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(imgclass_last_error(), "plane of 2147483647 rows with stride"));
    assert_non_null(strstr(imgclass_last_error(), "overflows"));
}

static void test_null_accessors(void **state)
{
    (void)state;
    size_t s = 7;
    assert_int_equal(imgclass_image_width(NULL), 0);
    assert_int_equal(imgclass_image_height(NULL), 0);
    assert_null(imgclass_image_pixels(NULL, &s));
    assert_int_equal(s, 0);
    assert_null(imgclass_image_pixels(NULL, NULL));
    imgclass_image_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_format_bytes),
        cmocka_unit_test(test_load_file_and_memory),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_null_accessors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
