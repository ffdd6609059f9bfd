/* test_settings.c: the settings table: defaults, precedence (flag >
 * environment > file > default), every duration and percentage form, the
 * bounds, settings-file errors with positions, the command line in GNU
 * order, reload, and --help and the docs covering every row. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfgtest.h"
#include "diag.h"
#include "settings.h"
#include "ytree.h"

/* ---- running settings_load ---------------------------------------------- */

struct run {
	struct settings s;
	struct diag d;
	int rc;
	int cmd;
	int argc;
	char **argv;
	char *diags;          /* prefix (the temporary folder) cut */
};

static char *tmp;         /* a folder per test */
static char *no_default;  /* a default settings file that does not exist */

static int
setup(void **state)
{
	(void)state;
	unsetenv("CONVEX_PROVISION_HOST");
	unsetenv("CONVEX_TEAM_ID");
	unsetenv("POSIXLY_CORRECT");
	tmp = cfgtest_mkdtemp();
	if (asprintf(&no_default, "%s/absent.yaml", tmp) < 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unsetenv("CONVEX_PROVISION_HOST");
	unsetenv("CONVEX_TEAM_ID");
	unsetenv("POSIXLY_CORRECT");
	cfgtest_rmtree(tmp);
	free(no_default);
	tmp = no_default = NULL;
	return 0;
}

/* Loads with the arguments after "prog" (NULL-terminated). */
static void
run_v(struct run *r, const char *default_config, const char *const *args)
{
	int n = 0;

	memset(r, 0, sizeof(*r));
	while (args[n] != NULL)
		n++;
	r->argc = n + 1;
	r->argv = calloc((size_t)n + 2, sizeof(*r->argv));
	assert_non_null(r->argv);
	r->argv[0] = strdup("prog");
	for (int i = 0; i < n; i++)
		r->argv[i + 1] = strdup(args[i]);
	diag_init(&r->d);
	r->rc = settings_load_from(r->argc, r->argv, default_config, &r->s,
	    &r->cmd, &r->d);
	r->diags = cfgtest_diags(&r->d, tmp);
}

#define RUN(r, ...) run_v((r), no_default, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN0(r) run_v((r), no_default, (const char *const[]){ NULL })

/* settings_load only permutes argv, so every original pointer is still in
 * it exactly once: free them all. */
static void
run_done(struct run *r)
{
	for (int i = 0; i < r->argc; i++)
		free(r->argv[i]);
	free(r->argv);
	settings_free(&r->s);
	diag_free(&r->d);
	free(r->diags);
}

static char *
write_cfg(const char *text)
{
	return cfgtest_write_len(tmp, "cfg.yaml", text, strlen(text));
}

/* ---- defaults ----------------------------------------------------------- */

static void
test_defaults(void **state)
{
	struct run r;
	(void)state;

	RUN0(&r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.diags, "");
	assert_int_equal(r.cmd, 1);             /* == argc: no command */
	assert_string_equal(r.s.api_url, "https://api.convex.dev/v1");
	assert_int_equal(r.s.team_id, 0);
	assert_null(r.s.token_file);
	assert_string_equal(r.s.desired, "/etc/convex-provisioner/desired");
	assert_int_equal(r.s.interval_ms, 60000);
	assert_int_equal(r.s.jitter_pct, 10);
	assert_int_equal(r.s.concurrency, 8);
	assert_int_equal(r.s.request_timeout_ms, 30000);
	assert_int_equal(r.s.prune, PRUNE_NONE);
	assert_int_equal(r.s.max_deletes, 10);
	assert_false(r.s.allow_empty);
	assert_int_equal(r.s.drift, DRIFT_CORRECT);
	assert_string_equal(r.s.state_dir, "/var/lib/convex-provisioner");
	assert_string_equal(r.s.listen, "127.0.0.1:9464");
	assert_int_equal(r.s.log_level, LOG_LVL_INFO);
	assert_int_equal(r.s.log_format, LOG_FMT_TEXT);
	assert_null(r.s.ca_file);
	assert_null(r.s.config_file);          /* the default file is missing */
	assert_false(r.s.json);
	assert_false(r.s.help);
	assert_false(r.s.version);
	run_done(&r);
}

/* ---- precedence: one row per setting ------------------------------------ */

/* The field named by key, as text, so one table covers every type. */
static char *
field(const struct settings *s, const char *key)
{
	char *out = NULL;
	int rc = -1;

#define STR(f) rc = asprintf(&out, "%s", s->f ? s->f : "(null)")
#define NUM(f) rc = asprintf(&out, "%" PRIu64, (uint64_t)s->f)
	if (strcmp(key, "api_url") == 0) STR(api_url);
	else if (strcmp(key, "team_id") == 0) NUM(team_id);
	else if (strcmp(key, "token_file") == 0) STR(token_file);
	else if (strcmp(key, "desired") == 0) STR(desired);
	else if (strcmp(key, "follow") == 0)
		rc = asprintf(&out, "%s", settings_follow_name(s->follow));
	else if (strcmp(key, "interval") == 0) NUM(interval_ms);
	else if (strcmp(key, "jitter") == 0) NUM(jitter_pct);
	else if (strcmp(key, "concurrency") == 0) NUM(concurrency);
	else if (strcmp(key, "request_timeout") == 0) NUM(request_timeout_ms);
	else if (strcmp(key, "prune") == 0)
		rc = asprintf(&out, "%s", prune_mode_name(s->prune));
	else if (strcmp(key, "max_deletes") == 0) NUM(max_deletes);
	else if (strcmp(key, "allow_empty") == 0) NUM(allow_empty);
	else if (strcmp(key, "drift") == 0)
		rc = asprintf(&out, "%s", drift_mode_name(s->drift));
	else if (strcmp(key, "state_dir") == 0) STR(state_dir);
	else if (strcmp(key, "listen") == 0) STR(listen);
	else if (strcmp(key, "log_level") == 0) NUM(log_level);
	else if (strcmp(key, "log_format") == 0) NUM(log_format);
	else if (strcmp(key, "ca_file") == 0) STR(ca_file);
	else if (strcmp(key, "json") == 0) NUM(json);
#undef STR
#undef NUM
	if (rc < 0)
		fail_msg("no field %s", key);
	return out;
}

static const struct prec_row {
	const char *key;
	const char *file;            /* settings-file line */
	const char *env;             /* NAME=VALUE, or NULL */
	const char *flag;            /* --name=value, or NULL */
	const char *want_default;
	const char *want_file;
	const char *want_env;        /* NULL when there is no variable */
	const char *want_flag;
} prec[] = {
	{ "api_url", "api_url: https://file.example/v1/",
	  "CONVEX_PROVISION_HOST=http://127.0.0.1:8050/",
	  "--api-url=https://flag.example/v1",
	  "https://api.convex.dev/v1", "https://file.example/v1",
	  "http://127.0.0.1:8050/v1", "https://flag.example/v1" },
	{ "team_id", "team_id: 5", "CONVEX_TEAM_ID=6", "--team=7",
	  "0", "5", "6", "7" },
	{ "token_file", "token_file: /f/token", NULL, "--token-file=/x/token",
	  "(null)", "/f/token", NULL, "/x/token" },
	{ "desired", "desired: /f/desired", NULL, "--desired=d",
	  "/etc/convex-provisioner/desired", "/f/desired", NULL, "d" },
	{ "follow", "follow: poll", NULL, "--follow=watch",
	  "watch", "poll", NULL, "watch" },
	{ "interval", "interval: 5m", NULL, "--interval=90",
	  "60000", "300000", NULL, "90000" },
	{ "jitter", "jitter: 25%", NULL, NULL, "10", "25", NULL, NULL },
	{ "concurrency", "concurrency: 16", NULL, "--concurrency=2",
	  "8", "16", NULL, "2" },
	{ "request_timeout", "request_timeout: 1m", NULL, NULL,
	  "30000", "60000", NULL, NULL },
	{ "prune", "prune: owned", NULL, "--prune=all",
	  "none", "owned", NULL, "all" },
	{ "max_deletes", "max_deletes: 0", NULL, "--max-deletes=100000",
	  "10", "0", NULL, "100000" },
	{ "allow_empty", "allow_empty: false", NULL, "--allow-empty",
	  "0", "0", NULL, "1" },
	{ "drift", "drift: report", NULL, "--drift=correct",
	  "correct", "report", NULL, "correct" },
	{ "state_dir", "state_dir: /f/state", NULL, "--state-dir=/x/state",
	  "/var/lib/convex-provisioner", "/f/state", NULL, "/x/state" },
	{ "listen", "listen: \"\"", NULL, "--listen=[::1]:9000",
	  "127.0.0.1:9464", "", NULL, "[::1]:9000" },
	{ "log_level", "log_level: debug", NULL, "--log-level=error",
	  "2", "3", NULL, "0" },
	{ "log_format", "log_format: json", NULL, "--log-format=text",
	  "0", "1", NULL, "0" },
	{ "ca_file", "ca_file: /f/ca.pem", NULL, "--ca-file=/x/ca.pem",
	  "(null)", "/f/ca.pem", NULL, "/x/ca.pem" },
	{ "json", NULL, NULL, "--json", "0", NULL, NULL, "1" },
};

static int
check_field(const struct run *r, const char *what, const struct prec_row *p,
    const char *want)
{
	char *got;
	int bad = 0;

	if (r->rc != 0 || *r->diags != '\0') {
		fprintf(stderr, "%s (%s): rc %d: %s\n", p->key, what, r->rc,
		    r->diags);
		return 1;
	}
	got = field(&r->s, p->key);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "%s (%s): got \"%s\", want \"%s\"\n", p->key,
		    what, got, want);
		bad = 1;
	}
	free(got);
	return bad;
}

