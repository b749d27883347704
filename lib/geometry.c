/* Resize and CenterCrop arithmetic, as torchvision 0.14 does it on PIL
 * images. See docs/preprocessing.md. */
#include "geometry.h"

#include "error.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>

imgclass_status ic_options_check(const imgclass_preprocess_options *o, const char *source)
{
    const char *src = source ? source : "preprocess options";
    /* `o` is the library's own copy (ic_read_preprocess_options()). */
    switch (o->resize_mode) {
    case IMGCLASS_RESIZE_SHORTER:
        if (o->resize_size <= 0)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, src,
                           "resize_size must be positive (got %d)", o->resize_size);
        break;
    case IMGCLASS_RESIZE_EXACT:
        if (o->resize_width <= 0 || o->resize_height <= 0)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, src,
                           "resize size must be positive (got %dx%d)", o->resize_width,
                           o->resize_height);
        break;
    case IMGCLASS_RESIZE_NONE:
        break;
    default:
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, src, "unknown resize_mode %d",
                       (int)o->resize_mode);
    }
    if (o->interpolation != IMGCLASS_INTERP_BILINEAR &&
        o->interpolation != IMGCLASS_INTERP_BICUBIC)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, src,
                       "unknown interpolation %d (bilinear %d, bicubic %d)", (int)o->interpolation,
                       (int)IMGCLASS_INTERP_BILINEAR, (int)IMGCLASS_INTERP_BICUBIC);
    if (o->crop_width < 0 || o->crop_height < 0 || (o->crop_width == 0) != (o->crop_height == 0))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, src,
                       "crop must be positive, or 0x0 for none (got %dx%d)", o->crop_width,
                       o->crop_height);
    /* Without a crop the output of a SHORTER resize depends on the image's
     * aspect ratio, so images could not share a batch. NONE without crop
     * gives the image's own size: fine for one image, the caller sizes the
     * batch from imgclass_preprocess_output_size(). */
    if (o->crop_width == 0 && o->resize_mode == IMGCLASS_RESIZE_SHORTER)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, src,
                       "a 0x0 crop (no crop) needs an exact resize");
    for (int c = 0; c < 3; c++) {
        if (!isfinite(o->mean[c]) || !isfinite(o->std[c]) || o->std[c] == 0.0f)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, src,
                           "mean and std must be finite and std non-zero (channel %d: mean %g, "
                           "std %g)",
                           c, (double)o->mean[c], (double)o->std[c]);
    }
    return IMGCLASS_OK;
}

imgclass_status ic_resize_target(const imgclass_preprocess_options *o, int width, int height,
                                 const char *source, int *out_width, int *out_height)
{
    int64_t w = width, h = height;
    if (o->resize_mode == IMGCLASS_RESIZE_EXACT) {
        w = o->resize_width;
        h = o->resize_height;
    } else if (o->resize_mode == IMGCLASS_RESIZE_SHORTER) {
        /* int(S * long / short) in Python: float division then truncation;
         * for int sizes the integer quotient is the same number. */
        int64_t s = o->resize_size;
        if (width <= height) {
            w = s;
            h = s * height / width;
        } else {
            h = s;
            w = s * width / height;
        }
    }
    if (w > INT_MAX || h > INT_MAX)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, source ? source : "image",
                       "a %dx%d image would resize to %lldx%lld", width, height, (long long)w,
                       (long long)h);
    *out_width = (int)w;
    *out_height = (int)h;
    return IMGCLASS_OK;
}

int ic_center_crop_offset(int size, int crop)
{
    if (crop > size)
        return -((crop - size) / 2);
    int d = size - crop; /* round(d / 2), ties to even */
    int half = d / 2;
    if ((d & 1) && (half & 1))
        half++;
    return half;
}

static void axis_plan(int resized, int crop, ic_axis_plan *a)
{
    a->resized = resized;
    if (crop == 0) {
        a->output = resized;
        a->offset = 0;
    } else {
        a->output = crop;
        a->offset = ic_center_crop_offset(resized, crop);
    }
    int lo = a->offset > 0 ? a->offset : 0;
    int64_t hi = (int64_t)a->offset + a->output;
    if (hi > resized)
        hi = resized;
    a->first = lo;
    a->count = (int)(hi - lo);
}

imgclass_status ic_plan_compute(const imgclass_preprocess_options *o, int width, int height,
                                const char *source, ic_plan *plan)
{
    if (width <= 0 || height <= 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source ? source : "image",
                       "image size %dx%d", width, height);
    int rw, rh;
    imgclass_status st = ic_resize_target(o, width, height, source, &rw, &rh);
    if (st != IMGCLASS_OK)
        return st;
    axis_plan(rw, o->crop_width, &plan->x);
    axis_plan(rh, o->crop_height, &plan->y);
    return IMGCLASS_OK;
}
