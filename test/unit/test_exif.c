/* EXIF orientation: the bounded IFD0 walk (byte orders, value types,
 * out-of-line values, truncation, bad offsets, last entry wins), where it
 * is found in JPEG and PNG, the transpositions for tags 2-8 on a small
 * image derived by hand, the decode option end to end, and the probe's
 * orientation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "exif.h"
#include "image_fixtures.h"
#include "imgclass.h"

/* ---- building blocks ----------------------------------------------------- */

typedef struct buf {
    unsigned char b[512];
    size_t n;
} buf;

static void put(buf *x, const void *p, size_t n)
{
    assert_true(x->n + n <= sizeof x->b);
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

static void put16(buf *x, int be, unsigned v)
{
    unsigned char q[2] = {(unsigned char)(be ? v >> 8 : v), (unsigned char)(be ? v : v >> 8)};
    put(x, q, 2);
}

static void put32(buf *x, int be, uint32_t v)
{
    unsigned char q[4];
    for (int i = 0; i < 4; i++)
        q[i] = (unsigned char)(v >> (be ? 24 - 8 * i : 8 * i));
    put(x, q, 4);
}

/* A TIFF block: header, IFD0 at 8 with `n` entries (tag, type, count,
 * 4 value bytes as a little/big-endian uint32). */
typedef struct entry {
    unsigned tag, type;
    uint32_t count, value;
} entry;

static buf tiff(int be, const entry *e, int n)
{
    buf t = {{0}, 0};
    put(&t, be ? "MM\0\x2A" : "II\x2A\0", 4);
    put32(&t, be, 8);
    put16(&t, be, (unsigned)n);
    for (int i = 0; i < n; i++) {
        put16(&t, be, e[i].tag);
        put16(&t, be, e[i].type);
        put32(&t, be, e[i].count);
        if (e[i].type == 3 && e[i].count <= 2) /* a SHORT sits in the first 2 bytes */
            put16(&t, be, e[i].value), put16(&t, be, 0);
        else
            put32(&t, be, e[i].value);
    }
    put32(&t, be, 0); /* next IFD */
    return t;
}

/* A JPEG head: SOI, an APP0, `app1` (payload of an APP1, may be NULL),
 * then SOS. Enough for the walk, which stops at SOS. */
static buf jpeg(const buf *app1, const char *prefix, size_t prefix_len)
{
    buf j = {{0}, 0};
    put(&j, "\xFF\xD8", 2);
    put(&j, "\xFF\xE0\x00\x07JFIF\0", 9);
    if (app1) {
        put(&j, "\xFF\xE1", 2);
        put16(&j, 1, (unsigned)(app1->n + prefix_len + 2));
        put(&j, prefix, prefix_len);
        put(&j, app1->b, app1->n);
    }
    put(&j, "\xFF\xDA\x00\x02", 4);
    return j;
}

static int orientation_of(const buf *x)
{
    return ic_exif_orientation(x->b, x->n);
}

/* ---- the IFD walk ----------------------------------------------------- */

static void test_tiff_values(void **state)
{
    (void)state;
    for (int be = 0; be < 2; be++)
        for (uint32_t v = 1; v <= 8; v++) {
            entry e[] = {{0x010F, 2, 4, 0}, {0x0112, 3, 1, v}};
            buf t = tiff(be, e, 2), j = jpeg(&t, "Exif\0\0", 6);
            assert_int_equal(orientation_of(&j), (int)v);
        }
    entry long6[] = {{0x0112, 4, 1, 6}};
    buf t = tiff(0, long6, 1), j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 6);
    /* A BYTE is the first of the four value bytes: 08 00 00 00 little-endian
     * is 8, 00 00 00 08 big-endian is 0 (none). */
    entry byte8[] = {{0x0112, 1, 1, 8}};
    t = tiff(0, byte8, 1), j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 8);
    t = tiff(1, byte8, 1), j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 0);
    entry two[] = {{0x0112, 3, 2, 5}}; /* count 2: the first value counts */
    t = tiff(0, two, 1), j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 5);
    /* Out of range, text, unknown type: no orientation. */
    entry bad[][1] = {{{0x0112, 3, 1, 9}}, {{0x0112, 3, 1, 0}}, {{0x0112, 2, 2, '6'}},
                      {{0x0112, 99, 1, 6}}, {{0x0112, 3, 0, 6}}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = tiff(0, bad[i], 1), j = jpeg(&t, "Exif\0\0", 6);
        assert_int_equal(orientation_of(&j), 0);
    }
    /* The last readable Orientation entry wins; a skipped one (unknown
     * type) does not replace it. */
    entry last[] = {{0x0112, 3, 1, 6}, {0x0112, 3, 1, 3}, {0x0112, 99, 1, 8}};
    t = tiff(0, last, 3), j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 3);
}