static void
test_precedence(void **state)
{
	int bad = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(prec) / sizeof(prec[0]); i++) {
		const struct prec_row *p = &prec[i];
		char *cfg, *text, *name = NULL;
		struct run r;

		/* default only */
		RUN0(&r);
		bad += check_field(&r, "default", p, p->want_default);
		run_done(&r);
		if (p->file == NULL) {
			RUN(&r, p->flag);
			bad += check_field(&r, "flag", p, p->want_flag);
			run_done(&r);
			continue;
		}
		assert_true(asprintf(&text, "%s\n", p->file) > 0);
		cfg = write_cfg(text);
		free(text);
		/* file over default */
		RUN(&r, "-c", cfg);
		bad += check_field(&r, "file", p, p->want_file);
		run_done(&r);
		/* environment over file */
		if (p->env != NULL) {
			const char *eq = strchr(p->env, '=');

			name = strndup(p->env, (size_t)(eq - p->env));
			setenv(name, eq + 1, 1);
			RUN(&r, "-c", cfg);
			bad += check_field(&r, "env", p, p->want_env);
			run_done(&r);
		}
		/* flag over environment and file */
		if (p->flag != NULL) {
			RUN(&r, "-c", cfg, p->flag);
			bad += check_field(&r, "flag", p, p->want_flag);
			run_done(&r);
		}
		if (name != NULL) {
			unsetenv(name);
			free(name);
		}
		free(cfg);
	}
	assert_int_equal(bad, 0);
}

