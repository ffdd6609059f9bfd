/* test_sim_faults.c: convex-api-sim's fault injectors with fixed seeds: rates, after-create faults, 429, latency, stalls, bad JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "unit/test_sim_common.h"

static void
start(struct sim *s, const char *const *args)
{
	assert_int_equal(start_sim(s, args), 0);
}

static void
stop(struct sim *s)
{
	assert_int_equal(sim_stop(s), 0);
}

static bool
is_injected_5xx(const struct sim_response *r)
{
	cJSON *j;
	const char *c;
	bool ok;

	if (r->status != 500 && r->status != 502 && r->status != 503)
		return false;
	j = body_json(r);
	c = str(j, "code");
	ok = c != NULL && str(j, "message") != NULL &&
	    (strcmp(c, "InternalServerError") == 0 || strcmp(c, "BadGateway") == 0 ||
	    strcmp(c, "ServiceUnavailable") == 0);
	cJSON_Delete(j);
	return ok;
}

static void
test_error_rate(void **state)
{
	const char *const args[] = { "--seed", "42", "--error-rate", "0.3", NULL };
	long first[400];
	int errors = 0, seen[3] = { 0 };
	struct sim s;
	cJSON *st;

	(void)state;
	start(&s, args);
	for (int i = 0; i < 400; i++) {
		struct sim_response r;

		assert_int_equal(sim_get(&s, "/token_details", &r), 0);
		first[i] = r.status;
		if (r.status != 200) {
			assert_true(is_injected_5xx(&r));
			errors++;
			seen[r.status == 500 ? 0 : r.status == 502 ? 1 : 2]++;
		}
		sim_response_free(&r);
	}
	/* Binomial(400, 0.3): mean 120, sd 9.2 */
	assert_in_range(errors, 80, 160);
	assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
	st = sim_stats(&s);
	assert_int_equal((long)num(st, "faults", "error", NULL), errors);
	assert_int_equal((long)num(st, "requests", "GET /token_details", "200", NULL),
	    400 - errors);
	assert_int_equal((long)num(st, "total", NULL), 400);
	cJSON_Delete(st);

	/* the same seed replays the same sequence (reset reseeds) */
	sim_reset(&s);
	for (int i = 0; i < 400; i++) {
		struct sim_response r;

		assert_int_equal(sim_get(&s, "/token_details", &r), 0);
		assert_int_equal(r.status, first[i]);
		sim_response_free(&r);
	}
	stop(&s);
}

static void
test_errors_after_create(void **state)
{
	const char *const args[] = { "--seed", "7", "--error-rate", "1", NULL };
	struct sim s;
	long projects;
	cJSON *st;
	char body[64];

	(void)state;
	start(&s, args);
	for (int i = 0; i < 60; i++) {
		struct sim_response r;

		snprintf(body, sizeof(body), "{\"projectName\":\"p%d\"}", i);
		assert_int_equal(sim_post(&s, "/teams/1/create_project", body, &r), 0);
		assert_true(is_injected_5xx(&r));
		sim_response_free(&r);
	}
	/* about half took effect before the error (Binomial(60, .5)) */
	projects = count_state(&s, "projects");
	assert_in_range(projects, 12, 48);
	st = sim_stats(&s);
	assert_int_equal((long)num(st, "faults", "errorAfterCreate", NULL), projects);
	assert_int_equal((long)num(st, "faults", "error", NULL), 60 - projects);
	assert_int_equal((long)num(st, "creates", "project", NULL), projects);
	cJSON_Delete(st);
	/* a GET is never "after": it just fails */
	{
		struct sim_response r;

		assert_int_equal(sim_get(&s, "/teams/1/list_projects", &r), 0);
		assert_true(is_injected_5xx(&r));
		sim_response_free(&r);
	}
	stop(&s);
}

static void
test_drops(void **state)
{
	const char *const args[] = { "--seed", "3", "--drop-rate", "1", NULL };
	const char *const args2[] = { "--seed", "5", "--drop-rate", "0.25", NULL };
	struct sim s;
	long projects, drops = 0;
	cJSON *st;
	char body[64];

	(void)state;
	start(&s, args);
	for (int i = 0; i < 60; i++) {
		struct sim_response r;

		snprintf(body, sizeof(body), "{\"projectName\":\"d%d\"}", i);
		assert_int_equal(sim_post(&s, "/teams/1/create_project", body, &r),
		    -ECONNRESET);
		assert_int_equal(r.status, 0);
		sim_response_free(&r);
	}
	projects = count_state(&s, "projects");
	assert_in_range(projects, 12, 48);
	st = sim_stats(&s);
	assert_int_equal((long)num(st, "faults", "dropAfterCreate", NULL), projects);
	assert_int_equal((long)num(st, "faults", "drop", NULL), 60 - projects);
	assert_int_equal((long)num(st, "requests", "POST /teams/{team}/create_project",
	    "drop", NULL), 60);
	cJSON_Delete(st);
	stop(&s);

	start(&s, args2);
	for (int i = 0; i < 200; i++) {
		struct sim_response r;
		int rc = sim_get(&s, "/token_details", &r);

		if (rc == -ECONNRESET)
			drops++;
		else
			assert_int_equal(r.status, 200);
		sim_response_free(&r);
	}
	/* Binomial(200, 0.25): mean 50, sd 6.1 */
	assert_in_range(drops, 25, 75);
	st = sim_stats(&s);
	assert_int_equal((long)num(st, "faults", "drop", NULL), drops);
	cJSON_Delete(st);
	stop(&s);
}

