/* Internal: class labels from a text file (one per line, ImageNet synset
 * lines split into id + label) or TorchServe's index_to_name.json, plain or
 * gzip-compressed. */
#ifndef IMGCLASS_LABELS_H
#define IMGCLASS_LABELS_H

#include "imgclass.h"

typedef struct ic_labels {
    int count;
    char **label; /* count strings, never NULL */
    char **id;    /* count entries, NULL where a line has no id */
} ic_labels;

/* The most label data accepted, compressed or not (ImageNet's 1000 labels
 * take about 30 KiB; 200,000 long labels fit), and the most a gzipped
 * label file may inflate (text compresses 3-10 times; a file of newlines
 * a thousand times). */
#define IC_LABELS_MAX_BYTES ((size_t)16 << 20)
#define IC_LABELS_MAX_RATIO 100u

/* Parses `size` bytes at `data`; `source` names them in messages. Errors are
 * IMGCLASS_ERR_LABELS (empty, malformed JSON, keys not exactly 0..K-1),
 * IMGCLASS_ERR_CORRUPT (bad gzip), IMGCLASS_ERR_TOO_LARGE,
 * IMGCLASS_ERR_OUT_OF_MEMORY. */
imgclass_status ic_labels_parse(const void *data, size_t size, const char *source,
                                ic_labels **out);

/* Labels from `count` (>= 1) lines already split, each read as a line of
 * a labels file ("n01440764 tench" gives id + label). Only fails for lack
 * of memory (IMGCLASS_ERR_OUT_OF_MEMORY, naming `source`). */
imgclass_status ic_labels_from_lines(const char *const *lines, int count, const char *source,
                                     ic_labels **out);
/* As ic_labels_parse(), refusing (IMGCLASS_ERR_LABELS, before building
 * them) more than `expected` labels when expected > 0. */
imgclass_status ic_labels_parse_expect(const void *data, size_t size, const char *source,
                                       int expected, ic_labels **out);

void ic_labels_free(ic_labels *labels);

#endif
