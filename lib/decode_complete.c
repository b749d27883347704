/* Whole-file checks for the formats stb_image decodes leniently; see
 * decode_complete.h. Each follows the reading logic of Pillow 9.4's plugin
 * for that format (BmpImagePlugin with its RLE decoder, TgaImagePlugin with
 * TgaRleDecode.c, GifImagePlugin with GifDecode.c, PsdImagePlugin), only
 * counting, never building pixels; test/parity/decode_parity.py compares
 * the verdict with Pillow's for every prefix of sample files. Malformed
 * headers are left to stb_image, which refuses them itself. */
#include "decode_complete.h"

#include "error.h"

#include <stdint.h>
#include <string.h>

/* MISREAD: complete, but stb_image would decode it to wrong pixels. */
typedef enum verdict { WHOLE, TRUNCATED, BROKEN, MISREAD } verdict;

static uint32_t le16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
    return le16(p) | le16(p + 2) << 16;
}

static uint32_t be16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const unsigned char *p)
{
    return be16(p) << 16 | be16(p + 2);
}

/* Pillow's BmpRleDecoder, counting the pixels it would produce (quirks
 * included: a delta reads two bytes and then the next two). */
static verdict bmp_rle(const unsigned char *d, size_t size, size_t pos, uint64_t w, uint64_t h,
                       int rle4)
{
    const uint64_t total = w * h;
    uint64_t count = 0, x = 0;
    while (count < total) {
        if (pos + 2 > size)
            break;
        unsigned n = d[pos], b = d[pos + 1];
        pos += 2;
        if (n) {
            uint64_t run = x + n > w ? (w > x ? w - x : 0) : n;
            count += run;
            x += run;
        } else if (b == 0) {
            count = (count + w - 1) / w * w;
            x = 0;
        } else if (b == 1) {
            break;
        } else if (b == 2) {
            if (pos + 2 > size)
                break;
            pos += 2;
            if (pos + 2 > size)
                return BROKEN; /* Pillow: "not enough values to unpack" */
            count += d[pos] + (uint64_t)d[pos + 1] * w;
            pos += 2;
            x = count % w;
        } else {
            size_t want = rle4 ? b / 2 : b;
            size_t got = size - pos < want ? size - pos : want;
            count += rle4 ? 2 * (uint64_t)got : got;
            pos += got;
            if (got < want)
                break;
            x += b;
            if (pos % 2)
                pos++;
        }
    }
    return count >= total ? WHOLE : TRUNCATED;
}

static verdict bmp(const unsigned char *d, size_t size, uint64_t w, uint64_t h)
{
    if (size < 18)
        return TRUNCATED;
    uint32_t hsize = le32(d + 14);
    if (hsize < 12 || size < 14 + (size_t)hsize)
        return TRUNCATED;
    unsigned bits = hsize == 12 ? le16(d + 24) : le16(d + 28);
    uint32_t compression = hsize >= 40 ? le32(d + 30) : 0;
    uint32_t offset = le32(d + 10);
    if (!offset || !bits)
        return WHOLE; /* unusual layouts: left to stb */
    if (compression == 1 || compression == 2)
        return offset >= size ? TRUNCATED : bmp_rle(d, size, offset, w, h, compression == 2);
    if (compression != 0 && compression != 3 && compression != 6)
        return WHOLE;
    /* Rows are padded to 4 bytes, but Pillow does not need the padding of
     * the last one. */
    uint64_t row = (w * bits + 7) >> 3, stride = ((w * bits + 31) >> 3) & ~(uint64_t)3;
    return (uint64_t)offset + stride * (h - 1) + row <= size ? WHOLE : TRUNCATED;
}

