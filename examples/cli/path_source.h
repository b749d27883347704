/* The stream of input paths of `imgclass classify`: the command-line
 * arguments in order, each folder expanded in place (dir_walk.h), and for
 * the argument "-" the paths read from standard input, one per line (or per
 * NUL byte with delim '\0'), handed out as soon as each line is complete.
 *
 * Reading standard input waits with poll() for at most the time left before
 * a deadline, so the caller can cut a half-full batch on time while the
 * writer is silent. A line that names a folder is expanded like an
 * argument. Empty lines are skipped; other bytes are kept as they are. */
#ifndef IMGCLASS_CLI_PATH_SOURCE_H
#define IMGCLASS_CLI_PATH_SOURCE_H

#include <stdint.h>

#include "clock.h"

typedef struct path_source path_source;

enum {
    PATH_SOURCE_ITEM = 1,    /* *path (and maybe *error) filled */
    PATH_SOURCE_TIMEOUT = 0, /* the deadline passed with nothing to hand out */
    PATH_SOURCE_END = -1,    /* every input consumed */
    PATH_SOURCE_FAIL = -2    /* out of memory */
};

/* `args` must outlive the source. `stdin_fd` is the descriptor "-" reads
 * (0 in the program; a pipe in tests). NULL when out of memory. */
path_source *path_source_new(char **args, int nargs, int stdin_fd, char delim);

/* The number of paths in total when known in advance (no "-"), else -1. */
long path_source_total(const path_source *s);

/* The next input. `deadline_ns` is a clock_mono_ns() instant, or -1 to wait
 * as long as needed. On PATH_SOURCE_ITEM, *path is a new string the caller
 * frees, and *error is NULL, or a new string when this input already failed
 * (an unreadable folder, a failed read of standard input). */
int path_source_next(path_source *s, int64_t deadline_ns, char **path, char **error);

void path_source_free(path_source *s);

#endif
