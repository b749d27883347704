/* The Open Inference Protocol's handlers; see v2_api.h. */
#include "v2_api.h"

#include "clock.h"
#include "responses.h"
#include "serve_job.h"
#include "v2_json.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tensor worker: FP32 requests, one forward pass each, in order. */
struct v2_worker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    v2_infer *head, *tail;
    int queued, stopping;
};

/* One image of a BYTES input in the pipeline. */
typedef struct v2_slot {
    serve_job job; /* first: the pipeline's `user` points here */
    v2_infer *v;
    size_t index;
} v2_slot;

struct v2_infer {
    server *s;
    struct MHD_Connection *conn;
    /* A reference on the model (served_models_acquire()), dropped when the
     * request is freed: a swap or an unload meanwhile waits for it, so the
     * model, its pipeline and its version string outlive the answer. */
    served_model *model;
    uint64_t started_ns;

    char *body;
    size_t len, cap;
    uint64_t received;
    size_t json_len; /* Inference-Header-Content-Length, or SIZE_MAX: all JSON */

    v2_request req;
    float *scores; /* n x classes */
    v2_slot *slots;

    /* `pending` counts the units (images, or the one tensor job) accepted
     * and not yet finished, plus one held by the polling thread while it
     * submits, so that it cannot reach 0 before the connection is
     * suspended; whoever takes it to 0 sets `done` and resumes. */
    pthread_mutex_t lock;
    size_t pending;
    int submitted, done, suspended;
    /* The first failure (lowest element), answered instead of scores. */
    int failed;
    size_t fail_index; /* SIZE_MAX: the whole batch */
    imgclass_status fail_status;
    char *fail_msg;
    int busy; /* 503: a queue was full */

    v2_infer *next; /* in the worker's queue */
};

static enum MHD_Result reply_json(server *s, struct MHD_Connection *c, int code, char *body,
                                  size_t len, int *status)
{
    *status = code;
    return server_reply(s, c, code, "application/json", body, len, NULL, 0);
}

enum MHD_Result v2_api_error(server *s, struct MHD_Connection *c, int code, const char *message,
                             const char *allow, int close, int *status)
{
    size_t len = 0;
    char *body = v2_error_body(message, &len);
    *status = code;
    return server_reply(s, c, code, "application/json", body, len, allow, close);
}

static int serving(server *s)
{
    return atomic_load(&s->ready) && !atomic_load(&s->draining);
}

static v2_model_shape shape_of(const served_model *m)
{
    return (v2_model_shape){m->channels, m->height, m->width, m->num_classes};
}

/* The route's model at the version served now, with a reference taken
 * (release it with served_model_release()), or NULL after answering 404.
 * The management API may swap or unload the model at any time; the
 * reference keeps this entry alive until released. */
static served_model *find_model(server *s, struct MHD_Connection *c, const route *rt,
                                enum MHD_Result *answered, int *status)
{
    char msg[256];
    served_model *m = served_models_acquire(&s->models, rt->name, rt->name_len);
    if (!m) {
        snprintf(msg, sizeof msg, "unknown model '%.*s'", (int)rt->name_len, rt->name);
        *answered = v2_api_error(s, c, 404, msg, NULL, 0, status);
        return NULL;
    }
    if (rt->version_len && (rt->version_len != strlen(m->version) ||
                            memcmp(rt->version, m->version, rt->version_len))) {
        snprintf(msg, sizeof msg, "model '%s' has no version '%.*s' (served: %s)", m->name,
                 (int)rt->version_len, rt->version, m->version);
        served_model_release(&s->models, m);
        *answered = v2_api_error(s, c, 404, msg, NULL, 0, status);
        return NULL;
    }
    return m;
}

static enum MHD_Result not_ready(server *s, struct MHD_Connection *c, int *status)
{
    return v2_api_error(s, c, 503,
                        atomic_load(&s->draining) ? "the server is shutting down"
                                                  : "the models are still loading",
                        NULL, 0, status);
}