/* An empty variable counts as unset. */
static void
test_empty_env(void **state)
{
	struct run r;
	(void)state;

	setenv("CONVEX_TEAM_ID", "", 1);
	setenv("CONVEX_PROVISION_HOST", "", 1);
	RUN0(&r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.s.team_id, 0);
	assert_string_equal(r.s.api_url, "https://api.convex.dev/v1");
	run_done(&r);
}

/* ---- durations and percentages ------------------------------------------ */

static void
test_duration_forms(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint64_t ms;
	} rows[] = {
		{ "90", 0, 90000 }, { "30s", 0, 30000 }, { "5m", 0, 300000 },
		{ "1h", 0, 3600000 }, { "0", 0, 0 }, { "0s", 0, 0 },
		{ "007s", 0, 7000 }, { "24h", 0, 86400000 },
		{ "", -EINVAL, 0 }, { "s", -EINVAL, 0 }, { "m", -EINVAL, 0 },
		{ "5x", -EINVAL, 0 }, { "5ms", -EINVAL, 0 }, { "5 s", -EINVAL, 0 },
		{ " 5s", -EINVAL, 0 }, { "5s ", -EINVAL, 0 }, { "-5", -EINVAL, 0 },
		{ "+5", -EINVAL, 0 }, { "1.5h", -EINVAL, 0 }, { "5S", -EINVAL, 0 },
		{ "5H", -EINVAL, 0 }, { "1h30m", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },
		{ "5d", -EINVAL, 0 }, { "5sec", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "5124095576030432h", -ERANGE, 0 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t ms = 12345;
		int rc = settings_parse_duration(rows[i].text, &ms);

		if (rc != rows[i].rc || (rc == 0 && ms != rows[i].ms))
			fail_msg("\"%s\": rc %d ms %" PRIu64 ", want rc %d ms %" PRIu64,
			    rows[i].text, rc, ms, rows[i].rc, rows[i].ms);
		if (rc != 0 && ms != 12345)
			fail_msg("\"%s\": output written on error", rows[i].text);
	}
}