static verdict tga(const unsigned char *d, size_t size, uint64_t w, uint64_t h)
{
    if (size < 18)
        return TRUNCATED;
    unsigned id_len = d[0], cmap_type = d[1], type = d[2], depth = d[16];
    uint64_t pos = 18 + (uint64_t)id_len;
    if (cmap_type == 1) {
        unsigned entries = le16(d + 5), map_depth = d[7];
        if (map_depth == 16 || map_depth == 24 || map_depth == 32)
            pos += (uint64_t)entries * (map_depth / 8);
    }
    uint64_t bpp = (depth + 7u) / 8u;
    if (!bpp)
        return WHOLE;
    if (!(type & 8))
        return pos + w * h * bpp <= size ? WHOLE : TRUNCATED;
    /* RLE packets: a header byte, then one pixel (run) or n (raw). */
    uint64_t count = 0, total = w * h;
    while (count < total) {
        if (pos >= size)
            return TRUNCATED;
        unsigned b = d[pos++];
        uint64_t n = (b & 0x7Fu) + 1;
        uint64_t bytes = b & 0x80u ? bpp : n * bpp;
        if (pos + bytes > size)
            return TRUNCATED;
        pos += bytes;
        count += n;
    }
    return WHOLE;
}

/* The first frame's LZW data, counted: Pillow decodes until the frame's
 * pixels are all out, and calls the file truncated when the data, the
 * sub-blocks or the LZW stream (its end code) end before that. */
typedef struct gif_reader {
    const unsigned char *d;
    size_t size, pos;
    size_t block_left; /* bytes left in the current sub-block */
    int ended;         /* a zero-length sub-block or the end of the data */
    uint32_t bits;
    int nbits;
} gif_reader;

static int gif_code(gif_reader *r, int code_size)
{
    while (r->nbits < code_size) {
        if (r->block_left == 0) {
            if (r->pos >= r->size || r->d[r->pos] == 0) {
                r->ended = 1;
                return -1;
            }
            r->block_left = r->d[r->pos++];
            /* Pillow's decoder takes a sub-block only when all of it is
             * there: codes in a cut sub-block never come out. */
            if (r->block_left > r->size - r->pos) {
                r->ended = 1;
                return -1;
            }
        }
        if (r->pos >= r->size) {
            r->ended = 1;
            return -1;
        }
        r->bits |= (uint32_t)r->d[r->pos++] << r->nbits;
        r->nbits += 8;
        r->block_left--;
    }
    int code = (int)(r->bits & ((1u << code_size) - 1));
    r->bits >>= code_size;
    r->nbits -= code_size;
    return code;
}

static verdict gif_lzw(gif_reader *r, int min_size, uint64_t total)
{
    if (min_size < 1 || min_size > 11)
        return BROKEN;
    static const int max_codes = 4096;
    uint16_t len[4096];
    const int clear = 1 << min_size, end = clear + 1;
    for (int i = 0; i < clear; i++)
        len[i] = 1;
    int size = min_size + 1, next = clear + 2, prev = -1;
    uint64_t count = 0;
    while (count < total) {
        int code = gif_code(r, size);
        if (code < 0 || code == end)
            return TRUNCATED;
        if (code == clear) {
            size = min_size + 1;
            next = clear + 2;
            prev = -1;
            continue;
        }
        uint32_t n;
        if (prev < 0) {
            if (code >= clear)
                return BROKEN;
            n = 1;
        } else if (code < next && (code < clear || code > end)) {
            n = len[code];
        } else if (code == next) {
            n = (uint32_t)len[prev] + 1;
        } else {
            return BROKEN;
        }
        count += n;
        if (prev >= 0 && next < max_codes) {
            len[next] = (uint16_t)(len[prev] + 1 > 4096 ? 4096 : len[prev] + 1);
            next++;
            if (next == (1 << size) && size < 12)
                size++;
        }
        prev = code;
    }
    return WHOLE;
}

