/* test_metrics.c: the registry renders valid exposition text (checked by the
 * strict promcheck reader, itself tested on broken documents). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "support/promcheck.h"

static char *
render_checked(const struct metrics *m, struct prom_doc *doc)
{
	char err[256] = "";
	size_t len = 0;
	char *text = metrics_render_text(m, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	if (promcheck_parse(text, doc, err, sizeof(err)) != 0)
		fail_msg("invalid exposition: %s\n%s", err, text);
	return text;
}

static double
value_of(const struct prom_doc *doc, const char *series)
{
	double v = -1;

	if (promcheck_value(doc, series, &v) != 0)
		fail_msg("series %s missing", series);
	return v;
}

static void
test_fresh_registry_declares_everything(void **state)
{
	static const struct { const char *name, *type; } want[] = {
		{ "convex_provisioner_reconcile_total", "counter" },
		{ "convex_provisioner_reconcile_duration_seconds", "histogram" },
		{ "convex_provisioner_actions_total", "counter" },
		{ "convex_provisioner_api_requests_total", "counter" },
		{ "convex_provisioner_api_request_duration_seconds", "histogram" },
		{ "convex_provisioner_drift_resources", "gauge" },
		{ "convex_provisioner_desired_projects", "gauge" },
		{ "convex_provisioner_observed_projects", "gauge" },
		{ "convex_provisioner_guard_blocked_total", "counter" },
		{ "convex_provisioner_desired_state_errors", "gauge" },
		{ "convex_provisioner_last_success_timestamp_seconds", "gauge" },
		{ "convex_provisioner_managed_env_vars", "gauge" },
		{ "convex_provisioner_managed_domains", "gauge" },
		{ "convex_provisioner_managed_deploy_keys", "gauge" },
		{ "convex_provisioner_domains_pending_verification", "gauge" },
		{ "convex_provisioner_desired_reloads_total", "counter" },
		{ "convex_provisioner_watch_failures_total", "counter" },
	};
	struct metrics *m = metrics_new();
	struct prom_doc doc;
	char *text;
	(void)state;

	assert_non_null(m);
	text = render_checked(m, &doc);
	assert_int_equal(doc.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct prom_family *f = promcheck_family(&doc, want[i].name);

		assert_non_null(f);
		assert_string_equal(f->type, want[i].type);
		assert_non_null(f->help);
		assert_true(strlen(f->help) > 10);
		assert_string_equal(metrics_name((enum metric_id)i), want[i].name);
	}
	/* known label values start at zero; unknown ones do not exist yet */
	assert_true(value_of(&doc, "convex_provisioner_reconcile_total{result=\"ok\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_reconcile_total{result=\"error\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_reconcile_total{result=\"blocked\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_guard_blocked_total{guard=\"max_deletes\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_guard_blocked_total{guard=\"empty_desired\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_guard_blocked_total{guard=\"protected\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_guard_blocked_total{guard=\"conflict\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_guard_blocked_total{guard=\"key_file_missing\"}") == 0);
	for (size_t i = 0; i < 4; i++) {
		static const char *const triggers[] = { "watch", "timer", "sighup", "api" };
		char series[128];

		snprintf(series, sizeof(series),
		    "convex_provisioner_desired_reloads_total{trigger=\"%s\"}", triggers[i]);
		assert_true(value_of(&doc, series) == 0);
	}
	assert_int_equal(promcheck_family(&doc, "convex_provisioner_desired_reloads_total")->n, 4);
	assert_true(value_of(&doc, "convex_provisioner_watch_failures_total{reason=\"overflow\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_watch_failures_total{reason=\"limit\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_watch_failures_total{reason=\"error\"}") == 0);
	assert_int_equal(promcheck_family(&doc, "convex_provisioner_watch_failures_total")->n, 3);
	assert_int_equal(promcheck_family(&doc, "convex_provisioner_actions_total")->n, 0);
	assert_true(value_of(&doc, "convex_provisioner_drift_resources") == 0);
	assert_true(value_of(&doc, "convex_provisioner_last_success_timestamp_seconds") == 0);
	assert_true(value_of(&doc,
	    "convex_provisioner_reconcile_duration_seconds_bucket{le=\"+Inf\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_reconcile_duration_seconds_count") == 0);
	/* HELP precedes TYPE precedes samples, in the text itself */
	assert_non_null(strstr(text,
	    "# HELP convex_provisioner_drift_resources Attribute"));
	assert_non_null(strstr(text,
	    "# TYPE convex_provisioner_drift_resources gauge\n"
	    "convex_provisioner_drift_resources 0\n"));
	promcheck_free(&doc);
	free(text);
	metrics_free(m);
}

