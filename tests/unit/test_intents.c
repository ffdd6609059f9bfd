/* test_intents.c: create intents (daemon/reconcile/intents.c): lines that
 * round-trip (exact ids and times), lines that are not understood skipped
 * and counted, the file appended, rewritten and emptied with its modes;
 * the batch of a plan; resolution against an observation: adoption of
 * exactly one candidate, the clock-skew margin, a completion already in
 * the ledger, a conflict (kept, marked, given to the plan, never adopted
 * afterwards), the age bound, a deployment an older API may not have
 * listed; and what an execution settles. Custom domains and deploy keys:
 * their lines, their batch, their resolution row by row (a domain adopted,
 * a key completed or adopted without its secret and kept for its
 * replacement, a person's key never matched) and their settling. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "intents.h"
#include "ledger.h"
#include "plan.h"

#define T0 1700000000000LL           /* the intents' time, ms */
#define MINUTE (60 * 1000LL)

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cp-intents-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/intents.jsonl", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[160];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *
read_all(const char *p)
{
	FILE *f = fopen(p, "r");
	char *s = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(f);
	assert_non_null(s);
	n = fread(s, 1, (1 << 16) - 1, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void
write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
same_intent(const struct intent *a, const struct intent *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->project, b->project);
	assert_true(a->project_id == b->project_id);
	if (a->reference == NULL)
		assert_null(b->reference);
	else
		assert_string_equal(a->reference, b->reference);
	assert_true(a->time_ms == b->time_ms);
	assert_int_equal(a->conflict, b->conflict);
	assert_int_equal(a->protect, b->protect);
}

/* ---- lines and file ----------------------------------------------------- */

static void
test_lines_round_trip(void **state)
{
	struct intents in = { 0 }, back;
	size_t bad, first;
	char *text;
	(void)state;

	assert_int_equal(intents_add(&in, INTENT_PROJECT, "shop", 0, NULL, T0), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "shop", 0, "staging", T0), 0);
	/* Ids and times exact at any size (issue 14). */
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "big", INT64_MAX,
	    "prod/eu", INT64_MAX), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "big", 9007199254740993LL,
	    "x", 9007199254740993LL), 0);
	/* A name that needs escapes comes back byte for byte. */
	assert_int_equal(intents_add(&in, INTENT_PROJECT, "a \"q\" \\ \t\xc3\xa9\xe2\x80\xa8",
	    0, NULL, T0), 0);
	in.items[1].conflict = true;
	in.items[3].protect = true;

	text = intents_to_text(&in, 0);
	assert_non_null(text);
	assert_non_null(strstr(text, "{\"version\":1,\"kind\":\"project\",\"project\":\"shop\","
	    "\"time\":1700000000000}\n"));
	assert_non_null(strstr(text, "\"projectId\":9223372036854775807,"
	    "\"reference\":\"prod/eu\",\"time\":9223372036854775807}\n"));
	assert_non_null(strstr(text, "\"projectId\":9007199254740993,"));
	assert_non_null(strstr(text, "\"conflict\":true}\n"));
	assert_non_null(strstr(text, "\"time\":9007199254740993,\"protect\":true}\n"));
	assert_int_equal(intents_parse(text, strlen(text), &back, &bad, &first), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(back.n, in.n);
	for (size_t i = 0; i < in.n; i++)
		same_intent(&in.items[i], &back.items[i]);
	free(text);

	intents_free(&back);

	/* From an index on: only those. */
	text = intents_to_text(&in, 3);
	assert_int_equal(intents_parse(text, strlen(text), &back, &bad, &first), 0);
	assert_int_equal(back.n, 2);
	same_intent(&in.items[3], &back.items[0]);
	free(text);
	intents_free(&back);
	intents_free(&in);
}

/* Lines that are not one intent of this version are skipped and counted:
 * losing an intent only leaves its resource unowned. */
static void
test_bad_lines(void **state)
{
	static const char text[] =
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"a\",\"time\":1}\n"
	    "\n"
	    "   \r\n"
	    "{\"version\":2,\"kind\":\"project\",\"project\":\"b\",\"time\":1}\n"     /* 4: newer */
	    "{\"version\":1,\"kind\":\"domain\",\"project\":\"c\",\"time\":1}\n"      /* 5: kind */
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"\",\"time\":1}\n"      /* 6: empty name */
	    "{\"version\":1,\"kind\":\"deployment\",\"project\":\"d\",\"time\":1}\n"  /* 7: no reference */
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"e\",\"reference\":\"r\",\"time\":1}\n" /* 8 */
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"f\"}\n"                /* 9: no time */
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"g\",\"time\":1.5}\n"   /* 10 */
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"h\\u0000i\",\"time\":1}\n" /* 11: NUL */
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"j\",\"time\":1}{}\n"  /* 12: two */
	    "[1]\n"                                                                 /* 13 */
	    "{\"version\":1,\"kind\":\"deployment\",\"project\":\"k\",\"projectId\":0,\"reference\":\"r\",\"time\":1}\n" /* 14 */
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"l\",\"time\":1,\"conflict\":1}\n" /* 15 */
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"l\",\"time\":1,\"protect\":\"yes\"}\n"
	    "{\"version\":1,\"kind\":\"deployment\",\"project\":\"m\",\"reference\":\"r\",\"time\":2,\"extra\":[]}\r\n"
	    "{\"version\":1,\"kind\":\"project\",\"proj";                              /* 17: torn */
	struct intents in;
	size_t bad, first;
	(void)state;

	assert_int_equal(intents_parse(text, sizeof(text) - 1, &in, &bad, &first), 0);
	assert_int_equal(in.n, 2);
	assert_string_equal(in.items[0].project, "a");
	assert_string_equal(in.items[1].project, "m");    /* unknown keys are tolerated */
	assert_string_equal(in.items[1].reference, "r");
	assert_int_equal(bad, 14);
	assert_int_equal(first, 4);
	intents_free(&in);
}

