/* imgclass_preprocess*(): Resize -> CenterCrop -> ToTensor -> Normalize,
 * bit-exact with torchvision 0.14 + Pillow 9.4 (the rules, and how this
 * file follows them: docs/preprocessing.md).
 *
 * Only the output pixels that survive the crop are computed: the
 * horizontal pass over the source rows and columns their windows read,
 * then the vertical pass, whose 8-bit results go through the normalisation
 * table straight into the CHW planes of the batch slot. */
#include "batch_internal.h"
#include "decode.h"
#include "decode_common.h"
#include "error.h"
#include "file_io.h"
#include "geometry.h"
#include "image_internal.h"
#include "normalize.h"
#include "resample.h"
#include "struct_size.h"
#include "yuv_row.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void preprocess_defaults(imgclass_preprocess_options *out)
{
    imgclass_preprocess_options o;
    memset(&o, 0, sizeof o);
    o.resize_mode = IMGCLASS_RESIZE_SHORTER;
    o.resize_size = 256;
    o.resize_width = 256;
    o.resize_height = 256;
    o.crop_width = 224;
    o.crop_height = 224;
    o.mean[0] = 0.485f;
    o.mean[1] = 0.456f;
    o.mean[2] = 0.406f;
    o.std[0] = 0.229f;
    o.std[1] = 0.224f;
    o.std[2] = 0.225f;
    o.fast = 0;
    o.interpolation = IMGCLASS_INTERP_BILINEAR;
    *out = o;
}

IMGCLASS_API imgclass_status imgclass_preprocess_options_init(imgclass_preprocess_options *opts,
                                                              size_t size)
{
    imgclass_preprocess_options o;
    preprocess_defaults(&o);
    return ic_struct_init(&ic_layout_preprocess_options, opts, size, &o);
}

IMGCLASS_API imgclass_status imgclass_preprocess_options_init_djl(imgclass_preprocess_options *opts,
                                                                  size_t size)
{
    imgclass_preprocess_options o;
    preprocess_defaults(&o);
    o.resize_mode = IMGCLASS_RESIZE_EXACT;
    return ic_struct_init(&ic_layout_preprocess_options, opts, size, &o);
}

IMGCLASS_API imgclass_status imgclass_preprocess_output_size(const imgclass_preprocess_options *options,
                                                             int image_width, int image_height,
                                                             int *out_height, int *out_width)
{
    imgclass_preprocess_options defaults = imgclass_preprocess_options_default();
    imgclass_status read = ic_read_preprocess_options(&options, &defaults, "imgclass_preprocess_options");
    if (read != IMGCLASS_OK)
        return read;
    if (!options)
        options = &defaults;
    if (!out_height || !out_width)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_preprocess_output_size",
                       "NULL output pointer");
    imgclass_status st = ic_options_check(options, "preprocess options");
    if (st != IMGCLASS_OK)
        return st;
    ic_plan plan;
    st = ic_plan_compute(options, image_width, image_height, "image", &plan);
    if (st != IMGCLASS_OK)
        return st;
    *out_height = plan.y.output;
    *out_width = plan.x.output;
    return IMGCLASS_OK;
}

/* A readable block of source pixels. */
typedef struct pixel_block {
    const uint8_t *pixels;        /* pixel (x0, y0) of the image */
    size_t stride;
    imgclass_pixel_format format;
    int x0, y0, width, height;    /* where the block lies in the image */
    int image_width, image_height;
    const imgclass_image *yuv;    /* a YUV frame: rows are converted to R,G,B,X as read */
} pixel_block;

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void fill_floats(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = v;
}

/* Runs the plan on `src` (whose image size may differ from the size the
 * plan was made for only in fast mode: a DCT-scaled image resized to the
 * same target) and writes 3 planes of plan->y.output x plan->x.output
 * floats at `dst`. */
