/* index.h: a sorted lookup table (string and/or number key -> position) so
 * that matching thousands of projects and deployments stays O(n log n). */
#ifndef CP_INDEX_H
#define CP_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct index_item {
	const char *str;    /* borrowed; NULL sorts as "" */
	int64_t num;
	size_t pos;         /* where the keyed thing is in the caller's array */
};

struct index {
	struct index_item *items;
	size_t n;
};

/* Allocates n items (all zero); fill them with index_set, then index_sort. */
int index_init(struct index *ix, size_t n);
void index_set(struct index *ix, size_t i, const char *str, int64_t num, size_t pos);
void index_sort(struct index *ix);   /* by (str, num) */
void index_free(struct index *ix);

/* Items whose str equals `str` (any num): returns how many, *first the first. */
size_t index_range_str(const struct index *ix, const char *str, size_t *first);
/* The item with exactly (str, num), or NULL. Use str NULL for number keys. */
const struct index_item *index_find(const struct index *ix, const char *str, int64_t num);

#endif
