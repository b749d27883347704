/* Internal: the order in which the engine's team prepares a round of
 * images (pipeline_run.c, team mode): largest first. No state (the cost of a
 * file is one stat()); safe from any thread. */
#ifndef IMGCLASS_PREPARE_ORDER_H
#define IMGCLASS_PREPARE_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "imgclass.h"

/* A guess at what preparing `in` costs, in encoded bytes: a file's size
 * (one stat(); 0 where it fails: the preparation reports why), a buffer's
 * size, a tenth of a decoded image's RGB bytes (it is not decoded; photos
 * compress about tenfold). Only the order of the guesses matters. */
uint64_t ic_prepare_cost(const imgclass_input *in);

/* Sets order[0..n) to the indices 0..n-1 sorted by cost[] descending, equal
 * costs in index order. cost is not changed. */
void ic_order_largest_first(const uint64_t *cost, size_t *order, size_t n);

#endif
