/* test_sim_common.h: shared helpers of the simulator suites (JSON answers, resets, counts). */
#ifndef TEST_SIM_COMMON_H
#define TEST_SIM_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "support/sim_harness.h"

/* Parses a response body that must be JSON (fails the test otherwise). */
static inline cJSON *
body_json(const struct sim_response *r)
{
	cJSON *j = cJSON_Parse(r->body);

	if (j == NULL)
		fail_msg("not JSON (status %ld): %.300s", r->status, r->body);
	return j;
}

/* GET path, expect status, return parsed body. */
static inline cJSON *
get_json(const struct sim *s, const char *path, long want)
{
	struct sim_response r;
	cJSON *j;

	assert_int_equal(sim_get(s, path, &r), 0);
	if (r.status != want)
		fail_msg("GET %s: status %ld, want %ld: %.300s", path, r.status,
		    want, r.body);
	j = body_json(&r);
	sim_response_free(&r);
	return j;
}

static inline cJSON *
post_json(const struct sim *s, const char *path, const char *body, long want)
{
	struct sim_response r;
	cJSON *j;

	assert_int_equal(sim_post(s, path, body, &r), 0);
	if (r.status != want)
		fail_msg("POST %s %s: status %ld, want %ld: %.300s", path, body,
		    r.status, want, r.body);
	j = r.len ? body_json(&r) : cJSON_CreateNull();
	sim_response_free(&r);
	return j;
}

/* Expects an error answer with this status and code. */
static inline void
expect_error(const struct sim_response *r, long status, const char *code)
{
	cJSON *j, *c, *m;

	if (r->status != status)
		fail_msg("status %ld, want %ld: %.300s", r->status, status, r->body);
	j = body_json(r);
	c = cJSON_GetObjectItemCaseSensitive(j, "code");
	m = cJSON_GetObjectItemCaseSensitive(j, "message");
	assert_true(cJSON_IsString(c));
	assert_true(cJSON_IsString(m));
	assert_true(strlen(m->valuestring) > 0);
	if (code != NULL && strcmp(c->valuestring, code) != 0)
		fail_msg("code %s, want %s (%s)", c->valuestring, code, m->valuestring);
	cJSON_Delete(j);
}

static inline void
post_expect(const struct sim *s, const char *path, const char *body,
    long status, const char *code)
{
	struct sim_response r;

	assert_int_equal(sim_post(s, path, body, &r), 0);
	expect_error(&r, status, code);
	sim_response_free(&r);
}

static inline void
get_expect(const struct sim *s, const char *path, long status,
    const char *code)
{
	struct sim_response r;

	assert_int_equal(sim_get(s, path, &r), 0);
	expect_error(&r, status, code);
	sim_response_free(&r);
}

static inline void
sim_reset(const struct sim *s)
{
	struct sim_response r;

	assert_int_equal(sim_admin_post(s, "/_sim/reset", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
}

static inline cJSON *
sim_stats(const struct sim *s)
{
	struct sim_response r;
	cJSON *j;

	assert_int_equal(sim_admin_get(s, "/_sim/stats", &r), 0);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	sim_response_free(&r);
	return j;
}

static inline cJSON *
sim_state(const struct sim *s)
{
	struct sim_response r;
	cJSON *j;

	assert_int_equal(sim_admin_get(s, "/_sim/state", &r), 0);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	sim_response_free(&r);
	return j;
}

/* A number at a path of object keys, e.g. num(j, "creates", "project", NULL). */
static inline double
num(const cJSON *j, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, j);
	while ((k = va_arg(ap, const char *)) != NULL)
		j = cJSON_GetObjectItemCaseSensitive(j, k);
	va_end(ap);
	if (!cJSON_IsNumber(j))
		return -1;
	return j->valuedouble;
}

static inline const char *
str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline long
count_state(const struct sim *s, const char *what)
{
	cJSON *st = sim_state(s);
	long n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, what));

	cJSON_Delete(st);
	return n;
}

static inline int
start_sim(struct sim *s, const char *const *args)
{
	int rc = sim_start(s, args);

	if (rc != 0)
		fprintf(stderr, "sim_start: %s (CP_BUILD_DIR=%s)\n", strerror(-rc),
		    getenv("CP_BUILD_DIR") ? getenv("CP_BUILD_DIR") : "unset");
	return rc;
}

#endif
