/* PNG, BMP, GIF, TGA and PSD through stb_image (Debian libstb-dev, v2.27).
 *
 * stb_image is compiled here, once, privately (STB_IMAGE_STATIC). Thread
 * safety: v2.27 keeps its failure reason in a thread-local (C11
 * _Thread_local) and we never call the global setters
 * (stbi_set_flip_vertically_on_load and friends), so concurrent decodes are
 * safe.
 *
 * Conversion to RGB matches Pillow 9.4's Image.open(f).convert("RGB"),
 * checked on files written by Pillow and numpy:
 *  - 8-bit gray, gray+alpha, RGB, RGBA, palette (with or without tRNS):
 *    stb's own conversion to 3 channels replicates gray and drops alpha,
 *    as Pillow does (alpha is not composited).
 *  - 16-bit gray PNG / 16-bit PGM: Pillow opens them as mode "I" and
 *    convert("RGB") clips each value to 255 (300 -> 255), it does not keep
 *    the high byte as stb's 8-bit path would; we load 16 bits and clip.
 *  - 16-bit gray+alpha PNG: Pillow reads it as "LA" with rawmode "LA;16B",
 *    i.e. the high byte of the gray value: value >> 8.
 *  - 48-bit RGB and 64-bit RGBA PNG: the high byte of each channel.
 * Known differences from Pillow (exotic inputs, documented not hidden):
 *  - GIF with a transparent colour: stb leaves transparent pixels of the
 *    first frame black (0,0,0); Pillow gives the palette entry of the
 *    transparency index. GIFs whose first frame does not cover the logical
 *    screen may differ in the uncovered area too.
 *  - PNG CRC errors: stb ignores them; Pillow refuses the file.
 *  - PSD: stb reads the merged composite; Pillow reads the same image for
 *    common 8-bit RGB files but other variants may differ.
 *  - PNM is read by decode_pnm.c instead (stb neither byte-swaps 16-bit
 *    samples nor rescales by maxval); text PNM (P1-P4) is refused. */
#include "decode_stb.h"

#include "decode_common.h"
#include "error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO  /* we read files ourselves */
#define STBI_NO_JPEG   /* JPEG goes through libjpeg-turbo, as in Pillow */
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_NO_PIC    /* Softimage PIC: Pillow does not read it */
#define STBI_NO_PNM    /* decode_pnm.c: stb's does not match Pillow */
/* The library must never abort; a failed stb assertion would be a bug in
 * stb, found by the fuzzer, not something to crash a host process for. */
#define STBI_ASSERT(x) ((void)0)
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
/* v2.27 declares stbi_set_unpremultiply_on_load_thread without defining
 * it; GCC reports that at the end of the file, so this stays off here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

static const char *format_name(const unsigned char *d, size_t n)
{
    if (n >= 4 && memcmp(d, "\x89PNG", 4) == 0)
        return "PNG";
    if (n >= 2 && memcmp(d, "BM", 2) == 0)
        return "BMP";
    if (n >= 3 && memcmp(d, "GIF", 3) == 0)
        return "GIF";
    if (n >= 4 && memcmp(d, "8BPS", 4) == 0)
        return "PSD";
    return "TGA";
}

int ic_stb_is_tga(const unsigned char *data, size_t size)
{
    int w, h, comp;
    /* PNG/BMP/GIF/PSD/PNM were recognised by signature before this is
     * asked, so stb accepting the header here means its TGA reader does. */
    return size <= INT_MAX && stbi_info_from_memory(data, (int)size, &w, &h, &comp);
}

static imgclass_status corrupt(const char *source, const char *format)
{
    const char *why = stbi_failure_reason();
    return ic_error(IMGCLASS_ERR_CORRUPT, "%s: corrupt data: cannot decode %s: %s", source, format,
                    why ? why : "unknown reason");
}

/* 16-bit images: the rules of Pillow's 16-bit modes (see the top). */
static unsigned char *rgb_from_16bit(const stbi_us *in, int w, int h, int comp)
{
    size_t count = (size_t)w * (size_t)h;
    unsigned char *rgb = malloc(count * 3);
    if (!rgb)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        const stbi_us *p = in + i * (size_t)comp;
        unsigned char *o = rgb + i * 3;
        if (comp == 1) {
            unsigned char v = p[0] > 255 ? 255 : (unsigned char)p[0];
            o[0] = o[1] = o[2] = v;
        } else if (comp == 2) {
            o[0] = o[1] = o[2] = (unsigned char)(p[0] >> 8);
        } else {
            o[0] = (unsigned char)(p[0] >> 8);
            o[1] = (unsigned char)(p[1] >> 8);
            o[2] = (unsigned char)(p[2] >> 8);
        }
    }
    return rgb;
}

imgclass_status ic_decode_stb(const unsigned char *data, size_t size, const char *source,
                              uint64_t max_pixels, const ic_decode_request *request,
                              ic_decoded *out)
{
    const char *format = format_name(data, size);
    if (size > INT_MAX)
        return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: %s data of %zu bytes", source,
                        format, size);
    int len = (int)size, w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(data, len, &w, &h, &comp))
        return corrupt(source, format);
    imgclass_status st = ic_decode_check_size(source, format, w, h, max_pixels);
    if (st != IMGCLASS_OK)
        return st;

    unsigned char *rgb;
    int dw = 0, dh = 0, dcomp = 0;
    if (stbi_is_16_bit_from_memory(data, len)) {
        stbi_us *wide = stbi_load_16_from_memory(data, len, &dw, &dh, &dcomp, 0);
        if (!wide)
            return corrupt(source, format);
        if (dw != w || dh != h || dcomp < 1 || dcomp > 4) {
            stbi_image_free(wide);
            return ic_error(IMGCLASS_ERR_CORRUPT, "%s: corrupt data: inconsistent %s header",
                            source, format);
        }
        rgb = rgb_from_16bit(wide, dw, dh, dcomp);
        stbi_image_free(wide);
        if (!rgb)
            return ic_error_oom(source, "decoded pixels");
    } else {
        /* stb converts to 3 channels itself: gray replicated, alpha dropped. */
        rgb = stbi_load_from_memory(data, len, &dw, &dh, &dcomp, 3);
        if (!rgb)
            return corrupt(source, format);
        if (dw != w || dh != h) {
            stbi_image_free(rgb);
            return ic_error(IMGCLASS_ERR_CORRUPT, "%s: corrupt data: inconsistent %s header",
                            source, format);
        }
    }
    /* The caller may still want to learn the size and name a region; the
     * block is the whole image, which covers any region. */
    (void)ic_decode_region(request, dw, dh);
    out->image_width = dw;
    out->image_height = dh;
    out->block.x = 0;
    out->block.y = 0;
    out->block.width = dw;
    out->block.height = dh;
    out->stride = (size_t)dw * 3;
    out->pixels = rgb;
    return IMGCLASS_OK;
}
