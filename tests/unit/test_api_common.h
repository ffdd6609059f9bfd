/* test_api_common.h: helpers shared by the API client tests: a loop with a
 * deadline, result collectors for every callback type, a log capture, and
 * the teardown that proves no handle leaked (uv_loop_close == 0). */
#ifndef CP_TEST_API_COMMON_H
#define CP_TEST_API_COMMON_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "api.h"
#include "api_decode.h"
#include "log.h"

/* What one callback reported. `calls` counts invocations: exactly one is
 * the contract. */
struct res {
	int calls;
	int rc;
	struct api_error err;
	bool has_err;
	int64_t id;
	char *slug;
	struct observed_project *projects;
	struct observed_deployment *deps;
	size_t n;
	struct strpool strings;  /* of projects and deps (api.h) */
	struct observed_deployment dep;
	bool has_dep;
	uint64_t at_ms;         /* uv_now when it ran */
	uv_loop_t *loop;        /* set by the test (for at_ms) */
};

static inline void
res_note(struct res *r, int rc, const struct api_error *err)
{
	r->calls++;
	r->rc = rc;
	r->has_err = err != NULL;
	if (err != NULL)
		r->err = *err;
	else
		memset(&r->err, 0, sizeof(r->err));
	if (r->loop != NULL)
		r->at_ms = uv_now(r->loop);
}

static inline void
res_done(void *arg, int rc, const struct api_error *err)
{
	res_note(arg, rc, err);
}

static inline void
res_token(void *arg, int rc, const struct api_error *err, int64_t team)
{
	struct res *r = arg;

	res_note(r, rc, err);
	r->id = team;
}

static inline void
res_projects(void *arg, int rc, const struct api_error *err,
    struct observed_project *items, size_t n, struct strpool *strings)
{
	struct res *r = arg;

	res_note(r, rc, err);
	free(r->projects);
	r->projects = items;
	r->n = n;
	strpool_move(&r->strings, strings);
}

static inline void
res_deployments(void *arg, int rc, const struct api_error *err,
    struct observed_deployment *items, size_t n, struct strpool *strings)
{
	struct res *r = arg;

	res_note(r, rc, err);
	free(r->deps);
	r->deps = items;
	r->n = n;
	strpool_move(&r->strings, strings);
}

static inline void
res_created(void *arg, int rc, const struct api_error *err, int64_t id,
    const char *slug)
{
	struct res *r = arg;

	res_note(r, rc, err);
	r->id = id;
	free(r->slug);
	r->slug = slug ? strdup(slug) : NULL;
}

static inline void
res_deployment(void *arg, int rc, const struct api_error *err,
    struct observed_deployment *d)
{
	struct res *r = arg;

	res_note(r, rc, err);
	if (r->has_dep)
		observed_deployment_free(&r->dep);
	r->has_dep = d != NULL;
	if (d != NULL) {
		r->dep = *d;
		r->dep.name = xstrdup_null(d->name);
		r->dep.reference = xstrdup_null(d->reference);
		r->dep.region = xstrdup_null(d->region);
		r->dep.class_name = xstrdup_null(d->class_name);
		r->dep.url = xstrdup_null(d->url);
	}
}

static inline void
res_free(struct res *r)
{
	free(r->projects);
	free(r->deps);
	strpool_free(&r->strings);
	free(r->slug);
	if (r->has_dep)
		observed_deployment_free(&r->dep);
	memset(r, 0, sizeof(*r));
}

/* ---- the loop ------------------------------------------------------------ */

static inline void
on_wake(uv_timer_t *t)
{
	(void)t;
}

/* Runs the loop until *counter >= want or timeout_ms passes (which fails
 * the test). A wake-up timer keeps the loop from blocking forever. */
static inline void
run_until(uv_loop_t *loop, const int *counter, int want, uint64_t timeout_ms)
{
	uv_timer_t wake;
	uint64_t deadline = uv_hrtime() + timeout_ms * 1000000ULL;

	uv_timer_init(loop, &wake);
	uv_timer_start(&wake, on_wake, 50, 50);
	while (*counter < want && uv_hrtime() < deadline)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wake, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	if (*counter < want)
		fail_msg("timed out after %llu ms: %d of %d callbacks",
		    (unsigned long long)timeout_ms, *counter, want);
}

/* Runs the loop for about ms milliseconds, whatever happens. */
static inline void
run_for(uv_loop_t *loop, uint64_t ms)
{
	int never = 0;
	uv_timer_t wake;
	uint64_t deadline = uv_hrtime() + ms * 1000000ULL;

	uv_timer_init(loop, &wake);
	uv_timer_start(&wake, on_wake, 10, 10);
	while (never == 0 && uv_hrtime() < deadline)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wake, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static inline void
on_client_closed(void *arg)
{
	(*(int *)arg)++;
}

/* Closes the client, drains the loop, and proves nothing is left open. */
static inline void
close_client_and_loop(uv_loop_t *loop, struct api_client *c)
{
	int closed = 0;

	if (c != NULL) {
		api_client_close(c, on_client_closed, &closed);
		assert_int_equal(closed, 0);    /* from the loop, not inline */
	}
	uv_run(loop, UV_RUN_DEFAULT);
	if (c != NULL)
		assert_int_equal(closed, 1);
	assert_int_equal(uv_loop_close(loop), 0);
}

static inline void
test_config(struct api_config *cfg, const char *url, const char *token)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->base_url = url;
	cfg->token = token;
	cfg->concurrency = 8;
	cfg->request_timeout_ms = 30000;
	cfg->max_tries = 5;
	cfg->backoff_base_ms = 10;
	cfg->backoff_cap_ms = 100;
}

/* ---- log capture ----------------------------------------------------------- */

struct capture {
	FILE *f;
};

static inline void
capture_start(struct capture *cap)
{
	cap->f = tmpfile();
	assert_non_null(cap->f);
	log_set_stream(cap->f);
}

/* Stops capturing; returns what was logged (caller frees). */
static inline char *
capture_end(struct capture *cap)
{
	long len;
	char *s;

	log_set_stream(NULL);
	fflush(cap->f);
	len = ftell(cap->f);
	assert_true(len >= 0);
	s = calloc(1, (size_t)len + 1);
	rewind(cap->f);
	if (len > 0)
		assert_int_equal(fread(s, 1, (size_t)len, cap->f), (size_t)len);
	fclose(cap->f);
	return s;
}

static inline int
count_substr(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

#endif
