/* JPEG decoding with libjpeg-turbo, bit-identical to Pillow 9.4.
 *
 * Pillow decodes with the library defaults (JDCT_ISLOW, fancy upsampling,
 * no scaling) into JCS_RGB; gray files are asked for as JCS_RGB too, which
 * libjpeg-turbo replicates exactly as Pillow's L -> RGB conversion does.
 * CMYK and YCCK (Adobe) files come out of libjpeg as CMYK with the Adobe
 * inversion; Pillow always reads 4-channel JPEGs with rawmode "CMYK;I"
 * (inverting) and then convert("RGB") applies its cmyk2rgb formula, which
 * cmyk_row_to_rgb() reproduces.
 *
 * Truncation: Pillow (ImageFile.LOAD_TRUNCATED_IMAGES False) feeds libjpeg
 * through a suspending source and raises "image file is truncated" when the
 * decoder needs bytes past the end of the file before the last scanline is
 * out; it never calls for the EOI marker after the last row. Our memory
 * source inserts a fake EOI with warning JWRN_JPEG_EOF at the same point,
 * so that warning (before the last needed row) makes IMGCLASS_ERR_CORRUPT,
 * and we never call jpeg_finish_decompress. Other libjpeg warnings (corrupt
 * data the decoder recovers from) are ignored, as Pillow ignores them.
 *
 * Region decoding: jpeg_crop_scanline() for columns, jpeg_skip_scanlines()
 * for rows above, and stopping after the last row needed. Fancy upsampling
 * reads neighbouring chroma samples, so the crop is widened by one iMCU on
 * each side that is not an image edge, and rows are skipped only up to one
 * iMCU row above the region (the rows in between are decoded and dropped);
 * test_decode.c checks that every region equals the same rectangle of a
 * full decode for each subsampling, progressive files and DCT scales. */
#include "decode_jpeg.h"

#include "decode_common.h"
#include "error.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE and size_t */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

typedef struct error_manager {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int eof_warnings; /* JWRN_JPEG_EOF: the data ended before the image */
} error_manager;

/* Everything the decode touches, reached through one pointer so that
 * nothing lives in a register across the longjmp. */
typedef struct jpeg_job {
    struct jpeg_decompress_struct cinfo;
    error_manager err;
    int created;
    unsigned char *pixels;  /* the block handed out */
    unsigned char *scratch; /* CMYK row, or a row to drop */
    const unsigned char *data;
    size_t size;
    const char *source;
    ic_decode_limits limits;
    struct jpeg_progress_mgr progress;
    int scan_limit_hit; /* the progress monitor stopped the decode */
    const ic_decode_request *request;
    imgclass_status status; /* set before a deliberate longjmp-free return */
} jpeg_job;

static void on_error_exit(j_common_ptr cinfo)
{
    error_manager *err = (error_manager *)cinfo->err;
    longjmp(err->jump, 1);
}

/* Warnings (level -1) are counted, never printed; trace messages dropped. */
static void on_emit_message(j_common_ptr cinfo, int level)
{
    error_manager *err = (error_manager *)cinfo->err;
    if (level < 0) {
        err->pub.num_warnings++;
        if (err->pub.msg_code == JWRN_JPEG_EOF)
            err->eof_warnings++;
    }
}

static void on_output_message(j_common_ptr cinfo)
{
    (void)cinfo;
}

/* Called by libjpeg before each unit of input work. A progressive file
 * costs a pass over the whole coefficient buffer per scan, so a small file
 * with thousands of scans would take minutes: stop after max_jpeg_scans, as
 * libjpeg-turbo's own tools do (djpeg -maxscans, TJPARAM_SCANLIMIT). The
 * job starts with cinfo, so the cast finds it. */
static void on_progress(j_common_ptr common)
{
    jpeg_job *job = (jpeg_job *)(void *)common;
    if (job->limits.max_jpeg_scans && job->cinfo.input_scan_number > job->limits.max_jpeg_scans) {
        job->scan_limit_hit = 1;
        longjmp(job->err.jump, 1);
    }
}