static imgclass_status run_plan(const pixel_block *src, const ic_plan *plan,
                                const imgclass_preprocess_options *o, const char *source,
                                float *dst)
{
    const ic_axis_plan *px = &plan->x, *py = &plan->y;
    const int cx = px->count;
    int sx0, sx1, sy0, sy1;
    const imgclass_interpolation interp = o->interpolation;
    ic_resample_axis_span(src->image_width, px->resized, px->first, cx, interp, &sx0, &sx1);
    ic_resample_axis_span(src->image_height, py->resized, py->first, py->count, interp, &sy0,
                          &sy1);
    if (sx0 < src->x0 || sx1 > src->x0 + src->width || sy0 < src->y0 ||
        sy1 > src->y0 + src->height)
        return ic_fail(IMGCLASS_ERR_CORRUPT, source,
                       "decoded block misses the region the crop needs");

    const size_t bx = round8(ic_resample_axis_bytes(src->image_width, px->resized, cx, interp));
    const size_t by =
        round8(ic_resample_axis_bytes(src->image_height, py->resized, py->count, interp));
    /* Two small scratch blocks per call: the weight tables, then (sized
     * from them) a ring of horizontally resized rows, one output row, the
     * row-conversion scratch and the vertical pass's row pointers. */
    unsigned char *mem = malloc(bx + by);
    if (!mem)
        return ic_error_oom(source, "resize scratch");
    ic_resample_axis ax, ay;
    ic_resample_axis_init(&ax, src->image_width, px->resized, px->first, cx, interp, mem);
    ic_resample_axis_init(&ay, src->image_height, py->resized, py->first, py->count, interp,
                          mem + bx);
    /* A window holds at most ay.ksize rows and windows only move down, so
     * a ring of ay.ksize rows per channel holds every row still needed:
     * when row k overwrites row k - ring, the current window starts after
     * it. Each source row is resized horizontally once. */
    const size_t ring = (size_t)ay.ksize;
    const size_t bring = round8(3 * ring * (size_t)cx + 3 * (size_t)cx);
    const size_t brow = round8(ic_resample_row_scratch_bytes(&ax));
    /* A YUV frame's source span, converted to R,G,B,X one row at a time. */
    const size_t byuv = src->yuv ? round8(4 * (size_t)(sx1 - sx0)) : 0;
    unsigned char *tmp = malloc(bring + brow + byuv + 3 * ring * sizeof(const uint8_t *));
    if (!tmp) {
        free(mem);
        return ic_error_oom(source, "resize scratch");
    }
    uint8_t *planes = tmp, *row8 = tmp + 3 * ring * (size_t)cx;
    uint8_t *rowscratch = tmp + bring;
    uint8_t *yuvrow = tmp + bring + brow;
    const uint8_t **ptrs = (const uint8_t **)(void *)(tmp + bring + brow + byuv);

    ic_norm_lut norm;
    ic_norm_lut_init(&norm, o->mean, o->std);

    const int bpp = imgclass_pixel_format_bytes(src->format);
    int next = 0; /* next source row (relative to sy0) to resize horizontally */
    const size_t ow = (size_t)px->output, oh = (size_t)py->output;
    const size_t left = (size_t)(px->first - px->offset);
    const size_t right = ow - left - (size_t)cx;
    for (size_t oy = 0; oy < oh; oy++) {
        const long long r = (long long)oy + py->offset;
        if (r < py->first || r >= (long long)py->first + py->count) { /* padding row */
            for (int c = 0; c < 3; c++)
                fill_floats(dst + (size_t)c * oh * ow + oy * ow, ow, norm.lut[c][0]);
            continue;
        }
        const int i = (int)(r - py->first);
        const int start = ay.start[i], taps = ay.taps[i];
        for (; next < start + taps; next++) { /* horizontal pass, rows as needed */
            uint8_t *slot = planes + (size_t)(next % (int)ring) * cx;
            if (src->yuv) {
                ic_yuv_row_to_rgbx(src->yuv, sy0 + next, sx0, sx1 - sx0, yuvrow);
                ic_resample_row_h_rgbx(yuvrow, &ax, rowscratch, slot, slot + ring * cx,
                                       slot + 2 * ring * cx);
            } else {
                const uint8_t *srow = src->pixels + (size_t)(sy0 + next - src->y0) * src->stride +
                                      (size_t)(sx0 - src->x0) * (size_t)bpp;
                ic_resample_row_h(srow, src->format, &ax, rowscratch, slot, slot + ring * cx,
                                  slot + 2 * ring * cx);
            }
        }
        for (int c = 0; c < 3; c++) {
            for (int j = 0; j < taps; j++)
                ptrs[j] = planes + ((size_t)c * ring + (size_t)((start + j) % (int)ring)) * cx;
            ic_resample_col_v(ptrs, &ay, i, cx, row8);
            float *out = dst + (size_t)c * oh * ow + oy * ow;
            const float *lut = norm.lut[c];
            fill_floats(out, left, lut[0]);
            for (int x = 0; x < cx; x++)
                out[left + (size_t)x] = lut[row8[x]];
            fill_floats(out + left + cx, right, lut[0]);
        }
    }
    free(tmp);
    free(mem);
    return IMGCLASS_OK;
}

