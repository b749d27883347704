/* Management API routing; the rules are in management_router.h. */
#include "management_router.h"

#include <string.h>

static int is(const char *method, const char *m) { return !strcmp(method, m); }
static int is_get(const char *method) { return is(method, "GET") || is(method, "HEAD"); }

static mgmt_route make(mgmt_route_kind kind)
{
    mgmt_route r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    return r;
}

static mgmt_route not_allowed(const char *allow)
{
    mgmt_route r = make(MGMT_METHOD_NOT_ALLOWED);
    r.allow = allow;
    return r;
}

/* "name" or "name/version": no empty part, no further '/'. */
static int split_name(const char *s, mgmt_route *r)
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

mgmt_route route_management(const char *method, const char *path)
{
    if (!method || !path)
        return make(MGMT_NOT_FOUND);
    if (!strcmp(path, "/models")) {
        if (is_get(method))
            return make(MGMT_LIST);
        if (is(method, "POST"))
            return make(MGMT_REGISTER);
        return not_allowed("GET, HEAD, POST");
    }
    if (!strncmp(path, "/models/", 8)) {
        mgmt_route r = make(MGMT_NOT_FOUND);
        if (split_name(path + 8, &r))
            return r;
        if (is_get(method))
            r.kind = MGMT_DESCRIBE;
        else if (is(method, "DELETE"))
            r.kind = MGMT_UNREGISTER;
        else
            return not_allowed("GET, HEAD, DELETE");
        return r;
    }
    if (!strcmp(path, "/v2/repository/index"))
        return is(method, "POST") ? make(MGMT_V2_INDEX) : not_allowed("POST");
    static const char prefix[] = "/v2/repository/models/";
    if (!strncmp(path, prefix, sizeof prefix - 1)) {
        const char *name = path + sizeof prefix - 1;
        const char *slash = strchr(name, '/');
        if (!slash || slash == name)
            return make(MGMT_NOT_FOUND);
        mgmt_route r = make(MGMT_NOT_FOUND);
        if (!strcmp(slash, "/load"))
            r.kind = MGMT_V2_LOAD;
        else if (!strcmp(slash, "/unload"))
            r.kind = MGMT_V2_UNLOAD;
        else
            return r;
        if (!is(method, "POST"))
            return not_allowed("POST");
        r.name = name;
        r.name_len = (size_t)(slash - name);
        return r;
    }
    return make(MGMT_NOT_FOUND);
}