static void
test_percent_forms(void **state)
{
	static const struct {
		const char *text;
		int rc;
		unsigned pct;
	} rows[] = {
		{ "10%", 0, 10 }, { "0%", 0, 0 }, { "100%", 0, 100 },
		{ "250%", 0, 250 },      /* the row's bounds refuse it, not this */
		{ "10", -EINVAL, 0 }, { "10 %", -EINVAL, 0 }, { "%", -EINVAL, 0 },
		{ "-1%", -EINVAL, 0 }, { "1.5%", -EINVAL, 0 }, { "10%%", -EINVAL, 0 },
		{ "%10", -EINVAL, 0 }, { "", -EINVAL, 0 }, { " 10%", -EINVAL, 0 },
		{ "99999999999%", -ERANGE, 0 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned pct = 777;
		int rc = settings_parse_percent(rows[i].text, &pct);

		if (rc != rows[i].rc || (rc == 0 && pct != rows[i].pct))
			fail_msg("\"%s\": rc %d pct %u, want rc %d pct %u",
			    rows[i].text, rc, pct, rows[i].rc, rows[i].pct);
	}
}

/* ---- values from the file: one row per error ---------------------------- */

static const struct {
	const char *text;
	const char *want;          /* diagnostics; "" means valid */
} file_rows[] = {
	/* durations and percentages as they reach the user */
	{ "interval: 5x\n", "cfg.yaml:1:11: error: interval: invalid duration "
	  "\"5x\" (expected seconds, or a number followed by s, m or h: 90, 30s, "
	  "5m, 1h)\n" },
	{ "interval: 1.5\n", "cfg.yaml:1:11: error: interval: invalid duration "
	  "\"1.5\" (expected seconds, or a number followed by s, m or h: 90, "
	  "30s, 5m, 1h)\n" },
	{ "interval: 0\n", "cfg.yaml:1:11: error: interval: duration \"0\" is "
	  "out of range (1s to 24h)\n" },
	{ "interval: 25h\n", "cfg.yaml:1:11: error: interval: duration \"25h\" "
	  "is out of range (1s to 24h)\n" },
	{ "interval: 1s\n", "" },
	{ "interval: 24h\n", "" },
	{ "request_timeout: 0s\n", "cfg.yaml:1:18: error: request_timeout: "
	  "duration \"0s\" is out of range (1s to 1h)\n" },
	{ "request_timeout: 61m\n", "cfg.yaml:1:18: error: request_timeout: "
	  "duration \"61m\" is out of range (1s to 1h)\n" },
	{ "jitter: 10\n", "cfg.yaml:1:9: error: jitter: invalid percentage "
	  "\"10\" (expected a whole number followed by %, such as 10%)\n" },
	{ "jitter: 101%\n", "cfg.yaml:1:9: error: jitter: percentage \"101%\" "
	  "is out of range (0% to 100%)\n" },
	{ "jitter: 100%\n", "" },
	{ "jitter: 0%\n", "" },
	/* bounds */
	{ "concurrency: 0\n", "cfg.yaml:1:14: error: concurrency: \"0\" is out "
	  "of range (1 to 256)\n" },
	{ "concurrency: 257\n", "cfg.yaml:1:14: error: concurrency: \"257\" is "
	  "out of range (1 to 256)\n" },
	{ "concurrency: 1\n", "" },
	{ "concurrency: 256\n", "" },
	{ "concurrency: -1\n", "cfg.yaml:1:14: error: concurrency: invalid "
	  "number \"-1\" (expected a whole number from 1 to 256)\n" },
	{ "concurrency: 0x10\n", "cfg.yaml:1:14: error: concurrency: invalid "
	  "number \"0x10\" (expected a whole number from 1 to 256)\n" },
	{ "max_deletes: 100001\n", "cfg.yaml:1:14: error: max_deletes: "
	  "\"100001\" is out of range (0 to 100000)\n" },
	{ "max_deletes: 99999999999999999999999\n", "cfg.yaml:1:14: error: "
	  "max_deletes: \"99999999999999999999999\" is out of range (0 to "
	  "100000)\n" },
	/* enumerations */
	{ "prune: some\n", "cfg.yaml:1:8: error: prune: invalid prune mode "
	  "\"some\" (expected none, owned or all)\n" },
	{ "drift: fix\n", "cfg.yaml:1:8: error: drift: invalid drift mode "
	  "\"fix\" (expected correct or report)\n" },
	{ "log_level: verbose\n", "cfg.yaml:1:12: error: log_level: invalid log "
	  "level \"verbose\" (expected error, warn, info or debug)\n" },
	{ "log_format: xml\n", "cfg.yaml:1:13: error: log_format: invalid log "
	  "format \"xml\" (expected text or json)\n" },
	/* booleans must be booleans */
	{ "allow_empty: yes\n", "cfg.yaml:1:14: error: allow_empty: expected "
	  "true or false, got a string\n" },
	{ "allow_empty: \"true\"\n", "cfg.yaml:1:14: error: allow_empty: "
	  "expected true or false, got a string\n" },
	{ "allow_empty: True\n", "" },
	/* team and URL */
	{ "team_id: 0\n", "cfg.yaml:1:10: error: team_id: invalid team id \"0\" "
	  "(expected a positive integer)\n" },
	{ "team_id: abc\n", "cfg.yaml:1:10: error: team_id: invalid team id "
	  "\"abc\" (expected a positive integer)\n" },
	{ "api_url: ftp://x\n", "cfg.yaml:1:10: error: api_url: invalid URL "
	  "\"ftp://x\" (expected https://HOST[:PORT][/PATH])\n" },
	{ "api_url: http://api.example.com/v1\n", "cfg.yaml:1:10: error: "
	  "api_url: plain http:// is only allowed to a loopback host "
	  "(127.0.0.0/8, ::1, localhost), not \"http://api.example.com/v1\"; "
	  "use https://\n" },
	{ "api_url: http://127.9.9.9:1/v1\n", "" },
	{ "api_url: http://localhost/v1\n", "" },
	{ "api_url: http://[::1]:8050/v1\n", "" },
	{ "api_url: http://[::2]:8050/v1\n", "cfg.yaml:1:10: error: api_url: "
	  "plain http:// is only allowed to a loopback host (127.0.0.0/8, ::1, "
	  "localhost), not \"http://[::2]:8050/v1\"; use https://\n" },
	{ "api_url: http://128.0.0.1/v1\n", "cfg.yaml:1:10: error: api_url: "
	  "plain http:// is only allowed to a loopback host (127.0.0.0/8, ::1, "
	  "localhost), not \"http://128.0.0.1/v1\"; use https://\n" },
	/* A userinfo is refused, and never quoted: a user name alone may be
	 * a token, a password is one (issue 18). */
	{ "api_url: https://me@api.example.com/v1\n", "cfg.yaml:1:10: error: "
	  "api_url: invalid URL \"https://***@api.example.com/v1\" (no spaces, "
	  "user names, queries or fragments)\n" },
	{ "api_url: http://admin:SECRET@127.0.0.1/v1\n", "cfg.yaml:1:10: error: "
	  "api_url: invalid URL \"http://admin:***@127.0.0.1/v1\" (no spaces, "
	  "user names, queries or fragments)\n" },
	{ "api_url: admin:SECRET@api.example.com/v1\n", "cfg.yaml:1:10: error: "
	  "api_url: invalid URL \"admin:***@api.example.com/v1\" (expected "
	  "https://HOST[:PORT][/PATH])\n" },
	{ "api_url: https:///v1\n", "cfg.yaml:1:10: error: api_url: invalid "
	  "URL \"https:///v1\" (no host)\n" },
	/* listen */
	{ "listen: 9464\n", "cfg.yaml:1:9: error: listen: invalid address "
	  "\"9464\" (expected HOST:PORT, [IPV6]:PORT, or \"\" to disable)\n" },
	{ "listen: localhost:65536\n", "cfg.yaml:1:9: error: listen: invalid "
	  "address \"localhost:65536\" (expected HOST:PORT, [IPV6]:PORT, or \"\" "
	  "to disable)\n" },
	{ "listen: ::1:80\n", "cfg.yaml:1:9: error: listen: invalid address "
	  "\"::1:80\" (expected HOST:PORT, [IPV6]:PORT, or \"\" to disable)\n" },
	{ "listen: 127.0.0.1:0\n", "" },
	/* paths */
	{ "desired: \"\"\n", "cfg.yaml:1:10: error: desired: an empty path\n" },
	/* follow */
	{ "follow: inotify\n", "cfg.yaml:1:9: error: follow: invalid follow "
	  "mode \"inotify\" (expected watch or poll)\n" },
	{ "follow: off\n", "cfg.yaml:1:9: error: follow: invalid follow mode "
	  "\"off\" (expected watch or poll)\n" },
	{ "follow: watch\n", "" },
	/* structure */
	{ "intervall: 5m\n", "cfg.yaml:1:1: error: unknown key \"intervall\" "
	  "(expected one of: api_url, team_id, token_file, desired, follow, interval, "
	  "jitter, concurrency, request_timeout, prune, max_deletes, "
	  "allow_empty, drift, state_dir, keys_dir, listen, log_level, log_format, "
	  "ca_file)\n" },
	{ "json: true\n", "cfg.yaml:1:1: error: unknown key \"json\" (expected "
	  "one of: api_url, team_id, token_file, desired, follow, interval, jitter, "
	  "concurrency, request_timeout, prune, max_deletes, allow_empty, "
	  "drift, state_dir, keys_dir, listen, log_level, log_format, ca_file)\n" },
	{ "token: s3cr3t-value\n", "cfg.yaml:1:1: error: the API token may not "
	  "be in the settings file; use token_file (--token-file), "
	  "$CREDENTIALS_DIRECTORY/convex-token or the CONVEX_ACCESS_TOKEN "
	  "environment variable\n" },
	{ "prune: [all]\n", "cfg.yaml:1:8: error: prune: expected a value, got "
	  "a list\n" },
	{ "prune: ~\n", "cfg.yaml:1:8: error: prune: expected a value, got "
	  "null\n" },
	{ "- prune\n", "cfg.yaml:1:1: error: expected a mapping of settings, "
	  "got a list\n" },
	{ "prune: [\n", "cfg.yaml:2:1: error: invalid YAML: did not find "
	  "expected node content (while parsing a flow node at 2:1)\n" },
	{ "prune: all\nprune: none\n", "cfg.yaml:2:1: error: duplicate key "
	  "\"prune\" (first at 1:1)\n" },
	{ "", "" },
	{ "# only comments\n", "" },
	/* every error of the file, not only the first */
	{ "interval: 5x\nbogus: 1\nconcurrency: 0\n",
	  "cfg.yaml:1:11: error: interval: invalid duration \"5x\" (expected "
	  "seconds, or a number followed by s, m or h: 90, 30s, 5m, 1h)\n"
	  "cfg.yaml:2:1: error: unknown key \"bogus\" (expected one of: api_url, "
	  "team_id, token_file, desired, follow, interval, jitter, concurrency, "
	  "request_timeout, prune, max_deletes, allow_empty, drift, state_dir, "
	  "keys_dir, listen, log_level, log_format, ca_file)\n"
	  "cfg.yaml:3:14: error: concurrency: \"0\" is out of range (1 to 256)\n" },
};

static void
test_file_rows(void **state)
{
	int bad = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(file_rows) / sizeof(file_rows[0]); i++) {
		char *cfg = write_cfg(file_rows[i].text);
		int want_rc = *file_rows[i].want ? -EINVAL : 0;
		struct run r;

		RUN(&r, "-c", cfg);
		if (r.rc != want_rc || strcmp(r.diags, file_rows[i].want) != 0) {
			fprintf(stderr, "file \"%s\": rc %d (want %d)\ngot:\n%swant:\n%s",
			    file_rows[i].text, r.rc, want_rc, r.diags,
			    file_rows[i].want);
			bad++;
		}
		if (r.rc == 0 && (r.s.config_file == NULL ||
		    strcmp(r.s.config_file, cfg) != 0)) {
			fprintf(stderr, "file \"%s\": config_file not set\n",
			    file_rows[i].text);
			bad++;
		}
		/* The token never shows up, whatever the message. */
		assert_null(strstr(r.diags, "s3cr3t"));
		run_done(&r);
		free(cfg);
	}
	assert_int_equal(bad, 0);
}

