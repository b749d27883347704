/* Internal: the layout of imgclass_image, shared by the decoders, wrapping
 * and preprocessing. */
#ifndef IMGCLASS_IMAGE_INTERNAL_H
#define IMGCLASS_IMAGE_INTERNAL_H

#include "imgclass.h"

struct imgclass_image {
    int width;
    int height;
    imgclass_pixel_format format; /* decoded images are always RGB */
    size_t stride;                /* bytes between row starts */
    const uint8_t *pixels;        /* first row; owned or borrowed */
    uint8_t *owned;               /* what to free, NULL when borrowed */
};

#endif
