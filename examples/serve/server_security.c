/* Tokens, TLS and abuse limits beside the daemons; see server_security.h. */
#include "server_security.h"

#include "management_api.h"

#include <stdio.h>
#include <string.h>

/* Descriptors beside the inference connections: the metrics address's 64
 * connections, and the models', threads' and libraries' files. */
#define SPARE_FILES 320

int server_security_open(server *s, const serve_config *cfg)
{
    auth_tokens_none(&s->tokens);
    if (cfg->token_file && auth_tokens_load(&s->tokens, cfg->token_file))
        return -1;
    if (cfg->certificate && tls_config_load(&s->tls, cfg->certificate, cfg->private_key))
        return -1;
    /* Every connection is a descriptor; the usual soft limit is 1,024. */
    s->max_connections = cfg->max_connections;
    long want = (long)cfg->max_connections + SPARE_FILES;
    long can = conn_limits_raise_nofile(want);
    if (can < want) {
        int cap = can > SPARE_FILES + 192 ? (int)(can - SPARE_FILES) : 192;
        fprintf(stderr, "imgclass-serve: open files limited to %ld (RLIMIT_NOFILE hard limit); "
                        "--max-connections %d lowered to %d\n",
                can, cfg->max_connections, cap);
        s->max_connections = cap;
    }
    int header_s = cfg->header_timeout_s < cfg->timeout_s ? cfg->header_timeout_s
                                                          : cfg->timeout_s;
    if (conn_limits_init(&s->api_limits, "inference", cfg->max_connections_per_client,
                         header_s, cfg->timeout_s, s->max_connections))
        return -1;
    s->api_limits_on = 1;
    s->api_gate = (gate){.srv = s, .handler = http_api_handler, .handler_cls = s,
                         .completed = http_api_completed, .completed_cls = s,
                         .tokens = &s->tokens, .scope = AUTH_INFERENCE,
                         .limits = &s->api_limits};
    if (!cfg->enable_model_api)
        return 0;
    /* The management address loads files into the server: the same
     * limits, and its own token (AUTH_MANAGEMENT; every path needs it). */
    if (conn_limits_init(&s->mgmt_limits, "management", cfg->max_connections_per_client,
                         header_s, cfg->timeout_s, MANAGEMENT_MAX_CONNECTIONS))
        return -1;
    s->mgmt_limits_on = 1;
    s->mgmt_gate = (gate){.srv = s, .handler = management_handler, .handler_cls = s,
                          .completed = management_completed, .completed_cls = s,
                          .tokens = &s->tokens, .scope = AUTH_MANAGEMENT,
                          .limits = &s->mgmt_limits};
    return 0;
}

void server_security_close(server *s)
{
    if (s->api_limits_on)
        conn_limits_destroy(&s->api_limits);
    s->api_limits_on = 0;
    if (s->mgmt_limits_on)
        conn_limits_destroy(&s->mgmt_limits);
    s->mgmt_limits_on = 0;
    auth_tokens_clear(&s->tokens);
    tls_config_free(&s->tls);
}

unsigned server_security_options(server *s, conn_limits *limits, struct MHD_OptionItem *o)
{
    int n = 0;
    o[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION,
                                     (intptr_t)conn_limits_notify, limits};
    if (s->tls.cert) {
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls.cert};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls.key};
    }
    o[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return s->tls.cert ? MHD_USE_TLS : 0;
}

void server_security_url(const server *s, char *url, size_t n)
{
    size_t len = strlen(url);
    if (s->tls.cert && !strncmp(url, "http://", 7) && len + 1 < n) {
        memmove(url + 5, url + 4, len - 4 + 1);
        url[4] = 's';
    }
}

void server_security_log(const server *s, const serve_config *cfg)
{
    fprintf(stderr, "imgclass-serve: inference API: %s, %s, at most %d connections (%d per "
                    "client address%s), request headers within %d s\n",
            s->tls.cert ? "HTTPS" : "plain HTTP",
            s->tokens.enabled ? "tokens required" : "no tokens", s->max_connections,
            cfg->max_connections_per_client,
            cfg->max_connections_per_client ? "" : ": no limit", s->api_limits.header_timeout_s);
    if (s->mgmt_limits_on)
        fprintf(stderr, "imgclass-serve: management API: %s, %s, at most %d connections (%d "
                        "per client address%s), request headers within %d s\n",
                s->tls.cert ? "HTTPS" : "plain HTTP",
                s->tokens.enabled ? "management token required" : "no tokens",
                MANAGEMENT_MAX_CONNECTIONS, cfg->max_connections_per_client,
                cfg->max_connections_per_client ? "" : ": no limit",
                s->mgmt_limits.header_timeout_s);
}
