/* intents_file.c: the create intents' file, state_dir/intents.jsonl: one
 * JSON line per intent (written exactly, read tolerantly: a line not
 * understood is skipped and counted), appended with one fsync per batch,
 * rewritten atomically. The rules are in intents.h. */
#include "intents.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "atomicfile.h"
#include "jsonint.h"
#include "readfile.h"

#define INTENTS_VERSION 1

/* ---- lines ------------------------------------------------------------- */

/* {"version":1,"kind":"deployment","project":"shop","projectId":12,
 *  "reference":"staging","time":1712345678901,"conflict":true}
 * {"version":1,"kind":"deploy_key","project":"shop","projectId":12,
 *  "reference":"production","deployment":"happy-otter-123","name":"ci",
 *  "time":1712345678901}
 * Numbers exact (jsonint.h); strings as cJSON escapes them, byte for byte
 * otherwise (no scrubbing: a name must read back as itself). */
static char *
to_line(const struct intent *it)
{
	cJSON *o = cJSON_CreateObject();
	char *line = NULL;

	if (o != NULL && jsonint_add(o, "version", INTENTS_VERSION) &&
	    cJSON_AddStringToObject(o, "kind", intent_kind_name(it->kind)) &&
	    cJSON_AddStringToObject(o, "project", it->project) &&
	    (it->project_id == 0 || jsonint_add(o, "projectId", it->project_id)) &&
	    (it->reference == NULL ||
	    cJSON_AddStringToObject(o, "reference", it->reference)) &&
	    (it->deployment == NULL ||
	    cJSON_AddStringToObject(o, "deployment", it->deployment)) &&
	    (it->name == NULL || cJSON_AddStringToObject(o, "name", it->name)) &&
	    jsonint_add(o, "time", it->time_ms) &&
	    (!it->conflict || cJSON_AddTrueToObject(o, "conflict")) &&
	    (!it->protect || cJSON_AddTrueToObject(o, "protect")))
		line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

static const char *
get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One line: 0, -EBADMSG (not an intent this version reads), -ENOMEM. */
static int
from_line(const char *text, size_t len, struct intents *out)
{
	char why[200];
	cJSON *o = jsonint_parse(text, len, why, sizeof(why));
	const cJSON *v, *prot;
	const char *kind, *project, *reference, *deployment, *name;
	int64_t version, time_ms, pid = 0;
	enum intent_kind k;
	int rc = -EBADMSG;

	if (!cJSON_IsObject(o))
		goto out;
	kind = get_str(o, "kind");
	project = get_str(o, "project");
	reference = get_str(o, "reference");
	deployment = get_str(o, "deployment");
	name = get_str(o, "name");
	if (jsonint_get(cJSON_GetObjectItemCaseSensitive(o, "version"), &version) != 0 ||
	    version != INTENTS_VERSION || kind == NULL || intent_kind_parse(kind, &k) != 0 ||
	    project == NULL || *project == '\0' ||
	    jsonint_get(cJSON_GetObjectItemCaseSensitive(o, "time"), &time_ms) != 0 ||
	    time_ms <= 0)
		goto out;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "projectId")) != NULL &&
	    (jsonint_get(v, &pid) != 0 || pid <= 0))
		goto out;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "conflict")) != NULL &&
	    !cJSON_IsBool(v))
		goto out;
	if ((prot = cJSON_GetObjectItemCaseSensitive(o, "protect")) != NULL &&
	    !cJSON_IsBool(prot))
		goto out;
	/* Each kind with exactly its fields: a project has a name alone; a
	 * deployment a reference; a domain or a key a reference and a name,
	 * and its deployment's name or not. Any other key is present only as
	 * the wrong type when it is one of these. */
	if (k == INTENT_PROJECT ? (reference != NULL || pid != 0) :
	    (reference == NULL || *reference == '\0'))
		goto out;
	if ((cJSON_GetObjectItemCaseSensitive(o, "deployment") != NULL &&
	    deployment == NULL) ||
	    (cJSON_GetObjectItemCaseSensitive(o, "name") != NULL && name == NULL))
		goto out;
	if (k == INTENT_PROJECT || k == INTENT_DEPLOYMENT ?
	    (deployment != NULL || name != NULL) :
	    (name == NULL || *name == '\0' ||
	    (deployment != NULL && *deployment == '\0')))
		goto out;
	if ((rc = intents_add_named(out, k, project, pid, reference, deployment,
	    name, time_ms)) == 0) {
		out->items[out->n - 1].conflict = cJSON_IsTrue(v);
		out->items[out->n - 1].protect = cJSON_IsTrue(prot);
	}
