/* Internal: the small C interface between the library and an inference
 * engine. lib/engine_torch.cpp implements it with libtorch; it is the only
 * C++ file, so a second engine could be added beside it without touching the
 * public API. Every engine function reports failures through ic_error()
 * (status + message) and never lets an exception or a crash escape. */
#ifndef IMGCLASS_ENGINE_H
#define IMGCLASS_ENGINE_H

#include "imgclass.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ic_engine ic_engine;

/* What the engine needs to load a model; validated by the caller
 * (lib/model.c) except where the engine alone can tell (device support). */
typedef struct ic_engine_config {
    int device_is_cuda;   /* 0: CPU, 1: CUDA device `device_index` */
    int device_index;
    int input_channels;   /* the model's input, C x H x W */
    int input_height;
    int input_width;
    int softmax;          /* apply softmax over the classes after forward */
    unsigned optimize;    /* IMGCLASS_OPTIMIZE_* flags */
    int warmup_runs;      /* extra forward passes after the shape check */
    /* An extra file of the archive to read (torch.jit.save's _extra_files;
     * NULL: none), handed to on_extra_file after the archive is read and
     * before the shape check: data is its content, NULL when the archive
     * lacks it. The callback may set *height and *width (the input size of
     * the shape check and of every forward pass), which start as
     * input_height and input_width. A status other than IMGCLASS_OK, with
     * its ic_error() message, aborts the load. */
    const char *extra_file;
    imgclass_status (*on_extra_file)(void *ctx, const char *data, size_t size, int *height,
                                     int *width);
    void *extra_ctx;
    const char *qengine;  /* quantized engine for an int8 model: "onednn",
                           * "qnnpack", or NULL to choose (lib/engine_torch.cpp) */
    int precision;        /* imgclass_precision, checked by the caller; ignored
                           * for a quantized model */
    /* With precision bf16 on the CPU: what the CPU lacks for native bf16
     * (lib/cpu_features.h), NULL when it has it. A float model is then
     * refused with IMGCLASS_ERR_UNSUPPORTED and this phrase; a quantized
     * one, which ignores the precision, loads. */
    const char *bf16_missing;
    /* The model cache (docs/engine.md, "Cold start"; lib/model_cache.c).
     * cached: the archive of a checked entry an earlier load made with the
     * same key (NULL: none), the frozen module to start from in place of
     * the model's archive; a load that cannot use it goes on from the
     * archive and says so (ic_engine_description.cache_refused).
     * on_cache_entry (NULL: no cache): called once the load has succeeded
     * with the archive of a new entry, when the load froze a float model
     * from its archive and that entry reproduces the load's graph; the
     * archive is valid during the call only. */
    const void *cached;
    size_t cached_size;
    void (*on_cache_entry)(void *ctx, const void *data, size_t size);
    void *cache_ctx;
} ic_engine_config;

/* What a load did with the model cache (ic_engine_description.cache). */
enum {
    IC_ENGINE_CACHE_OFF = 0,  /* no cache asked for */
    IC_ENGINE_CACHE_HIT = 1,  /* started from config->cached */
    IC_ENGINE_CACHE_MADE = 2, /* on_cache_entry was called */
    IC_ENGINE_CACHE_NONE = 3  /* asked, but no entry: cache_note says why */
};

/* What the engine made of a loaded model, for the imgclass_model_* queries. */
typedef struct ic_engine_description {
    int quantized;        /* the model runs quantized (int8) operators */
    const char *qengine;  /* the quantized engine running it ("onednn"), NULL
                           * for a float model; static */
    unsigned optimize;    /* the IMGCLASS_OPTIMIZE_* flags actually applied */
    int bfloat16;         /* the weights and compute are bfloat16 (precision
                           * bf16, or the IMGCLASS_OPTIMIZE_BFLOAT16 flag) */
    /* What ic_engine_load() spent on each step, in milliseconds: reading
     * the archive (torch::jit::load, the recipe's extra file), the
     * optimisation passes, the shape check, the warm-up passes. */
    double deserialize_ms, optimize_ms, check_ms, warmup_ms;
    int cache;              /* IC_ENGINE_CACHE_* */
    int cache_refused;      /* config->cached was given but could not be used */
    const char *cache_note; /* why no entry (NONE), or why the given one was
                             * refused; NULL otherwise; valid while the
                             * engine lives */
    double cache_entry_ms;  /* making and checking the new entry */
    double freeze_ms;       /* torch::jit::freeze, within optimize_ms */
} ic_engine_description;

