/* The /metrics daemon; see metrics_server.h. */
#include "metrics_server.h"

#include "net_address.h"
#include "mhd_first_call.h"
#include "prom_text.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PROG "imgclass-watch"

struct metrics_server {
    struct MHD_Daemon *daemon;
    watch_metrics *metrics;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, char *body, size_t len,
                             enum MHD_ResponseMemoryMode mode, const char *allow)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
    if (!resp) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            code == MHD_HTTP_OK ? PROM_CONTENT_TYPE : "text/plain; charset=utf-8");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ok = MHD_queue_response(c, code, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text,
                                  const char *allow)
{
    return reply(c, code, (char *)text, strlen(text), MHD_RESPMEM_PERSISTENT, allow);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **con_cls)
{
    metrics_server *s = cls;
    (void)version;
    (void)upload_data;
    (void)upload_data_size; /* a body is never read (mhd_first_call.h) */
    if (mhd_answer_next_call(c, con_cls))
        return MHD_YES;
    if (strcmp(url, "/metrics") != 0)
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found: the only path is /metrics\n", NULL);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD\n",
                          "GET, HEAD");
    size_t len = 0;
    char *text = watch_metrics_render(s->metrics, &len);
    if (!text)
        return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                          "cannot render the metrics (out of memory)\n", NULL);
    return reply(c, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE, NULL);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs(PROG ": metrics http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

metrics_server *metrics_server_start(const char *address, watch_metrics *m)
{
    struct sockaddr_storage ss;
    size_t len;
    if (net_parse_address(address, &ss, &len)) {
        fprintf(stderr, PROG ": --metrics-listen %s: not a numeric ADDR:PORT\n", address);
        return NULL;
    }
    metrics_server *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, PROG ": out of memory\n");
        return NULL;
    }
    s->metrics = m;
    /* One polling thread; scrapes are rare and quick, so a few
     * connections and a short idle timeout are plenty. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_CONNECTION_LIMIT, 16u,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                                 MHD_OPTION_END);
    if (!s->daemon) {
        fprintf(stderr, PROG ": --metrics-listen %s: cannot listen there (in use, or not an "
                        "address of this machine?)\n",
                address);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char url[128];
    net_address_url(&ss, info ? info->port : 0, url, sizeof url);
    fprintf(stderr, PROG ": metrics on %s/metrics\n", url);
    return s;
}

void metrics_server_stop(metrics_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
