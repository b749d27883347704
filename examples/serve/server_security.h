/* The server's tokens, TLS and abuse limits, set up and torn down beside
 * the daemons (server.c): the inference API's gate (gate.h) with its token
 * scope and connection limits, its TLS credentials, and the open-file limit
 * raised to hold the connection cap. Kept apart from server.c so that the
 * daemons' lifecycle reads on its own. */
#ifndef IMGCLASS_SERVE_SERVER_SECURITY_H
#define IMGCLASS_SERVE_SERVER_SECURITY_H

#include "server.h"

/* Loads the token file and the certificate and key (if given), raises
 * RLIMIT_NOFILE (lowering the cap, with a warning, if the hard limit is
 * short), starts the connection limits and fills s->api_gate (and, with
 * --enable-model-api, s->mgmt_limits and s->mgmt_gate). 0, or -1 after
 * printing why; server_security_close() undoes either. */
int server_security_open(server *s, const serve_config *cfg);
void server_security_close(server *s);

/* An API daemon's extra flags (MHD_USE_TLS) and options (the connection
 * notifications to `limits`; the certificate and key): `o` has room for 4,
 * MHD_OPTION_END included. The inference and management daemons both
 * take them, each with its own limits. */
unsigned server_security_options(server *s, conn_limits *limits, struct MHD_OptionItem *o);

/* "http://..." becomes "https://..." when TLS is on (n: the buffer's size). */
void server_security_url(const server *s, char *url, size_t n);

/* One start-up line per API address: what protects it. */
void server_security_log(const server *s, const serve_config *cfg);

#endif
