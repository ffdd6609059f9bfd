/* strpool.h: the strings of one state in one arena, packed end to end (no
 * malloc header, no alignment padding per string), values that repeat
 * (a region, a class) stored once. An observed state of 20,000 deployments
 * costs a few dozen chunks instead of 80,000 strdups (docs/performance.md).
 * Freed as a whole; a string from the pool is never freed by itself. */
#ifndef CP_STRPOOL_H
#define CP_STRPOOL_H

#include <stddef.h>

#include "arena.h"
#include "strmap.h"

/* All zero is an empty pool (or strpool_init). */
struct strpool {
	struct arena bytes;          /* every string, NUL-terminated */
	struct strmap interned;      /* strpool_intern's strings (keys in bytes) */
};

void strpool_init(struct strpool *p);
void strpool_free(struct strpool *p);   /* accepts NULL; leaves it empty */

/* A copy of s in the pool; NULL for s NULL or on ENOMEM (tell them apart
 * by s). */
char *strpool_add(struct strpool *p, const char *s);
/* The pool's one copy of s (made on first use): for values that repeat
 * (a region, a class, a reference such as "production"). Past
 * STRPOOL_INTERN_MAX distinct values new ones are only copied, so values
 * that do not repeat cost no table (and a server cannot grow it without
 * bound). NULL for s NULL or on ENOMEM. */
#define STRPOOL_INTERN_MAX 512
char *strpool_intern(struct strpool *p, const char *s);
/* dst takes every string of src (no copy: the chunks change hands); src is
 * left empty. Strings interned in src are no longer found by dst's
 * strpool_intern (a later intern of the value makes one more copy). */
void strpool_move(struct strpool *dst, struct strpool *src);
/* Bytes the pool holds from malloc (arena and interning table). */
size_t strpool_bytes(const struct strpool *p);

#endif
