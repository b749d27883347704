/* Which files under the input folder are new inputs, and when.
 *
 * At start every file already under the folder (recursively) is taken.
 * After that, with inotify, a file is taken when a writer closes it after
 * writing (IN_CLOSE_WRITE) or renames it into the tree (IN_MOVED_TO); new
 * sub-folders are watched and their files taken; an event queue overflow
 * rescans everything. Without inotify (or with polling asked for) the tree
 * is walked every poll interval and a file is taken once its size and
 * modification time are the same on two walks in a row.
 * Files found by walking are skipped while some process still has them open
 * for writing (a read lease cannot be taken then); inotify reports them when
 * that writer closes them.
 * Never taken: names starting with '.' (and everything below such a
 * folder), names ending in ".tmp", and files that are neither named nor
 * shaped like an image (dir_walk.h's rules). Taking a file twice is
 * harmless: the caller deduplicates by key (journal.h). */
#ifndef IMGCLASS_WATCH_INPUT_WATCH_H
#define IMGCLASS_WATCH_INPUT_WATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct path_list {
    char **items; /* owned */
    int64_t *found_ns; /* the monotonic instant each was found (the backlog's age) */
    size_t count, cap;
} path_list;

/* Appends a copy of path, found now. 0, or -1 out of memory. */
int path_list_push(path_list *list, const char *path);
void path_list_clear(path_list *list);
void path_list_free(path_list *list);

typedef enum watch_mode {
    WATCH_INOTIFY, /* inotify, polling when it is not available */
    WATCH_POLL,    /* polling only */
    WATCH_NONE     /* only what is there at start (--once) */
} watch_mode;

typedef struct input_watch input_watch;

/* Starts watching `root` (a folder) and appends the files already there to
 * `found`. *mode_used receives the mode in effect. NULL when out of
 * memory or when root cannot be read (message on stderr). */
input_watch *input_watch_start(const char *root, watch_mode mode, int poll_ms, path_list *found,
                               watch_mode *mode_used);

/* The file descriptor to wait on for readability (inotify), or -1. */
int input_watch_fd(const input_watch *w);
/* Milliseconds until the next poll is due (0: now), or -1 when not
 * polling. */
int input_watch_timeout_ms(const input_watch *w);

/* Appends what has arrived since the last call: reads pending inotify
 * events, or walks the tree when a poll is due. 0, or -1 when out of
 * memory. */
int input_watch_collect(input_watch *w, path_list *found);

/* 1 when the name alone rules the file out: a dot-name at or below root,
 * or a name ending in ".tmp". */
int input_name_ignored(const char *root, const char *path);

void input_watch_free(input_watch *w);

#endif