/* ---- which settings file ------------------------------------------------ */

static void
test_config_file_presence(void **state)
{
	char *missing, *cfg, *want;
	struct run r;
	(void)state;

	/* A missing -c FILE is an error... */
	assert_true(asprintf(&missing, "%s/nope.yaml", tmp) > 0);
	RUN(&r, "--config", missing);
	assert_int_equal(r.rc, -EINVAL);
	assert_string_equal(r.diags, "nope.yaml: error: cannot read: No such "
	    "file or directory\n");
	run_done(&r);
	/* ...a missing default file is not (RUN0 uses one)... */
	RUN0(&r);
	assert_int_equal(r.rc, 0);
	assert_null(r.s.config_file);
	run_done(&r);
	/* ...and a present default file is read. */
	cfg = write_cfg("concurrency: 3\n");
	run_v(&r, cfg, (const char *const[]){ NULL });
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.s.concurrency, 3);
	assert_string_equal(r.s.config_file, cfg);
	assert_string_equal(r.s.config_path, cfg);
	assert_false(r.s.config_explicit);
	run_done(&r);
	/* -c beats the default, in both spellings. */
	run_v(&r, missing, (const char *const[]){ "-c", cfg, NULL });
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.s.concurrency, 3);
	assert_true(r.s.config_explicit);
	run_done(&r);
	assert_true(asprintf(&want, "--config=%s", cfg) > 0);
	RUN(&r, want);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.s.concurrency, 3);
	run_done(&r);
	free(want);
	/* A folder is not a settings file. */
	RUN(&r, "-c", tmp);
	assert_int_equal(r.rc, -EINVAL);
	assert_true(asprintf(&want, "%s: error: not a regular file\n", tmp) > 0);
	assert_string_equal(r.diags, want);
	run_done(&r);
	free(want);
	free(cfg);
	free(missing);
}

