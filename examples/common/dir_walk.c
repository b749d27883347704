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

int has_image_signature(const char *path)
{
    unsigned char b[8] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
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

/* Walks `full` (the path to open), recording relative paths `rel` below the
 * root; entries go to `found` with their relative paths, sorted later. */
static int walk_rec(const char *full, const char *rel, walk_list *found)
{
    DIR *d = opendir(full);
    if (!d) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot read folder: %s", strerror(errno));
        return list_push(found, rel[0] ? rel : ".", msg);
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* hidden, "." and ".." */
        char *child = join(full, de->d_name);
        char *child_rel = rel[0] ? join(rel, de->d_name) : strdup(de->d_name);
        if (!child || !child_rel) {
            free(child);
            free(child_rel);
            rc = -1;
            break;
        }
        struct stat lst, st;
        if (lstat(child, &lst) == 0) {
            if (S_ISDIR(lst.st_mode)) {
                rc = walk_rec(child, child_rel, found);
            } else if (S_ISREG(lst.st_mode) ||
                       (S_ISLNK(lst.st_mode) && stat(child, &st) == 0 && S_ISREG(st.st_mode))) {
                if (has_image_extension(de->d_name) || has_image_signature(child))
                    rc = list_push(found, child_rel, NULL);
            }
        }
        free(child);
        free(child_rel);
    }
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
    if (walk_rec(dir, "", &found)) {
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
