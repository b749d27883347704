/* Daemon lifecycle and replies; see server.h. */
#include "server.h"

#include "management_api.h"
#include "net_address.h"
#include "responses.h"
#include "serve_job.h"
#include "server_security.h"
#include "v2_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char out_of_memory_json[] =
    "{\n  \"code\": 500,\n  \"type\": \"InternalServerException\",\n"
    "  \"message\": \"out of memory\"\n}\n";

void server_count(server *s, int code)
{
    atomic_fetch_add(&s->responses[metrics_http_index(code)], 1);
}

static enum MHD_Result queue(server *s, struct MHD_Connection *c, int code,
                             struct MHD_Response *resp, const char *content_type,
                             const char *allow, int close)
{
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)code, resp);
    MHD_destroy_response(resp);
    server_count(s, code);
    return ok;
}

enum MHD_Result server_reply(server *s, struct MHD_Connection *c, int code,
                             const char *content_type, char *body, size_t len, const char *allow,
                             int close)
{
    if (!body)
        return server_reply_static(s, c, 500, "application/json", out_of_memory_json);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(body);
    return queue(s, c, code, resp, content_type, allow, close);
}

enum MHD_Result server_reply_static(server *s, struct MHD_Connection *c, int code,
                                    const char *content_type, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    return queue(s, c, code, resp, content_type, NULL, 0);
}

enum MHD_Result server_reply_error(server *s, struct MHD_Connection *c, int code,
                                   const char *type, const char *message, const char *allow,
                                   int close)
{
    size_t len = 0;
    char *body = resp_error(code, type, message, &len);
    return server_reply(s, c, code, "application/json", body, len, allow, close);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("imgclass-serve: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* "http://ADDR:PORT" of a daemon, with the port it actually bound. */
static void describe(struct MHD_Daemon *d, const struct sockaddr_storage *ss, char *out,
                     size_t n)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    net_address_url(ss, info ? info->port : 0, out, n);
}

static struct MHD_Daemon *start_daemon(server *s, const char *address, int api,
                                       struct sockaddr_storage *ss)
{
    size_t len;
    if (net_parse_address(address, ss, &len)) {
        fprintf(stderr, "imgclass-serve: invalid address '%s'\n", address);
        return NULL;
    }
    /* One polling thread per daemon, epoll where available (select()
     * could not watch descriptors past FD_SETSIZE, 1,024); suspend and
     * resume for the API (server.h says why). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | (api ? MHD_ALLOW_SUSPEND_RESUME : 0) |
                     (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    const serve_config *cfg = s->cfg;
    /* The inference API's tokens, TLS and connection limits. */
    struct MHD_OptionItem extra[4] = {{MHD_OPTION_END, 0, NULL}};
    if (api)
        flags |= server_security_options(s, &s->api_limits, extra);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, api ? conn_limits_accept : NULL, api ? (void *)&s->api_limits : NULL,
        api ? gate_handler : http_metrics_handler, api ? (void *)&s->api_gate : (void *)s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first, to see every message */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(api ? s->max_connections : 64),
        /* Idle and slow (slowloris) clients are dropped after this long
         * without progress. */
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        /* Request line and headers must fit here (431/414 otherwise). */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, api ? gate_completed : NULL, (void *)&s->api_gate,
        MHD_OPTION_ARRAY, extra,
        MHD_OPTION_END);
    if (!d)
        fprintf(stderr, "imgclass-serve: cannot listen on %s (in use, or not an address of "
                        "this machine?)\n",
                address);
    return d;
}

int server_start(server *s, const serve_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    atomic_init(&s->draining, 0);
    atomic_init(&s->ready, 0);
    for (int i = 0; i < METRICS_HTTP_CODES; i++)
        atomic_init(&s->responses[i], 0);
    pthread_condattr_t ca;
    if (pthread_mutex_init(&s->lock, NULL) || pthread_condattr_init(&ca) ||
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&s->idle, &ca)) {
        fprintf(stderr, "imgclass-serve: cannot create a lock\n");
        return -1;
    }
    pthread_condattr_destroy(&ca);
    if (server_security_open(s, cfg))
        goto fail;
    if (v2_api_start(s))
        goto fail;
    /* Listen before the models load: liveness (/v2/health/live) answers
     * at once, and readiness (/ping, /v2/health/ready) says 503 until
     * server_load_models() is done, as a load balancer wants to see. */
    struct sockaddr_storage api_addr, metrics_addr;
    s->api = start_daemon(s, cfg->listen, 1, &api_addr);
    if (!s->api)
        goto fail;
    s->metrics = start_daemon(s, cfg->metrics_listen, 0, &metrics_addr);
    if (!s->metrics)
        goto fail;
    /* The management API (--enable-model-api) listens now too: until the
     * models are loaded it answers 503, as the model routes do. */
    if (management_start(s))
        goto fail;
    describe(s->api, &api_addr, s->api_url, sizeof s->api_url);
    server_security_url(s, s->api_url, sizeof s->api_url);
    describe(s->metrics, &metrics_addr, s->metrics_url, sizeof s->metrics_url);
    fprintf(stderr, "imgclass-serve: accepting connections on %s (not ready: loading %d "
                    "model%s)\n",
            s->api_url, cfg->num_models, cfg->num_models == 1 ? "" : "s");
    return 0;
fail:
    management_stop(s);
    if (s->metrics)
        MHD_stop_daemon(s->metrics);
    if (s->api)
        MHD_stop_daemon(s->api);
    v2_api_stop(s);
    server_security_close(s);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    return -1;
}

int server_load_models(server *s)
{
    const serve_config *cfg = s->cfg;
    if (served_models_open(&s->models, cfg, serve_job_deliver))
        return -1;
    for (int i = 0; i < s->models.count; i++) {
        const served_model *sm = s->models.items[i];
        fprintf(stderr, "imgclass-serve: model %s: %s, precision %s, %d classes, input %dx%d, "
                        "batch %d, delay %d ms, queue %d\n",
                sm->name, sm->path, imgclass_model_precision(sm->model), sm->num_classes,
                sm->width, sm->height, sm->batch, sm->max_batch_delay_ms, sm->queue);
    }
    server_security_log(s, cfg);
    /* Publishes `models` to the handlers (sequentially consistent). */
    atomic_store(&s->ready, 1);
    fprintf(stderr, "imgclass-serve: listening on %s, metrics on %s/metrics\n", s->api_url,
            s->metrics_url);
    return 0;
}

void server_stop(server *s, int timeout_s)
{
    atomic_store(&s->draining, 1);
    /* Stop accepting: close the listening socket now. */
    MHD_socket fd = MHD_quiesce_daemon(s->api);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_s;
    pthread_mutex_lock(&s->lock);
    while (s->inflight > 0)
        if (pthread_cond_timedwait(&s->idle, &s->lock, &deadline) == ETIMEDOUT)
            break;
    int left = s->inflight;
    pthread_mutex_unlock(&s->lock);
    if (left)
        fprintf(stderr, "imgclass-serve: %d request(s) still open after %d s; closing them\n",
                left, timeout_s);
    /* A register or unload in progress finishes first: the entry it
     * drains needs the tensor worker and the pipelines still running. */
    management_stop(s);
    /* The tensor worker and the pipelines first: each answers what it
     * accepted (resuming those connections) before its threads end, so no
     * callback can reach a request the daemon has closed. */
    v2_api_stop(s);
    served_models_stop(&s->models);
    MHD_stop_daemon(s->api);
    MHD_stop_daemon(s->metrics);
    served_models_close(&s->models);
    server_security_close(s);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
}
