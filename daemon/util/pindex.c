/* pindex.c: positions sorted in place by a heap sort (no scratch array),
 * looked up by binary search; keys fetched through the callback. */
#include "pindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_key(const char *as, int64_t an, const char *bs, int64_t bn)
{
	int c = strcmp(as ? as : "", bs ? bs : "");

	if (c != 0)
		return c;
	return (an > bn) - (an < bn);
}

/* (str, num) then position: unique, so the order is that of a stable sort
 * by key (the caller's order among equal keys). */
static int
cmp_pos(const struct pindex *ix, uint32_t a, uint32_t b)
{
	const char *as, *bs;
	int64_t an, bn;
	int c;

	ix->key(ix->ctx, a, &as, &an);
	ix->key(ix->ctx, b, &bs, &bn);
	if ((c = cmp_key(as, an, bs, bn)) != 0)
		return c;
	return (a > b) - (a < b);
}

static void
sift_down(const struct pindex *ix, size_t root, size_t n)
{
	uint32_t *a = ix->pos, t;
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && cmp_pos(ix, a[child], a[child + 1]) < 0)
			child++;
		if (cmp_pos(ix, a[root], a[child]) >= 0)
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

int
pindex_build(struct pindex *ix, size_t n, pindex_key_fn key, const void *ctx)
{
	uint32_t t;
	size_t i;

	memset(ix, 0, sizeof(*ix));
	if (n > UINT32_MAX)
		return -EFBIG;
	if (n > 0 && (ix->pos = malloc(n * sizeof(*ix->pos))) == NULL)
		return -ENOMEM;
	ix->n = n;
	ix->key = key;
	ix->ctx = ctx;
	for (i = 0; i < n; i++)
		ix->pos[i] = (uint32_t)i;
	if (n < 2)
		return 0;
	for (i = n / 2; i-- > 0;)
		sift_down(ix, i, n);
	for (i = n - 1; i > 0; i--) {
		t = ix->pos[0];
		ix->pos[0] = ix->pos[i];
		ix->pos[i] = t;
		sift_down(ix, 0, i);
	}
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
pindex_find(const struct pindex *ix, const char *str, int64_t num)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *s;
		int64_t k;
		int c;

		ix->key(ix->ctx, ix->pos[mid], &s, &k);
		c = cmp_key(str, num, s, k);
		if (c == 0)
			return ix->pos[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return SIZE_MAX;
}
