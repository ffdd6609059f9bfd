/* fuzz_intents.c: libFuzzer target for the create intents' file
 * (daemon/reconcile/intents.c). Any text parses (lines not understood are
 * skipped and counted, never fatal); every intent kept is well formed; the
 * intents written back read back as the very same, byte for byte, so a
 * rewrite never loses, changes or invents one (exact ids and times); and
 * resolving them against a small fixed observation keeps its promises:
 * what is kept is counted, what is adopted is recorded as created, nothing
 * not live is ever recorded; a deploy key is marked lost_secret only when
 * listed and without its secret file. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "intents.h"
#include "ledger.h"

static void
check_same(const struct intents *a, const struct intents *b)
{
	FUZZ_CHECK(a->n == b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct intent *x = &a->items[i], *y = &b->items[i];

		FUZZ_CHECK(x->kind == y->kind);
		FUZZ_CHECK(strcmp(x->project, y->project) == 0);
		FUZZ_CHECK(x->project_id == y->project_id);
		FUZZ_CHECK((x->reference == NULL) == (y->reference == NULL));
		FUZZ_CHECK(x->reference == NULL || strcmp(x->reference, y->reference) == 0);
		FUZZ_CHECK(x->time_ms == y->time_ms);
		FUZZ_CHECK(x->conflict == y->conflict);
		FUZZ_CHECK((x->deployment == NULL) == (y->deployment == NULL));
		FUZZ_CHECK(x->deployment == NULL || strcmp(x->deployment, y->deployment) == 0);
		FUZZ_CHECK((x->name == NULL) == (y->name == NULL));
		FUZZ_CHECK(x->name == NULL || strcmp(x->name, y->name) == 0);
	}
}

/* A team the intents may name: "a" twice (ids 1 and 2), "b" (3) with two
 * deployments of reference "r" and one of "s", at times 0 .. 10^13. */
static struct observed_project ps[] = {
	{ .id = 1, .name = "a", .create_time = 1000 },
	{ .id = 2, .name = "a", .create_time = 10000000000000LL },
	{ .id = 3, .name = "b", .create_time = 0 },
	{ .id = 9007199254740993LL, .name = "c", .create_time = 5000 },
};
static struct observed_deployment ds[] = {
	{ .id = 1, .name = "d-one-1", .project_id = 3, .reference = "r", .create_time = 1 },
	{ .id = 2, .name = "d-two-2", .project_id = 3, .reference = "r", .create_time = 2000 },
	{ .id = 3, .name = "d-six-3", .project_id = 3, .reference = "s", .create_time = 0 },
	{ .id = 4, .name = "d-big-4", .project_id = 9007199254740993LL, .reference = "r",
	  .create_time = 1 },
};
static struct desired_project dps[] = { { .name = "b" }, { .name = "c" } };
/* Domains and keys of d-one-1 and d-big-4 (listed), and of d-two-2 (whose
 * listings were not made): "k" with its secret file on d-one-1, "q"
 * without; "k" without on d-big-4. */
static struct observed_domain doms[] = {
	{ .deployment = "d-one-1", .domain = "x.example.com", .create_time = 3000 },
	{ .deployment = "d-big-4", .domain = "x.example.com", .create_time = 0 },
	{ .deployment = "d-two-2", .domain = "y.example.com", .create_time = 1 },
};
static struct observed_deploy_key keys[] = {
	{ .deployment = "d-one-1", .name = "k", .create_time = 3000, .secret_file = true },
	{ .deployment = "d-one-1", .name = "q", .create_time = 1 },
	{ .deployment = "d-big-4", .name = "k", .create_time = 0 },
	{ .deployment = "d-two-2", .name = "k", .create_time = 5 },
};
static struct observed_listed listed[] = {
	{ .deployment = "d-one-1", .kind = LISTED_DOMAINS },
	{ .deployment = "d-one-1", .kind = LISTED_DEPLOY_KEYS },
	{ .deployment = "d-big-4", .kind = LISTED_DOMAINS },
	{ .deployment = "d-big-4", .kind = LISTED_DEPLOY_KEYS },
};

static bool
live_project(int64_t id)
{
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		if (ps[i].id == id)
			return true;
	return false;
}

