/* YUV 4:2:0 camera frames: wrapping (imgclass_image_wrap_yuv) and the
 * conversion's constants (yuv_row.c converts the rows preprocessing reads).
 *
 * The arithmetic is OpenCV's (modules/imgproc/src/color_yuv.simd.hpp,
 * 4.x): 20-bit fixed point, Y clamped at the offset before scaling,
 *   r = saturate((max(0, Y - 16) * CY + (1 << 19) + CVR * (V - 128)) >> 20)
 *   g = saturate((max(0, Y - 16) * CY + (1 << 19) + CVG * (V - 128) + CUG * (U - 128)) >> 20)
 *   b = saturate((max(0, Y - 16) * CY + (1 << 19) + CUB * (U - 128)) >> 20)
 * so BT.601 limited range is bit-identical to cv2.cvtColor (its constants
 * are the 3-digit rounded ones, 1.164, 1.596, ...). OpenCV has no BT.709
 * or full-range 4:2:0 conversion: those use the same formula with the
 * standard's exact coefficients times 2^20, rounded (Y offset 0 and scale
 * 1 for full range). */
#include "yuv.h"

#include "error.h"
#include "image_internal.h" /* the layout only: yuv.c calls nothing in image.c */
#include "plane.h"
#include "struct_size.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int ic_yuv_coeffs_for(imgclass_yuv_matrix matrix, imgclass_yuv_range range, ic_yuv_coeffs *out)
{
    /* round(2^20 * c): limited range scales Y by 255/219 and chroma by
     * 255/224; Kr, Kb = 0.299, 0.114 (BT.601) or 0.2126, 0.0722 (BT.709);
     * R = Y + 2(1-Kr)V, B = Y + 2(1-Kb)U, G = Y - 2Kb(1-Kb)/Kg U - 2Kr(1-Kr)/Kg V. */
    static const ic_yuv_coeffs table[2][2] = {
        /* BT.601 limited: OpenCV's ITUR_BT_601_* constants, exactly */
        {{1220542, 1673527, -852492, -409993, 2116026, 16},
         {1048576, 1470104, -748826, -360853, 1858077, 0}},
        {{1220945, 1879825, -558796, -223607, 2215014, 16},
         {1048576, 1651297, -490864, -196424, 1945738, 0}},
    };
    if ((matrix != IMGCLASS_YUV_BT601 && matrix != IMGCLASS_YUV_BT709) ||
        (range != IMGCLASS_YUV_LIMITED && range != IMGCLASS_YUV_FULL))
        return -1;
    *out = table[matrix][range];
    return 0;
}

int ic_format_is_yuv(imgclass_pixel_format format)
{
    return format == IMGCLASS_PIXEL_NV12 || format == IMGCLASS_PIXEL_NV21 ||
           format == IMGCLASS_PIXEL_I420 || format == IMGCLASS_PIXEL_YV12;
}

IMGCLASS_API imgclass_status imgclass_yuv_frame_init(imgclass_yuv_frame *frame, size_t size)
{
    imgclass_yuv_frame f;
    memset(&f, 0, sizeof f);
    f.layout = IMGCLASS_PIXEL_NV12;
    f.matrix = IMGCLASS_YUV_BT601;
    f.range = IMGCLASS_YUV_LIMITED;
    return ic_struct_init(&ic_layout_yuv_frame, frame, size, &f);
}

