/* ic_decode: format sniffing, exact region decoding, lossless round trips
 * and every error path. Images are generated here (libjpeg's encoder and
 * stb_image_write), so no files are needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "image_fixtures.h"
#include "imgclass.h"

/* --- helpers ------------------------------------------------------------ */

typedef struct region_ctx {
    int scale;        /* returned by choose_scale */
    ic_region region; /* asked for by choose_region (clamped by the test) */
    int seen_w, seen_h;
} region_ctx;

static int pick_scale(void *ctx, int w, int h)
{
    (void)w, (void)h;
    return ((region_ctx *)ctx)->scale;
}

static void pick_region(void *ctx, int w, int h, ic_region *r)
{
    region_ctx *c = ctx;
    c->seen_w = w;
    c->seen_h = h;
    *r = c->region;
}

static imgclass_status decode_all(const unsigned char *d, size_t n, int scale, ic_decoded *out)
{
    region_ctx ctx = {scale, {0, 0, 0, 0}, 0, 0};
    ic_decode_request req = {&ctx, pick_scale, NULL, 0};
    return ic_decode(d, n, "test", NULL, &req, out);
}

static unsigned rng_state = 12345;
static int rnd(int n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (int)((rng_state >> 8) % (unsigned)n);
}

/* Decodes `count` random regions (plus edge cases) and checks each block
 * covers its region and equals the full decode there, pixel for pixel. */
static void check_regions(const unsigned char *jpg, size_t n, int scale, int count)
{
    ic_decoded full;
    assert_int_equal(decode_all(jpg, n, scale, &full), IMGCLASS_OK);
    int W = full.image_width, H = full.image_height;
    assert_int_equal(full.block.width, W);
    assert_int_equal(full.block.height, H);
    for (int i = 0; i < count + 4; i++) {
        region_ctx ctx = {scale, {0, 0, 0, 0}, 0, 0};
        ic_region *r = &ctx.region;
        if (i < count) {
            r->width = 1 + rnd(W);
            r->height = 1 + rnd(H);
            r->x = rnd(W - r->width + 1);
            r->y = rnd(H - r->height + 1);
        } else { /* corners and a 1x1 at the bottom right */
            int k = i - count;
            r->width = k == 3 ? 1 : W / 3 + 1;
            r->height = k == 3 ? 1 : H / 3 + 1;
            r->x = (k & 1) ? W - r->width : 0;
            r->y = (k & 2) ? H - r->height : 0;
        }
        ic_decode_request req = {&ctx, pick_scale, pick_region, 0};
        ic_decoded part;
        assert_int_equal(ic_decode(jpg, n, "test", NULL, &req, &part), IMGCLASS_OK);
        assert_int_equal(ctx.seen_w, W);
        assert_int_equal(ctx.seen_h, H);
        assert_int_equal(part.image_width, W);
        assert_int_equal(part.image_height, H);
        assert_true(part.block.x <= r->x && part.block.y <= r->y);
        assert_true(part.block.x + part.block.width >= r->x + r->width);
        assert_true(part.block.y + part.block.height >= r->y + r->height);
        for (int y = r->y; y < r->y + r->height; y++) {
            const unsigned char *a = full.pixels + (size_t)y * full.stride + (size_t)r->x * 3;
            const unsigned char *b = part.pixels + (size_t)(y - part.block.y) * part.stride +
                                     (size_t)(r->x - part.block.x) * 3;
            if (memcmp(a, b, (size_t)r->width * 3) != 0)
                fail_msg("region %d,%d %dx%d of %dx%d (scale 1/%d) differs at row %d", r->x,
                         r->y, r->width, r->height, W, H, scale, y);
        }
        free(part.pixels);
    }
    free(full.pixels);
}

typedef struct jpeg_case {
    const char *name;
    int channels, h_samp, v_samp, progressive, restart, ycck;
} jpeg_case;

