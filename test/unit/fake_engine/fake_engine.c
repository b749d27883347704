/* A stand-in engine module for test/unit/test_engine_loader.c: pure C, no
 * libtorch, so the loader's search, ABI check and dispatch are tested
 * quickly and under every sanitizer. Built three ways by the Makefile:
 *   fake_engine.so           a good module (this ABI);
 *   fake_engine_abi999.so    -DFAKE_ENGINE_ABI=999, a module of another ABI;
 *   fake_engine_no_entry.so  -DFAKE_ENGINE_NO_ENTRY, a shared object that is
 *                            no engine module at all.
 * Its model: any archive; 5 classes; the scores of image i are
 * (k + 1) / 15 + input[i][0] for class k, so a test can tell the scores came
 * through the table. An archive containing "FAIL" is refused with a message
 * sent through the host, as a real engine reports a bad model. */
#include "engine_abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FAKE_ENGINE_ABI
#define FAKE_ENGINE_ABI IC_ENGINE_ABI_VERSION
#endif

#define FAKE_CLASSES 5

struct ic_engine {
    size_t per_image; /* floats in one input image */
};

static const ic_engine_host *host;
static int threads = 1;

static int contains(const void *data, size_t size, const char *needle)
{
    size_t n = strlen(needle);
    const char *p = data;
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(p + i, needle, n) == 0)
            return 1;
    return 0;
}

static imgclass_status fake_load(const void *data, size_t size, const char *source,
                                 const ic_engine_config *config, ic_engine **out,
                                 int *num_classes)
{
    char message[256];
    if (contains(data, size, "FAIL")) {
        snprintf(message, sizeof message, "%s: %s: the fake engine refuses this archive",
                 source ? source : "memory buffer", host->status_str(IMGCLASS_ERR_MODEL));
        host->set_error(message);
        return IMGCLASS_ERR_MODEL;
    }
    ic_engine *e = malloc(sizeof *e);
    if (!e) {
        host->set_error("fake engine: out of memory");
        return IMGCLASS_ERR_OUT_OF_MEMORY;
    }
    e->per_image = (size_t)config->input_channels * config->input_height * config->input_width;
    *out = e;
    *num_classes = FAKE_CLASSES;
    return IMGCLASS_OK;
}

static imgclass_status fake_forward(const ic_engine *engine, const float *input, size_t count,
                                    float *out)
{
    for (size_t i = 0; i < count; i++)
        for (int k = 0; k < FAKE_CLASSES; k++)
            out[i * FAKE_CLASSES + k] = (float)(k + 1) / 15.0f + input[i * engine->per_image];
    return IMGCLASS_OK;
}

static void fake_free(ic_engine *engine)
{
    free(engine);
}

static void fake_describe(const ic_engine *engine, ic_engine_description *out)
{
    (void)engine;
    out->quantized = 0;
    out->qengine = NULL;
    out->optimize = 0;
    out->bfloat16 = 0;
}

static void fake_alloc_stats(ic_engine_alloc_stats *out)
{
    memset(out, 0, sizeof *out);
}

static imgclass_status fake_set_num_threads(int n)
{
    threads = n;
    return IMGCLASS_OK;
}

static int fake_get_num_threads(void)
{
    return threads;
}

static void fake_parallel(size_t n, ic_engine_task_fn fn, void *ctx)
{
    for (size_t i = 0; i < n; i++)
        fn(ctx, i);
}

/* The fake's forward passes use no threads; it only records the request. */
static void fake_set_thread_team(int n)
{
    (void)n;
}

static const char *fake_version(void)
{
    return "fake engine 1";
}

static const ic_engine_module table = {
    .abi_version = FAKE_ENGINE_ABI,
    .built_for = IMGCLASS_VERSION,
    .load = fake_load,
    .forward = fake_forward,
    .free = fake_free,
    .set_num_threads = fake_set_num_threads,
    .get_num_threads = fake_get_num_threads,
    .version = fake_version,
    .describe = fake_describe,
    .alloc_stats = fake_alloc_stats,
    .parallel = fake_parallel,
    .set_thread_team = fake_set_thread_team,
};

#ifdef FAKE_ENGINE_NO_ENTRY
__attribute__((visibility("default"))) const ic_engine_module *
not_an_engine(const ic_engine_host *h)
#else
__attribute__((visibility("default"))) const ic_engine_module *
imgclass_engine_module(const ic_engine_host *h)
#endif
{
    host = h;
    return &table;
}
