/* secrets.c: a small registry of values never to be shown, and the scrub
 * that masks them (see secrets.h). One process, one thread: a static table. */
#include "secrets.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct secret {
	char *raw;
	size_t raw_len;
	char *json;             /* as cJSON prints it inside a string */
	size_t json_len;
};

static struct secret *table;
static size_t n_secrets;

static char *
json_form(const char *s, size_t len, size_t *out_len)
{
	char *j = malloc(2 * len + 1);
	size_t k = 0;

	if (j == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			j[k++] = '\\';
		j[k++] = s[i];
	}
	j[k] = '\0';
	*out_len = k;
	return j;
}

int
secrets_register(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;
	struct secret *e;

	if (len < SECRETS_MIN_LEN)
		return 0;
	for (size_t i = 0; i < n_secrets; i++)
		if (table[i].raw_len == len && memcmp(table[i].raw, s, len) == 0)
			return 0;
	if ((e = realloc(table, (n_secrets + 1) * sizeof(*table))) == NULL)
		return -ENOMEM;
	table = e;
	e = &table[n_secrets];
	if ((e->raw = strdup(s)) == NULL ||
	    (e->json = json_form(s, len, &e->json_len)) == NULL) {
		free(e->raw);
		e->raw = NULL;
		return -ENOMEM;
	}
	e->raw_len = len;
	n_secrets++;
	return 0;
}

void
secrets_free(void)
{
	for (size_t i = 0; i < n_secrets; i++) {
		explicit_bzero(table[i].raw, table[i].raw_len);
		explicit_bzero(table[i].json, table[i].json_len);
		free(table[i].raw);
		free(table[i].json);
	}
	free(table);
	table = NULL;
	n_secrets = 0;
}

bool
secrets_any(void)
{
	return n_secrets > 0;
}

static void
form(const struct secret *e, bool json, const char **p, size_t *len)
{
	*p = json ? e->json : e->raw;
	*len = json ? e->json_len : e->raw_len;
}

/* The earliest registered value in s[from..len): its start and length. */
static const char *
earliest(const char *s, size_t len, size_t from, bool json, size_t *mlen)
{
	const char *best = NULL;

	for (size_t i = 0; i < n_secrets; i++) {
		const char *v, *at;
		size_t vl;

		form(&table[i], json, &v, &vl);
		at = memmem(s + from, len - from, v, vl);
		if (at != NULL && (best == NULL || at < best ||
		    (at == best && vl > *mlen))) {
			best = at;
			*mlen = vl;
		}
	}
	return best;
}

/* Length of the longest end of s[0..len) that is the start of a value
 * (SECRETS_TAIL_MIN bytes at least), or 0. */
static size_t
tail_match(const char *s, size_t len, bool json)
{
	size_t best = 0;

	for (size_t i = 0; i < n_secrets; i++) {
		const char *v;
		size_t vl, p;

		form(&table[i], json, &v, &vl);
		/* The first start found is the longest end. */
		for (p = len > vl - 1 ? len - (vl - 1) : 0;
		    p + SECRETS_TAIL_MIN <= len && len - p > best; p++) {
			if (s[p] == v[0] && memcmp(s + p, v, len - p) == 0) {
				best = len - p;
				break;
			}
		}
	}
	return best;
}

char *
secrets_scrub_dup(const char *s, size_t len, bool json, size_t *outlen)
{
	struct buf b;
	size_t from = 0, mlen = 0, tail;
	const char *at;

	buf_init(&b, SIZE_MAX / 2);
	while (n_secrets > 0 && (at = earliest(s, len, from, json, &mlen)) != NULL) {
		if (buf_append(&b, s + from, (size_t)(at - s) - from) != 0 ||
		    buf_append(&b, SECRETS_MASK, sizeof(SECRETS_MASK) - 1) != 0)
			goto nomem;
		from = (size_t)(at - s) + mlen;
		mlen = 0;
	}
	tail = n_secrets > 0 ? tail_match(s + from, len - from, json) : 0;
	if (buf_append(&b, s + from, len - from - tail) != 0 ||
	    (tail > 0 && buf_append(&b, SECRETS_MASK, sizeof(SECRETS_MASK) - 1) != 0))
		goto nomem;
	if (b.data == NULL && buf_append(&b, "", 0) != 0)
		goto nomem;
	if (outlen != NULL)
		*outlen = b.len;
	return buf_steal(&b);
nomem:
	buf_free(&b);
	return NULL;
}

void
secrets_scrub(char *s, size_t cap)
{
	size_t len, n;
	char *clean;

	if (n_secrets == 0 || cap == 0)
		return;
	len = strnlen(s, cap - 1);
	if ((clean = secrets_scrub_dup(s, len, false, &n)) == NULL) {
		/* Out of memory: show nothing rather than a secret. */
		s[0] = '\0';
		return;
	}
	if (n > cap - 1)
		n = cap - 1;
	memcpy(s, clean, n);
	s[n] = '\0';
	free(clean);
}

char *
secrets_url_redact(const char *url, char *out, size_t n)
{
	const char *start, *end, *at = NULL, *colon;
	size_t k = 0;

	if (n == 0)
		return out;
	start = strstr(url, "://");
	start = start != NULL ? start + 3 : url;
	end = start + strcspn(start, "/?#");
	for (const char *p = start; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL) {
		snprintf(out, n, "%s", url);
		return out;
	}
	colon = memchr(start, ':', (size_t)(at - start));
	/* Keep the scheme and the user name, mask the rest of the userinfo. */
	k = colon != NULL ? (size_t)(colon + 1 - url) : (size_t)(start - url);
	snprintf(out, n, "%.*s%s%s", (int)k, url, SECRETS_MASK, at);
	return out;
}
