/* imgclass: the command-line program, a client of the public API only.
 * This file only dispatches to the subcommands. */
#include "commands.h"

#include <imgclass.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Sanitizers report leaks and races from exit handlers: keep those. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IC_EXIT_HANDLERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IC_EXIT_HANDLERS 1
#endif
#endif

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"classify", cmd_classify, "classify image files, folders or a stream of paths"},
    {"preprocess", cmd_preprocess, "write the preprocessed tensor batch as a .npy file"},
    {"info", cmd_info, "show a model's input size, classes, device and versions"},
    {"bench", cmd_bench, "measure decode, preprocess, predict and end-to-end speed"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: imgclass COMMAND [OPTIONS] ...\n\n"
                 "Image classification with TorchScript models, with the same answers as\n"
                 "the PyTorch (torchvision + Pillow) reference pipeline.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'imgclass COMMAND --help' documents each command; see also imgclass(1).\n"
                 "  --version   print the version and exit\n");
}

/* A command has done its work (its objects freed, its outputs checked):
 * the process ends without the exit handlers. Once a model was loaded
 * those are libtorch's static destructors, which deregister its thousands
 * of operators one by one: ~90 ms of a one-photo classify on a 2-core VM
 * (docs/engine.md, "Cold start"), for nothing, the process being gone a
 * moment later. The standard streams are flushed first, as exit() would. */
static int finish(int status)
{
#ifndef IC_EXIT_HANDLERS
    /* A write that only fails now (a full disk under a redirected stdout)
     * fails the command, as a lost record must. */
    if (fflush(NULL) != 0 && status == 0) {
        perror("imgclass: flushing the output");
        status = 1;
    }
    _exit(status);
#endif
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("imgclass %s (%s)\n", imgclass_version(), imgclass_engine_version());
        return 0;
    }
    /* Past a file size limit (ulimit -f), a write fails with EFBIG and is
     * reported like a full disk (every output is checked), instead of
     * SIGXFSZ killing the process in the middle of a record. */
    signal(SIGXFSZ, SIG_IGN);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return finish(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "imgclass: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 1;
}
