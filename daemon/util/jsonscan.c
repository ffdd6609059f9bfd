/* jsonscan.c: one JSON document, no NUL in any string, nothing after it. */
#include "jsonscan.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool
hex4(const char *p)
{
	for (int k = 0; k < 4; k++)
		if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f') ||
		    (p[k] >= 'A' && p[k] <= 'F')))
			return false;
	return true;
}

size_t
jsonscan_find_nul(const char *text, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (c == '\0')
			return i;
		if (!in_string) {
			in_string = c == '"';
			continue;
		}
		if (c == '"') {
			in_string = false;
		} else if (c == '\\' && i + 1 < len) {
			/* An escape: \uXXXX with XXXX = 0000 is U+0000; so is a
			 * \u whose four characters are not all hex digits, which
			 * cJSON's parse_hex4 reads as 0 (found by fuzz_ledger). */
			if (text[i + 1] == 'u' && i + 5 < len &&
			    (memcmp(text + i + 2, "0000", 4) == 0 ||
			    !hex4(text + i + 2)))
				return i;
			if (text[i + 1] == '\0')
				return i + 1;
			i++;
		}
	}
	return len;
}

static bool
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

cJSON *
jsonscan_parse(const char *text, size_t len, char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root;
	size_t at;

	if (text == NULL || len == 0) {
		snprintf(err, errlen, "empty, expected JSON");
		return NULL;
	}
	if ((at = jsonscan_find_nul(text, len)) < len) {
		snprintf(err, errlen, "a string holds a NUL character (\\u0000) "
		    "at byte %zu: such a name cannot be matched exactly, refused", at);
		return NULL;
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (root == NULL) {
		const char *ep = cJSON_GetErrorPtr();
		at = (ep != NULL && ep >= text && ep <= text + len) ?
		    (size_t)(ep - text) : 0;
		snprintf(err, errlen, "invalid JSON near byte %zu", at);
		return NULL;
	}
	at = (end != NULL && end >= text && end <= text + len) ?
	    (size_t)(end - text) : len;
	while (at < len && json_space(text[at]))
		at++;
	if (at < len) {
		cJSON_Delete(root);
		snprintf(err, errlen, "data after the JSON document at byte %zu "
		    "(a second document?)", at);
		return NULL;
	}
	return root;
}
