/* test_sha256.c: SHA-256 (the simulator stores deploy key secrets as it; the
 * saved plan digests with its HMAC) against the FIPS 180-4 vectors, padding
 * edges, data fed in pieces, and HMAC-SHA-256 against RFC 4231. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sha256.h"

static void
check(const char *data, size_t len, const char *want)
{
	char out[SHA256_HEX_LEN];

	sha256_hex(data, len, out);
	assert_string_equal(out, want);
}

static void
test_vectors(void **state)
{
	char *m = malloc(1000000);

	(void)state;
	check("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(m, 'a', 1000000);
	check(m, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(m);
}

/* 55 bytes fit one padded block, 56 need two; 64 is a whole block. */
static void
test_padding_edges(void **state)
{
	char x[64];

	(void)state;
	memset(x, 'x', sizeof(x));
	check(x, 55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
	check(x, 56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
	check(x, 64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
}

/* Fed in pieces of every size from 1 to 130 bytes, across block edges:
 * the same digest as all at once. */
static void
test_pieces(void **state)
{
	unsigned char data[300], d1[SHA256_LEN], d2[SHA256_LEN];
	struct sha256 s;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + 3);
	sha256_init(&s);
	sha256_update(&s, data, sizeof(data));
	sha256_final(&s, d1);
	for (size_t piece = 1; piece <= 130; piece++) {
		sha256_init(&s);
		for (size_t off = 0; off < sizeof(data); off += piece)
			sha256_update(&s, data + off, off + piece <= sizeof(data) ?
			    piece : sizeof(data) - off);
		sha256_final(&s, d2);
		assert_memory_equal(d1, d2, SHA256_LEN);
	}
}

static void
check_hmac(const void *key, size_t keylen, const void *data, size_t len,
    const char *want)
{
	unsigned char mac[SHA256_LEN];
	char hex[SHA256_HEX_LEN];

	hmac_sha256(key, keylen, data, len, mac);
	sha256_to_hex(mac, sizeof(mac), hex);
	assert_string_equal(hex, want);
}

/* RFC 4231 test cases 1, 2, 3 and 6 (a key longer than a block). */
static void
test_hmac_rfc4231(void **state)
{
	unsigned char key[131], data[50];

	(void)state;
	memset(key, 0x0b, 20);
	check_hmac(key, 20, "Hi There", 8,
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	check_hmac("Jefe", 4, "what do ya want for nothing?", 28,
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, sizeof(data));
	check_hmac(key, 20, data, sizeof(data),
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	memset(key, 0xaa, sizeof(key));
	check_hmac(key, sizeof(key),
	    "Test Using Larger Than Block-Size Key - Hash Key First", 54,
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_padding_edges),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_hmac_rfc4231),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
