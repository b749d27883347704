/* Internal: the layout of imgclass_model, shared by loading (model.c),
 * prediction (predict.c) and classification (classify.c). */
#ifndef IMGCLASS_MODEL_INTERNAL_H
#define IMGCLASS_MODEL_INTERNAL_H

#include "engine.h"
#include "labels.h"
#include "recipe.h"

struct imgclass_model {
    ic_engine *engine;
    int channels, height, width; /* the input the model runs with */
    int num_classes;
    int softmax;
    char device[24]; /* "cpu", "cuda:0" */
    ic_labels *labels; /* NULL without labels */
    ic_recipe *recipe; /* imgclass.json from the archive; NULL without one */
};

/* The largest model archive accepted after gzip decompression. */
#define IC_MODEL_MAX_BYTES ((size_t)4 << 30)

#endif
