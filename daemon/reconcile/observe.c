/* observe.c: the observation step: projects and deployments in parallel,
 * then (legacy APIs only) per-project deployment listings. */
#include "observe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "ledger.h"
#include "observe_extras.h"

struct observe {
	struct api_client *client;
	const struct desired_state *ds;
	const struct ledger *ledger;
	enum prune_mode prune;
	unsigned max_deletes;   /* the plan's guard (observe_extras.h) */
	observe_cb cb;
	void *arg;

	struct observed_state os;
	int pending;            /* listings not yet answered */
	int rc;                 /* first failure */
	char error[768];
	bool projects_done;
	bool need_per_project;  /* team-wide deployments route is missing */
	const char *keys_dir;   /* where deploy key secrets live (SPEC 9) */
	bool extras_started;    /* the listings of observe_extras.c */
};

static void
fail(struct observe *o, int rc, const char *what, const struct api_error *err)
{
	char detail[700];

	if (o->rc != 0)
		return;       /* keep the first failure: it is the cause */
	o->rc = rc;
	if (err != NULL) {
		api_error_format(err, detail, sizeof(detail));
		snprintf(o->error, sizeof(o->error), "%s: %s", what, detail);
	} else {
		snprintf(o->error, sizeof(o->error), "%s: %s", what, strerror(-rc));
	}
}

/*
 * The per-project listings of an older API are separate listings: one
 * deployment listed under two projects would count twice. Repeats that say
 * the same are dropped; one id (or one name) with different fields fails
 * the observation, as inside one listing (api_list.c).
 */
static int
dedupe_deployments(struct observe *o)
{
	struct observed_state *os = &o->os;
	struct index by_id, by_name;
	bool *drop;
	size_t w = 0;
	int rc = 0;

	if (os->n_deployments < 2)
		return 0;
	if ((drop = calloc(os->n_deployments, sizeof(*drop))) == NULL ||
	    index_init(&by_id, os->n_deployments) != 0) {
		free(drop);
		return -ENOMEM;
	}
	if (index_init(&by_name, os->n_deployments) != 0) {
		index_free(&by_id);
		free(drop);
		return -ENOMEM;
	}
	for (size_t i = 0; i < os->n_deployments; i++) {
		index_set(&by_id, i, NULL, os->deployments[i].id, i);
		index_set(&by_name, i, os->deployments[i].name, 0, i);
	}
	index_sort(&by_id);
	index_sort(&by_name);
	for (size_t i = 1; i < by_id.n && rc == 0; i++) {
		const struct index_item *a = &by_id.items[i - 1], *b = &by_id.items[i];
		if (a->num != b->num)
			continue;
		if (!observed_deployment_same(&os->deployments[a->pos],
		    &os->deployments[b->pos])) {
			snprintf(o->error, sizeof(o->error), "listing deployments "
			    "per project: deployment %lld is listed twice with "
			    "different fields: the listing is not consistent",
			    (long long)a->num);
			rc = -EBADMSG;
		}
		drop[b->pos] = true;
	}
	for (size_t i = 1; i < by_name.n && rc == 0; i++) {
		const struct index_item *a = &by_name.items[i - 1], *b = &by_name.items[i];
		if (strcmp(a->str, b->str) == 0 &&
		    os->deployments[a->pos].id != os->deployments[b->pos].id) {
			snprintf(o->error, sizeof(o->error), "listing deployments "
			    "per project: deployment ids %lld and %lld are listed "
			    "under one name: the listing is not consistent",
			    (long long)os->deployments[a->pos].id,
			    (long long)os->deployments[b->pos].id);
			rc = -EBADMSG;
		}
	}
	index_free(&by_id);
	index_free(&by_name);
	/* A dropped repeat's strings stay in os->strings (freed with it). */
	for (size_t r = 0; rc == 0 && r < os->n_deployments; r++) {
		if (!drop[r])
			os->deployments[w++] = os->deployments[r];
	}
	if (rc == 0)
		os->n_deployments = w;
	free(drop);
	return rc;
}

