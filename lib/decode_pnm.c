/* Binary PNM as Pillow 9.4's PpmImagePlugin reads it, then convert("RGB"):
 *  - maxval 255: the bytes as they are (gray replicated).
 *  - P5 with maxval 65535: mode "I" from big-endian 16 bits; convert("RGB")
 *    clips to 255.
 *  - any other maxval: Pillow's PpmDecoder scales each sample to
 *    min(out_max, round(v / maxval * out_max)) in double precision with
 *    Python's round-half-to-even, out_max 65535 for P5 with maxval > 255
 *    (mode "I", then clipped to 255 by convert) and 255 otherwise.
 *  - a header token is at most 10 characters; '#' starts a comment up to
 *    CR or LF; exactly one whitespace byte ends the maxval token. */
#include "decode_pnm.h"

#include "decode_common.h"
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Pillow's _read_token + int(): a decimal number, or -1. */
static long read_token(const unsigned char *d, size_t n, size_t *pos)
{
    char token[12];
    size_t len = 0;
    while (len <= 10 && *pos < n) {
        unsigned char c = d[(*pos)++];
        if (is_space(c)) {
            if (len == 0)
                continue;
            break;
        }
        if (c == '#') {
            while (*pos < n && d[*pos] != '\r' && d[*pos] != '\n')
                (*pos)++;
            if (*pos < n)
                (*pos)++;
            continue;
        }
        token[len++] = (char)c;
    }
    if (len == 0 || len > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (token[i] < '0' || token[i] > '9')
            return -1;
        v = v * 10 + (token[i] - '0');
    }
    return v;
}

static unsigned char to_8bit(unsigned v, long maxval, int out_max)
{
    if (maxval == 255)
        return (unsigned char)v;
    double scaled = maxval == 65535 && out_max == 65535
                        ? (double)v
                        : nearbyint((double)v / (double)maxval * (double)out_max);
    if (scaled > out_max)
        scaled = out_max;
    return scaled > 255 ? 255 : (unsigned char)scaled; /* convert("RGB") clips I */
}

imgclass_status ic_decode_pnm(const unsigned char *data, size_t size, const char *source,
                              const ic_decode_limits *limits, const ic_decode_request *request,
                              ic_decoded *out)
{
    int channels = data[1] == '6' ? 3 : 1;
    if (size < 3 || !is_space(data[2]))
        return ic_error(IMGCLASS_ERR_CORRUPT, "%s: corrupt data: bad PNM signature", source);
    size_t pos = 3;
    long w = read_token(data, size, &pos);
    long h = w < 0 ? -1 : read_token(data, size, &pos);
    long maxval = h < 0 ? -1 : read_token(data, size, &pos);
    if (w < 0 || h < 0 || maxval < 0)
        return ic_error(IMGCLASS_ERR_CORRUPT, "%s: corrupt data: bad PNM header", source);
    if (maxval < 1 || maxval > 65535)
        return ic_error(IMGCLASS_ERR_CORRUPT, "%s: corrupt data: PNM maxval %ld not in 1..65535",
                        source, maxval);
    if (w > INT32_MAX || h > INT32_MAX)
        return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: PNM %ldx%ld", source, w, h);
    imgclass_status st = ic_decode_check_size(source, "PNM", w, h, limits->max_pixels);
    if (st == IMGCLASS_OK)
        st = ic_decode_check_memory(source, "PNM", w, h, 3, limits);
    if (st != IMGCLASS_OK)
        return st;
    if (ic_decode_header_only(request))
        return ic_decode_header_done((int)w, (int)h, out);
    size_t bytes = maxval > 255 ? 2 : 1;
    size_t pixels = (size_t)w * (size_t)h; /* < 2^62 */
    if (pixels > (SIZE_MAX / 8) / (size_t)channels)
        return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: PNM %ldx%ld", source, w, h);
    size_t samples = pixels * (size_t)channels;
    if (size - pos < samples * bytes)
        return ic_error(IMGCLASS_ERR_CORRUPT,
                        "%s: corrupt data: PNM image is truncated (%zu of %zu data bytes)", source,
                        size - pos, samples * bytes);
    unsigned char *rgb = malloc(pixels * 3);
    if (!rgb)
        return ic_error_oom(source, "decoded PNM pixels");
    /* P5 above 255 becomes mode "I" (out_max 65535); all else 8-bit. */
    int out_max = channels == 1 && maxval > 255 ? 65535 : 255;
    const unsigned char *in = data + pos;
    for (size_t i = 0; i < pixels; i++) {
        for (int c = 0; c < channels; c++) {
            unsigned v = bytes == 2 ? (unsigned)in[0] << 8 | in[1] : in[0];
            in += bytes;
            rgb[i * 3 + (size_t)c] = to_8bit(v, maxval, out_max);
        }
        if (channels == 1)
            rgb[i * 3 + 1] = rgb[i * 3 + 2] = rgb[i * 3];
    }
    (void)ic_decode_region(request, (int)w, (int)h);
    out->image_width = (int)w;
    out->image_height = (int)h;
    out->block = (ic_region){0, 0, (int)w, (int)h};
    out->stride = (size_t)w * 3;
    out->pixels = rgb;
    return IMGCLASS_OK;
}