static void
test_file(void **state)
{
	struct intents in = { 0 }, back;
	char err[256] = "", tmp[160], *text;
	size_t bad;
	bool clean;
	struct stat st;
	int rc;
	(void)state;

	/* None yet: empty, appendable. */
	assert_int_equal(intents_load(path, &back, &bad, &clean, err, sizeof(err)), 0);
	assert_int_equal(back.n, 0);
	assert_true(clean);

	assert_int_equal(intents_add(&in, INTENT_PROJECT, "a", 0, NULL, T0), 0);
	assert_int_equal(intents_add(&in, INTENT_PROJECT, "b", 0, NULL, T0), 0);
	assert_int_equal(intents_append(path, &in, 0, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "a", 0, "r", T0), 0);
	assert_int_equal(intents_append(path, &in, 2, err, sizeof(err)), 0);
	assert_int_equal(intents_append(path, &in, 3, err, sizeof(err)), 0);   /* nothing */
	assert_int_equal(intents_load(path, &back, &bad, &clean, err, sizeof(err)), 0);
	assert_int_equal(back.n, 3);
	assert_true(clean);
	for (size_t i = 0; i < 3; i++)
		same_intent(&in.items[i], &back.items[i]);
	intents_free(&back);

	/* A torn last line: skipped, and the file is no longer appendable. */
	text = read_all(path);
	text[strlen(text) - 5] = '\0';
	write_file(path, text);
	free(text);
	assert_int_equal(intents_load(path, &back, &bad, &clean, err, sizeof(err)), 0);
	assert_int_equal(back.n, 2);
	assert_int_equal(bad, 1);
	assert_false(clean);
	assert_non_null(strstr(err, "1 line not understood (the first: line 3)"));
	intents_free(&back);

	/* A rewrite is exactly what is given, through a temporary file. */
	assert_int_equal(intents_save(path, &in, err, sizeof(err)), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);
	assert_int_equal(intents_load(path, &back, &bad, &clean, err, sizeof(err)), 0);
	assert_int_equal(back.n, 3);
	assert_true(clean);
	intents_free(&back);

	/* Nothing left: the file is emptied, not removed. */
	intents_free(&in);
	assert_int_equal(intents_save(path, &in, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	/* And with no file at all, nothing is made. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(intents_save(path, &in, err, sizeof(err)), 0);
	assert_int_not_equal(access(path, F_OK), 0);

	/* Not a regular file: refused, never opened for writing. */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(intents_add(&in, INTENT_PROJECT, "a", 0, NULL, T0), 0);
	rc = intents_append(path, &in, 0, err, sizeof(err));
	assert_true(rc == -ENXIO || rc == -EINVAL);   /* no reader, or not regular */
	assert_int_equal(intents_load(path, &back, &bad, &clean, err, sizeof(err)), -EINVAL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(intents_append(path, &in, 0, err, sizeof(err)), -ELOOP);
	assert_int_equal(intents_load(path, &back, &bad, &clean, err, sizeof(err)), -ELOOP);
	intents_free(&in);
}

/* ---- the batch ---------------------------------------------------------- */

static struct desired_deployment shop_deps[] = {
	{ .reference = "production", .type = DEP_PROD, DESIRED_DEPLOYMENT_UNSET },
	{ .reference = "staging", .type = DEP_DEV, DESIRED_DEPLOYMENT_UNSET },
};
static struct desired_deployment blog_deps[] = {
	{ .reference = "production", .type = DEP_PROD, DESIRED_DEPLOYMENT_UNSET },
	{ .reference = "preview", .type = DEP_PREVIEW, DESIRED_DEPLOYMENT_UNSET },
};
static struct desired_project projects[] = {
	{ .name = "blog", .deployments = blog_deps, .n_deployments = 2 },
	{ .name = "shop", .deployments = shop_deps, .n_deployments = 2 },
};
static struct desired_state desired = { .projects = projects, .n_projects = 2 };

/* blog lives (id 7, with its production deployment); shop does not. */
static struct observed_project live_blog[] = {
	{ .id = 7, .name = "blog", .create_time = T0 - 100 * MINUTE },
};
static struct observed_deployment live_blog_deps[] = {
	{ .id = 70, .name = "old-owl-70", .project_id = 7, .type = DEP_PROD,
	  .reference = "production", .create_time = T0 - 100 * MINUTE },
};

static void
test_from_plan(void **state)
{
	struct observed_state os = { .projects = live_blog, .n_projects = 1,
	    .deployments = live_blog_deps, .n_deployments = 1 };
	struct plan_settings set = { .prune = PRUNE_NONE, .max_deletes = 10 };
	struct intents in = { 0 };
	struct plan p;
	(void)state;

	assert_int_equal(plan_build(&desired, &os, NULL, &set, &p), 0);
	assert_int_equal(p.n_actions, 4);   /* shop, blog/preview, shop's two */
	assert_int_equal(intents_from_plan(&in, &p, T0), 4);
	for (size_t i = 0; i < in.n; i++) {
		const struct plan_action *a = &p.actions[in.items[i].action];

		assert_int_equal(a->op, PLAN_CREATE);
		assert_string_equal(in.items[i].project, a->project);
		assert_true(in.items[i].time_ms == T0);
		if (a->kind == PLAN_PROJECT) {
			assert_int_equal(in.items[i].kind, INTENT_PROJECT);
			assert_null(in.items[i].reference);
		} else {
			assert_int_equal(in.items[i].kind, INTENT_DEPLOYMENT);
			assert_string_equal(in.items[i].reference, a->reference);
			/* In a live project by its id; in a new one by name. */
			assert_true(in.items[i].project_id == a->project_id);
		}
	}
	assert_true(in.items[1].project_id == 7 || in.items[2].project_id == 7 ||
	    in.items[3].project_id == 7);
	intents_free(&in);
	plan_free(&p);
}

/* ---- resolution ------------------------------------------------------- */

struct events {
	int adopted, conflict, gone, expired, lost;
	int64_t last_id;
	char last_name[64];
};

static void
on_event(void *arg, enum intent_event ev, const struct intent *it, int64_t id,
    const char *name)
{
	struct events *e = arg;

	(void)it;
	e->last_id = id;
	snprintf(e->last_name, sizeof(e->last_name), "%s", name ? name : "");
	switch (ev) {
	case INTENT_ADOPTED: e->adopted++; break;
	case INTENT_CONFLICT: e->conflict++; break;
	case INTENT_CONFLICT_GONE: e->gone++; break;
	case INTENT_EXPIRED: e->expired++; break;
	case INTENT_LOST_SECRET: e->lost++; break;
	}
}

/* A lost project create and the lost creates of its two deployments: all
 * three adopted, exactly once, with the ids the API gave. A project named
 * the same long before the intent (more than the skew) is no candidate. */
static void
test_adopts_one(void **state)
{
	struct observed_project ps[] = {
		{ .id = 9007199254740993LL, .name = "shop", .create_time = T0 + 20 },
		{ .id = 3, .name = "blog", .create_time = T0 + 10 },
	};
	struct observed_deployment ds[] = {
		{ .id = 1, .name = "calm-cat-1", .project_id = 9007199254740993LL,
		  .type = DEP_PROD, .reference = "production", .create_time = T0 + 30 },
		{ .id = 2, .name = "dry-dog-2", .project_id = 9007199254740993LL,
		  .type = DEP_DEV, .reference = "staging", .create_time = T0 + 30 },
	};
	struct observed_state os = { .projects = ps, .n_projects = 2,
	    .deployments = ds, .n_deployments = 2 };
	struct intents in = { 0 };
	struct ledger l = { 0 };
	struct intents_report rep;
	struct events ev = { 0 };
	const struct ledger_deployment *ld;
	(void)state;

	assert_int_equal(intents_add(&in, INTENT_PROJECT, "shop", 0, NULL, T0), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "shop", 0, "production", T0), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "shop", 0, "staging", T0), 0);
	/* Declared protect: true when planned: the mark is recorded with the
	 * adoption (random schedules, seed 74759: the project, declared absent
	 * next, was deleted with the deployment made from that declaration). */
	in.items[1].protect = true;
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE, &rep,
	    on_event, &ev), 0);
	assert_int_equal(rep.adopted, 3);
	assert_false(ledger_find_project(&l, 9007199254740993LL)->protect);
	assert_true(ledger_find_deployment(&l, "calm-cat-1")->protect);
	assert_false(ledger_find_deployment(&l, "dry-dog-2")->protect);
	assert_int_equal(ev.adopted, 3);
	assert_int_equal(in.n, 0);
	assert_true(rep.changed);
	assert_int_equal(l.n_projects, 1);
	assert_true(ledger_find_project(&l, 9007199254740993LL)->created);
	assert_null(ledger_find_project(&l, 3));          /* not ours */
	ld = ledger_find_deployment(&l, "calm-cat-1");
	assert_non_null(ld);
	assert_true(ld->created);
	assert_true(ld->project_id == 9007199254740993LL);
	assert_string_equal(ld->project, "shop");
	assert_string_equal(ld->reference, "production");
	assert_true(ledger_find_deployment(&l, "dry-dog-2")->created);
	assert_int_equal(l.n_conflicts, 0);

	/* Again with the same observation: nothing left to do. */
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE, &rep,
	    on_event, &ev), 0);
	assert_int_equal(rep.adopted, 0);
	assert_false(rep.changed);
	ledger_free(&l);
	intents_free(&in);
}

