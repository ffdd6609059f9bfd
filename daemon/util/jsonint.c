/* jsonint.c: exact 64-bit integers in JSON, written from and read from
 * their decimal text. */
#include "jsonint.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonscan.h"

/* 2^53: below it, every whole double is exactly the integer it reads as. */
#define EXACT_BELOW 9007199254740992.0

cJSON *
jsonint_create(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cJSON_CreateRaw(buf);
}

cJSON *
jsonint_add(cJSON *obj, const char *key, int64_t v)
{
	cJSON *item = jsonint_create(v);

	if (item == NULL)
		return NULL;
	if (!cJSON_AddItemToObject(obj, key, item)) {
		cJSON_Delete(item);
		return NULL;
	}
	return item;
}

/*
 * The text is walked again beside the tree cJSON made of it. cJSON keeps
 * members and elements in the order of the text (a repeated key included),
 * so the n-th value met in the text is the n-th item of the tree. The text
 * is known valid (cJSON parsed all of it), so the walker only has to skip
 * what cJSON skips: white space is any byte up to 0x20, a UTF-8 byte order
 * mark may open the text.
 */
struct walk {
	const char *s;
	size_t len;
	size_t pos;
};

static void
skip_space(struct walk *w)
{
	while (w->pos < w->len && (unsigned char)w->s[w->pos] <= 0x20)
		w->pos++;
}

static bool
take(struct walk *w, char c)
{
	skip_space(w);
	if (w->pos >= w->len || w->s[w->pos] != c)
		return false;
	w->pos++;
	return true;
}

static bool
skip_string(struct walk *w)
{
	if (!take(w, '"'))
		return false;
	while (w->pos < w->len) {
		char c = w->s[w->pos++];

		if (c == '\\')
			w->pos++;       /* the escaped character, whatever it is */
		else if (c == '"')
			return true;
	}
	return false;
}

static bool
number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
	    c == 'e' || c == 'E';
}

static int
keep_number(cJSON *item, struct walk *w)
{
	size_t start, n;
	char *copy;

	skip_space(w);
	start = w->pos;
	while (w->pos < w->len && number_char(w->s[w->pos]))
		w->pos++;
	if ((n = w->pos - start) == 0)
		return -EBADMSG;
	if ((copy = cJSON_malloc(n + 1)) == NULL)
		return -ENOMEM;
	memcpy(copy, w->s + start, n);
	copy[n] = '\0';
	if (item->valuestring != NULL)
		cJSON_free(item->valuestring);
	item->valuestring = copy;
	return 0;
}

static int
attach(cJSON *item, struct walk *w)
{
	cJSON *c;
	int rc;

	if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
		bool obj = cJSON_IsObject(item);

		if (!take(w, obj ? '{' : '['))
			return -EBADMSG;
		cJSON_ArrayForEach(c, item) {
			if (c != item->child && !take(w, ','))
				return -EBADMSG;
			if (obj && (!skip_string(w) || !take(w, ':')))
				return -EBADMSG;
			if ((rc = attach(c, w)) != 0)
				return rc;
		}
		return take(w, obj ? '}' : ']') ? 0 : -EBADMSG;
	}
	if (cJSON_IsString(item))
		return skip_string(w) ? 0 : -EBADMSG;
	if (cJSON_IsNumber(item))
		return keep_number(item, w);
	/* true, false, null */
	skip_space(w);
	while (w->pos < w->len && w->s[w->pos] >= 'a' && w->s[w->pos] <= 'z')
		w->pos++;
	return 0;
}

cJSON *
jsonint_parse(const char *text, size_t len, char *err, size_t errlen)
{
	cJSON *root = jsonscan_parse(text, len, err, errlen);
	struct walk w = { text, len, 0 };
	int rc;

	if (root == NULL)
		return NULL;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		w.pos = 3;
	if ((rc = attach(root, &w)) != 0) {
		cJSON_Delete(root);
		snprintf(err, errlen, "%s", rc == -ENOMEM ? "out of memory" :
		    "internal error: the numbers of the JSON text cannot be found again");
		return NULL;
	}
	return root;
}

/* "-"? digits, and nothing else. */
static bool
integer_literal(const char *t)
{
	if (*t == '-')
		t++;
	if (*t < '0' || *t > '9')
		return false;
	while (*t >= '0' && *t <= '9')
		t++;
	return *t == '\0';
}

int
jsonint_get(const cJSON *item, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(item))
		return -EINVAL;
	if (item->valuestring != NULL && integer_literal(item->valuestring)) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(item->valuestring, &end, 10);
		if (errno == ERANGE)
			return -ERANGE;
		if (*end != '\0')
			return -EINVAL;
		*out = (int64_t)v;
		return 0;
	}
	d = item->valuedouble;
	if (!isfinite(d) || d != floor(d) || fabs(d) >= EXACT_BELOW)
		return -EINVAL;
	*out = (int64_t)d;
	return 0;
}
