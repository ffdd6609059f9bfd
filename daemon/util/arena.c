/* arena.c: chunks of 1 KiB doubling up to 64 KiB; a request larger than a
 * quarter of that gets a chunk of its own, linked behind the head so the
 * head keeps serving small requests. Each chunk carries its number, so a
 * release frees exactly the chunks made after the mark, wherever they sit. */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_SIZE ((size_t)1 << 10)
#define MAX_SIZE ((size_t)64 << 10)
#define OWN_CHUNK (MAX_SIZE / 4)

struct arena_chunk {
	struct arena_chunk *next;
	unsigned long seq;
	size_t used;
	size_t cap;
	max_align_t data[];
};

void
arena_init(struct arena *a)
{
	memset(a, 0, sizeof(*a));
}

static struct arena_chunk *
new_chunk(struct arena *a, size_t cap)
{
	struct arena_chunk *c;

	if (cap > SIZE_MAX - sizeof(*c))
		return NULL;
	if ((c = malloc(sizeof(*c) + cap)) == NULL)
		return NULL;
	c->seq = ++a->seq;
	c->used = 0;
	c->cap = cap;
	a->bytes += sizeof(*c) + cap;
	return c;
}

/* Offset of the first byte at or after `used` aligned to align. */
static size_t
align_up(size_t used, size_t align)
{
	return (used + align - 1) & ~(align - 1);
}

void *
arena_alloc(struct arena *a, size_t size, size_t align)
{
	struct arena_chunk *c = a->head;
	size_t off;

	if (align == 0 || (align & (align - 1)) != 0 ||
	    align > alignof(max_align_t) || size > SIZE_MAX / 2)
		return NULL;
	if (c != NULL) {
		off = align_up(c->used, align);
		if (off <= c->cap && c->cap - off >= size) {
			c->used = off + size;
			return (char *)c->data + off;
		}
	}
	if (size > OWN_CHUNK) {
		if ((c = new_chunk(a, size)) == NULL)
			return NULL;
		c->used = size;
		if (a->head != NULL) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = NULL;
			a->head = c;
		}
		return c->data;
	}
	if (a->next_size < FIRST_SIZE)
		a->next_size = FIRST_SIZE;
	if ((c = new_chunk(a, a->next_size > size ? a->next_size : size)) == NULL)
		return NULL;
	if (a->next_size < MAX_SIZE)
		a->next_size *= 2;
	c->next = a->head;
	a->head = c;
	c->used = size;       /* offset 0 is aligned for anything */
	return c->data;
}

void *
arena_calloc(struct arena *a, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if ((p = arena_alloc(a, n * size, alignof(max_align_t))) != NULL)
		memset(p, 0, n * size);
	return p;
}

void *
arena_memdup(struct arena *a, const void *src, size_t size, size_t align)
{
	void *p = arena_alloc(a, size, align);

	if (p != NULL && size > 0)
		memcpy(p, src, size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX || (p = arena_alloc(a, len + 1, 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

struct arena_mark
arena_mark(const struct arena *a)
{
	struct arena_mark m = { 0, 0, a->seq };

	if (a->head != NULL) {
		m.head = a->head->seq;
		m.used = a->head->used;
	}
	return m;
}

void
arena_release(struct arena *a, struct arena_mark m)
{
	struct arena_chunk **pp = &a->head, *c;

	/* Chunks made after the mark lie in front of every older chunk but
	 * the head of the time: new heads go first, own chunks right behind
	 * the head of their time. */
	while ((c = *pp) != NULL) {
		if (c->seq > m.made) {
			*pp = c->next;
			a->bytes -= sizeof(*c) + c->cap;
			free(c);
		} else if (c->seq == m.head) {
			c->used = m.used;
			pp = &c->next;
		} else {
			break;
		}
	}
}

void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

void
arena_move(struct arena *dst, struct arena *src)
{
	struct arena_chunk *last, *c;

	if (src->head == NULL || dst == src)
		return;
	/* Numbered as the oldest chunks: a release never frees them alone. */
	for (c = src->head, last = NULL; c != NULL; last = c, c = c->next)
		c->seq = 0;
	if (dst->head == NULL) {
		dst->head = src->head;
	} else {
		last->next = dst->head->next;
		dst->head->next = src->head;
	}
	dst->bytes += src->bytes;
	memset(src, 0, sizeof(*src));
}

size_t
arena_bytes(const struct arena *a)
{
	return a->bytes;
}
