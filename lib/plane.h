/* Internal: one plane of caller pixels (rows of bytes, `stride` apart), as
 * imgclass_image_wrap() (image.c) and imgclass_image_wrap_yuv() (yuv.c)
 * check and copy it. A leaf below both, so that yuv.c, which image.c calls
 * to copy a YUV frame, never calls back up into image.c. */
#ifndef IMGCLASS_PLANE_H
#define IMGCLASS_PLANE_H

#include "imgclass.h"

#include <stddef.h>
#include <stdint.h>

/* Checks one plane of pixels that imgclass_image_wrap*() is given: `rows`
 * rows of `row` bytes, `*stride` apart (0: tightly packed, and *stride is
 * set to `row`); the last byte must be addressable in a size_t. `fn` names
 * the public function in the message; `plane` names the plane ("Y", "UV",
 * ...) or is NULL for a packed image, which has one. */
imgclass_status ic_check_plane(const char *fn, const char *plane, const uint8_t *pixels,
                               size_t *stride, size_t row, int rows);

/* Copies `rows` rows of `row` bytes, `stride` apart in src, tightly into dst. */
void ic_copy_plane(uint8_t *dst, const uint8_t *src, size_t stride, size_t row, int rows);

#endif