static void
test_reconcile_and_histogram(void **state)
{
	struct metrics *m = metrics_new();
	struct prom_doc doc;
	char *text;
	(void)state;

	assert_int_equal(metrics_reconcile(m, METRICS_RESULT_OK, 0.3, 1700000000.5), 0);
	assert_int_equal(metrics_reconcile(m, METRICS_RESULT_ERROR, 42, 1700000100), 0);
	assert_int_equal(metrics_reconcile(m, METRICS_RESULT_OK, 700, 1700000200.25), 0);
	text = render_checked(m, &doc);
	assert_true(value_of(&doc, "convex_provisioner_reconcile_total{result=\"ok\"}") == 2);
	assert_true(value_of(&doc, "convex_provisioner_reconcile_total{result=\"error\"}") == 1);
	/* an error does not move the last success */
	assert_true(value_of(&doc,
	    "convex_provisioner_last_success_timestamp_seconds") == 1700000200.25);
	assert_non_null(strstr(text,
	    "convex_provisioner_last_success_timestamp_seconds 1700000200.25\n"));
	/* 0.3 falls in le=0.5, 42 in le=60, 700 only in +Inf */
	assert_true(value_of(&doc,
	    "convex_provisioner_reconcile_duration_seconds_bucket{le=\"0.25\"}") == 0);
	assert_true(value_of(&doc,
	    "convex_provisioner_reconcile_duration_seconds_bucket{le=\"0.5\"}") == 1);
	assert_true(value_of(&doc,
	    "convex_provisioner_reconcile_duration_seconds_bucket{le=\"30\"}") == 1);
	assert_true(value_of(&doc,
	    "convex_provisioner_reconcile_duration_seconds_bucket{le=\"60\"}") == 2);
	assert_true(value_of(&doc,
	    "convex_provisioner_reconcile_duration_seconds_bucket{le=\"600\"}") == 2);
	assert_true(value_of(&doc,
	    "convex_provisioner_reconcile_duration_seconds_bucket{le=\"+Inf\"}") == 3);
	assert_true(value_of(&doc, "convex_provisioner_reconcile_duration_seconds_count") == 3);
	assert_true(fabs(value_of(&doc,
	    "convex_provisioner_reconcile_duration_seconds_sum") - 742.3) < 1e-9);
	assert_true(metrics_value(m, METRIC_RECONCILE_DURATION, NULL) == 3);
	promcheck_free(&doc);
	free(text);
	metrics_free(m);
}

static void
test_requests_actions_guards_gauges(void **state)
{
	struct metrics *m = metrics_new();
	const char *l200[] = { "/teams/{team}/projects", "200" };
	struct prom_doc doc;
	char *text;
	(void)state;

	assert_int_equal(metrics_api_request(m, "/teams/{team}/projects", 200, 0.02), 0);
	assert_int_equal(metrics_api_request(m, "/teams/{team}/projects", 200, 0.03), 0);
	assert_int_equal(metrics_api_request(m, "/projects/{id}/delete", 0, 30), 0);
	assert_int_equal(metrics_api_request(m, "/projects/{id}/delete", 503, 1), 0);
	assert_int_equal(metrics_action(m, "create", "project", "ok"), 0);
	assert_int_equal(metrics_action(m, "delete", "deployment", "error"), 0);
	assert_int_equal(metrics_action(m, "create", "project", "ok"), 0);
	assert_int_equal(metrics_guard(m, "max_deletes"), 0);
	assert_int_equal(metrics_reload(m, METRICS_TRIGGER_TIMER), 0);
	assert_int_equal(metrics_reload(m, METRICS_TRIGGER_TIMER), 0);
	assert_int_equal(metrics_reload(m, METRICS_TRIGGER_SIGHUP), 0);
	assert_int_equal(metrics_watch_failure(m, METRICS_WATCH_LIMIT), 0);
	assert_int_equal(metrics_set(m, METRIC_DRIFT_RESOURCES, 3), 0);
	assert_int_equal(metrics_set(m, METRIC_DESIRED_PROJECTS, 12), 0);
	assert_int_equal(metrics_set(m, METRIC_OBSERVED_PROJECTS, 1000000), 0);
	assert_int_equal(metrics_set(m, METRIC_DESIRED_STATE_ERRORS, 2), 0);
	assert_int_equal(metrics_set(m, METRIC_DESIRED_STATE_ERRORS, 0), 0);
	text = render_checked(m, &doc);
	assert_true(value_of(&doc, "convex_provisioner_api_requests_total"
	    "{route=\"/teams/{team}/projects\",code=\"200\"}") == 2);
	/* labels in any order name the same series */
	assert_true(value_of(&doc, "convex_provisioner_api_requests_total"
	    "{code=\"error\",route=\"/projects/{id}/delete\"}") == 1);
	assert_true(value_of(&doc, "convex_provisioner_api_requests_total"
	    "{code=\"503\",route=\"/projects/{id}/delete\"}") == 1);
	assert_true(value_of(&doc,
	    "convex_provisioner_api_request_duration_seconds_count") == 4);
	assert_true(value_of(&doc,
	    "convex_provisioner_api_request_duration_seconds_bucket{le=\"0.025\"}") == 1);
	assert_true(value_of(&doc, "convex_provisioner_actions_total"
	    "{op=\"create\",kind=\"project\",result=\"ok\"}") == 2);
	assert_true(value_of(&doc, "convex_provisioner_actions_total"
	    "{op=\"delete\",kind=\"deployment\",result=\"error\"}") == 1);
	assert_true(value_of(&doc,
	    "convex_provisioner_guard_blocked_total{guard=\"max_deletes\"}") == 1);
	assert_true(value_of(&doc,
	    "convex_provisioner_desired_reloads_total{trigger=\"timer\"}") == 2);
	assert_true(value_of(&doc,
	    "convex_provisioner_desired_reloads_total{trigger=\"sighup\"}") == 1);
	assert_true(value_of(&doc,
	    "convex_provisioner_desired_reloads_total{trigger=\"watch\"}") == 0);
	assert_true(value_of(&doc,
	    "convex_provisioner_watch_failures_total{reason=\"limit\"}") == 1);
	assert_true(value_of(&doc,
	    "convex_provisioner_watch_failures_total{reason=\"overflow\"}") == 0);
	assert_true(value_of(&doc, "convex_provisioner_drift_resources") == 3);
	assert_true(value_of(&doc, "convex_provisioner_desired_projects") == 12);
	assert_true(value_of(&doc, "convex_provisioner_desired_state_errors") == 0);
	/* integers print as integers, never in exponent form */
	assert_non_null(strstr(text, "convex_provisioner_observed_projects 1000000\n"));
	assert_true(metrics_value(m, METRIC_API_REQUESTS_TOTAL, l200) == 2);
	promcheck_free(&doc);
	free(text);
	metrics_free(m);
}