static imgclass_status check_slot(const imgclass_batch *batch, size_t index, const char *source)
{
    if (!batch)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL batch");
    if (index >= batch->count)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source,
                       "batch index %zu out of range (count %zu)", index, batch->count);
    return IMGCLASS_OK;
}

static imgclass_status check_size(const imgclass_batch *batch, const ic_plan *plan,
                                  const char *source)
{
    if (plan->y.output != batch->height || plan->x.output != batch->width)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source,
                       "preprocessed size %dx%d (WxH) does not match the batch's %dx%d",
                       plan->x.output, plan->y.output, batch->width, batch->height);
    return IMGCLASS_OK;
}

static float *slot_data(imgclass_batch *batch, size_t index)
{
    return batch->data + index * 3 * (size_t)batch->height * (size_t)batch->width;
}

IMGCLASS_API imgclass_status imgclass_preprocess(const imgclass_image *image,
                                                 const imgclass_preprocess_options *options,
                                                 imgclass_batch *batch, size_t index)
{
    const char *source = "image";
    imgclass_preprocess_options defaults = imgclass_preprocess_options_default();
    imgclass_status read = ic_read_preprocess_options(&options, &defaults, "imgclass_preprocess_options");
    if (read != IMGCLASS_OK)
        return read;
    if (!options)
        options = &defaults;
    if (!image || !image->pixels)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL image");
    const int yuv = ic_format_is_yuv(image->format);
    if (!yuv && imgclass_pixel_format_bytes(image->format) == 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "unknown pixel format %d",
                       (int)image->format);
    imgclass_status st = check_slot(batch, index, source);
    if (st == IMGCLASS_OK)
        st = ic_options_check(options, source);
    ic_plan plan;
    if (st == IMGCLASS_OK)
        st = ic_plan_compute(options, image->width, image->height, source, &plan);
    if (st == IMGCLASS_OK)
        st = check_size(batch, &plan, source);
    if (st != IMGCLASS_OK)
        return st;
    pixel_block src = {image->pixels, image->stride, image->format, 0, 0,
                       image->width,  image->height, image->width, image->height,
                       yuv ? image : NULL};
    return run_plan(&src, &plan, options, source, slot_data(batch, index));
}

/* --- decode + preprocess ------------------------------------------------ */

typedef struct fused_ctx {
    const imgclass_preprocess_options *options;
    const imgclass_batch *batch;
    const char *source;
    int orig_width, orig_height; /* full size from the header, 0 if unknown */
    imgclass_status status;      /* a failure found inside a callback */
} fused_ctx;

/* As Pillow's draft(): the largest DCT scale 1/s that keeps the image at
 * least as large as the resize target on both axes. */
static int choose_scale_cb(void *vctx, int width, int height)
{
    fused_ctx *ctx = vctx;
    ctx->orig_width = width;
    ctx->orig_height = height;
    int tw, th;
    if (width <= 0 || height <= 0 ||
        ic_resize_target(ctx->options, width, height, ctx->source, &tw, &th) != IMGCLASS_OK)
        return 1;
    int scale = width / tw < height / th ? width / tw : height / th;
    static const int denoms[] = {8, 4, 2};
    for (size_t i = 0; i < sizeof denoms / sizeof denoms[0]; i++)
        if (scale >= denoms[i])
            return denoms[i];
    return 1;
}

/* The plan for an image that decodes to width x height, sized from the
 * full (unscaled) image as in exact mode. */
static imgclass_status fused_plan(fused_ctx *ctx, int width, int height, ic_plan *plan)
{
    int w = ctx->orig_width > 0 ? ctx->orig_width : width;
    int h = ctx->orig_height > 0 ? ctx->orig_height : height;
    imgclass_status st = ic_plan_compute(ctx->options, w, h, ctx->source, plan);
    if (st == IMGCLASS_OK)
        st = check_size(ctx->batch, plan, ctx->source);
    return st;
}

