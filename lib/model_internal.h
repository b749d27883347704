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
    ic_engine_description described; /* quantized?, its engine, flags applied */
    ic_labels *labels; /* NULL without labels */
    ic_recipe *recipe; /* imgclass.json from the archive; NULL without one */
    double load_ms[IMGCLASS_LOAD_FREEZE + 1]; /* per imgclass_load_step */
    char cache_state[256]; /* imgclass_model_cache_state() */
};

/* The first of n scores that is NaN or infinite, or -1: such an image has
 * no answer (imgclass_classify and the pipeline fail it). */
int ic_first_non_finite(const float *scores, int n);

/* The k (>= 1, <= num_classes) best of `scores`, best first, skipping
 * classes whose `eligible` flag is 0 (eligible may be NULL) and, with
 * has_threshold, scores below `threshold` (NaN included). Returns how many
 * were written to `out`. The one ranking behind imgclass_topk() and the
 * filtered results of classify and the pipeline. */
int ic_topk_select(const imgclass_model *model, const float *scores, int num_classes, int k,
                   const unsigned char *eligible, int has_threshold, float threshold,
                   imgclass_class *out);

#endif