/* The skew margin: a candidate stamped up to INTENTS_SKEW_MS before the
 * intent (the API's clock behind ours) is adopted; one stamped earlier is
 * not a candidate, and the intent is dropped as "not made". */
static void
test_skew(void **state)
{
	struct observed_project ps[] = {
		{ .id = 11, .name = "shop", .create_time = 0 },
	};
	struct observed_state os = { .projects = ps, .n_projects = 1,
	    .deployments = NULL, .n_deployments = 0 };
	struct intents_report rep;
	(void)state;

	static const struct {
		int64_t created;
		size_t adopted;
	} rows[] = {
		{ T0 - INTENTS_SKEW_MS, 1 },
		{ T0 - INTENTS_SKEW_MS + 1, 1 },
		{ T0 + 1, 1 },
		{ 0, 1 },                      /* the API did not say: a candidate */
		{ T0 - INTENTS_SKEW_MS - 1, 0 },
		{ T0 - 3600 * 1000LL, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct intents in = { 0 };
		struct ledger l = { 0 };

		ps[0].create_time = rows[i].created;
		assert_int_equal(intents_add(&in, INTENT_PROJECT, "shop", 0, NULL, T0), 0);
		assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE,
		    &rep, NULL, NULL), 0);
		assert_int_equal(rep.adopted, rows[i].adopted);
		assert_int_equal(l.n_projects, rows[i].adopted);
		assert_int_equal(rep.unmatched, 1 - rows[i].adopted);
		assert_int_equal(in.n, 0);
		ledger_free(&l);
		intents_free(&in);
	}
}

/* A completion the ledger already holds resolves the intent: nothing is
 * adopted, and protect marks stay as they were. With a second live project
 * of that name (made since by a person, or one of ours a person renamed
 * onto the name while the create's answer was lost: random schedules, seed
 * 40437) the one recorded as ours proves nothing: a conflict, nothing
 * adopted, the intent kept; once one is gone, the marked intent is dropped
 * without adopting the other. */
