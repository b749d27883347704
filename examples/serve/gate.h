/* What every request to a listener passes before its handler: the end of
 * the header deadline (conn_limits.h) and the token check (auth.h). A gate
 * wraps a listener's handler and its request-completed callback; give
 * MHD_start_daemon gate_handler and gate_completed with the gate as their
 * closure. One gate per listener: the inference API's has the inference
 * scope; a management listener's gate takes AUTH_MANAGEMENT and its own
 * conn_limits. */
#ifndef IMGCLASS_SERVE_GATE_H
#define IMGCLASS_SERVE_GATE_H

#include "auth.h"
#include "conn_limits.h"

#include <microhttpd.h>

struct server;

typedef struct gate {
    struct server *srv; /* for the response counts and the request log */
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
    MHD_RequestCompletedCallback completed; /* may be NULL */
    void *completed_cls;
    const auth_tokens *tokens;
    auth_scope scope;
    conn_limits *limits; /* may be NULL */
} gate;

enum MHD_Result gate_handler(void *cls, struct MHD_Connection *connection, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_data_size, void **con_cls);
void gate_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                    enum MHD_RequestTerminationCode toe);

#endif
