/* test_audit.c: one parseable JSON line per action, appended. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "audit.h"

static void
test_format(void **state)
{
	struct audit_entry e = {
		.op = "delete", .kind = "deployment", .project = "shop",
		.project_id = 12, .reference = "old", .name = "happy-otter-1",
		.result = "error", .error = "HTTP 500 InternalServerError: \"boom\"",
	};
	char *line;
	cJSON *o;
	(void)state;

	line = audit_format(&e, 0);
	assert_non_null(line);
	assert_null(strchr(line, '\n'));
	o = cJSON_Parse(line);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "time")->valuestring, "1970-01-01T00:00:00Z");
	assert_string_equal(cJSON_GetObjectItem(o, "op")->valuestring, "delete");
	assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "happy-otter-1");
	assert_int_equal((int)cJSON_GetObjectItem(o, "projectId")->valuedouble, 12);
	assert_string_equal(cJSON_GetObjectItem(o, "error")->valuestring, e.error);
	cJSON_Delete(o);
	free(line);

	/* Optional fields are left out, not written as null. */
	e.reference = e.name = e.error = NULL;
	e.project_id = 0;
	e.result = "ok";
	line = audit_format(&e, 0);
	o = cJSON_Parse(line);
	assert_null(cJSON_GetObjectItem(o, "reference"));
	assert_null(cJSON_GetObjectItem(o, "projectId"));
	assert_null(cJSON_GetObjectItem(o, "error"));
	cJSON_Delete(o);
	free(line);
}

/* Ids are written exactly, whatever their size (issue 14): 2^53 + 1 and
 * INT64_MAX as their own digits, not as the nearest double. */
static void
test_exact_ids(void **state)
{
	static const struct {
		int64_t id;
		const char *text;
	} rows[] = {
		{ 9007199254740993LL, "\"projectId\":9007199254740993," },
		{ INT64_MAX, "\"projectId\":9223372036854775807," },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct audit_entry e = { .op = "create", .kind = "project",
		    .project = "p", .project_id = rows[i].id, .result = "ok" };
		char *line = audit_format(&e, 0);
		cJSON *o;

		assert_non_null(line);
		if (strstr(line, rows[i].text) == NULL)
			fail_msg("%s does not hold %s", line, rows[i].text);
		assert_non_null(o = cJSON_Parse(line));   /* still valid JSON */
		cJSON_Delete(o);
		free(line);
	}
}

static void
test_append(void **state)
{
	char path[] = "/tmp/cp-audit-XXXXXX";
	struct audit_entry e = { .op = "create", .kind = "project", .project = "p", .result = "ok" };
	char line[512];
	int fd = mkstemp(path), n = 0;
	FILE *f;
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	for (int i = 0; i < 3; i++)
		assert_int_equal(audit_append(path, &e), 0);
	f = fopen(path, "r");
	while (fgets(line, sizeof(line), f)) {
		cJSON *o = cJSON_Parse(line);
		assert_non_null(o);
		cJSON_Delete(o);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 3);
	unlink(path);
	assert_int_not_equal(audit_append("/nonexistent-dir/actions.jsonl", &e), 0);
}

/* A FIFO (or anything not a regular file) at the audit trail's path is
 * refused at once: opening it for writing must not block (issue 18). */
static void
test_not_regular_refused(void **state)
{
	struct audit_entry e = {
		.op = "create", .kind = "project", .project = "shop",
		.result = "ok",
	};
	char dir[] = "/tmp/cp-audit-fifo-XXXXXX", path[128], link_path[160];
	int rfd;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/actions.jsonl", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_int_equal(audit_append(path, &e), -ENXIO);     /* no reader */
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_int_equal(audit_append(path, &e), -EINVAL);    /* a reader */
	close(rfd);
	alarm(0);
	unlink(path);
	snprintf(link_path, sizeof(link_path), "%s/target", dir);
	assert_int_equal(symlink(link_path, path), 0);
	assert_int_equal(audit_append(path, &e), -ELOOP);
	assert_int_not_equal(access(link_path, F_OK), 0);    /* not created */
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_exact_ids),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_not_regular_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
