/* Expansion of a directory argument into the image files below it.
 *
 * Rules (documented in imgclass(1)):
 *  - recursive; entries whose name starts with '.' (hidden files and
 *    folders) are skipped, the argument itself is used whatever its name;
 *  - a symbolic link to a file is followed, a symbolic link to a folder is
 *    not descended (no cycles, no file listed twice), a dangling link is
 *    skipped;
 *  - a file is an image when its extension is a known image one (case
 *    insensitive) or, failing that, when the library's probe
 *    (imgclass_image_probe_memory on its first 4 KiB) recognises a format
 *    it reads, even with a corrupt header; so a corrupt "x.jpg" is listed
 *    (and will get an error record), a "notes.txt" is not, and neither is
 *    an unnamed text PNM (P1-P4), which the library refuses;
 *  - the order is strcmp order of the path below the argument, so a run is
 *    reproducible whatever the file system's order;
 *  - each path is the argument joined with the relative path by one '/'
 *    (none added when the argument already ends with '/').
 * A sub-folder that cannot be read, or an entry that cannot be examined,
 * becomes an entry with an error message, in its sorted place, instead of
 * stopping the walk or being skipped. The walk goes by folder descriptors
 * (openat/fstatat), so any depth works; a file whose full path is longer
 * than PATH_MAX is listed and then fails when opened, with that reason. */
#ifndef IMGCLASS_CLI_DIR_WALK_H
#define IMGCLASS_CLI_DIR_WALK_H

#include <stddef.h>

typedef struct walk_entry {
    char *path;  /* owned */
    char *error; /* owned; NULL for an image file */
} walk_entry;

typedef struct walk_list {
    walk_entry *items;
    size_t count, cap;
} walk_list;

/* Appends the entries under `dir` to `list`. Returns 0, or -1 when out of
 * memory. A `dir` that cannot be opened gives one error entry. */
int dir_walk(const char *dir, walk_list *list);

/* 1 when the name's extension is a known image extension. */
int has_image_extension(const char *name);
/* 1 when the library recognises the file's first bytes as an image format
 * it reads (see the rules above); 0 otherwise, also for a FIFO or a file
 * that cannot be opened. */
int has_image_signature(const char *path);

void walk_list_free(walk_list *list);

#endif
