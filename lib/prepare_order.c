/* Largest first (longest processing time first): the team's threads take a
 * round's images in this order, so the last ones to start are the shortest
 * and the threads end the round close together. The round waits for its
 * last image, and the forward pass for the round: on 2 CPUs this took the
 * round of 8 photos from ~6.1 to ~5.8 ms (docs/engine.md, "Thread
 * budget"). */
#include "prepare_order.h"

#include <sys/stat.h>

#include "image_internal.h"

uint64_t ic_prepare_cost(const imgclass_input *in)
{
    struct stat st;
    switch (in->kind) {
    case IMGCLASS_INPUT_PATH:
        return in->path && stat(in->path, &st) == 0 && st.st_size > 0 ? (uint64_t)st.st_size : 0;
    case IMGCLASS_INPUT_MEMORY:
        return in->size;
    case IMGCLASS_INPUT_IMAGE:
        return in->image ? (uint64_t)in->image->width * (uint64_t)in->image->height * 3u / 10u
                         : 0;
    }
    return 0;
}

void ic_order_largest_first(const uint64_t *cost, size_t *order, size_t n)
{
    /* n is at most a batch: an insertion sort, stable */
    for (size_t i = 0; i < n; i++) {
        size_t k = i;
        for (; k > 0 && cost[order[k - 1]] < cost[i]; k--)
            order[k] = order[k - 1];
        order[k] = i;
    }
}
