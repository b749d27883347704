/* imgclass_image_probe*(): format, width and height from the header alone,
 * for every format, with the decode's verdicts: a probe agrees with a full
 * decode on the size, on unsupported variants, on the pixel limit, and on a
 * header cut short; it reads only a bounded prefix of a file. */
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
#include "image_fixtures.h"

typedef struct sample {
    const char *name;
    imgclass_file_format format;
    int width, height;
    unsigned char *data;
    size_t size;
    size_t header; /* a prefix this long holds the whole header */
} sample;

/* A 7 x 5 GIF: logical screen 7 x 5, one 1 x 1 frame (stb decodes the
 * whole screen). */
static const unsigned char gif[] = "GIF89a\x07\x00\x05\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
                                   ",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00;";

static unsigned char *dup_bytes(const void *d, size_t n)
{
    unsigned char *p = malloc(n);
    assert_non_null(p);
    memcpy(p, d, n);
    return p;
}

/* An 8-bit RGB PSD of w x h (raw): 26-byte header, three empty sections,
 * compression 0, 3 planes. */
static unsigned char *make_psd(int w, int h, int channels, size_t *n)
{
    *n = 26 + 12 + 2 + (size_t)channels * (size_t)w * (size_t)h;
    unsigned char *p = calloc(1, *n);
    assert_non_null(p);
    memcpy(p, "8BPS\0\1", 6);
    p[13] = (unsigned char)channels;
    p[16] = (unsigned char)(h >> 8), p[17] = (unsigned char)h;
    p[20] = (unsigned char)(w >> 8), p[21] = (unsigned char)w;
    p[23] = 8, p[25] = 3; /* 8 bits, RGB */
    for (size_t i = 40; i < *n; i++)
        p[i] = (unsigned char)(i * 7);
    return p;
}

static unsigned char *make_pnm(const char *magic, int w, int h, int channels, size_t *n)
{
    char head[64];
    int len = snprintf(head, sizeof head, "%s\n# a comment\n%d %d\n255\n", magic, w, h);
    *n = (size_t)len + (size_t)w * (size_t)h * (size_t)channels;
    unsigned char *p = malloc(*n);
    assert_non_null(p);
    memcpy(p, head, (size_t)len);
    for (size_t i = (size_t)len; i < *n; i++)
        p[i] = (unsigned char)(i * 13);
    return p;
}

/* One sample of every format, each with a distinct, non-square size. */
static size_t make_samples(sample *s)
{
    size_t n = 0;
    /* JPEGs large enough that their scans dwarf the header (a few hundred
     * bytes): half the file holds the header and never the whole image. */
    unsigned char *big = fx_pattern(201, 149, 3, 7);
    fx_jpeg_params jp = {90, 2, 2, 0, 0};
    s[n] = (sample){"jpeg", IMGCLASS_FILE_JPEG, 201, 149, NULL, 0, 0};
    s[n].data = fx_encode_jpeg(big, 201, 149, 3, &jp, 0, &s[n].size);
    s[n].header = s[n].size / 2;
    n++;
    jp.progressive = 1;
    s[n] = (sample){"progressive jpeg", IMGCLASS_FILE_JPEG, 201, 149, NULL, 0, 0};
    s[n].data = fx_encode_jpeg(big, 201, 149, 3, &jp, 0, &s[n].size);
    s[n].header = s[n].size / 2;
    n++;
    free(big);
    unsigned char *px = fx_pattern(41, 23, 3, 7);
    s[n] = (sample){"png", IMGCLASS_FILE_PNG, 41, 23, NULL, 0, 33};
    s[n].data = fx_encode_stb('p', px, 41, 23, 3, &s[n].size);
    n++;
    s[n] = (sample){"bmp", IMGCLASS_FILE_BMP, 41, 23, NULL, 0, 54};
    s[n].data = fx_encode_stb('b', px, 41, 23, 3, &s[n].size);
    n++;
    s[n] = (sample){"tga", IMGCLASS_FILE_TGA, 41, 23, NULL, 0, 18};
    s[n].data = fx_encode_stb('t', px, 41, 23, 3, &s[n].size);
    n++;
    s[n] = (sample){"gif", IMGCLASS_FILE_GIF, 7, 5, dup_bytes(gif, sizeof gif - 1),
                    sizeof gif - 1, 13};
    n++;
    s[n] = (sample){"ppm", IMGCLASS_FILE_PNM, 19, 6, NULL, 0, 0};
    s[n].data = make_pnm("P6", 19, 6, 3, &s[n].size);
    s[n].header = s[n].size - 19 * 6 * 3;
    n++;
    s[n] = (sample){"pgm", IMGCLASS_FILE_PNM, 6, 19, NULL, 0, 0};
    s[n].data = make_pnm("P5", 6, 19, 1, &s[n].size);
    s[n].header = s[n].size - 6 * 19;
    n++;
    s[n] = (sample){"psd", IMGCLASS_FILE_PSD, 9, 4, NULL, 0, 26};
    s[n].data = make_psd(9, 4, 3, &s[n].size);
    n++;
    free(px);
    for (size_t i = 0; i < n; i++)
        assert_non_null(s[i].data);
    return n;
}

