/* The models the server serves: a table from name to the entry now served
 * under it, each entry one loaded model and one imgclass_pipeline. The
 * pipeline does all the batching across requests; the HTTP layer only
 * submits and receives.
 *
 * The table changes at run time (the management API, management_api.h):
 * a model can be registered, swapped for another under the same name, or
 * unloaded. So an entry is reference counted: a request takes a reference
 * (served_models_acquire) before it submits and drops it when it is
 * answered (served_model_release); the table holds one more. Swapping
 * loads and warms the new entry beside the old, then replaces the old one
 * in the table under the lock (new requests get the new one at once),
 * drops the table's reference and waits until the requests that hold the
 * old one are answered, then frees it. Unloading is the same without a
 * replacement. The waiting and the freeing happen on the caller's thread
 * (the management API's), never on a request-serving thread. */
#ifndef IMGCLASS_SERVE_SERVED_MODELS_H
#define IMGCLASS_SERVE_SERVED_MODELS_H

#include "serve_config.h"

#include <imgclass.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

/* Receives each image's result (from the pipeline's engine thread);
 * result->user is what was given to imgclass_pipeline_submit(). */
typedef void (*served_result_fn)(const imgclass_pipeline_result *result);

typedef struct served_model {
    const char *name, *path, *labels; /* owned by the entry */
    const char *version;              /* "1.0" at start-up; see served_models_register() */
    const char *precision;            /* as registered ("bf16"); NULL: --precision's */
    int loaded_at_startup;
    imgclass_model *model;
    imgclass_pipeline *pipeline; /* NULL once stopped */
    int num_classes, channels, height, width;
    int batch, max_batch_delay_ms, queue;
    int has_labels;
    served_result_fn deliver;
    _Atomic int max_batch_seen; /* the largest batch a request ran in */
    int refs;                   /* guarded by the table's lock */
    /* The v2 API's (v2_api.c): infer requests, and FP32 tensor images run
     * outside the pipeline with their summed latency, for /metrics. */
    _Atomic uint64_t v2_requests, v2_tensor_images, v2_tensor_us;
} served_model;

/* What the table remembers of every name it ever served, loaded or not:
 * the lifecycle counters and where the model came from (for a v2
 * repository load of an unloaded name). */
typedef struct served_record {
    char *name, *path, *labels, *version, *precision;
    uint64_t loads, unloads;
    int loaded;
} served_record;

#define SERVE_MAX_RECORDS 64

typedef struct served_models {
    served_model *items[SERVE_MAX_MODELS]; /* served now; guarded by lock */
    int count;
    served_record records[SERVE_MAX_RECORDS];
    int num_records;
    pthread_mutex_t lock;      /* the table, the counts and each entry's refs */
    pthread_cond_t released;   /* an entry's refs dropped to 0 */
    pthread_mutex_t admin;     /* one register or unload at a time */
    const serve_config *cfg;
    served_result_fn deliver;
    int initialized;
} served_models;

/* A model to register at run time. */
typedef struct served_model_spec {
    const char *name, *path, *labels; /* labels may be NULL */
    const char *version;              /* NULL: the next free one ("2.0", ...) */
    int batch, max_batch_delay_ms;    /* < 0: the command line's */
    const char *precision;            /* "float32" or "bf16"; NULL: the command line's */
} served_model_spec;

/* Why served_models_register() or _unload() failed. */
typedef enum served_error {
    SERVED_OK = 0,
    SERVED_NOT_FOUND,  /* no such model */
    SERVED_CONFLICT,   /* that version is the one served already */
    SERVED_FULL,       /* SERVE_MAX_MODELS served already */
    SERVED_LOAD_FAILED /* the model did not load (the message says why) */
} served_error;

/* Loads every --model and starts its pipeline. On failure prints
 * "imgclass-serve: reason" and returns -1 with nothing left open. */
int served_models_open(served_models *set, const serve_config *cfg, served_result_fn deliver);

/* The entry served as name[0..len) with a reference taken, or NULL. Every
 * reader of an entry (/predictions, v2, the management API, /metrics)
 * holds one while it uses it: there is no borrowed lookup, since the
 * management API may swap or unload the name at any moment. */
served_model *served_models_acquire(served_models *set, const char *name, size_t len);
/* Drops a reference taken by _acquire() or _snapshot(). */
void served_model_release(served_models *set, served_model *m);
/* Every entry served now, a reference taken on each (at most max);
 * returns how many. Release each. */
int served_models_snapshot(served_models *set, served_model **out, int max);

/* Loads spec's model (the same way as at start-up: the model's recipe with
 * the command line's options on top), warms it, starts its pipeline, then
 * serves it under spec->name. When the name is served already, the old
 * entry is replaced atomically, its requests finish on it, and it is
 * freed once they have; *replaced is set to 1 then. Blocks the caller for
 * the load and the drain; requests keep flowing meanwhile. The message
 * (msg, n bytes) says why on failure. */
served_error served_models_register(served_models *set, const served_model_spec *spec,
                                    int *replaced, char *msg, size_t n);
/* Stops serving name[0..len): new requests get 404 at once, those in
 * flight are answered, then the model is freed before this returns. */
served_error served_models_unload(served_models *set, const char *name, size_t len, char *msg,
                                  size_t n);

/* A copy of the records, taken under the lock; returns how many. */
int served_models_records(served_models *set, served_record *out, int max);
/* Frees what served_models_records() copied. */
void served_records_free(served_record *records, int n);

/* Frees every pipeline: each delivers what it accepted first, so every
 * submitted request gets its result before this returns. */
void served_models_stop(served_models *set);
/* Stops what still runs, then frees the models. */
void served_models_close(served_models *set);

#endif
