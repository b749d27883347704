/* The string set of key_set.h. */
#include "key_set.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char tombstone_mark;
#define TOMBSTONE (&tombstone_mark)

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Index of the key, or of the slot where it would go (the first tombstone
 * on its probe path, else the empty slot that ends it). */
static size_t find(const key_set *set, const char *key, int *found)
{
    size_t mask = set->cap - 1, i = (size_t)hash(key) & mask, grave = (size_t)-1;
    for (;;) {
        char *k = set->keys[i];
        if (!k) {
            *found = 0;
            return grave != (size_t)-1 ? grave : i;
        }
        if (k == TOMBSTONE) {
            if (grave == (size_t)-1)
                grave = i;
        } else if (!strcmp(k, key)) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

int key_set_get(const key_set *set, const char *key)
{
    if (!set->cap)
        return -1;
    int found;
    size_t i = find(set, key, &found);
    return found ? set->states[i] : -1;
}

static int grow(key_set *set)
{
    size_t cap = set->cap ? set->cap * 2 : 256;
    if (set->count * 4 < set->cap)
        cap = set->cap; /* mostly tombstones: rehash at the same size */
    key_set bigger = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(int)), cap, 0, 0};
    if (!bigger.keys || !bigger.states) {
        free(bigger.keys);
        free(bigger.states);
        return -1;
    }
    for (size_t i = 0; i < set->cap; i++) {
        char *k = set->keys[i];
        if (!k || k == TOMBSTONE)
            continue;
        int found;
        size_t j = find(&bigger, k, &found);
        bigger.keys[j] = k;
        bigger.states[j] = set->states[i];
        bigger.count++;
        bigger.used++;
    }
    free(set->keys);
    free(set->states);
    *set = bigger;
    return 0;
}

int key_set_put(key_set *set, const char *key, int state)
{
    if ((set->used + 1) * 4 > set->cap * 3 && grow(set))
        return -1;
    int found;
    size_t i = find(set, key, &found);
    if (found) {
        set->states[i] = state;
        return 0;
    }
    char *copy = strdup(key);
    if (!copy)
        return -1;
    if (set->keys[i] != TOMBSTONE)
        set->used++;
    set->keys[i] = copy;
    set->states[i] = state;
    set->count++;
    return 0;
}

void key_set_remove(key_set *set, const char *key)
{
    if (!set->cap)
        return;
    int found;
    size_t i = find(set, key, &found);
    if (!found)
        return;
    free(set->keys[i]);
    set->keys[i] = TOMBSTONE;
    set->count--;
}

void key_set_each(const key_set *set, void (*fn)(void *ctx, const char *key, int state),
                  void *ctx)
{
    for (size_t i = 0; i < set->cap; i++)
        if (set->keys[i] && set->keys[i] != TOMBSTONE)
            fn(ctx, set->keys[i], set->states[i]);
}

void key_set_free(key_set *set)
{
    for (size_t i = 0; i < set->cap; i++)
        if (set->keys[i] != TOMBSTONE)
            free(set->keys[i]);
    free(set->keys);
    free(set->states);
    memset(set, 0, sizeof *set);
}
