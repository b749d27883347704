/* Fuzz target for model loading up to the point where libtorch is called:
 * content sniffing (gzip, zip magic), gzip inflation under the size and
 * ratio limits, option checks. Linked with engine_stub.c instead of
 * libtorch: the stub records that the archive reached the engine and
 * refuses it, so every input must end in a status and nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imgclass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imgclass_model_options o = imgclass_model_options_default();
    o.max_model_bytes = 16u << 20;
    imgclass_model *m = NULL;
    if (imgclass_model_load_memory(data, size, &o, &m) == IMGCLASS_OK)
        abort(); /* the stub engine never accepts */
    if (m)
        abort();
    return 0;
}
