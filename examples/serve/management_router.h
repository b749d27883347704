/* Which management endpoint a request is for, from its method and path
 * alone (no I/O, so the rules are unit-tested on their own). The
 * management API listens on its own address (--management-listen) and
 * only with --enable-model-api.
 *
 * TorchServe's management API:
 *   GET    /models                     the models served
 *   GET    /models/{name}[/{version}]  one model described
 *   POST   /models?url=PATH[&model_name=N&batch_size=B&max_batch_delay=MS]
 *                                      register (or swap in) a model
 *   DELETE /models/{name}[/{version}]  unregister (unload) it
 * KServe v2's model repository extension:
 *   POST   /v2/repository/index                the models known, with state
 *   POST   /v2/repository/models/{name}/load   load (or reload) from the store
 *   POST   /v2/repository/models/{name}/unload unload */
#ifndef IMGCLASS_SERVE_MANAGEMENT_ROUTER_H
#define IMGCLASS_SERVE_MANAGEMENT_ROUTER_H

#include <stddef.h>

typedef enum mgmt_route_kind {
    MGMT_LIST,
    MGMT_DESCRIBE,
    MGMT_REGISTER,
    MGMT_UNREGISTER,
    MGMT_V2_INDEX,
    MGMT_V2_LOAD,
    MGMT_V2_UNLOAD,
    MGMT_NOT_FOUND,         /* 404 */
    MGMT_METHOD_NOT_ALLOWED /* 405, with allow */
} mgmt_route_kind;

typedef struct mgmt_route {
    mgmt_route_kind kind;
    const char *name; /* spans of the path: the {name}, and {version} (length 0 if absent) */
    size_t name_len;
    const char *version;
    size_t version_len;
    const char *allow;
} mgmt_route;

mgmt_route route_management(const char *method, const char *path);

#endif