static void free_samples(sample *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].data);
}

static imgclass_image_info fresh_info(void)
{
    imgclass_image_info info;
    memset(&info, 0x5A, sizeof info); /* a probe must write every field */
    info.struct_size = sizeof info;
    return info;
}

static void each_format(void **state)
{
    (void)state;
    sample s[16];
    size_t n = make_samples(s);
    for (size_t i = 0; i < n; i++) {
        imgclass_image_info info = fresh_info();
        imgclass_status st = imgclass_image_probe_memory(s[i].data, s[i].size, NULL, &info);
        if (st != IMGCLASS_OK)
            fail_msg("%s: %s", s[i].name, imgclass_last_error());
        assert_int_equal(info.format, s[i].format);
        assert_int_equal(info.width, s[i].width);
        assert_int_equal(info.height, s[i].height);
        assert_int_equal(info.struct_size, sizeof info);

        /* The same from a file. */
        char *path = fx_temp_file(s[i].data, s[i].size);
        assert_non_null(path);
        imgclass_image_info from_file = fresh_info();
        assert_int_equal(imgclass_image_probe(path, NULL, &from_file), IMGCLASS_OK);
        assert_memory_equal(&from_file, &info, sizeof info);
        unlink(path);
        free(path);

        /* The decode gives the same size. */
        imgclass_image *img = NULL;
        assert_int_equal(imgclass_image_load_memory(s[i].data, s[i].size, NULL, &img),
                         IMGCLASS_OK);
        assert_int_equal(imgclass_image_width(img), info.width);
        assert_int_equal(imgclass_image_height(img), info.height);
        imgclass_image_free(img);

        /* The header alone is enough: the body is not read. */
        imgclass_image_info head = fresh_info();
        st = imgclass_image_probe_memory(s[i].data, s[i].header, NULL, &head);
        if (st != IMGCLASS_OK)
            fail_msg("%s, first %zu bytes: %s", s[i].name, s[i].header, imgclass_last_error());
        assert_int_equal(head.width, s[i].width);
        assert_int_equal(head.height, s[i].height);
    }
    free_samples(s, n);
}

/* Every prefix: where the probe fails, the decode of the same bytes fails
 * with the same status; the probe never crashes or reads past the end
 * (ASan and valgrind see to that). A header cut short is corrupt (or,
 * before the signature is complete, unsupported). */
static void truncated_header(void **state)
{
    (void)state;
    sample s[16];
    size_t n = make_samples(s);
    for (size_t i = 0; i < n; i++) {
        size_t first_ok = 0;
        /* Every header here ends within its first 4 KiB. */
        size_t last = s[i].size < 4096 ? s[i].size : 4096;
        for (size_t len = 0; len <= last; len++) {
            /* A copy of exactly len bytes, so ASan catches any over-read. */
            unsigned char *cut = malloc(len ? len : 1);
            assert_non_null(cut);
            memcpy(cut, s[i].data, len);
            imgclass_image_info info = fresh_info();
            imgclass_image_info before = info;
            imgclass_status probe = imgclass_image_probe_memory(cut, len, NULL, &info);
            if (probe != IMGCLASS_OK) {
                assert_memory_equal(&info, &before, sizeof info); /* untouched */
                assert_true(probe == IMGCLASS_ERR_CORRUPT || probe == IMGCLASS_ERR_UNSUPPORTED);
                if (first_ok)
                    fail_msg("%s: the probe of %zu bytes failed after %zu passed", s[i].name,
                             len, first_ok);
                imgclass_image *img = NULL;
                imgclass_status decode = imgclass_image_load_memory(cut, len, NULL, &img);
                imgclass_image_free(img);
                if (decode != probe)
                    fail_msg("%s, %zu bytes: probe %d, decode %d", s[i].name, len, probe, decode);
            } else if (!first_ok) {
                first_ok = len;
                assert_int_equal(info.width, s[i].width);
            }
            free(cut);
        }
        assert_true(first_ok > 0 && first_ok <= s[i].header);
        /* Just before the header is complete: an error that names the
         * buffer. */
        imgclass_image_info info = fresh_info();
        assert_int_not_equal(imgclass_image_probe_memory(s[i].data, first_ok - 1, NULL, &info),
                             IMGCLASS_OK);
        assert_non_null(strstr(imgclass_last_error(), "memory buffer: "));
    }
    free_samples(s, n);
}

