/* PNG, BMP, GIF, TGA and PSD through stb_image (Debian libstb-dev, v2.27).
 *
 * stb_image is compiled here, once, privately (STB_IMAGE_STATIC). Thread
 * safety: v2.27 keeps its failure reason in a thread-local (C11
 * _Thread_local) and we never call the global setters
 * (stbi_set_flip_vertically_on_load and friends), so concurrent decodes are
 * safe.
 *
 * Conversion to RGB matches Pillow 9.4's Image.open(f).convert("RGB"),
 * checked on files written by Pillow and numpy:
 *  - 8-bit gray, gray+alpha, RGB, RGBA, palette (with or without tRNS):
 *    stb's own conversion to 3 channels replicates gray and drops alpha,
 *    as Pillow does (alpha is not composited).
 *  - 16-bit gray PNG / 16-bit PGM: Pillow opens them as mode "I" and
 *    convert("RGB") clips each value to 255 (300 -> 255), it does not keep
 *    the high byte as stb's 8-bit path would; we load 16 bits and clip.
 *  - 16-bit gray+alpha PNG: Pillow reads it as "LA" with rawmode "LA;16B",
 *    i.e. the high byte of the gray value: value >> 8.
 *  - 48-bit RGB and 64-bit RGBA PNG: the high byte of each channel.
 * Known differences from Pillow (exotic inputs, documented not hidden):
 *  - GIF with a transparent colour: stb leaves transparent pixels of the
 *    first frame black (0,0,0); Pillow gives the palette entry of the
 *    transparency index. GIFs whose first frame does not cover the logical
 *    screen may differ in the uncovered area too.
 *  - PNG CRC errors: stb ignores them; Pillow refuses the file.
 *  - PSD: stb reads the merged composite; Pillow reads the same image for
 *    common 8-bit RGB files but other variants may differ.
 *  - PNM is read by decode_pnm.c instead (stb neither byte-swaps 16-bit
 *    samples nor rescales by maxval); text PNM (P1-P4) is refused. */
#include "decode_stb.h"

#include "decode_common.h"
#include "decode_complete.h"
#include "error.h"

#include <limits.h>
#include <malloc.h> /* malloc_usable_size: what a free() gives back */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Every allocation stb makes goes through a per-decode budget (below): the
 * total it holds at once is capped by the decode memory limit, and any one
 * buffer by what the header's dimensions can need, so a PNG whose IDAT
 * inflates far past its 1x1 header stops there instead of growing stb's
 * zlib buffer by doubling until memory runs out. */
static void *budget_malloc(size_t n);
static void *budget_realloc(void *p, size_t n);
static void budget_free(void *p);
#define STBI_MALLOC(n) budget_malloc(n)
#define STBI_REALLOC(p, n) budget_realloc(p, n)
#define STBI_FREE(p) budget_free(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO  /* we read files ourselves */
#define STBI_NO_JPEG   /* JPEG goes through libjpeg-turbo, as in Pillow */
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_NO_PIC    /* Softimage PIC: Pillow does not read it */
#define STBI_NO_PNM    /* decode_pnm.c: stb's does not match Pillow */
/* The library must never abort; a failed stb assertion would be a bug in
 * stb, found by the fuzzer, not something to crash a host process for. */
#define STBI_ASSERT(x) ((void)0)
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
/* v2.27 declares stbi_set_unpremultiply_on_load_thread without defining
 * it; GCC reports that at the end of the file, so this stays off here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

/* The budget of the decode running on this thread (NULL outside one:
 * stb then allocates freely, as stbi_info does for a few bytes). */
typedef struct stb_budget {
    size_t live;     /* bytes held now (usable sizes) */
    size_t max_live; /* the decode memory limit; 0: none */
    size_t max_one;  /* the largest single buffer the header allows */
    int over_live, over_one;
} stb_budget;

static _Thread_local stb_budget *tl_budget;

static int budget_allows(stb_budget *b, size_t old_bytes, size_t n)
{
    if (n > b->max_one) {
        b->over_one = 1;
        return 0;
    }
    if (b->max_live && b->live - old_bytes + n > b->max_live) {
        b->over_live = 1;
        return 0;
    }
    return 1;
}

