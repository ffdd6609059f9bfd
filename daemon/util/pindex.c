/* pindex.c: positions sorted in place by a heap sort (no scratch array),
 * looked up by binary search; keys fetched through the callback. */
#include "pindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "heapsort.h"

static int
cmp_key(const char *as, int64_t an, const char *bs, int64_t bn)
{
	int c = strcmp(as ? as : "", bs ? bs : "");

	if (c != 0)
		return c;
	return (an > bn) - (an < bn);
}

/* The array being sorted, with its keys. */
struct sorting {
	uint32_t *pos;
	pindex_key_fn key;
	const void *ctx;
};

/* (str, num) then position: unique, so the order is that of a stable sort
 * by key (the caller's order among equal keys). */
static int
cmp_pos(const struct sorting *s, uint32_t a, uint32_t b)
{
	const char *as, *bs;
	int64_t an, bn;
	int c;

	s->key(s->ctx, a, &as, &an);
	s->key(s->ctx, b, &bs, &bn);
	if ((c = cmp_key(as, an, bs, bn)) != 0)
		return c;
	return (a > b) - (a < b);
}

static int
cmp_sort(const void *a, const void *b, void *ctx)
{
	return cmp_pos(ctx, *(const uint32_t *)a, *(const uint32_t *)b);
}

void
pindex_sort(uint32_t *pos, size_t n, pindex_key_fn key, const void *ctx)
{
	struct sorting s = { pos, key, ctx };

	cp_heapsort(pos, n, sizeof(*pos), cmp_sort, &s);
}

int
pindex_build(struct pindex *ix, size_t n, pindex_key_fn key, const void *ctx)
{
	memset(ix, 0, sizeof(*ix));
	if (n > UINT32_MAX)
		return -EFBIG;
	if (n > 0 && (ix->pos = malloc(n * sizeof(*ix->pos))) == NULL)
		return -ENOMEM;
	ix->n = n;
	ix->key = key;
	ix->ctx = ctx;
	for (size_t i = 0; i < n; i++)
		ix->pos[i] = (uint32_t)i;
	pindex_sort(ix->pos, n, key, ctx);
	return 0;
}

void
pindex_free(struct pindex *ix)
{
	if (ix == NULL)
		return;
	free(ix->pos);
	memset(ix, 0, sizeof(*ix));
}

static const char *
str_at(const struct pindex *ix, size_t i)
{
	const char *s;
	int64_t num;

	ix->key(ix->ctx, ix->pos[i], &s, &num);
	return s ? s : "";
}

size_t
pindex_range_str(const struct pindex *ix, const char *str, size_t *first)
{
	size_t lo = 0, hi = ix->n, end;

	if (str == NULL)
		str = "";
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(str_at(ix, mid), str) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < ix->n && strcmp(str_at(ix, end), str) == 0; end++)
		;
	*first = lo;
	return end - lo;
}

size_t
pindex_search(const uint32_t *pos, size_t n, pindex_key_fn key,
    const void *ctx, const char *str, int64_t num)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s;
		int64_t k;
		int c;

		key(ctx, pos[mid], &s, &k);
		c = cmp_key(str, num, s, k);
		if (c == 0)
			return pos[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return SIZE_MAX;
}

size_t
pindex_find(const struct pindex *ix, const char *str, int64_t num)
{
	return pindex_search(ix->pos, ix->n, ix->key, ix->ctx, str, num);
}
