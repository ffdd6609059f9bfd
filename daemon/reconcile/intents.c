/* intents.c: create intents in memory, the batch of a plan, and their
 * resolution against an observation (the file: intents_file.c). The rules
 * are in intents.h. */
#include "intents.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cdefs.h"
#include "index.h"
#include "ledger.h"
#include "nametab.h"

static const char *const kind_names[] = { "project", "deployment", "domain",
	"deploy_key" };

const char *
intent_kind_name(enum intent_kind k)
{
	return nametab_name(kind_names, CP_NELEM(kind_names), (unsigned)k);
}

int
intent_kind_parse(const char *s, enum intent_kind *out)
{
	int k = nametab_find(kind_names, CP_NELEM(kind_names), s);

	if (k < 0)
		return -EINVAL;
	*out = (enum intent_kind)k;
	return 0;
}

static void
intent_free(struct intent *it)
{
	free(it->project);
	free(it->reference);
	free(it->deployment);
	free(it->name);
	memset(it, 0, sizeof(*it));
}

void
intents_free(struct intents *in)
{
	if (in == NULL)
		return;
	for (size_t i = 0; i < in->n; i++)
		intent_free(&in->items[i]);
	free(in->items);
	memset(in, 0, sizeof(*in));
}

/* Takes ownership of *it's strings (also on failure: they are freed). */
static int
push(struct intents *in, struct intent *it)
{
	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 16;
		struct intent *p = cap > SIZE_MAX / sizeof(*p) ? NULL :
		    realloc(in->items, cap * sizeof(*p));

		if (p == NULL) {
			intent_free(it);
			return -ENOMEM;
		}
		in->items = p;
		in->cap = cap;
	}
	in->items[in->n++] = *it;
	return 0;
}

int
intents_add_named(struct intents *in, enum intent_kind kind,
    const char *project, int64_t project_id, const char *reference,
    const char *deployment, const char *name, int64_t time_ms)
{
	struct intent it = {
		.kind = kind,
		.project = strdup(project != NULL ? project : ""),
		.project_id = project_id,
		.reference = xstrdup_null(reference),
		.deployment = xstrdup_null(deployment),
		.name = xstrdup_null(name),
		.time_ms = time_ms,
		.action = INTENT_NO_ACTION,
	};

	if (it.project == NULL || (reference != NULL && it.reference == NULL) ||
	    (deployment != NULL && it.deployment == NULL) ||
	    (name != NULL && it.name == NULL)) {
		intent_free(&it);
		return -ENOMEM;
	}
	return push(in, &it);
}

int
intents_add(struct intents *in, enum intent_kind kind, const char *project,
    int64_t project_id, const char *reference, int64_t time_ms)
{
	return intents_add_named(in, kind, project, project_id, reference, NULL,
	    NULL, time_ms);
}

/* ---- the batch ---------------------------------------------------------- */

