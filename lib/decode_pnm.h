/* Internal: binary PGM/PPM (P5/P6) read exactly as Pillow 9.4 reads them.
 * stb_image's PNM reader keeps 16-bit samples in file (big-endian) byte
 * order and never rescales by maxval, so it cannot match Pillow. */
#ifndef IMGCLASS_DECODE_PNM_H
#define IMGCLASS_DECODE_PNM_H

#include "decode_common.h"

#include <stdint.h>

/* `data` starts with "P5" or "P6". The block is always the whole image.
 * See ic_decode() for the contract. Limits of 0: none. */
imgclass_status ic_decode_pnm(const unsigned char *data, size_t size, const char *source,
                              const ic_decode_limits *limits, const ic_decode_request *request,
                              ic_decoded *out);

#endif
