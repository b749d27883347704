/* Internal: what imgclass_classify() needs of the pipeline it runs on,
 * beyond the public API. */
#ifndef IMGCLASS_PIPELINE_INTERNAL_H
#define IMGCLASS_PIPELINE_INTERNAL_H

#include "imgclass.h"

#include <stddef.h>

/* How an internal caller's pipeline differs from a public one. */
typedef struct ic_pipeline_hooks {
    /* 0: options whose output size cannot fit the model are not refused at
     * creation; each image then fails on its own (imgclass_classify()'s
     * contract: only bad arguments fail the call). */
    int check_output_size;
    /* Names an input that is not a path in its messages (e.g. "input 3"
     * for the index of an imgclass_classify() input); NULL: "input <seq>". */
    void (*name_input)(void *user, char *buf, size_t size);
} ic_pipeline_hooks;

/* imgclass_pipeline_create() with `hooks` (NULL: as the public call). */
imgclass_status ic_pipeline_create(const imgclass_model *model,
                                   const imgclass_pipeline_options *options,
                                   const ic_pipeline_hooks *hooks, imgclass_pipeline **out);

/* IMGCLASS_OK, or the status of the first forward pass that failed, with
 * its message copied into `buf` (size bytes). Thread-safe. */
imgclass_status ic_pipeline_engine_failure(const imgclass_pipeline *pipeline, char *buf,
                                           size_t size);

#endif
