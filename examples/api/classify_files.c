/* classify_files: the README's first example as a complete program.
 *
 * Shows the shortest way through the library: load a TorchScript model and
 * its labels, classify a few image files in one call, print each file's
 * best class or the reason it failed, free everything.
 *
 *   classify_files MODEL.pt LABELS.txt IMAGE...
 *
 * Build: cc classify_files.c $(pkg-config --cflags --libs imgclass) */
#include <imgclass.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.pt LABELS.txt IMAGE...\n", argv[0]);
        return 2;
    }
    imgclass_model *model;
    if (imgclass_model_load(argv[1], NULL, &model) != IMGCLASS_OK) {
        fprintf(stderr, "%s\n", imgclass_last_error());
        return 1;
    }
    if (imgclass_model_load_labels(model, argv[2]) != IMGCLASS_OK) {
        fprintf(stderr, "%s\n", imgclass_last_error());
        imgclass_model_free(model);
        return 1;
    }

    /* One input per file; the library decodes, preprocesses and runs them
     * as one batch, and reports each file's failure on its own. */
    size_t n = (size_t)argc - 3;
    imgclass_input *inputs = calloc(n, sizeof *inputs);
    if (!inputs) {
        fprintf(stderr, "out of memory\n");
        imgclass_model_free(model);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        inputs[i] = (imgclass_input){.struct_size = sizeof(imgclass_input), .kind = IMGCLASS_INPUT_PATH, .path = argv[3 + i]};

    imgclass_results *res;
    int failed = 0;
    if (imgclass_classify(model, inputs, n, NULL, &res) != IMGCLASS_OK) {
        fprintf(stderr, "%s\n", imgclass_last_error()); /* the call itself failed */
        free(inputs);
        imgclass_model_free(model);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        int k;
        const imgclass_class *top = imgclass_results_top(res, i, &k);
        if (k > 0) {
            printf("%s: %s (%.4f)\n", inputs[i].path, top[0].label ? top[0].label : "?",
                   top[0].score);
        } else {
            printf("%s: error: %s\n", inputs[i].path, imgclass_results_error(res, i));
            failed++;
        }
    }
    imgclass_results_free(res);
    free(inputs);
    imgclass_model_free(model);
    return failed ? 1 : 0;
}
