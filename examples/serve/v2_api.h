/* The Open Inference Protocol (KServe v2) REST API on the inference
 * address, beside TorchServe's: server and model metadata, liveness and
 * readiness, and inference (the bodies are v2_json.h's).
 *
 * Inference. A BYTES input's images are submitted to the model's pipeline,
 * as /predictions submits its one image, so they are batched with every
 * other request's; the connection is suspended until the last of them is
 * delivered (server.h says why suspended, not threaded). An FP32 input is a
 * batch already preprocessed: it bypasses the pipeline's preprocessing and
 * batching and runs as one imgclass_predict() on the tensor worker, a
 * thread of its own, so the polling thread never runs a forward pass.
 *
 * Readiness: /v2/health/live answers 200 whenever the server answers at
 * all; /v2/health/ready and a model's /ready answer 200 once every model
 * given at start-up is loaded and warm (server.h's `ready`), 503 before and
 * while draining. */
#ifndef IMGCLASS_SERVE_V2_API_H
#define IMGCLASS_SERVE_V2_API_H

#include "router.h"
#include "server.h"

#include <microhttpd.h>

/* Starts the tensor worker: 0, or -1 after printing why. */
int v2_api_start(server *s);
/* Answers every tensor request still queued with 503 and joins the worker.
 * Call before the daemon stops (their connections are resumed). */
void v2_api_stop(server *s);

/* Answers a v2 GET route (server metadata, health, model metadata and
 * readiness); the status sent goes to *status. */
enum MHD_Result v2_api_get(server *s, struct MHD_Connection *c, const route *rt, int *status);

/* An error in the protocol's shape, {"error": message}. */
enum MHD_Result v2_api_error(server *s, struct MHD_Connection *c, int code, const char *message,
                             const char *allow, int close, int *status);

/* One infer request, owned by the connection's request (http_api.c). */
typedef struct v2_infer v2_infer;

/* The first call of POST .../infer: checks what the headers allow and
 * either answers (an error; *out stays NULL) or returns MHD_YES with the
 * request in *out, whose body and end go to v2_infer_step(). */
enum MHD_Result v2_infer_begin(server *s, struct MHD_Connection *c, const route *rt,
                               v2_infer **out, int *status);
/* Every later call of the handler for this request. */
enum MHD_Result v2_infer_step(v2_infer *v, const char *data, size_t *size, int *status);
/* Frees the request when the connection is done with it; -1 (and frees
 * nothing) while a result is still due, which server_stop()'s ordering
 * prevents. */
int v2_infer_free(v2_infer *v);

#endif
