/* test_sim_sha256.c: the simulator's SHA-256 (deploy key secrets are stored as it) against the FIPS 180-4 vectors and padding edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

static void
check(const char *data, size_t len, const char *want)
{
	char out[SIM_SHA256_HEX];

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_padding_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
