/* sha256.h: SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), fed in
 * pieces. The simulator stores deploy key secrets as SHA-256 hashes; the
 * saved plan (reconcile/saved_plan.h) seals itself and digests the desired
 * state, the observation and the plan with HMAC-SHA-256 under a key
 * derived from the API token, so a digest in a file tells nothing about a
 * short secret to someone without the token. One implementation for both:
 * the simulator compiles this file too. */
#ifndef CP_SHA256_H
#define CP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64
#define SHA256_HEX_LEN (2 * SHA256_LEN + 1)   /* hex digits and a NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t len;                 /* bytes fed so far */
	unsigned char buf[SHA256_BLOCK];
	size_t nbuf;                  /* bytes waiting in buf */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* The digest of everything fed; `s` must be initialised again to reuse. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);
/* All at once, as lower-case hex. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);

struct hmac_sha256 {
	struct sha256 inner;
	unsigned char okey[SHA256_BLOCK];   /* key ^ opad */
};

/* A key longer than a block is hashed first (RFC 2104). */
void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t keylen);
void hmac_sha256_update(struct hmac_sha256 *h, const void *data, size_t len);
/* The MAC; wipes the key material held in h. */
void hmac_sha256_final(struct hmac_sha256 *h, unsigned char out[SHA256_LEN]);
/* All at once. */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[SHA256_LEN]);

/* n bytes as 2n lower-case hex digits and a NUL (out holds 2n + 1). */
void sha256_to_hex(const unsigned char *bytes, size_t n, char *out);

#endif
