/* The listening addresses of the programs' HTTP servers (imgclass-serve's
 * --listen and --metrics-listen, imgclass-watch's --metrics-listen): one
 * parser, so every program takes the same "ADDR:PORT". */
#ifndef IMGCLASS_EXAMPLES_NET_ADDRESS_H
#define IMGCLASS_EXAMPLES_NET_ADDRESS_H

#include <stddef.h>

struct sockaddr_storage;

/* Splits "ADDR:PORT" ("127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0") into a
 * socket address. 0 on success, -1 when it is not a numeric address and a
 * port (no name lookups: the operator says exactly where to listen). Port 0
 * asks the system for any free port. */
int net_parse_address(const char *s, struct sockaddr_storage *out, size_t *out_len);

/* "http://ADDR:PORT" ("http://[ADDR]:PORT" for IPv6) of an address parsed
 * above, with `port` (the one actually bound) in place of its own. */
void net_address_url(const struct sockaddr_storage *ss, unsigned port, char *out, size_t n);

#endif
