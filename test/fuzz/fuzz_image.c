/* Fuzz target for the public image calls: imgclass_image_load_memory()
 * (every decoder, whole image) and imgclass_preprocess_memory() (the fused
 * path: JPEG region decoding, resampling, normalisation), with the
 * library's default limits. Any bytes: a status, never a crash. */
#include <stdint.h>
#include <stdlib.h>

#include "imgclass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    imgclass_decode_options dopt = imgclass_decode_options_default();
    dopt.max_pixels = 4000000; /* keeps each run short; the other limits as shipped */
    imgclass_image *image = NULL;
    if (imgclass_image_load_memory(data, size, &dopt, &image) == IMGCLASS_OK) {
        size_t stride;
        const uint8_t *px = imgclass_image_pixels(image, &stride);
        volatile unsigned sum = 0; /* ASan checks the whole extent */
        for (int y = 0; y < imgclass_image_height(image); y++)
            sum += px[(size_t)y * stride + (size_t)imgclass_image_width(image) * 3 - 1];
        imgclass_image_free(image);
    }
    static imgclass_batch *batch; /* one 3 x 64 x 64 slot, reused */
    if (!batch && imgclass_batch_create(1, 64, 64, &batch) != IMGCLASS_OK)
        return 0;
    imgclass_preprocess_options popt = imgclass_preprocess_options_default();
    popt.resize_size = 72;
    popt.crop_width = popt.crop_height = 64;
    popt.fast = size > 0 && (data[size - 1] & 1); /* both exact and reduced-scale paths */
    dopt.exif_transpose = size > 1 && (data[size - 2] & 1); /* EXIF walk and transposition */
    (void)imgclass_preprocess_memory(data, size, &dopt, &popt, batch, 0);
    return 0;
}
