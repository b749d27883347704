/* The management API's request handling; see management_api.h. */
#include "management_api.h"

#include "json_buf.h"
#include "management_router.h"
#include "model_args.h"
#include "model_store.h"
#include "net_address.h"
#include "responses.h"
#include "server.h"
#include "server_security.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MGMT_MAX_BODY (64 * 1024) /* the v2 bodies are a few bytes of JSON */

typedef struct mgmt_request {
    char *body;
    size_t len;
    int too_big;
} mgmt_request;

/* Errors carry TorchServe's code/type/message and KServe v2's "error",
 * so the clients of either read them. */
static enum MHD_Result fail(server *s, struct MHD_Connection *c, int code, const char *type,
                            const char *message)
{
    json_buf b;
    if (json_buf_open(&b))
        return server_reply(s, c, 500, "application/json", NULL, 0, NULL, 0);
    fprintf(b.f, "{\n  \"code\": %d,\n  \"type\": ", code);
    json_buf_string(&b, type);
    fputs(",\n  \"message\": ", b.f);
    json_buf_string(&b, message);
    fputs(",\n  \"error\": ", b.f);
    json_buf_string(&b, message);
    fputs("\n}\n", b.f);
    size_t len = 0;
    char *body = json_buf_finish(&b, &len);
    return server_reply(s, c, code, "application/json", body, len, NULL, 0);
}

static enum MHD_Result ok_status(server *s, struct MHD_Connection *c, const char *status,
                                 const served_model *m)
{
    json_buf b;
    if (json_buf_open(&b))
        return server_reply(s, c, 500, "application/json", NULL, 0, NULL, 0);
    fputs("{\n  \"status\": ", b.f);
    json_buf_string(&b, status);
    if (m) {
        fputs(",\n  \"modelName\": ", b.f);
        json_buf_string(&b, m->name);
        fputs(",\n  \"modelVersion\": ", b.f);
        json_buf_string(&b, m->version);
    }
    fputs("\n}\n", b.f);
    size_t len = 0;
    char *body = json_buf_finish(&b, &len);
    return server_reply(s, c, 200, "application/json", body, len, NULL, 0);
}