static void *budget_malloc(size_t n)
{
    stb_budget *b = tl_budget;
    if (b && !budget_allows(b, 0, n))
        return NULL;
    void *p = malloc(n ? n : 1);
    if (b && p)
        b->live += malloc_usable_size(p);
    return p;
}

static void *budget_realloc(void *p, size_t n)
{
    stb_budget *b = tl_budget;
    size_t old_bytes = p ? malloc_usable_size(p) : 0;
    if (b && !budget_allows(b, old_bytes, n))
        return NULL;
    void *q = realloc(p, n ? n : 1);
    if (b && q)
        b->live = b->live - old_bytes + malloc_usable_size(q);
    return q;
}

static void budget_free(void *p)
{
    stb_budget *b = tl_budget;
    if (b && p)
        b->live -= malloc_usable_size(p);
    free(p);
}

static const char *format_name(const unsigned char *d, size_t n)
{
    if (n >= 4 && memcmp(d, "\x89PNG", 4) == 0)
        return "PNG";
    if (n >= 2 && memcmp(d, "BM", 2) == 0)
        return "BMP";
    if (n >= 3 && memcmp(d, "GIF", 3) == 0)
        return "GIF";
    if (n >= 4 && memcmp(d, "8BPS", 4) == 0)
        return "PSD";
    return "TGA";
}

int ic_stb_is_tga(const unsigned char *data, size_t size)
{
    int w, h, comp;
    /* PNG/BMP/GIF/PSD/PNM were recognised by signature before this is
     * asked, so stb accepting the header here means its TGA reader does. */
    return size <= INT_MAX && stbi_info_from_memory(data, (int)size, &w, &h, &comp);
}

/* Why stb failed, as a status and a message: a budget refusal or a real
 * allocation failure is not "corrupt data". */
static imgclass_status stb_failed(const char *source, const char *format, int w, int h,
                                  const stb_budget *b)
{
    if (b && b->over_one)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source,
                       "%s data expands to more than its %dx%d header allows (a decompression "
                       "bomb?)",
                       format, w, h);
    if (b && b->over_live)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source,
                       "decoding this %dx%d %s needs more than the decode memory limit of %zu MiB",
                       w, h, format, b->max_live >> 20);
    const char *why = stbi_failure_reason();
    if (why && strcmp(why, "outofmem") == 0)
        return ic_error_oom(source, "decoded pixels");
    if (why && strcmp(why, "too large") == 0)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source, "%s image of %dx%d", format, w, h);
    if (!why || !*why)
        why = strcmp(format, "GIF") == 0 ? "no image in the file (it ends before a first frame)"
                                         : "the decoder gave no reason";
    return ic_fail(IMGCLASS_ERR_CORRUPT, source, "cannot decode %s: %s", format, why);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static long long le32s(const unsigned char *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* The size the header claims, read directly (stb refuses sides over 2^24
 * with a reason that hides the cause, and tries every format in turn):
 * 1 when found. */
static int header_size(const char *format, const unsigned char *d, size_t n, long long *w,
                       long long *h)
{
    if (strcmp(format, "PNG") == 0 && n >= 24 && memcmp(d + 12, "IHDR", 4) == 0) {
        *w = be32(d + 16), *h = be32(d + 20);
        return 1;
    }
    if (strcmp(format, "GIF") == 0 && n >= 10) {
        *w = le16(d + 6), *h = le16(d + 8);
        return 1;
    }
    if (strcmp(format, "PSD") == 0 && n >= 22) {
        *h = be32(d + 14), *w = be32(d + 18);
        return 1;
    }
    if (strcmp(format, "BMP") == 0 && n >= 26) {
        uint32_t hsize = (uint32_t)le32s(d + 14);
        if (hsize == 12) {
            *w = le16(d + 18), *h = le16(d + 20);
        } else {
            *w = le32s(d + 18), *h = le32s(d + 22);
            if (*h < 0)
                *h = -*h; /* top-down */
        }
        return 1;
    }
    return 0;
}

/* 16-bit images: the rules of Pillow's 16-bit modes (see the top). */
static unsigned char *rgb_from_16bit(const stbi_us *in, int w, int h, int comp)
{
    size_t count = (size_t)w * (size_t)h;
    unsigned char *rgb = malloc(count * 3);
    if (!rgb)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const stbi_us *p = in + i * (size_t)comp;
        unsigned char *o = rgb + i * 3;
        if (comp == 1) {
            unsigned char v = p[0] > 255 ? 255 : (unsigned char)p[0];
            o[0] = o[1] = o[2] = v;
        } else if (comp == 2) {
            o[0] = o[1] = o[2] = (unsigned char)(p[0] >> 8);
        } else {
            o[0] = (unsigned char)(p[0] >> 8);
            o[1] = (unsigned char)(p[1] >> 8);
            o[2] = (unsigned char)(p[2] >> 8);
        }
    }
    return rgb;
}