static void test_tiff_bounds(void **state)
{
    (void)state;
    /* A SHORT x 3 lies out of line: inside the block it is read ... */
    entry e[] = {{0x0112, 3, 3, 26}};
    buf t = tiff(0, e, 1);
    put16(&t, 0, 7), put16(&t, 0, 1), put16(&t, 0, 1); /* at offset 22 + 4 = 26 */
    buf j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 7);
    /* ... outside it, the entry is skipped. */
    entry far[] = {{0x0112, 3, 3, 0xFFFFFFF0u}};
    t = tiff(0, far, 1), j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 0);
    /* A huge count cannot wrap the size computation. */
    entry huge[] = {{0x0112, 12, 0xFFFFFFFFu, 8}};
    t = tiff(0, huge, 1), j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 0);
    /* IFD offset past the block, or the count past it. */
    entry ok[] = {{0x0112, 3, 1, 6}};
    t = tiff(0, ok, 1);
    t.b[4] = 0xF0, t.b[5] = 0xFF;
    j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 0);
    /* An IFD announcing more entries than there are keeps the whole ones. */
    entry first[] = {{0x0112, 3, 1, 6}, {0x0112, 3, 1, 2}};
    t = tiff(0, first, 2);
    t.b[8] = 40;   /* 40 entries announced */
    t.n -= 4 + 6;  /* the second entry cut in half, no next-IFD word */
    j = jpeg(&t, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 6);
    /* Every cut of a valid block is read without reading past it. */
    t = tiff(1, ok, 1);
    buf cut = jpeg(&t, "Exif\0\0", 6);
    for (size_t n = 0; n <= cut.n; n++) {
        unsigned char *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */
        assert_non_null(copy);
        memcpy(copy, cut.b, n);
        int o = ic_exif_orientation(copy, n);
        assert_true(o == 0 || o == 6);
        free(copy);
    }
    /* Not TIFF, BigTIFF, too short. */
    buf junk = {{0}, 0};
    put(&junk, "XX\x2A\0\x08\0\0\0", 8);
    j = jpeg(&junk, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 0);
    buf big = {{0}, 0};
    put(&big, "II\x2B\0\x08\0\0\0\0\0\0\0\0\0\0\0", 16);
    j = jpeg(&big, "Exif\0\0", 6);
    assert_int_equal(orientation_of(&j), 0);
    assert_int_equal(ic_exif_orientation(NULL, 10), 0);
    assert_int_equal(ic_exif_orientation((const unsigned char *)"\xFF\xD8\xFF", 3), 0);
}

