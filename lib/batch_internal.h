/* Internal: the layout of imgclass_batch, shared by preprocessing and the
 * engine. */
#ifndef IMGCLASS_BATCH_INTERNAL_H
#define IMGCLASS_BATCH_INTERNAL_H

#include "imgclass.h"

struct imgclass_batch {
    float *data;    /* count * 3 * height * width floats */
    float *owned;   /* what to free, NULL when wrapping caller memory */
    size_t count;
    int height;
    int width;
};

#endif