/* Pillow's MULDIV255 and cmyk2rgb (libImaging/Convert.c), applied to
 * libjpeg's CMYK after Pillow's "CMYK;I" unpacking (255 - x). */
static inline int muldiv255(int a, int b)
{
    int t = a * b + 128;
    return (t + (t >> 8)) >> 8;
}

static void cmyk_row_to_rgb(const unsigned char *in, unsigned char *out, size_t width)
{
    for (size_t i = 0; i < width; i++, in += 4, out += 3) {
        int c = 255 - in[0], m = 255 - in[1], y = 255 - in[2], k = 255 - in[3];
        int nk = 255 - k;
        int r = nk - muldiv255(c, nk), g = nk - muldiv255(m, nk), b = nk - muldiv255(y, nk);
        out[0] = (unsigned char)(r < 0 ? 0 : r);
        out[1] = (unsigned char)(g < 0 ? 0 : g);
        out[2] = (unsigned char)(b < 0 ? 0 : b);
    }
}

/* Reads `count` rows into consecutive rows of `dest` (stride bytes apart),
 * through the CMYK scratch row when the output is CMYK. */
static void read_rows(jpeg_job *job, unsigned char *dest, size_t stride, JDIMENSION count)
{
    struct jpeg_decompress_struct *cinfo = &job->cinfo;
    int cmyk = cinfo->out_color_space == JCS_CMYK;
    while (count > 0) {
        JSAMPROW rows[16];
        JDIMENSION n = count < 16 ? count : 16;
        if (cmyk)
            n = 1;
        for (JDIMENSION i = 0; i < n; i++)
            rows[i] = cmyk ? job->scratch : dest + i * stride;
        JDIMENSION got = jpeg_read_scanlines(cinfo, rows, n);
        if (got == 0) /* cannot happen with a memory source; never loop */
            ERREXIT(cinfo, JERR_INPUT_EMPTY);
        if (cmyk)
            cmyk_row_to_rgb(job->scratch, dest, cinfo->output_width);
        dest += got * stride;
        count -= got;
    }
}

/* Reads and drops `count` rows (into `row`, one row of output width). */
static void drop_rows(jpeg_job *job, unsigned char *row, JDIMENSION count)
{
    read_rows(job, row, 0, count);
}

/* After the last needed row of a sequential file, would Pillow (reading on
 * to the last row) have run out of data? Only when no EOI marker follows:
 * inside entropy-coded data 0xFF is always stuffed, so the first FF D9 from
 * here on is the EOI. Without one, the remaining rows are decoded (rarely:
 * broken files only) so that the EOF warning decides exactly as in a full
 * decode. */
static int rest_is_truncated(jpeg_job *job, unsigned char *row)
{
    struct jpeg_decompress_struct *cinfo = &job->cinfo;
    if (cinfo->unread_marker == JPEG_EOI)
        return job->err.eof_warnings > 0;
    const unsigned char *p = cinfo->src->next_input_byte;
    size_t left = cinfo->src->bytes_in_buffer;
    while (left >= 2) {
        const unsigned char *ff = memchr(p, 0xFF, left - 1);
        if (!ff)
            break;
        if (ff[1] == 0xD9)
            return 0;
        left -= (size_t)(ff + 1 - p);
        p = ff + 1;
    }
    drop_rows(job, row, cinfo->output_height - cinfo->output_scanline);
    return job->err.eof_warnings > 0;
}

static imgclass_status truncated(jpeg_job *job)
{
    return ic_error(IMGCLASS_ERR_CORRUPT,
                    "%s: corrupt data: JPEG image is truncated (data ends before the last row)",
                    job->source);
}

