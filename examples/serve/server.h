/* The server: the models, the inference API daemon and the metrics daemon
 * (libmicrohttpd), and the count of requests in flight that graceful
 * shutdown waits for.
 *
 * Threads. Each daemon runs one libmicrohttpd polling thread (epoll): it
 * reads requests and writes answers, and never waits. A prediction request
 * is submitted to its model's pipeline without blocking
 * (IMGCLASS_SUBMIT_NONBLOCK; a full queue is a 503 at once) and its
 * connection is then suspended (MHD_suspend_connection); the pipeline's
 * result callback stores the answer and resumes it (MHD_resume_connection),
 * and the polling thread sends it. So a waiting request holds a socket and
 * a little memory, never a thread, and thousands of them (or idle and slow
 * clients) cost no threads; decoding, preprocessing and the forward passes
 * run on the pipelines' own threads. libmicrohttpd's thread-per-connection
 * mode was not chosen because a slow or idle client would then hold a
 * thread, and its thread pool because the work is not in the handler. */
#ifndef IMGCLASS_SERVE_SERVER_H
#define IMGCLASS_SERVE_SERVER_H

#include "auth.h"
#include "conn_limits.h"
#include "gate.h"
#include "metrics.h"
#include "serve_config.h"
#include "tls_config.h"
#include "served_models.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

typedef struct server {
    const serve_config *cfg;
    served_models models;
    struct MHD_Daemon *api, *metrics;
    struct MHD_Daemon *management; /* --enable-model-api; management_api.h */
    atomic_int draining;
    /* Every start-up model is loaded and warm (server_load_models()); until
     * then `models` is being written and no handler may read it. */
    atomic_int ready;
    struct v2_worker *v2; /* the v2 API's tensor worker (v2_api.c) */
    char api_url[128], metrics_url[128]; /* where the daemons listen */
    pthread_mutex_t lock; /* guards inflight */
    pthread_cond_t idle;  /* signalled when inflight drops */
    int inflight;         /* API requests begun and not yet completed */
    _Atomic uint64_t responses[METRICS_HTTP_CODES];
    /* Tokens, TLS and abuse limits of the inference API (auth.h,
     * tls_config.h, conn_limits.h); its requests pass api_gate first. */
    auth_tokens tokens;
    tls_config tls;  /* cert NULL: plain HTTP */
    conn_limits api_limits;
    int api_limits_on;
    int max_connections; /* --max-connections, lowered if RLIMIT_NOFILE is short */
    gate api_gate;
    /* The management API's own gate (AUTH_MANAGEMENT) and limits, with the
     * same tokens file and TLS credentials; only with --enable-model-api. */
    conn_limits mgmt_limits;
    int mgmt_limits_on;
    gate mgmt_gate;
} server;

/* Starts both daemons, so that liveness answers while the models load,
 * and prints "accepting connections on ...". Returns 0, or -1 after
 * printing why (nothing left running). */
int server_start(server *s, const serve_config *cfg);
/* Loads and warms every model, then marks the server ready and prints
 * where it listens ("listening on ..."). Until then /ping and readiness
 * answer 503 and model routes 503. Returns 0, or -1 after printing why
 * (then server_stop() it). */
int server_load_models(server *s);

/* Graceful stop: stops accepting connections, answers every request in
 * flight (new requests on open connections get 503), waits at most
 * timeout_s seconds for them, then closes everything and frees all. */
void server_stop(server *s, int timeout_s);

/* The handlers (http_api.c, metrics_http.c), used by server_start(). */
enum MHD_Result http_api_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls);
void http_api_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                        enum MHD_RequestTerminationCode toe);
void http_api_deliver(const imgclass_pipeline_result *result);
enum MHD_Result http_metrics_handler(void *cls, struct MHD_Connection *connection,
                                     const char *url, const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **con_cls);

/* Queues a JSON or text response (taking ownership of the malloc'd body;
 * a NULL body becomes a 500 "out of memory") and counts it. */
enum MHD_Result server_reply(server *s, struct MHD_Connection *connection, int code,
                             const char *content_type, char *body, size_t len,
                             const char *allow, int close);
/* Counts a response queued without server_reply() (metrics). */
void server_count(server *s, int code);
/* Queues a static text (never freed). */
enum MHD_Result server_reply_static(server *s, struct MHD_Connection *connection, int code,
                                    const char *content_type, const char *text);
/* A TorchServe-style JSON error. */
enum MHD_Result server_reply_error(server *s, struct MHD_Connection *connection, int code,
                                   const char *type, const char *message, const char *allow,
                                   int close);

#endif
