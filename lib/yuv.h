/* Internal: YUV 4:2:0 to RGB with OpenCV's fixed-point arithmetic. */
#ifndef IMGCLASS_YUV_H
#define IMGCLASS_YUV_H

#include "imgclass.h"

/* RGB = saturate((max(0, Y - y_offset) * cy + round + coeffs * (U|V - 128)) >> 20). */
typedef struct ic_yuv_coeffs {
    int32_t cy, cvr, cvg, cug, cub;
    int y_offset;
} ic_yuv_coeffs;

/* The coefficients of a matrix and range; 0 when valid, -1 when unknown. */
int ic_yuv_coeffs_for(imgclass_yuv_matrix matrix, imgclass_yuv_range range, ic_yuv_coeffs *out);

/* 1 for the YUV 4:2:0 formats. */
int ic_format_is_yuv(imgclass_pixel_format format);

#endif