out:
	cJSON_Delete(o);
	return rc;
}

int
intents_parse(const char *text, size_t len, struct intents *out, size_t *bad,
    size_t *first_bad)
{
	size_t pos = 0, line = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	*bad = 0;
	*first_bad = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t a = pos, b = end;

		line++;
		while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
			b--;
		if (a < b) {
			rc = from_line(text + a, b - a, out);
			if (rc == -ENOMEM) {
				intents_free(out);
				return rc;
			}
			if (rc != 0 && (*bad)++ == 0)
				*first_bad = line;
		}
		pos = end + 1;
	}
	return 0;
}

char *
intents_to_text(const struct intents *in, size_t from)
{
	size_t len = 0, cap = 256;
	char *text = malloc(cap), *line;

	if (text == NULL)
		return NULL;
	text[0] = '\0';
	for (size_t i = from; i < in->n; i++) {
		size_t n;

		if ((line = to_line(&in->items[i])) == NULL) {
			free(text);
			return NULL;
		}
		n = strlen(line);
		if (len + n + 2 > cap) {
			char *p;

			while (len + n + 2 > cap)
				cap *= 2;
			if ((p = realloc(text, cap)) == NULL) {
				cJSON_free(line);
				free(text);
				return NULL;
			}
			text = p;
		}
		memcpy(text + len, line, n);
		len += n;
		text[len++] = '\n';
		text[len] = '\0';
		cJSON_free(line);
	}
	return text;
}

/* ---- the file ---------------------------------------------------------- */

int
intents_load(const char *path, struct intents *out, size_t *bad, bool *clean,
    char *err, size_t errlen)
{
	char *text;
	size_t len, first_bad;
	int rc;

	memset(out, 0, sizeof(*out));
	*bad = 0;
	*clean = true;
	rc = readfile(path, INTENTS_MAX_BYTES, &text, &len, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	rc = intents_parse(text, len, out, bad, &first_bad);
	if (rc == 0 && *bad > 0)
		snprintf(err, errlen, "%zu line%s not understood (the first: line "
		    "%zu), skipped", *bad, *bad == 1 ? "" : "s", first_bad);
	*clean = *bad == 0 && (len == 0 || text[len - 1] == '\n');
	free(text);
	return rc;
}

/* Opens path for writing without following a link or blocking on a FIFO;
 * it must be a regular file. *created: it did not exist. */
static int
open_regular(const char *path, int flags, bool *created)
{
	int common = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd;

	*created = false;
	fd = open(path, common | flags | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		*created = true;
	else if (errno == EEXIST)
		fd = open(path, common | flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int
intents_append(const char *path, const struct intents *in, size_t from,
    char *err, size_t errlen)
{
	char *text;
	struct stat st = { .st_size = -1 };
	bool created;
	int fd, rc;

	if (from >= in->n)
		return 0;
	if ((text = intents_to_text(in, from)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((fd = open_regular(path, O_APPEND, &created)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-fd));
		free(text);
		return fd;
	}
	rc = fstat(fd, &st) == 0 ? 0 : -errno;
	if (rc == 0)
		rc = atomicfile_write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		/* Best effort: no torn line left behind (one would be skipped
		 * when read, and the next write rewrites the file). */
		if (st.st_size >= 0 && ftruncate(fd, st.st_size) != 0)
			errno = 0;
	}
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	}
	free(text);
	if (rc == 0 && created && (rc = atomicfile_sync_dir(path)) != 0)
		snprintf(err, errlen, "cannot sync the folder of %s: %s", path,
		    strerror(-rc));
	return rc;
}

static int
truncate_file(const char *path, char *err, size_t errlen)
{
	bool created;
	int fd, rc = 0;

	if ((fd = open_regular(path, O_TRUNC, &created)) < 0) {
		snprintf(err, errlen, "cannot empty %s: %s", path, strerror(-fd));
		return fd;
	}
	if (fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && created)
		rc = atomicfile_sync_dir(path);
	if (rc != 0)
		snprintf(err, errlen, "cannot empty %s: %s", path, strerror(-rc));
	return rc;
}

int
intents_save(const char *path, const struct intents *in, char *err, size_t errlen)
{
	char *text;
	int rc;

	if (in->n == 0) {
		struct stat st;

		if (lstat(path, &st) != 0 && errno == ENOENT)
			return 0;
		return truncate_file(path, err, errlen);
	}
	if ((text = intents_to_text(in, 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = atomicfile_write(path, text, strlen(text), err, errlen);
	free(text);
	return rc;
}