static void
test_completed(void **state)
{
	struct observed_project ps[] = {
		{ .id = 5, .name = "shop", .create_time = T0 + 1 },
		{ .id = 6, .name = "shop", .create_time = T0 + 2 },
	};
	struct observed_state os = { .projects = ps, .n_projects = 1,
	    .deployments = NULL, .n_deployments = 0 };
	struct intents in = { 0 };
	struct ledger l = { 0 };
	struct intents_report rep;
	(void)state;

	assert_int_equal(ledger_add_project(&l, 5, "shop"), 0);
	assert_int_equal(intents_add(&in, INTENT_PROJECT, "shop", 0, NULL, T0), 0);
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE, &rep,
	    NULL, NULL), 0);
	assert_int_equal(rep.completed, 1);
	assert_int_equal(rep.adopted, 0);
	assert_int_equal(rep.conflicts, 0);
	assert_int_equal(in.n, 0);
	assert_int_equal(l.n_conflicts, 0);

	/* Two live: which one the create made is not known. */
	os.n_projects = 2;
	assert_int_equal(intents_add(&in, INTENT_PROJECT, "shop", 0, NULL, T0), 0);
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE, &rep,
	    NULL, NULL), 0);
	assert_int_equal(rep.completed, 0);
	assert_int_equal(rep.adopted, 0);
	assert_int_equal(rep.conflicts, 1);
	assert_int_equal(in.n, 1);
	assert_true(in.items[0].conflict);
	assert_int_equal(l.n_conflicts, 1);
	assert_null(ledger_find_project(&l, 6));

	/* The person deletes the one recorded as ours: the other is still
	 * not adopted (a marked intent never adopts). */
	ps[0] = ps[1];
	os.n_projects = 1;
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE, &rep,
	    NULL, NULL), 0);
	assert_int_equal(rep.adopted, 0);
	assert_int_equal(in.n, 0);
	assert_null(ledger_find_project(&l, 6));
	assert_int_equal(l.n_conflicts, 0);
	ledger_free(&l);
	intents_free(&in);
}

/* Two candidates: a conflict. Nothing adopted, the intent kept and marked,
 * the plan told. Once one of them is gone, the marked intent is dropped
 * without adopting what is left: a person chose which one stayed. */
static void
test_conflict(void **state)
{
	struct observed_project ps[] = {
		{ .id = 21, .name = "blog", .create_time = T0 - 100 * MINUTE },
	};
	struct observed_deployment ds[] = {
		{ .id = 1, .name = "one-owl-1", .project_id = 21, .type = DEP_PREVIEW,
		  .reference = "preview", .create_time = T0 + 5 },
		{ .id = 2, .name = "two-owl-2", .project_id = 21, .type = DEP_PREVIEW,
		  .reference = "preview", .create_time = T0 + 6 },
		{ .id = 3, .name = "old-owl-3", .project_id = 21, .type = DEP_PROD,
		  .reference = "production", .create_time = T0 - 100 * MINUTE },
	};
	struct observed_state os = { .projects = ps, .n_projects = 1,
	    .deployments = ds, .n_deployments = 3 };
	struct plan_settings set = { .prune = PRUNE_ALL, .max_deletes = 10 };
	struct intents in = { 0 }, back;
	struct ledger l = { 0 };
	struct intents_report rep;
	struct events ev = { 0 };
	struct plan p;
	size_t bad, first;
	char *text;
	(void)state;

	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "blog", 21, "preview", T0), 0);
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE, &rep,
	    on_event, &ev), 0);
	assert_int_equal(rep.conflicts, 1);
	assert_int_equal(ev.conflict, 1);
	assert_true(ev.last_id == 2);
	assert_int_equal(rep.adopted, 0);
	assert_int_equal(l.n_deployments, 0);
	assert_int_equal(in.n, 1);
	assert_true(in.items[0].conflict);
	assert_true(rep.changed);                  /* the mark must be written */
	assert_int_equal(l.n_conflicts, 1);
	assert_int_equal(l.conflicts[0].kind, INTENT_DEPLOYMENT);
	assert_string_equal(l.conflicts[0].project, "blog");
	assert_string_equal(l.conflicts[0].reference, "preview");
	assert_int_equal(l.conflicts[0].candidates, 2);
	/* The mark survives the file. */
	text = intents_to_text(&in, 0);
	assert_int_equal(intents_parse(text, strlen(text), &back, &bad, &first), 0);
	assert_true(back.items[0].conflict);
	free(text);
	intents_free(&back);

	/* The plan, even under prune all, does nothing to blog/preview (both
	 * live ones are declared-and-doubled); it says so once. The rest of
	 * blog is planned as usual. */
	assert_int_equal(plan_build(&desired, &os, &l, &set, &p), 0);
	assert_int_equal(p.n_blocked, 1);
	assert_int_equal(p.blocked[0].guard, GUARD_CONFLICT);
	assert_string_equal(p.blocked[0].project, "blog");
	assert_string_equal(p.blocked[0].reference, "preview");
	assert_non_null(strstr(p.blocked[0].message, "2 live deployments \"blog/preview\""));
	for (size_t i = 0; i < p.n_actions; i++)
		assert_true(p.actions[i].reference == NULL ||
		    strcmp(p.actions[i].reference, "preview") != 0);
	assert_int_equal(p.n_drift, 0);
	plan_free(&p);

	/* Still two: still a conflict, nothing new to write. */
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + 2 * MINUTE, &rep,
	    on_event, &ev), 0);
	assert_int_equal(rep.conflicts, 1);
	assert_false(rep.changed);
	assert_int_equal(l.n_conflicts, 1);

	/* A person removed one: dropped, the other not adopted. */
	os.deployments = &ds[1];
	os.n_deployments = 2;
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + 3 * MINUTE, &rep,
	    on_event, &ev), 0);
	assert_int_equal(ev.gone, 1);
	assert_int_equal(in.n, 0);
	assert_int_equal(rep.adopted, 0);
	assert_int_equal(l.n_deployments, 0);
	assert_int_equal(l.n_conflicts, 0);
	ledger_free(&l);
	intents_free(&in);
}

/* Older than the bound: dropped unexamined, even with one candidate. */
static void
test_expired(void **state)
{
	struct observed_project ps[] = {
		{ .id = 31, .name = "shop", .create_time = T0 + INTENTS_MAX_AGE_MS },
	};
	struct observed_state os = { .projects = ps, .n_projects = 1,
	    .deployments = NULL, .n_deployments = 0 };
	struct intents in = { 0 };
	struct ledger l = { 0 };
	struct intents_report rep;
	struct events ev = { 0 };
	(void)state;

	assert_int_equal(intents_add(&in, INTENT_PROJECT, "shop", 0, NULL, T0), 0);
	assert_int_equal(intents_add(&in, INTENT_PROJECT, "shop", 0, NULL, T0 + 1), 0);
	assert_int_equal(intents_resolve(&in, &desired, &os, &l,
	    T0 + INTENTS_MAX_AGE_MS + 1, &rep, on_event, &ev), 0);
	assert_int_equal(rep.expired, 1);
	assert_int_equal(ev.expired, 1);
	/* The second is exactly at the bound: still examined, and adopted. */
	assert_int_equal(rep.adopted, 1);
	assert_int_equal(in.n, 0);
	ledger_free(&l);
	intents_free(&in);
}