static void test_where_jpeg_and_png_keep_it(void **state)
{
    (void)state;
    entry six[] = {{0x0112, 3, 1, 6}}, three[] = {{0x0112, 3, 1, 3}};
    buf t6 = tiff(0, six, 1), t3 = tiff(0, three, 1);
    /* "Exif\0" followed by anything but \0 is not TIFF for Pillow either. */
    buf j = jpeg(&t6, "Exif\0X", 6);
    assert_int_equal(orientation_of(&j), 0);
    /* An APP1 that is not Exif (XMP) is passed over; only the first Exif
     * APP1 counts. */
    buf two = {{0}, 0};
    put(&two, "\xFF\xD8", 2);
    put(&two, "\xFF\xE1\x00\x06XMP\0", 8);
    buf a = jpeg(&t6, "Exif\0\0", 6), b = jpeg(&t3, "Exif\0\0", 6);
    put(&two, a.b + 2 + 9, a.n - 2 - 9 - 4); /* a's APP1 */
    put(&two, b.b + 2 + 9, b.n - 2 - 9 - 4); /* b's APP1 */
    put(&two, "\xFF\xDA\x00\x02", 4);
    assert_int_equal(orientation_of(&two), 6);
    /* After the first scan nothing is read. */
    buf late = {{0}, 0};
    put(&late, "\xFF\xD8\xFF\xDA\x00\x02", 6);
    put(&late, a.b + 2 + 9, a.n - 2 - 9 - 4);
    assert_int_equal(orientation_of(&late), 0);

    /* PNG: eXIf before IDAT wins over one after; without one before, the
     * last one of the file. */
    buf png = {{0}, 0};
    put(&png, "\x89PNG\r\n\x1A\n", 8);
    put32(&png, 1, 13), put(&png, "IHDR", 4), put(&png, "\0\0\0\1\0\0\0\1\x08\x02\0\0\0", 13),
        put32(&png, 1, 0);
    size_t head = png.n;
    put32(&png, 1, (uint32_t)t6.n), put(&png, "eXIf", 4), put(&png, t6.b, t6.n), put32(&png, 1, 0);
    put32(&png, 1, 0), put(&png, "IDAT", 4), put32(&png, 1, 0);
    put32(&png, 1, (uint32_t)t3.n), put(&png, "eXIf", 4), put(&png, t3.b, t3.n), put32(&png, 1, 0);
    put32(&png, 1, 0), put(&png, "IEND", 4), put32(&png, 1, 0);
    assert_int_equal(orientation_of(&png), 6);
    buf after = {{0}, 0};
    put(&after, png.b, head);
    put32(&after, 1, 0), put(&after, "IDAT", 4), put32(&after, 1, 0);
    put32(&after, 1, (uint32_t)t6.n), put(&after, "eXIf", 4), put(&after, t6.b, t6.n),
        put32(&after, 1, 0);
    put32(&after, 1, (uint32_t)t3.n), put(&after, "eXIf", 4), put(&after, t3.b, t3.n),
        put32(&after, 1, 0);
    assert_int_equal(orientation_of(&after), 3);
    /* A chunk length past the end stops the walk. */
    after.b[head] = 0x7F;
    assert_int_equal(orientation_of(&after), 0);
}

/* ---- transposition ---------------------------------------------------- */

/* The 3x2 image  a b c / d e f  (each pixel's R is its letter) after each
 * tag, as Pillow's transpose methods give it (rows top to bottom). */
static void test_transpose_by_hand(void **state)
{
    (void)state;
    static const char *want[9] = {NULL,     "abc/def", "cba/fed", "fed/cba", "def/abc",
                                  "ad/be/cf", "da/eb/fc", "fc/eb/da", "cf/be/ad"};
    for (int o = 1; o <= 8; o++) {
        ic_decoded d;
        memset(&d, 0, sizeof d);
        d.image_width = d.block.width = 3;
        d.image_height = d.block.height = 2;
        d.stride = 3 * 3 + 5; /* padded rows */
        d.pixels = calloc(2, d.stride);
        assert_non_null(d.pixels);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++) {
                unsigned char *p = d.pixels + (size_t)y * d.stride + 3 * (size_t)x;
                p[0] = (unsigned char)('a' + 3 * y + x);
                p[1] = (unsigned char)(100 + 3 * y + x);
                p[2] = (unsigned char)(200 + 3 * y + x);
            }
        ic_decode_limits lim = {0, 0, 0};
        assert_int_equal(ic_exif_transpose(&d, o, "t", &lim), IMGCLASS_OK);
        char got[16];
        size_t n = 0;
        for (int y = 0; y < d.block.height; y++) {
            if (y)
                got[n++] = '/';
            for (int x = 0; x < d.block.width; x++) {
                const unsigned char *p = d.pixels + (size_t)y * d.stride + 3 * (size_t)x;
                assert_int_equal(p[1], 100 + (p[0] - 'a'));
                assert_int_equal(p[2], 200 + (p[0] - 'a'));
                got[n++] = (char)p[0];
            }
        }
        got[n] = 0;
        assert_string_equal(got, want[o]);
        assert_int_equal(d.image_width, d.block.width);
        free(d.pixels);
    }
    /* A rotation over the memory limit is refused, the image untouched. */
    ic_decoded d = {3, 2, {0, 0, 3, 2}, 9, calloc(1, 18)};
    assert_non_null(d.pixels);
    ic_decode_limits lim = {0, 20, 0};
    assert_int_equal(ic_exif_transpose(&d, 6, "big.jpg", &lim), IMGCLASS_ERR_TOO_LARGE);
    assert_int_equal(d.block.width, 3);
    assert_int_equal(ic_exif_transpose(&d, 2, "big.jpg", &lim), IMGCLASS_OK); /* in place */
    free(d.pixels);
}

