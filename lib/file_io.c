/* Whole-file reads for images, models and labels. */
#include "file_io.h"

#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

imgclass_status ic_read_file(const char *path, size_t max_size, unsigned char **data,
                             size_t *size)
{
    if (!path || !data || !size)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass: invalid argument: NULL path");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ic_error(IMGCLASS_ERR_IO, "%s: i/o error: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        int e = errno;
        fclose(f);
        return ic_error(IMGCLASS_ERR_IO, "%s: i/o error: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(f);
        return ic_error(IMGCLASS_ERR_IO, "%s: i/o error: is a directory", path);
    }
    if (max_size && (unsigned long long)st.st_size > max_size) {
        fclose(f);
        return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: %lld bytes, limit %zu", path,
                        (long long)st.st_size, max_size);
    }
    /* Regular files are read in one go; pipes and the like (st_size 0)
     * grow the buffer as they are read. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    size_t len = 0;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return ic_error_oom(path, "the file contents");
    }
    for (;;) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
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
            if (max_size && len > max_size) {
                free(buf);
                fclose(f);
                return ic_error(IMGCLASS_ERR_TOO_LARGE, "%s: too large: over %zu bytes", path,
                                max_size);
            }
            unsigned char *bigger = cap < ((size_t)-1) / 2 ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                fclose(f);
                return ic_error_oom(path, "the file contents");
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    *data = buf;
    *size = len;
    return IMGCLASS_OK;
}
