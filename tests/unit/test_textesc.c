/* test_textesc.c: control characters (C0, DEL, C1 as UTF-8 and as raw
 * bytes) and invalid UTF-8 are escaped in text and in JSON, valid UTF-8 is
 * kept, and cJSON's output is made valid UTF-8 JSON (issue 18, class 10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "secrets.h"
#include "textesc.h"

/* Escaped text of len bytes of s. */
static char *
text_of(const char *s, size_t len, unsigned flags)
{
	struct buf b;

	buf_init(&b, 1 << 16);
	assert_int_equal(textesc_buf(&b, s, len, flags), 0);
	return buf_steal(&b);
}

/* True when no byte of s could drive a terminal: nothing below 0x20, no
 * DEL, no C1 (raw, or as UTF-8 after 0xc2), and valid UTF-8 throughout. */
static bool
terminal_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;
	unsigned cp;

	while (i < n) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = textesc_utf8_len(p + i, n - i, &cp)) == 0 || cp <= 0x9f)
			return false;
		i += k;
	}
	return true;
}

static void
test_text_rows(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned flags;
		const char *want;
	} rows[] = {
		{ "shop", 4, 0, "shop" },
		{ "a\nb\tc\x1b[31m", 10, 0, "a\\x0ab\\x09c\\x1b[31m" },
		{ "a\nb\tc", 5, TEXTESC_C_NAMES, "a\\nb\\tc" },
		{ "del\x7f", 4, 0, "del\\x7f" },
		{ "nul\0x", 5, 0, "nul\\x00x" },
		/* C1 as UTF-8: U+009B (CSI), U+0080, U+0085 (NEL). */
		{ "a\xc2\x9b" "2J", 5, 0, "a\\u009b2J" },
		{ "\xc2\x80\xc2\x85", 4, 0, "\\u0080\\u0085" },
		/* U+00A0 and above are text, not controls. */
		{ "caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80", 17, 0,
		  "caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80" },
		/* Raw C1 bytes (not UTF-8), and other invalid UTF-8. */
		{ "a\x9b" "2J", 4, 0, "a\\x9b2J" },
		{ "\x80\x9f\xff\xfe", 4, 0, "\\x80\\x9f\\xff\\xfe" },
		{ "\xc0\x80", 2, 0, "\\xc0\\x80" },               /* overlong NUL */
		{ "\xe0\x80\xaf", 3, 0, "\\xe0\\x80\\xaf" },       /* overlong */
		{ "\xed\xa0\x80", 3, 0, "\\xed\\xa0\\x80" },       /* surrogate */
		{ "\xf4\x90\x80\x80", 4, 0, "\\xf4\\x90\\x80\\x80" }, /* > U+10FFFF */
		{ "\xc2", 1, 0, "\\xc2" },                         /* truncated */
		{ "\xe2\x82", 2, 0, "\\xe2\\x82" },
		{ "\xc2\x41", 2, 0, "\\xc2A" },
		{ "q\"b\\", 4, TEXTESC_QUOTES, "q\\\"b\\\\" },
		{ "q\"b\\", 4, 0, "q\"b\\" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *got = text_of(rows[i].in, rows[i].len, rows[i].flags);
		char small[8], *plain;

		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu: got \"%s\", want \"%s\"", i, got,
			    rows[i].want);
		assert_true(terminal_safe(got));
		plain = text_of(rows[i].in, rows[i].len, 0);
		assert_int_equal(textesc_is_plain(rows[i].in, rows[i].len),
		    strlen(plain) == rows[i].len &&
		    memcmp(plain, rows[i].in, rows[i].len) == 0);
		free(plain);
		/* Cut short, never in the middle of an escape. */
		textesc_str(small, sizeof(small), rows[i].in, rows[i].len,
		    rows[i].flags);
		assert_true(strlen(small) < sizeof(small));
		assert_true(terminal_safe(small));
		assert_memory_equal(small, got, strlen(small));
		free(got);
	}
}

/* Every single byte and every two-byte pair comes out terminal-safe. */
static void
test_every_byte_pair(void **state)
{
	unsigned char in[3];
	(void)state;

	for (unsigned a = 0; a < 256; a++) {
		for (unsigned b = 0; b < 256; b += (a >= 0x80 ? 1 : 17)) {
			char *got;

			in[0] = (unsigned char)a;
			in[1] = (unsigned char)b;
			got = text_of((const char *)in, 2, 0);
			if (!terminal_safe(got))
				fail_msg("%02x %02x -> \"%s\"", a, b, got);
			free(got);
		}
	}
}

static char *
json_file_of(const char *s, size_t len)
{
	char *data = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&data, &n);

	assert_non_null(f);
	fputc('"', f);
	textesc_json_file(f, s, len);
	fputc('"', f);
	fclose(f);
	return data;
}

static void
test_json(void **state)
{
	static const char in[] = "a\"\\\n\x01\x7f\xc2\x9b\x9b\xff\xc3\xa9z";
	const char *want = "\"a\\\"\\\\\\n\\u0001\\u007f\\u009b\\ufffd\\ufffd"
	    "\xc3\xa9z\"";
	char *got = json_file_of(in, sizeof(in) - 1), *printed, *clean;
	cJSON *o, *back;
	(void)state;

	assert_string_equal(got, want);
	assert_true(terminal_safe(got));
	back = cJSON_Parse(got);
	assert_non_null(back);
	assert_true(cJSON_IsString(back));
	cJSON_Delete(back);
	free(got);

	/* cJSON copies DEL, C1 and invalid bytes as they are; the cleaner
	 * escapes them and the result parses back to the same valid text. */
	o = cJSON_CreateObject();
	assert_non_null(cJSON_AddStringToObject(o, "name",
	    "shop\x7f\xc2\x9b\x9b\xf0\x28 \xc3\xa9"));
	printed = cJSON_PrintUnformatted(o);
	assert_false(terminal_safe(printed));
	clean = textesc_json_clean(printed);
	assert_string_equal(clean, "{\"name\":\"shop\\u007f\\u009b\\ufffd\\ufffd"
	    "( \xc3\xa9\"}");
	assert_true(terminal_safe(clean));
	back = cJSON_Parse(clean);
	assert_non_null(back);
	assert_string_equal(cJSON_GetObjectItem(back, "name")->valuestring,
	    "shop\x7f\xc2\x9b\xef\xbf\xbd\xef\xbf\xbd( \xc3\xa9");
	cJSON_Delete(back);
	cJSON_Delete(o);
	cJSON_free(printed);
	free(clean);
}

/* The output edges mask registered secrets, in text and in JSON. */
static void
test_edges_mask_secrets(void **state)
{
	char small[64], *got, *clean;
	(void)state;

	assert_int_equal(secrets_register("tok-SECRET-123"), 0);
	got = text_of("bad token tok-SECRET-123\n", 25, 0);
	assert_string_equal(got, "bad token ***\\x0a");
	free(got);
	textesc_str(small, sizeof(small), "x tok-SECRET-123 y", 18, 0);
	assert_string_equal(small, "x *** y");
	got = json_file_of("tok-SECRET-123", 14);
	assert_string_equal(got, "\"***\"");
	free(got);
	clean = textesc_json_clean("{\"error\":\"echo tok-SECRET-123\"}");
	assert_string_equal(clean, "{\"error\":\"echo ***\"}");
	free(clean);
	secrets_free();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_rows),
		cmocka_unit_test(test_every_byte_pair),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_edges_mask_secrets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
