/* arena.h: a bump allocator: many small objects (strings, arrays sized
 * once) taken from a few large chunks and freed all at once, so a state of
 * thousands of resources costs a few mallocs instead of one per string.
 * Marks give LIFO release for scratch use (free what came after a mark). */
#ifndef CP_ARENA_H
#define CP_ARENA_H

#include <stddef.h>

struct arena_chunk;

/* All zero is an empty arena (ARENA_INIT, or memset), ready to use. */
struct arena {
	struct arena_chunk *head;    /* newest chunk first */
	size_t next_size;            /* data bytes of the next ordinary chunk */
	size_t bytes;                /* bytes held from malloc, headers included */
	unsigned long seq;           /* chunks made so far (orders them) */
};

#define ARENA_INIT { NULL, 0, 0, 0 }

/* A position in the arena: everything allocated after it can be released. */
struct arena_mark {
	unsigned long head;          /* the head chunk's number, 0 when empty */
	size_t used;                 /* of the head chunk */
	unsigned long made;          /* chunks made before the mark */
};

void arena_init(struct arena *a);
/* size bytes aligned to align (a power of two, at most that of
 * max_align_t); NULL on ENOMEM or overflow. size 0 gives a valid pointer. */
void *arena_alloc(struct arena *a, size_t size, size_t align);
/* n elements of size bytes, aligned for max_align_t, zeroed. */
void *arena_calloc(struct arena *a, size_t n, size_t size);
void *arena_memdup(struct arena *a, const void *p, size_t size, size_t align);
/* A NUL-terminated copy of len bytes of s (which may hold NULs). */
char *arena_strndup(struct arena *a, const char *s, size_t len);
char *arena_strdup(struct arena *a, const char *s);

struct arena_mark arena_mark(const struct arena *a);
/* Frees everything allocated after m (m must come from this arena and not
 * be older than an earlier release). */
void arena_release(struct arena *a, struct arena_mark m);
void arena_free(struct arena *a);        /* accepts NULL; leaves it empty */
/* dst takes every chunk of src (no copy), behind its head, which keeps
 * serving; src is left empty. A mark taken on dst before the move must not
 * be released after it. */
void arena_move(struct arena *dst, struct arena *src);

/* Bytes this arena holds from malloc (for figures and tests). */
size_t arena_bytes(const struct arena *a);

#define ARENA_NEW(a, type) ((type *)arena_calloc((a), 1, sizeof(type)))
#define ARENA_ARRAY(a, type, n) ((type *)arena_calloc((a), (n), sizeof(type)))

#endif
