/* Directory expansion; the rules are in dir_walk.h. */
#include "dir_walk.h"

#include <imgclass.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int has_image_extension(const char *name)
{
    /* No "pbm": a PBM is always P1 or P4, which the library never reads. */
    static const char *const exts[] = {"jpg", "jpeg", "jpe", "jfif", "png", "bmp", "dib",
                                       "gif", "tga", "tpic", "pnm", "ppm", "pgm", "psd"};
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot + 1, exts[i]))
            return 1;
    return 0;
}

/* How many first bytes are judged: every header the library reads fits,
 * but a JPEG's metadata may push its frame header past them, which the
 * probe then calls corrupt, and corrupt still counts as an image below. */
#define SNIFF_BYTES 4096

/* Asks the library, from the file's first bytes, whether it reads this
 * format: the probe succeeds, or fails for a reason a decode would report
 * as an error record (corrupt or truncated header, over a limit). A format
 * it does not read, or a variant it refuses (text PNM P1-P4, a PSD with
 * alpha), is not an image. The descriptor is closed here. */
static int fd_is_image(int fd)
{
    if (fd < 0)
        return 0;
    struct stat st;
    unsigned char *b = NULL;
    ssize_t n = 0;
    /* Only regular files: a FIFO would block the walk. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (b = malloc(SNIFF_BYTES)) != NULL) {
        while (n < SNIFF_BYTES) {
            ssize_t got = read(fd, b + n, (size_t)(SNIFF_BYTES - n));
            if (got <= 0)
                break;
            n += got;
        }
    }
    close(fd);
    int image = 0;
    if (n > 0) {
        imgclass_image_info info = {.struct_size = sizeof info};
        imgclass_status st = imgclass_image_probe_memory(b, (size_t)n, NULL, &info);
        image = st == IMGCLASS_OK || st == IMGCLASS_ERR_CORRUPT || st == IMGCLASS_ERR_TOO_LARGE;
    }
    free(b);
    return image;
}

int has_image_signature(const char *path)
{
    return fd_is_image(open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
}

static int list_push(walk_list *list, const char *path, const char *error)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        walk_entry *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return -1;
        list->items = items;
        list->cap = cap;
    }
    walk_entry *e = &list->items[list->count];
    e->path = strdup(path);
    e->error = error ? strdup(error) : NULL;
    if (!e->path || (error && !e->error)) {
        free(e->path);
        free(e->error);
        return -1;
    }
    list->count++;
    return 0;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *s = malloc(la + slash + lb + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    if (slash)
        s[la] = '/';
    memcpy(s + la + slash, b, lb + 1);
    return s;
}

/* Does the file `name` in folder `dir_fd` start like an image the
 * library reads? */
static int has_image_signature_at(int dir_fd, const char *name)
{
    return fd_is_image(openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK));
}

static int push_error(walk_list *found, const char *rel, const char *what, int err)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
    return list_push(found, rel[0] ? rel : ".", msg);
}

/* Walks the folder open as `dir_fd` (taken over: closed here), recording
 * relative paths `rel` below the root. Entries are reached by descriptor
 * (openat, fstatat), so any depth works, however long the joined path;
 * an entry that cannot be examined or a folder that cannot be read becomes
 * an error entry, never a silent skip. One descriptor is held per level. */
static int walk_rec(int dir_fd, const char *rel, walk_list *found)
{
    DIR *d = fdopendir(dir_fd);
    if (!d) {
        int e = errno;
        close(dir_fd);
        return push_error(found, rel, "cannot read folder", e);
    }
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            errno = 0;
            continue; /* hidden, "." and ".." */
        }
        char *child_rel = rel[0] ? join(rel, de->d_name) : strdup(de->d_name);
        if (!child_rel) {
            rc = -1;
            break;
        }
        struct stat lst, st;
        if (fstatat(dirfd(d), de->d_name, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = push_error(found, child_rel, "cannot examine", errno);
        } else if (S_ISDIR(lst.st_mode)) {
            int fd = openat(dirfd(d), de->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            rc = fd < 0 ? push_error(found, child_rel, "cannot read folder", errno)
                        : walk_rec(fd, child_rel, found);
        } else if (S_ISREG(lst.st_mode) ||
                   (S_ISLNK(lst.st_mode) && fstatat(dirfd(d), de->d_name, &st, 0) == 0 &&
                    S_ISREG(st.st_mode))) {
            if (has_image_extension(de->d_name) || has_image_signature_at(dirfd(d), de->d_name))
                rc = list_push(found, child_rel, NULL);
        }
        free(child_rel);
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = push_error(found, rel, "cannot read folder", errno);
    closedir(d);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const walk_entry *)a)->path, ((const walk_entry *)b)->path);
}

int dir_walk(const char *dir, walk_list *list)
{
    walk_list found = {0};
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc0 = fd < 0 ? push_error(&found, "", "cannot read folder", errno)
                     : walk_rec(fd, "", &found);
    if (rc0) {
        walk_list_free(&found);
        return -1;
    }
    if (found.count) /* qsort(NULL, 0) is undefined behaviour */
        qsort(found.items, found.count, sizeof *found.items, cmp_entry);
    int rc = 0;
    for (size_t i = 0; i < found.count && rc == 0; i++) {
        const walk_entry *e = &found.items[i];
        /* A root that cannot be read is reported under its own name. */
        char *path = strcmp(e->path, ".") || !e->error ? join(dir, e->path) : strdup(dir);
        if (!path || list_push(list, path, e->error))
            rc = -1;
        free(path);
    }
    walk_list_free(&found);
    return rc;
}

void walk_list_free(walk_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
        free(list->items[i].error);
    }
    free(list->items);
    list->items = NULL;
    list->count = list->cap = 0;
}
