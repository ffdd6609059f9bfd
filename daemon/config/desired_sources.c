/* desired_sources.c: the files env values are read from, and the check
 * that they still hold what was read (desired_sources.h). The digests are
 * keyed with a random key drawn once per process, so that a digest kept in
 * memory says nothing about a secret to anyone without that key. */
#include "desired_sources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "desired.h"
#include "readfile.h"
#include "siphash.h"

/* What the loader reads of a value file: the value's limit, its newline
 * and one byte more, so an over-long value is told apart. */
#define SOURCE_READ_MAX (DESIRED_ENV_VALUE_MAX + 2)

static uint8_t key[SIPHASH_KEY_LEN];
static bool key_ready;

static const uint8_t *
source_key(void)
{
	size_t got = 0;

	while (!key_ready && got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;       /* no randomness: a fixed key still detects changes */
		got += (size_t)n;
	}
	key_ready = true;
	return key;
}

int
desired_source_read(const char *path, char *buf, size_t cap, size_t *len)
{
	/* A link is followed: the value's file is the person's to place. */
	return readfile_into(path, READFILE_FOLLOW, buf, cap, len, NULL, NULL, 0);
}

static uint64_t
digest_of(int rc, const char *buf, size_t len)
{
	struct siphash h;
	int32_t err = rc;

	siphash_init(&h, source_key());
	siphash_update(&h, &err, sizeof(err));
	if (rc == 0)
		siphash_update(&h, buf, len);
	return siphash_final(&h);
}

int
desired_sources_add(struct desired_sources *s, const char *path, int rc,
    const char *buf, size_t len)
{
	struct desired_source *src;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8;
		struct desired_source *p = realloc(s->items, ncap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		s->items = p;
		s->cap = ncap;
	}
	src = &s->items[s->n];
	if ((src->path = strdup(path)) == NULL)
		return -ENOMEM;
	src->digest = digest_of(rc, buf, len);
	s->n++;
	return 0;
}

int
desired_sources_changed(const struct desired_sources *s, bool *changed)
{
	char *buf = malloc(SOURCE_READ_MAX);

	*changed = false;
	if (buf == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < s->n && !*changed; i++) {
		size_t len;
		int rc = desired_source_read(s->items[i].path, buf, SOURCE_READ_MAX, &len);

		*changed = digest_of(rc, buf, len) != s->items[i].digest;
	}
	explicit_bzero(buf, SOURCE_READ_MAX);
	free(buf);
	return 0;
}

void
desired_sources_free(struct desired_sources *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].path);
	free(s->items);
	memset(s, 0, sizeof(*s));
}
