/* heapsort.c: in-place heap sort (heapsort.h). */
#include "heapsort.h"

static void
swap(unsigned char *a, unsigned char *b, size_t size)
{
	while (size-- > 0) {
		unsigned char t = *a;

		*a++ = *b;
		*b++ = t;
	}
}

static void
sift_down(unsigned char *base, size_t root, size_t n, size_t size,
    heapsort_cmp cmp, void *ctx)
{
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n &&
		    cmp(base + child * size, base + (child + 1) * size, ctx) < 0)
			child++;
		if (cmp(base + root * size, base + child * size, ctx) >= 0)
			return;
		swap(base + root * size, base + child * size, size);
		root = child;
	}
}

void
cp_heapsort(void *base, size_t n, size_t size, heapsort_cmp cmp, void *ctx)
{
	unsigned char *b = base;
	size_t i;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp, ctx);
	for (i = n - 1; i > 0; i--) {
		swap(b, b + i * size, size);
		sift_down(b, 0, i, size, cmp, ctx);
	}
}
