/* The header deadline's end and the token check before each handler; see
 * gate.h. */
#include "gate.h"

#include "server.h"

#include <stdio.h>
#include <string.h>

/* 401 with the JSON error and the challenge (RFC 6750 3). The body, if
 * any, is not read: the connection is closed after the answer. */
static enum MHD_Result unauthorized(gate *g, struct MHD_Connection *c, auth_result r,
                                    const char *method, const char *url)
{
    const char *body = auth_error_json(r);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                            r == AUTH_WRONG ? "Bearer error=\"invalid_token\"" : "Bearer");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, resp);
    MHD_destroy_response(resp);
    atomic_fetch_add(&g->srv->responses[metrics_http_index(401)], 1);
    if (!g->srv->cfg->quiet)
        fprintf(stderr, "imgclass-serve: %s %s 401 (%s token)\n", method, url,
                r == AUTH_MISSING ? "no" : "wrong");
    return ok;
}

enum MHD_Result gate_handler(void *cls, struct MHD_Connection *connection, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size, void **con_cls)
{
    gate *g = cls;
    /* First call of a request: its headers are in. (A handler that leaves
     * *con_cls NULL is called again only for a body, which changes
     * nothing below.) */
    if (!*con_cls) {
        if (g->limits)
            conn_limits_headers_done(g->limits, connection);
        if (g->tokens->enabled && !(g->scope == AUTH_INFERENCE && auth_request_is_open(method, url))) {
            const char *h = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
                                                        MHD_HTTP_HEADER_AUTHORIZATION);
            auth_result r = auth_check(g->tokens, g->scope, h);
            if (r != AUTH_OK)
                return unauthorized(g, connection, r, method, url);
        }
    }
    return g->handler(g->handler_cls, connection, url, method, version, upload_data,
                      upload_data_size, con_cls);
}

void gate_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    gate *g = cls;
    if (g->completed)
        g->completed(g->completed_cls, connection, con_cls, toe);
    if (g->limits && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        conn_limits_request_done(g->limits, connection);
}
