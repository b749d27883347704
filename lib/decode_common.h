/* Internal: what the dispatcher (decode.c) and the format decoders
 * (decode_jpeg.c, decode_pnm.c, decode_stb.c, decode_complete.c) and the
 * EXIF transposition (exif.c) share: the request and result types, the
 * limits (and imgclass_decode_options_default(), defined in decode_common.c),
 * and the checks every decoder makes the same way.
 *
 * This unit sits below both the dispatcher and the decoders: it includes no
 * header of either (test/layering/decode_layers.sh checks it) and calls
 * nothing above it, even through imgclass.h (test/layering/lib_calls.sh), so
 * a decoder never reaches back up to the dispatcher that calls it. */
#ifndef IMGCLASS_DECODE_COMMON_H
#define IMGCLASS_DECODE_COMMON_H

#include "imgclass.h"

#include <stddef.h>
#include <stdint.h>

/* Columns [x, x + width) and rows [y, y + height) of an image. */
typedef struct ic_region {
    int x, y, width, height;
} ic_region;

typedef struct ic_decode_request {
    void *ctx;
    /* Optional (fast mode only). Given the full size from the header,
     * returns the DCT scale denominator (1, 2, 4 or 8) to decode a JPEG at;
     * other formats ignore it. NULL: 1, exact. */
    int (*choose_scale)(void *ctx, int width, int height);
    /* Optional. Given the size the image decodes to (after any DCT
     * scaling), sets *region to the part the caller needs (always inside
     * the image, non-empty). NULL: the whole image. */
    void (*choose_region)(void *ctx, int width, int height, ic_region *region);
    /* Non-zero: stop after the header and the checks made from it (pixel
     * limit, decode memory, unsupported variants); *out gets only the
     * image size and format, no pixels. The data may be just a prefix of
     * the file: the body is neither read nor checked for truncation. */
    int header_only;
} ic_decode_request;

/* A decoded block: 8-bit RGB rows covering (at least) the region asked
 * for, inside an image of image_width x image_height. */
typedef struct ic_decoded {
    int image_width, image_height; /* size of the whole (scaled) image */
    ic_region block;               /* where pixels[0] sits, and its size */
    size_t stride;                 /* bytes between rows of the block */
    unsigned char *pixels;         /* malloc'd; the caller frees it (NULL: header_only) */
} ic_decoded;

/* The limits a decoder works under (imgclass_decode_options; 0: none). */
typedef struct ic_decode_limits {
    uint64_t max_pixels;
    uint64_t max_memory; /* bytes held at once, output included */
    int max_jpeg_scans;
} ic_decode_limits;

/* The limits in force: from options, or the defaults when options is NULL. */
ic_decode_limits ic_decode_limits_from(const imgclass_decode_options *options);

/* options->max_file_bytes (the default when options is NULL), as the
 * size_t that ic_read_file() takes; 0 means no limit. */
size_t ic_decode_max_file_bytes(const imgclass_decode_options *options);

/* Refuses, before decoding, an image whose decoder would need more than
 * limits->max_memory bytes: `bytes_per_pixel` is that decoder's peak
 * memory per pixel (output included). */
imgclass_status ic_decode_check_memory(const char *source, const char *format, long long width,
                                       long long height, unsigned bytes_per_pixel,
                                       const ic_decode_limits *limits);

/* Refuses a header size that is not positive or has more pixels than
 * max_pixels (0: no limit) with a status and a message naming source. */
imgclass_status ic_decode_check_size(const char *source, const char *format, long long width,
                                     long long height, uint64_t max_pixels);

/* The region the caller needs inside a width x height image: the whole
 * image without a choose_region callback; otherwise the callback's answer,
 * clamped to the image (a caller bug giving an empty region falls back to
 * the whole image). */
ic_region ic_decode_region(const ic_decode_request *request, int width, int height);

/* Non-zero when the request asks for the header alone. */
int ic_decode_header_only(const ic_decode_request *request);

/* Fills *out for a header_only request: the size, no pixels. */
imgclass_status ic_decode_header_done(int width, int height, ic_decoded *out);

/* What the first bytes of an image say: the signatures of the formats
 * read here (TGA has none: ic_stb_is_tga() in the STB decoder decides). */
typedef enum ic_sniffed {
    IC_SNIFF_UNKNOWN,
    IC_SNIFF_JPEG,
    IC_SNIFF_STB,      /* a signature stb_image reads: PNG, BMP, GIF, PSD */
    IC_SNIFF_PNM,      /* binary PGM/PPM (P5/P6) */
    IC_SNIFF_PNM_TEXT, /* P1-P4: PNM variants no decoder here reads */
} ic_sniffed;

ic_sniffed ic_decode_sniff(const unsigned char *data, size_t size);

/* An ic_head_check for image files: refuses, from their first bytes,
 * files that no decoder here could read (/dev/zero, /dev/urandom). */
imgclass_status ic_decode_head_check(const unsigned char *head, size_t n, const char *path);

#endif
