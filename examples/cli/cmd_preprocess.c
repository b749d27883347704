/* imgclass preprocess: decode and preprocess image files exactly as the
 * model input, and write them as one float32 [N, 3, H, W] .npy file, for
 * comparison with the Python reference or for use elsewhere. */
#include "cli_args.h"
#include "commands.h"
#include "model_open.h"
#include "npy.h"
#include "pp_options.h"

#include <imgclass.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROG "imgclass preprocess"

static void help(FILE *out)
{
    fputs("usage: imgclass preprocess [OPTIONS] [--model M.pt] --npy OUT.npy FILE...\n\n"
          "Decodes and preprocesses each FILE as the model input and writes them all\n"
          "as one C-order float32 array of shape [N, 3, H, W] in NumPy's .npy format.\n"
          "With --model, what that model would be fed: its recipe (imgclass.json)\n"
          "when it carries one, with the options below on top, field by field, as\n"
          "imgclass classify does. Without --model (or with a model that has no\n"
          "recipe), the imagenet preset, which gives the same float32 bits as\n"
          "torchvision's\n"
          "Normalize(ToTensor(CenterCrop(224)(Resize(256)(Image.open(f).convert(\"RGB\"))))).\n\n"
          "  --npy PATH           the .npy file to write (required)\n"
          "  -m, --model PATH     preprocess as this model is fed (loads it)\n"
          "  -h, --help           show this help\n\n",
          out);
    pp_args_help(out);
    fputs("\nA file that cannot be read or decoded is reported on stderr with the\n"
          "reason and skipped: the array then holds only the images that succeeded,\n"
          "in command-line order (N counts them; stderr says how many were left out),\n"
          "and the exit status is 2. Exit status 1: usage error or the output could\n"
          "not be written. The array is written to a temporary file beside OUT.npy\n"
          "and renamed over it only when complete: on any failure, or SIGINT/SIGTERM,\n"
          "OUT.npy is left as it was. An OUT.npy that is one of the input files (also\n"
          "through a symbolic or hard link) is refused before anything is read.\n",
          out);
}

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

/* Where the array is written before it replaces the target: a new file
 * beside it (same folder, so rename() is atomic), or the target itself
 * when that is not a regular file (/dev/stdout, a pipe), which cannot be
 * replaced. *temp_path is malloc'd, or NULL when writing in place. */
static FILE *open_output(const char *npy_path, char **temp_path)
{
    *temp_path = NULL;
    struct stat st;
    if (stat(npy_path, &st) == 0 && !S_ISREG(st.st_mode))
        return fopen(npy_path, "wb");
    const char *slash = strrchr(npy_path, '/');
    size_t dir_len = slash ? (size_t)(slash - npy_path) + 1 : 0;
    const char *base = npy_path + dir_len;
    size_t n = dir_len + strlen(base) + sizeof ".tmp.XXXXXX" + 1;
    char *tmp = malloc(n);
    if (!tmp)
        return NULL;
    snprintf(tmp, n, "%.*s.%s.tmp.XXXXXX", (int)dir_len, npy_path, base);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        errno = e;
        return NULL;
    }
    /* mkstemp makes it 0600; a finished array gets the usual 0666 & ~umask. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        errno = e;
        return NULL;
    }
    *temp_path = tmp;
    return f;
}

/* 1 (after saying so) when the output is one of the inputs: the same file
 * by device and inode, so also through a symbolic or hard link. The array
 * would replace that input: the user asked for something else. An output
 * that does not exist yet cannot be an input. */
