/* ic_decode: recognises the format by its first bytes and hands the data to
 * libjpeg-turbo (JPEG) or stb_image (everything else). */
#include "decode.h"

#include "decode_common.h"
#include "decode_jpeg.h"
#include "decode_pnm.h"
#include "decode_stb.h"
#include "error.h"
#include "exif.h"
#include "file_io.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ic_decode_limits ic_decode_limits_from(const imgclass_decode_options *options)
{
    imgclass_decode_options defaults = imgclass_decode_options_default();
    const imgclass_decode_options *o = options ? options : &defaults;
    ic_decode_limits limits = {o->max_pixels, o->max_decode_memory, o->max_jpeg_scans};
    if (limits.max_jpeg_scans < 0)
        limits.max_jpeg_scans = 0;
    return limits;
}

size_t ic_decode_max_file_bytes(const imgclass_decode_options *options)
{
    uint64_t max = options ? options->max_file_bytes : IMGCLASS_DEFAULT_MAX_FILE_BYTES;
    return max > SIZE_MAX ? SIZE_MAX : (size_t)max;
}

imgclass_status ic_decode_check_memory(const char *source, const char *format, long long width,
                                       long long height, unsigned bytes_per_pixel,
                                       const ic_decode_limits *limits)
{
    if (!limits->max_memory || width <= 0 || height <= 0)
        return IMGCLASS_OK;
    /* width and height are below 2^32 here: no overflow below 2^64. */
    uint64_t pixels = (uint64_t)width * (uint64_t)height;
    if (pixels > limits->max_memory / bytes_per_pixel)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source,
                       "decoding this %lldx%lld %s needs about %llu MiB, over the decode memory "
                       "limit of %llu MiB",
                       width, height, format,
                       (unsigned long long)((pixels * bytes_per_pixel) >> 20),
                       (unsigned long long)(limits->max_memory >> 20));
    return IMGCLASS_OK;
}

imgclass_status ic_decode_check_size(const char *source, const char *format, long long width,
                                     long long height, uint64_t max_pixels)
{
    if (width <= 0 || height <= 0)
        return ic_fail(IMGCLASS_ERR_CORRUPT, source, "%s header gives size %lldx%lld", format,
                       width, height);
    /* Both fit in 32 bits here (the decoders report ints), so the product
     * cannot overflow 64 bits. */
    uint64_t pixels = (uint64_t)width * (uint64_t)height;
    if (max_pixels && pixels > max_pixels)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source,
                       "%s image is %lldx%lld = %llu pixels, limit %llu", format, width, height,
                       (unsigned long long)pixels, (unsigned long long)max_pixels);
    return IMGCLASS_OK;
}

ic_region ic_decode_region(const ic_decode_request *request, int width, int height)
{
    ic_region whole = {0, 0, width, height};
    if (!request || !request->choose_region)
        return whole;
    ic_region r = whole;
    request->choose_region(request->ctx, width, height, &r);
    /* Clamp in 64 bits so that absurd values cannot overflow. */
    long long x0 = r.x < 0 ? 0 : r.x, y0 = r.y < 0 ? 0 : r.y;
    long long x1 = (long long)r.x + r.width, y1 = (long long)r.y + r.height;
    if (x1 > width)
        x1 = width;
    if (y1 > height)
        y1 = height;
    if (x0 >= x1 || y0 >= y1)
        return whole;
    ic_region clamped = {(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
    return clamped;
}

int ic_decode_header_only(const ic_decode_request *request)
{
    return request && request->header_only;
}

imgclass_status ic_decode_header_done(int width, int height, ic_decoded *out)
{
    out->image_width = width;
    out->image_height = height;
    out->block = (ic_region){0, 0, 0, 0};
    out->stride = 0;
    out->pixels = NULL;
    return IMGCLASS_OK;
}

/* What the first bytes say. */
typedef enum sniffed {
    SNIFF_UNKNOWN,
    SNIFF_JPEG,
    SNIFF_STB,      /* a signature stb_image reads */
    SNIFF_PNM,      /* binary PGM/PPM (P5/P6) */
    SNIFF_PNM_TEXT, /* P1-P4: PNM variants stb_image does not read */
} sniffed;

static int starts_with(const unsigned char *data, size_t size, const char *magic, size_t n)
{
    return size >= n && memcmp(data, magic, n) == 0;
}

static sniffed sniff(const unsigned char *data, size_t size)
{
    if (starts_with(data, size, "\xFF\xD8\xFF", 3))
        return SNIFF_JPEG;
    if (starts_with(data, size, "\x89PNG\r\n\x1A\n", 8) || starts_with(data, size, "BM", 2) ||
        starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6) ||
        starts_with(data, size, "8BPS", 4))
        return SNIFF_STB;
    if (starts_with(data, size, "P5", 2) || starts_with(data, size, "P6", 2))
        return SNIFF_PNM;
    if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '4')
        return SNIFF_PNM_TEXT;
    return SNIFF_UNKNOWN;
}