static bool
live_deployment(const char *name)
{
	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++)
		if (strcmp(ds[i].name, name) == 0)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intents in, back;
	struct observed_state os = { .projects = ps, .n_projects = 4,
	    .deployments = ds, .n_deployments = 4, .domains = doms, .n_domains = 3,
	    .deploy_keys = keys, .n_deploy_keys = 4, .listed = listed, .n_listed = 4 };
	struct desired_state desired = { .projects = dps, .n_projects = 2 };
	struct intents_report rep;
	struct ledger l = { 0 };
	size_t bad, first, bad2, first2, lines = 0, n0;
	char *text, *text2;

	if (intents_parse((const char *)data, size, &in, &bad, &first) != 0)
		return 0;             /* -ENOMEM */
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	FUZZ_CHECK(in.n + bad <= lines + 1);
	FUZZ_CHECK((bad == 0) == (first == 0));
	for (size_t i = 0; i < in.n; i++) {
		const struct intent *it = &in.items[i];

		bool named = it->kind == INTENT_DOMAIN || it->kind == INTENT_DEPLOY_KEY;

		FUZZ_CHECK(it->kind == INTENT_PROJECT || it->kind == INTENT_DEPLOYMENT ||
		    named);
		FUZZ_CHECK(it->project != NULL && it->project[0] != '\0');
		FUZZ_CHECK(it->time_ms > 0 && it->project_id >= 0);
		FUZZ_CHECK((it->kind != INTENT_PROJECT) ==
		    (it->reference != NULL && it->reference[0] != '\0'));
		FUZZ_CHECK(named == (it->name != NULL && it->name[0] != '\0'));
		FUZZ_CHECK(it->deployment == NULL || (named && it->deployment[0] != '\0'));
		FUZZ_CHECK(it->action == INTENT_NO_ACTION && !it->lost_secret);
	}

	/* Written back: read back the same, and written the same again. */
	if ((text = intents_to_text(&in, 0)) != NULL) {
		if (intents_parse(text, strlen(text), &back, &bad2, &first2) == 0) {
			FUZZ_CHECK(bad2 == 0);
			check_same(&in, &back);
			if ((text2 = intents_to_text(&back, 0)) != NULL) {
				FUZZ_CHECK(strcmp(text, text2) == 0);
				free(text2);
			}
			intents_free(&back);
		}
		free(text);
	}

	/* Resolved against the fixed team, at a time near the intents'. */
	n0 = in.n;
	if (intents_resolve(&in, &desired, &os, &l, 20000, &rep, NULL, NULL) == 0) {
		FUZZ_CHECK(in.n == rep.kept);
		/* Each intent ends one way (a conflict is kept; a key whose
		 * secret was lost is adopted and kept). */
		FUZZ_CHECK(rep.kept + rep.adopted + rep.completed + rep.unmatched +
		    rep.expired <= n0 + rep.lost_secrets && rep.conflicts <= rep.kept);
		FUZZ_CHECK(rep.lost_secrets <= rep.kept);
		FUZZ_CHECK(rep.adopted <= n0 && l.n_conflicts <= rep.conflicts);
		FUZZ_CHECK(l.n_projects + l.n_deployments <= rep.adopted);
		FUZZ_CHECK(l.n_deploy_keys <= rep.adopted + rep.completed);
		/* Only a listed key is ever recorded or marked; only one
		 * without its secret file is marked. */
		for (size_t i = 0; i < l.n_deploy_keys; i++)
			FUZZ_CHECK(strcmp(l.deploy_keys[i].deployment, "d-two-2") != 0);
		for (size_t i = 0; i < 4; i++) {
			FUZZ_CHECK(!keys[i].lost_secret || !keys[i].secret_file);
			FUZZ_CHECK(!keys[i].lost_secret || strcmp(keys[i].deployment,
			    "d-two-2") != 0);
		}
		for (size_t i = 0; i < in.n; i++)
			FUZZ_CHECK(!in.items[i].lost_secret ||
			    in.items[i].kind == INTENT_DEPLOY_KEY);
		for (size_t i = 0; i < l.n_projects; i++)
			FUZZ_CHECK(l.projects[i].created && live_project(l.projects[i].id));
		for (size_t i = 0; i < l.n_deployments; i++)
			FUZZ_CHECK(l.deployments[i].created &&
			    live_deployment(l.deployments[i].name));
		for (size_t i = 0; i < l.n_conflicts; i++)
			FUZZ_CHECK(l.conflicts[i].candidates >= 2);
		for (size_t i = 0; i < in.n; i++)
			FUZZ_CHECK(20000 - in.items[i].time_ms <= INTENTS_MAX_AGE_MS);
	}
	for (size_t i = 0; i < 4; i++)
		keys[i].lost_secret = false;     /* the next input starts afresh */
	ledger_free(&l);
	intents_free(&in);
	return 0;
}
