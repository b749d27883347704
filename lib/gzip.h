/* Internal: gzip detection and size-limited inflation (zlib), for .pt.gz
 * models and gzipped label files. */
#ifndef IMGCLASS_GZIP_H
#define IMGCLASS_GZIP_H

#include "imgclass.h"

/* Non-zero when the data starts with the gzip magic bytes 1f 8b. */
int ic_is_gzip(const void *data, size_t size);

/* Inflates the gzip data (one or more concatenated members) into a new
 * malloc'd buffer (*out, free() it; non-NULL even when *out_size is 0).
 * Output larger than `max_size` bytes fails with IMGCLASS_ERR_TOO_LARGE
 * without allocating more, so a small "zip bomb" cannot exhaust memory;
 * with max_ratio > 0 the output may also be at most max_ratio times the
 * input plus 1 MiB (refused as soon as it passes). max_size 0: no absolute
 * limit. Zero bytes after the last member are ignored, as gzip -d does.
 * Truncated or corrupt data fails with IMGCLASS_ERR_CORRUPT. `source` names
 * the data in messages. */
imgclass_status ic_gunzip(const void *data, size_t size, size_t max_size, unsigned max_ratio,
                          const char *source, unsigned char **out, size_t *out_size);

#endif
