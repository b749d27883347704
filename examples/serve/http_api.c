/* The inference API's request handling: routing, body collection (raw or
 * multipart/form-data through libmicrohttpd's post processor), submission
 * to the model's pipeline, suspension until the result, and the answer.
 * Why connections are suspended rather than given threads: server.h. */
#include "server.h"

#include "clock.h"
#include "mhd_first_call.h"

#include "responses.h"
#include "router.h"
#include "serve_job.h"
#include "v2_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

extern const char serve_page_html[];

typedef struct request {
    serve_job job; /* first: the pipeline's `user` points here */
    server *srv;
    struct MHD_Connection *conn;
    char *method, *url; /* copies, for the request log */
    double started_ms;
    int http_status;
    int answer_later; /* a route without a body, answered on the next call */

    served_model *model;
    int topk, rich;

    /* The image: the raw body, or the first "data"/"file" field of a
     * multipart body. */
    char *body;
    size_t len, cap;
    uint64_t received;    /* body bytes read off the wire, multipart framing included */
    struct MHD_PostProcessor *post;
    const char *field;    /* the multipart field being collected */
    int field_done;       /* that field ended: later parts are ignored */
    int body_error;       /* 400: the multipart body was malformed */

    /* The asynchronous part. `lock` orders the result callback against the
     * handler's suspension; see predict_submit(). */
    pthread_mutex_t lock;
    int submitted, done, suspended;
    imgclass_status status;
    char *error;
    imgclass_class *top;
    int k;
    resp_timing timing;

    v2_infer *v2; /* a v2 infer request: it handles the body and the answer */
} request;

static double now_ms(void)
{
    return (double)clock_mono_ns() / 1e6;
}

static request *request_new(server *s, struct MHD_Connection *conn, const char *method,
                            const char *url)
{
    request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->method = strdup(method);
    r->url = strdup(url);
    if (!r->method || !r->url || pthread_mutex_init(&r->lock, NULL)) {
        free(r->method);
        free(r->url);
        free(r);
        return NULL;
    }
    r->job.deliver = http_api_deliver;
    r->srv = s;
    r->conn = conn;
    r->started_ms = now_ms();
    pthread_mutex_lock(&s->lock);
    s->inflight++;
    pthread_mutex_unlock(&s->lock);
    return r;
}

static void request_free(request *r)
{
    server *s = r->srv;
    if (r->post)
        MHD_destroy_post_processor(r->post);
    pthread_mutex_destroy(&r->lock);
    free(r->body);
    free(r->error);
    free(r->top);
    free(r->method);
    free(r->url);
    /* The model's reference, held from predict_begin() to here: a swap or
     * an unload frees the entry only after the last one is dropped. */
    served_model_release(&s->models, r->model);
    free(r);
    pthread_mutex_lock(&s->lock);
    s->inflight--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

static enum MHD_Result reply(request *r, int code, const char *type, char *body, size_t len)
{
    r->http_status = code;
    return server_reply(r->srv, r->conn, code, type, body, len, NULL, 0);
}

static enum MHD_Result reply_error(request *r, int code, const char *type, const char *message,
                                   const char *allow, int close)
{
    r->http_status = code;
    return server_reply_error(r->srv, r->conn, code, type, message, allow, close);
}

/* Appends to the image buffer, growing it; -1 past the byte limit. */
static int body_append(request *r, const char *data, size_t size)
{
    uint64_t limit = r->srv->cfg->max_request_bytes;
    if (size > limit - r->len)
        return -1;
    if (r->len + size > r->cap) {
        size_t cap = r->cap ? r->cap : 64 * 1024;
        while (cap < r->len + size)
            cap *= 2;
        if (cap > limit)
            cap = (size_t)limit;
        char *grown = realloc(r->body, cap);
        if (!grown)
            return -1;
        r->body = grown;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, size);
    r->len += size;
    return 0;
}

/* The post processor's callback: collects the first part named "data" or
 * "file" (the field names TorchServe's clients use). */
static enum MHD_Result on_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *filename, const char *content_type,
                                     const char *transfer_encoding, const char *data,
                                     uint64_t off, size_t size)
{
    request *r = cls;
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    if (r->field_done)
        return MHD_YES;
    if (r->field && (off == 0 || strcmp(key, r->field))) {
        r->field_done = 1; /* a new part began */
        return MHD_YES;
    }
    if (!r->field) {
        if (!strcmp(key, "data"))
            r->field = "data";
        else if (!strcmp(key, "file"))
            r->field = "file";
        else
            return MHD_YES;
    }
    if (size && body_append(r, data, size))
        return MHD_NO;
    return MHD_YES;
}

