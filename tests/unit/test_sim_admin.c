/* test_sim_admin.c: convex-api-sim's /_sim routes, counters, limits (413, bad JSON), --state save/load, signals, many clients. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/test_sim_common.h"

static struct sim sim;

static int
group_setup(void **state)
{
	(void)state;
	return start_sim(&sim, NULL);
}

static int
group_teardown(void **state)
{
	(void)state;
	return sim_stop(&sim) == 0 ? 0 : -1;
}

static int
reset(void **state)
{
	(void)state;
	sim_reset(&sim);
	return 0;
}

static void
test_stats_counters(void **state)
{
	struct sim_response r;
	cJSON *st, *j;
	char path[128];
	long pid;

	(void)state;
	j = post_json(&sim, "/teams/1/create_project",
	    "{\"projectName\":\"a\",\"deploymentType\":\"dev\"}", 200);
	pid = (long)num(j, "id", NULL);
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/projects/%ld/create_deployment", pid);
	j = post_json(&sim, path, "{\"type\":\"prod\"}", 200);
	snprintf(path, sizeof(path), "/deployments/%s/delete", str(j, "name"));
	cJSON_Delete(j);
	cJSON_Delete(post_json(&sim, path, NULL, 200));
	cJSON_Delete(get_json(&sim, "/teams/1/projects", 200));
	cJSON_Delete(get_json(&sim, "/teams/1/projects", 200));
	get_expect(&sim, "/projects/1", 404, "ProjectNotFound");
	get_expect(&sim, "/whatever", 404, "NotFound");
	assert_int_equal(sim_request(&sim, "GET", "/v1/token_details", NULL, NULL, &r), 0);
	sim_response_free(&r);
	snprintf(path, sizeof(path), "/projects/%ld/delete", pid);
	cJSON_Delete(post_json(&sim, path, NULL, 200));

	st = sim_stats(&sim);
	assert_int_equal((long)num(st, "requests", "POST /teams/{team}/create_project", "200", NULL), 1);
	assert_int_equal((long)num(st, "requests", "POST /projects/{id}/create_deployment", "200", NULL), 1);
	assert_int_equal((long)num(st, "requests", "POST /deployments/{name}/delete", "200", NULL), 1);
	assert_int_equal((long)num(st, "requests", "GET /teams/{team}/projects", "200", NULL), 2);
	assert_int_equal((long)num(st, "requests", "GET /projects/{id}", "404", NULL), 1);
	assert_int_equal((long)num(st, "requests", "GET (unmatched)", "404", NULL), 1);
	assert_int_equal((long)num(st, "requests", "GET /token_details", "401", NULL), 1);
	assert_int_equal((long)num(st, "requests", "POST /projects/{id}/delete", "200", NULL), 1);
	assert_int_equal((long)num(st, "total", NULL), 9);
	assert_int_equal((long)num(st, "creates", "project", NULL), 1);
	assert_int_equal((long)num(st, "creates", "deployment", NULL), 2);
	assert_int_equal((long)num(st, "deletes", "project", NULL), 1);
	assert_int_equal((long)num(st, "deletes", "deployment", NULL), 1);
	assert_true(num(st, "max_in_flight", NULL) >= 1);
	assert_int_equal((long)num(st, "in_flight", NULL), 0);
	cJSON_Delete(st);

	/* reset: empty team, counters zero */
	sim_reset(&sim);
	st = sim_stats(&sim);
	assert_int_equal((long)num(st, "total", NULL), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(st, "requests")), 0);
	assert_int_equal((long)num(st, "creates", "project", NULL), 0);
	cJSON_Delete(st);
	assert_int_equal(count_state(&sim, "projects"), 0);
	/* ids restart too */
	j = post_json(&sim, "/teams/1/create_project", "{\"projectName\":\"b\"}", 200);
	assert_int_equal((long)num(j, "id", NULL), pid);
	cJSON_Delete(j);
}

static void
test_body_limits(void **state)
{
	size_t n = 1024 * 1024 + 1;
	char *big = malloc(n + 1);
	struct sim_response r;
	cJSON *st;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	assert_int_equal(sim_post(&sim, "/teams/1/create_project", big, &r), 0);
	expect_error(&r, 413, "PayloadTooLarge");
	sim_response_free(&r);
	/* just under the limit is read (and judged on its content) */
	big[n - 2] = '}';
	big[n - 1] = '\0';
	assert_int_equal(sim_post(&sim, "/teams/1/create_project", big, &r), 0);
	expect_error(&r, 400, "BadRequest");   /* no projectName */
	sim_response_free(&r);
	free(big);
	/* the server is still fine */
	cJSON_Delete(get_json(&sim, "/token_details", 200));
	st = sim_stats(&sim);
	assert_int_equal((long)num(st, "requests", "POST /teams/{team}/create_project", "413", NULL), 1);
	cJSON_Delete(st);

	/* malformed JSON, odd bytes */
	post_expect(&sim, "/teams/1/create_project", "{\"projectName\":\"a\"", 400, "BadRequest");
	post_expect(&sim, "/teams/1/create_project", "\xff\xfe{}", 400, "BadRequest");
	post_expect(&sim, "/teams/1/create_project", "nul", 400, "BadRequest");
	assert_int_equal(count_state(&sim, "projects"), 0);
}

