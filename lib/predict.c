/* imgclass_predict (a batch through the engine) and imgclass_topk. */
#include "model_internal.h"

#include "batch_internal.h"
#include "error.h"

#include <math.h>
#include <stdint.h>

IMGCLASS_API imgclass_status imgclass_predict(const imgclass_model *model,
                                              const imgclass_batch *batch, float *out,
                                              size_t out_count)
{
    if (!model || !batch || !out)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_predict: invalid argument: NULL %s",
                        !model ? "model" : !batch ? "batch" : "out");
    if (batch->count == 0)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT,
                        "imgclass_predict: invalid argument: empty batch");
    /* Batches always hold 3 channels. */
    if (model->channels != 3 || batch->height != model->height || batch->width != model->width)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT,
                        "imgclass_predict: invalid argument: batch of 3 x %d x %d images, the "
                        "model takes %d x %d x %d",
                        batch->height, batch->width, model->channels, model->height,
                        model->width);
    size_t k = (size_t)model->num_classes;
    if (batch->count > SIZE_MAX / k || out_count < batch->count * k)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT,
                        "imgclass_predict: invalid argument: output holds %zu floats, %zu x %zu "
                        "needed",
                        out_count, batch->count, k);
    return ic_engine_forward(model->engine, batch->data, batch->count, out);
}

/* Ranking: larger scores first; NaN ranks below every number (a NaN score
 * is never "best" while a real one exists); equal scores, and NaNs among
 * themselves, go to the lower index. */
static int ranks_before(float a, int ia, float b, int ib)
{
    int a_nan = isnan(a), b_nan = isnan(b);
    if (a_nan != b_nan)
        return b_nan;
    if (!a_nan && a != b)
        return a > b;
    return ia < ib;
}

IMGCLASS_API imgclass_status imgclass_topk(const imgclass_model *model, const float *scores,
                                           int num_classes, int k, imgclass_class *out,
                                           int *out_k)
{
    if (!scores || !out || !out_k)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_topk: invalid argument: NULL %s",
                        !scores ? "scores" : !out ? "out" : "out_k");
    if (num_classes <= 0 || k <= 0)
        return ic_error(IMGCLASS_ERR_INVALID_ARGUMENT,
                        "imgclass_topk: invalid argument: k = %d, num_classes = %d (both must be "
                        ">= 1)",
                        k, num_classes);
    if (k > num_classes)
        k = num_classes;
    /* Insertion into the sorted prefix out[0..n): O(num_classes * k), no
     * allocation; scanning in index order keeps ties stable. */
    int n = 0;
    for (int i = 0; i < num_classes; i++) {
        float s = scores[i];
        if (n == k && !ranks_before(s, i, out[n - 1].probability, out[n - 1].index))
            continue;
        int pos = n < k ? n : k - 1;
        while (pos > 0 && ranks_before(s, i, out[pos - 1].probability, out[pos - 1].index)) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos].index = i;
        out[pos].probability = s;
        if (n < k)
            n++;
    }
    for (int j = 0; j < n; j++) {
        out[j].label = imgclass_model_label(model, out[j].index);
        out[j].id = imgclass_model_label_id(model, out[j].index);
    }
    *out_k = n;
    return IMGCLASS_OK;
}
