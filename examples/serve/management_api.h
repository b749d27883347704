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

struct server;

/* Starts the management daemon when --enable-model-api is given and
 * prints where it listens. 0, or -1 after printing why. */
int management_start(struct server *s);
/* Stops it: waits for a register or unload in progress to finish. */
void management_stop(struct server *s);

#endif
