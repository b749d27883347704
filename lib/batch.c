/* imgclass_batch: an N x 3 x H x W float32 tensor, allocated here (64-byte
 * aligned, zero-filled) or wrapping caller memory. */
#include "batch_internal.h"
#include "error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IC_BATCH_ALIGN 64

/* count * 3 * height * width floats in bytes, or 0 on overflow / bad size. */
static size_t batch_bytes(size_t count, int height, int width)
{
    if (count == 0 || height <= 0 || width <= 0)
        return 0;
    size_t n = (size_t)height * (size_t)width; /* ints: cannot overflow 64-bit */
    if (n > SIZE_MAX / 3 / sizeof(float) / count)
        return 0;
    return count * 3 * n * sizeof(float);
}

static imgclass_status check_shape(size_t count, int height, int width, imgclass_batch **out,
                                   size_t *bytes)
{
    if (!out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "batch", "NULL out");
    if (count == 0 || height <= 0 || width <= 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "batch", "shape %zu x 3 x %d x %d", count,
                       height, width);
    *bytes = batch_bytes(count, height, width);
    if (*bytes == 0 || *bytes > SIZE_MAX - IC_BATCH_ALIGN)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, "batch", "%zu x 3 x %d x %d floats", count, height,
                       width);
    return IMGCLASS_OK;
}

IMGCLASS_API imgclass_status imgclass_batch_create(size_t count, int height, int width,
                                                   imgclass_batch **out)
{
    size_t bytes;
    imgclass_status st = check_shape(count, height, width, out, &bytes);
    if (st != IMGCLASS_OK)
        return st;
    imgclass_batch *b = malloc(sizeof *b);
    /* aligned_alloc wants a multiple of the alignment */
    size_t padded = (bytes + IC_BATCH_ALIGN - 1) / IC_BATCH_ALIGN * IC_BATCH_ALIGN;
    float *data = b ? aligned_alloc(IC_BATCH_ALIGN, padded) : NULL;
    if (!data) {
        free(b);
        return ic_error_oom("batch", "tensor memory");
    }
    memset(data, 0, padded);
    b->data = b->owned = data;
    b->count = count;
    b->height = height;
    b->width = width;
    *out = b;
    return IMGCLASS_OK;
}

IMGCLASS_API imgclass_status imgclass_batch_wrap(float *data, size_t count, int height, int width,
                                                 imgclass_batch **out)
{
    size_t bytes;
    imgclass_status st = check_shape(count, height, width, out, &bytes);
    if (st != IMGCLASS_OK)
        return st;
    if (!data)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "batch", "NULL data");
    imgclass_batch *b = malloc(sizeof *b);
    if (!b)
        return ic_error_oom("batch", "batch handle");
    b->data = data;
    b->owned = NULL;
    b->count = count;
    b->height = height;
    b->width = width;
    *out = b;
    return IMGCLASS_OK;
}

IMGCLASS_API size_t imgclass_batch_count(const imgclass_batch *batch)
{
    return batch ? batch->count : 0;
}

IMGCLASS_API int imgclass_batch_height(const imgclass_batch *batch)
{
    return batch ? batch->height : 0;
}

IMGCLASS_API int imgclass_batch_width(const imgclass_batch *batch)
{
    return batch ? batch->width : 0;
}

IMGCLASS_API float *imgclass_batch_data(imgclass_batch *batch)
{
    return batch ? batch->data : NULL;
}

IMGCLASS_API const float *imgclass_batch_data_const(const imgclass_batch *batch)
{
    return batch ? batch->data : NULL;
}

IMGCLASS_API void imgclass_batch_free(imgclass_batch *batch)
{
    if (!batch)
        return;
    free(batch->owned);
    free(batch);
}