/* No candidate: dropped, except a deployment of a live project that is not
 * declared (an older API lists only declared projects' deployments: its
 * absence proves nothing). A deployment of a project that is not live is
 * dropped. */
static void
test_unmatched(void **state)
{
	struct observed_project ps[] = {
		{ .id = 41, .name = "blog", .create_time = T0 - 100 * MINUTE },
		{ .id = 42, .name = "undeclared", .create_time = T0 - 100 * MINUTE },
	};
	struct observed_state os = { .projects = ps, .n_projects = 2,
	    .deployments = NULL, .n_deployments = 0 };
	struct intents in = { 0 };
	struct ledger l = { 0 };
	struct intents_report rep;
	(void)state;

	assert_int_equal(intents_add(&in, INTENT_PROJECT, "shop", 0, NULL, T0), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "blog", 41, "preview", T0), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "undeclared", 42, "r1", T0), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "undeclared", 0, "r2", T0), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "gone", 0, "r3", T0), 0);
	assert_int_equal(intents_add(&in, INTENT_DEPLOYMENT, "gone", 99, "r4", T0), 0);
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE, &rep,
	    NULL, NULL), 0);
	assert_int_equal(rep.unmatched, 4);
	assert_int_equal(in.n, 2);
	assert_string_equal(in.items[0].reference, "r1");
	assert_string_equal(in.items[1].reference, "r2");
	assert_int_equal(rep.kept, 2);
	assert_int_equal(l.n_projects + l.n_deployments, 0);
	ledger_free(&l);
	intents_free(&in);
}

/* What an execution settles: never sent, or done and saved. */
static void
test_settle(void **state)
{
	struct observed_state os = { .projects = live_blog, .n_projects = 1,
	    .deployments = live_blog_deps, .n_deployments = 1 };
	struct plan_settings set = { .prune = PRUNE_NONE, .max_deletes = 10 };
	struct action_result r[4];
	struct intents in = { 0 };
	struct plan p;
	(void)state;

	assert_int_equal(plan_build(&desired, &os, NULL, &set, &p), 0);
	assert_int_equal(p.n_actions, 4);
	for (int saved = 0; saved < 2; saved++) {
		/* One intent from before this apply is left alone. */
		assert_int_equal(intents_add(&in, INTENT_PROJECT, "older", 0, NULL, T0), 0);
		assert_int_equal(intents_from_plan(&in, &p, T0), 4);
		memset(r, 0, sizeof(r));
		r[0].state = ACTION_OK;
		r[1].state = ACTION_FAILED;
		r[2].state = ACTION_SKIPPED;
		r[3].state = ACTION_OK;
		assert_true(intents_settle(&in, &p, r, saved));
		assert_int_equal(in.n, saved ? 2 : 4);
		assert_string_equal(in.items[0].project, "older");
		for (size_t i = 0; i < in.n; i++)
			assert_int_equal(in.items[i].action, INTENT_NO_ACTION);
		intents_free(&in);
	}
	plan_free(&p);
}


/* ---- custom domains and deploy keys (SPEC sections 9 and 11) ----------- */

static void
str_or_null(const char *a, const char *b)
{
	if (a == NULL)
		assert_null(b);
	else
		assert_string_equal(a, b);
}

/* Their lines carry the deployment (when it was live) and the name, byte
 * for byte; a line with the fields of another kind is not understood. */
