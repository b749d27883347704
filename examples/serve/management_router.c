/* Management API routing; the rules are in management_router.h. */
#include "management_router.h"

#include <string.h>

#include "route_path.h"


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

mgmt_route route_management(const char *method, const char *path)
{
    if (!method || !path)
        return make(MGMT_NOT_FOUND);
    if (!strcmp(path, "/models")) {
        if (method_is_get(method))
            return make(MGMT_LIST);
        if (method_is(method, "POST"))
            return make(MGMT_REGISTER);
        return not_allowed("GET, HEAD, POST");
    }
    if (!strncmp(path, "/models/", 8)) {
        mgmt_route r = make(MGMT_NOT_FOUND);
        if (split_model_path(path + 8, &r.name, &r.name_len, &r.version, &r.version_len))
            return r;
        if (method_is_get(method))
            r.kind = MGMT_DESCRIBE;
        else if (method_is(method, "DELETE"))
            r.kind = MGMT_UNREGISTER;
        else
            return not_allowed("GET, HEAD, DELETE");
        return r;
    }
    if (!strcmp(path, "/v2/repository/index"))
        return method_is(method, "POST") ? make(MGMT_V2_INDEX) : not_allowed("POST");
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
        if (!method_is(method, "POST"))
            return not_allowed("POST");
        r.name = name;
        r.name_len = (size_t)(slash - name);
        return r;
    }
    return make(MGMT_NOT_FOUND);
}
