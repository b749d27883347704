/* Request routing; the rules are in router.h. */
#include "router.h"

#include <string.h>

#include "route_path.h"


static route make(route_kind kind)
{
    route r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    return r;
}

static route make_v2_not_found(void)
{
    route r = make(ROUTE_NOT_FOUND);
    r.v2 = 1;
    return r;
}

static route not_allowed(const char *allow)
{
    route r = make(ROUTE_METHOD_NOT_ALLOWED);
    r.allow = allow;
    return r;
}

/* A GET endpoint of v2: found with GET/HEAD, 405 otherwise. */
static route v2_get(route r, route_kind kind, const char *method)
{
    r.kind = kind;
    if (method_is_get(method))
        return r;
    r.kind = ROUTE_METHOD_NOT_ALLOWED;
    r.allow = "GET, HEAD";
    return r;
}

/* The path after "/v2" (rest is "" or begins with '/'). */
static route route_v2(const char *method, const char *rest)
{
    route r = make(ROUTE_NOT_FOUND);
    r.v2 = 1;
    if (!*rest)
        return v2_get(r, ROUTE_V2_SERVER, method);
    if (!strcmp(rest, "/health/live"))
        return v2_get(r, ROUTE_V2_LIVE, method);
    if (!strcmp(rest, "/health/ready"))
        return v2_get(r, ROUTE_V2_READY, method);
    if (strncmp(rest, "/models/", 8))
        return r;
    /* {name}[/versions/{version}][/ready|/infer] */
    const char *name = rest + 8, *slash = strchr(name, '/');
    size_t n = slash ? (size_t)(slash - name) : strlen(name);
    if (n == 0)
        return r;
    r.name = name;
    r.name_len = n;
    const char *tail = slash ? slash : "";
    if (!strncmp(tail, "/versions/", 10)) {
        const char *v = tail + 10, *vs = strchr(v, '/');
        size_t vn = vs ? (size_t)(vs - v) : strlen(v);
        if (vn == 0)
            return make_v2_not_found();
        r.version = v;
        r.version_len = vn;
        tail = vs ? vs : "";
    }
    if (!*tail)
        return v2_get(r, ROUTE_V2_MODEL, method);
    if (!strcmp(tail, "/ready"))
        return v2_get(r, ROUTE_V2_MODEL_READY, method);
    if (!strcmp(tail, "/infer")) {
        r.kind = ROUTE_V2_INFER;
        if (method_is(method, "POST"))
            return r;
        r.kind = ROUTE_METHOD_NOT_ALLOWED;
        r.allow = "POST";
        return r;
    }
    return make_v2_not_found();
}

route route_api(const char *method, const char *path)
{
    if (!method || !path)
        return make(ROUTE_NOT_FOUND);
    if (!strncmp(path, "/v2", 3) && (path[3] == '\0' || path[3] == '/'))
        return route_v2(method, path + 3);
    route r = make(ROUTE_NOT_FOUND);
    const char *allow = NULL;
    if (!strcmp(path, "/")) {
        r.kind = ROUTE_PAGE;
        allow = "GET, HEAD, OPTIONS";
        if (method_is_get(method))
            return r;
    } else if (!strcmp(path, "/ping")) {
        r.kind = ROUTE_PING;
        allow = "GET, HEAD, OPTIONS";
        if (method_is_get(method))
            return r;
    } else if (!strcmp(path, "/models")) {
        r.kind = ROUTE_MODELS;
        allow = "GET, HEAD, OPTIONS";
        if (method_is_get(method))
            return r;
    } else if (!strncmp(path, "/models/", 8)) {
        if (split_model_path(path + 8, &r.name, &r.name_len, &r.version, &r.version_len))
            return make(ROUTE_NOT_FOUND);
        r.kind = ROUTE_MODEL;
        allow = "GET, HEAD, OPTIONS";
        if (method_is_get(method))
            return r;
    } else if (!strncmp(path, "/predictions/", 13)) {
        if (split_model_path(path + 13, &r.name, &r.name_len, &r.version, &r.version_len))
            return make(ROUTE_NOT_FOUND);
        r.kind = ROUTE_PREDICT;
        allow = "POST, PUT, OPTIONS";
        /* TorchServe's own examples send the image with curl -T (a PUT). */
        if (method_is(method, "POST") || method_is(method, "PUT"))
            return r;
    } else {
        return r;
    }
    if (method_is(method, "OPTIONS"))
        return make(ROUTE_DESCRIBE_API);
    return not_allowed(allow);
}

route route_metrics(const char *method, const char *path)
{
    if (!method || !path || strcmp(path, "/metrics"))
        return make(ROUTE_NOT_FOUND);
    if (method_is_get(method))
        return make(ROUTE_METRICS);
    return not_allowed("GET, HEAD");
}
