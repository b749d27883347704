/* Internal: one row of a YUV 4:2:0 frame converted to R,G,B,X pixels, as
 * preprocessing reads the frame (the arithmetic: yuv.c). */
#ifndef IMGCLASS_YUV_ROW_H
#define IMGCLASS_YUV_ROW_H

#include <stdint.h>

struct imgclass_image;

/* Pixels [x0, x0 + n) of row y of a YUV image as R,G,B,0 quadruples into
 * rgbx (4 * n bytes): the layout of IMGCLASS_PIXEL_RGBA, which the
 * horizontal resize reads without another conversion. */
void ic_yuv_row_to_rgbx(const struct imgclass_image *image, int y, int x0, int n, uint8_t *rgbx);

/* Non-zero makes ic_yuv_row_to_rgbx() use only the portable code even
 * where the CPU has AVX2, so tests can check that both give the same
 * bytes. Tests only: not synchronised, set it before any preprocessing. */
extern int ic_yuv_portable_only;

#endif