/* First call of a prediction: everything that can be checked from the
 * headers is checked before a byte of the body is read. */
static enum MHD_Result predict_begin(request *r, const route *rt)
{
    server *s = r->srv;
    char msg[512];
    r->model = served_models_acquire(&s->models, rt->name, rt->name_len);
    if (!r->model) {
        snprintf(msg, sizeof msg, "Model not found: %.*s", (int)rt->name_len, rt->name);
        return reply_error(r, 404, "ModelNotFoundException", msg, NULL, 0);
    }
    if (rt->version_len && (rt->version_len != strlen(r->model->version) ||
                            memcmp(rt->version, r->model->version, rt->version_len))) {
        snprintf(msg, sizeof msg, "Model version %.*s not found for model %s (served: %s)",
                 (int)rt->version_len, rt->version, r->model->name, r->model->version);
        return reply_error(r, 404, "ModelVersionNotFoundException", msg, NULL, 0);
    }

    r->topk = s->cfg->default_topk;
    const char *topk = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "topk");
    if (topk) {
        char *end;
        errno = 0;
        long k = strtol(topk, &end, 10);
        if (errno || end == topk || *end || k < 1 || k > 1000000) {
            snprintf(msg, sizeof msg, "Invalid topk '%.64s': want a whole number >= 1", topk);
            return reply_error(r, 400, "BadRequestException", msg, NULL, 0);
        }
        r->topk = (int)k;
    }
    if (r->topk > r->model->num_classes)
        r->topk = r->model->num_classes;
    const char *format = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "format");
    if (format) {
        if (!strcmp(format, "imgclass"))
            r->rich = 1;
        else if (strcmp(format, "torchserve")) {
            snprintf(msg, sizeof msg, "Invalid format '%.64s': want torchserve or imgclass",
                     format);
            return reply_error(r, 400, "BadRequestException", msg, NULL, 0);
        }
    }

    /* 413 from Content-Length alone: the body is never read, and a client
     * that sent "Expect: 100-continue" never sends it. */
    uint64_t limit = s->cfg->max_request_bytes;
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || cl[0] == '-' || n > limit) {
            snprintf(msg, sizeof msg,
                     "Request body of %.32s bytes is over the limit of %llu bytes "
                     "(--max-request-bytes)",
                     cl, (unsigned long long)limit);
            return reply_error(r, 413, "RequestEntityTooLargeException", msg, NULL, 1);
        }
        if (n > 0) {
            r->body = malloc((size_t)n);
            if (!r->body)
                return reply_error(r, 500, "InternalServerException", "out of memory", NULL, 1);
            r->cap = (size_t)n;
        }
    }

    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    if (ct && !strncasecmp(ct, "multipart/form-data", 19)) {
        r->post = MHD_create_post_processor(r->conn, 64 * 1024, on_form_field, r);
        if (!r->post)
            return reply_error(r, 400, "BadRequestException",
                               "Malformed multipart/form-data header (no boundary?)", NULL, 1);
    }
    r->top = calloc((size_t)r->topk, sizeof *r->top);
    if (!r->top)
        return reply_error(r, 500, "InternalServerException", "out of memory", NULL, 1);
    return MHD_YES;
}

