/* Internal: the EXIF orientation tag of an encoded image, found the way
 * Pillow 9.4's Image.getexif() finds it, and the transposition that
 * ImageOps.exif_transpose() applies for it. */
#ifndef IMGCLASS_EXIF_H
#define IMGCLASS_EXIF_H

#include <stddef.h>

#include "decode_common.h"

/* The orientation (1..8) that `size` bytes of a JPEG or PNG carry in
 * EXIF, or 0 when there is none, it is not 1..8, or the EXIF block is
 * malformed (never an error). Reads only inside data[0..size). */
int ic_exif_orientation(const unsigned char *data, size_t size);

/* Transposes a whole decoded image for orientation 2..8 (1 and 0: no-op),
 * as Pillow's Image.transpose() with the method exif_transpose() picks.
 * Flips work in place; rotations allocate the new image first (checked
 * against limits->max_memory with the old one still held). On failure
 * *dec is unchanged. */
imgclass_status ic_exif_transpose(ic_decoded *dec, int orientation, const char *source,
                                  const ic_decode_limits *limits);

#endif
