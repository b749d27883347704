/* The decode options' defaults, and the checks and helpers every decoder
 * shares (decode_common.h). Nothing here calls a decoder, the dispatcher or
 * anything else above the decode layers. */
#include "decode_common.h"

#include "error.h"
#include "file_io.h" /* IC_HEAD_BYTES */
#include "struct_size.h"

#include <stdint.h>
#include <string.h>

/* The public defaults live here, at the bottom of the decode layers, and not
 * in image.c: ic_decode_limits_from() needs them, and image.c calls the
 * dispatcher (ic_decode), which calls this unit, so a definition there would
 * close a call circle (test/layering/decode_layers.sh). */
IMGCLASS_API imgclass_status imgclass_decode_options_init(imgclass_decode_options *opts, size_t size)
{
    imgclass_decode_options options;
    memset(&options, 0, sizeof options);
    options.max_pixels = IMGCLASS_DEFAULT_MAX_PIXELS;
    options.max_file_bytes = IMGCLASS_DEFAULT_MAX_FILE_BYTES;
    options.max_decode_memory = IMGCLASS_DEFAULT_MAX_DECODE_MEMORY;
    options.max_jpeg_scans = IMGCLASS_DEFAULT_MAX_JPEG_SCANS;
    return ic_struct_init(&ic_layout_decode_options, opts, size, &options);
}

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

static int starts_with(const unsigned char *data, size_t size, const char *magic, size_t n)
{
    return size >= n && memcmp(data, magic, n) == 0;
}

ic_sniffed ic_decode_sniff(const unsigned char *data, size_t size)
{
    if (starts_with(data, size, "\xFF\xD8\xFF", 3))
        return IC_SNIFF_JPEG;
    if (starts_with(data, size, "\x89PNG\r\n\x1A\n", 8) || starts_with(data, size, "BM", 2) ||
        starts_with(data, size, "GIF87a", 6) || starts_with(data, size, "GIF89a", 6) ||
        starts_with(data, size, "8BPS", 4))
        return IC_SNIFF_STB;
    if (starts_with(data, size, "P5", 2) || starts_with(data, size, "P6", 2))
        return IC_SNIFF_PNM;
    if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '4')
        return IC_SNIFF_PNM_TEXT;
    return IC_SNIFF_UNKNOWN;
}

imgclass_status ic_decode_head_check(const unsigned char *head, size_t n, const char *path)
{
    if (n < IC_HEAD_BYTES || ic_decode_sniff(head, n) != IC_SNIFF_UNKNOWN)
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
