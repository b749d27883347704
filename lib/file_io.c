/* Whole-file reads for images, models and labels. */
#include "file_io.h"

#include "error.h"
#include "huge_pages.h"

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
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass", "NULL path");
    if (!*path)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass", "empty path");
    FILE *f = fopen(path, "rb");
    if (!f)
        return ic_fail(IMGCLASS_ERR_IO, path, "cannot open: %s", strerror(errno));
    if (fstat(fileno(f), st) != 0) {
        int e = errno;
        fclose(f);
        return ic_fail(IMGCLASS_ERR_IO, path, "cannot stat: %s", strerror(e));
    }
    if (S_ISDIR(st->st_mode)) {
        fclose(f);
        return ic_fail(IMGCLASS_ERR_IO, path, "is a directory");
    }
    if (max_size && (unsigned long long)st->st_size > max_size) {
        fclose(f);
        return ic_fail(IMGCLASS_ERR_TOO_LARGE, path, "%lld bytes, the limit is %zu",
                       (long long)st->st_size, max_size);
    }
    *out = f;
    return IMGCLASS_OK;
}

imgclass_status ic_read_file_prefix(const char *path, size_t max_size, size_t prefix,
                                    unsigned char **data, size_t *size, int *at_end)
{
    if (!data || !size || !at_end || prefix == 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, path ? path : "imgclass", "%s",
                       !data ? "NULL data" : !size ? "NULL size" : !at_end ? "NULL at_end"
                                                                          : "empty prefix");
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
        return ic_fail(IMGCLASS_ERR_IO, path, "read failed: %s", strerror(e));
    }
    /* A full prefix may be the whole file: one more byte tells. */
    *at_end = len < prefix || fgetc(f) == EOF;
    fclose(f);
    *data = buf;
    *size = len;
    return IMGCLASS_OK;
}

/* Frees a buffer of read_whole(): mapped != 0 for huge pages. */
void ic_file_data_free(unsigned char *data, size_t mapped)
{
    if (mapped)
        ic_huge_free(data, mapped);
    else
        free(data);
}

/* ic_read_file_checked(), and with `huge` a regular file of IC_HUGE_MIN
 * bytes or more goes into huge pages (*mapped != 0). */
static imgclass_status read_whole(const char *path, size_t max_size, ic_head_check check,
                                  int huge, unsigned char **data, size_t *size, size_t *mapped)
{
    /* Name the argument that was NULL: "NULL path" for a NULL output
     * pointer would send the caller looking in the wrong place. */
    if (!data || !size)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, path ? path : "imgclass", "NULL %s",
                       !data ? "data" : "size");
    *mapped = 0;
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
    size_t len = 0, map_len = 0;
    unsigned char *buf = huge && S_ISREG(st.st_mode) && cap >= IC_HUGE_MIN
                             ? ic_huge_alloc(cap, &map_len)
                             : NULL;
    if (!buf)
        buf = malloc(cap);
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
            ic_file_data_free(buf, map_len);
            fclose(f);
            return st;
        }
    }
    for (;;) {
        size_t n = ferror(f) ? 0 : fread(buf + len, 1, cap - len, f);
        len += n;
        if (max_size && len > max_size) {
            ic_file_data_free(buf, map_len);
            fclose(f);
            return ic_fail(IMGCLASS_ERR_TOO_LARGE, path,
                           "more than %zu bytes (the size limit; a caller that trusts its input "
                           "can raise it)",
                           max_size);
        }
        if (n == 0) {
            if (ferror(f)) {
                int e = errno;
                ic_file_data_free(buf, map_len);
                fclose(f);
                return ic_fail(IMGCLASS_ERR_IO, path, "read failed: %s", strerror(e));
            }
            break;
        }
        if (len == cap) {
            size_t bigger_cap = cap < SIZE_MAX / 2 ? cap * 2 : SIZE_MAX;
            if (bigger_cap > ceiling)
                bigger_cap = ceiling;
            unsigned char *bigger = NULL;
            if (bigger_cap > cap && map_len) {
                /* The file grew since fstat(): on in a malloc'd buffer. */
                bigger = malloc(bigger_cap);
                if (bigger) {
                    memcpy(bigger, buf, len);
                    ic_huge_free(buf, map_len);
                    map_len = 0;
                }
            } else if (bigger_cap > cap) {
                bigger = realloc(buf, bigger_cap);
            }
            if (!bigger) {
                ic_file_data_free(buf, map_len);
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
    *mapped = map_len;
    return IMGCLASS_OK;
}

imgclass_status ic_read_file_checked(const char *path, size_t max_size, ic_head_check check,
                                     unsigned char **data, size_t *size)
{
    size_t mapped;
    return read_whole(path, max_size, check, 0, data, size, &mapped);
}

imgclass_status ic_read_file_huge(const char *path, size_t max_size, ic_head_check check,
                                  unsigned char **data, size_t *size, size_t *mapped)
{
    if (!mapped)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, path ? path : "imgclass", "NULL mapped");
    return read_whole(path, max_size, check, 1, data, size, mapped);
}
