/* Internal: helpers shared by the format decoders (decode_jpeg.c,
 * decode_stb.c); implemented in decode.c. */
#ifndef IMGCLASS_DECODE_COMMON_H
#define IMGCLASS_DECODE_COMMON_H

#include "decode.h"

#include <stdint.h>

/* The pixel limit in force: options->max_pixels, or the default when
 * options is NULL. 0 means no limit. */
uint64_t ic_decode_max_pixels(const imgclass_decode_options *options);

/* Refuses a header size that is not positive or has more pixels than
 * max_pixels (0: no limit) with a status and a message naming source. */
imgclass_status ic_decode_check_size(const char *source, const char *format, long long width,
                                     long long height, uint64_t max_pixels);

/* The region the caller needs inside a width x height image: the whole
 * image without a choose_region callback; otherwise the callback's answer,
 * clamped to the image (a caller bug giving an empty region falls back to
 * the whole image). */
ic_region ic_decode_region(const ic_decode_request *request, int width, int height);

#endif
