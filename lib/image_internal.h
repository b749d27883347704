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

#endif
