/* Internal: is an image file whole? stb_image fills the part of a BMP, GIF,
 * TGA or PSD image past the end of the data with zeros; Pillow refuses such
 * files ("image file is truncated", "not enough image data"). These checks
 * read only the headers and the structure of the pixel data (RLE packets,
 * GIF sub-blocks and LZW codes) to refuse what Pillow refuses, before stb
 * decodes anything. */
#ifndef IMGCLASS_DECODE_COMPLETE_H
#define IMGCLASS_DECODE_COMPLETE_H

#include "imgclass.h"

#include <stddef.h>

/* IMGCLASS_OK when the `format` ("BMP", "GIF", "TGA", "PSD"; others pass)
 * data of a w x h image holds every pixel Pillow would read (for a 16-bit
 * PSD, which Pillow does not read, every sample stb_image reads);
 * IMGCLASS_ERR_CORRUPT naming `source` otherwise, and
 * IMGCLASS_ERR_UNSUPPORTED for a 16-bit PackBits PSD, which stb misreads. */
imgclass_status ic_check_complete(const unsigned char *data, size_t size, const char *source,
                                  const char *format, int w, int h);

#endif