static bool
eq_null(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The kept intent of a key whose secret was lost stands for the key's new
 * create as well: it is settled when that create is. */
static void
tie_lost_secret(struct intents *in, const struct plan_action *a, size_t index)
{
	if (a->deployment_name == NULL)
		return;
	for (size_t k = 0; k < in->n; k++) {
		struct intent *it = &in->items[k];

		if (it->kind == INTENT_DEPLOY_KEY && it->lost_secret &&
		    it->action == INTENT_NO_ACTION &&
		    eq_null(it->deployment, a->deployment_name) &&
		    eq_null(it->name, a->key_name))
			it->action = index;
	}
}

int
intents_from_plan(struct intents *in, const struct plan *p, int64_t now_ms)
{
	int n = 0, rc;

	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		if (a->op != PLAN_CREATE)
			continue;
		/* Every kind of create that can be lost gets its intent here;
		 * a kind without a case gets none (intents.h, adding a kind). */
		switch (a->kind) {
		case PLAN_PROJECT:
			rc = intents_add(in, INTENT_PROJECT, a->project, 0, NULL, now_ms);
			break;
		case PLAN_DEPLOYMENT:
			rc = intents_add(in, INTENT_DEPLOYMENT, a->project,
			    a->project_id, a->reference, now_ms);
			break;
		case PLAN_DOMAIN:
			rc = intents_add_named(in, INTENT_DOMAIN, a->project,
			    a->project_id, a->reference, a->deployment_name,
			    a->domain, now_ms);
			break;
		case PLAN_DEPLOY_KEY:
			tie_lost_secret(in, a, i);
			rc = intents_add_named(in, INTENT_DEPLOY_KEY, a->project,
			    a->project_id, a->reference, a->deployment_name,
			    a->key_name, now_ms);
			break;
		default:
			continue;
		}
		if (rc != 0)
			return rc;
		in->items[in->n - 1].action = i;
		in->items[in->n - 1].protect =
		    (a->kind == PLAN_PROJECT && a->want_project != NULL &&
		    a->want_project->protect) ||
		    (a->kind == PLAN_DEPLOYMENT && a->want != NULL && a->want->protect);
		n++;
	}
	return n;
}

bool
intents_settle(struct intents *in, const struct plan *p,
    const struct action_result *results, bool ledger_saved)
{
	size_t w = 0, n = in->n;

	for (size_t r = 0; r < n; r++) {
		struct intent *it = &in->items[r];
		bool settled = false;

		if (it->action != INTENT_NO_ACTION && it->action < p->n_actions) {
			enum action_state st = results[it->action].state;

			bool named = it->kind == INTENT_DOMAIN ||
			    it->kind == INTENT_DEPLOY_KEY;

			/* A lost secret's intent goes only with its new
			 * key: the old one may still be live. A domain or
			 * key create the API definitely refused (a 4xx:
			 * say, a person made that name just before) made
			 * nothing: its intent must not later match what a
			 * person made, least of all a key it would delete. */
			settled = (!it->lost_secret && (st == ACTION_SKIPPED ||
			    st == ACTION_PENDING || (named && st == ACTION_FAILED &&
			    !results[it->action].ambiguous))) ||
			    (st == ACTION_OK && ledger_saved);
		}
		it->action = INTENT_NO_ACTION;
		if (settled)
			intent_free(it);
		else
			in->items[w++] = *it;
	}
	in->n = w;
	return w != n;
}

/* ---- resolution -------------------------------------------------------- */

struct lookups {
	struct index proj_name;   /* live projects by (name, id) */
	struct index proj_id;     /* live projects by id */
	struct index dep_ref;     /* live deployments by (reference, project id) */
	struct index dep_name;    /* live deployments by name */
	struct index declared;    /* declared projects by name */
	struct index domains;     /* listed domains by deployment name */
	struct index keys;        /* listed deploy keys by deployment name */
	struct index listed;      /* listings made: (deployment name, kind) */
};

static void
lookups_free(struct lookups *x)
{
	index_free(&x->proj_name);
	index_free(&x->proj_id);
	index_free(&x->dep_ref);
	index_free(&x->dep_name);
	index_free(&x->declared);
	index_free(&x->domains);
	index_free(&x->keys);
	index_free(&x->listed);
}

