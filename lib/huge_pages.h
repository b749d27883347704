/* Internal: large, short-lived buffers on transparent huge pages. */
#ifndef IMGCLASS_HUGE_PAGES_H
#define IMGCLASS_HUGE_PAGES_H

#include <stddef.h>

/* Below this a buffer gains nothing from huge pages (one huge page is
 * 2 MiB on x86-64): callers malloc() it. */
#define IC_HUGE_MIN ((size_t)2 << 20)

/* An anonymous, zeroed mapping of at least n bytes that starts on a 2 MiB
 * boundary and is advised MADV_HUGEPAGE, so that filling it costs a fault
 * per 2 MiB instead of one per 4 KiB (why that matters: docs/engine.md,
 * "Cold start"). *mapped receives the length to give ic_huge_free().
 * NULL when the kernel refuses the mapping; the advice alone may be
 * refused (THP off), which leaves ordinary pages. */
void *ic_huge_alloc(size_t n, size_t *mapped);

/* Unmaps a buffer of ic_huge_alloc(); NULL does nothing. */
void ic_huge_free(void *p, size_t mapped);

#endif