static void
test_rate_limit(void **state)
{
	const char *const args[] = { "--rate-limit", "2", NULL };
	struct sim s;
	int ok = 0, limited = 0;
	double t0, elapsed;
	cJSON *st;

	(void)state;
	start(&s, args);
	t0 = mono_s();
	for (int i = 0; i < 40; i++) {
		struct sim_response r;
		char hv[32];

		assert_int_equal(sim_get(&s, "/token_details", &r), 0);
		if (r.status == 200) {
			ok++;
		} else {
			expect_error(&r, 429, "TooManyRequests");
			assert_non_null(sim_response_header(&r, "Retry-After", hv,
			    sizeof(hv)));
			assert_true(atoi(hv) >= 1);
			limited++;
		}
		sim_response_free(&r);
	}
	elapsed = mono_s() - t0;
	/* at most 2 per started second went through */
	assert_true(limited > 0);
	assert_true(ok <= 2 * ((int)elapsed + 2));
	st = sim_stats(&s);
	assert_int_equal((long)num(st, "faults", "rateLimited", NULL), limited);
	assert_int_equal((long)num(st, "requests", "GET /token_details", "429", NULL),
	    limited);
	cJSON_Delete(st);
	stop(&s);
}

static void
test_latency(void **state)
{
	const char *const fixed[] = { "--latency", "2000", NULL };
	const char *const jitter[] = { "--seed", "9", "--latency-jitter", "200", NULL };
	struct sim s;
	struct sim_response r;
	double longest = 0;

	(void)state;
	start(&s, fixed);
	assert_int_equal(sim_get(&s, "/token_details", &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.seconds >= 2.0);
	sim_response_free(&r);
	/* admin routes are never delayed (the bound is generous for busy
	 * machines: a delayed answer would take 2 s) */
	assert_int_equal(sim_admin_get(&s, "/_sim/stats", &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.seconds < 1.5);
	sim_response_free(&r);
	stop(&s);

	start(&s, jitter);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(sim_get(&s, "/token_details", &r), 0);
		assert_int_equal(r.status, 200);
		if (r.seconds > longest)
			longest = r.seconds;
		sim_response_free(&r);
	}
	assert_true(longest >= 0.05);   /* 20 draws in [0, 200] ms */
	stop(&s);
}

/* Latency must not serialise requests: 16 clients at once overlap. */
static void
test_latency_concurrent(void **state)
{
	const char *const args[] = { "--latency", "500", NULL };
	long status[16];
	struct sim s;
	double elapsed;
	cJSON *st;

	(void)state;
	start(&s, args);
	elapsed = parallel_requests(&s, "GET", "/token_details", NULL, 16, status);
	for (int i = 0; i < 16; i++)
		assert_int_equal(status[i], 200);
	st = sim_stats(&s);
	assert_true(num(st, "max_in_flight", NULL) >= 8);
	assert_int_equal((long)num(st, "in_flight", NULL), 0);
	cJSON_Delete(st);
	assert_true(elapsed < 6.0);   /* one at a time would take 8 s */
	stop(&s);
}

static void
test_stall(void **state)
{
	const char *const args[] = { "--stall-rate", "1", "--stall-ms", "300", NULL };
	struct sim s;
	struct sim_response r;
	cJSON *st;

	(void)state;
	start(&s, args);
	assert_int_equal(sim_get(&s, "/token_details", &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.seconds >= 0.3);
	sim_response_free(&r);
	st = sim_stats(&s);
	assert_int_equal((long)num(st, "faults", "stall", NULL), 1);
	cJSON_Delete(st);
	stop(&s);
}

/* SIGTERM while a request is stalled for ten minutes: still a quick,
 * clean exit (sim_stop would SIGKILL after 30 s and return 137). */
static void
test_stop_during_stall(void **state)
{
	const char *const args[] = { "--stall-rate", "1", "--stall-ms", "600000", NULL };
	struct sim s;
	CURLM *m;
	CURL *e;
	char url[256];
	int running = 1;
	double t0;

	(void)state;
	start(&s, args);
	m = curl_multi_init();
	e = curl_easy_init();
	snprintf(url, sizeof(url), "%s/token_details", s.url);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
	curl_multi_add_handle(m, e);
	t0 = mono_s();
	for (;;) {
		cJSON *st;
		long in_flight;

		curl_multi_perform(m, &running);
		st = sim_stats(&s);
		in_flight = (long)num(st, "in_flight", NULL);
		cJSON_Delete(st);
		if (in_flight == 1)
			break;
		assert_true(mono_s() - t0 < 30);
		curl_multi_poll(m, NULL, 0, 20, NULL);
	}
	assert_int_equal(sim_stop(&s), 0);
	curl_multi_remove_handle(m, e);
	curl_easy_cleanup(e);
	curl_multi_cleanup(m);
}

static void
test_bad_json(void **state)
{
	const char *const args[] = { "--bad-json-rate", "1", NULL };
	struct sim s;
	struct sim_response r;
	cJSON *j, *st;

	(void)state;
	start(&s, args);
	assert_int_equal(sim_get(&s, "/token_details", &r), 0);
	assert_int_equal(r.status, 200);
	j = cJSON_Parse(r.body);
	assert_null(j);
	sim_response_free(&r);
	/* the create took effect even though its answer is garbage */
	assert_int_equal(sim_post(&s, "/teams/1/create_project",
	    "{\"projectName\":\"garbled\"}", &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(cJSON_Parse(r.body));
	sim_response_free(&r);
	assert_int_equal(count_state(&s, "projects"), 1);
	/* errors are left alone */
	assert_int_equal(sim_get(&s, "/projects/5", &r), 0);
	expect_error(&r, 404, "ProjectNotFound");
	sim_response_free(&r);
	st = sim_stats(&s);
	assert_int_equal((long)num(st, "faults", "badJson", NULL), 2);
	cJSON_Delete(st);
	stop(&s);
}

static void
test_admin_never_faulted(void **state)
{
	const char *const args[] = { "--error-rate", "1", "--drop-rate", "1",
		"--bad-json-rate", "1", "--rate-limit", "1", NULL };
	struct sim s;

	(void)state;
	start(&s, args);
	for (int i = 0; i < 20; i++) {
		cJSON *j = sim_stats(&s);   /* asserts 200 and valid JSON */

		cJSON_Delete(j);
		j = sim_state(&s);
		cJSON_Delete(j);
	}
	stop(&s);
}

static void
test_runtime_config(void **state)
{
	struct sim s;
	struct sim_response r;
	cJSON *j;

	(void)state;
	start(&s, NULL);
	assert_int_equal(sim_admin_post(&s, "/_sim/config", "{\"errorRate\":1}", &r), 0);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_true(num(j, "errorRate", NULL) == 1.0);
	cJSON_Delete(j);
	sim_response_free(&r);
	assert_int_equal(sim_get(&s, "/token_details", &r), 0);
	assert_true(is_injected_5xx(&r));
	sim_response_free(&r);
	assert_int_equal(sim_admin_post(&s, "/_sim/config",
	    "{\"errorRate\":0,\"legacy\":true}", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	assert_int_equal(sim_get(&s, "/token_details", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	assert_int_equal(sim_get(&s, "/teams/1/projects", &r), 0);
	expect_error(&r, 404, "NotFound");
	sim_response_free(&r);
	assert_int_equal(sim_admin_post(&s, "/_sim/config", "{\"errorRate\":2}", &r), 0);
	expect_error(&r, 400, "BadRequest");
	sim_response_free(&r);
	assert_int_equal(sim_admin_post(&s, "/_sim/config", "{\"legacy\":\"no\"}", &r), 0);
	expect_error(&r, 400, "BadRequest");
	sim_response_free(&r);
	assert_int_equal(sim_admin_get(&s, "/_sim/config", &r), 0);
	j = body_json(&r);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "legacy")));
	assert_true(num(j, "errorRate", NULL) == 0.0);
	cJSON_Delete(j);
	sim_response_free(&r);
	stop(&s);
}

static void
test_bad_flags(void **state)
{
	const char *const bad[][3] = {
		{ "--error-rate", "1.5", NULL },
		{ "--error-rate", "x", NULL },
		{ "--latency", "-3", NULL },
		{ "--team-id", "0", NULL },
		{ "--no-such-flag", NULL, NULL },
	};
	struct sim s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sim_start(&s, bad[i]), -EPIPE);   /* exits, no port */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_rate),
		cmocka_unit_test(test_errors_after_create),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_latency_concurrent),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_stop_during_stall),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_admin_never_faulted),
		cmocka_unit_test(test_runtime_config),
		cmocka_unit_test(test_bad_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