static const char *arg(struct MHD_Connection *c, const char *key)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* An optional whole-number query parameter in lo..hi; -1 with msg set. */
static int int_arg(struct MHD_Connection *c, const char *key, int lo, int hi, int *out,
                   char *msg, size_t n)
{
    const char *v = arg(c, key);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        snprintf(msg, n, "Invalid %s '%.64s': want a whole number in %d..%d", key, v, lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int version_valid(const char *v)
{
    return model_name_valid(v, strlen(v)) && strlen(v) <= 31;
}

/* Registers (or swaps in) a model and answers. */
static enum MHD_Result do_register(server *s, struct MHD_Connection *c, served_model_spec *spec,
                                   const char *action)
{
    char msg[1024], status[512];
    int replaced = 0;
    served_error e = served_models_register(&s->models, spec, &replaced, msg, sizeof msg);
    if (e == SERVED_CONFLICT)
        return fail(s, c, 409, "ConflictStatusException", msg);
    if (e == SERVED_FULL)
        return fail(s, c, 409, "ConflictStatusException", msg);
    if (e != SERVED_OK)
        return fail(s, c, 400, "ModelLoadException", msg);
    served_model *m = served_models_acquire(&s->models, spec->name, strlen(spec->name));
    if (!m) /* unloaded again meanwhile */
        return ok_status(s, c, action, NULL);
    snprintf(status, sizeof status, "Model \"%s\" Version: %s %s%s", m->name, m->version, action,
             replaced ? " (replaced the version served before)" : "");
    fprintf(stderr, "imgclass-serve: management: %s\n", status);
    enum MHD_Result r = ok_status(s, c, status, m);
    served_model_release(&s->models, m);
    return r;
}

static enum MHD_Result handle_register(server *s, struct MHD_Connection *c)
{
    char msg[1024], path[PATH_MAX], labels[PATH_MAX], name[80];
    const serve_config *cfg = s->cfg;
    const char *url = arg(c, "url");
    if (!url)
        return fail(s, c, 400, "BadRequestException",
                    "Parameter url is required: the model file's path");
    if (model_store_resolve(cfg->model_store, url, path, sizeof path, msg, sizeof msg))
        return fail(s, c, 400, "BadRequestException", msg);
    const char *model_name = arg(c, "model_name");
    if (model_name) {
        if (!model_name_valid(model_name, strlen(model_name))) {
            snprintf(msg, sizeof msg,
                     "Invalid model_name '%.80s': 1-64 letters, digits, '_', '-', '.'",
                     model_name);
            return fail(s, c, 400, "BadRequestException", msg);
        }
        snprintf(name, sizeof name, "%s", model_name);
    } else if (model_store_default_name(url, name, sizeof name)) {
        snprintf(msg, sizeof msg, "url '%.200s' gives no valid model name: add model_name=",
                 url);
        return fail(s, c, 400, "BadRequestException", msg);
    }
    served_model_spec spec = {.name = name, .path = path, .batch = -1, .max_batch_delay_ms = -1};
    if (int_arg(c, "batch_size", 1, 1024, &spec.batch, msg, sizeof msg) ||
        int_arg(c, "max_batch_delay", 0, 60000, &spec.max_batch_delay_ms, msg, sizeof msg))
        return fail(s, c, 400, "BadRequestException", msg);
    const char *version = arg(c, "model_version");
    if (version && !version_valid(version)) {
        snprintf(msg, sizeof msg, "Invalid model_version '%.64s': 1-31 letters, digits, '_', "
                                  "'-', '.'", version);
        return fail(s, c, 400, "BadRequestException", msg);
    }
    spec.version = version;
    /* Checked here so that a bad name is a 400 naming it, not a failed load. */
    const char *precision = arg(c, "precision");
    imgclass_precision ignored;
    if (precision && cli_precision_parse(precision, &ignored)) {
        snprintf(msg, sizeof msg, "Invalid precision '%.32s': float32 or bf16", precision);
        return fail(s, c, 400, "BadRequestException", msg);
    }
    spec.precision = precision;
    const char *labels_url = arg(c, "labels");
    if (labels_url) {
        if (model_store_resolve(cfg->model_store, labels_url, labels, sizeof labels, msg,
                                sizeof msg))
            return fail(s, c, 400, "BadRequestException", msg);
        spec.labels = labels;
    }
    return do_register(s, c, &spec, "registered");
}

/* The entry named by the route, checked against its {version}; NULL after
 * answering 404. */
static served_model *find_route(server *s, struct MHD_Connection *c, const mgmt_route *rt,
                                enum MHD_Result *answered)
{
    char msg[256];
    served_model *m = served_models_acquire(&s->models, rt->name, rt->name_len);
    if (m && rt->version_len &&
        (rt->version_len != strlen(m->version) ||
         memcmp(rt->version, m->version, rt->version_len))) {
        snprintf(msg, sizeof msg, "Model version %.*s not found for model %s (served: %s)",
                 (int)rt->version_len, rt->version, m->name, m->version);
        served_model_release(&s->models, m);
        *answered = fail(s, c, 404, "ModelVersionNotFoundException", msg);
        return NULL;
    }
    if (!m) {
        snprintf(msg, sizeof msg, "Model not found: %.*s", (int)rt->name_len, rt->name);
        *answered = fail(s, c, 404, "ModelNotFoundException", msg);
    }
    return m;
}

static enum MHD_Result handle_unload(server *s, struct MHD_Connection *c, const mgmt_route *rt,
                                     int v2)
{
    enum MHD_Result answered = MHD_NO;
    served_model *m = find_route(s, c, rt, &answered);
    if (!m)
        return answered;
    served_model_release(&s->models, m);
    char msg[512];
    if (served_models_unload(&s->models, rt->name, rt->name_len, msg, sizeof msg))
        return fail(s, c, 404, "ModelNotFoundException", msg); /* unloaded meanwhile */
    snprintf(msg, sizeof msg, "Model \"%.*s\" unregistered", (int)rt->name_len, rt->name);
    fprintf(stderr, "imgclass-serve: management: %s\n", msg);
    if (v2)
        return server_reply(s, c, 200, "application/json", strdup("{}\n"), 3, NULL, 0);
    return ok_status(s, c, msg, NULL);
}

/* v2 load: the file in the model store named after the model, else where
 * the name was last loaded from (a start-up or registered model). */
static enum MHD_Result handle_v2_load(server *s, struct MHD_Connection *c, const mgmt_route *rt)
{
    char name[80], path[PATH_MAX], msg[512];
    if (!model_name_valid(rt->name, rt->name_len)) {
        snprintf(msg, sizeof msg, "Invalid model name '%.*s'", (int)rt->name_len, rt->name);
        return fail(s, c, 400, "BadRequestException", msg);
    }
    snprintf(name, sizeof name, "%.*s", (int)rt->name_len, rt->name);
    served_record recs[SERVE_MAX_RECORDS];
    int n = served_models_records(&s->models, recs, SERVE_MAX_RECORDS);
    const served_record *known = NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp(recs[i].name, name))
            known = &recs[i];
    served_model_spec spec = {.name = name, .batch = -1, .max_batch_delay_ms = -1};
    /* A name served before keeps the precision it was registered with. */
    spec.precision = known ? known->precision : NULL;
    if (!model_store_find(s->cfg->model_store, name, path, sizeof path)) {
        spec.path = path;
    } else if (known && known->path) {
        spec.path = known->path;
        spec.labels = known->labels;
    } else {
        served_records_free(recs, n);
        snprintf(msg, sizeof msg, "Model %s is not in the model store%s%s (want %s.pt there)",
                 name, s->cfg->model_store ? " " : "",
                 s->cfg->model_store ? s->cfg->model_store : " (no --model-store given)", name);
        return fail(s, c, 404, "ModelNotFoundException", msg);
    }
    char status[1024];
    int replaced = 0;
    served_error e = served_models_register(&s->models, &spec, &replaced, status, sizeof status);
    served_records_free(recs, n);
    if (e == SERVED_FULL)
        return fail(s, c, 409, "ConflictStatusException", status);
    if (e != SERVED_OK)
        return fail(s, c, 400, "ModelLoadException", status);
    fprintf(stderr, "imgclass-serve: management: model %s loaded (v2 repository)\n", name);
    return server_reply(s, c, 200, "application/json", strdup("{}\n"), 3, NULL, 0);
}

/* v2 index: every model served or once served, and the files of the store
 * not loaded; {"ready": true} in the body keeps only the served ones. */
static enum MHD_Result handle_v2_index(server *s, struct MHD_Connection *c,
                                       const mgmt_request *rq)
{
    int ready_only = 0;
    if (rq->len) {
        json_object *o = json_tokener_parse(rq->body);
        json_object *ready;
        if (!o || !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            return fail(s, c, 400, "BadRequestException",
                        "The index request body is not a JSON object");
        }
        if (json_object_object_get_ex(o, "ready", &ready))
            ready_only = json_object_get_boolean(ready);
        json_object_put(o);
    }
    served_record recs[SERVE_MAX_RECORDS];
    int n = served_models_records(&s->models, recs, SERVE_MAX_RECORDS);
    json_buf b;
    if (json_buf_open(&b)) {
        served_records_free(recs, n);
        return server_reply(s, c, 500, "application/json", NULL, 0, NULL, 0);
    }
    fputs("[", b.f);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (ready_only && !recs[i].loaded)
            continue;
        fputs(k++ ? ",\n  {\"name\": " : "\n  {\"name\": ", b.f);
        json_buf_string(&b, recs[i].name);
        fputs(", \"version\": ", b.f);
        json_buf_string(&b, recs[i].version);
        fprintf(b.f, ", \"state\": \"%s\", \"reason\": \"%s\"}",
                recs[i].loaded ? "READY" : "UNAVAILABLE", recs[i].loaded ? "" : "unloaded");
    }
    served_records_free(recs, n);
    fputs(k ? "\n]\n" : "]\n", b.f);
    size_t len = 0;
    char *body = json_buf_finish(&b, &len);
    return server_reply(s, c, 200, "application/json", body, len, NULL, 0);
}