/* ---- the decode option -------------------------------------------------- */

static void test_decode_option(void **state)
{
    (void)state;
    imgclass_decode_options o = imgclass_decode_options_default();
    assert_int_equal(o.exif_transpose, 0);
    /* A PNG from the fixtures with an eXIf chunk spliced in after IHDR. */
    size_t size = 0;
    unsigned char *px = fx_pattern(5, 3, 3, 1);
    unsigned char *png = fx_encode_stb('p', px, 5, 3, 3, &size);
    assert_non_null(png);
    free(px);
    entry six[] = {{0x0112, 3, 1, 6}};
    buf t = tiff(0, six, 1);
    size_t at = 8 + 25, n = size + 12 + t.n;
    unsigned char *with = malloc(n);
    assert_non_null(with);
    memcpy(with, png, at);
    buf chunk = {{0}, 0};
    put32(&chunk, 1, (uint32_t)t.n), put(&chunk, "eXIf", 4), put(&chunk, t.b, t.n),
        put32(&chunk, 1, 0);
    memcpy(with + at, chunk.b, chunk.n);
    memcpy(with + at + chunk.n, png + at, size - at);
    imgclass_image *plain = NULL, *turned = NULL;
    assert_int_equal(imgclass_image_load_memory(with, n, &o, &plain), IMGCLASS_OK);
    o.exif_transpose = 1;
    assert_int_equal(imgclass_image_load_memory(with, n, &o, &turned), IMGCLASS_OK);
    assert_int_equal(imgclass_image_width(plain), 5);
    assert_int_equal(imgclass_image_width(turned), 3);
    assert_int_equal(imgclass_image_height(turned), 5);
    /* ROTATE_270: out(x, y) = in(y, h - 1 - x). */
    size_t ps, ts;
    const uint8_t *pp = imgclass_image_pixels(plain, &ps), *tp = imgclass_image_pixels(turned, &ts);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 3; x++)
            assert_memory_equal(tp + (size_t)y * ts + 3 * (size_t)x,
                                pp + (size_t)(2 - x) * ps + 3 * (size_t)y, 3);
    imgclass_image_free(plain);
    imgclass_image_free(turned);
    /* The probe reports the tag either way, and the size as decoded. */
    imgclass_image_info info = {.struct_size = sizeof info};
    o.exif_transpose = 0;
    assert_int_equal(imgclass_image_probe_memory(with, n, &o, &info), IMGCLASS_OK);
    assert_int_equal(info.orientation, 6);
    assert_int_equal(info.width, 5);
    assert_int_equal(info.height, 3);
    o.exif_transpose = 1;
    assert_int_equal(imgclass_image_probe_memory(with, n, &o, &info), IMGCLASS_OK);
    assert_int_equal(info.orientation, 6);
    assert_int_equal(info.width, 3);
    assert_int_equal(info.height, 5);
    assert_int_equal(imgclass_image_probe_memory(png, size, &o, &info), IMGCLASS_OK);
    assert_int_equal(info.orientation, 0);
    assert_int_equal(info.width, 5);
    free(with);
    free(png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiff_values),
        cmocka_unit_test(test_tiff_bounds),
        cmocka_unit_test(test_where_jpeg_and_png_keep_it),
        cmocka_unit_test(test_transpose_by_hand),
        cmocka_unit_test(test_decode_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
