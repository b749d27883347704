/* imgclass_image_probe*(): an image's format and size from its header
 * alone. The decoders themselves read the header (ic_decode with a
 * header_only request), so the probe and a decode cannot disagree on what
 * is an image, on its size or on the limits. */
#include "imgclass.h"

#include "decode.h"
#include "decode_common.h"
#include "error.h"
#include "exif.h"
#include "file_io.h"
#include "struct_size.h"

#include <stdint.h>
#include <stdlib.h>

/* The first read of a file: every header of these formats fits, except a
 * JPEG whose metadata segments (EXIF, ICC, XMP) come before its frame
 * header; for those the prefix grows 8 times per try. */
#define PROBE_FIRST_PREFIX ((size_t)64 << 10)

IMGCLASS_API const char *imgclass_file_format_name(imgclass_file_format format)
{
    switch (format) {
    case IMGCLASS_FILE_JPEG: return "JPEG";
    case IMGCLASS_FILE_PNG: return "PNG";
    case IMGCLASS_FILE_BMP: return "BMP";
    case IMGCLASS_FILE_GIF: return "GIF";
    case IMGCLASS_FILE_TGA: return "TGA";
    case IMGCLASS_FILE_PNM: return "PNM";
    case IMGCLASS_FILE_PSD: return "PSD";
    case IMGCLASS_FILE_UNKNOWN: break;
    }
    return "unknown";
}

static imgclass_status check_args(const char *fn, const imgclass_decode_options **options,
                                  imgclass_decode_options *local, const imgclass_image_info *info)
{
    if (!info)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, fn, "NULL info");
    imgclass_status st = ic_struct_check_out(&ic_layout_image_info, info, "imgclass_image_info");
    *local = imgclass_decode_options_default();
    if (st == IMGCLASS_OK)
        st = ic_read_decode_options(options, local, "imgclass_decode_options");
    return st;
}

/* The header of `size` bytes at `data` (a whole file or a prefix). */
static imgclass_status probe(const unsigned char *data, size_t size, const char *source,
                             const imgclass_decode_options *options, imgclass_image_info *info)
{
    ic_decode_request header_only = {NULL, NULL, NULL, 1};
    ic_decoded dec;
    imgclass_status st = ic_decode(data, size, source, options, &header_only, &dec);
    if (st != IMGCLASS_OK)
        return st;
    info->format = ic_decode_format(data, size);
    info->orientation = ic_exif_orientation(data, size);
    info->width = dec.image_width;
    info->height = dec.image_height;
    return IMGCLASS_OK;
}

IMGCLASS_API imgclass_status imgclass_image_probe_memory(const void *data, size_t size,
                                                         const imgclass_decode_options *options,
                                                         imgclass_image_info *info)
{
    imgclass_decode_options local;
    imgclass_status st = check_args("imgclass_image_probe_memory", &options, &local, info);
    if (st != IMGCLASS_OK)
        return st;
    if (!data && size)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "memory buffer", "NULL data");
    imgclass_image_info found = {.struct_size = sizeof found};
    st = probe(data, size, "memory buffer", options, &found);
    if (st == IMGCLASS_OK)
        ic_struct_write(&ic_layout_image_info, &found, info);
    return st;
}

IMGCLASS_API imgclass_status imgclass_image_probe(const char *path,
                                                  const imgclass_decode_options *options,
                                                  imgclass_image_info *info)
{
    imgclass_decode_options local;
    imgclass_status st = check_args("imgclass_image_probe", &options, &local, info);
    if (st != IMGCLASS_OK)
        return st;
    if (!path)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_image_probe", "NULL path");
    size_t max_file = ic_decode_max_file_bytes(options);
    size_t prefix = PROBE_FIRST_PREFIX;
    if (max_file && prefix > max_file)
        prefix = max_file; /* the decode would not read past it either */
    for (;;) {
        unsigned char *data = NULL;
        size_t size = 0;
        int at_end = 0;
        st = ic_read_file_prefix(path, max_file, prefix, &data, &size, &at_end);
        if (st != IMGCLASS_OK)
            return st;
        /* Work on a copy of the caller's info: a failed try must leave it
         * untouched. */
        imgclass_image_info found = {.struct_size = sizeof found};
        st = probe(data, size, path, options, &found);
        free(data);
        if (st == IMGCLASS_OK) {
            ic_struct_write(&ic_layout_image_info, &found, info);
            return IMGCLASS_OK;
        }
        /* Only a header that may have been cut by the prefix earns a
         * longer read; everything else is the decode's own verdict. */
        int room = !max_file || prefix < max_file;
        if (st != IMGCLASS_ERR_CORRUPT || at_end || !room || prefix > SIZE_MAX / 8)
            return st;
        prefix *= 8;
        if (max_file && prefix > max_file)
            prefix = max_file;
    }
}
