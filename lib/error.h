/* Internal: the thread-local error message behind imgclass_last_error(). */
#ifndef IMGCLASS_ERROR_H
#define IMGCLASS_ERROR_H

#include "imgclass.h"

#if defined(__GNUC__)
#define IC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define IC_PRINTF(fmt, args)
#endif

/* Formats the calling thread's error message and returns `status`, so a
 * failing path reads `return ic_error(IMGCLASS_ERR_IO, "%s: ...", path);`.
 * Convention for messages: "<source>: <status text>: <reason>", where source
 * is the file path or "memory buffer". */
imgclass_status ic_error(imgclass_status status, const char *fmt, ...) IC_PRINTF(2, 3);

/* Reports an allocation failure of `what` (a few words) for `source`. */
imgclass_status ic_error_oom(const char *source, const char *what);

#endif
