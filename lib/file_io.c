/* Whole-file reads for images, models and labels. */
#include "file_io.h"

#include "error.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

imgclass_status ic_read_file(const char *path, size_t max_size, unsigned char **data,
                             size_t *size)
{
    return ic_read_file_checked(path, max_size, NULL, data, size);
}

/* Opens `path` for reading, refusing a directory and a regular file over
 * max_size (0: no limit) before anything is read. */
static imgclass_status open_input(const char *path, size_t max_size, FILE **out,
                                  struct stat *st)
{
    if (!path)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass: invalid argument: NULL path");
    if (!*path)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass: invalid argument: empty path");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ic_error(IMGCLASS_ERR_IO, "%s: i/o error: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(f), st) != 0) {
        int e = errno;
        fclose(f);
        return ic_error(IMGCLASS_ERR_IO, "%s: i/o error: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st->st_mode)) {
        fclose(f);
        return ic_error(IMGCLASS_ERR_IO, "%s: i/o error: is a directory", path);
    }
    if (max_size && (unsigned long long)st->st_size > max_size) {
        fclose(f);
        return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: %lld bytes, the limit is %zu",
                        path, (long long)st->st_size, max_size);
    }
    *out = f;
    return IMGCLASS_OK;
}

imgclass_status ic_read_file_prefix(const char *path, size_t max_size, size_t prefix,
                                    unsigned char **data, size_t *size, int *at_end)
{
    if (!data || !size || !at_end || prefix == 0)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT,
                        "imgclass: invalid argument: NULL output or empty prefix");
    FILE *f;
    struct stat st;
    imgclass_status status = open_input(path, max_size, &f, &st);
    if (status != IMGCLASS_OK)
        return status;
    unsigned char *buf = malloc(prefix);
    if (!buf) {
        fclose(f);
        return ic_error_oom(path, "the file's first bytes");
    }
    size_t len = 0;
    while (len < prefix) {
        size_t n = fread(buf + len, 1, prefix - len, f);
        if (n == 0)
            break;
        len += n;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return ic_error(IMGCLASS_ERR_IO, "%s: i/o error: read failed: %s", path, strerror(e));
    }
    /* A full prefix may be the whole file: one more byte tells. */
    *at_end = len < prefix || fgetc(f) == EOF;
    fclose(f);
    *data = buf;
    *size = len;
    return IMGCLASS_OK;
}

imgclass_status ic_read_file_checked(const char *path, size_t max_size, ic_head_check check,
                                     unsigned char **data, size_t *size)
{
    if (!data || !size)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass: invalid argument: NULL output");
    FILE *f;
    struct stat st;
    imgclass_status status = open_input(path, max_size, &f, &st);
    if (status != IMGCLASS_OK)
        return status;
    /* Regular files are read in one go; pipes and the like (st_size 0)
     * grow the buffer as they are read. The buffer never grows past
     * max_size + 1 bytes: one byte more than the limit is enough to know
     * that the input is over it, so /dev/zero or an endless pipe costs at
     * most the limit in memory, never a doubling beyond it. */
    size_t ceiling = max_size && max_size < SIZE_MAX ? max_size + 1 : SIZE_MAX;
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    if (cap > ceiling)
        cap = ceiling;
    size_t len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return ic_error_oom(path, "the file contents");
    }
    /* The first bytes alone can tell that this is not what the caller
     * reads (a model from /dev/zero): refuse before reading on. */
    size_t head = check ? (cap < IC_HEAD_BYTES ? cap : IC_HEAD_BYTES) : 0;
    while (len < head) {
        size_t n = fread(buf + len, 1, head - len, f);
        if (n == 0)
            break;
        len += n;
    }
    if (check && !ferror(f)) {
        imgclass_status st = check(buf, len, path);
        if (st != IMGCLASS_OK) {
            free(buf);
            fclose(f);
            return st;
        }
    }
    for (;;) {
        size_t n = ferror(f) ? 0 : fread(buf + len, 1, cap - len, f);
        len += n;
        if (max_size && len > max_size) {
            free(buf);
            fclose(f);
            return ic_error(IMGCLASS_ERR_TOO_LARGE,
                            "%s: too large: more than %zu bytes (the size limit; a caller that "
                            "trusts its input can raise it)",
                            path, max_size);
        }
        if (n == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                fclose(f);
                return ic_error(IMGCLASS_ERR_IO, "%s: i/o error: read failed: %s", path,
                                strerror(e));
            }
            break;
        }
        if (len == cap) {
            size_t bigger_cap = cap < SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
            if (bigger_cap > ceiling)
                bigger_cap = ceiling;
            unsigned char *bigger = bigger_cap > cap ? realloc(buf, bigger_cap) : NULL;
            if (!bigger) {
                free(buf);
                fclose(f);
                return ic_error_oom(path, "the file contents");
            }
            buf = bigger;
            cap = bigger_cap;
        }
    }
    fclose(f);
    *data = buf;
    *size = len;
    return IMGCLASS_OK;
}