static void
test_label_values_escaped(void **state)
{
	struct metrics *m = metrics_new();
	const char *odd = "a\"b\\c\nd";
	const struct prom_family *f;
	struct prom_doc doc;
	char *text;
	(void)state;

	assert_int_equal(metrics_api_request(m, odd, 404, 0.1), 0);
	text = render_checked(m, &doc);
	assert_non_null(strstr(text, "route=\"a\\\"b\\\\c\\nd\""));
	f = promcheck_family(&doc, "convex_provisioner_api_requests_total");
	assert_int_equal(f->n, 1);
	assert_string_equal(f->samples[0].labels[0].value, odd);
	promcheck_free(&doc);
	free(text);
	metrics_free(m);
}

static void
test_bad_calls_refused(void **state)
{
	struct metrics *m = metrics_new();
	const char *one[] = { "ok" };
	const char *nul[] = { NULL };
	struct buf b;
	(void)state;

	assert_int_equal(metrics_counter_add(m, METRIC_RECONCILE_TOTAL, one, -1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, METRIC_RECONCILE_TOTAL, one, NAN), -EINVAL);
	assert_int_equal(metrics_counter_add(m, METRIC_RECONCILE_TOTAL, nul, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, METRIC_RECONCILE_TOTAL, NULL, 1), -EINVAL);
	assert_int_equal(metrics_gauge_set(m, METRIC_RECONCILE_TOTAL, one, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, METRIC_DRIFT_RESOURCES, NULL, 1), -EINVAL);
	assert_int_equal(metrics_histogram_observe(m, METRIC_DRIFT_RESOURCES, NULL, 1), -EINVAL);
	assert_int_equal(metrics_histogram_observe(m, METRIC_RECONCILE_DURATION, NULL, NAN), -EINVAL);
	assert_int_equal(metrics_set(m, METRIC_RECONCILE_TOTAL, 1), -EINVAL);
	assert_int_equal(metrics_set(m, METRIC_COUNT, 1), -EINVAL);
	assert_int_equal(metrics_reconcile(m, NULL, 1, 1), -EINVAL);
	assert_int_equal(metrics_action(m, "create", NULL, "ok"), -EINVAL);
	assert_null(metrics_name(METRIC_COUNT));
	assert_true(metrics_value(m, METRIC_RECONCILE_TOTAL, one) == 0);

	/* the rendered text respects the buffer's bound */
	buf_init(&b, 100);
	assert_int_equal(metrics_render(m, &b), -E2BIG);
	buf_free(&b);
	metrics_free(m);
	metrics_free(NULL);
}

