/* imgclass preprocess: decode and preprocess image files exactly as the
 * model input, and write them as one float32 [N, 3, H, W] .npy file, for
 * comparison with the Python reference or for use elsewhere. */
#include "commands.h"
#include "npy.h"
#include "pp_options.h"

#include <imgclass.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "imgclass preprocess"

static void help(FILE *out)
{
    fputs("usage: imgclass preprocess [OPTIONS] --npy OUT.npy FILE...\n\n"
          "Decodes and preprocesses each FILE as the model input and writes them all\n"
          "as one C-order float32 array of shape [N, 3, H, W] in NumPy's .npy format.\n"
          "The default recipe gives the same float32 bits as torchvision's\n"
          "Normalize(ToTensor(CenterCrop(224)(Resize(256)(Image.open(f).convert(\"RGB\"))))).\n\n"
          "  --npy PATH           the .npy file to write (required)\n"
          "  -h, --help           show this help\n\n",
          out);
    pp_args_help(out);
    fputs("\nA file that cannot be read or decoded is reported on stderr with the\n"
          "reason and skipped: the array then holds only the images that succeeded,\n"
          "in command-line order (N counts them; stderr says how many were left out),\n"
          "and the exit status is 2. Exit status 1: usage error or the output could\n"
          "not be written.\n",
          out);
}

/* Streams one slot at a time, so memory does not grow with the file
 * count; the header is rewritten with the final N at the end. */
static int run(const char *npy_path, char **files, int nfiles,
               const imgclass_preprocess_options *opts, int height, int width)
{
    imgclass_batch *batch = NULL;
    if (imgclass_batch_create(1, height, width, &batch) != IMGCLASS_OK) {
        fprintf(stderr, "%s: %s\n", PROG, imgclass_last_error());
        return 1;
    }
    FILE *f = fopen(npy_path, "wb");
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", PROG, npy_path, strerror(errno));
        imgclass_batch_free(batch);
        return 1;
    }
    size_t shape[4] = {0, 3, (size_t)height, (size_t)width};
    const size_t floats = 3 * (size_t)height * (size_t)width;
    size_t ok = 0, failed = 0;
    int io_error = npy_write_header_f32(f, shape, 4) != 0;
    for (int i = 0; i < nfiles && !io_error; i++) {
        if (imgclass_preprocess_file(files[i], NULL, opts, batch, 0) != IMGCLASS_OK) {
            fprintf(stderr, "%s: %s\n", PROG, imgclass_last_error());
            failed++;
            continue;
        }
        if (fwrite(imgclass_batch_data_const(batch), sizeof(float), floats, f) != floats)
            io_error = 1;
        ok++;
    }
    shape[0] = ok;
    if (!io_error)
        io_error = fseek(f, 0, SEEK_SET) != 0 || npy_write_header_f32(f, shape, 4) != 0;
    if (fclose(f) != 0)
        io_error = 1;
    imgclass_batch_free(batch);
    if (io_error) {
        fprintf(stderr, "%s: %s: write failed: %s\n", PROG, npy_path, strerror(errno));
        return 1;
    }
    if (failed) {
        fprintf(stderr, "%s: %zu of %d files failed; %s holds the other %zu, in order\n", PROG,
                failed, nfiles, npy_path, ok);
        return 2;
    }
    return 0;
}

int cmd_preprocess(int argc, char **argv)
{
    pp_args pa = pp_args_init();
    const char *npy_path = NULL;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int nfiles = 0, status = 1, only_files = 0;
    if (!files) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || !strcmp(a, "-")) {
            files[nfiles++] = argv[i++];
            continue;
        }
        if (!strcmp(a, "--")) {
            only_files = 1;
            i++;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            status = 0;
            goto done;
        }
        if (!strcmp(a, "--npy") || !strncmp(a, "--npy=", 6)) {
            if (a[5] == '=') {
                npy_path = a + 6;
                i++;
            } else if (i + 1 < argc) {
                npy_path = argv[i + 1];
                i += 2;
            } else {
                fprintf(stderr, "%s: --npy needs a file name\n", PROG);
                goto done;
            }
            continue;
        }
        int r = pp_args_parse(&pa, argc, argv, &i, PROG);
        if (r < 0)
            goto done;
        if (r == 0) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", PROG, a);
            goto done;
        }
    }
    if (!npy_path || !*npy_path || nfiles == 0) {
        fprintf(stderr, "%s: needs --npy OUT.npy and at least one image file (see --help)\n",
                PROG);
        goto done;
    }
    imgclass_preprocess_options opts;
    int height, width;
    if (pp_args_finish(&pa, &opts, PROG) != 0 ||
        pp_fixed_output_size(&opts, &height, &width, PROG) != 0)
        goto done;
    status = run(npy_path, files, nfiles, &opts, height, width);
done:
    free(files);
    return status;
}
