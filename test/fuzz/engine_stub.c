/* A stand-in for lib/engine_torch.cpp in the model fuzz target: the fuzzer
 * explores everything before libtorch (which is not built for fuzzing) and
 * this refuses every archive that gets that far, checking it starts like a
 * zip as model.c promises. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"

imgclass_status ic_engine_load(const void *data, size_t size, const char *source,
                               const ic_engine_config *config, ic_engine **out, int *num_classes)
{
    (void)config, (void)num_classes;
    if (size < 4 || memcmp(data, "PK\003\004", 4) != 0)
        abort(); /* model.c must not pass anything else on */
    *out = NULL;
    return ic_fail(IMGCLASS_ERR_MODEL, source, "(fuzz stub engine)");
}

imgclass_status ic_engine_start(const char *source)
{
    (void)source;
    return IMGCLASS_OK;
}

int ic_engine_started(void)
{
    return 1;
}

void ic_engine_free(ic_engine *engine)
{
    (void)engine;
}

imgclass_status ic_engine_set_num_threads(int n)
{
    (void)n;
    return IMGCLASS_OK;
}

int ic_engine_get_num_threads(void)
{
    return 1;
}

const char *ic_engine_version(void)
{
    return "fuzz stub";
}

/* Never reached (the stub refuses every model), but model.c links to it. */
void ic_engine_describe(const ic_engine *engine, ic_engine_description *out)
{
    (void)engine;
    memset(out, 0, sizeof *out);
}

/* Never reached either: the serve_v2 target links predict.c for
 * imgclass_topk(), which sits beside imgclass_predict(). */
imgclass_status ic_engine_forward(const ic_engine *engine, const float *input, size_t count,
                                  float *out)
{
    (void)engine, (void)input, (void)count, (void)out;
    abort();
}

/* Never reached: the stub loads no model, so no pipeline runs; pipeline_run.c
 * links to it. */
void ic_engine_parallel(size_t n, ic_engine_task_fn fn, void *ctx)
{
    for (size_t i = 0; i < n; i++)
        fn(ctx, i);
}
