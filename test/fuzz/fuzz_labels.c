/* Fuzz target for label parsing: text (plain and ImageNet synset lines),
 * TorchServe JSON, either gzipped; with and without an expected class
 * count (the first byte picks it). A status, never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>

#include "labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int expected = size > 0 ? data[0] % 8 : 0; /* 0: any count */
    ic_labels *labels = NULL;
    if (ic_labels_parse_expect(data, size, "fuzz", expected, &labels) == IMGCLASS_OK) {
        if (!labels || labels->count <= 0 || (expected && labels->count > expected))
            abort();
        for (int i = 0; i < labels->count; i++)
            if (!labels->label[i])
                abort();
        ic_labels_free(labels);
    }
    return 0;
}