/* ---- the environment ---------------------------------------------------- */

static void
test_env_errors(void **state)
{
	struct run r;
	(void)state;

	setenv("CONVEX_TEAM_ID", "abc", 1);
	RUN0(&r);
	assert_int_equal(r.rc, -EINVAL);
	assert_string_equal(r.diags, "error: CONVEX_TEAM_ID: invalid team id "
	    "\"abc\" (expected a positive integer)\n");
	run_done(&r);
	unsetenv("CONVEX_TEAM_ID");

	setenv("CONVEX_PROVISION_HOST", "http://10.1.2.3:8050", 1);
	RUN0(&r);
	assert_int_equal(r.rc, -EINVAL);
	assert_string_equal(r.diags, "error: CONVEX_PROVISION_HOST: plain "
	    "http:// is only allowed to a loopback host (127.0.0.0/8, ::1, "
	    "localhost), not \"http://10.1.2.3:8050/v1\"; use https://\n");
	run_done(&r);

	setenv("CONVEX_PROVISION_HOST", "api.example.com", 1);
	RUN0(&r);
	assert_int_equal(r.rc, -EINVAL);
	assert_string_equal(r.diags, "error: CONVEX_PROVISION_HOST: invalid "
	    "host \"api.example.com\" (expected https://HOST[:PORT], or http:// "
	    "for a loopback host)\n");
	run_done(&r);

	/* Credentials in the variable or the flag are never quoted (issue 18). */
	setenv("CONVEX_PROVISION_HOST", "http://admin:SECRET@10.1.2.3:8050", 1);
	RUN0(&r);
	assert_int_equal(r.rc, -EINVAL);
	assert_null(strstr(r.diags, "SECRET"));
	assert_non_null(strstr(r.diags, "admin:***@10.1.2.3"));
	run_done(&r);
	setenv("CONVEX_PROVISION_HOST", "SECRET@api.example.com", 1);
	RUN0(&r);
	assert_int_equal(r.rc, -EINVAL);
	assert_null(strstr(r.diags, "SECRET"));
	run_done(&r);
	unsetenv("CONVEX_PROVISION_HOST");
	RUN(&r, "--api-url", "https://admin:SECRET@api.example.com/v1");
	assert_int_equal(r.rc, -EINVAL);
	assert_null(strstr(r.diags, "SECRET"));
	assert_non_null(strstr(r.diags, "https://admin:***@api.example.com/v1"));
	run_done(&r);
	setenv("CONVEX_PROVISION_HOST", "api.example.com", 1);

	/* A flag wins, but a broken variable is still reported. */
	RUN(&r, "--api-url", "https://x.example/v1");
	assert_int_equal(r.rc, -EINVAL);
	run_done(&r);

	setenv("CONVEX_PROVISION_HOST", "https://api.example.com", 1);
	RUN0(&r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.s.api_url, "https://api.example.com/v1");
	run_done(&r);
}

/* ---- the command line --------------------------------------------------- */

