/* strmap.c: FNV-1a hashing with linear probing; grows at half full. */
#include "strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

uint64_t
strmap_hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static struct strmap_slot *
find(const struct strmap *m, const char *key, size_t len)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)strmap_hash(key, len) & mask;

	for (;;) {
		struct strmap_slot *s = &m->slots[i];

		if (s->key == NULL)
			return s;
		if (s->len == len && memcmp(s->key, key, len) == 0)
			return s;
		i = (i + 1) & mask;
	}
}

static int
grow(struct strmap *m)
{
	struct strmap old = *m;
	size_t ncap = m->cap ? m->cap * 2 : 16;

	m->slots = calloc(ncap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = old.slots;
		return -ENOMEM;
	}
	m->cap = ncap;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.slots[i].key != NULL)
			*find(m, old.slots[i].key, old.slots[i].len) = old.slots[i];
	}
	free(old.slots);
	return 0;
}

int
strmap_put(struct strmap *m, const char *key, size_t len, size_t value,
    size_t *found)
{
	struct strmap_slot *s;
	int rc;

	if ((m->n + 1) * 2 > m->cap && (rc = grow(m)) != 0)
		return rc;
	s = find(m, key, len);
	if (s->key != NULL) {
		if (found != NULL)
			*found = s->value;
		return 1;
	}
	s->key = key;
	s->len = len;
	s->value = value;
	m->n++;
	return 0;
}

int
strmap_get(const struct strmap *m, const char *key, size_t len, size_t *value)
{
	struct strmap_slot *s;

	if (m->cap == 0)
		return 0;
	s = find(m, key, len);
	if (s->key == NULL)
		return 0;
	if (value != NULL)
		*value = s->value;
	return 1;
}

const char *
strmap_key(const struct strmap *m, const char *key, size_t len)
{
	return m->cap != 0 ? find(m, key, len)->key : NULL;
}
