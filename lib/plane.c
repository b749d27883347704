/* Checking and copying one plane of caller pixels (plane.h). */
#include "plane.h"

#include "error.h"

#include <string.h>

imgclass_status ic_check_plane(const char *fn, const char *plane, const uint8_t *pixels,
                               size_t *stride, size_t row, int rows)
{
    /* A packed image has one plane, not named in the messages. */
    const char *name = plane ? plane : "", *space = plane ? " " : "";
    if (!pixels)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, fn, "NULL %s%splane", name, space);
    if (*stride == 0)
        *stride = row;
    if (*stride < row)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, fn,
                       "%s%sstride %zu is below its row of %zu bytes", name, space, *stride, row);
    /* The last row ends at stride * (rows - 1) + row. */
    if ((size_t)(rows - 1) > (SIZE_MAX - row) / *stride)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, fn,
                       "%s%splane of %d rows with stride %zu overflows", name, space, rows,
                       *stride);
    return IMGCLASS_OK;
}

void ic_copy_plane(uint8_t *dst, const uint8_t *src, size_t stride, size_t row, int rows)
{
    for (int y = 0; y < rows; y++)
        memcpy(dst + (size_t)y * row, src + (size_t)y * stride, row);
}
