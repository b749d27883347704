/* Internal: reading whole files into memory with clear errors. */
#ifndef IMGCLASS_FILE_IO_H
#define IMGCLASS_FILE_IO_H

#include "imgclass.h"

/* Reads the whole file at `path` into a new malloc'd buffer (*data, free()
 * it) of *size bytes. Files over `max_size` bytes (0: no limit) fail with
 * IMGCLASS_ERR_TOO_LARGE before reading. Errors name the path and the
 * reason (errno text). An empty file succeeds with *size == 0 and a
 * non-NULL *data. */
imgclass_status ic_read_file(const char *path, size_t max_size, unsigned char **data,
                             size_t *size);

#endif
