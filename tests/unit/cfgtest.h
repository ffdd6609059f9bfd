/* cfgtest.h: helpers of the config tests: a temporary folder to write small
 * YAML inputs into, and diagnostics turned into comparable text. */
#ifndef CP_CFGTEST_H
#define CP_CFGTEST_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

/* Test data is written by the test itself: a failure here is a failure
 * of the environment, reported loudly. */
static inline void
cfgtest_die(const char *what, const char *path)
{
	fprintf(stderr, "cfgtest: %s %s: %s\n", what, path, strerror(errno));
	abort();
}

static inline char *
cfgtest_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (asprintf(&dir, "%s/cp-config-test.XXXXXX", base) < 0)
		abort();
	if (mkdtemp(dir) == NULL)
		cfgtest_die("mkdtemp", dir);
	return dir;
}

/* Writes len bytes to dir/rel, creating the folders on the way. */
static inline char *
cfgtest_write_len(const char *dir, const char *rel, const char *data,
    size_t len)
{
	char *path, *slash;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, rel) < 0)
		abort();
	for (slash = path + strlen(dir) + 1; (slash = strchr(slash, '/')) != NULL;
	    slash++) {
		*slash = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			cfgtest_die("mkdir", path);
		*slash = '/';
	}
	if ((f = fopen(path, "wb")) == NULL)
		cfgtest_die("fopen", path);
	if (len > 0 && fwrite(data, 1, len, f) != len)
		cfgtest_die("fwrite", path);
	if (fclose(f) != 0)
		cfgtest_die("fclose", path);
	return path;
}

static inline void
cfgtest_write(const char *dir, const char *rel, const char *text)
{
	free(cfgtest_write_len(dir, rel, text, strlen(text)));
}

static inline int
cfgtest_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

/* Removes the folder and everything in it (links are not followed). */
static inline void
cfgtest_rmtree(char *dir)
{
	if (dir == NULL)
		return;
	if (nftw(dir, cfgtest_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		cfgtest_die("remove", dir);
	free(dir);
}

/* Every diagnostic, one per line, with "prefix/" cut from file names so
 * the expectations read "a.yaml:3:5: error: ...". Caller frees. */
static inline char *
cfgtest_diags(const struct diag *d, const char *prefix)
{
	size_t plen = prefix ? strlen(prefix) : 0, cap = 256, len = 0;
	char *out = malloc(cap), line[2048];

	if (out == NULL)
		abort();
	out[0] = '\0';
	for (size_t i = 0; i < d->n; i++) {
		const char *l = line;
		size_t n;

		diag_format(&d->items[i], line, sizeof(line));
		if (plen > 0 && strncmp(line, prefix, plen) == 0 && line[plen] == '/')
			l = line + plen + 1;
		n = strlen(l);
		while (len + n + 2 > cap) {
			cap *= 2;
			if ((out = realloc(out, cap)) == NULL)
				abort();
		}
		memcpy(out + len, l, n);
		len += n;
		out[len++] = '\n';
		out[len] = '\0';
	}
	/* Cut the prefix wherever else it shows ("first declared at ..."). */
	if (plen > 0) {
		char *p;

		while ((p = strstr(out, prefix)) != NULL && p[plen] == '/')
			memmove(p, p + plen + 1, strlen(p + plen + 1) + 1);
	}
	return out;
}

#endif