/* A piece of the body. Returns MHD_NO (the connection is closed without an
 * answer) only for a body without Content-Length that grows past the limit:
 * libmicrohttpd cannot answer in the middle of a body, and reading an
 * unbounded body to its end is what the limit is there to prevent. */
static enum MHD_Result predict_body(request *r, const char *data, size_t size)
{
    uint64_t limit = r->srv->cfg->max_request_bytes;
    r->received += size;
    if (r->received > limit) {
        fprintf(stderr, "imgclass-serve: %s %s: body over %llu bytes without Content-Length; "
                        "connection closed\n",
                r->method, r->url, (unsigned long long)limit);
        return MHD_NO;
    }
    if (r->body_error)
        return MHD_YES; /* discard the rest; answered 400 at the end */
    if (r->post) {
        if (MHD_post_process(r->post, data, size) != MHD_YES)
            r->body_error = 1;
    } else if (body_append(r, data, size)) {
        return MHD_NO; /* only out of memory: the size was checked above */
    }
    return MHD_YES;
}

static enum MHD_Result answer_result(request *r)
{
    char msg[1024];
    int code = resp_http_status(r->status);
    if (code == 200) {
        size_t len = 0;
        char *body = r->rich ? resp_predictions_imgclass(r->model->name, r->top, r->k, &r->timing,
                                                         &len)
                             : resp_predictions_torchserve(r->top, r->k, &len);
        return reply(r, 200, "application/json", body, len);
    }
    if (code == 503)
        return reply_error(r, 503, "ServiceUnavailableException",
                           "The server is shutting down", NULL, 1);
    /* The library names an in-memory image "memory buffer". */
    const char *why = !r->error ? imgclass_status_str(r->status)
                      : !strncmp(r->error, "memory buffer: ", 15) ? r->error + 15 : r->error;
    if (code == 400) {
        snprintf(msg, sizeof msg, "Cannot classify the image in the request body: %s", why);
        return reply_error(r, 400, "BadRequestException", msg, NULL, 0);
    }
    snprintf(msg, sizeof msg, "Prediction failed: %s", why);
    return reply_error(r, 500, "InternalServerException", msg, NULL, 0);
}

/* The whole body is in: submit it and suspend the connection until the
 * result callback resumes it. */
static enum MHD_Result predict_submit(request *r)
{
    char msg[256];
    if (r->post) {
        enum MHD_Result ok = MHD_destroy_post_processor(r->post);
        r->post = NULL;
        if (ok != MHD_YES)
            r->body_error = 1;
    }
    if (r->body_error)
        return reply_error(r, 400, "BadRequestException",
                           "Malformed multipart/form-data body", NULL, 1);
    if (r->len == 0)
        return reply_error(r, 400, "BadRequestException",
                           r->field || !r->received
                               ? "Empty request body: send the image as the body, or as the "
                                 "multipart/form-data field 'data' or 'file'"
                               : "The multipart/form-data body has no field 'data' or 'file'",
                           NULL, 0);

    served_model *m = r->model;
    imgclass_input in = {.struct_size = sizeof in, .kind = IMGCLASS_INPUT_MEMORY,
                         .data = r->body, .size = r->len};
    /* The body stays alive until the request completes, which is after its
     * result: no copy. Never block the polling thread: a full queue is a
     * 503 now. */
    imgclass_status st = m->pipeline
        ? imgclass_pipeline_submit(m->pipeline, &in, r, IMGCLASS_SUBMIT_NONBLOCK, NULL)
        : IMGCLASS_ERR_CLOSED;
    if (st == IMGCLASS_ERR_BUSY) {
        snprintf(msg, sizeof msg, "Model %s: the queue is full (%d images waiting); retry later",
                 m->name, m->queue);
        return reply_error(r, 503, "ServiceUnavailableException", msg, NULL, 0);
    }
    if (st == IMGCLASS_ERR_CLOSED)
        return reply_error(r, 503, "ServiceUnavailableException",
                           "The server is shutting down", NULL, 1);
    if (st != IMGCLASS_OK) {
        snprintf(msg, sizeof msg, "Cannot queue the request: %s", imgclass_last_error());
        return reply_error(r, 500, "InternalServerException", msg, NULL, 0);
    }
    /* The result may already have arrived (callbacks run on the pipeline's
     * threads): then answer now; else suspend, and the callback, which
     * sees `suspended` under the same lock, resumes. */
    pthread_mutex_lock(&r->lock);
    r->submitted = 1;
    if (!r->done) {
        MHD_suspend_connection(r->conn);
        r->suspended = 1;
    }
    int done = r->done;
    pthread_mutex_unlock(&r->lock);
    return done ? answer_result(r) : MHD_YES;
}