static int
lookups_build(struct lookups *x, const struct desired_state *ds,
    const struct observed_state *os)
{
	size_t nd = ds != NULL ? ds->n_projects : 0;

	memset(x, 0, sizeof(*x));
	if (index_init(&x->proj_name, os->n_projects) != 0 ||
	    index_init(&x->proj_id, os->n_projects) != 0 ||
	    index_init(&x->dep_ref, os->n_deployments) != 0 ||
	    index_init(&x->dep_name, os->n_deployments) != 0 ||
	    index_init(&x->declared, nd) != 0 ||
	    index_init(&x->domains, os->n_domains) != 0 ||
	    index_init(&x->keys, os->n_deploy_keys) != 0 ||
	    index_init(&x->listed, os->n_listed) != 0) {
		lookups_free(x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < os->n_domains; i++)
		index_set(&x->domains, i, os->domains[i].deployment, 0, i);
	for (size_t i = 0; i < os->n_deploy_keys; i++)
		index_set(&x->keys, i, os->deploy_keys[i].deployment, 0, i);
	for (size_t i = 0; i < os->n_listed; i++)
		index_set(&x->listed, i, os->listed[i].deployment,
		    (int64_t)os->listed[i].kind, i);
	index_sort(&x->domains);
	index_sort(&x->keys);
	index_sort(&x->listed);
	for (size_t i = 0; i < os->n_projects; i++) {
		index_set(&x->proj_name, i, os->projects[i].name, os->projects[i].id, i);
		index_set(&x->proj_id, i, NULL, os->projects[i].id, i);
	}
	for (size_t i = 0; i < os->n_deployments; i++)
		index_set(&x->dep_ref, i, os->deployments[i].reference != NULL ?
		    os->deployments[i].reference : "", os->deployments[i].project_id, i);
	for (size_t i = 0; i < os->n_deployments; i++)
		index_set(&x->dep_name, i, os->deployments[i].name, 0, i);
	for (size_t i = 0; i < nd; i++)
		index_set(&x->declared, i, ds->projects[i].name, 0, i);
	index_sort(&x->proj_name);
	index_sort(&x->proj_id);
	index_sort(&x->dep_ref);
	index_sort(&x->dep_name);
	index_sort(&x->declared);
	return 0;
}

/* Items of ix with exactly (str, num): how many, *first the first. */
static size_t
range_exact(const struct index *ix, const char *str, int64_t num, size_t *first)
{
	size_t lo, hi, n = index_range_str(ix, str, &lo), end;

	hi = lo + n;
	end = hi;
	while (lo < hi) {            /* the first with num >= `num` */
		size_t mid = lo + (hi - lo) / 2;

		if (ix->items[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (hi = lo; hi < end && ix->items[hi].num == num; hi++)
		;
	return hi - lo;
}

/* The candidates of one intent. */
struct match {
	size_t n;                 /* created at or after the intent (less the skew) */
	bool ours;                /* one of them is recorded as created by us
	                           * (a key: its secret file exists) */
	size_t pos;               /* the first one's position in the observation */
	size_t ours_pos;          /* a key: the one whose secret file exists */
	bool unlisted;            /* a domain or key: a deployment it may be
	                           * in is live, its listing was not made */
};

static bool
in_time(int64_t create_time, const struct intent *it)
{
	/* 0: the API did not say; it cannot be ruled out. */
	return create_time == 0 || create_time >= it->time_ms - INTENTS_SKEW_MS;
}

static void
match_projects(const struct lookups *x, const struct observed_state *os,
    const struct ledger *l, const struct intent *it, struct match *m)
{
	size_t first, n = index_range_str(&x->proj_name, it->project, &first);

	for (size_t k = first; k < first + n; k++) {
		size_t pos = x->proj_name.items[k].pos;
		const struct observed_project *op = &os->projects[pos];
		const struct ledger_project *lp;

		if (!in_time(op->create_time, it))
			continue;
		if (m->n++ == 0)
			m->pos = pos;
		if ((lp = ledger_find_project(l, op->id)) != NULL && lp->created)
			m->ours = true;
	}
}

static void
match_deployments_in(const struct lookups *x, const struct observed_state *os,
    const struct ledger *l, const struct intent *it, int64_t project_id,
    struct match *m)
{
	size_t first, n = range_exact(&x->dep_ref, it->reference, project_id, &first);

	for (size_t k = first; k < first + n; k++) {
		size_t pos = x->dep_ref.items[k].pos;
		const struct observed_deployment *od = &os->deployments[pos];
		const struct ledger_deployment *ld;

		if (!in_time(od->create_time, it))
			continue;
		if (m->n++ == 0)
			m->pos = pos;
		if ((ld = ledger_find_deployment(l, od->name)) != NULL && ld->created)
			m->ours = true;
	}
}

static void
match_deployments(const struct lookups *x, const struct observed_state *os,
    const struct ledger *l, const struct intent *it, struct match *m)
{
	size_t first, n;

	if (it->project_id != 0) {
		match_deployments_in(x, os, l, it, it->project_id, m);
		return;
	}
	/* The project was made by the same plan: by its name. */
	n = index_range_str(&x->proj_name, it->project, &first);
	for (size_t k = first; k < first + n; k++)
		match_deployments_in(x, os, l, it, x->proj_name.items[k].num, m);
}

/* The candidates of a domain or key intent in the live deployment `dep`. */
static void
match_named_in(const struct lookups *x, const struct observed_state *os,
    const struct intent *it, const char *dep, struct match *m)
{
	bool domain = it->kind == INTENT_DOMAIN;
	enum observed_listing kind = domain ? LISTED_DOMAINS : LISTED_DEPLOY_KEYS;
	const struct index *ix = domain ? &x->domains : &x->keys;
	size_t first, n;

	if (index_find(&x->listed, dep, (int64_t)kind) == NULL) {
		m->unlisted = true;
		return;
	}
	n = index_range_str(ix, dep, &first);
	for (size_t k = first; k < first + n; k++) {
		size_t pos = ix->items[k].pos;
		const char *name = domain ? os->domains[pos].domain :
		    os->deploy_keys[pos].name;
		int64_t t = domain ? os->domains[pos].create_time :
		    os->deploy_keys[pos].create_time;

		if (name == NULL || strcmp(name, it->name) != 0 || !in_time(t, it))
			continue;
		if (m->n++ == 0)
			m->pos = pos;
		if (!domain && os->deploy_keys[pos].secret_file) {
			m->ours = true;
			m->ours_pos = pos;
		}
	}
}

static void
match_named_by_ref(const struct lookups *x, const struct observed_state *os,
    const struct intent *it, int64_t project_id, struct match *m)
{
	size_t first, n = range_exact(&x->dep_ref, it->reference, project_id, &first);

	for (size_t k = first; k < first + n; k++)
		match_named_in(x, os, it, os->deployments[x->dep_ref.items[k].pos].name, m);
}

/* A domain or key: in its deployment by name when it was live when
 * planned (a live deployment keeps its name through renames), else in
 * the deployments with its project and reference. */
static void
match_named(const struct lookups *x, const struct observed_state *os,
    const struct intent *it, struct match *m)
{
	size_t first, n;

	if (it->name == NULL || it->reference == NULL)
		return;
	if (it->deployment != NULL) {
		/* Not live: deleted, so the domain or key is gone too. */
		if (index_range_str(&x->dep_name, it->deployment, &first) > 0)
			match_named_in(x, os, it, it->deployment, m);
		return;
	}
	if (it->project_id != 0) {
		match_named_by_ref(x, os, it, it->project_id, m);
		return;
	}
	n = index_range_str(&x->proj_name, it->project, &first);
	for (size_t k = first; k < first + n; k++)
		match_named_by_ref(x, os, it, x->proj_name.items[k].num, m);
}

/* A deployment intent with no candidate is kept when its project is live
 * but not declared: an older API lists only declared projects'
 * deployments, so "none" may only mean "not listed". */
static bool
maybe_unlisted(const struct lookups *x, const struct observed_state *os,
    const struct intent *it)
{
	size_t first, n;

	if (it->kind != INTENT_DEPLOYMENT)
		return false;
	if (it->project_id != 0) {
		const struct index_item *p = index_find(&x->proj_id, NULL, it->project_id);

		return p != NULL && index_range_str(&x->declared,
		    os->projects[p->pos].name, &first) == 0;
	}
	n = index_range_str(&x->proj_name, it->project, &first);
	return n > 0 && index_range_str(&x->declared, it->project, &first) == 0;
}

static int
adopt(struct ledger *l, const struct lookups *x, const struct observed_state *os,
    const struct intent *it, size_t pos, int64_t *id, const char **name)
{
	const struct observed_deployment *od;
	const struct index_item *p;
	int rc;

	*id = 0;
	if (it->kind == INTENT_PROJECT) {
		*id = os->projects[pos].id;
		*name = NULL;
		if ((rc = ledger_add_project(l, *id, os->projects[pos].name)) == 0 &&
		    it->protect)
			ledger_find_project(l, *id)->protect = true;
		return rc;
	}
	if (it->kind == INTENT_DOMAIN) {
		/* No ledger record: a declared domain list is exact whoever
		 * made an entry (SPEC section 9). */
		*name = os->domains[pos].deployment;
		return 0;
	}
	if (it->kind == INTENT_DEPLOY_KEY) {
		*name = os->deploy_keys[pos].deployment;
		return ledger_add_deploy_key(l, os->deploy_keys[pos].deployment,
		    os->deploy_keys[pos].name);
	}
	od = &os->deployments[pos];
	p = index_find(&x->proj_id, NULL, od->project_id);
	*id = od->project_id;
	*name = od->name;
	if ((rc = ledger_add_deployment(l, od->name, od->project_id,
	    p != NULL ? os->projects[p->pos].name : it->project,
	    od->reference)) == 0 && it->protect)
		ledger_find_deployment(l, od->name)->protect = true;
	return rc;
}

/* A key adopted whose secret was lost: marked for the plan (replaced),
 * its intent kept (with the deployment's name, for tie_lost_secret). */
static int
mark_lost_secret(struct intent *it, struct observed_state *os, size_t pos,
    struct intents_report *rep)
{
	struct observed_deploy_key *k = &os->deploy_keys[pos];

	k->lost_secret = true;
	it->lost_secret = true;
	rep->lost_secrets++;
	if (it->deployment == NULL) {
		if ((it->deployment = strdup(k->deployment)) == NULL)
			return -ENOMEM;
		rep->changed = true;
	}
	return 0;
}

static int
add_conflict(struct ledger *l, const struct intent *it, size_t candidates)
{
	struct ledger_conflict *p, *c;

	for (size_t i = 0; i < l->n_conflicts; i++) {
		c = &l->conflicts[i];
		if (c->kind == it->kind && strcmp(c->project, it->project) == 0 &&
		    (c->reference == NULL) == (it->reference == NULL) &&
		    (c->reference == NULL || strcmp(c->reference, it->reference) == 0))
			return 0;          /* two intents, one identity */
	}
	p = realloc(l->conflicts, (l->n_conflicts + 1) * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	l->conflicts = p;
	c = &p[l->n_conflicts];
	memset(c, 0, sizeof(*c));
	c->kind = it->kind;
	c->candidates = candidates;
	c->project = strdup(it->project);
	c->reference = it->reference != NULL ? strdup(it->reference) : NULL;
	if (c->project == NULL || (it->reference != NULL && c->reference == NULL)) {
		free(c->project);
		free(c->reference);
		return -ENOMEM;
	}
	l->n_conflicts++;
	return 0;
}

static void
clear_conflicts(struct ledger *l)
{
	for (size_t i = 0; i < l->n_conflicts; i++) {
		free(l->conflicts[i].project);
		free(l->conflicts[i].reference);
	}
	free(l->conflicts);
	l->conflicts = NULL;
	l->n_conflicts = 0;
}

enum verdict { KEEP, DROP };

static int
resolve_one(struct intent *it, const struct lookups *x,
    struct observed_state *os, struct ledger *l, int64_t now_ms,
    struct intents_report *rep, intent_event_cb cb, void *arg, enum verdict *v)
{
	struct match m = { 0 };
	const char *name;
	int64_t id;
	int rc;

	*v = DROP;
	it->lost_secret = false;
	if (now_ms - it->time_ms > INTENTS_MAX_AGE_MS) {
		rep->expired++;
		if (cb)
			cb(arg, INTENT_EXPIRED, it, 0, NULL);
		return 0;
	}
	if (it->kind == INTENT_PROJECT)
		match_projects(x, os, l, it, &m);
	else if (it->kind == INTENT_DEPLOYMENT)
		match_deployments(x, os, l, it, &m);
	else
		match_named(x, os, it, &m);

	/* A project or deployment recorded as ours among two or more
	 * candidates proves nothing: a person may have renamed one of ours
	 * onto the name (or reference) of the create whose answer was lost.
	 * A key with its secret file is the key we made. */
	if (m.ours && (m.n < 2 || it->kind == INTENT_DEPLOY_KEY)) {
		rep->completed++;
		/* A key's secret was written, its ledger save perhaps not. */
		if (it->kind == INTENT_DEPLOY_KEY && (rc = ledger_add_deploy_key(l,
		    os->deploy_keys[m.ours_pos].deployment,
		    os->deploy_keys[m.ours_pos].name)) != 0)
			return rc;
	} else if (m.n >= 2) {
		if (!it->conflict)
			rep->changed = true;       /* the mark is written */
		it->conflict = true;
		rep->conflicts++;
		if (cb)
			cb(arg, INTENT_CONFLICT, it, (int64_t)m.n, NULL);
		*v = KEEP;
		return add_conflict(l, it, m.n);
	} else if (it->conflict) {
		if (cb)
			cb(arg, INTENT_CONFLICT_GONE, it, (int64_t)m.n, NULL);
	} else if (m.n == 1) {
		/* A key kept for its replacement was adopted already. */
		bool known = it->kind == INTENT_DEPLOY_KEY &&
		    ledger_find_deploy_key(l, os->deploy_keys[m.pos].deployment,
		    os->deploy_keys[m.pos].name) != NULL;

		if ((rc = adopt(l, x, os, it, m.pos, &id, &name)) != 0)
			return rc;
		if (!known) {
			rep->adopted++;
			if (cb)
				cb(arg, INTENT_ADOPTED, it, id, name);
		}
		if (it->kind == INTENT_DEPLOY_KEY) {
			/* Ours, and nobody holds its secret: replaced by the
			 * plan; the intent stays until the new one is made. */
			*v = KEEP;
			if ((rc = mark_lost_secret(it, os, m.pos, rep)) != 0)
				return rc;
			if (cb)
				cb(arg, INTENT_LOST_SECRET, it, 0, name);
		}
	} else if (m.unlisted || maybe_unlisted(x, os, it)) {
		*v = KEEP;
	} else {
		rep->unmatched++;
	}
	return 0;
}

int
intents_resolve(struct intents *in, const struct desired_state *ds,
    struct observed_state *os, struct ledger *l, int64_t now_ms,
    struct intents_report *rep, intent_event_cb cb, void *arg)
{
	struct lookups x;
	size_t w = 0, n = in->n;
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	clear_conflicts(l);
	if (n == 0)
		return 0;
	if (lookups_build(&x, ds, os) != 0)
		return -ENOMEM;
	for (size_t r = 0; r < n; r++) {
		struct intent *it = &in->items[r];
		enum verdict v = KEEP;

		if (rc == 0)
			rc = resolve_one(it, &x, os, l, now_ms, rep, cb, arg, &v);
		if (v == DROP && rc == 0) {
			intent_free(it);
			rep->changed = true;
		} else {
			in->items[w++] = *it;
		}
	}
	in->n = w;
	rep->kept = w;
	lookups_free(&x);
	return rc;
}
