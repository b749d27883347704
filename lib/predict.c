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
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_predict", "NULL %s",
                       !model ? "model" : !batch ? "batch" : "out");
    if (batch->count == 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_predict", "empty batch");
    /* Batches always hold 3 channels. */
    if (model->channels != 3 || batch->height != model->height || batch->width != model->width)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_predict",
                       "batch of 3 x %d x %d images, the model takes %d x %d x %d", batch->height,
                       batch->width, model->channels, model->height, model->width);
    size_t k = (size_t)model->num_classes;
    if (batch->count > SIZE_MAX / k || out_count < batch->count * k)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_predict",
                       "output holds %zu floats, %zu x %zu needed", out_count, batch->count, k);
    return ic_engine_forward(model->engine, batch->data, batch->count, out);
}

int ic_first_non_finite(const float *scores, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(scores[i]))
            return i;
    return -1;
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

/* Puts `c` at the root of the heap out[0..n) (worst at the root) and
 * moves it down to its place. */
static void sift_down(imgclass_class *out, int n, imgclass_class c)
{
    int at = 0;
    for (;;) {
        int worst = -1, l = 2 * at + 1, r = l + 1;
        const imgclass_class *w = &c;
        if (l < n && ranks_before(w->score, w->index, out[l].score, out[l].index))
            worst = l, w = &out[l];
        if (r < n && ranks_before(w->score, w->index, out[r].score, out[r].index))
            worst = r, w = &out[r];
        if (worst < 0)
            break;
        out[at] = out[worst];
        at = worst;
    }
    out[at] = c;
}

IMGCLASS_API imgclass_status imgclass_topk(const imgclass_model *model, const float *scores,
                                           int num_classes, int k, imgclass_class *out,
                                           int *out_k)
{
    if (!scores || !out || !out_k)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_topk", "NULL %s",
                       !scores ? "scores" : !out ? "out" : "out_k");
    if (num_classes <= 0 || k <= 0)
        return ic_fail(IMGCLASS_ERR_INVALID_ARGUMENT, "imgclass_topk",
                       "k = %d, num_classes = %d (both must be >= 1)", k, num_classes);
    if (k > num_classes)
        k = num_classes;
    *out_k = ic_topk_select(model, scores, num_classes, k, NULL, 0, 0.0f, out);
    return IMGCLASS_OK;
}

int ic_topk_select(const imgclass_model *model, const float *scores, int num_classes, int k,
                   const unsigned char *eligible, int has_threshold, float threshold,
                   imgclass_class *out)
{
    /* A heap of the k best so far in out[0..n), the worst at the root:
     * O(num_classes * log k) and no allocation (200,000 classes with
     * k = 100,000 was 22 s per image by insertion). Then an in-place heap
     * sort puts them best first. ranks_before is a strict total order
     * (ties go to the lower index), so the result is the same as a stable
     * sort. */
    int n = 0;
    for (int i = 0; i < num_classes; i++) {
        if ((eligible && !eligible[i]) || (has_threshold && !(scores[i] >= threshold)))
            continue;
        imgclass_class c = {i, scores[i], NULL, NULL};
        if (n < k) {
            int at = n++;
            while (at > 0 && ranks_before(out[(at - 1) / 2].score, out[(at - 1) / 2].index,
                                          c.score, c.index)) {
                out[at] = out[(at - 1) / 2];
                at = (at - 1) / 2;
            }
            out[at] = c;
        } else if (ranks_before(c.score, c.index, out[0].score, out[0].index)) {
            sift_down(out, n, c);
        }
    }
    for (int end = n - 1; end > 0; end--) {
        imgclass_class worst = out[0];
        sift_down(out, end, out[end]);
        out[end] = worst;
    }
    for (int j = 0; j < n; j++) {
        out[j].label = imgclass_model_label(model, out[j].index);
        out[j].id = imgclass_model_label_id(model, out[j].index);
    }
    return n;
}
