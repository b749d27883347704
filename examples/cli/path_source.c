/* Input paths from arguments, folders and standard input; see path_source.h. */
#include "path_source.h"

#include "dir_walk.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct path_source {
    char **args;
    int nargs, next_arg;
    walk_list queue; /* expanded paths not handed out yet */
    size_t queue_pos;
    long total;
    /* standard input, while an argument "-" is being read */
    int stdin_fd, reading_stdin;
    char delim;
    char *buf;
    size_t len, cap, scan; /* bytes held; bytes already searched for delim */
    int eof;
};

/* Appends one argument (file or folder) to the queue. */
static int expand(path_source *s, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
        return dir_walk(arg, &s->queue);
    /* Files, and paths that do not exist (they fail when decoded). */
    if (s->queue.count == s->queue.cap) {
        size_t cap = s->queue.cap ? s->queue.cap * 2 : 64;
        walk_entry *items = realloc(s->queue.items, cap * sizeof *items);
        if (!items)
            return -1;
        s->queue.items = items;
        s->queue.cap = cap;
    }
    char *p = strdup(arg);
    if (!p)
        return -1;
    s->queue.items[s->queue.count].path = p;
    s->queue.items[s->queue.count].error = NULL;
    s->queue.count++;
    return 0;
}

path_source *path_source_new(char **args, int nargs, int stdin_fd, char delim)
{
    path_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->args = args;
    s->nargs = nargs;
    s->stdin_fd = stdin_fd;
    s->delim = delim;
    s->total = -1;
    int streaming = 0;
    for (int i = 0; i < nargs; i++)
        if (!strcmp(args[i], "-"))
            streaming = 1;
    if (!streaming) {
        /* Everything is known now: expand it all, so a progress bar has a total. */
        for (int i = 0; i < nargs; i++) {
            if (expand(s, args[i])) {
                path_source_free(s);
                return NULL;
            }
        }
        s->next_arg = nargs;
        s->total = (long)s->queue.count;
    }
    return s;
}

long path_source_total(const path_source *s)
{
    return s->total;
}

static int pop_queue(path_source *s, char **path, char **error)
{
    walk_entry *e = &s->queue.items[s->queue_pos++];
    *path = e->path;
    *error = e->error;
    e->path = e->error = NULL;
    if (s->queue_pos == s->queue.count) {
        walk_list_free(&s->queue);
        s->queue_pos = 0;
    }
    return PATH_SOURCE_ITEM;
}

/* Takes one complete line out of the buffer, or returns 0 when there is none
 * (at end of input the rest counts as a line). */
static int take_line(path_source *s, char **line, int *empty)
{
    /* (memchr on the NULL buffer of a source that read nothing is UB.) */
    char *nl = s->len > s->scan ? memchr(s->buf + s->scan, s->delim, s->len - s->scan) : NULL;
    size_t n;
    if (nl) {
        n = (size_t)(nl - s->buf);
    } else if (s->eof && s->len > 0) {
        n = s->len;
    } else {
        s->scan = s->len;
        return 0;
    }
    *empty = n == 0;
    *line = NULL;
    if (!*empty) {
        *line = malloc(n + 1);
        if (!*line)
            return -1;
        memcpy(*line, s->buf, n);
        (*line)[n] = '\0';
    }
    size_t used = nl ? n + 1 : n;
    memmove(s->buf, s->buf + used, s->len - used);
    s->len -= used;
    s->scan = 0;
    return 1;
}

/* Reads what standard input has, waiting until the deadline at most.
 * 1: something read or end reached; 0: timed out; -1: out of memory. */
static int fill(path_source *s, int64_t deadline_ns)
{
    for (;;) {
        int timeout = -1;
        if (deadline_ns >= 0) {
            int64_t left = deadline_ns - clock_mono_ns();
            if (left <= 0)
                return 0;
            timeout = (int)((left + 999999) / 1000000); /* round up: never cut early */
        }
        struct pollfd p = {s->stdin_fd, POLLIN, 0};
        int r = poll(&p, 1, timeout);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return 0;
        if (s->cap - s->len < 4096) {
            size_t cap = s->cap ? s->cap * 2 : 8192;
            char *b = realloc(s->buf, cap);
            if (!b)
                return -1;
            s->buf = b;
            s->cap = cap;
        }
        ssize_t n = read(s->stdin_fd, s->buf + s->len, s->cap - s->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            s->eof = 1; /* end of input, or a read error: treated as the end */
        else
            s->len += (size_t)n;
        return 1;
    }
}

int path_source_next(path_source *s, int64_t deadline_ns, char **path, char **error)
{
    for (;;) {
        if (s->queue_pos < s->queue.count)
            return pop_queue(s, path, error);
        if (s->reading_stdin) {
            char *line;
            int empty;
            int r = take_line(s, &line, &empty);
            if (r < 0)
                return PATH_SOURCE_FAIL;
            if (r > 0) {
                if (empty)
                    continue;
                int rc = expand(s, line);
                free(line);
                if (rc)
                    return PATH_SOURCE_FAIL;
                continue;
            }
            if (s->eof) {
                s->reading_stdin = 0;
                s->eof = 0;
                s->len = s->scan = 0;
                continue;
            }
            r = fill(s, deadline_ns);
            if (r < 0)
                return PATH_SOURCE_FAIL;
            if (r == 0)
                return PATH_SOURCE_TIMEOUT;
            continue;
        }
        if (s->next_arg >= s->nargs)
            return PATH_SOURCE_END;
        const char *arg = s->args[s->next_arg++];
        if (!strcmp(arg, "-")) {
            s->reading_stdin = 1;
            continue;
        }
        if (expand(s, arg))
            return PATH_SOURCE_FAIL;
    }
}

void path_source_free(path_source *s)
{
    if (!s)
        return;
    walk_list_free(&s->queue);
    free(s->buf);
    free(s);
}