enum MHD_Result v2_api_get(server *s, struct MHD_Connection *c, const route *rt, int *status)
{
    size_t len = 0;
    char *body;
    switch (rt->kind) {
    case ROUTE_V2_SERVER:
        body = v2_server_metadata(&len); /* sets len: call it first */
        return reply_json(s, c, 200, body, len, status);
    case ROUTE_V2_LIVE:
        /* Answering at all is being live. */
        *status = 200;
        return server_reply_static(s, c, 200, "application/json", "{\"live\": true}\n");
    case ROUTE_V2_READY:
        *status = serving(s) ? 200 : 503;
        return server_reply_static(s, c, *status, "application/json",
                                   *status == 200 ? "{\"ready\": true}\n"
                                                  : "{\"ready\": false}\n");
    default:
        break;
    }
    /* Model routes: the set of models is complete once ready. */
    if (!atomic_load(&s->ready))
        return not_ready(s, c, status);
    enum MHD_Result answered = MHD_NO;
    served_model *m = find_model(s, c, rt, &answered, status);
    if (!m)
        return answered;
    if (rt->kind == ROUTE_V2_MODEL_READY) {
        if (!serving(s)) {
            served_model_release(&s->models, m);
            return not_ready(s, c, status);
        }
        body = v2_model_ready(m->name, &len); /* sets len: call it first */
    } else {
        v2_model_shape sh = shape_of(m);
        body = v2_model_metadata(m->name, m->version, &sh, &len);
    }
    served_model_release(&s->models, m);
    return reply_json(s, c, 200, body, len, status);
}

/* ------------------------------------------------------------ infer */

static void record_failure(v2_infer *v, size_t index, imgclass_status st, const char *why)
{
    pthread_mutex_lock(&v->lock);
    if (!v->failed || index < v->fail_index) {
        free(v->fail_msg);
        v->failed = 1;
        v->fail_index = index;
        v->fail_status = st;
        v->fail_msg = strdup(why ? why : "");
    }
    pthread_mutex_unlock(&v->lock);
}

/* A unit finished: the last one resumes the connection. */
static void unit_done(v2_infer *v)
{
    pthread_mutex_lock(&v->lock);
    int last = --v->pending == 0;
    if (last)
        v->done = 1;
    int suspended = v->suspended;
    struct MHD_Connection *conn = v->conn;
    pthread_mutex_unlock(&v->lock);
    /* After the unlock `v` belongs to the polling thread again; a
     * suspended connection cannot complete before it is resumed. */
    if (last && suspended)
        MHD_resume_connection(conn);
}

static void slot_deliver(const imgclass_pipeline_result *res)
{
    v2_slot *sl = res->user;
    v2_infer *v = sl->v;
    int classes = v->model->num_classes;
    if (res->status == IMGCLASS_OK && res->scores && res->num_classes == classes)
        memcpy(v->scores + sl->index * (size_t)classes, res->scores,
               (size_t)classes * sizeof *v->scores);
    else
        record_failure(v, sl->index, res->status == IMGCLASS_OK ? IMGCLASS_ERR_ENGINE
                                                                : res->status,
                       res->error);
    unit_done(v);
}

static void run_tensor(v2_infer *v)
{
    served_model *m = v->model;
    imgclass_batch *batch = NULL;
    imgclass_status st = imgclass_batch_wrap(v->req.floats, v->req.n, m->height, m->width, &batch);
    if (st == IMGCLASS_OK)
        st = imgclass_predict(m->model, batch, v->scores, v->req.n * (size_t)m->num_classes);
    if (st != IMGCLASS_OK)
        record_failure(v, SIZE_MAX, st, imgclass_last_error());
    imgclass_batch_free(batch);
    atomic_fetch_add(&m->v2_tensor_images, v->req.n);
    atomic_fetch_add(&m->v2_tensor_us, (clock_mono_ns() - v->started_ns) / 1000);
}

