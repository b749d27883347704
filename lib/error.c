/* Status strings and the thread-local last-error message. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Long enough for a path plus a reason; longer messages are truncated. */
#define IC_ERROR_CAPACITY 1024

static _Thread_local char ic_last_error[IC_ERROR_CAPACITY];

IMGCLASS_API const char *imgclass_status_str(imgclass_status status)
{
    switch (status) {
    case IMGCLASS_OK: return "ok";
    case IMGCLASS_ERR_INVALID_ARGUMENT: return "invalid argument";
    case IMGCLASS_ERR_OUT_OF_MEMORY: return "out of memory";
    case IMGCLASS_ERR_IO: return "i/o error";
    case IMGCLASS_ERR_UNSUPPORTED: return "unsupported format";
    case IMGCLASS_ERR_CORRUPT: return "corrupt data";
    case IMGCLASS_ERR_TOO_LARGE: return "too large";
    case IMGCLASS_ERR_MODEL: return "invalid model";
    case IMGCLASS_ERR_LABELS: return "invalid labels";
    case IMGCLASS_ERR_DEVICE: return "device unavailable";
    case IMGCLASS_ERR_ENGINE: return "engine error";
    case IMGCLASS_ERR_BUSY: return "busy";
    case IMGCLASS_ERR_CLOSED: return "closed";
    }
    return "unknown status";
}

IMGCLASS_API const char *imgclass_last_error(void)
{
    return ic_last_error;
}

imgclass_status ic_error(imgclass_status status, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(ic_last_error, sizeof ic_last_error, fmt, ap);
    va_end(ap);
    /* Too long (a path deeper than PATH_MAX): keep the head and the tail,
     * where the reason is, and cut the middle, instead of losing the
     * reason. */
    char *full = n >= (int)sizeof ic_last_error ? malloc((size_t)n + 1) : NULL;
    if (full) {
        vsnprintf(full, (size_t)n + 1, fmt, again);
        const size_t half = sizeof ic_last_error / 2 - 4;
        memcpy(ic_last_error, full, half);
        memcpy(ic_last_error + half, " ...", 4);
        memcpy(ic_last_error + half + 4, full + (size_t)n - half, half + 1);
        free(full);
    }
    va_end(again);
    return status;
}

/* The detail is formatted first; ic_error() then keeps the head and the
 * tail of an overlong whole (a deep path as the source). */
imgclass_status ic_fail(imgclass_status status, const char *source, const char *fmt, ...)
{
    char detail[IC_ERROR_CAPACITY];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return ic_error(status, "%s: %s: %s", source ? source : "imgclass",
                    imgclass_status_str(status), detail);
}

imgclass_status ic_error_oom(const char *source, const char *what)
{
    return ic_fail(IMGCLASS_ERR_OUT_OF_MEMORY, source, "cannot allocate %s", what);
}