static void
test_named_lines(void **state)
{
	static const char bad_text[] =
	    "{\"version\":1,\"kind\":\"domain\",\"project\":\"a\",\"reference\":\"r\",\"time\":1}\n"  /* no name */
	    "{\"version\":1,\"kind\":\"deploy_key\",\"project\":\"a\",\"reference\":\"r\",\"name\":\"\",\"time\":1}\n"
	    "{\"version\":1,\"kind\":\"deploy_key\",\"project\":\"a\",\"name\":\"k\",\"time\":1}\n"  /* no reference */
	    "{\"version\":1,\"kind\":\"deploy_key\",\"project\":\"a\",\"reference\":\"r\",\"deployment\":\"\",\"name\":\"k\",\"time\":1}\n"
	    "{\"version\":1,\"kind\":\"deploy_key\",\"project\":\"a\",\"reference\":\"r\",\"deployment\":7,\"name\":\"k\",\"time\":1}\n"
	    "{\"version\":1,\"kind\":\"domain\",\"project\":\"a\",\"reference\":\"r\",\"name\":[],\"time\":1}\n"
	    "{\"version\":1,\"kind\":\"project\",\"project\":\"a\",\"name\":\"k\",\"time\":1}\n"
	    "{\"version\":1,\"kind\":\"deployment\",\"project\":\"a\",\"reference\":\"r\",\"deployment\":\"d\",\"time\":1}\n"
	    "{\"version\":1,\"kind\":\"deploy_key\",\"project\":\"a\",\"reference\":\"r\",\"name\":\"ok\",\"time\":1}\n";
	struct intents in = { 0 }, back;
	size_t bad, first;
	char *text;
	(void)state;

	assert_int_equal(intents_add_named(&in, INTENT_DOMAIN, "shop", 12,
	    "production", "happy-otter-1", "api.shop.example.com", T0), 0);
	assert_int_equal(intents_add_named(&in, INTENT_DEPLOY_KEY, "shop", 0,
	    "staging", NULL, "ci \"x\" \xc3\xa9", 9007199254740993LL), 0);
	text = intents_to_text(&in, 0);
	assert_non_null(text);
	assert_non_null(strstr(text, "{\"version\":1,\"kind\":\"domain\",\"project\":\"shop\","
	    "\"projectId\":12,\"reference\":\"production\",\"deployment\":\"happy-otter-1\","
	    "\"name\":\"api.shop.example.com\",\"time\":1700000000000}\n"));
	assert_non_null(strstr(text, "\"kind\":\"deploy_key\""));
	assert_null(strstr(strstr(text, "deploy_key"), "\"deployment\""));
	assert_int_equal(intents_parse(text, strlen(text), &back, &bad, &first), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(back.n, 2);
	for (size_t i = 0; i < 2; i++) {
		same_intent(&in.items[i], &back.items[i]);
		str_or_null(in.items[i].deployment, back.items[i].deployment);
		str_or_null(in.items[i].name, back.items[i].name);
	}
	free(text);
	intents_free(&back);
	intents_free(&in);

	assert_int_equal(intents_parse(bad_text, sizeof(bad_text) - 1, &back, &bad,
	    &first), 0);
	assert_int_equal(back.n, 1);
	assert_string_equal(back.items[0].name, "ok");
	assert_null(back.items[0].deployment);
	assert_int_equal(bad, 8);
	assert_int_equal(first, 1);
	intents_free(&back);
}

/* blog (live, id 7) declares a domain and a key on its live production; a
 * new project declares a key on its new deployment. */
static struct desired_domain blog_domains[] = {
	{ .domain = "api.blog.example.com", .destination = DESIRED_DEST_CONVEX_CLOUD },
};
static char *blog_keys[] = { "ci" };
static struct desired_deployment blog_named_deps[] = {
	{ .reference = "production", .type = DEP_PROD, DESIRED_DEPLOYMENT_UNSET,
	  .domains = blog_domains, .n_domains = 1, .domains_declared = true,
	  .deploy_keys = blog_keys, .n_deploy_keys = 1, .deploy_keys_declared = true },
};
static struct desired_deployment news_deps[] = {
	{ .reference = "production", .type = DEP_PROD, DESIRED_DEPLOYMENT_UNSET,
	  .deploy_keys = blog_keys, .n_deploy_keys = 1, .deploy_keys_declared = true },
};
static struct desired_project named_projects[] = {
	{ .name = "blog", .deployments = blog_named_deps, .n_deployments = 1 },
	{ .name = "news", .deployments = news_deps, .n_deployments = 1 },
};
static struct desired_state named_desired = { .projects = named_projects,
	.n_projects = 2 };

static void
test_named_from_plan(void **state)
{
	struct observed_listed listed[] = {
		{ .deployment = "old-owl-70", .kind = LISTED_DOMAINS },
		{ .deployment = "old-owl-70", .kind = LISTED_DEPLOY_KEYS },
	};
	struct observed_state os = { .projects = live_blog, .n_projects = 1,
	    .deployments = live_blog_deps, .n_deployments = 1,
	    .listed = listed, .n_listed = 2 };
	struct plan_settings set = { .prune = PRUNE_NONE, .max_deletes = 10 };
	struct intents in = { 0 };
	size_t domains = 0, keys = 0;
	struct plan p;
	(void)state;

	assert_int_equal(plan_build(&named_desired, &os, NULL, &set, &p), 0);
	/* news, news/production, its key; blog's domain and key */
	assert_int_equal(p.n_actions, 5);
	assert_int_equal(intents_from_plan(&in, &p, T0), 5);
	for (size_t i = 0; i < in.n; i++) {
		const struct intent *it = &in.items[i];
		const struct plan_action *a = &p.actions[it->action];

		if (it->kind == INTENT_DOMAIN) {
			domains++;
			assert_string_equal(it->name, "api.blog.example.com");
			assert_string_equal(it->deployment, "old-owl-70");
			assert_true(it->project_id == 7);
			assert_string_equal(it->reference, "production");
		} else if (it->kind == INTENT_DEPLOY_KEY) {
			keys++;
			assert_string_equal(it->name, "ci");
			str_or_null(a->deployment_name, it->deployment);
			/* The new deployment's key: by project and reference. */
			if (strcmp(it->project, "news") == 0) {
				assert_null(it->deployment);
				assert_true(it->project_id == 0);
			} else {
				assert_string_equal(it->deployment, "old-owl-70");
			}
		}
	}
	assert_int_equal(domains, 1);
	assert_int_equal(keys, 2);
	intents_free(&in);
	plan_free(&p);
}

/* Resolution, row by row: what the observation shows of one intent's
 * domain or key, and what becomes of it. */
struct named_row {
	const char *name;
	enum intent_kind kind;
	const char *deployment;       /* the intent's (NULL: by reference) */
	int64_t project_id;           /* the intent's */
	int64_t live_time;            /* the live item's createTime; 0: none */
	bool secret_file;             /* a key's */
	bool listed;                  /* the deployment's listing was made */
	const char *live_on;          /* the live item's deployment */
	/* expected */
	bool kept;
	size_t adopted, completed, unmatched;
	bool ledger_key;              /* a key recorded as ours afterwards */
	bool lost;                    /* marked lost_secret */
};

static const struct named_row named_rows[] = {
	{ "domain_adopted", INTENT_DOMAIN, "calm-cat-1", 5, T0 + 9, false, true,
	  "calm-cat-1", .adopted = 1 },
	{ "domain_by_reference", INTENT_DOMAIN, NULL, 5, T0 + 9, false, true,
	  "calm-cat-1", .adopted = 1 },
	{ "domain_of_new_project_by_name", INTENT_DOMAIN, NULL, 0, T0 + 9, false,
	  true, "calm-cat-1", .adopted = 1 },
	{ "domain_older_than_intent_not_made", INTENT_DOMAIN, "calm-cat-1", 5,
	  T0 - 2 * INTENTS_SKEW_MS, false, true, "calm-cat-1", .unmatched = 1 },
	{ "domain_none_live", INTENT_DOMAIN, "calm-cat-1", 5, 0, false, true,
	  "calm-cat-1", .unmatched = 1 },
	{ "domain_not_listed_kept", INTENT_DOMAIN, "calm-cat-1", 5, 0, false,
	  false, "calm-cat-1", .kept = true },
	{ "domain_of_deleted_deployment", INTENT_DOMAIN, "gone-gnu-9", 5, 0, false,
	  true, "calm-cat-1", .unmatched = 1 },
	{ "key_completed_its_file_written", INTENT_DEPLOY_KEY, "calm-cat-1", 5,
	  T0 + 9, true, true, "calm-cat-1", .completed = 1, .ledger_key = true },
	{ "key_secret_lost_adopted_and_replaced", INTENT_DEPLOY_KEY, "calm-cat-1",
	  5, T0 + 9, false, true, "calm-cat-1", .kept = true, .adopted = 1,
	  .ledger_key = true, .lost = true },
	{ "key_by_reference_secret_lost", INTENT_DEPLOY_KEY, NULL, 5, T0 + 9, false,
	  true, "calm-cat-1", .kept = true, .adopted = 1, .ledger_key = true,
	  .lost = true },
	{ "key_same_name_elsewhere_not_ours", INTENT_DEPLOY_KEY, "calm-cat-1", 5,
	  T0 + 9, false, true, "dry-dog-2", .unmatched = 1 },
	{ "key_older_than_intent_a_persons", INTENT_DEPLOY_KEY, "calm-cat-1", 5,
	  T0 - 2 * INTENTS_SKEW_MS, false, true, "calm-cat-1", .unmatched = 1 },
	{ "key_not_listed_kept", INTENT_DEPLOY_KEY, "calm-cat-1", 5, 0, false,
	  false, "calm-cat-1", .kept = true },
};

static void
check_named_row(const struct named_row *r)
{
	struct observed_project ps[] = {
		{ .id = 5, .name = "shop", .create_time = T0 - 100 * MINUTE },
	};
	struct observed_deployment ds[] = {
		{ .id = 1, .name = "calm-cat-1", .project_id = 5, .type = DEP_PROD,
		  .reference = "production", .create_time = T0 - 100 * MINUTE },
		{ .id = 2, .name = "dry-dog-2", .project_id = 5, .type = DEP_DEV,
		  .reference = "staging", .create_time = T0 - 100 * MINUTE },
	};
	struct observed_domain dom = { .deployment = (char *)r->live_on,
	    .domain = "api.shop.example.com", .create_time = r->live_time };
	struct observed_deploy_key key = { .deployment = (char *)r->live_on,
	    .name = "ci", .create_time = r->live_time, .secret_file = r->secret_file };
	struct observed_listed listed[] = {
		{ .deployment = "calm-cat-1", .kind = r->kind == INTENT_DOMAIN ?
		  LISTED_DOMAINS : LISTED_DEPLOY_KEYS },
		{ .deployment = "dry-dog-2", .kind = r->kind == INTENT_DOMAIN ?
		  LISTED_DOMAINS : LISTED_DEPLOY_KEYS },
	};
	struct observed_state os = { .projects = ps, .n_projects = 1,
	    .deployments = ds, .n_deployments = 2, .listed = listed,
	    .n_listed = r->listed ? 2 : 0 };
	struct intents in = { 0 };
	struct ledger l = { 0 };
	struct intents_report rep;
	struct events ev = { 0 };
	bool domain = r->kind == INTENT_DOMAIN;

	print_message("row %s\n", r->name);
	if (r->live_time != 0 && domain) {
		os.domains = &dom;
		os.n_domains = 1;
	} else if (r->live_time != 0) {
		os.deploy_keys = &key;
		os.n_deploy_keys = 1;
	}
	assert_int_equal(intents_add_named(&in, r->kind, "shop", r->project_id,
	    "production", r->deployment, domain ? "api.shop.example.com" : "ci",
	    T0), 0);
	assert_int_equal(intents_resolve(&in, &desired, &os, &l, T0 + MINUTE, &rep,
	    on_event, &ev), 0);
	assert_int_equal(in.n, r->kept ? 1 : 0);
	assert_int_equal(rep.kept, r->kept ? 1 : 0);
	assert_int_equal(rep.adopted, r->adopted);
	assert_int_equal(ev.adopted, (int)r->adopted);
	assert_int_equal(rep.completed, r->completed);
	assert_int_equal(rep.unmatched, r->unmatched);
	assert_int_equal(rep.conflicts, 0);
	assert_int_equal(l.n_conflicts, 0);
	assert_int_equal(l.n_projects + l.n_deployments, 0);
	assert_int_equal(l.n_deploy_keys, r->ledger_key ? 1 : 0);
	if (r->ledger_key)
		assert_non_null(ledger_find_deploy_key(&l, r->live_on, "ci"));
	assert_int_equal(key.lost_secret, r->lost);
	assert_int_equal(rep.lost_secrets, r->lost ? 1 : 0);
	assert_int_equal(ev.lost, r->lost ? 1 : 0);
	if (r->adopted)
		assert_string_equal(ev.last_name, r->live_on);
	if (r->lost) {
		/* Kept with its deployment's name, for the new create. */
		assert_true(in.items[0].lost_secret);
		assert_string_equal(in.items[0].deployment, r->live_on);
		/* the file is rewritten only when that name was added */
		assert_int_equal(rep.changed, r->deployment == NULL);
		/* Next time: recorded already, still lost, not adopted twice. */
		key.lost_secret = false;
		memset(&ev, 0, sizeof(ev));
		assert_int_equal(intents_resolve(&in, &desired, &os, &l,
		    T0 + 2 * MINUTE, &rep, on_event, &ev), 0);
		assert_int_equal(in.n, 1);
		assert_int_equal(rep.adopted, 0);
		assert_int_equal(ev.lost, 1);
		assert_true(key.lost_secret);
		/* Its new key made and its secret written: completed. */
		key.create_time = T0 + 2 * MINUTE;
		key.secret_file = true;
		key.lost_secret = false;
		assert_int_equal(intents_resolve(&in, &desired, &os, &l,
		    T0 + 3 * MINUTE, &rep, NULL, NULL), 0);
		assert_int_equal(rep.completed, 1);
		assert_int_equal(in.n, 0);
		assert_false(key.lost_secret);
	}
	ledger_free(&l);
	intents_free(&in);
}

static void
test_named_resolve(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(named_rows) / sizeof(named_rows[0]); i++)
		check_named_row(&named_rows[i]);
}