static void *worker_main(void *arg)
{
    struct v2_worker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head)
            break; /* stopping, and everything accepted is answered */
        v2_infer *v = w->head;
        w->head = v->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        pthread_mutex_unlock(&w->lock);
        run_tensor(v);
        unit_done(v);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int v2_api_start(server *s)
{
    struct v2_worker *w = calloc(1, sizeof *w);
    if (!w || pthread_mutex_init(&w->lock, NULL)) {
        free(w);
        fprintf(stderr, "imgclass-serve: cannot start the v2 tensor worker: out of memory\n");
        return -1;
    }
    pthread_cond_init(&w->wake, NULL);
    int e = pthread_create(&w->thread, NULL, worker_main, w);
    if (e) {
        fprintf(stderr, "imgclass-serve: cannot start the v2 tensor worker: %s\n", strerror(e));
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return -1;
    }
    s->v2 = w;
    return 0;
}

void v2_api_stop(server *s)
{
    struct v2_worker *w = s->v2;
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
    s->v2 = NULL;
}

/* 0, or -1 when the worker's queue is full or it is stopping. */
static int worker_push(server *s, v2_infer *v)
{
    struct v2_worker *w = s->v2;
    pthread_mutex_lock(&w->lock);
    int ok = !w->stopping && w->queued < s->cfg->queue;
    if (ok) {
        v->next = NULL;
        if (w->tail)
            w->tail->next = v;
        else
            w->head = v;
        w->tail = v;
        w->queued++;
        pthread_cond_signal(&w->wake);
    }
    pthread_mutex_unlock(&w->lock);
    return ok ? 0 : -1;
}

enum MHD_Result v2_infer_begin(server *s, struct MHD_Connection *c, const route *rt,
                               v2_infer **out, int *status)
{
    char msg[512];
    *out = NULL;
    if (!serving(s))
        return not_ready(s, c, status);
    enum MHD_Result answered = MHD_NO;
    served_model *m = find_model(s, c, rt, &answered, status);
    if (!m)
        return answered;
    atomic_fetch_add(&m->v2_requests, 1);

    /* 413 from Content-Length alone, as /predictions does. */
    uint64_t limit = s->cfg->max_request_bytes;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long n = 0;
    if (cl) {
        char *end;
        errno = 0;
        n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || cl[0] == '-' || n > limit) {
            snprintf(msg, sizeof msg, "request body of %.32s bytes is over the limit of %llu "
                                      "bytes (--max-request-bytes)",
                     cl, (unsigned long long)limit);
            served_model_release(&s->models, m);
            return v2_api_error(s, c, 413, msg, NULL, 1, status);
        }
    }
    size_t json_len = SIZE_MAX;
    const char *ih = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 "Inference-Header-Content-Length");
    if (ih) {
        char *end;
        errno = 0;
        unsigned long long h = strtoull(ih, &end, 10);
        if (errno || end == ih || *end || ih[0] == '-' || h > limit) {
            snprintf(msg, sizeof msg, "Inference-Header-Content-Length '%.32s' is not a byte "
                                      "count of the body",
                     ih);
            served_model_release(&s->models, m);
            return v2_api_error(s, c, 400, msg, NULL, 0, status);
        }
        json_len = (size_t)h;
    }
    v2_infer *v = calloc(1, sizeof *v);
    if (!v || pthread_mutex_init(&v->lock, NULL)) {
        free(v);
        served_model_release(&s->models, m);
        return v2_api_error(s, c, 500, "out of memory", NULL, 1, status);
    }
    v->s = s;
    v->conn = c;
    v->model = m;
    v->json_len = json_len;
    v->started_ns = clock_mono_ns();
    if (n > 0) {
        v->body = malloc((size_t)n);
        v->cap = v->body ? (size_t)n : 0;
    }
    *out = v;
    return MHD_YES;
}

/* Appends a piece of the body; -1 past the limit (no Content-Length) or
 * out of memory: the connection is then closed, as /predictions does. */
