/* Internal: PNG, BMP, GIF (first frame), TGA and PSD through
 * stb_image, converted to 8-bit RGB as Pillow's convert("RGB") does. */
#ifndef IMGCLASS_DECODE_STB_H
#define IMGCLASS_DECODE_STB_H

#include "decode_common.h"

#include <stdint.h>

/* Decodes the whole image (these formats cannot decode a part; the block
 * is always the whole image, whatever region the request names). See
 * ic_decode() for the contract. Limits of 0: none. */
imgclass_status ic_decode_stb(const unsigned char *data, size_t size, const char *source,
                              const ic_decode_limits *limits, const ic_decode_request *request,
                              ic_decoded *out);

/* Non-zero when stb_image recognises `data` as a TGA header (the only
 * format it reads that has no signature). */
int ic_stb_is_tga(const unsigned char *data, size_t size);

#endif
