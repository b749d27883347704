/* Internal: the layout of imgclass_image, shared by the decoders, wrapping
 * and preprocessing. */
#ifndef IMGCLASS_IMAGE_INTERNAL_H
#define IMGCLASS_IMAGE_INTERNAL_H

#include "imgclass.h"
#include "yuv.h"

struct imgclass_image {
    int width;
    int height;
    imgclass_pixel_format format; /* decoded images are always RGB */
    size_t stride;                /* bytes between row starts */
    const uint8_t *pixels;        /* first row; owned or borrowed */
    uint8_t *owned;               /* what to free, NULL when borrowed */
    /* YUV frames (format NV12, NV21, I420, YV12): `pixels`/`stride` are the
     * Y plane; u and v point at the first U and V sample, successive
     * samples of a row `chroma_step` bytes apart (2 in NV12/NV21). */
    const uint8_t *u, *v;
    size_t u_stride, v_stride;
    int chroma_step;
    ic_yuv_coeffs coeffs;
    imgclass_yuv_frame frame;     /* the frame as wrapped (its planes), for copies */
};

/* A copy of `image` that owns its pixels (any format). */
imgclass_status ic_image_copy(const imgclass_image *image, imgclass_image **out);

/* Checks one plane of pixels that imgclass_image_wrap*() is given: `rows`
 * rows of `row` bytes, `*stride` apart (0: tightly packed, and *stride is
 * set to `row`); the last byte must be addressable in a size_t. `fn` names
 * the public function in the message; `plane` names the plane ("Y", "UV",
 * ...) or is NULL for a packed image, which has one. */
imgclass_status ic_check_plane(const char *fn, const char *plane, const uint8_t *pixels,
                               size_t *stride, size_t row, int rows);

/* Copies `rows` rows of `row` bytes, `stride` apart in src, tightly into dst. */
void ic_copy_plane(uint8_t *dst, const uint8_t *src, size_t stride, size_t row, int rows);

/* 1 for the YUV 4:2:0 formats. */
int ic_format_is_yuv(imgclass_pixel_format format);

#endif
