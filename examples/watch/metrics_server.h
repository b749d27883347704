/* imgclass-watch's GET /metrics (--metrics-listen ADDR:PORT): one
 * libmicrohttpd daemon with its own polling thread, answering from
 * watch_metrics only (watch_metrics.h says what that thread may read). It
 * answers GET and HEAD of /metrics, 404 for other paths, 405 for other
 * methods; no other endpoint, so it exposes nothing but the figures. */
#ifndef IMGCLASS_WATCH_METRICS_SERVER_H
#define IMGCLASS_WATCH_METRICS_SERVER_H

#include "watch_metrics.h"

typedef struct metrics_server metrics_server;

/* Listens on `address` (numeric "ADDR:PORT", checked by the command line;
 * port 0: any free port) and prints "imgclass-watch: metrics on
 * http://ADDR:PORT/metrics" with the port bound. m (its pipeline set) must
 * outlive the server. NULL after a message on stderr. */
metrics_server *metrics_server_start(const char *address, watch_metrics *m);

/* Closes the socket and ends the thread (a request being answered is
 * finished first). NULL is ignored. */
void metrics_server_stop(metrics_server *s);

#endif
