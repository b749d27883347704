/* imgclass_filter: the score threshold and the allow/deny list of classify
 * and the pipeline, resolved to one flag per class before any image runs,
 * so applying it costs one test per class in the top-k scan. */
#include "filter.h"

#include "error.h"
#include "model_internal.h"
#include "struct_size.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

IMGCLASS_API imgclass_status imgclass_filter_init(imgclass_filter *filter, size_t size)
{
    imgclass_filter f;
    memset(&f, 0, sizeof f);
    f.score_threshold = -INFINITY;
    return ic_struct_init(&ic_layout_filter, filter, size, &f);
}

void ic_filter_release(ic_filter *filter)
{
    if (!filter)
        return;
    free(filter->eligible);
    memset(filter, 0, sizeof *filter);
}

int ic_filter_resolve_topk(int topk, int num_classes)
{
    if (topk == IMGCLASS_TOPK_ALL)
        return num_classes;
    if (topk < 1)
        return -2;
    return topk < num_classes ? topk : num_classes;
}

/* Sets eligible[c] = value for every listed class. A label may name
 * several classes (ImageNet has two "crane" and two "maillot"): all of
 * them are listed. */
static imgclass_status mark(const imgclass_model *model, const char *who, const char *list,
                            const int *indices, size_t nindices, const char *const *labels,
                            size_t nlabels, unsigned char *eligible, unsigned char value)
{
    int nc = model->num_classes;
    if ((nindices > 0 && !indices) || (nlabels > 0 && !labels))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, who, "%s list has a count but a NULL array",
                       list);
    for (size_t i = 0; i < nindices; i++) {
        if (indices[i] < 0 || indices[i] >= nc)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, who,
                           "%s list has class %d; the model has classes 0..%d", list, indices[i],
                           nc - 1);
        eligible[indices[i]] = value;
    }
    if (nlabels > 0 && !model->labels)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, who,
                       "%s list names labels but the model has none (load labels, or give class "
                       "indices)",
                       list);
    for (size_t i = 0; i < nlabels; i++) {
        if (!labels[i])
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, who, "%s list has a NULL label at %zu",
                           list, i);
        int found = 0;
        for (int c = 0; c < nc; c++) {
            const char *label = model->labels->label[c], *id = model->labels->id[c];
            if (strcmp(label, labels[i]) == 0 || (id && strcmp(id, labels[i]) == 0)) {
                eligible[c] = value;
                found = 1;
            }
        }
        if (!found)
            return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, who,
                           "%s list names \"%s\", which is no label or id of the model", list,
                           labels[i]);
    }
    return IMGCLASS_OK;
}

imgclass_status ic_filter_compile(const imgclass_model *model, const imgclass_filter *filter,
                                  const char *who, ic_filter *out)
{
    memset(out, 0, sizeof *out);
    if (!filter)
        return IMGCLASS_OK;
    if (isnan(filter->score_threshold))
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, who, "score_threshold is NaN");
    int allow = filter->allow_index_count > 0 || filter->allow_label_count > 0;
    int deny = filter->deny_index_count > 0 || filter->deny_label_count > 0;
    if (allow && deny)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, who,
                       "an allow list and a deny list were both given; use one");
    out->has_threshold = filter->score_threshold > -INFINITY;
    out->threshold = filter->score_threshold;
    if (!allow && !deny)
        return IMGCLASS_OK;
    unsigned char *eligible = malloc((size_t)model->num_classes);
    if (!eligible)
        return ic_error_oom(who, "the class filter");
    memset(eligible, deny ? 1 : 0, (size_t)model->num_classes);
    imgclass_status st =
        allow ? mark(model, who, "the allow", filter->allow_indices, filter->allow_index_count,
                     filter->allow_labels, filter->allow_label_count, eligible, 1)
              : mark(model, who, "the deny", filter->deny_indices, filter->deny_index_count,
                     filter->deny_labels, filter->deny_label_count, eligible, 0);
    if (st != IMGCLASS_OK) {
        free(eligible);
        out->has_threshold = 0;
        return st;
    }
    out->eligible = eligible;
    return IMGCLASS_OK;
}

int ic_filter_topk(const imgclass_model *model, const ic_filter *filter, const float *scores,
                   int num_classes, int k, imgclass_class *out)
{
    return ic_topk_select(model, scores, num_classes, k, filter ? filter->eligible : NULL,
                          filter ? filter->has_threshold : 0, filter ? filter->threshold : 0.0f,
                          out);
}