static const jpeg_case jpeg_cases[] = {
    {"4:2:0", 3, 2, 2, 0, 0, 0},        {"4:2:2", 3, 2, 1, 0, 0, 0},
    {"4:4:4", 3, 1, 1, 0, 0, 0},        {"4:4:0", 3, 1, 2, 0, 0, 0},
    {"gray", 1, 1, 1, 0, 0, 0},         {"progressive 4:2:0", 3, 2, 2, 1, 0, 0},
    {"progressive gray", 1, 1, 1, 1, 0, 0}, {"progressive 4:2:2", 3, 2, 1, 1, 0, 0},
    {"restarts 4:2:0", 3, 2, 2, 0, 1, 0}, {"CMYK", 4, 1, 1, 0, 0, 0},
    {"YCCK 4:2:0", 4, 2, 2, 0, 0, 1},
};

static unsigned char *make_jpeg(const jpeg_case *jc, int w, int h, size_t *n)
{
    unsigned char *px = fx_pattern(w, h, jc->channels, (unsigned)w);
    assert_non_null(px);
    fx_jpeg_params p = {85, jc->h_samp, jc->v_samp, jc->progressive, jc->restart};
    unsigned char *jpg = fx_encode_jpeg(px, w, h, jc->channels, &p, jc->ycck, n);
    free(px);
    assert_non_null(jpg);
    return jpg;
}

/* --- tests -------------------------------------------------------------- */

static void test_region_equals_full_decode(void **state)
{
    (void)state;
    /* Odd sizes so that edge iMCUs are partial. */
    const int sizes[][2] = {{203, 157}, {64, 48}, {37, 300}};
    for (size_t c = 0; c < sizeof jpeg_cases / sizeof jpeg_cases[0]; c++)
        for (size_t s = 0; s < 3; s++) {
            size_t n;
            unsigned char *jpg = make_jpeg(&jpeg_cases[c], sizes[s][0], sizes[s][1], &n);
            check_regions(jpg, n, 1, 30);
            free(jpg);
        }
}

static void test_region_equals_full_decode_scaled(void **state)
{
    (void)state;
    const int scales[] = {2, 4, 8};
    for (size_t c = 0; c < sizeof jpeg_cases / sizeof jpeg_cases[0]; c++) {
        size_t n;
        unsigned char *jpg = make_jpeg(&jpeg_cases[c], 251, 189, &n);
        for (int s = 0; s < 3; s++)
            check_regions(jpg, n, scales[s], 12);
        free(jpg);
    }
}

static void test_scale_reports_scaled_size(void **state)
{
    (void)state;
    size_t n;
    unsigned char *jpg = make_jpeg(&jpeg_cases[0], 203, 157, &n);
    ic_decoded d;
    assert_int_equal(decode_all(jpg, n, 4, &d), IMGCLASS_OK);
    assert_int_equal(d.image_width, 51); /* ceil(203 / 4) */
    assert_int_equal(d.image_height, 40);
    free(d.pixels);
    /* Denominators other than 2, 4, 8 mean full size. */
    assert_int_equal(decode_all(jpg, n, 3, &d), IMGCLASS_OK);
    assert_int_equal(d.image_width, 203);
    free(d.pixels);
    free(jpg);
}

/* 4:4:4 at quality 100 of a flat-coloured image decodes to (nearly) what
 * was encoded: a sanity check of the colour path, gray and CMYK. */
