/* Large, short-lived buffers on transparent huge pages (huge_pages.h). */
#define _GNU_SOURCE
#include "huge_pages.h"

#include <stdint.h>
#include <sys/mman.h>

void *ic_huge_alloc(size_t n, size_t *mapped)
{
    const size_t huge = IC_HUGE_MIN;
    /* Whole huge pages: a tail in 4 KiB pages would fault per 4 KiB again
     * (up to 2 MiB - 4 KiB of it, for each buffer). Smaller buffers (the
     * engine's allocator maps some) stay in 4 KiB pages. */
    size_t unit = n >= huge ? huge : 4096;
    size_t len = (n + unit - 1) & ~(unit - 1);
    if (n == 0 || len < n || len > SIZE_MAX - huge)
        return NULL;
    /* Map one huge page more than needed, then trim both ends to the
     * 2 MiB boundary: only whole aligned 2 MiB ranges become huge pages. */
    void *m = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t start = (uintptr_t)m;
    uintptr_t aligned = (start + huge - 1) & ~(uintptr_t)(huge - 1);
    uintptr_t end = start + len + huge;
    if (aligned > start)
        munmap(m, aligned - start);
    if (end > aligned + len)
        munmap((void *)(aligned + len), end - (aligned + len));
#ifdef MADV_HUGEPAGE
    madvise((void *)aligned, len, MADV_HUGEPAGE); /* advice: refused is fine */
#endif
    *mapped = len;
    return (void *)aligned;
}

void ic_huge_free(void *p, size_t mapped)
{
    if (p)
        munmap(p, mapped);
}