static void
test_state_replace(void **state)
{
	struct sim_response r;
	cJSON *j, *before;
	char *text;

	(void)state;
	assert_int_equal(sim_admin_post(&sim, "/_sim/state",
	    "{\"projects\":[{\"id\":77,\"name\":\"loaded\",\"slug\":\"ld\"}],"
	    "\"deployments\":[{\"id\":900,\"name\":\"fair-fox-1\",\"projectId\":77,"
	    "\"deploymentType\":\"dev\",\"reference\":\"main\",\"class\":\"s256\"}]}", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	j = get_json(&sim, "/projects/77", 200);
	assert_string_equal(str(j, "slug"), "ld");
	cJSON_Delete(j);
	j = get_json(&sim, "/deployments/fair-fox-1", 200);
	assert_string_equal(str(j, "class"), "s256");
	assert_string_equal(str(j, "region"), "aws-us-east-1");
	cJSON_Delete(j);

	/* invalid states are refused and change nothing */
	before = sim_state(&sim);
	{
		static const char *const bad[] = {
			"[]",
			"{\"projects\":{}}",
			"{\"projects\":[{\"name\":\"no id\"}]}",
			"{\"projects\":[{\"id\":1,\"name\":\"a\"},{\"id\":1,\"name\":\"b\"}]}",
			"{\"projects\":[{\"id\":1,\"name\":\"a\"}],\"deployments\":[{\"id\":2,\"name\":\"x-y-1\",\"projectId\":9,\"reference\":\"abc\"}]}",
			"{\"projects\":[{\"id\":1,\"name\":\"a\"}],\"deployments\":[{\"id\":2,\"name\":\"x-y-1\",\"projectId\":1,\"reference\":\"abc\",\"region\":\"moon\"}]}",
			"{\"projects\":[{\"id\":1,\"name\":\"a\"}],\"deployments\":[{\"id\":2,\"name\":\"x-y-1\",\"projectId\":1,\"reference\":\"abc\"},{\"id\":3,\"name\":\"x-y-1\",\"projectId\":1,\"reference\":\"abd\"}]}",
			"{\"projects\":[{\"id\":1,\"name\":\"a\"}],\"deployments\":[{\"id\":2,\"name\":\"x-y-1\",\"projectId\":1,\"reference\":\"abc\"},{\"id\":3,\"name\":\"x-y-2\",\"projectId\":1,\"reference\":\"abc\"}]}",
			"{\"projects\":[{\"id\":1,\"name\":\"a\"}],\"deployments\":[{\"kind\":\"vm\",\"name\":\"x\",\"projectId\":1}]}",
			"{not json",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(sim_admin_post(&sim, "/_sim/state", bad[i], &r), 0);
			if (r.status != 400)
				fail_msg("state %s: status %ld", bad[i], r.status);
			expect_error(&r, 400, "BadRequest");
			sim_response_free(&r);
		}
	}
	j = sim_state(&sim);
	text = cJSON_PrintUnformatted(j);
	{
		char *t2 = cJSON_PrintUnformatted(before);

		assert_string_equal(text, t2);
		free(t2);
	}
	free(text);
	cJSON_Delete(j);
	cJSON_Delete(before);
	/* reset with a body loads it */
	assert_int_equal(sim_admin_post(&sim, "/_sim/reset",
	    "{\"projects\":[{\"id\":3,\"name\":\"x\"}]}", &r), 0);
	assert_int_equal(r.status, 200);
	sim_response_free(&r);
	assert_int_equal(count_state(&sim, "projects"), 1);
	assert_int_equal(sim_admin_get(&sim, "/_sim/nothing", &r), 0);
	expect_error(&r, 404, "NotFound");
	sim_response_free(&r);
}

static void
test_seed_and_big_listing(void **state)
{
	struct sim_response r;
	char path[256], cursor[64] = "";
	long items = 0, prev = 0;
	int pages = 0;
	bool more;
	cJSON *j, *st;

	(void)state;
	assert_int_equal(sim_admin_post(&sim, "/_sim/seed",
	    "{\"projects\":3000,\"deploymentsPerProject\":2,\"prefix\":\"big\"}", &r), 0);
	assert_int_equal(r.status, 200);
	j = body_json(&r);
	assert_int_equal((long)num(j, "projects", NULL), 3000);
	assert_int_equal((long)num(j, "deployments", NULL), 6000);
	cJSON_Delete(j);
	sim_response_free(&r);
	st = sim_stats(&sim);
	assert_int_equal((long)num(st, "creates", "project", NULL), 0);   /* not API creates */
	cJSON_Delete(st);
	do {
		cJSON *it;

		snprintf(path, sizeof(path), "/teams/1/projects?limit=100%s%s",
		    *cursor ? "&cursor=" : "", cursor);
		j = get_json(&sim, path, 200);
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items")) {
			long id = (long)num(it, "id", NULL);

			assert_true(prev == 0 || id < prev);
			assert_non_null(str(it, "prodDeploymentName"));
			assert_non_null(str(it, "devDeploymentName"));
			prev = id;
			items++;
		}
		more = cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j,
		    "pagination"), "hasMore"));
		if (more)
			snprintf(cursor, sizeof(cursor), "%s", str(cJSON_GetObjectItem(j,
			    "pagination"), "nextCursor"));
		cJSON_Delete(j);
		pages++;
	} while (more);
	assert_int_equal(items, 3000);
	assert_int_equal(pages, 30);
	assert_int_equal(sim_admin_post(&sim, "/_sim/seed", "{\"projects\":-1}", &r), 0);
	expect_error(&r, 400, "BadRequest");
	sim_response_free(&r);
}