static imgclass_status decode(jpeg_job *job, ic_decoded *out)
{
    struct jpeg_decompress_struct *cinfo = &job->cinfo;
    cinfo->err = jpeg_std_error(&job->err.pub);
    job->err.pub.error_exit = on_error_exit;
    job->err.pub.emit_message = on_emit_message;
    job->err.pub.output_message = on_output_message;
    if (setjmp(job->err.jump)) {
        if (job->scan_limit_hit)
            return ic_error(IMGCLASS_ERR_TOO_LARGE,
                            "%s: too large: progressive JPEG has more than %d scans (the scan "
                            "limit; Pillow would decode it, slowly)",
                            job->source, job->limits.max_jpeg_scans);
        char reason[JMSG_LENGTH_MAX];
        int code = job->err.pub.msg_code;
        if (code == JERR_NO_BACKING_STORE)
            return ic_error(IMGCLASS_ERR_TOO_LARGE,
                            "%s: too large: decoding this JPEG needs more than the decode memory "
                            "limit of %llu MiB",
                            job->source, (unsigned long long)(job->limits.max_memory >> 20));
        (*job->err.pub.format_message)((j_common_ptr)cinfo, reason);
        imgclass_status st = IMGCLASS_ERR_CORRUPT;
        if (code == JERR_OUT_OF_MEMORY)
            st = IMGCLASS_ERR_OUT_OF_MEMORY;
        else if (code == JERR_CONVERSION_NOTIMPL || code == JERR_NOT_COMPILED ||
                 code == JERR_BAD_J_COLORSPACE || code == JERR_NOTIMPL)
            st = IMGCLASS_ERR_UNSUPPORTED;
        return ic_error(st, "%s: %s: JPEG: %s", job->source, imgclass_status_str(st), reason);
    }
    jpeg_create_decompress(cinfo);
    job->created = 1;
    job->progress.progress_monitor = on_progress;
    cinfo->progress = &job->progress;
    jpeg_mem_src(cinfo, job->data, (unsigned long)job->size);
    jpeg_read_header(cinfo, TRUE);
    if (job->err.eof_warnings)
        return ic_error(IMGCLASS_ERR_CORRUPT,
                        "%s: corrupt data: JPEG image is truncated (data ends inside its header)",
                        job->source);
    imgclass_status st = ic_decode_check_size(job->source, "JPEG", cinfo->image_width,
                                              cinfo->image_height, job->limits.max_pixels);
    if (st != IMGCLASS_OK)
        return st;

    int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    const ic_decode_request *req = job->request;
    if (req && req->choose_scale) {
        int denom = req->choose_scale(req->ctx, (int)cinfo->image_width, (int)cinfo->image_height);
        if (denom == 2 || denom == 4 || denom == 8) {
            cinfo->scale_num = 1;
            cinfo->scale_denom = (unsigned int)denom;
        }
    }
    jpeg_calc_output_dimensions(cinfo);
    const int full_w = (int)cinfo->output_width, full_h = (int)cinfo->output_height;
    ic_region want = ic_decode_region(req, full_w, full_h);
    /* The block we allocate (at most full width: the crop only narrows
     * it), and libjpeg's own arrays within what remains of the memory
     * limit: a progressive file keeps every coefficient of the image (6
     * bytes a pixel at 4:4:4), which libjpeg refuses past max_memory_to_use
     * (it has no backing store: JERR_NO_BACKING_STORE). */
    if (job->limits.max_memory) {
        uint64_t block = (uint64_t)full_w * 3u * (uint64_t)want.height;
        if (block >= job->limits.max_memory)
            return ic_error(IMGCLASS_ERR_TOO_LARGE,
                            "%s: too large: %dx%d JPEG pixels need %llu MiB, over the decode "
                            "memory limit of %llu MiB",
                            job->source, full_w, want.height, (unsigned long long)(block >> 20),
                            (unsigned long long)(job->limits.max_memory >> 20));
        uint64_t rest = job->limits.max_memory - block; /* > 0; 0 would mean no limit */
        cinfo->mem->max_memory_to_use = rest > (uint64_t)LONG_MAX ? LONG_MAX : (long)rest;
    }
    if (ic_decode_header_only(req))
        return ic_decode_header_done(full_w, full_h, out);

    jpeg_start_decompress(cinfo); /* progressive files are read whole here */
    if (job->err.eof_warnings)
        return truncated(job);

    /* Columns: one iMCU of margin on each inner side, then libjpeg widens
     * the crop to iMCU boundaries itself. */
    JDIMENSION crop_x = 0, crop_w = cinfo->output_width;
    if (want.width < full_w) {
        int imcu_w = cinfo->max_h_samp_factor * cinfo->min_DCT_scaled_size;
        int x0 = want.x - imcu_w, x1 = want.x + want.width + imcu_w;
        if (x0 < 0)
            x0 = 0;
        if (x1 > full_w)
            x1 = full_w;
        if (x1 - x0 < full_w) {
            crop_x = (JDIMENSION)x0;
            crop_w = (JDIMENSION)(x1 - x0);
            jpeg_crop_scanline(cinfo, &crop_x, &crop_w);
        }
    }
    /* Rows: skip to one iMCU row above the region, decode and drop the
     * margin rows, keep [want.y, want.y + want.height). */
    int imcu_h = cinfo->max_v_samp_factor * cinfo->min_DCT_scaled_size;
    int first_read = want.y - imcu_h;
    if (first_read < 0)
        first_read = 0;
    if (first_read > 0)
        jpeg_skip_scanlines(cinfo, (JDIMENSION)first_read);

    size_t width = cinfo->output_width; /* after the crop */
    size_t stride = width * 3;
    size_t rows = (size_t)want.height;
    if (rows && stride > (size_t)-1 / rows)
        return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: JPEG block overflows memory",
                        job->source);
    job->pixels = malloc(stride * rows);
    if (!job->pixels)
        return ic_error_oom(job->source, "decoded JPEG pixels");
    if (cmyk) {
        job->scratch = malloc(width * 4);
        if (!job->scratch)
            return ic_error_oom(job->source, "a JPEG row");
    }
    /* Margin rows land in the first block row and are overwritten. */
    drop_rows(job, job->pixels, cinfo->output_scanline < (JDIMENSION)want.y
                                    ? (JDIMENSION)want.y - cinfo->output_scanline
                                    : 0);
    read_rows(job, job->pixels, stride, (JDIMENSION)rows);
    if (job->err.eof_warnings)
        return truncated(job);
    if (cinfo->output_scanline < cinfo->output_height) {
        if (!job->scratch) {
            job->scratch = malloc(width * 4);
            if (!job->scratch)
                return ic_error_oom(job->source, "a JPEG row");
        }
        if (rest_is_truncated(job, job->scratch))
            return truncated(job);
    }

    out->image_width = full_w;
    out->image_height = full_h;
    out->block.x = (int)crop_x;
    out->block.y = want.y;
    out->block.width = (int)width;
    out->block.height = want.height;
    out->stride = stride;
    out->pixels = job->pixels;
    job->pixels = NULL; /* handed out */
    return IMGCLASS_OK;
}

imgclass_status ic_decode_jpeg(const unsigned char *data, size_t size, const char *source,
                               const ic_decode_limits *limits, const ic_decode_request *request,
                               ic_decoded *out)
{
    jpeg_job *job = calloc(1, sizeof *job);
    if (!job)
        return ic_error_oom(source, "a JPEG decoder");
    job->data = data;
    job->size = size;
    job->source = source;
    job->limits = *limits;
    job->request = request;
    imgclass_status st = decode(job, out);
    if (job->created)
        jpeg_destroy_decompress(&job->cinfo);
    free(job->pixels);
    free(job->scratch);
    free(job);
    return st;
}
