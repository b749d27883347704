/* EXIF orientation: a bounded walk to the Orientation tag (0x0112) of IFD0
 * and the transposition for it, matching Pillow 9.4.
 *
 * Where Pillow finds EXIF (and so where this looks):
 *  - JPEG: the first APP1 segment starting "Exif\0" before the first scan
 *    (JpegImagePlugin APP()); the TIFF data follow "Exif\0\0".
 *  - PNG: the eXIf chunk (PngStream.chunk_eXIf). A fresh image's getexif()
 *    sees the last eXIf before the first IDAT when there is one, else it
 *    loads the image and sees the last eXIf of the file.
 * Not read (documented in docs/preprocessing.md): PNG "Raw profile type
 * exif" text chunks and XMP tiff:Orientation, BigTIFF-style EXIF, and an
 * Orientation stored as a rational or float. The other formats imgclass
 * decodes (BMP, GIF, TGA, PNM, PSD) carry no EXIF that Pillow reads.
 *
 * Inside the TIFF block, as TiffImagePlugin.ImageFileDirectory_v2.load():
 * entries are read while 12 bytes remain (a truncated IFD keeps the
 * entries before the cut); an entry of unknown type, of zero size or
 * whose out-of-line data lie outside the block is skipped; a later
 * Orientation entry replaces an earlier one; the first value counts.
 * Every offset is checked before it is read; nothing is allocated. Where
 * Pillow raises on a malformed header, this reports no orientation. */
#include "exif.h"

#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { TAG_ORIENTATION = 0x0112 };

typedef struct tiff {
    const unsigned char *p;
    size_t n;
    int big_endian;
} tiff;

static uint32_t rd16(const tiff *t, size_t at)
{
    const unsigned char *q = t->p + at;
    return t->big_endian ? (uint32_t)q[0] << 8 | q[1] : (uint32_t)q[1] << 8 | q[0];
}

static uint32_t rd32(const tiff *t, size_t at)
{
    const unsigned char *q = t->p + at;
    return t->big_endian
               ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3]
               : (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

/* Bytes per value of a TIFF type Pillow loads; 0 for a type it skips. */
static unsigned type_size(uint32_t type)
{
    switch (type) {
    case 1: case 2: case 6: case 7: return 1;   /* BYTE ASCII SBYTE UNDEFINED */
    case 3: case 8: return 2;                   /* SHORT SSHORT */
    case 4: case 9: case 11: case 13: return 4; /* LONG SLONG FLOAT IFD */
    case 5: case 10: case 12: case 16: return 8; /* RATIONAL SRATIONAL DOUBLE LONG8 */
    }
    return 0;
}

/* The first value of an integer-typed entry, or -1 for other types (text,
 * bytes, rationals, floats: not an orientation here). */
static long first_integer(const tiff *t, uint32_t type, size_t at)
{
    switch (type) {
    case 1: return t->p[at];
    case 6: return (signed char)t->p[at];
    case 3: return (long)rd16(t, at);
    case 8: return (int16_t)rd16(t, at);
    case 4: return (long)rd32(t, at);
    case 9: return (int32_t)rd32(t, at);
    }
    return -1;
}

static int tiff_orientation(const unsigned char *p, size_t n)
{
    if (n < 8)
        return 0;
    tiff t = {p, n, 0};
    if (memcmp(p, "MM\0\x2A", 4) == 0)
        t.big_endian = 1;
    else if (memcmp(p, "II\x2A\0", 4) != 0)
        return 0; /* not TIFF (or BigTIFF) */
    uint32_t ifd = rd32(&t, 4);
    if (ifd > n || n - ifd < 2)
        return 0;
    uint32_t count = rd16(&t, ifd);
    long orientation = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (e > n || n - e < 12)
            break; /* truncated: the entries before stay */
        if (rd16(&t, e) != TAG_ORIENTATION)
            continue;
        uint32_t type = rd16(&t, e + 2), values = rd32(&t, e + 4);
        unsigned unit = type_size(type);
        uint64_t bytes = (uint64_t)values * unit;
        if (unit == 0 || bytes == 0)
            continue;
        size_t at = e + 8;
        if (bytes > 4) {
            uint32_t off = rd32(&t, e + 8);
            if (off > n || n - off < bytes)
                continue; /* Pillow: "Possibly corrupt EXIF data", tag skipped */
            at = off;
        }
        orientation = first_integer(&t, type, at);
    }
    return orientation >= 1 && orientation <= 8 ? (int)orientation : 0;
}

static int jpeg_orientation(const unsigned char *d, size_t n)
{
    size_t pos = 2; /* after SOI */
    while (pos + 1 < n) {
        if (d[pos] != 0xFF) { /* junk between segments: skipped byte by byte */
            pos++;
            continue;
        }
        unsigned marker = d[pos + 1];
        if (marker == 0xFF) { /* fill byte */
            pos++;
            continue;
        }
        if (marker == 0xDA || marker == 0xD9) /* start of scan, end of image */
            return 0;
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
            pos += 2; /* no length */
            continue;
        }
        if (n - pos < 4)
            return 0;
        size_t len = (size_t)d[pos + 2] << 8 | d[pos + 3];
        if (len < 2 || len - 2 > n - pos - 4)
            return 0; /* truncated: Pillow cannot open it either */
        const unsigned char *seg = d + pos + 4;
        size_t seglen = len - 2;
        if (marker == 0xE1 && seglen >= 5 && memcmp(seg, "Exif\0", 5) == 0)
            /* The first Exif APP1 is the one Pillow keeps. */
            return seglen >= 6 && seg[5] == 0 ? tiff_orientation(seg + 6, seglen - 6) : 0;
        pos += 4 + seglen;
    }
    return 0;
}