static void
test_series_bounded(void **state)
{
	struct metrics *m = metrics_new();
	struct prom_doc doc;
	char route[32], *text;
	int i;
	(void)state;

	for (i = 0; i < METRICS_MAX_SERIES; i++) {
		snprintf(route, sizeof(route), "/r/%d", i);
		assert_int_equal(metrics_api_request(m, route, 200, 0.1), 0);
	}
	assert_int_equal(metrics_api_request(m, "/one/more", 200, 0.1), -ENOSPC);
	/* existing series keep counting */
	assert_int_equal(metrics_api_request(m, "/r/7", 200, 0.1), 0);
	text = render_checked(m, &doc);
	assert_int_equal(promcheck_family(&doc,
	    "convex_provisioner_api_requests_total")->n, METRICS_MAX_SERIES);
	assert_true(value_of(&doc, "convex_provisioner_api_requests_total"
	    "{route=\"/r/7\",code=\"200\"}") == 2);
	promcheck_free(&doc);
	free(text);
	metrics_free(m);
}

/* The checker must reject what it claims to: one broken document per row. */
static void
test_promcheck_rejects(void **state)
{
	static const char *bad[] = {
		"# HELP a x\n# TYPE a gauge\na 1",                       /* no final \n */
		"a 1\n",                                                 /* no HELP/TYPE */
		"# TYPE a gauge\na 1\n",                                 /* no HELP */
		"# HELP a x\na 1\n",                                     /* no TYPE */
		"# HELP a x\n# TYPE a gauge\na 1\n# HELP a y\n",         /* HELP after samples */
		"# HELP a x\n# TYPE a gauge\n# TYPE a counter\n",        /* two TYPEs */
		"# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n",
		"# HELP a x\n# TYPE a wobble\n",                         /* bad type */
		"# HELP 1a x\n",                                         /* bad name */
		"# HELP a x\n# TYPE a gauge\na{1x=\"1\"} 1\n",           /* bad label name */
		"# HELP a x\n# TYPE a gauge\na{x=1} 1\n",                /* unquoted */
		"# HELP a x\n# TYPE a gauge\na{x=\"\\t\"} 1\n",          /* bad escape */
		"# HELP a x\n# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",    /* repeated label */
		"# HELP a x\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n", /* repeated series */
		"# HELP a x\n# TYPE a gauge\na one\n",                   /* bad value */
		"# HELP a x\n# TYPE a gauge\na 0x10\n",                  /* hex */
		"# HELP a x\n# TYPE a counter\na -1\n",                  /* negative counter */
		"# HELP a x\n# TYPE a counter\na_total 1\n",             /* other name */
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", /* no +Inf */
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
		"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", /* no _sum */
		"# HELP h x\n# TYPE h histogram\nh_bucket 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# HELP h x\n# TYPE h histogram\nh 1\n",
		"# HELP a x\n# TYPE a gauge\na 1\r\n",
	};
	static const char *good[] = {
		"",
		"# HELP a x\n# TYPE a gauge\n",
		"# a comment\n# HELP a x \\\\ y\\n\n# TYPE a gauge\n\na{x=\"\\\"\",y=\"\"} -1.5e3 1700000000000\n",
		"# HELP a x\n# TYPE a gauge\na NaN\na{b=\"1\",} +Inf\n",
		("# HELP h x\n# TYPE h histogram\nh_bucket{k=\"a\",le=\"0.5\"} 1\nh_bucket{k=\"a\",le=\"+Inf\"} 2\n"
		"h_sum{k=\"a\"} 3\nh_count{k=\"a\"} 2\nh_bucket{k=\"b\",le=\"+Inf\"} 0\nh_sum{k=\"b\"} 0\nh_count{k=\"b\"} 0\n"),
	};
	struct prom_doc doc;
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (promcheck_parse(bad[i], &doc, err, sizeof(err)) == 0)
			fail_msg("accepted bad document %zu:\n%s", i, bad[i]);
		assert_non_null(strstr(err, "line "));
		assert_int_equal(doc.n, 0);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (promcheck_parse(good[i], &doc, err, sizeof(err)) != 0)
			fail_msg("rejected good document %zu: %s", i, err);
		promcheck_free(&doc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_registry_declares_everything),
		cmocka_unit_test(test_reconcile_and_histogram),
		cmocka_unit_test(test_requests_actions_guards_gauges),
		cmocka_unit_test(test_label_values_escaped),
		cmocka_unit_test(test_bad_calls_refused),
		cmocka_unit_test(test_series_bounded),
		cmocka_unit_test(test_promcheck_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