void http_api_deliver(const imgclass_pipeline_result *res)
{
    request *r = res->user;
    r->status = res->status;
    if (res->status == IMGCLASS_OK) {
        imgclass_status st = imgclass_topk(r->model->model, res->scores, res->num_classes, r->topk,
                                           r->top, &r->k);
        if (st != IMGCLASS_OK) {
            r->status = st;
            r->error = strdup(imgclass_last_error());
        }
    } else {
        r->error = strdup(res->error ? res->error : "");
    }
    r->timing.batch_size = res->batch_size;
    r->timing.queued_us = res->queued_us;
    r->timing.preprocess_us = res->preprocess_us;
    r->timing.forward_us = res->forward_us;
    r->timing.total_us = (now_ms() - r->started_ms) * 1e3;

    pthread_mutex_lock(&r->lock);
    r->done = 1;
    int suspended = r->suspended;
    struct MHD_Connection *conn = r->conn;
    pthread_mutex_unlock(&r->lock);
    /* After the unlock `r` belongs to the polling thread again; a suspended
     * connection cannot complete (and free r) before it is resumed. */
    if (suspended)
        MHD_resume_connection(conn);
}

/* Answers a request by its route; a body, if any, is read by the predict
 * and infer routes' own steps. */
static enum MHD_Result answer_route(request *r, const route *rt)
{
    server *s = r->srv;
    size_t len = 0;
    char *body;
    switch (rt->kind) {
    case ROUTE_PAGE:
        r->http_status = 200;
        return server_reply_static(s, r->conn, 200, "text/html; charset=utf-8",
                                   serve_page_html);
    case ROUTE_DESCRIBE_API:
    case ROUTE_MODELS: {
        /* References on every entry: none is freed while it is listed. */
        served_model *ms[SERVE_MAX_MODELS];
        int n = served_models_snapshot(&s->models, ms, SERVE_MAX_MODELS);
        body = rt->kind == ROUTE_MODELS ? resp_models(ms, n, &len)
                                       : resp_api_description(ms, n, &len);
        for (int i = 0; i < n; i++)
            served_model_release(&s->models, ms[i]);
        return reply(r, 200, "application/json", body, len);
    }
    case ROUTE_PING:
        body = resp_ping(&len); /* sets len: call it first */
        return reply(r, 200, "application/json", body, len);
    case ROUTE_MODEL: {
        /* Held by the request until it completes (request_free). */
        served_model *m = r->model =
            served_models_acquire(&s->models, rt->name, rt->name_len);
        char msg[256];
        if (!m || (rt->version_len && (rt->version_len != strlen(m->version) ||
                                      memcmp(rt->version, m->version, rt->version_len)))) {
            snprintf(msg, sizeof msg, "Model not found: %.*s%s%.*s", (int)rt->name_len,
                     rt->name, rt->version_len ? " version " : "", (int)rt->version_len,
                     rt->version ? rt->version : "");
            return reply_error(r, 404, "ModelNotFoundException", msg, NULL, 0);
        }
        body = resp_model(m, &len); /* sets len: call it first */
        return reply(r, 200, "application/json", body, len);
    }
    case ROUTE_PREDICT:
        return predict_begin(r, rt);
    case ROUTE_V2_SERVER:
    case ROUTE_V2_LIVE:
    case ROUTE_V2_READY:
    case ROUTE_V2_MODEL:
    case ROUTE_V2_MODEL_READY:
        return v2_api_get(s, r->conn, rt, &r->http_status);
    case ROUTE_V2_INFER:
        return v2_infer_begin(s, r->conn, rt, &r->v2, &r->http_status);
    case ROUTE_METHOD_NOT_ALLOWED:
        if (rt->v2)
            return v2_api_error(s, r->conn, 405, "method not allowed", rt->allow, 0,
                                &r->http_status);
        return reply_error(r, 405, "MethodNotAllowedException",
                           "Requested method is not allowed, please refer to API document.",
                           rt->allow, 0);
    default:
        if (rt->v2)
            return v2_api_error(s, r->conn, 404, "no such endpoint", NULL, 0,
                                &r->http_status);
        return reply_error(r, 404, "ResourceNotFoundException",
                           "Requested resource is not found, please refer to API document.",
                           NULL, 0);
    }
}