/* stb_image computes `idata + 0` with idata still NULL when an IDAT chunk
 * of length 0 comes before any image data: undefined behaviour in C (found
 * by the fuzzer). Such chunks add nothing to the compressed stream, and
 * Pillow reads past them, so stb is given a copy without them. */

/* Whether the chunk at `pos` is an empty IDAT before any image data;
 * *next is the chunk after it. 0 at the end of the walk (first non-empty
 * IDAT, IEND, or a chunk that does not fit: stb judges those itself). */
static int png_next_chunk(const unsigned char *d, size_t n, size_t pos, size_t *next, int *empty)
{
    if (pos > n || n - pos < 8)
        return 0;
    uint32_t len = be32(d + pos);
    int idat = memcmp(d + pos + 4, "IDAT", 4) == 0;
    if ((idat && len > 0) || memcmp(d + pos + 4, "IEND", 4) == 0)
        return 0;
    if (idat && n - pos < 12) { /* an empty IDAT cut in its CRC: stb reads its header too */
        *empty = 1;
        *next = n;
        return 1;
    }
    if (n - pos < 12 || len > n - pos - 12)
        return 0;
    *empty = idat;
    *next = pos + 12 + (size_t)len;
    return 1;
}

/* Sets *copy (malloc'd, *copy_n bytes) to the PNG without its leading empty
 * IDAT chunks when it has any; leaves it NULL otherwise. */
static imgclass_status png_drop_leading_empty_idat(const unsigned char *d, size_t n,
                                                   const char *source, unsigned char **copy,
                                                   size_t *copy_n)
{
    *copy = NULL;
    size_t pos = 8, next, drop = 0;
    int empty;
    for (; png_next_chunk(d, n, pos, &next, &empty); pos = next)
        drop += empty ? next - pos : 0; /* bytes */
    if (drop == 0)
        return IMGCLASS_OK;
    unsigned char *c = malloc(n - drop);
    if (!c)
        return ic_error_oom(source, "a copy of the PNG data");
    size_t out = 8;
    memcpy(c, d, 8);
    for (pos = 8; png_next_chunk(d, n, pos, &next, &empty); pos = next)
        if (!empty) {
            memcpy(c + out, d + pos, next - pos);
            out += next - pos;
        }
    memcpy(c + out, d + pos, n - pos); /* the rest as it is */
    *copy = c;
    *copy_n = out + (n - pos);
    return IMGCLASS_OK;
}

