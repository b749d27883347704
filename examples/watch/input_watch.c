/* Input discovery; the rules are in input_watch.h. */
#define _GNU_SOURCE /* F_SETLEASE */
#include "input_watch.h"

#include "clock.h"
#include "dir_walk.h"
#include "key_set.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "imgclass-watch"

struct input_watch {
    char *root;
    watch_mode mode;
    int fd;        /* inotify, or -1 */
    char **wd_path; /* folder of each watch descriptor (index: wd) */
    int wd_cap;
    int poll_ms;
    int64_t next_poll; /* monotonic ms */
    key_set seen;      /* polling: "path size mtime" of the previous walk */
};

/* ---- path lists ------------------------------------------------------------ */

int path_list_push(path_list *list, const char *path)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        char **items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        int64_t *found = realloc(list->found_ns, cap * sizeof *found);
        if (!found)
            return -1;
        list->found_ns = found;
        list->cap = cap;
    }
    if (!(list->items[list->count] = strdup(path)))
        return -1;
    list->found_ns[list->count] = clock_mono_ns();
    list->count++;
    return 0;
}

void path_list_clear(path_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    list->count = 0;
}

void path_list_free(path_list *list)
{
    path_list_clear(list);
    free(list->items);
    free(list->found_ns);
    list->items = NULL;
    list->found_ns = NULL;
    list->cap = 0;
}

/* ---- filters ---------------------------------------------------------------- */

static int64_t now_ms(void)
{
    return clock_mono_ns() / 1000000;
}

int input_name_ignored(const char *root, const char *path)
{
    size_t rl = strlen(root);
    const char *rel = !strncmp(path, root, rl) ? path + rl : path;
    for (const char *p = rel; *p; p++)
        if (*p == '.' && (p == rel || p[-1] == '/'))
            return 1; /* a dotfile, or below a dot-folder */
    size_t n = strlen(path);
    return n >= 4 && !strcasecmp(path + n - 4, ".tmp");
}

/* 1 while some process has the file open for writing: a read lease is
 * refused then (EAGAIN). Where leases are not allowed (not the owner, no
 * CAP_LEASE, some file systems) it cannot tell and says 0. */
static int being_written(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int busy = 0;
    if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
        (void)fcntl(fd, F_SETLEASE, F_UNLCK);
    else if (errno == EAGAIN)
        busy = 1;
    close(fd);
    return busy;
}

/* Walks `dir` and appends its image files that are not being written. */
static int walk_into(const input_watch *w, const char *dir, path_list *found)
{
    walk_list list = {0};
    if (dir_walk(dir, &list)) {
        walk_list_free(&list);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < list.count && rc == 0; i++) {
        const walk_entry *e = &list.items[i];
        if (e->error) {
            fprintf(stderr, PROG ": warning: %s\n", e->error);
            continue;
        }
        if (input_name_ignored(w->root, e->path) || being_written(e->path))
            continue;
        rc = path_list_push(found, e->path);
    }
    walk_list_free(&list);
    return rc;
}

/* ---- inotify ---------------------------------------------------------------- */

#define DIR_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR)

static int remember_wd(input_watch *w, int wd, const char *dir)
{
    if (wd >= w->wd_cap) {
        int cap = w->wd_cap ? w->wd_cap : 64;
        while (cap <= wd)
            cap *= 2;
        char **p = realloc(w->wd_path, (size_t)cap * sizeof *p);
        if (!p)
            return -1;
        memset(p + w->wd_cap, 0, (size_t)(cap - w->wd_cap) * sizeof *p);
        w->wd_path = p;
        w->wd_cap = cap;
    }
    char *copy = strdup(dir);
    if (!copy)
        return -1;
    free(w->wd_path[wd]);
    w->wd_path[wd] = copy; /* a folder moved in the tree gets its new path */
    return 0;
}

/* Watches `dir` and every folder below it (not dot-folders, not through
 * links). 0, or -1 when out of memory. */