/* A key whose secret was lost: its kept intent goes with the new create
 * when that is done and saved, never when the create was not sent (the
 * delete before it failed): the old key may still be live. */
static void
test_lost_secret_settle(void **state)
{
	static char *keys[] = { "ci" };
	struct desired_deployment dd[] = {
		{ .reference = "production", .type = DEP_PROD, DESIRED_DEPLOYMENT_UNSET,
		  .deploy_keys = keys, .n_deploy_keys = 1, .deploy_keys_declared = true },
	};
	struct desired_project dp[] = {
		{ .name = "shop", .deployments = dd, .n_deployments = 1 },
	};
	struct desired_state want = { .projects = dp, .n_projects = 1 };
	struct observed_project ps[] = { { .id = 5, .name = "shop" } };
	struct observed_deployment ds[] = {
		{ .id = 1, .name = "calm-cat-1", .project_id = 5, .type = DEP_PROD,
		  .reference = "production" },
	};
	struct observed_deploy_key key = { .deployment = "calm-cat-1", .name = "ci",
	    .create_time = T0 + 9 };
	struct observed_listed listed[] = {
		{ .deployment = "calm-cat-1", .kind = LISTED_DEPLOY_KEYS },
	};
	struct observed_state os = { .projects = ps, .n_projects = 1,
	    .deployments = ds, .n_deployments = 1, .deploy_keys = &key,
	    .n_deploy_keys = 1, .listed = listed, .n_listed = 1 };
	struct plan_settings set = { .prune = PRUNE_NONE, .max_deletes = 10 };
	struct intents_report rep;
	struct action_result r[2];
	(void)state;

	for (int outcome = 0; outcome < 3; outcome++) {
		struct intents in = { 0 };
		struct ledger l = { 0 };
		struct plan p;

		key.lost_secret = false;
		assert_int_equal(intents_add_named(&in, INTENT_DEPLOY_KEY, "shop", 5,
		    "production", NULL, "ci", T0), 0);
		assert_int_equal(intents_resolve(&in, &want, &os, &l, T0 + MINUTE,
		    &rep, NULL, NULL), 0);
		assert_true(key.lost_secret);
		assert_int_equal(plan_build(&want, &os, &l, &set, &p), 0);
		assert_int_equal(p.n_actions, 2);
		assert_int_equal(p.actions[0].op, PLAN_DELETE);
		assert_int_equal(p.actions[1].op, PLAN_CREATE);
		assert_int_equal(p.actions[1].parent, 0);
		assert_int_equal(p.n_blocked, 0);
		assert_int_equal(intents_from_plan(&in, &p, T0 + MINUTE), 1);
		assert_int_equal(in.n, 2);
		assert_int_equal(in.items[0].action, 1);   /* tied to the new create */
		memset(r, 0, sizeof(r));
		if (outcome == 0) {            /* the delete failed: create unsent */
			r[0].state = ACTION_FAILED;
			r[1].state = ACTION_SKIPPED;
		} else if (outcome == 1) {     /* the new create's answer lost too */
			r[0].state = ACTION_OK;
			r[1].state = ACTION_FAILED;
		} else {                       /* replaced */
			r[0].state = ACTION_OK;
			r[1].state = ACTION_OK;
		}
		/* the lost answer: ambiguous, as the API client says it */
		r[1].ambiguous = r[1].state == ACTION_FAILED;
		intents_settle(&in, &p, r, true);
		assert_int_equal(in.n, outcome == 0 ? 1 : outcome == 1 ? 2 : 0);
		if (outcome < 2)
			assert_true(in.items[0].time_ms == T0);   /* the old one kept */
		plan_free(&p);
		ledger_free(&l);
		intents_free(&in);
	}
}