static void on_extras(void *arg, int rc, const char *error);

static void
finish(struct observe *o)
{
	struct observed_state empty = { 0 };
	int rc;

	if (o->rc == 0 && o->need_per_project && !o->extras_started &&
	    (o->rc = dedupe_deployments(o)) == -ENOMEM)
		snprintf(o->error, sizeof(o->error), "out of memory");
	/* The main chains are complete: now the env, domains and keys of
	 * what declares them (SPEC section 9); they come back here. */
	if (o->rc == 0 && !o->extras_started) {
		o->extras_started = true;
		rc = observe_extras_start(o->client, o->ds, &o->os, o->ledger,
		    o->prune, o->max_deletes, o->keys_dir, on_extras, o);
		if (rc == 0)
			return;
		if (rc < 0) {
			o->rc = rc;
			snprintf(o->error, sizeof(o->error), "cannot start the "
			    "listings of env, domains and deploy keys: %s",
			    strerror(-rc));
		}
	}

	if (o->rc != 0) {
		observed_state_free(&o->os);
		o->cb(o->arg, o->rc, o->error, &empty);
	} else {
		o->cb(o->arg, 0, NULL, &o->os);
	}
	free(o);
}

/* Appends a listing's deployments: the array's items are copied into
 * o->os (the array freed), their strings moved into o->os.strings. */
static int
take_deployments(struct observe *o, struct observed_deployment *items, size_t n,
    struct strpool *strings)
{
	struct observed_deployment *p;

	strpool_move(&o->os.strings, strings);
	if (n == 0) {
		free(items);
		return 0;
	}
	if (o->os.deployments == NULL) {
		o->os.deployments = items;
		o->os.n_deployments = n;
		return 0;
	}
	p = realloc(o->os.deployments, (o->os.n_deployments + n) * sizeof(*p));
	if (p == NULL) {
		free(items);
		return -ENOMEM;
	}
	memcpy(p + o->os.n_deployments, items, n * sizeof(*p));
	o->os.deployments = p;
	o->os.n_deployments += n;
	free(items);
	return 0;
}

static void start_per_project(struct observe *o);

static void
on_project_deployments(void *arg, int rc, const struct api_error *err,
    struct observed_deployment *items, size_t n, struct strpool *strings)
{
	struct observe *o = arg;

	if (rc == 0)
		rc = take_deployments(o, items, n, strings);
	else
		free(items);    /* NULL: a failed listing hands out nothing */
	if (rc != 0)
		fail(o, rc, "listing a project's deployments", err);
	if (--o->pending == 0)
		finish(o);
}

static void
on_team_deployments(void *arg, int rc, const struct api_error *err,
    struct observed_deployment *items, size_t n, struct strpool *strings)
{
	struct observe *o = arg;

	if (rc == -ENOTSUP) {
		/* An older API: list per project once the projects are known. */
		free(items);
		o->need_per_project = true;
	} else {
		if (rc == 0)
			rc = take_deployments(o, items, n, strings);
		else
			free(items);
		if (rc != 0)
			fail(o, rc, "listing the team's deployments", err);
	}
	o->pending--;
	if (o->need_per_project && o->projects_done && o->rc == 0) {
		start_per_project(o);
		return;
	}
	if (o->pending == 0)
		finish(o);
}

static void
on_projects(void *arg, int rc, const struct api_error *err,
    struct observed_project *items, size_t n, struct strpool *strings)
{
	struct observe *o = arg;

	if (rc == 0) {
		o->os.projects = items;
		o->os.n_projects = n;
		strpool_move(&o->os.strings, strings);
	} else {
		free(items);
		fail(o, rc, "listing the team's projects", err);
	}
	o->projects_done = true;
	o->pending--;
	if (o->need_per_project && o->rc == 0) {
		start_per_project(o);
		return;
	}
	if (o->pending == 0)
		finish(o);
}