/* Many clients creating at once: every create lands once, ids unique. */
static void
test_concurrent_creates(void **state)
{
	long status[64];
	cJSON *st, *it;
	long n = 0, prev = 0;

	(void)state;
	parallel_requests(&sim, "POST", "/teams/1/create_project",
	    "{\"projectName\":\"par-%d\"}", 64, status);
	for (int i = 0; i < 64; i++)
		assert_int_equal(status[i], 200);
	st = sim_state(&sim);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(st, "projects")) {
		long id = (long)num(it, "id", NULL);

		assert_true(id > prev);
		prev = id;
		n++;
	}
	assert_int_equal(n, 64);
	cJSON_Delete(st);
	st = sim_stats(&sim);
	assert_int_equal((long)num(st, "creates", "project", NULL), 64);
	cJSON_Delete(st);
}

static void
test_state_file_roundtrip(void **state)
{
	char dir[] = "/tmp/test_sim_state.XXXXXX", file[256];
	const char *args[] = { "--state", file, NULL };
	struct sim s;
	struct stat sb;
	cJSON *j;
	long pid;
	char name[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/state.json", dir);
	/* a missing file is a first run */
	assert_int_equal(start_sim(&s, args), 0);
	j = post_json(&s, "/teams/1/create_project",
	    "{\"projectName\":\"keep me\",\"deploymentType\":\"prod\"}", 200);
	pid = (long)num(j, "id", NULL);
	snprintf(name, sizeof(name), "%s", str(j, "deploymentName"));
	cJSON_Delete(j);
	cJSON_Delete(post_json(&s, "/teams/1/create_project", "{\"projectName\":\"gone\"}", 200));
	{
		char path[64];

		snprintf(path, sizeof(path), "/projects/%ld/delete", pid + 1);
		cJSON_Delete(post_json(&s, path, NULL, 200));
	}
	assert_int_equal(sim_stop(&s), 0);
	assert_int_equal(stat(file, &sb), 0);

	assert_int_equal(start_sim(&s, args), 0);
	{
		char path[128];

		snprintf(path, sizeof(path), "/projects/%ld", pid);
		j = get_json(&s, path, 200);
		assert_string_equal(str(j, "name"), "keep me");
		assert_string_equal(str(j, "prodDeploymentName"), name);
		cJSON_Delete(j);
		snprintf(path, sizeof(path), "/deployments/%s", name);
		cJSON_Delete(get_json(&s, path, 200));
	}
	assert_int_equal(count_state(&s, "projects"), 1);
	/* ids go on from where they were, never reused */
	j = post_json(&s, "/teams/1/create_project", "{\"projectName\":\"new\"}", 200);
	assert_true((long)num(j, "id", NULL) > pid + 1);
	cJSON_Delete(j);
	assert_int_equal(sim_stop(&s), 0);

	/* a broken state file stops the start (exit 1, no port) */
	{
		FILE *f = fopen(file, "w");

		assert_non_null(f);
		fputs("{\"projects\":[{\"id\":\"one\"}]}", f);
		fclose(f);
	}
	assert_int_equal(sim_start(&s, args), -EPIPE);
	unlink(file);
	rmdir(dir);
}

static void
test_sigint_clean_exit(void **state)
{
	struct sim s;
	int status;

	(void)state;
	assert_int_equal(start_sim(&s, NULL), 0);
	cJSON_Delete(get_json(&s, "/token_details", 200));
	assert_int_equal(kill(s.pid, SIGINT), 0);
	assert_int_equal(waitpid(s.pid, &status, 0), s.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	s.pid = 0;
	close(s.out_fd);
	s.out_fd = -1;
	curl_global_cleanup();   /* sim_start's init, balanced as sim_stop would */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_stats_counters, reset),
		cmocka_unit_test_setup(test_body_limits, reset),
		cmocka_unit_test_setup(test_state_replace, reset),
		cmocka_unit_test_setup(test_seed_and_big_listing, reset),
		cmocka_unit_test_setup(test_concurrent_creates, reset),
		cmocka_unit_test(test_state_file_roundtrip),
		cmocka_unit_test(test_sigint_clean_exit),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