static void pixel_limit(void **state)
{
    (void)state;
    sample s[16];
    size_t n = make_samples(s);
    for (size_t i = 0; i < n; i++) {
        imgclass_decode_options o = imgclass_decode_options_default();
        o.max_pixels = (uint64_t)s[i].width * (uint64_t)s[i].height;
        imgclass_image_info info = fresh_info();
        assert_int_equal(imgclass_image_probe_memory(s[i].data, s[i].size, &o, &info),
                         IMGCLASS_OK);
        o.max_pixels--;
        assert_int_equal(imgclass_image_probe_memory(s[i].data, s[i].size, &o, &info),
                         IMGCLASS_ERR_TOO_LARGE);
        char want[64];
        snprintf(want, sizeof want, "%dx%d", s[i].width, s[i].height);
        assert_non_null(strstr(imgclass_last_error(), want));
        /* The decode says the same. */
        imgclass_image *img = NULL;
        assert_int_equal(imgclass_image_load_memory(s[i].data, s[i].size, &o, &img),
                         IMGCLASS_ERR_TOO_LARGE);
    }
    free_samples(s, n);
    /* A header claiming 60000 x 60000 is refused from the header alone. */
    unsigned char *px = fx_pattern(4, 4, 3, 1);
    size_t len;
    unsigned char *png = fx_encode_stb('p', px, 4, 4, 3, &len);
    png[16] = png[20] = 0, png[17] = png[21] = 0, png[18] = png[22] = 0xEA, png[19] = png[23] = 0x60;
    imgclass_image_info info = fresh_info();
    assert_int_equal(imgclass_image_probe_memory(png, 33, NULL, &info), IMGCLASS_ERR_TOO_LARGE);
    free(png);
    free(px);
}

/* What the decode refuses as unsupported, the probe refuses the same way. */
static void unsupported(void **state)
{
    (void)state;
    static const char *const texts[] = {"P1\n2 2\n0 1 1 0\n", "P2\n1 1\n255\n7\n",
                                        "P3\n1 1\n255\n1 2 3\n", "P4\n8 1\n\xAA"};
    for (size_t i = 0; i < 4; i++) {
        imgclass_image_info info = fresh_info();
        assert_int_equal(imgclass_image_probe_memory(texts[i], strlen(texts[i]), NULL, &info),
                         IMGCLASS_ERR_UNSUPPORTED);
        char probe_msg[256];
        snprintf(probe_msg, sizeof probe_msg, "%s", imgclass_last_error());
        assert_non_null(strstr(probe_msg, "PNM variant P"));
        imgclass_image *img = NULL;
        assert_int_equal(imgclass_image_load_memory(texts[i], strlen(texts[i]), NULL, &img),
                         IMGCLASS_ERR_UNSUPPORTED);
        assert_string_equal(imgclass_last_error(), probe_msg);
    }
    size_t n;
    unsigned char *psd = make_psd(9, 4, 4, &n); /* with alpha */
    imgclass_image_info info = fresh_info();
    assert_int_equal(imgclass_image_probe_memory(psd, n, NULL, &info), IMGCLASS_ERR_UNSUPPORTED);
    free(psd);
    static const char text[] = "hello, this is not an image at all";
    assert_int_equal(imgclass_image_probe_memory(text, sizeof text - 1, NULL, &info),
                     IMGCLASS_ERR_UNSUPPORTED);
    assert_int_equal(imgclass_image_probe_memory(text, 0, NULL, &info), IMGCLASS_ERR_CORRUPT);
    assert_int_equal(imgclass_image_probe("/nonexistent/x.png", NULL, &info), IMGCLASS_ERR_IO);
    assert_non_null(strstr(imgclass_last_error(), "/nonexistent/x.png"));
    assert_int_equal(imgclass_image_probe("/tmp", NULL, &info), IMGCLASS_ERR_IO);
    assert_int_equal(imgclass_file_format_name(IMGCLASS_FILE_UNKNOWN)[0], 'u');
    assert_string_equal(imgclass_file_format_name(IMGCLASS_FILE_TGA), "TGA");
    assert_string_equal(imgclass_file_format_name((imgclass_file_format)99), "unknown");
}

