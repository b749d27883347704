/* ic_gunzip: round trip, concatenated members, size limit, corruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "gzip.h"
#include "imgclass.h"

/* gzip-compresses `size` bytes with zlib into a malloc'd buffer. */
static unsigned char *gz(const void *data, size_t size, size_t *out_size)
{
    z_stream zs = {0};
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
                     Z_OK);
    size_t cap = deflateBound(&zs, size) + 64;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)size;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_size = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t n = 300000, zsize, size;
    unsigned char *src = malloc(n), *out = NULL;
    assert_non_null(src);
    for (size_t i = 0; i < n; i++)
        src[i] = (unsigned char)((i * 7) ^ (i >> 5));
    unsigned char *z = gz(src, n, &zsize);
    assert_true(ic_is_gzip(z, zsize));
    assert_int_equal(ic_gunzip(z, zsize, n, 0, "t.gz", &out, &size), IMGCLASS_OK);
    assert_int_equal(size, n);
    assert_memory_equal(out, src, n);
    free(out);
    /* One byte under the real size: refused, not truncated. */
    assert_int_equal(ic_gunzip(z, zsize, n - 1, 0, "t.gz", &out, &size), IMGCLASS_ERR_TOO_LARGE);
    assert_non_null(strstr(imgclass_last_error(), "t.gz: too large"));
    free(z);
    free(src);
}

static void test_bomb_is_refused(void **state)
{
    (void)state;
    size_t n = 16 << 20, zsize, size;
    unsigned char *zeros = calloc(n, 1), *out = NULL;
    assert_non_null(zeros);
    unsigned char *z = gz(zeros, n, &zsize);
    free(zeros);
    assert_true(zsize < 100000);
    assert_int_equal(ic_gunzip(z, zsize, 1 << 20, 0, "bomb.gz", &out, &size),
                     IMGCLASS_ERR_TOO_LARGE);
    assert_null(out);
    free(z);
}

static void test_concatenated_members(void **state)
{
    (void)state;
    size_t a_size, b_size, size;
    unsigned char *a = gz("hello ", 6, &a_size), *b = gz("world", 5, &b_size), *out;
    unsigned char *ab = malloc(a_size + b_size);
    assert_non_null(ab);
    memcpy(ab, a, a_size);
    memcpy(ab + a_size, b, b_size);
    assert_int_equal(ic_gunzip(ab, a_size + b_size, 100, 0, NULL, &out, &size), IMGCLASS_OK);
    assert_int_equal(size, 11);
    assert_memory_equal(out, "hello world", 11);
    free(out);
    free(a);
    free(b);
    free(ab);
}

static void test_empty_content(void **state)
{
    (void)state;
    size_t zsize, size = 99;
    unsigned char *z = gz("", 0, &zsize), *out = NULL;
    assert_int_equal(ic_gunzip(z, zsize, 100, 0, NULL, &out, &size), IMGCLASS_OK);
    assert_non_null(out);
    assert_int_equal(size, 0);
    free(out);
    free(z);
}

static void test_truncated_and_corrupt(void **state)
{
    (void)state;
    const char *text = "some text that compresses, some text that compresses";
    size_t zsize, size;
    unsigned char *z = gz(text, strlen(text), &zsize), *out = NULL;
    for (size_t cut = 2; cut < zsize; cut += 3) {
        assert_int_equal(ic_gunzip(z, cut, 1000, 0, "cut.gz", &out, &size), IMGCLASS_ERR_CORRUPT);
        assert_null(out);
    }
    assert_non_null(strstr(imgclass_last_error(), "cut.gz: corrupt data"));
    z[12] ^= 0xff; /* inside the deflate stream or the header flags */
    imgclass_status st = ic_gunzip(z, zsize, 1000, 0, "bad.gz", &out, &size);
    assert_int_not_equal(st, IMGCLASS_OK);
    z[zsize - 6] ^= 0x55; /* the CRC-32 */
    z[12] ^= 0xff;
    assert_int_equal(ic_gunzip(z, zsize, 1000, 0, "crc.gz", &out, &size), IMGCLASS_ERR_CORRUPT);
    free(z);
}

static void test_not_gzip(void **state)
{
    (void)state;
    unsigned char *out = NULL;
    size_t size;
    assert_false(ic_is_gzip("PK\3\4", 4));
    assert_false(ic_is_gzip("\x1f", 1));
    assert_false(ic_is_gzip(NULL, 0));
    assert_int_equal(ic_gunzip("PK\3\4", 4, 100, 0, "m.pt", &out, &size), IMGCLASS_ERR_CORRUPT);
    assert_null(out);
}

/* Zero padding after the last member is ignored, as gzip -d ignores it;
 * anything else after it is still a member (and must be valid). */
static void test_zero_padding(void **state)
{
    (void)state;
    size_t zsize, size;
    unsigned char *z = gz("hello", 5, &zsize);
    unsigned char *padded = calloc(zsize + 512, 1);
    assert_non_null(padded);
    memcpy(padded, z, zsize);
    unsigned char *out = NULL;
    assert_int_equal(ic_gunzip(padded, zsize + 512, 100, 0, "pad.gz", &out, &size), IMGCLASS_OK);
    assert_int_equal(size, 5);
    assert_memory_equal(out, "hello", 5);
    free(out);
    out = NULL;
    padded[zsize + 100] = 1; /* not zero: junk, refused */
    assert_int_not_equal(ic_gunzip(padded, zsize + 512, 100, 0, "pad.gz", &out, &size),
                         IMGCLASS_OK);
    assert_null(out);
    free(padded);
    free(z);
}

/* The ratio guard stops a bomb at ratio * input + 1 MiB, well before the
 * absolute limit, and names the ratio. */
static void test_ratio_guard(void **state)
{
    (void)state;
    size_t n = 8u << 20, zsize, size;
    unsigned char *zeros = calloc(n, 1);
    assert_non_null(zeros);
    unsigned char *z = gz(zeros, n, &zsize); /* about 8 KB */
    unsigned char *out = NULL;
    assert_int_equal(ic_gunzip(z, zsize, 0, 32, "ratio.gz", &out, &size), IMGCLASS_ERR_TOO_LARGE);
    assert_null(out);
    assert_non_null(strstr(imgclass_last_error(), "more than 32 times"));
    assert_non_null(strstr(imgclass_last_error(), "ratio.gz"));
    /* Without the ratio (or with a high one) the same data inflates. */
    assert_int_equal(ic_gunzip(z, zsize, n, 0, "ratio.gz", &out, &size), IMGCLASS_OK);
    assert_int_equal(size, n);
    free(out);
    assert_int_equal(ic_gunzip(z, zsize, 0, 100000, "ratio.gz", &out, &size), IMGCLASS_OK);
    free(out);
    free(z);
    free(zeros);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bomb_is_refused),
        cmocka_unit_test(test_concatenated_members),
        cmocka_unit_test(test_empty_content),
        cmocka_unit_test(test_truncated_and_corrupt),
        cmocka_unit_test(test_not_gzip),
        cmocka_unit_test(test_zero_padding),
        cmocka_unit_test(test_ratio_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
