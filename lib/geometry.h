/* Internal: the resize and crop arithmetic of the reference pipeline
 * (torchvision 0.14 Resize + CenterCrop on a PIL image), kept apart from
 * the pixel loops so it can be tested on its own. */
#ifndef IMGCLASS_GEOMETRY_H
#define IMGCLASS_GEOMETRY_H

#include "imgclass.h"

/* Where each output element comes from along one axis:
 *   resized index r = output index + offset;
 *   r outside [0, resized) is padding (a zero pixel before normalisation).
 * [first, first + count) is the range of resized indices that survive the
 * crop, the only ones worth computing. */
typedef struct ic_axis_plan {
    int resized; /* length after Resize */
    int output;  /* length after CenterCrop (or `resized` without crop) */
    int offset;  /* crop offset; negative when padding */
    int first;   /* first resized index that survives */
    int count;   /* how many survive (>= 1) */
} ic_axis_plan;

typedef struct ic_plan {
    ic_axis_plan x, y;
} ic_plan;

/* Checks `options` (non-positive sizes, bad mode, std of 0 or not finite,
 * a 0 x 0 crop where the output size would depend on the image, ...).
 * `source` names the input in the message. */
imgclass_status ic_options_check(const imgclass_preprocess_options *options, const char *source);

/* The size Resize gives an image of width x height (torchvision's
 * _compute_resized_output_size; NONE keeps the size). Fails with
 * IMGCLASS_ERR_TOO_LARGE when a side would not fit in an int. Options
 * must have passed ic_options_check(). */
imgclass_status ic_resize_target(const imgclass_preprocess_options *options, int width,
                                 int height, const char *source, int *out_width,
                                 int *out_height);

/* CenterCrop's offset along one axis, for a crop of `crop` out of `size`
 * (crop > 0): round((size - crop) / 2) with Python's half-to-even rounding
 * when crop <= size, and -((crop - size) // 2), torchvision's left/top
 * padding, when crop > size. */
int ic_center_crop_offset(int size, int crop);

/* The whole plan for an image of width x height. Options must have passed
 * ic_options_check(). */
imgclass_status ic_plan_compute(const imgclass_preprocess_options *options, int width, int height,
                                const char *source, ic_plan *plan);

#endif
