/* The module side of lib/engine_abi.h: linked into the engine module
 * (libimgclass-torch.so) with lib/engine_torch.cpp, never into the core.
 *
 * It provides the entry point the core's loader looks up, and the core
 * functions engine_torch.cpp calls (ic_fail, ic_error, imgclass_status_str): here
 * they forward to the host, so an engine error lands in the core's
 * thread-local message exactly as it did when the engine was linked in. The
 * module's version script exports only the entry point, so these copies
 * never interpose on the core's. */
#include "engine_abi.h"
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static const ic_engine_host *host;

imgclass_status ic_error(imgclass_status status, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (host)
        host->set_error(message);
    return status;
}

/* The detail is formatted first; ic_error() then keeps the head and the
 * tail of an overlong whole (a deep path as the source). */
imgclass_status ic_fail(imgclass_status status, const char *source, const char *fmt, ...)
{
    char detail[1024];
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

const char *imgclass_status_str(imgclass_status status)
{
    return host ? host->status_str(status) : "engine error";
}

static const ic_engine_module table = {
    .abi_version = IC_ENGINE_ABI_VERSION,
    .built_for = IMGCLASS_VERSION,
    .load = ic_engine_load,
    .forward = ic_engine_forward,
    .free = ic_engine_free,
    .set_num_threads = ic_engine_set_num_threads,
    .get_num_threads = ic_engine_get_num_threads,
    .version = ic_engine_version,
    .describe = ic_engine_describe,
    .alloc_stats = ic_engine_alloc_cache_stats,
    .parallel = ic_engine_parallel,
    .set_thread_team = ic_engine_set_thread_team,
};

__attribute__((visibility("default"))) const ic_engine_module *
imgclass_engine_module(const ic_engine_host *h)
{
    host = h;
    return &table;
}
