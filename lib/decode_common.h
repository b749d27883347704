/* Internal: helpers shared by the format decoders (decode_jpeg.c,
 * decode_stb.c); implemented in decode.c. */
#ifndef IMGCLASS_DECODE_COMMON_H
#define IMGCLASS_DECODE_COMMON_H

#include "decode.h"

#include <stdint.h>

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

/* An ic_head_check for image files: refuses, from their first bytes,
 * files that no decoder here could read (/dev/zero, /dev/urandom). */
imgclass_status ic_decode_head_check(const unsigned char *head, size_t n, const char *path);

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

#endif
