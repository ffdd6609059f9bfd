/* jsonspan.c: a recursive-descent skipper over cJSON's grammar. */
#include "jsonspan.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* cJSON's skip_whitespace: every byte up to the space character. */
static bool
space(char c)
{
	return (unsigned char)c <= 0x20 && c != '\0';
}

static bool
digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
hex(char c)
{
	return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The four hex digits at t[at..at+4) as a number; false when they are
 * not four hex digits. */
static bool
hex4_at(const char *t, size_t len, size_t at, unsigned *out)
{
	unsigned v = 0;

	if (at + 4 > len)
		return false;
	for (size_t k = at; k < at + 4; k++) {
		char c = t[k];

		if (!hex(c))
			return false;
		v = v * 16 + (unsigned)(digit(c) ? c - '0' :
		    (c >= 'a' ? c - 'a' + 10 : c - 'A' + 10));
	}
	*out = v;
	return true;
}

size_t
jsonspan_space(const char *text, size_t len, size_t at)
{
	while (at < len && space(text[at]))
		at++;
	return at;
}

/* *at on the opening quote. */
static int
skip_string(const char *t, size_t len, size_t *at)
{
	size_t i = *at + 1;

	while (i < len) {
		unsigned char c = (unsigned char)t[i];

		if (c == '"') {
			*at = i + 1;
			return 0;
		}
		if (c == '\\') {
			if (i + 1 >= len)
				break;
			switch (t[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u': {
				/* As cJSON: a low surrogate alone, or a high one
				 * not followed by \u and a low one, is refused. */
				unsigned code;

				if (!hex4_at(t, len, i + 2, &code) ||
				    (code >= 0xDC00 && code <= 0xDFFF))
					break;
				if (code >= 0xD800 && code <= 0xDBFF) {
					unsigned low;

					if (i + 7 >= len || t[i + 6] != '\\' ||
					    t[i + 7] != 'u' ||
					    !hex4_at(t, len, i + 8, &low) ||
					    low < 0xDC00 || low > 0xDFFF)
						break;
					i += 12;
					continue;
				}
				i += 6;
				continue;
			}
			default:
				break;
			}
			break;
		}
		i++;
	}
	*at = i;
	return -EBADMSG;
}

/* As cJSON's parse_number: a '-' or a digit starts it, and it ends where
 * strtod stops reading the characters 0-9 + - . e E that follow (of any
 * length): sign, digits with at most one '.' and at least one digit, then
 * an exponent only when a digit follows its 'e' (and sign). Scanned here
 * rather than by strtod: no copy, and no locale. */
static int
skip_number(const char *t, size_t len, size_t *at)
{
	size_t i = *at, digits = 0, j;

	if (i >= len || !(t[i] == '-' || digit(t[i])))
		return -EBADMSG;
	if (t[i] == '-')
		i++;
	for (; i < len && digit(t[i]); i++)
		digits++;
	if (i < len && t[i] == '.') {
		for (j = i + 1; j < len && digit(t[j]); j++)
			digits++;
		if (digits > 0)
			i = j;
	}
	if (digits == 0)
		return -EBADMSG;        /* *at stays on the number's start */
	if (i < len && (t[i] == 'e' || t[i] == 'E')) {
		j = i + 1;
		if (j < len && (t[j] == '+' || t[j] == '-'))
			j++;
		if (j < len && digit(t[j])) {
			while (j < len && digit(t[j]))
				j++;
			i = j;
		}
	}
	*at = i;
	return 0;
}

static int
skip_literal(const char *t, size_t len, size_t *at, const char *word)
{
	size_t n = strlen(word);

	if (len - *at < n || memcmp(t + *at, word, n) != 0)
		return -EBADMSG;
	*at += n;
	return 0;
}

static int skip_value(const char *t, size_t len, size_t *at, unsigned depth);

/* *at on '[' or '{'. */
static int
skip_container(const char *t, size_t len, size_t *at, unsigned depth)
{
	bool object = t[*at] == '{';
	char close = object ? '}' : ']';
	size_t i = jsonspan_space(t, len, *at + 1);
	int rc;

	if (depth >= JSONSPAN_MAX_DEPTH) {
		*at = i;
		return -EBADMSG;
	}
	if (i < len && t[i] == close) {
		*at = i + 1;
		return 0;
	}
	for (;;) {
		if (object) {
			if (i >= len || t[i] != '"') {
				*at = i;
				return -EBADMSG;
			}
			if ((rc = skip_string(t, len, &i)) != 0) {
				*at = i;
				return rc;
			}
			i = jsonspan_space(t, len, i);
			if (i >= len || t[i] != ':') {
				*at = i;
				return -EBADMSG;
			}
			i++;
		}
		if ((rc = skip_value(t, len, &i, depth + 1)) != 0) {
			*at = i;
			return rc;
		}
		i = jsonspan_space(t, len, i);
		if (i < len && t[i] == ',') {
			i = jsonspan_space(t, len, i + 1);
			continue;
		}
		if (i < len && t[i] == close) {
			*at = i + 1;
			return 0;
		}
		*at = i;
		return -EBADMSG;
	}
}

static int
skip_value(const char *t, size_t len, size_t *at, unsigned depth)
{
	size_t i = jsonspan_space(t, len, *at);
	int rc;

	if (i >= len) {
		*at = i;
		return -EBADMSG;
	}
	switch (t[i]) {
	case '{':
	case '[':
		rc = skip_container(t, len, &i, depth);
		break;
	case '"':
		rc = skip_string(t, len, &i);
		break;
	case 't':
		rc = skip_literal(t, len, &i, "true");
		break;
	case 'f':
		rc = skip_literal(t, len, &i, "false");
		break;
	case 'n':
		rc = skip_literal(t, len, &i, "null");
		break;
	default:
		rc = skip_number(t, len, &i);
		break;
	}
	*at = i;
	return rc;
}

int
jsonspan_skip(const char *text, size_t len, size_t *at)
{
	return skip_value(text, len, at, 0);
}

int
jsonspan_element(const char *text, size_t len, size_t *at, size_t *start,
    size_t *end)
{
	size_t i = jsonspan_space(text, len, *at);

	/* On the opening bracket, or on the comma or bracket after an
	 * element (the text is known to be JSON). */
	if (i >= len || text[i] == ']' || text[i] == '}') {
		*at = i < len ? i + 1 : i;
		return 0;
	}
	i = jsonspan_space(text, len, i + 1);       /* past '[' or ',' */
	if (i >= len || text[i] == ']') {
		*at = i < len ? i + 1 : i;
		return 0;
	}
	*start = i;
	if (skip_value(text, len, &i, 0) != 0) {
		*at = len;
		return 0;
	}
	*end = i;
	*at = i;
	return 1;
}

int
jsonspan_member(const char *text, size_t len, size_t *at, size_t *key,
    size_t *key_end, size_t *start, size_t *end)
{
	size_t i = jsonspan_space(text, len, *at);

	if (i >= len || text[i] == '}' || text[i] == ']') {
		*at = i < len ? i + 1 : i;
		return 0;
	}
	i = jsonspan_space(text, len, i + 1);       /* past '{' or ',' */
	if (i >= len || text[i] != '"') {
		*at = i < len && text[i] == '}' ? i + 1 : len;
		return 0;
	}
	*key = i;
	if (skip_string(text, len, &i) != 0) {
		*at = len;
		return 0;
	}
	*key_end = i;
	i = jsonspan_space(text, len, i);
	if (i >= len || text[i] != ':') {
		*at = len;
		return 0;
	}
	i = jsonspan_space(text, len, i + 1);
	*start = i;
	if (skip_value(text, len, &i, 0) != 0) {
		*at = len;
		return 0;
	}
	*end = i;
	*at = i;
	return 1;
}
