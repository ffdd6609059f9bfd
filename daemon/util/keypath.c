/* keypath.c: the injective, traversal-safe path of a deploy key's secret
 * file (keypath.h). */
#include "keypath.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool
kept(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '_' || ch == '-';
}

int
keypath_component(char *out, size_t n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0, seg = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		size_t w = kept(ch) ? 1 : 3;

		/* A byte whose encoding would pass the segment's end starts a
		 * new folder: never cut inside a %XX. */
		if (seg + w > KEYPATH_SEGMENT_MAX - 1) {
			if (k + 2 >= n)
				return -ENAMETOOLONG;
			out[k++] = '+';
			out[k++] = '/';
			seg = 0;
		}
		if (k + w >= n)
			return -ENAMETOOLONG;
		if (w == 1) {
			out[k++] = (char)ch;
		} else {
			out[k++] = '%';
			out[k++] = hex[ch >> 4];
			out[k++] = hex[ch & 15];
		}
		seg += w;
	}
	out[k] = '\0';
	return 0;
}

int
keypath_relative(char *out, size_t n, const char *project,
    const char *reference, const char *key)
{
	const char *parts[3] = { project, reference, key };
	size_t k = 0;
	int rc;

	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			if (k + 1 >= n)
				return -ENAMETOOLONG;
			out[k++] = '/';
		}
		if ((rc = keypath_component(out + k, n - k, parts[i])) != 0)
			return rc;
		k += strlen(out + k);
	}
	return 0;
}
