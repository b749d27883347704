/* Directory expansion; the rules are in dir_walk.h. */
#include "dir_walk.h"

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
    static const char *const exts[] = {"jpg", "jpeg", "jpe", "jfif", "png", "bmp", "dib",
                                       "gif", "tga", "tpic", "pnm", "ppm", "pgm", "pbm",
                                       "psd"};
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot + 1, exts[i]))
            return 1;
    return 0;
}

/* A known image signature at the start of `b` (n bytes). */
static int signature_is_image(const unsigned char *b, size_t n)
{
    if (n < 2)
        return 0;
    if (b[0] == 0xFF && b[1] == 0xD8)
        return 1; /* JPEG */
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return 1;
    if (n >= 4 && (!memcmp(b, "GIF8", 4) || !memcmp(b, "8BPS", 4)))
        return 1; /* GIF, PSD */
    if (b[0] == 'B' && b[1] == 'M')
        return 1; /* BMP */
    if (b[0] == 'P' && b[1] >= '1' && b[1] <= '6' && n >= 3 &&
        (b[2] == ' ' || b[2] == '\n' || b[2] == '\r' || b[2] == '\t'))
        return 1; /* PNM */
    return 0;
}

int has_image_signature(const char *path)
{
    unsigned char b[8] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    return n > 0 && signature_is_image(b, (size_t)n);
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

/* Does the file `name` in folder `dir_fd` start with an image signature? */
static int has_image_signature_at(int dir_fd, const char *name)
{
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    unsigned char b[8] = {0};
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    return n > 0 && signature_is_image(b, (size_t)n);
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