static int body_append(v2_infer *v, const char *data, size_t size)
{
    uint64_t limit = v->s->cfg->max_request_bytes;
    v->received += size;
    if (v->received > limit)
        return -1;
    if (v->len + size > v->cap) {
        size_t cap = v->cap ? v->cap : 64 * 1024;
        while (cap < v->len + size)
            cap *= 2;
        if (cap > limit)
            cap = (size_t)limit;
        char *grown = realloc(v->body, cap);
        if (!grown)
            return -1;
        v->body = grown;
        v->cap = cap;
    }
    memcpy(v->body + v->len, data, size);
    v->len += size;
    return 0;
}

static enum MHD_Result answer(v2_infer *v, int *status)
{
    server *s = v->s;
    char msg[1024];
    if (v->busy) {
        snprintf(msg, sizeof msg, "model %s: the queue is full (%d waiting); retry later",
                 v->model->name, s->cfg->queue);
        return v2_api_error(s, v->conn, 503, msg, NULL, 0, status);
    }
    if (v->failed) {
        int code = resp_http_status(v->fail_status);
        /* The library names an in-memory image "memory buffer". */
        const char *fm = v->fail_msg ? v->fail_msg : imgclass_status_str(v->fail_status);
        const char *why = !strncmp(fm, "memory buffer: ", 15) ? fm + 15 : fm;
        if (code == 503)
            return v2_api_error(s, v->conn, 503, "the server is shutting down", NULL, 1, status);
        if (v->fail_index == SIZE_MAX)
            snprintf(msg, sizeof msg, "input '%s': %s: %s", v->req.input_name,
                     code == 400 ? "cannot run the tensor" : "prediction failed", why);
        else
            snprintf(msg, sizeof msg, "input '%s' element %zu: %s: %s", v->req.input_name,
                     v->fail_index, code == 400 ? "cannot classify the image" : "prediction failed",
                     why);
        return v2_api_error(s, v->conn, code, msg, NULL, 0, status);
    }
    const v2_answer a = {
        .model_name = v->model->name,
        .model_version = v->model->version,
        .id = v->req.id,
        .scores = v->scores,
        .n = v->req.n,
        .classes = v->model->num_classes,
        .classification = v->req.classification,
        .binary = v->req.binary_output,
        .model = v->model->model,
    };
    size_t len = 0, json_len = 0;
    char *body = v2_answer_encode(&a, &len, &json_len);
    if (!body)
        return v2_api_error(s, v->conn, 500, "out of memory", NULL, 1, status);
    *status = 200;
    if (!a.binary)
        return server_reply(s, v->conn, 200, "application/json", body, len, NULL, 0);
    /* server_reply() owns the body; the header goes on through a response
     * of our own, so build it here. */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    char hl[32];
    snprintf(hl, sizeof hl, "%zu", json_len);
    MHD_add_response_header(resp, "Inference-Header-Content-Length", hl);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    enum MHD_Result ok = MHD_queue_response(v->conn, 200, resp);
    MHD_destroy_response(resp);
    server_count(s, 200);
    return ok;
}

/* Releases the polling thread's hold: answers now if every unit is
 * already done, else suspends until the last one resumes. */
static enum MHD_Result release(v2_infer *v, int *status)
{
    pthread_mutex_lock(&v->lock);
    v->submitted = 1;
    int last = --v->pending == 0;
    if (last) {
        v->done = 1;
    } else {
        MHD_suspend_connection(v->conn);
        v->suspended = 1;
    }
    pthread_mutex_unlock(&v->lock);
    return last ? answer(v, status) : MHD_YES;
}

