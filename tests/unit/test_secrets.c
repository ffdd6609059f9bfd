/* test_secrets.c: the registry of secrets and its scrub (whole values, a
 * value cut at the end, JSON text), the log writer masking them whatever
 * the call site, and URL userinfo redaction (issue 18, class 6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "log.h"
#include "secrets.h"

#define TOK "tok-SECRET-0123456789"

static int
teardown(void **state)
{
	(void)state;
	secrets_free();
	return 0;
}

static char *
scrub(const char *s, bool json)
{
	size_t n;
	char *out = secrets_scrub_dup(s, strlen(s), json, &n);

	assert_non_null(out);
	assert_int_equal(strlen(out), n);
	return out;
}

static void
test_scrub_rows(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} rows[] = {
		{ "nothing here", "nothing here" },
		{ TOK, "***" },
		{ "Bearer " TOK " is invalid", "Bearer *** is invalid" },
		{ TOK TOK "x" TOK, "******x***" },
		{ "other pw-hunter2 and " TOK, "other *** and ***" },
		/* Cut at the end: the first 8 or more bytes are masked... */
		{ "the token tok-SECR", "the token ***" },
		{ "the token tok-SECRET-0123", "the token ***" },
		/* ...fewer are too short to tell from ordinary text. */
		{ "the token tok-SEC", "the token tok-SEC" },
		/* Not a prefix: left alone. */
		{ "tok-SECRET-X123", "tok-SECRET-X123" },
	};
	(void)state;

	assert_false(secrets_any());
	assert_int_equal(secrets_register(TOK), 0);
	assert_int_equal(secrets_register(TOK), 0);             /* once */
	assert_int_equal(secrets_register("pw-hunter2"), 0);
	assert_int_equal(secrets_register("abc"), 0);           /* too short */
	assert_int_equal(secrets_register(NULL), 0);
	assert_true(secrets_any());
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *got = scrub(rows[i].in, false);
		char fixed[64];

		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, got,
			    rows[i].want);
		free(got);
		snprintf(fixed, sizeof(fixed), "%s", rows[i].in);
		secrets_scrub(fixed, sizeof(fixed));
		assert_string_equal(fixed, rows[i].want);
	}
	/* "abc" was not registered. */
	{
		char *got = scrub("abc", false);
		assert_string_equal(got, "abc");
		free(got);
	}
}

/* A message cut by a fixed buffer right inside the token. */
static void
test_scrub_cut_in_place(void **state)
{
	char buf[20];
	const char *full = "echo: " TOK;
	(void)state;

	assert_int_equal(secrets_register(TOK), 0);
	memcpy(buf, full, sizeof(buf) - 1);             /* cut at 19 bytes */
	buf[sizeof(buf) - 1] = '\0';
	secrets_scrub(buf, sizeof(buf));
	assert_null(strstr(buf, "SECR"));
	assert_string_equal(buf, "echo: ***");
}

/* In JSON the value is found as cJSON prints it, and the text stays JSON. */
static void
test_scrub_json(void **state)
{
	const char *sec = "qu\"ote\\d-secret";
	cJSON *o = cJSON_CreateObject(), *back;
	char *printed, *got;
	(void)state;

	assert_int_equal(secrets_register(sec), 0);
	assert_non_null(cJSON_AddStringToObject(o, "message", "x qu\"ote\\d-secret y"));
	printed = cJSON_PrintUnformatted(o);
	got = scrub(printed, true);
	assert_string_equal(got, "{\"message\":\"x *** y\"}");
	back = cJSON_Parse(got);
	assert_non_null(back);
	cJSON_Delete(back);
	cJSON_Delete(o);
	cJSON_free(printed);
	free(got);
}

static void
emit_secret(void)
{
	struct log_field f[] = { { "error", "HTTP 401: bad token " TOK } };

	log_errorx("the API said: invalid token %s", TOK);
	log_fields(LOG_LVL_WARN, f, 1, "request failed");
}

static char *
capture(enum log_format fmt, void (*fn)(void))
{
	char *data = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&data, &len);

	assert_non_null(f);
	log_init(LOG_LVL_INFO, fmt);
	log_set_stream(f);
	fn();
	log_set_stream(NULL);
	fclose(f);
	return data;
}

/* The log writer masks every registered value, in text and in JSON. */
static void
test_log_masks(void **state)
{
	char *text, *json;
	(void)state;

	unsetenv("JOURNAL_STREAM");
	assert_int_equal(secrets_register(TOK), 0);
	text = capture(LOG_FMT_TEXT, emit_secret);
	json = capture(LOG_FMT_JSON, emit_secret);
	assert_null(strstr(text, "SECRET"));
	assert_null(strstr(json, "SECRET"));
	assert_non_null(strstr(text, "invalid token ***"));
	assert_non_null(strstr(text, "error=HTTP 401: bad token ***"));
	assert_non_null(strstr(json, "\"message\":\"the API said: invalid token ***\""));
	free(text);
	free(json);
}

static void
test_url_redact(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} rows[] = {
		{ "https://api.convex.dev/v1", "https://api.convex.dev/v1" },
		{ "http://admin:SECRET@127.0.0.1:8050/v1",
		  "http://admin:***@127.0.0.1:8050/v1" },
		{ "http://TOKEN@127.0.0.1/v1", "http://***@127.0.0.1/v1" },
		{ "https://a:b:c@host", "https://a:***@host" },
		{ "https://u:p%40ss@host/x@y", "https://u:***@host/x@y" },
		{ "admin:SECRET@host/v1", "admin:***@host/v1" },
		{ "https://host/v1?u=a@b", "https://host/v1?u=a@b" },
		{ "https://:pw@host", "https://:***@host" },
		{ "", "" },
	};
	char out[128];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_string_equal(secrets_url_redact(rows[i].in, out,
		    sizeof(out)), rows[i].want);
	/* A short buffer cuts, never overflows. */
	secrets_url_redact("http://admin:SECRET@127.0.0.1/v1", out, 10);
	assert_string_equal(out, "http://ad");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_scrub_rows, teardown),
		cmocka_unit_test_teardown(test_scrub_cut_in_place, teardown),
		cmocka_unit_test_teardown(test_scrub_json, teardown),
		cmocka_unit_test_teardown(test_log_masks, teardown),
		cmocka_unit_test_teardown(test_url_redact, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
