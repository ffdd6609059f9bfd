/* audit.c: append-only JSON lines describing every action taken. */
#include "audit.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jsonint.h"
#include "textesc.h"

static int
add_opt_string(cJSON *o, const char *key, const char *v)
{
	return v == NULL || cJSON_AddStringToObject(o, key, v) != NULL;
}

static int
add_changes(cJSON *o, const cJSON *changes)
{
	cJSON *copy;

	if (changes == NULL)
		return 1;
	if ((copy = cJSON_Duplicate(changes, 1)) == NULL)
		return 0;
	if (!cJSON_AddItemToObject(o, "changes", copy)) {
		cJSON_Delete(copy);
		return 0;
	}
	return 1;
}

/* "changes": [{"type","name","change"}]: which names, never a value. */
static int
add_env_changes(cJSON *o, const struct audit_entry *e)
{
	cJSON *arr;

	if (e->n_env == 0)
		return 1;
	if ((arr = cJSON_AddArrayToObject(o, "changes")) == NULL)
		return 0;
	for (size_t i = 0; i < e->n_env; i++) {
		cJSON *c = cJSON_CreateObject();

		if (c == NULL || !cJSON_AddItemToArray(arr, c)) {
			cJSON_Delete(c);
			return 0;
		}
		if (!cJSON_AddStringToObject(c, "type", dep_type_name(e->env[i].type)) ||
		    !cJSON_AddStringToObject(c, "name", e->env[i].name) ||
		    !cJSON_AddStringToObject(c, "change", plan_env_op_name(e->env[i].change)))
			return 0;
	}
	return 1;
}

char *
audit_format(const struct audit_entry *e, double unix_time)
{
	cJSON *o = cJSON_CreateObject();
	char *line = NULL, *raw, ts[40];
	time_t secs = (time_t)unix_time;
	struct tm tm;

	if (o == NULL)
		return NULL;
	gmtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (cJSON_AddStringToObject(o, "time", ts) &&
	    cJSON_AddStringToObject(o, "op", e->op) &&
	    cJSON_AddStringToObject(o, "kind", e->kind) &&
	    add_opt_string(o, "project", e->project) &&
	    /* Exact, however large (jsonint.h): a rounded id names another. */
	    (e->project_id == 0 || jsonint_add(o, "projectId", e->project_id)) &&
	    add_opt_string(o, "reference", e->reference) &&
	    add_opt_string(o, "name", e->name) &&
	    add_changes(o, e->changes) &&
	    add_opt_string(o, "domain", e->domain) &&
	    add_opt_string(o, "destination", e->destination) &&
	    add_opt_string(o, "key", e->key) &&
	    add_env_changes(o, e) &&
	    cJSON_AddStringToObject(o, "result", e->result) &&
	    add_opt_string(o, "error", e->error) &&
	    (raw = cJSON_PrintUnformatted(o)) != NULL) {
		/* One valid UTF-8 line, controls escaped, secrets masked. */
		line = textesc_json_clean(raw);
		cJSON_free(raw);
	}
	cJSON_Delete(o);
	return line;
}

int
audit_append(const char *path, const struct audit_entry *e)
{
	char *line = audit_format(e, (double)time(NULL)), *buf;
	struct stat st;
	size_t len;
	ssize_t n;
	int fd, rc = 0;

	if (line == NULL)
		return -ENOMEM;
	len = strlen(line);
	buf = realloc(line, len + 2);
	if (buf == NULL) {
		free(line);
		return -ENOMEM;
	}
	buf[len++] = '\n';
	buf[len] = '\0';
	/* O_NONBLOCK | O_NOFOLLOW: a FIFO without a reader fails at once
	 * (ENXIO) instead of blocking the loop for good, a link is not
	 * followed; and whatever opened must be a regular file. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK | O_NOCTTY, 0600);
	if (fd < 0) {
		rc = -errno;
	} else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		close(fd);
	} else {
		do {
			n = write(fd, buf, len);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			rc = -errno;
		else if ((size_t)n != len)
			rc = -EIO;
		if (close(fd) != 0 && rc == 0)
			rc = -errno;
	}
	free(buf);
	return rc;
}
