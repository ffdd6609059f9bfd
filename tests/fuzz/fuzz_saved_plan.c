/* fuzz_saved_plan.c: libFuzzer target for the saved plan reader (SPEC
 * section 13). Two runs per input: as it is, it must be refused (it cannot
 * carry a valid seal) with one of the documented errors; sealed here with
 * the test key (the input is the body, the seal appended as
 * saved_plan_write does), it gets past the seal, so the field checks
 * behind it are fuzzed too: it parses, or is refused as damage or another
 * version, never crashes, and one that parses holds what apply relies on
 * (hex digests, a team id, settings in range, every string whole). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "saved_plan.h"

static struct plan_digest_key key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	plan_digest_key("fuzz-token", &key);
	return 0;
}

static bool
hex64(const char *s)
{
	return strlen(s) == SHA256_HEX_LEN - 1 &&
	    strspn(s, "0123456789abcdef") == SHA256_HEX_LEN - 1;
}

static void
check_parsed(const struct saved_plan *sp)
{
	FUZZ_CHECK(sp->version == SAVED_PLAN_VERSION);
	FUZZ_CHECK(sp->team_id >= 1);
	FUZZ_CHECK(sp->created != NULL && sp->tool != NULL && sp->api_url != NULL);
	FUZZ_CHECK(sp->desired_path != NULL);
	FUZZ_CHECK(hex64(sp->plan_digest) && hex64(sp->observed));
	FUZZ_CHECK(hex64(sp->desired.values) && hex64(sp->desired.all));
	FUZZ_CHECK(sp->settings.prune <= PRUNE_ALL && sp->settings.drift <= DRIFT_REPORT);
	for (size_t i = 0; i < sp->desired.n_files; i++)
		FUZZ_CHECK(sp->desired.files[i].path != NULL && hex64(sp->desired.files[i].hex));
	for (size_t i = 0; i < sp->n_lines; i++)
		FUZZ_CHECK(sp->lines[i] != NULL);
}

static void
check_refusal(int rc)
{
	FUZZ_CHECK(rc == -EBADMSG || rc == -EPROTONOSUPPORT || rc == -EKEYREJECTED ||
	    rc == -ENOMEM);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct saved_plan sp;
	char err[512], seal[SHA256_HEX_LEN], *text;
	size_t hl = strlen(SAVED_PLAN_SEAL_HEAD), tl = strlen(SAVED_PLAN_SEAL_TAIL), n;
	int rc;

	/* As it is: never accepted. */
	rc = saved_plan_parse((const char *)data, size, &key, &sp, err, sizeof(err));
	FUZZ_CHECK(rc != 0);
	check_refusal(rc);
	saved_plan_free(&sp);

	/* Sealed: the body and the seal of it. */
	if ((text = malloc(size + hl + SHA256_HEX_LEN + tl)) == NULL)
		return 0;
	memcpy(text, data, size);
	saved_plan_seal(text, size, &key, seal);
	memcpy(text + size, SAVED_PLAN_SEAL_HEAD, hl);
	memcpy(text + size + hl, seal, SHA256_HEX_LEN - 1);
	memcpy(text + size + hl + SHA256_HEX_LEN - 1, SAVED_PLAN_SEAL_TAIL, tl);
	n = size + hl + SHA256_HEX_LEN - 1 + tl;
	rc = saved_plan_parse(text, n, &key, &sp, err, sizeof(err));
	if (rc == 0)
		check_parsed(&sp);
	else
		check_refusal(rc);
	saved_plan_free(&sp);
	free(text);
	return 0;
}
