/* Internal: the dispatcher. It picks the format decoder by content and
 * applies the EXIF orientation; the types it shares with the decoders are
 * in decode_common.h, below both.
 *
 * The decoder interface is shared by imgclass_image_load*() and the
 * fused decode+preprocess path (imgclass_preprocess_file/memory).
 *
 * The fused path needs only the part of the image that survives the crop;
 * JPEG can decode just that region (libjpeg-turbo's jpeg_crop_scanline and
 * jpeg_skip_scanlines) and stay bit-exact. So the caller learns the image
 * size from the header through callbacks and names the region it needs; the
 * decoder returns a block of pixels that covers at least that region. */
#ifndef IMGCLASS_DECODE_H
#define IMGCLASS_DECODE_H

#include "decode_common.h"

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
