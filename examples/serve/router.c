/* Request routing; the rules are in router.h. */
#include "router.h"

#include <string.h>

static int is(const char *method, const char *m) { return !strcmp(method, m); }
static int is_get(const char *method) { return is(method, "GET") || is(method, "HEAD"); }

static route make(route_kind kind)
{
    route r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    return r;
}

static route not_allowed(const char *allow)
{
    route r = make(ROUTE_METHOD_NOT_ALLOWED);
    r.allow = allow;
    return r;
}

/* Splits "name" or "name/version" (no empty part, no further '/'). */
static int split_name(const char *s, route *r)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0)
        return -1;
    r->name = s;
    r->name_len = n;
    if (slash) {
        const char *v = slash + 1;
        if (!*v || strchr(v, '/'))
            return -1;
        r->version = v;
        r->version_len = strlen(v);
    }
    return 0;
}

route route_api(const char *method, const char *path)
{
    if (!method || !path)
        return make(ROUTE_NOT_FOUND);
    route r = make(ROUTE_NOT_FOUND);
    const char *allow = NULL;
    if (!strcmp(path, "/")) {
        r.kind = ROUTE_PAGE;
        allow = "GET, HEAD, OPTIONS";
        if (is_get(method))
            return r;
    } else if (!strcmp(path, "/ping")) {
        r.kind = ROUTE_PING;
        allow = "GET, HEAD, OPTIONS";
        if (is_get(method))
            return r;
    } else if (!strcmp(path, "/models")) {
        r.kind = ROUTE_MODELS;
        allow = "GET, HEAD, OPTIONS";
        if (is_get(method))
            return r;
    } else if (!strncmp(path, "/models/", 8)) {
        if (split_name(path + 8, &r))
            return make(ROUTE_NOT_FOUND);
        r.kind = ROUTE_MODEL;
        allow = "GET, HEAD, OPTIONS";
        if (is_get(method))
            return r;
    } else if (!strncmp(path, "/predictions/", 13)) {
        if (split_name(path + 13, &r))
            return make(ROUTE_NOT_FOUND);
        r.kind = ROUTE_PREDICT;
        allow = "POST, PUT, OPTIONS";
        /* TorchServe's own examples send the image with curl -T (a PUT). */
        if (is(method, "POST") || is(method, "PUT"))
            return r;
    } else {
        return r;
    }
    if (is(method, "OPTIONS"))
        return make(ROUTE_DESCRIBE_API);
    return not_allowed(allow);
}

route route_metrics(const char *method, const char *path)
{
    if (!method || !path || strcmp(path, "/metrics"))
        return make(ROUTE_NOT_FOUND);
    if (is_get(method))
        return make(ROUTE_METRICS);
    return not_allowed("GET, HEAD");
}