static int output_is_an_input(const char *npy_path, char **files, int nfiles)
{
    struct stat out;
    if (stat(npy_path, &out) != 0)
        return 0;
    for (int i = 0; i < nfiles; i++) {
        struct stat in;
        if (stat(files[i], &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
            fprintf(stderr,
                    "%s: %s: the output is input file %d (%s); refusing to replace an input "
                    "with the array (name another --npy)\n",
                    PROG, npy_path, i + 1, files[i]);
            return 1;
        }
    }
    return 0;
}

/* Streams one slot at a time, so memory does not grow with the file
 * count; the header is rewritten with the final N at the end. The array
 * goes to a temporary file renamed over `npy_path` only once it is whole
 * and flushed to disk: a full disk, a write error or a signal leaves the
 * old target as it was and no partial array. */
static int run(const char *npy_path, char **files, int nfiles,
               const imgclass_decode_options *dopts, const imgclass_preprocess_options *opts,
               int height, int width)
{
    imgclass_batch *batch = NULL;
    if (imgclass_batch_create(1, height, width, &batch) != IMGCLASS_OK) {
        fprintf(stderr, "%s: %s\n", PROG, imgclass_last_error());
        return 1;
    }
    char *temp = NULL;
    FILE *f = open_output(npy_path, &temp);
    if (!f) {
        fprintf(stderr, "%s: %s: cannot create: %s\n", PROG, npy_path, strerror(errno));
        imgclass_batch_free(batch);
        return 1;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    size_t shape[4] = {0, 3, (size_t)height, (size_t)width};
    const size_t floats = 3 * (size_t)height * (size_t)width;
    size_t ok = 0, failed = 0;
    int write_errno = 0;
    if (npy_write_header_f32(f, shape, 4) != 0)
        write_errno = errno ? errno : EIO;
    for (int i = 0; i < nfiles && !write_errno && !stop_signal; i++) {
        if (imgclass_preprocess_file(files[i], dopts, opts, batch, 0) != IMGCLASS_OK) {
            fprintf(stderr, "%s: %s\n", PROG, imgclass_last_error());
            failed++;
            continue;
        }
        if (fwrite(imgclass_batch_data_const(batch), sizeof(float), floats, f) != floats)
            write_errno = errno ? errno : EIO;
        ok++;
    }
    shape[0] = ok;
    if (!write_errno && !stop_signal &&
        (fseek(f, 0, SEEK_SET) != 0 || npy_write_header_f32(f, shape, 4) != 0 || fflush(f) != 0 ||
         (temp && fsync(fileno(f)) != 0)))
        write_errno = errno ? errno : EIO;
    if (fclose(f) != 0 && !write_errno)
        write_errno = errno ? errno : EIO;
    if (temp && !write_errno && !stop_signal && rename(temp, npy_path) != 0)
        write_errno = errno ? errno : EIO;
    int failed_write = write_errno || stop_signal;
    if (temp && failed_write)
        unlink(temp);
    free(temp);
    imgclass_batch_free(batch);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (stop_signal) {
        fprintf(stderr, "%s: %s: interrupted by signal %d; nothing written\n", PROG, npy_path,
                (int)stop_signal);
        return 128 + (int)stop_signal;
    }
    if (write_errno) {
        fprintf(stderr, "%s: %s: write failed: %s; nothing written\n", PROG, npy_path,
                strerror(write_errno));
        return 1;
    }
    if (failed) {
        fprintf(stderr, "%s: %zu of %d files failed; %s holds the other %zu, in order\n", PROG,
                failed, nfiles, npy_path, ok);
        return 2;
    }
    return 0;
}

enum { OPT_NPY = CLI_CODE_LONG };

static const char short_options[] = CLI_SHORT_PREFIX "hm:";
static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"npy", required_argument, NULL, OPT_NPY},
    {"model", required_argument, NULL, 'm'},
    PP_ARGS_LONG_OPTIONS,
    {NULL, 0, NULL, 0},
};

int cmd_preprocess(int argc, char **argv)
{
    pp_args pa = pp_args_init();
    const char *npy_path = NULL, *model_path = NULL;
    char **files = calloc((size_t)argc + 1, sizeof *files);
    int nfiles = 0, status = 1, c;
    if (!files) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    cli_getopt_begin();
    while ((c = cli_getopt(argc, argv, short_options, long_options, PROG)) != CLI_END) {
        if (c == CLI_ERROR)
            goto done;
        if (c == CLI_OPERAND) {
            files[nfiles++] = optarg;
        } else if (c == 'h') {
            help(stdout);
            status = 0;
            goto done;
        } else if (c == OPT_NPY) {
            npy_path = optarg;
        } else if (c == 'm') {
            model_path = optarg;
        } else if (pp_args_option(&pa, c, optarg, PROG) <= 0) {
            goto done; /* a bad value (printed); every other code is one of pp's */
        }
    }
    while (optind < argc) /* after "--" */
        files[nfiles++] = argv[optind++];
    if (!npy_path || !*npy_path || nfiles == 0) {
        fprintf(stderr, "%s: needs --npy OUT.npy and at least one image file (see --help)\n",
                PROG);
        goto done;
    }
    if (output_is_an_input(npy_path, files, nfiles))
        goto done;
    imgclass_preprocess_options opts;
    int height, width;
    if (model_path) {
        /* The one way a model's preprocessing is settled (model_open.c). */
        imgclass_model *model = cli_model_open_pp(PROG, model_path, NULL, NULL, &pa, &opts);
        if (!model)
            goto done;
        imgclass_model_free(model);
    } else if (pp_args_finish(&pa, &opts, PROG) != 0) {
        goto done;
    }
    if (pp_fixed_output_size(&opts, &height, &width, PROG) != 0)
        goto done;
    imgclass_decode_options dopts = pp_args_decode(&pa);
    status = run(npy_path, files, nfiles, &dopts, &opts, height, width);
done:
    free(files);
    return status;
}