imgclass_status ic_decode_head_check(const unsigned char *head, size_t n, const char *path)
{
    if (n < IC_HEAD_BYTES || sniff(head, n) != SNIFF_UNKNOWN)
        return IMGCLASS_OK;
    /* TGA has no signature; stb's TGA test needs a colour-map type of 0 or
     * 1 and an image type of 1, 2, 3, 9, 10 or 11 (a superset here). */
    if (head[1] <= 1 && (head[2] == 1 || head[2] == 2 || head[2] == 3 || head[2] == 9 ||
                         head[2] == 10 || head[2] == 11))
        return IMGCLASS_OK;
    return ic_fail(IMGCLASS_ERR_UNSUPPORTED, path,
                   "not a JPEG, PNG, BMP, GIF, TGA, PNM or PSD image (judged from its first %d "
                   "bytes)",
                   IC_HEAD_BYTES);
}

imgclass_file_format ic_decode_format(const unsigned char *data, size_t size)
{
    if (!data)
        return IMGCLASS_FILE_UNKNOWN;
    switch (sniff(data, size)) {
    case SNIFF_JPEG: return IMGCLASS_FILE_JPEG;
    case SNIFF_PNM: return IMGCLASS_FILE_PNM;
    case SNIFF_PNM_TEXT: return IMGCLASS_FILE_UNKNOWN; /* refused by ic_decode */
    case SNIFF_STB:
        if (data[0] == 0x89)
            return IMGCLASS_FILE_PNG;
        if (data[0] == 'B')
            return IMGCLASS_FILE_BMP;
        if (data[0] == 'G')
            return IMGCLASS_FILE_GIF;
        return IMGCLASS_FILE_PSD;
    case SNIFF_UNKNOWN:
        break;
    }
    return ic_stb_is_tga(data, size) ? IMGCLASS_FILE_TGA : IMGCLASS_FILE_UNKNOWN;
}

static imgclass_status decode_format(const unsigned char *data, size_t size, const char *source,
                                     const ic_decode_limits *limits,
                                     const ic_decode_request *request, ic_decoded *out);

imgclass_status ic_decode(const unsigned char *data, size_t size, const char *source,
                          const imgclass_decode_options *options,
                          const ic_decode_request *request, ic_decoded *out)
{
    if (!source)
        source = "memory buffer";
    if (!out || (!data && size))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL %s", out ? "data" : "output");
    if (size == 0)
        return ic_fail(IMGCLASS_ERR_CORRUPT, source, "empty (0 bytes)");
    ic_decode_limits limits = ic_decode_limits_from(options);
    int orientation = options && options->exif_transpose ? ic_exif_orientation(data, size) : 0;
    if (orientation < 2)
        return decode_format(data, size, source, &limits, request, out);
    if (request && request->header_only) {
        /* A probe: the size the transposed image will have. */
        imgclass_status st = decode_format(data, size, source, &limits, request, out);
        if (st == IMGCLASS_OK && orientation >= 5) {
            int w = out->image_width;
            out->image_width = out->image_height;
            out->image_height = w;
            out->block.x = out->block.y = 0;
            out->block.width = out->image_width;
            out->block.height = out->image_height;
        }
        return st;
    }
    /* Rotated or flipped: the caller's region and scale are in the
     * transposed image's coordinates, so decode all of it, exactly, and
     * transpose it; the caller then takes what it needs from the whole. */
    ic_decoded whole;
    memset(&whole, 0, sizeof whole);
    imgclass_status st = decode_format(data, size, source, &limits, NULL, &whole);
    if (st == IMGCLASS_OK)
        st = ic_exif_transpose(&whole, orientation, source, &limits);
    if (st != IMGCLASS_OK) {
        free(whole.pixels);
        return st;
    }
    *out = whole;
    return IMGCLASS_OK;
}

static imgclass_status decode_format(const unsigned char *data, size_t size, const char *source,
                                     const ic_decode_limits *limits,
                                     const ic_decode_request *request, ic_decoded *out)
{
    const ic_decode_limits *lim = limits;
    switch (sniff(data, size)) {
    case SNIFF_JPEG:
        return ic_decode_jpeg(data, size, source, lim, request, out);
    case SNIFF_STB:
        return ic_decode_stb(data, size, source, lim, request, out);
    case SNIFF_PNM:
        return ic_decode_pnm(data, size, source, lim, request, out);
    case SNIFF_PNM_TEXT:
        return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                       "PNM variant P%c (only binary P5/P6 are read)", data[1]);
    case SNIFF_UNKNOWN:
        break;
    }
    /* TGA has no signature: let stb_image's own test decide. */
    if (ic_stb_is_tga(data, size))
        return ic_decode_stb(data, size, source, lim, request, out);
    return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                   "not a JPEG, PNG, BMP, GIF, TGA, PNM or PSD image (%zu bytes)", size);
}
