/* test_sim_common.h: shared helpers of the simulator suites (JSON answers, resets, counts). */
#ifndef TEST_SIM_COMMON_H
#define TEST_SIM_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

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
		fail_msg("POST %s %s: status %ld, want %ld: %.300s", path,
		    body ? body : "(no body)", r.status, want, r.body);
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

/* Any /v1 method: expects status want; the parsed body (JSON null when
 * the body is empty). */
static inline cJSON *
call_json(const struct sim *s, const char *method, const char *path,
    const char *body, long want)
{
	struct sim_response r;
	char full[1024];
	cJSON *j;

	snprintf(full, sizeof(full), "/v1%s", path);
	assert_int_equal(sim_request(s, method, full, s->token, body, &r), 0);
	if (r.status != want)
		fail_msg("%s %s %s: status %ld, want %ld: %.300s", method, path,
		    body ? body : "(no body)", r.status, want, r.body);
	j = r.len ? body_json(&r) : cJSON_CreateNull();
	sim_response_free(&r);
	return j;
}

/* Any /v1 method: expects an error with this status and code. */
static inline void
call_expect(const struct sim *s, const char *method, const char *path,
    const char *body, long status, const char *code)
{
	struct sim_response r;
	char full[1024];

	snprintf(full, sizeof(full), "/v1%s", path);
	assert_int_equal(sim_request(s, method, full, s->token, body, &r), 0);
	expect_error(&r, status, code);
	sim_response_free(&r);
}

/* Wall-clock milliseconds, the simulator's clock (same machine). */
static inline double
now_ms_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000);
}

static inline cJSON *
admin_json(const struct sim *s, const char *path, const char *body, long want)
{
	struct sim_response r;
	cJSON *j;

	if (body != NULL)
		assert_int_equal(sim_admin_post(s, path, body, &r), 0);
	else
		assert_int_equal(sim_admin_get(s, path, &r), 0);
	if (r.status != want)
		fail_msg("%s %s: status %ld, want %ld: %.300s",
		    body ? "POST" : "GET", path, r.status, want, r.body);
	j = r.len ? body_json(&r) : cJSON_CreateNull();
	sim_response_free(&r);
	return j;
}

static inline bool
is_true(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static inline bool
is_false(const cJSON *o, const char *key)
{
	return cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, key));
}

static inline bool
is_null(const cJSON *o, const char *key)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key));
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

static inline double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
discard_body(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

#define PAR_MAX 256

/* n requests at once with curl multi (one connection each). body may hold
 * one %d, replaced by the request's index. Fills status[i] (0 when the
 * transfer failed) and returns the wall time in seconds. */
static inline double
parallel_requests(const struct sim *s, const char *method, const char *path,
    const char *body_fmt, int n, long *status)
{
	CURL *e[PAR_MAX];
	char bodies[PAR_MAX][256], url[512], auth[256];
	struct curl_slist *h = NULL;
	CURLM *m = curl_multi_init();
	int running = 0;
	double t0 = mono_s();

	assert_true(n <= PAR_MAX);
	snprintf(url, sizeof(url), "%s%s", s->url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->token);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
	for (int i = 0; i < n; i++) {
		e[i] = curl_easy_init();
		curl_easy_setopt(e[i], CURLOPT_URL, url);
		curl_easy_setopt(e[i], CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e[i], CURLOPT_TIMEOUT, 60L);
		curl_easy_setopt(e[i], CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, discard_body);
		curl_easy_setopt(e[i], CURLOPT_PRIVATE, (void *)(intptr_t)i);
		if (body_fmt != NULL) {
			const char *pct = strstr(body_fmt, "%d");

			if (pct != NULL)
				snprintf(bodies[i], sizeof(bodies[i]), "%.*s%d%s",
				    (int)(pct - body_fmt), body_fmt, i, pct + 2);
			else
				snprintf(bodies[i], sizeof(bodies[i]), "%s", body_fmt);
			curl_easy_setopt(e[i], CURLOPT_POSTFIELDS, bodies[i]);
		}
		curl_easy_setopt(e[i], CURLOPT_CUSTOMREQUEST, method);
		curl_multi_add_handle(m, e[i]);
		status[i] = 0;
	}
	do {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			void *priv;
			long code = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
			if (msg->data.result == CURLE_OK)
				curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_RESPONSE_CODE, &code);
			status[(intptr_t)priv] = code;
		}
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	} while (running > 0);
	for (int i = 0; i < n; i++) {
		curl_multi_remove_handle(m, e[i]);
		curl_easy_cleanup(e[i]);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(h);
	return mono_s() - t0;
}

#endif
