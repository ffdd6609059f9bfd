/* token.c: read the API token from a file, a systemd credential or the
 * environment; refuse files others can read and tokens that could inject. */
#include "token.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "readfile.h"
#include "secrets.h"

static void
wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

/* Trims in place and checks what is left; returns 0 or -EINVAL. */
static int
check_trim(char *s, const char *what, char *err, size_t errlen)
{
	size_t len = strlen(s), start = 0;

	while (start < len && (s[start] == ' ' || s[start] == '\t' ||
	    s[start] == '\n' || s[start] == '\r' || s[start] == '\v' ||
	    s[start] == '\f'))
		start++;
	while (len > start && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
	    s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == '\v' ||
	    s[len - 1] == '\f'))
		len--;
	memmove(s, s + start, len - start);
	s[len - start] = '\0';
	len -= start;
	if (len == 0) {
		snprintf(err, errlen, "%s: the token is empty", what);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f) {
			snprintf(err, errlen, "%s: the token holds a space or a "
			    "control character (at byte %zu)", what, i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* `forbidden` is the set of mode bits that make the file unsafe. The
 * token is read onto the stack (readfile_into allocates nothing) and the
 * stack wiped, whatever happens. */
static int
read_file(const char *path, mode_t forbidden, struct token *out, char *err,
    size_t errlen)
{
	char buf[TOKEN_MAX + 2], what[160];
	struct stat st;
	size_t len;
	int rc;

	rc = readfile_into(path, READFILE_FOLLOW, buf, sizeof(buf) - 1, &len,
	    &st, what, sizeof(what));
	if (rc != 0) {
		snprintf(err, errlen, "token file %s: %s", path, what);
		goto out;
	}
	if ((st.st_mode & forbidden) != 0) {
		snprintf(err, errlen, "token file %s has mode %04o: it must not "
		    "be readable or writable by %s (chmod 600 %s)", path,
		    (unsigned)(st.st_mode & 07777),
		    (forbidden & (S_IRGRP | S_IWGRP)) ? "group or others" :
		    "others", path);
		rc = -EPERM;
		goto out;
	}
	buf[len] = '\0';
	if (len > TOKEN_MAX) {
		snprintf(err, errlen, "token file %s: larger than %d bytes", path,
		    TOKEN_MAX);
		rc = -EFBIG;
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "token file %s: holds a NUL byte", path);
		rc = -EINVAL;
		goto out;
	}
	{
		char w[300];

		snprintf(w, sizeof(w), "token file %s", path);
		if ((rc = check_trim(buf, w, err, errlen)) != 0)
			goto out;
	}
	if ((out->value = strdup(buf)) == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "token file %s: out of memory", path);
		goto out;
	}
	rc = 0;
out:
	wipe(buf, sizeof(buf));
	return rc;
}

static int
load_any(const char *token_file, struct token *out, char *err, size_t errlen)
{
	const char *dir, *env;
	char path[4096];
	int rc;

	out->value = NULL;
	out->source[0] = '\0';
	if (errlen > 0)
		err[0] = '\0';

	if (token_file != NULL && *token_file != '\0') {
		if ((rc = read_file(token_file, S_IRGRP | S_IWGRP | S_IROTH |
		    S_IWOTH, out, err, errlen)) != 0)
			return rc;
		snprintf(out->source, sizeof(out->source), "file %.300s",
		    token_file);
		return 0;
	}

	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir != NULL && *dir != '\0') {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    TOKEN_CREDENTIAL) >= sizeof(path)) {
			snprintf(err, errlen, "CREDENTIALS_DIRECTORY is too long");
			return -ENAMETOOLONG;
		}
		if (access(path, F_OK) == 0) {
			if ((rc = read_file(path, S_IROTH | S_IWOTH, out, err,
			    errlen)) != 0)
				return rc;
			snprintf(out->source, sizeof(out->source),
			    "credential %.300s", path);
			return 0;
		}
	}

	env = getenv(TOKEN_ENV);
	if (env != NULL) {
		size_t n = strlen(env);
		if (n > TOKEN_MAX) {
			snprintf(err, errlen, "%s: larger than %d bytes",
			    TOKEN_ENV, TOKEN_MAX);
			return -EFBIG;
		}
		if ((out->value = strdup(env)) == NULL)
			return -ENOMEM;
		if ((rc = check_trim(out->value, TOKEN_ENV, err, errlen)) != 0) {
			token_free(out);
			return rc;
		}
		snprintf(out->source, sizeof(out->source), "environment %s",
		    TOKEN_ENV);
		return 0;
	}

	snprintf(err, errlen, "no API token: use --token-file FILE, a systemd "
	    "credential named %s (LoadCredential=), or the %s environment "
	    "variable", TOKEN_CREDENTIAL, TOKEN_ENV);
	return -ENOENT;
}

int
token_load(const char *token_file, struct token *out, char *err, size_t errlen)
{
	int rc = load_any(token_file, out, err, errlen);

	/* From now on every output edge masks it (secrets.h). */
	if (rc == 0 && secrets_register(out->value) != 0) {
		token_free(out);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return rc;
}

void
token_free(struct token *t)
{
	if (t == NULL)
		return;
	if (t->value != NULL) {
		wipe(t->value, strlen(t->value));
		free(t->value);
	}
	t->value = NULL;
	t->source[0] = '\0';
}