static verdict gif(const unsigned char *d, size_t size)
{
    if (size < 13)
        return TRUNCATED;
    size_t pos = 13;
    if (d[10] & 0x80)
        pos += (size_t)3 << ((d[10] & 7) + 1);
    for (;;) {
        if (pos >= size)
            return TRUNCATED;
        unsigned char kind = d[pos++];
        if (kind == 0x21) { /* extension: label, then sub-blocks */
            pos++;
            for (;;) {
                if (pos >= size)
                    return TRUNCATED;
                unsigned n = d[pos++];
                if (n == 0)
                    break;
                pos += n;
            }
        } else if (kind == 0x2C) {
            if (pos + 9 > size)
                return TRUNCATED;
            uint64_t fw = le16(d + pos + 4), fh = le16(d + pos + 6);
            unsigned flags = d[pos + 8];
            pos += 9;
            if (flags & 0x80)
                pos += (size_t)3 << ((flags & 7) + 1);
            if (pos >= size)
                return TRUNCATED;
            gif_reader r = {d, size, pos + 1, 0, 0, 0, 0};
            return gif_lzw(&r, d[pos], fw * fh);
        } else {
            return WHOLE; /* the trailer or junk: stb decides */
        }
    }
}

/* 8-bit: the planes Pillow reads. 16-bit: Pillow 9.4 reads no 16-bit PSD
 * at all, and stb_image reads up to 4 planes of big-endian 16-bit samples
 * (RGB mode only; it refuses the other modes itself): the check follows
 * stb, so that a file cut short is refused instead of decoded with zeros
 * for the missing samples. stb reads 16-bit PackBits data as if it were
 * 8-bit (wrong pixels, whole file or not): MISREAD. */
static verdict psd(const unsigned char *d, size_t size, uint64_t w, uint64_t h)
{
    if (size < 26)
        return TRUNCATED;
    unsigned channels_in_file = be16(d + 12), bits = be16(d + 22), mode = be16(d + 24);
    unsigned channels;
    switch (mode) {
    case 1: case 2: case 7: case 8: channels = 1; break;  /* L, P */
    case 3: channels = channels_in_file == 4 ? 4 : 3; break; /* RGB(A) */
    case 4: channels = 4; break;                          /* CMYK */
    default: return WHOLE;
    }
    if (bits == 16)
        channels = channels_in_file < 4 ? channels_in_file : 4;
    else if (bits != 8)
        return WHOLE; /* stb refuses other depths itself */
    const uint64_t sample_bytes = bits / 8;
    uint64_t pos = 26;
    for (int section = 0; section < 3; section++) { /* colour mode, resources, layers */
        if (pos + 4 > size)
            return TRUNCATED;
        pos += 4 + (uint64_t)be32(d + pos);
    }
    if (pos + 2 > size)
        return TRUNCATED;
    unsigned compression = be16(d + pos);
    pos += 2;
    if (compression == 0)
        return pos + channels * w * h * sample_bytes <= size ? WHOLE : TRUNCATED;
    if (compression != 1)
        return WHOLE;
    if (bits == 16)
        return MISREAD;
    uint64_t rows = channels * h;
    if (pos + rows * 2 > size)
        return TRUNCATED;
    uint64_t data = 0;
    for (uint64_t i = 0; i < rows; i++)
        data += be16(d + pos + 2 * i);
    return pos + rows * 2 + data <= size ? WHOLE : TRUNCATED;
}

imgclass_status ic_check_complete(const unsigned char *data, size_t size, const char *source,
                                  const char *format, int w, int h)
{
    verdict v = WHOLE;
    if (w <= 0 || h <= 0)
        return IMGCLASS_OK;
    if (!strcmp(format, "BMP"))
        v = bmp(data, size, (uint64_t)w, (uint64_t)h);
    else if (!strcmp(format, "TGA"))
        v = tga(data, size, (uint64_t)w, (uint64_t)h);
    else if (!strcmp(format, "GIF"))
        v = gif(data, size);
    else if (!strcmp(format, "PSD"))
        v = psd(data, size, (uint64_t)w, (uint64_t)h);
    if (v == TRUNCATED)
        return ic_fail(IMGCLASS_ERR_CORRUPT, source,
                       "%s image is truncated (the data ends before the last pixel)", format);
    if (v == BROKEN)
        return ic_fail(IMGCLASS_ERR_CORRUPT, source, "broken %s data stream", format);
    if (v == MISREAD)
        return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                       "16-bit PackBits-compressed %s (stb_image would misread it; Pillow 9.4 "
                       "reads no 16-bit PSD)", format);
    return IMGCLASS_OK;
}
