/* Internal: JPEG through libjpeg-turbo's libjpeg API, configured as Pillow
 * configures it, with optional region decoding and DCT scaling. */
#ifndef IMGCLASS_DECODE_JPEG_H
#define IMGCLASS_DECODE_JPEG_H

#include "decode_common.h"

#include <stdint.h>

/* See ic_decode() for the contract. Limits of 0: none. */
imgclass_status ic_decode_jpeg(const unsigned char *data, size_t size, const char *source,
                               const ic_decode_limits *limits, const ic_decode_request *request,
                               ic_decoded *out);

#endif
