/* Shared routing pieces; the rules are in route_path.h. */
#include "route_path.h"

#include <string.h>

int method_is(const char *method, const char *m) { return !strcmp(method, m); }

int method_is_get(const char *method)
{
    return method_is(method, "GET") || method_is(method, "HEAD");
}

int split_model_path(const char *s, const char **name, size_t *name_len, const char **version,
                     size_t *version_len)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    const char *v = slash ? slash + 1 : NULL;
    if (n == 0 || (v && (!*v || strchr(v, '/'))))
        return -1;
    *name = s;
    *name_len = n;
    *version = v;
    *version_len = v ? strlen(v) : 0;
    return 0;
}
