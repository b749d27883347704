/* imgclass: the command-line program, a client of the public API only.
 * This file only dispatches to the subcommands. */
#include "commands.h"

#include <imgclass.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

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
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "imgclass: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 1;
}
