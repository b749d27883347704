/* Fuzz target for gzip inflation (models and labels): any bytes give a
 * status; output never exceeds the absolute limit or the ratio guard. */
#include <stdint.h>
#include <stdlib.h>

#include "gzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const size_t limit = 8u << 20;
    const unsigned ratio = 32;
    unsigned char *out = NULL;
    size_t out_size = 0;
    if (ic_gunzip(data, size, limit, ratio, "fuzz", &out, &out_size) == IMGCLASS_OK) {
        if (!out || out_size > limit || out_size > size * ratio + (1u << 20))
            abort();
        free(out);
    } else if (out) {
        abort(); /* nothing handed out on failure */
    }
    return 0;
}