static enum MHD_Result dispatch(server *s, struct MHD_Connection *c, const char *method,
                                const char *url, mgmt_request *rq)
{
    mgmt_route rt = route_management(method, url);
    if (rq->too_big)
        return fail(s, c, 413, "RequestEntityTooLargeException",
                    "The management request body is over 64 KiB");
    size_t len = 0;
    char *body;
    enum MHD_Result answered = MHD_NO;
    switch (rt.kind) {
    case MGMT_LIST: {
        served_model *ms[SERVE_MAX_MODELS];
        int n = served_models_snapshot(&s->models, ms, SERVE_MAX_MODELS);
        body = resp_models(ms, n, &len);
        for (int i = 0; i < n; i++)
            served_model_release(&s->models, ms[i]);
        return server_reply(s, c, 200, "application/json", body, len, NULL, 0);
    }
    case MGMT_DESCRIBE: {
        served_model *m = find_route(s, c, &rt, &answered);
        if (!m)
            return answered;
        body = resp_model(m, &len);
        served_model_release(&s->models, m);
        return server_reply(s, c, 200, "application/json", body, len, NULL, 0);
    }
    case MGMT_REGISTER:
        return handle_register(s, c);
    case MGMT_UNREGISTER:
        return handle_unload(s, c, &rt, 0);
    case MGMT_V2_UNLOAD:
        return handle_unload(s, c, &rt, 1);
    case MGMT_V2_LOAD:
        return handle_v2_load(s, c, &rt);
    case MGMT_V2_INDEX:
        return handle_v2_index(s, c, rq);
    case MGMT_METHOD_NOT_ALLOWED:
        return server_reply_error(s, c, 405, "MethodNotAllowedException",
                                  "Requested method is not allowed, please refer to API document.",
                                  rt.allow, 0);
    default:
        return fail(s, c, 404, "ResourceNotFoundException",
                    "Requested resource is not found, please refer to API document.");
    }
}

