/* hmap.c: a string-keyed hash map with chaining; keys are borrowed from the stored values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct hmap_entry {
	const char *key;
	void *value;
	struct hmap_entry *next;
};

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

void
hmap_init(struct hmap *m)
{
	m->slots = NULL;
	m->nslots = 0;
	m->count = 0;
}

void
hmap_free(struct hmap *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nslots; i++) {
		struct hmap_entry *e = m->slots[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->slots);
	hmap_init(m);
}

void
hmap_free_with(struct hmap *m, void (*free_value)(void *))
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nslots; i++) {
		struct hmap_entry *e = m->slots[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			free_value(e->value);
			free(e);
		}
		m->slots[i] = NULL;
	}
	hmap_free(m);
}

static int
grow(struct hmap *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 64;
	struct hmap_entry **slots = calloc(n, sizeof(*slots));

	if (slots == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->nslots; i++) {
		struct hmap_entry *e = m->slots[i], *next;

		for (; e != NULL; e = next) {
			size_t b = hash(e->key) & (n - 1);

			next = e->next;
			e->next = slots[b];
			slots[b] = e;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = n;
	return 0;
}

void *
hmap_get(const struct hmap *m, const char *key)
{
	if (m->nslots == 0)
		return NULL;
	for (struct hmap_entry *e = m->slots[hash(key) & (m->nslots - 1)];
	    e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e->value;
	return NULL;
}

int
hmap_put(struct hmap *m, const char *key, void *value)
{
	struct hmap_entry *e;
	size_t b;

	if (m->count + 1 > m->nslots * 3 / 4 && grow(m) != 0)
		return -ENOMEM;
	b = hash(key) & (m->nslots - 1);
	for (e = m->slots[b]; e != NULL; e = e->next) {
		if (strcmp(e->key, key) == 0) {
			e->key = key;
			e->value = value;
			return 0;
		}
	}
	if ((e = malloc(sizeof(*e))) == NULL)
		return -ENOMEM;
	e->key = key;
	e->value = value;
	e->next = m->slots[b];
	m->slots[b] = e;
	m->count++;
	return 0;
}

void
hmap_del(struct hmap *m, const char *key)
{
	struct hmap_entry **pp;

	if (m->nslots == 0)
		return;
	for (pp = &m->slots[hash(key) & (m->nslots - 1)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (strcmp((*pp)->key, key) == 0) {
			struct hmap_entry *e = *pp;

			*pp = e->next;
			free(e);
			m->count--;
			return;
		}
	}
}