static void test_jpeg_colours(void **state)
{
    (void)state;
    const int w = 32, h = 16;
    unsigned char rgb[32 * 16 * 3], cmyk[32 * 16 * 4], gray[32 * 16];
    for (int i = 0; i < w * h; i++) {
        rgb[i * 3] = 200, rgb[i * 3 + 1] = 30, rgb[i * 3 + 2] = 90;
        /* CMYK as libjpeg writes it (Adobe: inverted): C=255-c'... */
        cmyk[i * 4] = 255, cmyk[i * 4 + 1] = 128, cmyk[i * 4 + 2] = 0, cmyk[i * 4 + 3] = 255;
        gray[i] = 77;
    }
    fx_jpeg_params p = {100, 1, 1, 0, 0};
    size_t n;
    ic_decoded d;
    unsigned char *jpg = fx_encode_jpeg(rgb, w, h, 3, &p, 0, &n);
    assert_int_equal(ic_decode(jpg, n, "t", NULL, NULL, &d), IMGCLASS_OK);
    for (int i = 0; i < 3; i++)
        assert_in_range(d.pixels[(5 * w + 5) * 3 + i], rgb[i] - 2, rgb[i] + 2);
    free(d.pixels);
    free(jpg);

    jpg = fx_encode_jpeg(gray, w, h, 1, &p, 0, &n);
    assert_int_equal(ic_decode(jpg, n, "t", NULL, NULL, &d), IMGCLASS_OK);
    assert_int_equal(d.stride, (size_t)w * 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(d.pixels[(3 * w + 7) * 3 + i], 77);
    free(d.pixels);
    free(jpg);

    /* Stored (inverted) c'=255 m'=128 y'=0 k'=255: Pillow's CMYK;I gives
     * C=0 M=127 Y=255 K=0, and cmyk2rgb gives R=255, G=255-MULDIV255(127,255)
     * = 128, B=0 (derivable by hand). */
    for (int ycck = 0; ycck < 2; ycck++) {
        jpg = fx_encode_jpeg(cmyk, w, h, 4, &p, ycck, &n);
        assert_int_equal(ic_decode(jpg, n, "t", NULL, NULL, &d), IMGCLASS_OK);
        const unsigned char *px = d.pixels + (5 * w + 5) * 3;
        assert_in_range(px[0], 253, 255);
        assert_in_range(px[1], 126, 130);
        assert_in_range(px[2], 0, 2);
        free(d.pixels);
        free(jpg);
    }
}

static void check_lossless(char kind, int channels, int w, int h)
{
    unsigned char *px = fx_pattern(w, h, channels, 99);
    size_t n;
    unsigned char *enc = fx_encode_stb(kind, px, w, h, channels, &n);
    assert_non_null(enc);
    ic_decoded d;
    /* A region request is allowed; non-JPEG formats return everything. */
    region_ctx ctx = {1, {1, 1, 2, 2}, 0, 0};
    ic_decode_request req = {&ctx, pick_scale, pick_region, 0};
    assert_int_equal(ic_decode(enc, n, "t", NULL, &req, &d), IMGCLASS_OK);
    assert_int_equal(ctx.seen_w, w);
    assert_int_equal(d.image_width, w);
    assert_int_equal(d.image_height, h);
    assert_int_equal(d.block.width, w);
    assert_int_equal(d.block.height, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const unsigned char *s = px + ((size_t)y * w + x) * channels;
            const unsigned char *o = d.pixels + (size_t)y * d.stride + (size_t)x * 3;
            for (int c = 0; c < 3; c++) {
                int want = channels < 3 ? s[0] : s[c]; /* gray replicated, alpha dropped */
                if (o[c] != want)
                    fail_msg("%c %d channels: pixel %d,%d channel %d is %d, want %d", kind,
                             channels, x, y, c, o[c], want);
            }
        }
    free(d.pixels);
    free(enc);
    free(px);
}

static void test_lossless_formats(void **state)
{
    (void)state;
    for (int ch = 1; ch <= 4; ch++) {
        check_lossless('p', ch, 37, 23);
        check_lossless('t', ch, 19, 11);
    }
    check_lossless('b', 3, 21, 13);
    check_lossless('b', 4, 21, 13);
}

/* PGM/PPM (P5/P6), 8 and 16 bits; written by hand, so derivable. */
static void test_pnm(void **state)
{
    (void)state;
    unsigned char pgm[] = "P5\n2 1\n255\n\x10\xF0";
    ic_decoded d;
    assert_int_equal(ic_decode(pgm, sizeof pgm - 1, "t", NULL, NULL, &d), IMGCLASS_OK);
    assert_int_equal(d.pixels[0], 0x10);
    assert_int_equal(d.pixels[2], 0x10);
    assert_int_equal(d.pixels[3], 0xF0);
    free(d.pixels);
    /* 16-bit gray: Pillow mode "I" clips to 255: 300 -> 255, 200 -> 200. */
    unsigned char pgm16[] = "P5\n2 1\n65535\n\x01\x2C\x00\xC8";
    assert_int_equal(ic_decode(pgm16, sizeof pgm16 - 1, "t", NULL, NULL, &d), IMGCLASS_OK);
    assert_int_equal(d.pixels[0], 255);
    assert_int_equal(d.pixels[3], 200);
    free(d.pixels);
    unsigned char ppm[] = "P6\n1 1\n255\n\x01\x02\x03";
    assert_int_equal(ic_decode(ppm, sizeof ppm - 1, "t", NULL, NULL, &d), IMGCLASS_OK);
    assert_memory_equal(d.pixels, "\x01\x02\x03", 3);
    free(d.pixels);
    /* Values below computed by Pillow 9.4 (Image.open(f).convert("RGB")):
     * P6 16-bit is rescaled with rounding, not cut to the high byte. */
    unsigned char ppm16[] = "P6\n1 1\n65535\n\x01\x2C\x00\xC8\xFF\x00";
    assert_int_equal(ic_decode(ppm16, sizeof ppm16 - 1, "t", NULL, NULL, &d), IMGCLASS_OK);
    assert_memory_equal(d.pixels, "\x01\x01\xFE", 3);
    free(d.pixels);
    unsigned char pgm2[] = "P5\n3 1\n2\n\x00\x01\x02"; /* 127.5 rounds to even */
    assert_int_equal(ic_decode(pgm2, sizeof pgm2 - 1, "t", NULL, NULL, &d), IMGCLASS_OK);
    assert_int_equal(d.pixels[3], 128);
    assert_int_equal(d.pixels[6], 255);
    free(d.pixels);
    unsigned char pgm1000[] = "P5\n#c\n2 1 1000\n\x01\xF4\x03\xE8"; /* 500, 1000 */
    assert_int_equal(ic_decode(pgm1000, sizeof pgm1000 - 1, "t", NULL, NULL, &d), IMGCLASS_OK);
    assert_int_equal(d.pixels[0], 255); /* mode I: 32768, clipped */
    free(d.pixels);
    assert_int_equal(ic_decode(pgm1000, sizeof pgm1000 - 2, "t", NULL, NULL, &d),
                     IMGCLASS_ERR_CORRUPT);
    unsigned char pbm[] = "P1\n1 1\n1\n";
    assert_int_equal(ic_decode(pbm, sizeof pbm - 1, "t", NULL, NULL, &d), IMGCLASS_ERR_UNSUPPORTED);
}

static void expect_error(const unsigned char *d, size_t n, uint64_t max_pixels,
                         imgclass_status want)
{
    imgclass_decode_options o = {sizeof o, max_pixels, 0, 0, 0, 0};
    ic_decoded out;
    memset(&out, 0xAB, sizeof out);
    ic_decoded before = out;
    imgclass_status st = ic_decode(d, n, "some/source.img", &o, NULL, &out);
    assert_int_equal(st, want);
    assert_memory_equal(&out, &before, sizeof out); /* untouched */
    assert_non_null(strstr(imgclass_last_error(), "some/source.img"));
}

static void test_garbage_and_empty(void **state)
{
    (void)state;
    expect_error((const unsigned char *)"", 0, 0, IMGCLASS_ERR_CORRUPT);
    expect_error((const unsigned char *)"\xFF", 1, 0, IMGCLASS_ERR_UNSUPPORTED);
    unsigned char junk[256];
    for (int i = 0; i < 256; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    expect_error(junk, sizeof junk, 0, IMGCLASS_ERR_UNSUPPORTED);
    /* Signatures alone are corrupt files of a known format. */
    expect_error((const unsigned char *)"\xFF\xD8\xFF", 3, 0, IMGCLASS_ERR_CORRUPT);
    expect_error((const unsigned char *)"\x89PNG\r\n\x1A\n", 8, 0, IMGCLASS_ERR_CORRUPT);
    expect_error((const unsigned char *)"GIF89a", 6, 0, IMGCLASS_ERR_CORRUPT);
    ic_decoded out;
    assert_int_equal(ic_decode(NULL, 5, "x", NULL, NULL, &out), IMGCLASS_ERR_INVALID_ARGUMENT);
    assert_int_equal(ic_decode(junk, 5, "x", NULL, NULL, NULL), IMGCLASS_ERR_INVALID_ARGUMENT);
}

/* Every prefix of a valid file: never a crash, always a status; prefixes
 * that cut image data are corrupt (Pillow: "image file is truncated"). */
static void check_prefixes(const unsigned char *d, size_t n, size_t step)
{
    for (size_t len = 0; len < n; len += (len < 700 ? 1 : step)) {
        ic_decoded out;
        imgclass_status st = ic_decode(d, len, "cut", NULL, NULL, &out);
        if (st == IMGCLASS_OK) {
            /* Only a file missing its last bytes (EOI / IEND) may pass. */
            assert_true(len + 16 >= n);
            free(out.pixels);
        } else {
            assert_true(st == IMGCLASS_ERR_CORRUPT || st == IMGCLASS_ERR_UNSUPPORTED);
            assert_non_null(strstr(imgclass_last_error(), "cut"));
        }
    }
}

static void test_truncated_files(void **state)
{
    (void)state;
    size_t n;
    unsigned char *jpg = make_jpeg(&jpeg_cases[0], 120, 90, &n);
    check_prefixes(jpg, n, 7);
    free(jpg);
    jpg = make_jpeg(&jpeg_cases[5], 120, 90, &n); /* progressive */
    check_prefixes(jpg, n, 13);
    free(jpg);
    unsigned char *px = fx_pattern(64, 64, 3, 5);
    unsigned char *png = fx_encode_stb('p', px, 64, 64, 3, &n);
    check_prefixes(png, n, 11);
    free(png);
    free(px);
}

/* BMP, TGA and PSD cut anywhere before their last pixel are refused as
 * truncated (stb_image alone would fill the rest with zeros), as Pillow
 * refuses them; whole files decode. */
static void expect_whole_and_cut(const unsigned char *d, size_t n, size_t last_needed)
{
    ic_decoded out;
    assert_int_equal(ic_decode(d, n, "whole", NULL, NULL, &out), IMGCLASS_OK);
    free(out.pixels);
    for (size_t len = 1; len < last_needed; len += 1 + len / 64) {
        imgclass_status st = ic_decode(d, len, "cut", NULL, NULL, &out);
        if (st == IMGCLASS_OK)
            free(out.pixels);
        /* Too short to be recognised at all: unsupported. */
        assert_true(st == IMGCLASS_ERR_CORRUPT || (len < 26 && st == IMGCLASS_ERR_UNSUPPORTED));
    }
    assert_int_equal(ic_decode(d, last_needed - 1, "cut", NULL, NULL, &out), IMGCLASS_ERR_CORRUPT);
    assert_non_null(strstr(imgclass_last_error(), "truncated"));
}

static void test_truncated_bmp_tga_psd(void **state)
{
    (void)state;
    size_t n;
    unsigned char *px = fx_pattern(13, 11, 3, 3);
    unsigned char *bmp = fx_encode_stb('b', px, 13, 11, 3, &n);
    expect_whole_and_cut(bmp, n, n - 1); /* the last row's padding is not needed */
    free(bmp);
    unsigned char *tga = fx_encode_stb('t', px, 13, 11, 3, &n);
    expect_whole_and_cut(tga, n, n);
    free(tga);
    free(px);
    /* An 8-bit RGB PSD, raw: 26-byte header, three empty sections,
     * compression 0, then 3 planes of 4 x 3. */
    unsigned char psd[26 + 12 + 2 + 36] = {'8', 'B', 'P', 'S', 0, 1};
    psd[13] = 3;               /* channels */
    psd[17] = 3, psd[21] = 4;  /* height 3, width 4 */
    psd[23] = 8, psd[25] = 3;  /* 8 bits, RGB */
    for (size_t i = 40; i < sizeof psd; i++)
        psd[i] = (unsigned char)(i * 7);
    expect_whole_and_cut(psd, sizeof psd, sizeof psd);
    /* The same at 16 bits (Pillow reads no 16-bit PSD; stb reads every
     * sample, and would fill a missing one with zero): 3 planes of 4 x 3
     * big-endian samples; decoded, each is its high byte. */
    unsigned char psd16[26 + 12 + 2 + 72] = {'8', 'B', 'P', 'S', 0, 1};
    psd16[13] = 3, psd16[17] = 3, psd16[21] = 4;
    psd16[23] = 16, psd16[25] = 3;
    for (size_t i = 40; i < sizeof psd16; i++)
        psd16[i] = (unsigned char)(i * 7);
    expect_whole_and_cut(psd16, sizeof psd16, sizeof psd16);
    ic_decoded out;
    assert_int_equal(ic_decode(psd16, sizeof psd16, "psd16", NULL, NULL, &out), IMGCLASS_OK);
    for (int i = 0; i < 12; i++)
        for (int c = 0; c < 3; c++)
            assert_int_equal(out.pixels[(size_t)(i / 4) * out.stride + (size_t)(i % 4) * 3 + c],
                             psd16[40 + 24 * c + 2 * i]);
    free(out.pixels);
    /* 16-bit PackBits: stb reads it as 8-bit PackBits, wrong pixels:
     * refused, whole or not. */
    psd16[39] = 1; /* compression */
    assert_int_equal(ic_decode(psd16, sizeof psd16, "psd16rle", NULL, NULL, &out),
                     IMGCLASS_ERR_UNSUPPORTED);
    assert_non_null(strstr(imgclass_last_error(), "16-bit PackBits"));
}

/* A PSD with a fourth channel is refused: stb would un-premultiply it with
 * an out-of-range float cast (undefined behaviour the fuzzer found), where
 * Pillow leaves the colour as it is. */
static void test_psd_with_alpha_refused(void **state)
{
    (void)state;
    unsigned char psd[26 + 12 + 2 + 48] = {'8', 'B', 'P', 'S', 0, 1};
    psd[13] = 4;               /* channels: RGB + alpha */
    psd[17] = 3, psd[21] = 4;  /* height 3, width 4 */
    psd[23] = 8, psd[25] = 3;  /* 8 bits, RGB */
    for (size_t i = 40; i < sizeof psd; i++)
        psd[i] = (unsigned char)(i * 7);
    imgclass_image *img = NULL;
    assert_int_equal(imgclass_image_load_memory(psd, sizeof psd, NULL, &img),
                     IMGCLASS_ERR_UNSUPPORTED);
    assert_null(img);
    assert_non_null(strstr(imgclass_last_error(), "PSD with 4 channels"));
}

/* A region at the top of a file whose bottom is missing is still an error:
 * the full decode (and Pillow) fail on it. */
static void test_truncated_jpeg_region(void **state)
{
    (void)state;
    size_t n;
    unsigned char *jpg = make_jpeg(&jpeg_cases[0], 160, 160, &n);
    region_ctx ctx = {1, {8, 8, 16, 16}, 0, 0};
    ic_decode_request req = {&ctx, pick_scale, pick_region, 0};
    ic_decoded out;
    assert_int_equal(ic_decode(jpg, n, "t", NULL, &req, &out), IMGCLASS_OK);
    free(out.pixels);
    assert_int_equal(ic_decode(jpg, n * 2 / 3, "t", NULL, &req, &out), IMGCLASS_ERR_CORRUPT);
    assert_int_equal(ic_decode(jpg, n * 2 / 3, "t", NULL, NULL, &out), IMGCLASS_ERR_CORRUPT);
    /* Without the EOI marker but with all data: same answer both ways. */
    imgclass_status full = ic_decode(jpg, n - 2, "t", NULL, NULL, &out);
    if (full == IMGCLASS_OK)
        free(out.pixels);
    imgclass_status part = ic_decode(jpg, n - 2, "t", NULL, &req, &out);
    if (part == IMGCLASS_OK)
        free(out.pixels);
    assert_int_equal(full, part);
    free(jpg);
}

static void test_too_large(void **state)
{
    (void)state;
    size_t n;
    unsigned char *jpg = make_jpeg(&jpeg_cases[0], 40, 30, &n);
    expect_error(jpg, n, 1199, IMGCLASS_ERR_TOO_LARGE);
    imgclass_decode_options o = {sizeof o, 1200, 0, 0, 0, 0};
    ic_decoded out;
    assert_int_equal(ic_decode(jpg, n, "t", &o, NULL, &out), IMGCLASS_OK);
    free(out.pixels);
    /* A crafted SOF claiming 60000 x 60000 (the rest of the file intact):
     * refused from the header, before any allocation of that size. */
    for (size_t i = 0; i + 8 < n; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
            jpg[i + 5] = 0xEA, jpg[i + 6] = 0x60; /* height 60000 */
            jpg[i + 7] = 0xEA, jpg[i + 8] = 0x60; /* width 60000 */
            break;
        }
    expect_error(jpg, n, IMGCLASS_DEFAULT_MAX_PIXELS, IMGCLASS_ERR_TOO_LARGE);
    assert_int_equal(ic_decode(jpg, n, "t", NULL, NULL, &out), IMGCLASS_ERR_TOO_LARGE);
    free(jpg);

    unsigned char *px = fx_pattern(40, 30, 3, 1);
    unsigned char *png = fx_encode_stb('p', px, 40, 30, 3, &n);
    expect_error(png, n, 1000, IMGCLASS_ERR_TOO_LARGE);
    /* IHDR width/height at offsets 16 and 20: claim 10000 x 10000, over
     * the default limit (stb ignores the now wrong CRC). */
    png[16] = 0, png[17] = 0, png[18] = 0x27, png[19] = 0x10;
    png[20] = 0, png[21] = 0, png[22] = 0x27, png[23] = 0x10;
    expect_error(png, n, IMGCLASS_DEFAULT_MAX_PIXELS, IMGCLASS_ERR_TOO_LARGE);
    /* 60000 x 60000 and 0x7fffffff square: "too large" from our own read
     * of the IHDR (stb_image would call it corrupt or unknown). */
    png[18] = 0xEA, png[19] = 0x60, png[22] = 0xEA, png[23] = 0x60;
    expect_error(png, n, IMGCLASS_DEFAULT_MAX_PIXELS, IMGCLASS_ERR_TOO_LARGE);
    png[16] = 0x7F, png[17] = png[18] = png[19] = 0xFF;
    png[20] = 0x7F, png[21] = png[22] = png[23] = 0xFF;
    expect_error(png, n, IMGCLASS_DEFAULT_MAX_PIXELS, IMGCLASS_ERR_TOO_LARGE);
    assert_non_null(strstr(imgclass_last_error(), "too large"));
    free(png);
    free(px);
}

/* Decoding from several threads at once (stb's failure reason and our
 * error messages are thread-local; nothing else is shared). */
typedef struct thread_job {
    const unsigned char *jpg, *png;
    size_t jpg_n, png_n;
    int failures;
} thread_job;

static void *decode_loop(void *arg)
{
    thread_job *j = arg;
    for (int i = 0; i < 20; i++) {
        ic_decoded d;
        if (ic_decode(j->jpg, j->jpg_n, "t", NULL, NULL, &d) != IMGCLASS_OK)
            j->failures++;
        else
            free(d.pixels);
        if (ic_decode(j->png, j->png_n, "t", NULL, NULL, &d) != IMGCLASS_OK)
            j->failures++;
        else
            free(d.pixels);
        if (ic_decode(j->png, j->png_n / 2, "t", NULL, NULL, &d) == IMGCLASS_OK)
            j->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    size_t jn, pn;
    unsigned char *jpg = make_jpeg(&jpeg_cases[0], 64, 64, &jn);
    unsigned char *px = fx_pattern(64, 64, 4, 3);
    unsigned char *png = fx_encode_stb('p', px, 64, 64, 4, &pn);
    thread_job jobs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){jpg, png, jn, pn, 0};
        assert_int_equal(pthread_create(&t[i], NULL, decode_loop, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    free(jpg);
    free(png);
    free(px);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_equals_full_decode),
        cmocka_unit_test(test_region_equals_full_decode_scaled),
        cmocka_unit_test(test_scale_reports_scaled_size),
        cmocka_unit_test(test_jpeg_colours),
        cmocka_unit_test(test_lossless_formats),
        cmocka_unit_test(test_pnm),
        cmocka_unit_test(test_garbage_and_empty),
        cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_truncated_bmp_tga_psd),
        cmocka_unit_test(test_psd_with_alpha_refused),
        cmocka_unit_test(test_truncated_jpeg_region),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
