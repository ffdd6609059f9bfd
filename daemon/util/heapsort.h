/* heapsort.h: an in-place sort. glibc's qsort merge-sorts into a scratch
 * copy as large as the array (480 KB for the 20,000 deployments of a plan
 * at SPEC section 12's size); this takes no memory at all. Not stable:
 * callers break ties (index.c and pindex.c by position). */
#ifndef CP_HEAPSORT_H
#define CP_HEAPSORT_H

#include <stddef.h>

typedef int (*heapsort_cmp)(const void *a, const void *b, void *ctx);

void cp_heapsort(void *base, size_t n, size_t size, heapsort_cmp cmp,
    void *ctx);

#endif
