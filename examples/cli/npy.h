/* Writing float32 arrays as NumPy .npy files (format version 1.0). */
#ifndef IMGCLASS_CLI_NPY_H
#define IMGCLASS_CLI_NPY_H

#include <stddef.h>
#include <stdio.h>

/* Every header this writer produces is exactly this long (magic, version,
 * length, the dict padded with spaces, '\n'): a multiple of 64 as the
 * format asks, and fixed, so a streaming writer can rewrite it in place
 * once the first dimension is known. */
#define NPY_HEADER_BYTES 128

/* Writes the header of a C-order little-endian float32 ('<f4') array of
 * shape[0..ndim) at the current position of `f`. Returns 0, or -1 (errno
 * set by stdio, or EINVAL when the dict does not fit). */
int npy_write_header_f32(FILE *f, const size_t *shape, int ndim);

#endif
