/* Limits on what one client can hold of a listener (abuse limits):
 *   - per client address, at most `per_client` open connections: more are
 *     refused at accept (closed at once), so one address cannot fill the
 *     connection cap;
 *   - a header deadline: a connection must complete its request's headers
 *     within `header_timeout_s` of opening (a later request on a kept-alive
 *     connection: within the idle timeout of the previous answer), or a
 *     sweeper thread shuts it down, silent or trickling bytes (slowloris:
 *     each byte resets libmicrohttpd's idle timeout, its only timeout).
 *     Once the headers are in, only the idle timeout applies (a slow upload
 *     of a body is not a slow header);
 *   - the connection cap itself (MHD_OPTION_CONNECTION_LIMIT), reached:
 *     logged, and counted.
 * Each client that hits a limit is logged once per address and limit, and
 * every hit is counted for /metrics.
 *
 * Why not libmicrohttpd's MHD_OPTION_PER_IP_CONNECTION_LIMIT: it refuses
 * silently (one log line without the address, the same as for the global
 * cap), so neither the log nor the metrics could say who hit what. The
 * accept-policy callback below does the same job with both.
 *
 * libmicrohttpd calls these from the listener's polling thread; the
 * sweeper and /metrics read from others, hence the lock. */
#ifndef IMGCLASS_SERVE_CONN_LIMITS_H
#define IMGCLASS_SERVE_CONN_LIMITS_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

typedef struct conn_limits_client conn_limits_client;
typedef struct conn_limits_entry conn_limits_entry;

#define CONN_LIMITS_BUCKETS 1024
#define CONN_LIMITS_LOGGED 1024

typedef struct conn_limits {
    const char *listener; /* "inference", for the log and the metric labels */
    int per_client;       /* 0: no limit */
    int header_timeout_s;
    int idle_timeout_s;
    int max_connections;

    pthread_mutex_t lock;
    conn_limits_client *clients[CONN_LIMITS_BUCKETS]; /* open connections per address */
    conn_limits_entry *pending;                       /* headers not yet complete */
    int open;                                         /* open connections */
    int cap_logged;                                   /* cap reached, not yet eased */
    struct {
        unsigned char key[17];
        unsigned kinds;
    } logged[CONN_LIMITS_LOGGED];
    int nlogged, log_full;

    pthread_t sweeper;
    pthread_cond_t wake;
    int sweeper_started, stop;

    _Atomic uint64_t refused_per_client; /* connections refused at accept */
    _Atomic uint64_t header_timeouts;    /* closed for missing the header deadline */
    _Atomic uint64_t cap_reached;        /* times the connection cap was reached */
} conn_limits;

/* 0, or -1 after printing why. */
int conn_limits_init(conn_limits *cl, const char *listener, int per_client,
                     int header_timeout_s, int idle_timeout_s, int max_connections);
/* After the daemon has stopped. */
void conn_limits_destroy(conn_limits *cl);

/* For MHD_start_daemon: the accept policy (apc, cls = cl) and
 * MHD_OPTION_NOTIFY_CONNECTION (cls = cl). */
enum MHD_Result conn_limits_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void conn_limits_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code);

/* A request's headers are complete (its handler's first call). */
void conn_limits_headers_done(conn_limits *cl, struct MHD_Connection *c);
/* A request was answered: the connection now waits for the next one. */
void conn_limits_request_done(conn_limits *cl, struct MHD_Connection *c);

/* The Prometheus families of these limits, for each listener given. */
void conn_limits_prom(FILE *f, conn_limits *const *cls, int n);

/* Raises this process's open-file limit (RLIMIT_NOFILE) to hold `need`
 * descriptors, up to the hard limit. Returns how many it can hold. */
long conn_limits_raise_nofile(long need);

#endif