static uint32_t be32(const unsigned char *q)
{
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static int png_orientation(const unsigned char *d, size_t n)
{
    const unsigned char *before_idat = NULL, *last = NULL;
    size_t before_len = 0, last_len = 0;
    int seen_idat = 0;
    size_t pos = 8;
    while (pos <= n && n - pos >= 12) {
        uint32_t len = be32(d + pos);
        const unsigned char *type = d + pos + 4;
        if (len > n - pos - 12)
            break;
        if (memcmp(type, "eXIf", 4) == 0) {
            last = d + pos + 8, last_len = len;
            if (!seen_idat)
                before_idat = last, before_len = len;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            seen_idat = 1;
        } else if (memcmp(type, "IEND", 4) == 0) {
            break;
        }
        pos += 12 + (size_t)len;
    }
    if (before_idat)
        last = before_idat, last_len = before_len;
    if (!last)
        return 0;
    /* Pillow prefixes "Exif\0\0" and strips it again, so the chunk must
     * be the TIFF block itself. */
    return tiff_orientation(last, last_len);
}

int ic_exif_orientation(const unsigned char *data, size_t size)
{
    if (!data)
        return 0;
    if (size >= 3 && memcmp(data, "\xFF\xD8\xFF", 3) == 0)
        return jpeg_orientation(data, size);
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1A\n", 8) == 0)
        return png_orientation(data, size);
    return 0;
}

/* ---- transposition ------------------------------------------------------ */

static void swap3(unsigned char *a, unsigned char *b)
{
    unsigned char t[3];
    memcpy(t, a, 3);
    memcpy(a, b, 3);
    memcpy(b, t, 3);
}

static void flip_rows(ic_decoded *d) /* each row reversed: FLIP_LEFT_RIGHT */
{
    int w = d->block.width;
    for (int y = 0; y < d->block.height; y++) {
        unsigned char *row = d->pixels + (size_t)y * d->stride;
        for (int x = 0; x < w / 2; x++)
            swap3(row + 3 * (size_t)x, row + 3 * (size_t)(w - 1 - x));
    }
}

static void flip_columns(ic_decoded *d) /* rows swapped: FLIP_TOP_BOTTOM */
{
    size_t row = 3 * (size_t)d->block.width;
    int h = d->block.height;
    for (int y = 0; y < h / 2; y++) {
        unsigned char *a = d->pixels + (size_t)y * d->stride;
        unsigned char *b = d->pixels + (size_t)(h - 1 - y) * d->stride;
        for (size_t i = 0; i < row; i++) {
            unsigned char t = a[i];
            a[i] = b[i];
            b[i] = t;
        }
    }
}

imgclass_status ic_exif_transpose(ic_decoded *d, int orientation, const char *source,
                                  const ic_decode_limits *limits)
{
    const int w = d->block.width, h = d->block.height;
    switch (orientation) {
    case 2: flip_rows(d); return IMGCLASS_OK;
    case 3: flip_rows(d); flip_columns(d); return IMGCLASS_OK; /* ROTATE_180 */
    case 4: flip_columns(d); return IMGCLASS_OK;
    case 5: case 6: case 7: case 8: break;
    default: return IMGCLASS_OK;
    }
    /* Rotations: the new image is h wide and w high; both are held at once. */
    uint64_t bytes = (uint64_t)w * (uint64_t)h * 3;
    if (limits && limits->max_memory && bytes > limits->max_memory / 2)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source,
                       "rotating this %dx%d image for its EXIF orientation needs about %llu MiB, over the decode memory limit of %llu MiB",
                       w, h, (unsigned long long)((2 * bytes) >> 20),
                       (unsigned long long)(limits->max_memory >> 20));
    if (bytes > SIZE_MAX)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source, "%dx%d", w, h);
    unsigned char *out = malloc((size_t)bytes);
    if (!out)
        return ic_error_oom(source, "the rotated image");
    const size_t ostride = 3 * (size_t)h;
    /* out(x, y) = in(sx, sy), out x in [0, h), out y in [0, w):
     * 5 TRANSPOSE   sx = y,         sy = x
     * 6 ROTATE_270  sx = y,         sy = h - 1 - x
     * 7 TRANSVERSE  sx = w - 1 - y, sy = h - 1 - x
     * 8 ROTATE_90   sx = w - 1 - y, sy = x */
    for (int y = 0; y < w; y++) {
        int sx = orientation == 5 || orientation == 6 ? y : w - 1 - y;
        unsigned char *o = out + (size_t)y * ostride;
        for (int x = 0; x < h; x++) {
            int sy = orientation == 5 || orientation == 8 ? x : h - 1 - x;
            memcpy(o + 3 * (size_t)x, d->pixels + (size_t)sy * d->stride + 3 * (size_t)sx, 3);
        }
    }
    free(d->pixels);
    d->pixels = out;
    d->stride = ostride;
    d->block.x = d->block.y = 0;
    d->block.width = h;
    d->block.height = w;
    d->image_width = h;
    d->image_height = w;
    return IMGCLASS_OK;
}