/* The pixels of a checked w x h image, as RGB, under the memory budget. */
static imgclass_status stb_rgb(const unsigned char *data, int len, const char *source,
                               const char *format, int w, int h, const ic_decode_limits *limits,
                               unsigned char **rgb_out)
{
    /* One buffer never needs more than 10 bytes a pixel (16-bit RGBA plus
     * PNG filter bytes and interlacing) or the input size, plus tables. */
    stb_budget budget = {0};
    budget.max_live = limits->max_memory > SIZE_MAX ? SIZE_MAX : (size_t)limits->max_memory;
    budget.max_one = (size_t)w * (size_t)h * 10u + (size_t)len + ((size_t)1 << 20);
    tl_budget = &budget;

    unsigned char *rgb;
    int dw = 0, dh = 0, dcomp = 0;
    if (stbi_is_16_bit_from_memory(data, len)) {
        stbi_us *wide = stbi_load_16_from_memory(data, len, &dw, &dh, &dcomp, 0);
        tl_budget = NULL;
        if (!wide)
            return stb_failed(source, format, w, h, &budget);
        if (dw != w || dh != h || dcomp < 1 || dcomp > 4) {
            stbi_image_free(wide);
            return ic_fail(IMGCLASS_ERR_CORRUPT, source, "inconsistent %s header", format);
        }
        if (budget.max_live && budget.live + (size_t)dw * (size_t)dh * 3u > budget.max_live) {
            stbi_image_free(wide);
            budget.over_live = 1;
            return stb_failed(source, format, w, h, &budget);
        }
        rgb = rgb_from_16bit(wide, dw, dh, dcomp);
        stbi_image_free(wide);
        if (!rgb)
            return ic_error_oom(source, "decoded pixels");
    } else {
        /* stb converts to 3 channels itself: gray replicated, alpha dropped. */
        rgb = stbi_load_from_memory(data, len, &dw, &dh, &dcomp, 3);
        tl_budget = NULL;
        if (!rgb)
            return stb_failed(source, format, w, h, &budget);
        if (dw != w || dh != h) {
            stbi_image_free(rgb);
            return ic_fail(IMGCLASS_ERR_CORRUPT, source, "inconsistent %s header", format);
        }
    }
    *rgb_out = rgb;
    return IMGCLASS_OK;
}

imgclass_status ic_decode_stb(const unsigned char *data, size_t size, const char *source,
                              const ic_decode_limits *limits, const ic_decode_request *request,
                              ic_decoded *out)
{
    const char *format = format_name(data, size);
    if (size > INT_MAX)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source, "%s data of %zu bytes", format, size);
    long long hw, hh;
    if (header_size(format, data, size, &hw, &hh) && hw > 0 && hh > 0) {
        imgclass_status st = ic_decode_check_size(source, format, hw, hh, limits->max_pixels);
        if (st != IMGCLASS_OK)
            return st;
    }
    int len = (int)size, w = 0, h = 0, comp = 0;
    stbi__g_failure_reason = NULL;
    if (!stbi_info_from_memory(data, len, &w, &h, &comp))
        return stb_failed(source, format, w, h, NULL);
    imgclass_status st = ic_decode_check_size(source, format, w, h, limits->max_pixels);
    if (st == IMGCLASS_OK) /* the least any decode holds: the RGB output */
        st = ic_decode_check_memory(source, format, w, h, 3, limits);
    if (st == IMGCLASS_OK && !ic_decode_header_only(request)) /* a prefix may end anywhere */
        st = ic_check_complete(data, size, source, format, w, h);
    if (st != IMGCLASS_OK)
        return st;
    /* stb_image "un-premultiplies" a PSD's colour by its fourth channel with
     * a float-to-byte cast that is undefined behaviour when colour is below
     * what the alpha allows (found by the fuzzer), and Pillow's
     * convert("RGB") drops that channel untouched instead: such a PSD can be
     * neither safe nor exact here. */
    if (strcmp(format, "PSD") == 0 && size >= 14 && ((data[12] << 8) | data[13]) >= 4)
        return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                       "PSD with %d channels (only 1 to 3 are read exactly)",
                       (data[12] << 8) | data[13]);
    if (ic_decode_header_only(request))
        return ic_decode_header_done(w, h, out);

    unsigned char *png_copy = NULL;
    size_t png_copy_n = 0;
    if (strcmp(format, "PNG") == 0) {
        st = png_drop_leading_empty_idat(data, size, source, &png_copy, &png_copy_n);
        if (st != IMGCLASS_OK)
            return st;
        if (png_copy) {
            data = png_copy;
            len = (int)png_copy_n;
        }
    }

    unsigned char *rgb = NULL;
    st = stb_rgb(data, len, source, format, w, h, limits, &rgb);
    free(png_copy);
    if (st != IMGCLASS_OK)
        return st;
    /* The caller may still want to learn the size and name a region; the
     * block is the whole image, which covers any region. */
    (void)ic_decode_region(request, w, h);
    out->image_width = w;
    out->image_height = h;
    out->block.x = 0;
    out->block.y = 0;
    out->block.width = w;
    out->block.height = h;
    out->stride = (size_t)w * 3;
    out->pixels = rgb;
    return IMGCLASS_OK;
}