static int watch_tree(input_watch *w, const char *dir)
{
    int wd = inotify_add_watch(w->fd, dir, DIR_EVENTS);
    if (wd < 0) {
        fprintf(stderr, PROG ": warning: cannot watch %s: %s%s\n", dir, strerror(errno),
                errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
        return 0;
    }
    if (remember_wd(w, wd, dir))
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *sub = malloc(n);
        if (!sub) {
            rc = -1;
            break;
        }
        snprintf(sub, n, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            rc = watch_tree(w, sub);
        free(sub);
    }
    closedir(d);
    return rc;
}

static int handle_event(input_watch *w, const struct inotify_event *ev, path_list *found)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        fprintf(stderr, PROG ": inotify queue overflowed; rescanning %s\n", w->root);
        return watch_tree(w, w->root) || walk_into(w, w->root, found) ? -1 : 0;
    }
    if (ev->wd < 0 || ev->wd >= w->wd_cap || !w->wd_path[ev->wd])
        return 0;
    if (ev->mask & IN_IGNORED) { /* the folder is gone */
        free(w->wd_path[ev->wd]);
        w->wd_path[ev->wd] = NULL;
        return 0;
    }
    if (!ev->len || ev->name[0] == '.')
        return 0;
    const char *dir = w->wd_path[ev->wd];
    size_t n = strlen(dir) + strlen(ev->name) + 2;
    char *path = malloc(n);
    if (!path)
        return -1;
    snprintf(path, n, "%s/%s", dir, ev->name);
    int rc = 0;
    if (ev->mask & IN_ISDIR) {
        /* A new folder: watch it first, then take what is already in it,
         * so nothing written in between is missed. */
        if (ev->mask & (IN_CREATE | IN_MOVED_TO))
            rc = watch_tree(w, path) || walk_into(w, path, found) ? -1 : 0;
    } else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
        if (!input_name_ignored(w->root, path) &&
            (has_image_extension(path) || has_image_signature(path)))
            rc = path_list_push(found, path);
    }
    free(path);
    return rc;
}

static int read_events(input_watch *w, path_list *found)
{
    char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                fprintf(stderr, PROG ": warning: reading inotify events: %s\n", strerror(errno));
            return 0;
        }
        if (n == 0)
            return 0;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (handle_event(w, ev, found))
                return -1;
            p += sizeof *ev + ev->len;
        }
    }
}

/* ---- polling ------------------------------------------------------------------- */

static int poll_walk(input_watch *w, path_list *found)
{
    walk_list list = {0};
    key_set now = {0};
    int rc = dir_walk(w->root, &list);
    for (size_t i = 0; i < list.count && rc == 0; i++) {
        const walk_entry *e = &list.items[i];
        struct stat st;
        if (e->error || input_name_ignored(w->root, e->path) || stat(e->path, &st))
            continue;
        char *sig = malloc(strlen(e->path) + 64);
        if (!sig) {
            rc = -1;
            break;
        }
        sprintf(sig, "%s %lld %lld.%09ld", e->path, (long long)st.st_size,
                (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        /* Unchanged since the previous walk, and nobody writing it. */
        if (key_set_get(&w->seen, sig) >= 0 && !being_written(e->path))
            rc = path_list_push(found, e->path);
        if (rc == 0)
            rc = key_set_put(&now, sig, 0);
        free(sig);
    }
    walk_list_free(&list);
    key_set_free(&w->seen);
    w->seen = now;
    w->next_poll = now_ms() + w->poll_ms;
    return rc;
}

/* ---- the watcher ------------------------------------------------------------------ */

input_watch *input_watch_start(const char *root, watch_mode mode, int poll_ms, path_list *found,
                               watch_mode *mode_used)
{
    input_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->root = strdup(root))) {
        free(w);
        fprintf(stderr, PROG ": out of memory\n");
        return NULL;
    }
    w->fd = -1;
    w->poll_ms = poll_ms;
    if (mode == WATCH_INOTIFY) {
        w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->fd < 0) {
            fprintf(stderr, PROG ": inotify is not available (%s); polling every %d ms\n",
                    strerror(errno), poll_ms);
            mode = WATCH_POLL;
        } else if (watch_tree(w, root)) {
            goto oom;
        }
    }
    w->mode = mode;
    *mode_used = mode;
    /* Watches first, then the walk: a file closed in between is reported
     * twice at worst, never missed. */
    if (walk_into(w, root, found))
        goto oom;
    if (mode == WATCH_POLL) {
        /* Records the first signatures; nothing is taken twice by it. */
        path_list none = {0};
        int rc = poll_walk(w, &none);
        path_list_free(&none);
        if (rc)
            goto oom;
    }
    return w;
oom:
    fprintf(stderr, PROG ": out of memory\n");
    input_watch_free(w);
    return NULL;
}

int input_watch_fd(const input_watch *w)
{
    return w->fd;
}

int input_watch_timeout_ms(const input_watch *w)
{
    if (w->mode != WATCH_POLL)
        return -1;
    int64_t left = w->next_poll - now_ms();
    return left < 0 ? 0 : (int)left;
}

int input_watch_collect(input_watch *w, path_list *found)
{
    if (w->mode == WATCH_INOTIFY)
        return read_events(w, found);
    if (w->mode == WATCH_POLL && now_ms() >= w->next_poll)
        return poll_walk(w, found);
    return 0;
}

void input_watch_free(input_watch *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    for (int i = 0; i < w->wd_cap; i++)
        free(w->wd_path[i]);
    free(w->wd_path);
    key_set_free(&w->seen);
    free(w->root);
    free(w);
}
