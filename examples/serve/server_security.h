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
 * short), starts the connection limits and fills s->api_gate. 0, or -1
 * after printing why; server_security_close() undoes either. */
int server_security_open(server *s, const serve_config *cfg);
void server_security_close(server *s);

/* The inference daemon's extra flags (MHD_USE_TLS) and options (the
 * connection notifications; the certificate and key): `o` has room for 4,
 * MHD_OPTION_END included. */
unsigned server_security_api_options(server *s, struct MHD_OptionItem *o);

/* "http://..." becomes "https://..." when TLS is on (n: the buffer's size). */
void server_security_url(const server *s, char *url, size_t n);

/* One start-up line: what protects the inference API. */
void server_security_log(const server *s, const serve_config *cfg);

#endif