/* Loads an uncompressed TorchScript archive from `size` bytes at `data` (read
 * only during the call). `source` names it in error messages. Runs a forward
 * pass on a zero batch of 2 to check the output is [2, K] and stores K in
 * *num_classes. Errors: IMGCLASS_ERR_MODEL (not a model, corrupt, wrong
 * shapes), IMGCLASS_ERR_DEVICE, IMGCLASS_ERR_OUT_OF_MEMORY,
 * IMGCLASS_ERR_ENGINE. */
imgclass_status ic_engine_load(const void *data, size_t size, const char *source,
                               const ic_engine_config *config, ic_engine **out,
                               int *num_classes);

/* Runs `count` inputs of C x H x W float32 at `input` (read, never written)
 * and writes count x K float32 scores to `out`. Thread-safe on one engine:
 * the engine's state is read-only after load. */
imgclass_status ic_engine_forward(const ic_engine *engine, const float *input, size_t count,
                                  float *out);

void ic_engine_free(ic_engine *engine);

/* Starts the engine (for the module: loads it, which runs libtorch's
 * initialisers) unless it has started; ic_engine_load() does it too, this
 * lets a caller time it or start it early. Thread-safe. Errors name
 * `source`. */
imgclass_status ic_engine_start(const char *source);

/* 1 once the engine has started. Thread-safe. */
int ic_engine_started(void);

/* Fills *out for a loaded engine; never fails. */
void ic_engine_describe(const ic_engine *engine, ic_engine_description *out);

/* The forward pass's allocation cache (lib/engine_torch.cpp, "The forward
 * pass's allocation cache"): process-wide figures, for tests and
 * diagnostics. */
typedef struct ic_engine_alloc_stats {
    int installed;        /* the cache is libtorch's CPU allocator */
    int users;            /* models alive (or loading) that use it */
    size_t cap_bytes;     /* the most its free lists hold */
    /* Allocations in forward passes served from the free lists (hits) and
     * from the system (misses); blocks freed past the cap (dropped). */
    unsigned long long hits, misses, dropped;
    size_t held_bytes, held_blocks; /* free blocks held now */
    size_t live_blocks;   /* blocks it made that are in use now */
} ic_engine_alloc_stats;

/* Fills *out; all zero before the engine has started. Never fails. */
void ic_engine_alloc_cache_stats(ic_engine_alloc_stats *out);

/* The engine's process-wide intra-op thread pool. */
imgclass_status ic_engine_set_num_threads(int n);
int ic_engine_get_num_threads(void);

/* Calls fn(ctx, i) once for every i in 0..n-1, on the calling thread and
 * the threads of its intra-op team (libtorch's OpenMP team: the threads
 * that run its forward passes), each taking the next i as it finishes the
 * last, so uneven tasks balance. Returns when every call has returned. The
 * pipeline prepares a batch this way between forward passes where the
 * engine's threads use every CPU (lib/pipeline_run.c, docs/engine.md "Thread
 * budget"). fn must not throw or longjmp; it may block. */
typedef void (*ic_engine_task_fn)(void *ctx, size_t i);
void ic_engine_parallel(size_t n, ic_engine_task_fn fn, void *ctx);

/* Sets the size of the calling thread's own intra-op team (n >= 1): its
 * forward passes and ic_engine_parallel() use n threads from now on, other
 * threads keep theirs. The pipeline's engine lanes call it, each on its own
 * thread (lib/pipeline_run.c, docs/engine.md "Engine lanes"). */
void ic_engine_set_thread_team(int n);

/* "libtorch 1.13.0"; static. */
const char *ic_engine_version(void);

#ifdef __cplusplus
}
#endif

#endif