static void
test_gnu_order(void **state)
{
	struct run r;
	(void)state;

	/* Options after the command... */
	RUN(&r, "validate", "--prune", "owned", "some/dir");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cmd, 3);
	assert_string_equal(r.argv[r.cmd], "validate");
	assert_string_equal(r.argv[r.cmd + 1], "some/dir");
	assert_int_equal(r.s.prune, PRUNE_OWNED);
	run_done(&r);
	/* ...before it, and on both sides. */
	RUN(&r, "--prune=all", "validate", "some/dir", "--json");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cmd, 3);
	assert_string_equal(r.argv[3], "validate");
	assert_string_equal(r.argv[4], "some/dir");
	assert_int_equal(r.s.prune, PRUNE_ALL);
	assert_true(r.s.json);
	run_done(&r);
	/* Even when POSIXLY_CORRECT would stop at the first argument. */
	setenv("POSIXLY_CORRECT", "1", 1);
	RUN(&r, "validate", "--max-deletes", "3");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.s.max_deletes, 3);
	assert_string_equal(r.argv[r.cmd], "validate");
	assert_int_equal(r.argc - r.cmd, 1);
	run_done(&r);
	unsetenv("POSIXLY_CORRECT");
	/* After "--" everything is an argument. */
	RUN(&r, "validate", "--", "--odd-name");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.argc - r.cmd, 2);
	assert_string_equal(r.argv[r.cmd + 1], "--odd-name");
	run_done(&r);
	/* No command at all. */
	RUN(&r, "--json");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.cmd, r.argc);
	run_done(&r);
}

static void
test_flag_errors(void **state)
{
	static const struct {
		const char *args[4];
		const char *want;
	} rows[] = {
		{ { "--bogus" }, "error: unknown option \"--bogus\" (see --help)\n" },
		{ { "--bogus=1" }, "error: unknown option \"--bogus\" (see --help)\n" },
		{ { "-x" }, "error: unknown option \"-x\" (see --help)\n" },
		{ { "--interval" }, "error: option --interval needs a value\n" },
		{ { "-c" }, "error: option -c needs a value\n" },
		{ { "--allow-empty=yes" }, "error: option --allow-empty takes no "
		  "value\n" },
		{ { "--interval", "5x" }, "error: --interval: invalid duration "
		  "\"5x\" (expected seconds, or a number followed by s, m or h: 90, "
		  "30s, 5m, 1h)\n" },
		{ { "--concurrency=300" }, "error: --concurrency: \"300\" is out of "
		  "range (1 to 256)\n" },
		{ { "--prune", "everything" }, "error: --prune: invalid prune mode "
		  "\"everything\" (expected none, owned or all)\n" },
		{ { "--team", "-3" }, "error: --team: invalid team id \"-3\" "
		  "(expected a positive integer)\n" },
		{ { "--token", "s3cr3t", "validate" }, "error: the API token is "
		  "never given as a flag; use token_file (--token-file), "
		  "$CREDENTIALS_DIRECTORY/convex-token or the CONVEX_ACCESS_TOKEN "
		  "environment variable\n" },
		{ { "validate", "--token=s3cr3t" }, "error: the API token is never "
		  "given as a flag; use token_file (--token-file), "
		  "$CREDENTIALS_DIRECTORY/convex-token or the CONVEX_ACCESS_TOKEN "
		  "environment variable\n" },
		{ { "--bogus", "--interval", "0" }, "error: unknown option "
		  "\"--bogus\" (see --help)\n" },
	};
	int bad = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct run r;

		run_v(&r, no_default, rows[i].args);
		if (r.rc != -EINVAL || strcmp(r.diags, rows[i].want) != 0) {
			fprintf(stderr, "%s: rc %d\ngot:  %swant: %s", rows[i].args[0],
			    r.rc, r.diags, rows[i].want);
			bad++;
		}
		assert_null(strstr(r.diags, "s3cr3t"));
		run_done(&r);
	}
	assert_int_equal(bad, 0);
}

/* --help and --version read nothing else: not even a broken file. */
static void
test_help_version(void **state)
{
	char *cfg = write_cfg("bogus: [\n");
	struct run r;
	(void)state;

	RUN(&r, "-c", cfg, "--help", "validate");
	assert_int_equal(r.rc, 0);
	assert_true(r.s.help);
	assert_string_equal(r.diags, "");
	run_done(&r);
	RUN(&r, "--version", "-c", cfg);
	assert_int_equal(r.rc, 0);
	assert_true(r.s.version);
	assert_string_equal(r.diags, "");
	run_done(&r);
	RUN(&r, "-h");
	assert_int_equal(r.rc, 0);
	assert_true(r.s.help);
	run_done(&r);
	/* A broken command line is an error even with --help. */
	RUN(&r, "--bogus", "--help");
	assert_int_equal(r.rc, -EINVAL);
	assert_string_equal(r.diags, "error: unknown option \"--bogus\" (see "
	    "--help)\n");
	run_done(&r);
	free(cfg);
}

/* ---- reload (SIGHUP) ---------------------------------------------------- */