static void choose_region_cb(void *vctx, int width, int height, ic_region *region)
{
    fused_ctx *ctx = vctx;
    ic_plan plan;
    /* On failure decode as little as possible; the error is reported
     * after ic_decode() returns. */
    region->x = region->y = 0;
    region->width = region->height = 1;
    if (width <= 0 || height <= 0)
        return;
    ctx->status = fused_plan(ctx, width, height, &plan);
    if (ctx->status != IMGCLASS_OK)
        return;
    int x0, x1, y0, y1;
    /* The region grows with the filter's support (bicubic reads twice as
     * far as bilinear). */
    const imgclass_interpolation interp = ctx->options->interpolation;
    ic_resample_axis_span(width, plan.x.resized, plan.x.first, plan.x.count, interp, &x0, &x1);
    ic_resample_axis_span(height, plan.y.resized, plan.y.first, plan.y.count, interp, &y0, &y1);
    region->x = x0;
    region->y = y0;
    region->width = x1 - x0;
    region->height = y1 - y0;
}

static imgclass_status fused(const unsigned char *data, size_t size, const char *source,
                             const imgclass_decode_options *decode_options,
                             const imgclass_preprocess_options *options, imgclass_batch *batch,
                             size_t index)
{
    fused_ctx ctx = {options, batch, source, 0, 0, IMGCLASS_OK};
    ic_decode_request req = {&ctx, options->fast ? choose_scale_cb : NULL, choose_region_cb, 0};
    ic_decoded dec;
    memset(&dec, 0, sizeof dec);
    imgclass_status st = ic_decode(data, size, source, decode_options, &req, &dec);
    if (st != IMGCLASS_OK)
        return st;
    ic_plan plan;
    st = ctx.status;
    if (st == IMGCLASS_OK)
        st = fused_plan(&ctx, dec.image_width, dec.image_height, &plan);
    if (st == IMGCLASS_OK) {
        pixel_block src = {dec.pixels,       dec.stride,      IMGCLASS_PIXEL_RGB,
                           dec.block.x,      dec.block.y,     dec.block.width,
                           dec.block.height, dec.image_width, dec.image_height,
                           NULL};
        st = run_plan(&src, &plan, options, source, slot_data(batch, index));
    }
    free(dec.pixels);
    return st;
}

/* Reads the caller's options into the locals (see struct_size.h). */
static imgclass_status fused_args(const char *source,
                                  const imgclass_decode_options **decode_options,
                                  imgclass_decode_options *decode_local,
                                  const imgclass_preprocess_options **options,
                                  imgclass_preprocess_options *defaults, imgclass_batch *batch,
                                  size_t index)
{
    *decode_local = imgclass_decode_options_default();
    imgclass_status st =
        ic_read_decode_options(decode_options, decode_local, "imgclass_decode_options");
    if (st != IMGCLASS_OK)
        return st;
    *defaults = imgclass_preprocess_options_default();
    st = ic_read_preprocess_options(options, defaults, "imgclass_preprocess_options");
    if (st != IMGCLASS_OK)
        return st;
    if (!*options)
        *options = defaults;
    st = check_slot(batch, index, source);
    if (st == IMGCLASS_OK)
        st = ic_options_check(*options, source);
    return st;
}

IMGCLASS_API imgclass_status imgclass_preprocess_file(const char *path,
                                                      const imgclass_decode_options *decode_options,
                                                      const imgclass_preprocess_options *options,
                                                      imgclass_batch *batch, size_t index)
{
    if (!path)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_preprocess_file", "NULL path");
    imgclass_preprocess_options defaults;
    imgclass_decode_options decode_local;
    imgclass_status st =
        fused_args(path, &decode_options, &decode_local, &options, &defaults, batch, index);
    if (st != IMGCLASS_OK)
        return st;
    unsigned char *data;
    size_t size;
    st = ic_read_file_checked(path, ic_decode_max_file_bytes(decode_options),
                              ic_decode_head_check, &data, &size);
    if (st != IMGCLASS_OK)
        return st;
    st = fused(data, size, path, decode_options, options, batch, index);
    free(data);
    return st;
}

IMGCLASS_API imgclass_status imgclass_preprocess_memory(const void *data, size_t size,
                                                        const imgclass_decode_options *decode_options,
                                                        const imgclass_preprocess_options *options,
                                                        imgclass_batch *batch, size_t index)
{
    const char *source = "memory buffer";
    if (!data)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL data");
    imgclass_preprocess_options defaults;
    imgclass_decode_options decode_local;
    imgclass_status st =
        fused_args(source, &decode_options, &decode_local, &options, &defaults, batch, index);
    if (st != IMGCLASS_OK)
        return st;
    return fused(data, size, source, decode_options, options, batch, index);
}
