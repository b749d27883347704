/* Which endpoint a request is for, from its method and path alone (no I/O,
 * so the routing rules are unit-tested on their own).
 *
 * Inference API (TorchServe's paths):
 *   GET  /                                  the web page
 *   OPTIONS /  (and any API path)           the API description
 *   GET  /ping                              health
 *   GET  /models, /models/{name}[/{version}] what is loaded
 *   POST|PUT /predictions/{name}[/{version}] classify the body's image
 * Open Inference Protocol (KServe v2), beside it (v2_api.h):
 *   GET  /v2, /v2/health/live, /v2/health/ready
 *   GET  /v2/models/{name}[/versions/{version}][/ready]
 *   POST /v2/models/{name}[/versions/{version}]/infer
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
    ROUTE_V2_SERVER,      /* GET /v2: server metadata */
    ROUTE_V2_LIVE,        /* GET /v2/health/live */
    ROUTE_V2_READY,       /* GET /v2/health/ready */
    ROUTE_V2_MODEL,       /* GET /v2/models/{name}[/versions/{version}] */
    ROUTE_V2_MODEL_READY, /* GET .../ready */
    ROUTE_V2_INFER,       /* POST .../infer */
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
    /* The path is under /v2: errors take the v2 protocol's shape. */
    int v2;
} route;

/* Routes a request to the inference API address. */
route route_api(const char *method, const char *path);
/* Routes a request to the metrics address. */
route route_metrics(const char *method, const char *path);

#endif
