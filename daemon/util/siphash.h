/* siphash.h: SipHash-2-4 (Aumasson and Bernstein, 2012) with a 64-bit
 * result, fed in pieces. A keyed pseudo-random function: any change to the
 * input gives an unrelated result, so two different inputs share a value
 * with a chance of about 2^-64. Used for fingerprints, not for secrets: the
 * key is fixed by the caller. */
#ifndef CP_SIPHASH_H
#define CP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

struct siphash {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;            /* bytes not yet compressed, little endian */
	uint64_t len;             /* bytes fed so far */
};

void siphash_init(struct siphash *s, const uint8_t key[SIPHASH_KEY_LEN]);
void siphash_update(struct siphash *s, const void *data, size_t len);
/* The hash of everything fed; `s` is left as it was. */
uint64_t siphash_final(const struct siphash *s);
/* All at once. */
uint64_t siphash(const uint8_t key[SIPHASH_KEY_LEN], const void *data,
    size_t len);

#endif
