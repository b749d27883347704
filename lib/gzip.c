/* gzip inflation with zlib, guarded by a limit on the output size. */
#include "gzip.h"

#include "error.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

int ic_is_gzip(const void *data, size_t size)
{
    const unsigned char *p = data;
    return data && size >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Grows *buf to at least `need` bytes, never beyond `limit`. */
static int grow(unsigned char **buf, size_t *cap, size_t need, size_t limit)
{
    size_t cap2 = *cap ? *cap : 1 << 16;
    while (cap2 < need)
        cap2 = cap2 > SIZE_MAX / 2 ? SIZE_MAX : cap2 * 2;
    if (cap2 > limit)
        cap2 = limit;
    unsigned char *p = realloc(*buf, cap2 ? cap2 : 1);
    if (!p)
        return 0;
    *buf = p;
    *cap = cap2;
    return 1;
}

/* Non-zero when the n bytes at p are all zero. */
static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

imgclass_status ic_gunzip(const void *data, size_t size, size_t max_size, unsigned max_ratio,
                          const char *source, unsigned char **out, size_t *out_size)
{
    if (!source)
        source = "memory buffer";
    /* The ratio guard: real data (model weights, text) inflates a few
     * times; a file of zeros a thousand times. Refusing at the ratio stops
     * a bomb after a few times its own size, not at the absolute limit. */
    int by_ratio = 0;
    if (max_ratio) {
        size_t slack = (size_t)1 << 20;
        size_t allowed = size < (SIZE_MAX - slack) / max_ratio ? size * max_ratio + slack
                                                               : SIZE_MAX;
        if (!max_size || allowed < max_size) {
            max_size = allowed;
            by_ratio = 1;
        }
    }
    if (!max_size)
        max_size = SIZE_MAX;
    if (!ic_is_gzip(data, size))
        return ic_fail(IMGCLASS_ERR_CORRUPT, source, "not gzip data");
    z_stream zs = {0};
    /* 16 + MAX_WBITS: gzip wrapper only (not raw zlib). */
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return ic_error_oom(source, "zlib state");
    /* A first guess from the gzip trailer would be untrusted; start from 4x
     * the input and grow by doubling up to the limit. */
    size_t cap = 0, len = 0;
    unsigned char *buf = NULL;
    size_t first = size < SIZE_MAX / 4 ? size * 4 : SIZE_MAX;
    if (!grow(&buf, &cap, first < max_size ? first : max_size, max_size)) {
        inflateEnd(&zs);
        return ic_error_oom(source, "decompression buffer");
    }
    const unsigned char *in = data;
    size_t in_left = size;
    imgclass_status st = IMGCLASS_OK;
    int ret = Z_OK;
    for (;;) {
        if (zs.avail_in == 0 && in_left > 0) {
            uInt chunk = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
            zs.next_in = (unsigned char *)in;
            zs.avail_in = chunk;
            in += chunk;
            in_left -= chunk;
        }
        if (len == cap) {
            if (cap >= max_size) {
                if (by_ratio)
                    st = ic_fail(IMGCLASS_ERR_TOO_LARGE, source,
                                 "gzip data inflates more than %u times its %zu bytes (a "
                                 "decompression bomb? the ratio limit can be raised)",
                                 max_ratio, size);
                else
                    st = ic_fail(IMGCLASS_ERR_TOO_LARGE, source,
                                 "decompressed size exceeds %zu bytes", max_size);
                break;
            }
            if (!grow(&buf, &cap, cap + 1, max_size)) {
                st = ic_error_oom(source, "decompression buffer");
                break;
            }
        }
        size_t room = cap - len;
        zs.next_out = buf + len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = zs.avail_out;
        ret = inflate(&zs, Z_NO_FLUSH);
        len += before - zs.avail_out;
        if (ret == Z_STREAM_END) {
            /* Concatenated members (as `cat a.gz b.gz` makes) continue;
             * zero padding after the last member (tape blocks, dd) is
             * ignored, as gzip -d ignores it. */
            if (zs.avail_in == 0 && in_left == 0)
                break;
            if (zs.avail_in > 0 && all_zero(zs.next_in, zs.avail_in) && all_zero(in, in_left))
                break;
            if (inflateReset(&zs) != Z_OK) {
                st = ic_fail(IMGCLASS_ERR_CORRUPT, source, "bad gzip member");
                break;
            }
            continue;
        }
        if (ret == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
            st = ic_fail(IMGCLASS_ERR_CORRUPT, source, "truncated gzip data");
            break;
        }
        if (ret == Z_MEM_ERROR) {
            st = ic_error_oom(source, "zlib state");
            break;
        }
        if (ret != Z_OK && ret != Z_BUF_ERROR) {
            st = ic_fail(IMGCLASS_ERR_CORRUPT, source, "gzip: %s",
                         zs.msg ? zs.msg : "inflate failed");
            break;
        }
    }
    inflateEnd(&zs);
    if (st != IMGCLASS_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    *out_size = len;
    return IMGCLASS_OK;
}