/* A JPEG whose metadata segments push its frame header past the first
 * read (64 KiB): the prefix grows until the header is in, never past
 * max_file_bytes; a file over max_file_bytes is refused as the decode
 * refuses it. */
static void big_jpeg_header(void **state)
{
    (void)state;
    unsigned char *px = fx_pattern(33, 17, 3, 2);
    fx_jpeg_params jp = {80, 1, 1, 0, 0};
    size_t jn;
    unsigned char *jpg = fx_encode_jpeg(px, 33, 17, 3, &jp, 0, &jn);
    assert_non_null(jpg);
    const size_t segments = 5, seg = 2 + 65535; /* marker + length field + payload */
    size_t n = jn + segments * seg;
    unsigned char *big = malloc(n);
    assert_non_null(big);
    memcpy(big, jpg, 2); /* SOI */
    for (size_t k = 0; k < segments; k++) {
        unsigned char *p = big + 2 + k * seg;
        p[0] = 0xFF, p[1] = 0xEF, p[2] = 0xFF, p[3] = 0xFF; /* APP15, length 65535 */
        memset(p + 4, 'x', seg - 4);
    }
    memcpy(big + 2 + segments * seg, jpg + 2, jn - 2);
    char *path = fx_temp_file(big, n);
    assert_non_null(path);
    imgclass_image_info info = fresh_info();
    assert_int_equal(imgclass_image_probe(path, NULL, &info), IMGCLASS_OK);
    assert_int_equal(info.format, IMGCLASS_FILE_JPEG);
    assert_int_equal(info.width, 33);
    assert_int_equal(info.height, 17);
    imgclass_decode_options o = imgclass_decode_options_default();
    o.max_file_bytes = n - 1;
    assert_int_equal(imgclass_image_probe(path, &o, &info), IMGCLASS_ERR_TOO_LARGE);
    /* A prefix that ends inside the metadata is corrupt in memory. */
    assert_int_equal(imgclass_image_probe_memory(big, 70000, NULL, &info), IMGCLASS_ERR_CORRUPT);
    unlink(path);
    free(path);
    free(big);
    free(jpg);
    free(px);
}

static void bad_arguments(void **state)
{
    (void)state;
    size_t n;
    unsigned char *psd = make_psd(9, 4, 3, &n);
    imgclass_image_info info = fresh_info();
    assert_int_equal(imgclass_image_probe_memory(psd, n, NULL, NULL),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_probe(NULL, NULL, &info), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_probe_memory(NULL, 5, NULL, &info),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    /* Zero-initialised, and below any release's size (a larger one is a
     * newer caller's: written as far as this library's fields go). */
    const size_t sizes[] = {0, 8};
    for (size_t i = 0; i < 2; i++) {
        imgclass_image_info bad = fresh_info();
        bad.struct_size = sizes[i];
        imgclass_image_info before = bad;
        assert_int_equal(imgclass_image_probe_memory(psd, n, NULL, &bad),
                         IMGCLASS_ERR_INVALID_ARGUMENT);
        assert_non_null(strstr(imgclass_last_error(), "imgclass_image_info"));
        assert_memory_equal(&bad, &before, sizeof bad);
    }
    imgclass_decode_options o = imgclass_decode_options_default();
    o.struct_size = 0;
    assert_int_equal(imgclass_image_probe_memory(psd, n, &o, &info),
                     IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(imgclass_image_probe("/nonexistent", &o, &info),
                     IMGCLASS_ERR_INVALID_ARGUMENT); /* checked before the file */
    free(psd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_format),  cmocka_unit_test(truncated_header),
        cmocka_unit_test(pixel_limit),  cmocka_unit_test(unsupported),
        cmocka_unit_test(big_jpeg_header), cmocka_unit_test(bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