IMGCLASS_API imgclass_status imgclass_image_wrap_yuv(const imgclass_yuv_frame *frame, int copy,
                                                     imgclass_image **out)
{
    if (out)
        *out = NULL;
    if (!frame || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_wrap_yuv", "NULL %s",
                       frame ? "out" : "frame");
    imgclass_yuv_frame local = imgclass_yuv_frame_default();
    imgclass_status size_st = ic_struct_read(&ic_layout_yuv_frame, frame, &local, NULL);
    if (size_st != IMGCLASS_OK)
        return size_st;
    frame = &local;
    if (!ic_format_is_yuv(frame->layout))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_wrap_yuv",
                       "layout %d is not NV12, NV21, I420 or YV12", (int)frame->layout);
    const int w = frame->width, h = frame->height;
    if (w <= 0 || h <= 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_wrap_yuv", "size %dx%d", w, h);
    ic_yuv_coeffs coeffs;
    if (ic_yuv_coeffs_for(frame->matrix, frame->range, &coeffs) != 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_wrap_yuv",
                       "unknown matrix %d or range %d", (int)frame->matrix, (int)frame->range);
    const int semi = frame->layout == IMGCLASS_PIXEL_NV12 || frame->layout == IMGCLASS_PIXEL_NV21;
    const int cw = w / 2 + (w & 1), ch = h / 2 + (h & 1);
    const int nplanes = semi ? 2 : 3;
    size_t rows_bytes[3] = {(size_t)w, semi ? 2 * (size_t)cw : (size_t)cw, (size_t)cw};
    int rows[3] = {h, ch, ch};
    size_t strides[3] = {frame->strides[0], frame->strides[1], frame->strides[2]};
    static const char *const names[4][3] = {{"Y", "UV", ""}, {"Y", "VU", ""},
                                            {"Y", "U", "V"}, {"Y", "V", "U"}};
    const char *const *name = names[frame->layout - IMGCLASS_PIXEL_NV12];
    for (int p = 0; p < nplanes; p++) {
        imgclass_status st =
            ic_check_plane("imgclass_image_wrap_yuv", name[p], frame->planes[p], &strides[p],
                           rows_bytes[p], rows[p]);
        if (st != IMGCLASS_OK)
            return st;
    }
    /* Sizes are ints, so each plane's bytes fit in size_t on 64-bit hosts;
     * check anyway for 32-bit ones. */
    size_t total = 0;
    for (int p = 0; p < nplanes; p++) {
        if (rows_bytes[p] > (SIZE_MAX - total) / (size_t)rows[p])
            return ic_fail(IMGCLASS_ERR_TOO_LARGE, "imgclass_image_wrap_yuv", "%dx%d", w, h);
        total += rows_bytes[p] * (size_t)rows[p];
    }

    imgclass_image *image = calloc(1, sizeof *image);
    if (!image)
        return ic_error_oom("imgclass_image_wrap_yuv", "an image");
    const uint8_t *planes[3] = {frame->planes[0], frame->planes[1], frame->planes[2]};
    if (copy) {
        uint8_t *own = malloc(total);
        if (!own) {
            free(image);
            return ic_error_oom("imgclass_image_wrap_yuv", "a copy of the planes");
        }
        uint8_t *at = own;
        for (int p = 0; p < nplanes; p++) {
            ic_copy_plane(at, planes[p], strides[p], rows_bytes[p], rows[p]);
            planes[p] = at;
            strides[p] = rows_bytes[p];
            at += rows_bytes[p] * (size_t)rows[p];
        }
        image->owned = own;
    }
    image->width = w;
    image->height = h;
    image->format = frame->layout;
    image->pixels = planes[0];
    image->stride = strides[0];
    image->coeffs = coeffs;
    image->frame = *frame;
    for (int p = 0; p < 3; p++) {
        image->frame.planes[p] = p < nplanes ? planes[p] : NULL;
        image->frame.strides[p] = p < nplanes ? strides[p] : 0;
    }
    switch (frame->layout) {
    case IMGCLASS_PIXEL_NV12:
        image->u = planes[1], image->v = planes[1] + 1;
        image->u_stride = image->v_stride = strides[1];
        image->chroma_step = 2;
        break;
    case IMGCLASS_PIXEL_NV21:
        image->v = planes[1], image->u = planes[1] + 1;
        image->u_stride = image->v_stride = strides[1];
        image->chroma_step = 2;
        break;
    case IMGCLASS_PIXEL_I420:
        image->u = planes[1], image->u_stride = strides[1];
        image->v = planes[2], image->v_stride = strides[2];
        image->chroma_step = 1;
        break;
    default: /* YV12 */
        image->v = planes[1], image->v_stride = strides[1];
        image->u = planes[2], image->u_stride = strides[2];
        image->chroma_step = 1;
        break;
    }
    *out = image;
    return IMGCLASS_OK;
}