enum MHD_Result http_api_handler(void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    server *s = cls;
    request *r = *con_cls;
    (void)version;
    if (!r) {
        r = request_new(s, connection, method, url);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        route rt = route_api(method, url);
        if (atomic_load(&s->draining))
            return rt.v2 ? v2_api_error(s, connection, 503, "the server is shutting down", NULL,
                                        1, &r->http_status)
                         : reply_error(r, 503, "ServiceUnavailableException",
                                       "The server is shutting down", NULL, 1);
        /* Until every model is loaded (server_load_models()) the set of
         * models may not be read, and health says not yet. */
        if (!atomic_load(&s->ready) && (rt.kind == ROUTE_PING || rt.kind == ROUTE_MODELS ||
                                         rt.kind == ROUTE_MODEL || rt.kind == ROUTE_PREDICT ||
                                         rt.kind == ROUTE_DESCRIBE_API))
            return reply_error(r, 503, "ServiceUnavailableException",
                               "The models are still loading", NULL, 0);
        /* Without a body, answered on the next call, so that the connection
         * stays open (mhd_first_call.h): a load balancer's health checks
         * then reuse one, over TLS without a handshake each. */
        if (rt.kind != ROUTE_PREDICT && rt.kind != ROUTE_V2_INFER &&
            !mhd_body_announced(connection)) {
            r->answer_later = 1;
            return MHD_YES;
        }
        return answer_route(r, &rt);
    }
    if (r->answer_later) {
        r->answer_later = 0;
        route rt = route_api(r->method, r->url);
        return answer_route(r, &rt);
    }
    if (r->v2)
        return v2_infer_step(r->v2, upload_data, upload_data_size, &r->http_status);
    if (*upload_data_size) {
        enum MHD_Result ok = predict_body(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ok;
    }
    if (r->done)
        return answer_result(r); /* resumed by the result callback */
    if (r->submitted)
        return MHD_YES; /* still waiting (not expected: the connection is suspended) */
    return predict_submit(r);
}

void http_api_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    server *s = cls;
    request *r = *con_cls;
    (void)connection;
    if (!r)
        return;
    *con_cls = NULL;
    if (!s->cfg->quiet)
        fprintf(stderr, "imgclass-serve: %s %s %d %.1f ms%s\n", r->method, r->url,
                r->http_status, now_ms() - r->started_ms,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
    pthread_mutex_lock(&r->lock);
    int pending = r->submitted && !r->done;
    pthread_mutex_unlock(&r->lock);
    if (v2_infer_free(r->v2))
        pending = 1;
    if (pending) {
        /* Only possible if the daemon were stopped before the pipelines;
         * server_stop() orders them so that it is not. Leaking beats a
         * callback writing into freed memory. */
        fprintf(stderr, "imgclass-serve: %s %s: closed with its result pending\n", r->method,
                r->url);
        return;
    }
    request_free(r);
}
