/* Internal: the decoder interface shared by imgclass_image_load*() and the
 * fused decode+preprocess path (imgclass_preprocess_file/memory).
 *
 * The fused path needs only the part of the image that survives the crop;
 * JPEG can decode just that region (libjpeg-turbo's jpeg_crop_scanline and
 * jpeg_skip_scanlines) and stay bit-exact. So the caller learns the image
 * size from the header through callbacks and names the region it needs; the
 * decoder returns a block of pixels that covers at least that region. */
#ifndef IMGCLASS_DECODE_H
#define IMGCLASS_DECODE_H

#include "imgclass.h"

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

/* Decodes `size` bytes at `data` (any supported format, by content).
 * `source` names the input in error messages (a path or "memory buffer").
 * `options` NULL means defaults; `request` NULL means the whole image,
 * exact. On failure *out is untouched and nothing is leaked. Thread-safe. */
imgclass_status ic_decode(const unsigned char *data, size_t size, const char *source,
                          const imgclass_decode_options *options,
                          const ic_decode_request *request, ic_decoded *out);

/* The format of `data` judged by content as ic_decode() judges it
 * (IMGCLASS_FILE_UNKNOWN when no decoder here would take it). */
imgclass_file_format ic_decode_format(const unsigned char *data, size_t size);

#endif
