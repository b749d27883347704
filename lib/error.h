/* Internal: the thread-local error message behind imgclass_last_error(). */
#ifndef IMGCLASS_ERROR_H
#define IMGCLASS_ERROR_H

#include "imgclass.h"

#if defined(__GNUC__)
#define IC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define IC_PRINTF(fmt, args)
#endif

/* The one way a failure is reported: sets the calling thread's message to
 * "<source>: <status text>: <detail>" and returns `status`, so a failing
 * path reads `return ic_fail(IMGCLASS_ERR_IO, path, "cannot open: %s", why);`.
 * The status text is imgclass_status_str(status): no call site spells it.
 * `source` names what failed (a file path, "memory buffer", the function);
 * NULL reads "imgclass". `fmt` is printf-style. */
imgclass_status ic_fail(imgclass_status status, const char *source, const char *fmt, ...)
    IC_PRINTF(3, 4);

/* Sets the message as formatted, verbatim, and returns `status`. Only for
 * messages already in ic_fail()'s form (one passed on from the engine
 * module or from an image's own failure); everything else uses ic_fail(). */
imgclass_status ic_error(imgclass_status status, const char *fmt, ...) IC_PRINTF(2, 3);

/* Reports an allocation failure of `what` (a few words) for `source`. */
imgclass_status ic_error_oom(const char *source, const char *what);

#endif
