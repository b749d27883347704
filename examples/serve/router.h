/* Which endpoint a request is for, from its method and path alone (no I/O,
 * so the routing rules are unit-tested on their own).
 *
 * Inference API (TorchServe's paths):
 *   GET  /                                  the web page
 *   OPTIONS /  (and any API path)           the API description
 *   GET  /ping                              health
 *   GET  /models, /models/{name}[/{version}] what is loaded
 *   POST|PUT /predictions/{name}[/{version}] classify the body's image
 * Metrics address: GET /metrics. HEAD is accepted wherever GET is. */
#ifndef IMGCLASS_SERVE_ROUTER_H
#define IMGCLASS_SERVE_ROUTER_H

#include <stddef.h>

typedef enum route_kind {
    ROUTE_PAGE,
    ROUTE_DESCRIBE_API, /* OPTIONS */
    ROUTE_PING,
    ROUTE_MODELS,
    ROUTE_MODEL,
    ROUTE_PREDICT,
    ROUTE_METRICS,
    ROUTE_NOT_FOUND,         /* 404: no such path */
    ROUTE_METHOD_NOT_ALLOWED /* 405: the path exists, not with this method */
} route_kind;

typedef struct route {
    route_kind kind;
    /* ROUTE_MODEL / ROUTE_PREDICT: the {name} (and {version}, length 0 when
     * absent) as spans of the path given to route_api(). */
    const char *name;
    size_t name_len;
    const char *version;
    size_t version_len;
    /* For 405: the methods the path allows, for the Allow header. */
    const char *allow;
} route;

/* Routes a request to the inference API address. */
route route_api(const char *method, const char *path);
/* Routes a request to the metrics address. */
route route_metrics(const char *method, const char *path);

#endif