static void
test_reload(void **state)
{
	struct settings next, next2;
	struct diag d;
	char *cfg, *got;
	struct run r;
	(void)state;

	cfg = write_cfg("interval: 5m\nconcurrency: 16\nteam_id: 1\n");
	setenv("CONVEX_TEAM_ID", "9", 1);
	RUN(&r, "-c", cfg, "--concurrency", "3");
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.s.interval_ms, 300000);
	assert_int_equal(r.s.concurrency, 3);
	assert_int_equal(r.s.team_id, 9);
	free(cfg);

	/* The file changes: its values move, flags and env keep winning. */
	cfg = write_cfg("interval: 10m\nconcurrency: 50\nteam_id: 2\n"
	    "prune: owned\n");
	diag_init(&d);
	assert_int_equal(settings_reload(&r.s, &next, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(next.interval_ms, 600000);
	assert_int_equal(next.concurrency, 3);
	assert_int_equal(next.team_id, 9);
	assert_int_equal(next.prune, PRUNE_OWNED);
	assert_string_equal(next.config_file, cfg);
	free(cfg);

	/* A broken file fails the reload and leaves the running one alone. */
	cfg = write_cfg("interval: never\n");
	assert_int_equal(settings_reload(&next, &next2, &d), -EINVAL);
	got = cfgtest_diags(&d, tmp);
	assert_string_equal(got, "cfg.yaml:1:11: error: interval: invalid "
	    "duration \"never\" (expected seconds, or a number followed by s, m "
	    "or h: 90, 30s, 5m, 1h)\n");
	assert_int_equal(next.interval_ms, 600000);
	free(got);
	free(cfg);
	settings_free(&next2);
	settings_free(&next);
	diag_free(&d);
	run_done(&r);
	settings_free(NULL);
}

/* ---- the table, --help and the docs ------------------------------------- */

static void
test_usage_lists_every_flag(void **state)
{
	const struct settings_row *rows;
	size_t n, len = 0;
	char *text = NULL, flag[64];
	FILE *f;
	(void)state;

	rows = settings_rows(&n);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	settings_usage(f);
	fclose(f);
	assert_non_null(strstr(text, "-c, --config FILE"));
	assert_non_null(strstr(text, "--help"));
	assert_non_null(strstr(text, "--version"));
	for (size_t i = 0; i < n; i++) {
		/* A setting is reachable from a flag or from the file. */
		assert_true(rows[i].flag != NULL || rows[i].key != NULL);
		assert_non_null(rows[i].help);
		if (rows[i].flag != NULL) {
			snprintf(flag, sizeof(flag), "--%s", rows[i].flag);
			if (strstr(text, flag) == NULL)
				fail_msg("--help lacks %s", flag);
		} else if (strstr(text, rows[i].key) == NULL) {
			fail_msg("--help lacks %s", rows[i].key);
		}
		if (rows[i].env != NULL && strstr(text, rows[i].env) == NULL)
			fail_msg("--help lacks %s", rows[i].env);
	}
	free(text);
}

static char *
slurp(const char *path)
{
	char *data;
	size_t len;

	if (ytree_read_file(path, 1 << 20, &data, &len) != 0)
		return NULL;
	return data;
}

/* docs/configuration.md names every key, flag, variable and default. */
static void
test_docs_cover_every_row(void **state)
{
	const char *src = getenv("CP_SOURCE_DIR");
	const struct settings_row *rows;
	char *path, *doc, want[128];
	size_t n;
	(void)state;

	assert_non_null(src);
	assert_true(asprintf(&path, "%s/docs/configuration.md", src) > 0);
	doc = slurp(path);
	free(path);
	assert_non_null(doc);
	rows = settings_rows(&n);
	for (size_t i = 0; i < n; i++) {
		const struct settings_row *r = &rows[i];

		if (r->key != NULL) {
			snprintf(want, sizeof(want), "`%s`", r->key);
			if (strstr(doc, want) == NULL)
				fail_msg("docs lack %s", want);
		}
		if (r->flag != NULL) {
			snprintf(want, sizeof(want), "`--%s", r->flag);
			if (strstr(doc, want) == NULL)
				fail_msg("docs lack %s", want);
		}
		if (r->env != NULL && strstr(doc, r->env) == NULL)
			fail_msg("docs lack %s", r->env);
		if (r->defval != NULL) {
			snprintf(want, sizeof(want), "`%s`", r->defval);
			if (strstr(doc, want) == NULL)
				fail_msg("docs lack the default %s of %s", want,
				    r->key ? r->key : r->flag);
		}
	}
	free(doc);
}

static void
test_prune_names(void **state)
{
	enum prune_mode m;
	(void)state;

	assert_string_equal(prune_mode_name(PRUNE_NONE), "none");
	assert_string_equal(prune_mode_name(PRUNE_OWNED), "owned");
	assert_string_equal(prune_mode_name(PRUNE_ALL), "all");
	assert_string_equal(prune_mode_name((enum prune_mode)7), "?");
	assert_int_equal(prune_mode_parse("owned", &m), 0);
	assert_int_equal(m, PRUNE_OWNED);
	assert_int_equal(prune_mode_parse("Owned", &m), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_env, setup, teardown),
		cmocka_unit_test(test_duration_forms),
		cmocka_unit_test(test_percent_forms),
		cmocka_unit_test_setup_teardown(test_file_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file_presence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gnu_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flag_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test(test_usage_lists_every_flag),
		cmocka_unit_test(test_docs_cover_every_row),
		cmocka_unit_test(test_prune_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
