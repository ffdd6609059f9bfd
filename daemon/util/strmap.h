/* strmap.h: a small open-addressing hash map from borrowed strings to
 * indexes, so duplicate checks stay linear on inputs with many names. */
#ifndef CP_STRMAP_H
#define CP_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	const char *key;     /* borrowed: must outlive the map */
	size_t len;
	size_t value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap;          /* a power of two, or 0 */
	size_t n;
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);    /* accepts NULL */
/* Looks key up; if absent inserts it with `value` and returns 0; if present
 * returns 1 and stores the existing value in *found. -ENOMEM on failure. */
int strmap_put(struct strmap *m, const char *key, size_t len, size_t value,
    size_t *found);
/* 1 and *value if present, else 0. */
int strmap_get(const struct strmap *m, const char *key, size_t len,
    size_t *value);
/* The map's own copy of the key equal to (key, len), or NULL if absent:
 * what an interning table needs. */
const char *strmap_key(const struct strmap *m, const char *key, size_t len);

/* The map's hash of len bytes (FNV-1a), for the compact sets built on
 * the same idea (desired_checks.c keeps 4-byte indexes, not keys). */
uint64_t strmap_hash(const char *s, size_t len);

#endif
