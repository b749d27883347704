/* Internal: imgclass_filter (score threshold, allow/deny list) resolved
 * against one model, and the top-k selection that applies it. */
#ifndef IMGCLASS_FILTER_H
#define IMGCLASS_FILTER_H

#include "imgclass.h"

typedef struct ic_filter {
    int has_threshold;
    float threshold;
    /* num_classes flags, 1 = may be reported; NULL when no list was given
     * (every class may). Owned. */
    unsigned char *eligible;
} ic_filter;

/* Checks `filter` (NULL: none) against `model` and resolves its labels to
 * class indices. `who` names the calling function in messages. On failure
 * *out is left empty (safe to release). */
imgclass_status ic_filter_compile(const imgclass_model *model, const imgclass_filter *filter,
                                  const char *who, ic_filter *out);

void ic_filter_release(ic_filter *filter);

/* The k best eligible classes of `scores` with score >= the threshold,
 * best first, in out[0..return value). k >= 1 (already clamped). Labels
 * from `model` (may be NULL). Ranking as imgclass_topk(). */
int ic_filter_topk(const imgclass_model *model, const ic_filter *filter, const float *scores,
                   int num_classes, int k, imgclass_class *out);

/* The topk option of classify / pipeline as a count: -1 -> num_classes,
 * otherwise clamped to num_classes; -2 for an invalid value (0, < -1). */
int ic_filter_resolve_topk(int topk, int num_classes);

#endif
