/* A set of strings with a small integer state each (open addressing,
 * FNV-1a). imgclass-watch keeps one entry per input it has taken: the key
 * names the file's path and identity (journal.h), the state says whether
 * its record is committed in a finalized part or still on its way. */
#ifndef IMGCLASS_WATCH_KEY_SET_H
#define IMGCLASS_WATCH_KEY_SET_H

#include <stddef.h>

typedef struct key_set {
    char **keys;  /* owned; NULL: empty slot; TOMBSTONE: removed */
    int *states;
    size_t cap;   /* power of two, or 0 */
    size_t count; /* live keys */
    size_t used;  /* live keys + tombstones */
} key_set;

/* Returns the key's state, or -1 when it is not in the set. */
int key_set_get(const key_set *set, const char *key);
/* Adds the key (copied) or changes its state. 0, or -1 out of memory. */
int key_set_put(key_set *set, const char *key, int state);
/* Removes the key if present. */
void key_set_remove(key_set *set, const char *key);
/* Calls fn for every live key, in no particular order; fn may not change
 * the set. */
void key_set_each(const key_set *set, void (*fn)(void *ctx, const char *key, int state),
                  void *ctx);
void key_set_free(key_set *set);

#endif