/* A domain or key create that failed: kept when its outcome is unknown
 * (ambiguous), dropped when the API refused it (nothing was made, and a
 * key a person makes under that name later must never match it). A
 * deployment's failed create keeps its intent either way, as before. */
static void
test_named_refused_settle(void **state)
{
	struct observed_listed listed[] = {
		{ .deployment = "old-owl-70", .kind = LISTED_DOMAINS },
		{ .deployment = "old-owl-70", .kind = LISTED_DEPLOY_KEYS },
	};
	struct observed_state os = { .projects = live_blog, .n_projects = 1,
	    .deployments = live_blog_deps, .n_deployments = 1,
	    .listed = listed, .n_listed = 2 };
	struct plan_settings set = { .prune = PRUNE_NONE, .max_deletes = 10 };
	struct action_result r[8];
	(void)state;

	for (int ambiguous = 0; ambiguous < 2; ambiguous++) {
		struct intents in = { 0 };
		size_t named = 0, other = 0;
		struct plan p;

		assert_int_equal(plan_build(&named_desired, &os, NULL, &set, &p), 0);
		assert_int_equal(p.n_actions, 5);
		assert_int_equal(intents_from_plan(&in, &p, T0), 5);
		memset(r, 0, sizeof(r));
		for (size_t i = 0; i < p.n_actions; i++) {
			r[i].state = ACTION_FAILED;
			r[i].ambiguous = ambiguous;
		}
		intents_settle(&in, &p, r, true);
		for (size_t i = 0; i < in.n; i++) {
			if (in.items[i].kind == INTENT_DOMAIN ||
			    in.items[i].kind == INTENT_DEPLOY_KEY)
				named++;
			else
				other++;
		}
		/* project and deployment of news kept; the domain and the two
		 * keys only when their outcome is unknown */
		assert_int_equal(other, 2);
		assert_int_equal(named, ambiguous ? 3 : 0);
		intents_free(&in);
		plan_free(&p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_round_trip),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
		cmocka_unit_test(test_from_plan),
		cmocka_unit_test(test_adopts_one),
		cmocka_unit_test(test_skew),
		cmocka_unit_test(test_completed),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_unmatched),
		cmocka_unit_test(test_settle),
		cmocka_unit_test(test_named_lines),
		cmocka_unit_test(test_named_from_plan),
		cmocka_unit_test(test_named_resolve),
		cmocka_unit_test(test_lost_secret_settle),
		cmocka_unit_test(test_named_refused_settle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