/* The whole body is in: parse, check, and run. */
static enum MHD_Result dispatch(v2_infer *v, int *status)
{
    server *s = v->s;
    served_model *m = v->model;
    char err[512];
    v2_model_shape sh = shape_of(m);
    size_t json_len = v->json_len == SIZE_MAX ? v->len : v->json_len;
    if (v2_request_parse(v->body ? v->body : "", v->len, json_len, &sh, &v->req, err,
                         sizeof err))
        return v2_api_error(s, v->conn, 400, err, NULL, 0, status);
    v->scores = calloc(v->req.n * (size_t)m->num_classes, sizeof *v->scores);
    if (!v->scores)
        return v2_api_error(s, v->conn, 500, "out of memory", NULL, 1, status);
    v->pending = 1; /* the polling thread's hold */

    if (v->req.datatype == V2_FP32) {
        v->pending++;
        if (worker_push(s, v)) {
            v->pending--;
            v->busy = 1;
        }
        return release(v, status);
    }

    for (size_t i = 0; i < v->req.n; i++)
        if (v->req.elements[i].size == 0) {
            snprintf(err, sizeof err, "input '%s' element %zu is empty", v->req.input_name, i);
            return v2_api_error(s, v->conn, 400, err, NULL, 0, status);
        }
    v->slots = calloc(v->req.n, sizeof *v->slots);
    if (!v->slots)
        return v2_api_error(s, v->conn, 500, "out of memory", NULL, 1, status);
    for (size_t i = 0; i < v->req.n; i++) {
        v2_slot *sl = &v->slots[i];
        sl->job.deliver = slot_deliver;
        sl->v = v;
        sl->index = i;
        imgclass_input in = {.struct_size = sizeof in,
                             .kind = IMGCLASS_INPUT_MEMORY,
                             .data = v->req.elements[i].data,
                             .size = v->req.elements[i].size};
        pthread_mutex_lock(&v->lock);
        v->pending++; /* before the submit: its result may come at once */
        pthread_mutex_unlock(&v->lock);
        /* The image stays alive until the request is freed, which is after
         * its result: no copy. Never block the polling thread. */
        imgclass_status st =
            m->pipeline ? imgclass_pipeline_submit(m->pipeline, &in, sl, IMGCLASS_SUBMIT_NONBLOCK,
                                                   NULL)
                        : IMGCLASS_ERR_CLOSED;
        if (st == IMGCLASS_OK)
            continue;
        pthread_mutex_lock(&v->lock);
        v->pending--; /* not accepted: no result will come */
        pthread_mutex_unlock(&v->lock);
        if (st == IMGCLASS_ERR_BUSY)
            v->busy = 1;
        else
            record_failure(v, i, st == IMGCLASS_ERR_CLOSED ? st : IMGCLASS_ERR_ENGINE,
                           imgclass_last_error());
        break; /* the images accepted finish; then the answer is the error */
    }
    return release(v, status);
}

enum MHD_Result v2_infer_step(v2_infer *v, const char *data, size_t *size, int *status)
{
    if (*size) {
        size_t n = *size;
        *size = 0;
        if (body_append(v, data, n)) {
            fprintf(stderr, "imgclass-serve: v2 infer: body over %llu bytes without "
                            "Content-Length (or out of memory); connection closed\n",
                    (unsigned long long)v->s->cfg->max_request_bytes);
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (v->done)
        return answer(v, status); /* resumed by the last result */
    if (v->submitted)
        return MHD_YES; /* still waiting (not expected: the connection is suspended) */
    return dispatch(v, status);
}

int v2_infer_free(v2_infer *v)
{
    if (!v)
        return 0;
    pthread_mutex_lock(&v->lock);
    int pending = v->submitted && !v->done;
    pthread_mutex_unlock(&v->lock);
    if (pending)
        return -1; /* leaking beats a result written into freed memory */
    /* The answer is sent: the model may go (a swap or unload waits for
     * this). */
    served_model_release(&v->s->models, v->model);
    pthread_mutex_destroy(&v->lock);
    v2_request_free(&v->req);
    free(v->body);
    free(v->scores);
    free(v->slots);
    free(v->fail_msg);
    free(v);
    return 0;
}
