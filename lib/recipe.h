/* Internal: the preprocessing recipe a model carries, "imgclass.json" in
 * the TorchScript archive's extra files (tools/export_model.py writes it;
 * docs/preprocessing.md describes the format). */
#ifndef IMGCLASS_RECIPE_H
#define IMGCLASS_RECIPE_H

#include "imgclass.h"
#include "labels.h"

#include <stddef.h>

/* The extra file's name inside the archive (extra/imgclass.json). */
#define IC_RECIPE_FILE "imgclass.json"
/* The largest recipe accepted (ImageNet's 1000 labels take ~25 KiB). */
#define IC_RECIPE_MAX_BYTES ((size_t)16 << 20)

typedef struct ic_recipe {
    imgclass_preprocess_options options; /* validated by ic_options_check() */
    ic_labels *labels;                   /* NULL when the recipe has none */
    char *json;                          /* the text as stored, NUL-terminated */
} ic_recipe;

/* Parses and validates `size` bytes at `data`. A malformed recipe is
 * IMGCLASS_ERR_MODEL with a message naming `source` and the field, e.g.
 * "m.pt: invalid model: recipe imgclass.json: field \"crop\": expected
 * [height, width] of non-negative integers". Out of memory is
 * IMGCLASS_ERR_OUT_OF_MEMORY. */
imgclass_status ic_recipe_parse(const char *data, size_t size, const char *source,
                                ic_recipe **out);

/* The fixed output size of the recipe's options (its crop, or its exact
 * resize without a crop); 0 when it depends on the image. */
int ic_recipe_input_size(const ic_recipe *recipe, int *height, int *width);

void ic_recipe_free(ic_recipe *recipe);

#endif
