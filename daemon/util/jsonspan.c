/* jsonspan.c: a recursive-descent skipper over the JSON grammar. */
#include "jsonspan.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
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
		if (c < 0x20)
			break;
		if (c == '\\') {
			if (i + 1 >= len)
				break;
			switch (t[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				i += 2;
				continue;
			case 'u':
				if (i + 5 < len && hex(t[i + 2]) && hex(t[i + 3]) &&
				    hex(t[i + 4]) && hex(t[i + 5])) {
					i += 6;
					continue;
				}
				break;
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

static int
skip_number(const char *t, size_t len, size_t *at)
{
	size_t i = *at;

	if (i < len && t[i] == '-')
		i++;
	if (i < len && t[i] == '0') {
		i++;
	} else if (i < len && digit(t[i])) {
		while (i < len && digit(t[i]))
			i++;
	} else {
		*at = i;
		return -EBADMSG;
	}
	if (i < len && t[i] == '.') {
		if (++i >= len || !digit(t[i])) {
			*at = i;
			return -EBADMSG;
		}
		while (i < len && digit(t[i]))
			i++;
	}
	if (i < len && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < len && (t[i] == '+' || t[i] == '-'))
			i++;
		if (i >= len || !digit(t[i])) {
			*at = i;
			return -EBADMSG;
		}
		while (i < len && digit(t[i]))
			i++;
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
