/* textesc.c: escaping of control characters and invalid UTF-8 for text,
 * logs and JSON (the rules are in textesc.h). */
#include "textesc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

size_t
textesc_utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf, v;
	size_t len;

	/* RFC 3629, table 3-7 of the Unicode standard: no overlong forms, no
	 * surrogates, nothing above U+10FFFF. */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	v = (v << 6) | (s[1] & 0x3f);
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (cp != NULL)
		*cp = v;
	return len;
}

/* One unit of s (a byte, or a whole UTF-8 sequence): returns how many bytes
 * it takes; *esclen is 0 when they are kept as they are, else the length of
 * their escape in esc. */
static size_t
unit_text(const unsigned char *s, size_t n, unsigned flags,
    char esc[TEXTESC_UNIT_MAX], size_t *esclen)
{
	unsigned c = s[0], cp;
	size_t len;

	*esclen = 0;
	if (c >= 0x20 && c < 0x7f) {
		if ((flags & TEXTESC_QUOTES) && (c == '"' || c == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = '\0';
			*esclen = 2;
		}
		return 1;
	}
	if (c < 0x80) {
		if ((flags & TEXTESC_C_NAMES) && (c == '\n' || c == '\t')) {
			*esclen = (size_t)snprintf(esc, TEXTESC_UNIT_MAX, "\\%c",
			    c == '\n' ? 'n' : 't');
			return 1;
		}
		*esclen = (size_t)snprintf(esc, TEXTESC_UNIT_MAX, "\\x%02x", c);
		return 1;
	}
	if ((len = textesc_utf8_len(s, n, &cp)) == 0) {
		*esclen = (size_t)snprintf(esc, TEXTESC_UNIT_MAX, "\\x%02x", c);
		return 1;
	}
	if (cp <= 0x9f)
		*esclen = (size_t)snprintf(esc, TEXTESC_UNIT_MAX, "\\u%04x", cp);
	return len;
}

/* One unit as the inside of a JSON string (flags: none). */
static size_t
unit_json(const unsigned char *s, size_t n, unsigned flags,
    char esc[TEXTESC_UNIT_MAX], size_t *esclen)
{
	unsigned c = s[0], cp;
	size_t len;

	(void)flags;
	*esclen = 0;
	switch (c) {
	case '"': *esclen = 2; memcpy(esc, "\\\"", 3); return 1;
	case '\\': *esclen = 2; memcpy(esc, "\\\\", 3); return 1;
	case '\n': *esclen = 2; memcpy(esc, "\\n", 3); return 1;
	case '\r': *esclen = 2; memcpy(esc, "\\r", 3); return 1;
	case '\t': *esclen = 2; memcpy(esc, "\\t", 3); return 1;
	default: break;
	}
	if (c < 0x20 || c == 0x7f) {
		*esclen = (size_t)snprintf(esc, TEXTESC_UNIT_MAX, "\\u%04x", c);
		return 1;
	}
	if (c < 0x80)
		return 1;
	if ((len = textesc_utf8_len(s, n, &cp)) == 0) {
		*esclen = 6;
		memcpy(esc, "\\ufffd", 7);
		return 1;
	}
	if (cp <= 0x9f)
		*esclen = (size_t)snprintf(esc, TEXTESC_UNIT_MAX, "\\u%04x", cp);
	return len;
}

/* Quotes, backslashes and C0 are already escaped by cJSON in its output:
 * only DEL and what lies above ASCII is looked at. */
static size_t
unit_json_clean(const unsigned char *s, size_t n, unsigned flags,
    char esc[TEXTESC_UNIT_MAX], size_t *esclen)
{
	if (s[0] < 0x7f) {
		*esclen = 0;
		return 1;
	}
	return unit_json(s, n, flags, esc, esclen);
}

/* How one unit is escaped, for the writers below. */
typedef size_t unit_fn(const unsigned char *s, size_t n, unsigned flags,
    char esc[TEXTESC_UNIT_MAX], size_t *esclen);

bool
textesc_is_plain(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[TEXTESC_UNIT_MAX];
	size_t i = 0, el;

	while (i < len) {
		i += unit_text(p + i, len - i, 0, esc, &el);
		if (el != 0)
			return false;
	}
	return true;
}

static int
esc_buf(struct buf *out, const char *s, size_t len, unit_fn *unit,
    unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[TEXTESC_UNIT_MAX];
	size_t i = 0, start = 0, el, k;
	int rc;

	/* Runs of plain bytes are appended in one go. */
	while (i < len) {
		k = unit(p + i, len - i, flags, esc, &el);
		if (el == 0) {
			i += k;
			continue;
		}
		if ((i > start && (rc = buf_append(out, s + start, i - start)) != 0) ||
		    (rc = buf_append(out, esc, el)) != 0)
			return rc;
		i += k;
		start = i;
	}
	return i > start ? buf_append(out, s + start, i - start) : 0;
}

static void
esc_file(FILE *f, const char *s, size_t len, unit_fn *unit, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[TEXTESC_UNIT_MAX];
	size_t i = 0, start = 0, el, k;

	while (i < len) {
		k = unit(p + i, len - i, flags, esc, &el);
		if (el == 0) {
			i += k;
			continue;
		}
		if (i > start)
			fwrite(s + start, 1, i - start, f);
		fwrite(esc, 1, el, f);
		i += k;
		start = i;
	}
	if (i > start)
		fwrite(s + start, 1, i - start, f);
}

static char *
esc_str(char *out, size_t n, const char *s, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[TEXTESC_UNIT_MAX];
	size_t i = 0, o = 0, el, k;

	if (n == 0)
		return out;
	while (i < len) {
		k = unit_text(p + i, len - i, flags, esc, &el);
		if (el == 0) {
			if (o + k >= n)
				break;
			memcpy(out + o, s + i, k);
			o += k;
		} else {
			if (o + el >= n)
				break;
			memcpy(out + o, esc, el);
			o += el;
		}
		i += k;
	}
	out[o] = '\0';
	return out;
}

static char *
esc_json_clean(const char *json, size_t len)
{
	struct buf b;

	buf_init(&b, SIZE_MAX / 2);
	if (esc_buf(&b, json, len, unit_json_clean, 0) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* ---- the public edges: registered secrets are masked first ------------- */

int
textesc_buf(struct buf *out, const char *s, size_t len, unsigned flags)
{
	char *clean;
	int rc;

	if (!secrets_any())
		return esc_buf(out, s, len, unit_text, flags);
	if ((clean = secrets_scrub_dup(s, len, false, &len)) == NULL)
		return -ENOMEM;
	rc = esc_buf(out, clean, len, unit_text, flags);
	free(clean);
	return rc;
}

void
textesc_file(FILE *f, const char *s, size_t len, unsigned flags)
{
	char *clean;

	if (!secrets_any()) {
		esc_file(f, s, len, unit_text, flags);
	} else if ((clean = secrets_scrub_dup(s, len, false, &len)) != NULL) {
		esc_file(f, clean, len, unit_text, flags);
		free(clean);
	}
}

char *
textesc_str(char *out, size_t n, const char *s, size_t len, unsigned flags)
{
	char *clean;

	if (!secrets_any())
		return esc_str(out, n, s, len, flags);
	if ((clean = secrets_scrub_dup(s, len, false, &len)) == NULL) {
		if (n > 0)
			out[0] = '\0';
		return out;
	}
	esc_str(out, n, clean, len, flags);
	free(clean);
	return out;
}

void
textesc_json_file(FILE *f, const char *s, size_t len)
{
	char *clean;

	if (!secrets_any()) {
		esc_file(f, s, len, unit_json, 0);
	} else if ((clean = secrets_scrub_dup(s, len, false, &len)) != NULL) {
		esc_file(f, clean, len, unit_json, 0);
		free(clean);
	}
}

char *
textesc_json_clean(const char *json)
{
	size_t len = strlen(json);
	char *clean, *out;

	if (!secrets_any())
		return esc_json_clean(json, len);
	if ((clean = secrets_scrub_dup(json, len, true, &len)) == NULL)
		return NULL;
	out = esc_json_clean(clean, len);
	free(clean);
	return out;
}
