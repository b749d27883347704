/* ic_decode: recognises the format by its first bytes and hands the data to
 * libjpeg-turbo (JPEG) or stb_image (everything else). */
#include "decode.h"

#include "decode_jpeg.h"
#include "decode_pnm.h"
#include "decode_stb.h"
#include "error.h"
#include "exif.h"

#include <stdlib.h>
#include <string.h>

imgclass_file_format ic_decode_format(const unsigned char *data, size_t size)
{
    if (!data)
        return IMGCLASS_FILE_UNKNOWN;
    switch (ic_decode_sniff(data, size)) {
    case IC_SNIFF_JPEG: return IMGCLASS_FILE_JPEG;
    case IC_SNIFF_PNM: return IMGCLASS_FILE_PNM;
    case IC_SNIFF_PNM_TEXT: return IMGCLASS_FILE_UNKNOWN; /* refused by ic_decode */
    case IC_SNIFF_STB:
        if (data[0] == 0x89)
            return IMGCLASS_FILE_PNG;
        if (data[0] == 'B')
            return IMGCLASS_FILE_BMP;
        if (data[0] == 'G')
            return IMGCLASS_FILE_GIF;
        return IMGCLASS_FILE_PSD;
    case IC_SNIFF_UNKNOWN:
        break;
    }
    return ic_stb_is_tga(data, size) ? IMGCLASS_FILE_TGA : IMGCLASS_FILE_UNKNOWN;
}

static imgclass_status decode_format(const unsigned char *data, size_t size, const char *source,
                                     const ic_decode_limits *limits,
                                     const ic_decode_request *request, ic_decoded *out);

imgclass_status ic_decode(const unsigned char *data, size_t size, const char *source,
                          const imgclass_decode_options *options,
                          const ic_decode_request *request, ic_decoded *out)
{
    if (!source)
        source = "memory buffer";
    if (!out || (!data && size))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, source, "NULL %s", out ? "data" : "output");
    if (size == 0)
        return ic_fail(IMGCLASS_ERR_CORRUPT, source, "empty (0 bytes)");
    ic_decode_limits limits = ic_decode_limits_from(options);
    int orientation = options && options->exif_transpose ? ic_exif_orientation(data, size) : 0;
    if (orientation < 2)
        return decode_format(data, size, source, &limits, request, out);
    if (request && request->header_only) {
        /* A probe: the size the transposed image will have. */
        imgclass_status st = decode_format(data, size, source, &limits, request, out);
        if (st == IMGCLASS_OK && orientation >= 5) {
            int w = out->image_width;
            out->image_width = out->image_height;
            out->image_height = w;
            out->block.x = out->block.y = 0;
            out->block.width = out->image_width;
            out->block.height = out->image_height;
        }
        return st;
    }
    /* Rotated or flipped: the caller's region and scale are in the
     * transposed image's coordinates, so decode all of it, exactly, and
     * transpose it; the caller then takes what it needs from the whole. */
    ic_decoded whole;
    memset(&whole, 0, sizeof whole);
    imgclass_status st = decode_format(data, size, source, &limits, NULL, &whole);
    if (st == IMGCLASS_OK)
        st = ic_exif_transpose(&whole, orientation, source, &limits);
    if (st != IMGCLASS_OK) {
        free(whole.pixels);
        return st;
    }
    *out = whole;
    return IMGCLASS_OK;
}

static imgclass_status decode_format(const unsigned char *data, size_t size, const char *source,
                                     const ic_decode_limits *limits,
                                     const ic_decode_request *request, ic_decoded *out)
{
    const ic_decode_limits *lim = limits;
    switch (ic_decode_sniff(data, size)) {
    case IC_SNIFF_JPEG:
        return ic_decode_jpeg(data, size, source, lim, request, out);
    case IC_SNIFF_STB:
        return ic_decode_stb(data, size, source, lim, request, out);
    case IC_SNIFF_PNM:
        return ic_decode_pnm(data, size, source, lim, request, out);
    case IC_SNIFF_PNM_TEXT:
        return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                       "PNM variant P%c (only binary P5/P6 are read)", data[1]);
    case IC_SNIFF_UNKNOWN:
        break;
    }
    /* TGA has no signature: let stb_image's own test decide. */
    if (ic_stb_is_tga(data, size))
        return ic_decode_stb(data, size, source, lim, request, out);
    return ic_fail(IMGCLASS_ERR_UNSUPPORTED, source,
                   "not a JPEG, PNG, BMP, GIF, TGA, PNM or PSD image (%zu bytes)", size);
}
