/* imgclass_image: decoded images (owning 8-bit RGB pixels) and wrapped
 * caller pixels (copied or borrowed). */
#include "imgclass.h"

#include "decode.h"
#include "decode_common.h"
#include "error.h"
#include "file_io.h"
#include "image_internal.h"
#include "plane.h"
#include "struct_size.h"
#include "yuv.h"

#include <stdint.h>
#include <stdlib.h>

IMGCLASS_API int imgclass_pixel_format_bytes(imgclass_pixel_format format)
{
    switch (format) {
    case IMGCLASS_PIXEL_RGB:
    case IMGCLASS_PIXEL_BGR: return 3;
    case IMGCLASS_PIXEL_RGBA:
    case IMGCLASS_PIXEL_BGRA: return 4;
    case IMGCLASS_PIXEL_GRAY: return 1;
    case IMGCLASS_PIXEL_NV12:
    case IMGCLASS_PIXEL_NV21:
    case IMGCLASS_PIXEL_I420:
    case IMGCLASS_PIXEL_YV12: return 0; /* planar: no bytes per pixel */
    }
    return 0;
}

/* Turns a whole-image decode into an image that owns its pixels. */
static imgclass_status image_from_decoded(const char *source, ic_decoded *dec,
                                          imgclass_image **out)
{
    imgclass_image *image = calloc(1, sizeof *image);
    if (!image) {
        free(dec->pixels);
        return ic_error_oom(source, "an image");
    }
    image->width = dec->block.width;
    image->height = dec->block.height;
    image->format = IMGCLASS_PIXEL_RGB;
    image->stride = dec->stride;
    image->pixels = dec->pixels;
    image->owned = dec->pixels;
    *out = image;
    return IMGCLASS_OK;
}

static imgclass_status load(const unsigned char *data, size_t size, const char *source,
                            const imgclass_decode_options *options, imgclass_image **out)
{
    ic_decoded dec;
    imgclass_status st = ic_decode(data, size, source, options, NULL, &dec);
    if (st != IMGCLASS_OK)
        return st;
    return image_from_decoded(source, &dec, out);
}

IMGCLASS_API imgclass_status imgclass_image_load(const char *path,
                                                 const imgclass_decode_options *options,
                                                 imgclass_image **out)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_load", "NULL %s",
                       path ? "out" : "path");
    imgclass_decode_options local = imgclass_decode_options_default();
    imgclass_status st = ic_read_decode_options(&options, &local, "imgclass_decode_options");
    if (st != IMGCLASS_OK)
        return st;
    unsigned char *data = NULL;
    size_t size = 0;
    st = ic_read_file_checked(path, ic_decode_max_file_bytes(options),
                                              ic_decode_head_check, &data, &size);
    if (st != IMGCLASS_OK)
        return st;
    st = load(data, size, path, options, out);
    free(data);
    return st;
}

IMGCLASS_API imgclass_status imgclass_image_load_memory(const void *data, size_t size,
                                                        const imgclass_decode_options *options,
                                                        imgclass_image **out)
{
    if (out)
        *out = NULL;
    if (!out || (!data && size))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "memory buffer", "NULL %s",
                       out ? "data" : "out");
    imgclass_decode_options local = imgclass_decode_options_default();
    imgclass_status st = ic_read_decode_options(&options, &local, "imgclass_decode_options");
    if (st != IMGCLASS_OK)
        return st;
    return load(data, size, "memory buffer", options, out);
}

IMGCLASS_API imgclass_status imgclass_image_wrap(const void *pixels, int width, int height,
                                                 size_t stride, imgclass_pixel_format format,
                                                 int copy, imgclass_image **out)
{
    if (out)
        *out = NULL;
    if (!pixels || !out)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_wrap", "NULL %s",
                       pixels ? "out" : "pixels");
    int bpp = imgclass_pixel_format_bytes(format);
    if (ic_format_is_yuv(format))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_wrap",
                       "pixel format %d is planar YUV; wrap it with imgclass_image_wrap_yuv()",
                       (int)format);
    if (bpp == 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_wrap",
                       "unknown pixel format %d", (int)format);
    if (width <= 0 || height <= 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_wrap", "size %dx%d", width,
                       height);
    size_t row = (size_t)width * (size_t)bpp; /* cannot overflow: int * 4 */
    /* Also for borrowed pixels: preprocessing indexes them. */
    imgclass_status st = ic_check_plane("imgclass_image_wrap", NULL, pixels, &stride, row, height);
    if (st != IMGCLASS_OK)
        return st;
    if (copy && row > SIZE_MAX / (size_t)height)
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, "imgclass_image_wrap", "%dx%d", width, height);

    imgclass_image *image = calloc(1, sizeof *image);
    if (!image)
        return ic_error_oom("imgclass_image_wrap", "an image");
    image->width = width;
    image->height = height;
    image->format = format;
    if (copy) {
        uint8_t *own = malloc(row * (size_t)height);
        if (!own) {
            free(image);
            return ic_error_oom("imgclass_image_wrap", "a copy of the pixels");
        }
        ic_copy_plane(own, pixels, stride, row, height);
        image->stride = row;
        image->pixels = own;
        image->owned = own;
    } else {
        image->stride = stride;
        image->pixels = pixels;
        image->owned = NULL;
    }
    *out = image;
    return IMGCLASS_OK;
}

imgclass_status ic_image_copy(const imgclass_image *image, imgclass_image **out)
{
    if (image && ic_format_is_yuv(image->format))
        return imgclass_image_wrap_yuv(&image->frame, 1, out);
    size_t stride;
    const uint8_t *px = imgclass_image_pixels(image, &stride);
    return imgclass_image_wrap(px, imgclass_image_width(image), imgclass_image_height(image),
                               stride, imgclass_image_format(image), 1, out);
}

IMGCLASS_API int imgclass_image_width(const imgclass_image *image)
{
    return image ? image->width : 0;
}

IMGCLASS_API int imgclass_image_height(const imgclass_image *image)
{
    return image ? image->height : 0;
}

IMGCLASS_API imgclass_pixel_format imgclass_image_format(const imgclass_image *image)
{
    return image ? image->format : IMGCLASS_PIXEL_RGB;
}

IMGCLASS_API const uint8_t *imgclass_image_pixels(const imgclass_image *image, size_t *stride)
{
    if (!image) {
        if (stride)
            *stride = 0;
        return NULL;
    }
    if (stride)
        *stride = image->stride;
    return image->pixels;
}

IMGCLASS_API void imgclass_image_free(imgclass_image *image)
{
    if (!image)
        return;
    free(image->owned);
    free(image);
}
