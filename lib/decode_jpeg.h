/* Internal: JPEG through libjpeg-turbo's libjpeg API, configured as Pillow
 * configures it, with optional region decoding and DCT scaling. */
#ifndef IMGCLASS_DECODE_JPEG_H
#define IMGCLASS_DECODE_JPEG_H

#include "decode.h"

#include <stdint.h>

/* See ic_decode() for the contract. max_pixels 0: no limit. */
imgclass_status ic_decode_jpeg(const unsigned char *data, size_t size, const char *source,
                               uint64_t max_pixels, const ic_decode_request *request,
                               ic_decoded *out);

#endif
