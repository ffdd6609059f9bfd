/* test_log.c: levels filter, text escapes newlines, JSON lines parse. */
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

static char *
capture(enum log_level lvl, enum log_format fmt, void (*fn)(void))
{
	char *data = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&data, &len);

	assert_non_null(f);
	log_init(lvl, fmt);
	log_set_stream(f);
	fn();
	log_set_stream(NULL);
	fclose(f);
	return data;
}

static void
emit_some(void)
{
	struct log_field fl[] = { { "project", "shop" }, { "status", "500" } };

	log_debug("hidden at info");
	log_info("two\nlines");
	log_fields(LOG_LVL_WARN, fl, 2, "request failed \"%s\"", "x");
}

static void
test_text(void **state)
{
	char *out;
	(void)state;

	unsetenv("JOURNAL_STREAM");
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_some);
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "info: two\\nlines\n"));
	assert_non_null(strstr(out, "warn: request failed \"x\" project=shop status=500\n"));
	free(out);
}

static void
test_json(void **state)
{
	char *out, *line, *save = NULL;
	int n = 0;
	(void)state;

	out = capture(LOG_LVL_DEBUG, LOG_FMT_JSON, emit_some);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);
		assert_non_null(o);
		assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "time")));
		assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "level")));
		assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "message")));
		if (n == 1)
			assert_string_equal(cJSON_GetObjectItem(o, "message")->valuestring, "two\nlines");
		if (n == 2)
			assert_string_equal(cJSON_GetObjectItem(o, "project")->valuestring, "shop");
		cJSON_Delete(o);
		n++;
	}
	assert_int_equal(n, 3);
	free(out);
}

static void
emit_controls(void)
{
	struct log_field fl[] = { { "project", "p\xc2\x9b" "1m\x9b" } };

	log_fields(LOG_LVL_INFO, fl, 1, "name \"%s\"", "a\xc2\x9b" "2J\x9b\xff\x1b[31m\x7f");
}

/* C1 controls (as UTF-8 and as raw bytes), invalid UTF-8, C0 and DEL never
 * reach a terminal raw; JSON lines stay valid UTF-8 (issue 18, class 10). */
static void
test_controls(void **state)
{
	char *out;
	cJSON *o;
	(void)state;

	unsetenv("JOURNAL_STREAM");
	out = capture(LOG_LVL_INFO, LOG_FMT_TEXT, emit_controls);
	assert_non_null(strstr(out, "info: name \"a\\u009b2J\\x9b\\xff\\x1b[31m"
	    "\\x7f\" project=p\\u009b1m\\x9b\n"));
	free(out);
	out = capture(LOG_LVL_INFO, LOG_FMT_JSON, emit_controls);
	assert_null(strchr(out, 0x9b));
	assert_null(strchr(out, 0x1b));
	assert_null(strchr(out, 0x7f));
	assert_non_null(strstr(out, "a\\u009b2J\\ufffd\\ufffd\\u001b[31m\\u007f"));
	o = cJSON_Parse(out);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "project")->valuestring,
	    "p\xc2\x9b" "1m\xef\xbf\xbd");
	cJSON_Delete(o);
	free(out);
}

static void
test_parse(void **state)
{
	enum log_level l;
	enum log_format f;
	(void)state;

	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LVL_DEBUG);
	assert_int_not_equal(log_level_parse("verbose", &l), 0);
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FMT_JSON);
	assert_int_not_equal(log_format_parse("xml", &f), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
