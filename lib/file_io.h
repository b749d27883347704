/* Internal: reading whole files into memory with clear errors. */
#ifndef IMGCLASS_FILE_IO_H
#define IMGCLASS_FILE_IO_H

#include "imgclass.h"

/* Reads the whole file at `path` into a new malloc'd buffer (*data, free()
 * it) of *size bytes. Input over `max_size` bytes (0: no limit) fails with
 * IMGCLASS_ERR_TOO_LARGE: a regular file before reading, a pipe or device
 * as soon as max_size + 1 bytes have arrived (memory never exceeds that). Errors name the path and the
 * reason (errno text). An empty file succeeds with *size == 0 and a
 * non-NULL *data. */
imgclass_status ic_read_file(const char *path, size_t max_size, unsigned char **data,
                             size_t *size);

/* Judges the first bytes of a file (at most IC_HEAD_BYTES, fewer when
 * the file is shorter): IMGCLASS_OK to read on, or an error status (with
 * its message set, naming `path`) to stop at once. */
#define IC_HEAD_BYTES 16
typedef imgclass_status (*ic_head_check)(const unsigned char *head, size_t n, const char *path);

/* As ic_read_file(), with `check` (may be NULL) called on the first bytes
 * before the rest is read. */
imgclass_status ic_read_file_checked(const char *path, size_t max_size, ic_head_check check,
                                     unsigned char **data, size_t *size);

/* As ic_read_file_checked(), for a large file read once and dropped soon
 * (a model archive): a regular file of IC_HUGE_MIN bytes or more is read
 * into huge pages (lib/huge_pages.h): one page fault per 2 MiB instead
 * of one per 4 KiB. Free *data with ic_file_data_free(*data, *mapped). */
imgclass_status ic_read_file_huge(const char *path, size_t max_size, ic_head_check check,
                                  unsigned char **data, size_t *size, size_t *mapped);

/* Frees the buffer of ic_read_file_huge() (mapped: its *mapped). */
void ic_file_data_free(unsigned char *data, size_t mapped);

/* Reads at most `prefix` bytes from the start of `path` into a new
 * malloc'd buffer (*data, free() it) of *size bytes; *at_end is non-zero
 * when that is the whole file. Refuses, as ic_read_file() does, a
 * directory and a regular file over `max_size` bytes (0: no limit), but
 * never reads more than `prefix` bytes (plus one, to tell the end). */
imgclass_status ic_read_file_prefix(const char *path, size_t max_size, size_t prefix,
                                    unsigned char **data, size_t *size, int *at_end);

#endif
