/* strpool.c: an arena for the bytes, a strmap for the interned values. */
#include "strpool.h"

#include <string.h>

void
strpool_init(struct strpool *p)
{
	arena_init(&p->bytes);
	strmap_init(&p->interned);
}

void
strpool_free(struct strpool *p)
{
	if (p == NULL)
		return;
	arena_free(&p->bytes);
	strmap_free(&p->interned);
}

char *
strpool_add(struct strpool *p, const char *s)
{
	return s != NULL ? arena_strndup(&p->bytes, s, strlen(s)) : NULL;
}

char *
strpool_intern(struct strpool *p, const char *s)
{
	const char *have;
	size_t len;
	char *copy;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	/* The keys are the pool's own bytes, so handing one out is safe. */
	if ((have = strmap_key(&p->interned, s, len)) != NULL)
		return (char *)have;
	if ((copy = arena_strndup(&p->bytes, s, len)) == NULL)
		return NULL;
	/* Out of memory for the table: the copy is still good, only not
	 * shared with the next one. */
	if (p->interned.n < STRPOOL_INTERN_MAX)
		(void)strmap_put(&p->interned, copy, len, 0, NULL);
	return copy;
}

void
strpool_move(struct strpool *dst, struct strpool *src)
{
	arena_move(&dst->bytes, &src->bytes);
	strmap_free(&src->interned);
}

size_t
strpool_bytes(const struct strpool *p)
{
	return arena_bytes(&p->bytes) +
	    p->interned.cap * sizeof(*p->interned.slots);
}
