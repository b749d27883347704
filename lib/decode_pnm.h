/* Internal: binary PGM/PPM (P5/P6) read exactly as Pillow 9.4 reads them.
 * stb_image's PNM reader keeps 16-bit samples in file (big-endian) byte
 * order and never rescales by maxval, so it cannot match Pillow. */
#ifndef IMGCLASS_DECODE_PNM_H
#define IMGCLASS_DECODE_PNM_H

#include "decode.h"

#include <stdint.h>

/* `data` starts with "P5" or "P6". The block is always the whole image.
 * See ic_decode() for the contract. max_pixels 0: no limit. */
imgclass_status ic_decode_pnm(const unsigned char *data, size_t size, const char *source,
                              uint64_t max_pixels, const ic_decode_request *request,
                              ic_decoded *out);

#endif
