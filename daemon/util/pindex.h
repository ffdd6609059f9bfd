/* pindex.h: a sorted index over the caller's own array that stores only
 * positions, 4 bytes an item: the keys (a string and/or a number) are read
 * from the array through a callback whenever they are compared. index.h
 * copies the keys into 24-byte items instead; for the plan's lookups over
 * 10,000 projects and 20,000 deployments that was 1.2 MB at the peak of a
 * plan (SPEC section 12, docs/performance.md). */
#ifndef CP_PINDEX_H
#define CP_PINDEX_H

#include <stddef.h>
#include <stdint.h>

/* The key of the item at pos: *str (NULL sorts as "") and *num. */
typedef void (*pindex_key_fn)(const void *ctx, size_t pos, const char **str,
    int64_t *num);

struct pindex {
	uint32_t *pos;       /* positions, sorted by (str, num, pos) */
	size_t n;
	pindex_key_fn key;
	const void *ctx;     /* borrowed, passed to key */
};

/* Indexes positions 0 .. n-1 by key (ctx must outlive the index): 0,
 * -ENOMEM, or -EFBIG when n does not fit in 32 bits. */
int pindex_build(struct pindex *ix, size_t n, pindex_key_fn key, const void *ctx);
void pindex_free(struct pindex *ix);    /* accepts NULL; leaves it empty */

/* Items whose str equals `str` (any num): how many; *first the first (in
 * the sorted order: read its position with pindex_pos). */
size_t pindex_range_str(const struct pindex *ix, const char *str, size_t *first);
/* The position of the item with exactly (str, num), or SIZE_MAX. */
size_t pindex_find(const struct pindex *ix, const char *str, int64_t num);

/* The same over an array of positions the caller owns (a slice of a
 * larger index, say): sorts pos[0 .. n-1] by key, or finds the position
 * keyed exactly (str, num) in a slice so sorted (SIZE_MAX if none). */
void pindex_sort(uint32_t *pos, size_t n, pindex_key_fn key, const void *ctx);
size_t pindex_search(const uint32_t *pos, size_t n, pindex_key_fn key,
    const void *ctx, const char *str, int64_t num);

/* The position of the i-th item in the sorted order. */
static inline size_t
pindex_pos(const struct pindex *ix, size_t i)
{
	return ix->pos[i];
}

#endif
