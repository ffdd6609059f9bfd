/* siphash.c: SipHash-2-4 from its paper: two compression rounds per 8-byte
 * word, four finalization rounds, the length in the last word's top byte. */
#include "siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
sip_round(uint64_t *v0, uint64_t *v1, uint64_t *v2, uint64_t *v3)
{
	*v0 += *v1;
	*v1 = ROTL(*v1, 13);
	*v1 ^= *v0;
	*v0 = ROTL(*v0, 32);
	*v2 += *v3;
	*v3 = ROTL(*v3, 16);
	*v3 ^= *v2;
	*v0 += *v3;
	*v3 = ROTL(*v3, 21);
	*v3 ^= *v0;
	*v2 += *v1;
	*v1 = ROTL(*v1, 17);
	*v1 ^= *v2;
	*v2 = ROTL(*v2, 32);
}

static void
compress(struct siphash *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(&s->v0, &s->v1, &s->v2, &s->v3);
	sip_round(&s->v0, &s->v1, &s->v2, &s->v3);
	s->v0 ^= m;
}

void
siphash_init(struct siphash *s, const uint8_t key[SIPHASH_KEY_LEN])
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);

	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
	s->tail = 0;
	s->len = 0;
}

void
siphash_update(struct siphash *s, const void *data, size_t len)
{
	const uint8_t *p = data;

	/* whole words straight from the input when nothing is pending */
	while (len > 0 && s->len % 8 != 0) {
		s->tail |= (uint64_t)*p++ << (8 * (s->len % 8));
		len--;
		if (++s->len % 8 == 0) {
			compress(s, s->tail);
			s->tail = 0;
		}
	}
	for (; len >= 8; p += 8, len -= 8, s->len += 8)
		compress(s, le64(p));
	for (; len > 0; len--)
		s->tail |= (uint64_t)*p++ << (8 * (s->len++ % 8));
}

uint64_t
siphash_final(const struct siphash *s)
{
	uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;
	uint64_t b = (s->len << 56) | s->tail;

	v3 ^= b;
	sip_round(&v0, &v1, &v2, &v3);
	sip_round(&v0, &v1, &v2, &v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(&v0, &v1, &v2, &v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
siphash(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
	struct siphash s;

	siphash_init(&s, key);
	siphash_update(&s, data, len);
	return siphash_final(&s);
}