/* A project matters when the plan may create, compare or delete something
 * in it: it is declared, or it is a prune candidate. */
static bool
project_matters(const struct observe *o, const struct index *declared,
    const struct observed_project *p)
{
	if (index_find(declared, p->name, 0) != NULL)
		return true;
	switch (o->prune) {
	case PRUNE_ALL:
		return true;
	case PRUNE_OWNED: {
		const struct ledger_project *lp = ledger_find_project(o->ledger, p->id);
		return lp != NULL && lp->created;
	}
	case PRUNE_NONE:
	default:
		return false;
	}
}

static void
start_per_project(struct observe *o)
{
	struct index declared;
	size_t n_names = o->ds->n_projects, k = 0;
	int rc;

	/* Earlier names (renamed_from) matter too: a project found under one
	 * is renamed, and compared (SPEC section 8). */
	for (size_t i = 0; i < o->ds->n_projects; i++)
		n_names += o->ds->projects[i].n_renamed_from;
	if (index_init(&declared, n_names) != 0) {
		fail(o, -ENOMEM, "listing deployments per project", NULL);
		if (o->pending == 0)
			finish(o);
		return;
	}
	for (size_t i = 0; i < o->ds->n_projects; i++) {
		index_set(&declared, k++, o->ds->projects[i].name, 0, i);
		for (size_t j = 0; j < o->ds->projects[i].n_renamed_from; j++)
			index_set(&declared, k++, o->ds->projects[i].renamed_from[j], 0, i);
	}
	index_sort(&declared);

	/* pending is 0 here: the two chains are done. Count before starting so
	 * a callback can never see zero while we are still issuing. */
	o->pending++;
	for (size_t i = 0; i < o->os.n_projects; i++) {
		const struct observed_project *p = &o->os.projects[i];
		if (!project_matters(o, &declared, p))
			continue;
		o->pending++;
		rc = api_list_project_deployments(o->client, p->id, on_project_deployments, o);
		if (rc != 0) {
			o->pending--;
			fail(o, rc, "listing a project's deployments", NULL);
			break;
		}
	}
	index_free(&declared);
	if (--o->pending == 0)
		finish(o);
}

static void
on_extras(void *arg, int rc, const char *error)
{
	struct observe *o = arg;

	if (rc != 0) {
		o->rc = rc;
		snprintf(o->error, sizeof(o->error), "%s", error);
	}
	finish(o);
}

int
observe_start(struct api_client *c, int64_t team, const struct desired_state *ds,
    const struct ledger *ledger, enum prune_mode prune, observe_cb cb, void *arg)
{
	return observe_start_keys(c, team, ds, ledger, prune, 0, NULL, cb, arg);
}

int
observe_start_keys(struct api_client *c, int64_t team,
    const struct desired_state *ds, const struct ledger *ledger,
    enum prune_mode prune, unsigned max_deletes, const char *keys_dir,
    observe_cb cb, void *arg)
{
	struct observe *o = calloc(1, sizeof(*o));
	int rc;

	if (o == NULL)
		return -ENOMEM;
	o->keys_dir = keys_dir;
	o->client = c;
	o->ds = ds;
	o->ledger = ledger;
	o->prune = prune;
	o->max_deletes = max_deletes;
	o->cb = cb;
	o->arg = arg;

	/* Both chains start now and run side by side. Callbacks never run from
	 * inside the call that starts them (api.h), so counting as we go is safe. */
	if ((rc = api_list_projects(c, team, on_projects, o)) != 0) {
		free(o);
		return rc;
	}
	o->pending++;
	if (api_legacy_deployments(c)) {
		o->need_per_project = true;
		return 0;
	}
	if ((rc = api_list_team_deployments(c, team, on_team_deployments, o)) != 0) {
		/* The project chain is already running: fail through it. */
		fail(o, rc, "listing the team's deployments", NULL);
		return 0;
	}
	o->pending++;
	return 0;
}