enum MHD_Result management_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    server *s = cls;
    (void)version;
    mgmt_request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES; /* the body, if any, comes next */
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->too_big || rq->len + n > MGMT_MAX_BODY) {
            rq->too_big = 1;
            return MHD_YES;
        }
        char *grown = realloc(rq->body, rq->len + n + 1);
        if (!grown)
            return MHD_NO;
        memcpy(grown + rq->len, upload_data, n);
        rq->body = grown;
        rq->len += n;
        rq->body[rq->len] = '\0';
        return MHD_YES;
    }
    if (atomic_load(&s->draining))
        return fail(s, c, 503, "ServiceUnavailableException", "The server is shutting down");
    /* Until the start-up models are loaded the table is being set up
     * (server.h's `ready`): nothing may read or change it. */
    if (!atomic_load(&s->ready))
        return fail(s, c, 503, "ServiceUnavailableException", "The models are still loading");
    return dispatch(s, c, method, url, rq);
}

void management_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    mgmt_request *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

int management_start(server *s)
{
    const serve_config *cfg = s->cfg;
    if (!cfg->enable_model_api)
        return 0;
    struct sockaddr_storage ss;
    size_t len;
    if (net_parse_address(cfg->management_listen, &ss, &len)) {
        fprintf(stderr, "imgclass-serve: invalid address '%s'\n", cfg->management_listen);
        return -1;
    }
    /* A thread per connection: a load blocks only its own request. Every
     * request passes the management gate first (tokens, limits), and TLS
     * is the inference address's (server_security.h). */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem extra[4] = {{MHD_OPTION_END, 0, NULL}};
    flags |= server_security_options(s, &s->mgmt_limits, extra);
    s->management = MHD_start_daemon(
        flags, 0, conn_limits_accept, &s->mgmt_limits, gate_handler, &s->mgmt_gate,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)MANAGEMENT_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, gate_completed, &s->mgmt_gate, MHD_OPTION_ARRAY, extra,
        MHD_OPTION_END);
    if (!s->management) {
        fprintf(stderr, "imgclass-serve: cannot listen on %s (in use, or not an address of "
                        "this machine?)\n",
                cfg->management_listen);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->management,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    char where[128];
    net_address_url(&ss, info ? info->port : 0, where, sizeof where);
    server_security_url(s, where, sizeof where);
    fprintf(stderr, "imgclass-serve: management API on %s%s%s\n", where,
            cfg->model_store ? ", model store " : "", cfg->model_store ? cfg->model_store : "");
    return 0;
}

void management_stop(server *s)
{
    if (s->management)
        MHD_stop_daemon(s->management);
    s->management = NULL;
}
