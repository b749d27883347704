/* The management API (--enable-model-api): TorchServe's register, list,
 * describe and unregister, and KServe v2's model repository extension, on
 * its own address (--management-listen, default 127.0.0.1:8081, as
 * TorchServe). The paths are in management_router.h.
 *
 * Threads. This daemon runs libmicrohttpd with a thread per connection,
 * unlike the inference daemon (server.h): a register blocks its own
 * connection's thread for the load, the warm-up and the drain of the entry
 * it replaces, while the inference daemon and the pipelines keep answering
 * requests. served_models.h says how the swap keeps every request on a
 * live model. */
#ifndef IMGCLASS_SERVE_MANAGEMENT_API_H
#define IMGCLASS_SERVE_MANAGEMENT_API_H

#include <microhttpd.h>

struct server;

/* Open connections the management address takes at most (each holds a
 * thread). */
#define MANAGEMENT_MAX_CONNECTIONS 32

/* The handler and its request-completed callback (cls: the server). They
 * run behind the management gate (server_security.c, gate.h): the token
 * of the management scope, the per-client limit and the header deadline,
 * as on the inference address. */
enum MHD_Result management_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls);
void management_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe);

/* Starts the management daemon when --enable-model-api is given (over
 * HTTPS when --certificate is) and prints where it listens. 0, or -1
 * after printing why. */
int management_start(struct server *s);
/* Stops it: waits for a register or unload in progress to finish. */
void management_stop(struct server *s);

#endif
