/* plan.c: the pure diff of SPEC section 5; docs/reconcile.md states each
 * rule this file implements. No I/O, no clock, no logging. */
#include "plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "plan_extras.h"

/* Why a candidate delete may not run. */
enum prot { PROT_NONE = 0, PROT_SELF, PROT_PROJECT, PROT_HOLDS };

/* An action before the guards: its position before sorting (so `parent`
 * can be remapped) and what protects it. */
struct cand {
	struct plan_action a;
	size_t orig;
	enum prot prot;
	const struct observed_deployment *holds;  /* PROT_HOLDS: which one */
};

struct ctx {
	const struct desired_state *ds;
	const struct observed_state *os;
	const struct ledger *led;
	const struct plan_settings *set;

	struct index obs_name;    /* observed projects by (name, id) */
	struct index obs_id;      /* observed projects by id */
	struct index des_name;    /* desired projects by name */
	struct index des_dep;     /* desired deployments by (reference, project index) */
	struct index led_proj;    /* ledger projects by id */
	struct index led_dep;     /* ledger deployments by name */
	size_t *dep_off;          /* first global index of each desired project's deployments */
	bool *matched;            /* per global desired deployment: found live */
	size_t *by_proj;          /* observed deployment positions grouped by project */
	size_t *proj_start;       /* by_proj[proj_start[i] .. proj_start[i+1]) */
	bool any_present;

	struct cand *cands;
	size_t n_cands, cap_cands;
	struct plan_drift *drift;
	size_t n_drift, cap_drift;
	struct plan_blocked *conflicts;
	size_t n_conflicts, cap_conflicts;
	struct plan_extras *extras;   /* env, domains, deploy keys (SPEC 9) */
};

static const char *const guard_names[] = {
	"empty_desired", "max_deletes", "protected", "conflict", "key_file_missing"
};
static const char *const reason_names[] = { "declared", "absent", "prune" };

const char *
guard_name(enum guard g)
{
	if ((unsigned)g >= sizeof(guard_names) / sizeof(guard_names[0]))
		return "?";
	return guard_names[g];
}

const char *
plan_reason_name(enum plan_reason r)
{
	if ((unsigned)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "?";
	return reason_names[r];
}

size_t
plan_count(const struct plan *p, enum plan_op op)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_actions; i++)
		if (p->actions[i].op == op)
			n++;
	return n;
}

size_t
plan_count_updates(const struct plan *p)
{
	return plan_count(p, PLAN_UPDATE) + plan_count(p, PLAN_RENAME);
}

void
plan_free(struct plan *p)
{
	if (p == NULL)
		return;
	free(p->actions);
	free(p->drift);
	free(p->blocked);
	arena_free(&p->arena);
	memset(p, 0, sizeof(*p));
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

/* Room for one more element; NULL on overflow or ENOMEM (arr untouched). */
static void *
reserve(void *arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap < *cap || ncap > SIZE_MAX / size)
		return NULL;
	if ((p = realloc(arr, ncap * size)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}

static void
copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(nz(src), n - 1);

	memcpy(dst, nz(src), len);
	dst[len] = '\0';
}

/* snprintf that marks a cut message with "..." rather than cutting silently. */
static void __attribute__((format(printf, 3, 4)))
msgf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	if (r < 0)
		dst[0] = '\0';
	else if ((size_t)r >= n && n > 4)
		memcpy(dst + n - 4, "...", 4);
}

/* ---- lookups ---------------------------------------------------------- */

static int
ctx_init(struct ctx *c)
{
	const struct desired_state *ds = c->ds;
	const struct observed_state *os = c->os;
	const struct ledger *l = c->led;
	size_t n_dd = 0, i, j, k;
	size_t n_lp = l ? l->n_projects : 0, n_ld = l ? l->n_deployments : 0;

	for (i = 0; i < ds->n_projects; i++)
		n_dd += ds->projects[i].n_deployments;
	if (index_init(&c->obs_name, os->n_projects) ||
	    index_init(&c->obs_id, os->n_projects) ||
	    index_init(&c->des_name, ds->n_projects) ||
	    index_init(&c->des_dep, n_dd) ||
	    index_init(&c->led_proj, n_lp) ||
	    index_init(&c->led_dep, n_ld))
		return -ENOMEM;
	c->dep_off = calloc(ds->n_projects + 1, sizeof(*c->dep_off));
	c->matched = calloc(n_dd + 1, sizeof(*c->matched));
	c->by_proj = calloc(os->n_deployments + 1, sizeof(*c->by_proj));
	c->proj_start = calloc(os->n_projects + 1, sizeof(*c->proj_start));
	if (!c->dep_off || !c->matched || !c->by_proj || !c->proj_start)
		return -ENOMEM;

	for (i = 0; i < os->n_projects; i++) {
		index_set(&c->obs_name, i, os->projects[i].name, os->projects[i].id, i);
		index_set(&c->obs_id, i, NULL, os->projects[i].id, i);
	}
	for (i = 0, k = 0; i < ds->n_projects; i++) {
		const struct desired_project *dp = &ds->projects[i];

		index_set(&c->des_name, i, dp->name, 0, i);
		c->dep_off[i] = k;
		for (j = 0; j < dp->n_deployments; j++, k++)
			index_set(&c->des_dep, k, dp->deployments[j].reference, (int64_t)i, k);
	}
	c->dep_off[ds->n_projects] = k;
	for (i = 0; i < n_lp; i++)
		index_set(&c->led_proj, i, NULL, l->projects[i].id, i);
	for (i = 0; i < n_ld; i++)
		index_set(&c->led_dep, i, l->deployments[i].name, 0, i);
	index_sort(&c->obs_name);
	index_sort(&c->obs_id);
	index_sort(&c->des_name);
	index_sort(&c->des_dep);
	index_sort(&c->led_proj);
	index_sort(&c->led_dep);

	/* Group the observed deployments by project (a counting sort, keeping
	 * the observed order within a project); orphans are dropped (rule 11). */
	for (i = 0; i < os->n_deployments; i++) {
		const struct index_item *it = index_find(&c->obs_id, NULL,
		    os->deployments[i].project_id);
		if (it != NULL)
			c->proj_start[it->pos + 1]++;
	}
	for (i = 0; i < os->n_projects; i++)
		c->proj_start[i + 1] += c->proj_start[i];
	{
		size_t *fill = calloc(os->n_projects + 1, sizeof(*fill));

		if (fill == NULL)
			return -ENOMEM;
		for (i = 0; i < os->n_deployments; i++) {
			const struct index_item *it = index_find(&c->obs_id, NULL,
			    os->deployments[i].project_id);
			if (it != NULL)
				c->by_proj[c->proj_start[it->pos] + fill[it->pos]++] = i;
		}
		free(fill);
	}
	return 0;
}

static void
ctx_free(struct ctx *c)
{
	index_free(&c->obs_name);
	index_free(&c->obs_id);
	index_free(&c->des_name);
	index_free(&c->des_dep);
	index_free(&c->led_proj);
	index_free(&c->led_dep);
	free(c->dep_off);
	free(c->matched);
	free(c->by_proj);
	free(c->proj_start);
	free(c->cands);
	free(c->drift);
	free(c->conflicts);
	plan_extras_free(c->extras);
}

static const struct ledger_project *
ledger_project_of(const struct ctx *c, int64_t id)
{
	const struct index_item *it = index_find(&c->led_proj, NULL, id);

	return it ? &c->led->projects[it->pos] : NULL;
}

static const struct ledger_deployment *
ledger_dep_of(const struct ctx *c, const char *name)
{
	const struct index_item *it;

	if (name == NULL)
		return NULL;
	it = index_find(&c->led_dep, name, 0);
	return it ? &c->led->deployments[it->pos] : NULL;
}

/* The desired deployment (global index) that stands for `ref` in desired
 * project `pi`, or SIZE_MAX. */
static size_t
desired_dep_at(const struct ctx *c, size_t pi, const char *ref)
{
	const struct index_item *it = index_find(&c->des_dep, nz(ref), (int64_t)pi);

	return it ? it->pos : SIZE_MAX;
}

static const struct desired_deployment *
desired_dep(const struct ctx *c, size_t pi, size_t global)
{
	return &c->ds->projects[pi].deployments[global - c->dep_off[pi]];
}

/* Rule 7: the files say protect, or the ledger remembers they did. */
static bool
project_protected(const struct ctx *c, const struct desired_project *dp,
    const struct observed_project *op)
{
	const struct ledger_project *lp = ledger_project_of(c, op->id);

	return (dp != NULL && dp->protect) || (lp != NULL && lp->protect);
}

static bool
dep_protected(const struct ctx *c, const struct desired_deployment *dd,
    const struct observed_deployment *od)
{
	const struct ledger_deployment *ld = ledger_dep_of(c, od->name);

	return (dd != NULL && dd->protect) || (ld != NULL && ld->protect);
}

/* ---- candidates ------------------------------------------------------- */

static struct cand *
add_cand(struct ctx *c, enum plan_op op, enum plan_kind kind,
    enum plan_reason reason, const char *project, int64_t project_id)
{
	struct cand *nc, *x;

	nc = reserve(c->cands, &c->cap_cands, c->n_cands, sizeof(*nc));
	if (nc == NULL)
		return NULL;
	c->cands = nc;
	x = &nc[c->n_cands];
	memset(x, 0, sizeof(*x));
	x->orig = c->n_cands++;
	x->a.op = op;
	x->a.kind = kind;
	x->a.reason = reason;
	x->a.project = project;
	x->a.project_id = project_id;
	x->a.parent = PLAN_NO_PARENT;
	return x;
}

static int
add_drift(struct ctx *c, const char *project, const struct observed_deployment *od,
    const char *field, const char *want, const char *have)
{
	struct plan_drift *nd, *d;

	nd = reserve(c->drift, &c->cap_drift, c->n_drift, sizeof(*nd));
	if (nd == NULL)
		return -ENOMEM;
	c->drift = nd;
	d = &nd[c->n_drift++];
	d->project = project;
	d->reference = od->reference;
	d->deployment_name = od->name;
	d->field = field;
	copy_str(d->want, sizeof(d->want), want);
	copy_str(d->have, sizeof(d->have), have);
	return 0;
}

/* Rule 3: type always; region, class and default only where declared. */
static int
compare(struct ctx *c, const char *project, const struct desired_deployment *dd,
    const struct observed_deployment *od)
{
	if (dd->type != od->type &&
	    add_drift(c, project, od, "type", dep_type_name(dd->type),
	    dep_type_name(od->type)))
		return -ENOMEM;
	if (dd->region != NULL && strcmp(dd->region, nz(od->region)) != 0 &&
	    add_drift(c, project, od, "region", dd->region, od->region))
		return -ENOMEM;
	if (dd->class_name != NULL && strcmp(dd->class_name, nz(od->class_name)) != 0 &&
	    add_drift(c, project, od, "class", dd->class_name, od->class_name))
		return -ENOMEM;
	if (dd->is_default != TRI_UNSET && (dd->is_default == TRI_TRUE) != od->is_default &&
	    add_drift(c, project, od, "default",
	    dd->is_default == TRI_TRUE ? "true" : "false",
	    od->is_default ? "true" : "false"))
		return -ENOMEM;
	return 0;
}

static int
add_conflict(struct ctx *c, const char *name, size_t first, size_t n)
{
	struct plan_blocked *nb, *b;
	char ids[160];
	size_t len = 0, i, shown = n < 6 ? n : 6;

	nb = reserve(c->conflicts, &c->cap_conflicts, c->n_conflicts, sizeof(*nb));
	if (nb == NULL)
		return -ENOMEM;
	c->conflicts = nb;
	b = &nb[c->n_conflicts++];
	memset(b, 0, sizeof(*b));
	b->guard = GUARD_CONFLICT;
	b->project = name;
	ids[0] = '\0';
	/* The index orders equal names by id, so the list reads in id order. */
	for (i = 0; i < shown; i++) {
		int r = snprintf(ids + len, sizeof(ids) - len, "%s%lld",
		    i ? ", " : "", (long long)c->obs_name.items[first + i].num);
		if (r > 0 && (size_t)r < sizeof(ids) - len)
			len += (size_t)r;
	}
	if (shown < n)
		snprintf(ids + len, sizeof(ids) - len, " and %zu more", n - shown);
	msgf(b->message, sizeof(b->message),
	    "%zu live projects are named \"%s\" (ids %s): nothing is done to \"%s\" until %s",
	    n, name, ids, name,
	    n == 2 ? "one is removed or renamed" : "all but one are removed or renamed");
	return 0;
}

/* An open create intent of deployment `reference` in project `project` that
 * two or more live deployments match (the ledger's conflicts, found by the
 * reconcile layer from its intents): which one this tool made cannot be
 * told, so nothing is done to that reference (rule 4a). */
static const struct ledger_conflict *
intent_conflict(const struct ctx *c, const char *project, const char *reference)
{
	for (size_t i = 0; i < c->led->n_conflicts; i++) {
		const struct ledger_conflict *x = &c->led->conflicts[i];

		if (x->kind == INTENT_DEPLOYMENT && strcmp(nz(x->project), nz(project)) == 0 &&
		    strcmp(nz(x->reference), nz(reference)) == 0)
			return x;
	}
	return NULL;
}

/* One blocked entry per conflicting reference, however many match. */
static int
add_intent_conflict(struct ctx *c, const char *project, const char *reference,
    size_t candidates)
{
	struct plan_blocked *nb, *b;

	for (size_t i = 0; i < c->n_conflicts; i++)
		if (c->conflicts[i].reference != NULL &&
		    strcmp(c->conflicts[i].project, project) == 0 &&
		    strcmp(c->conflicts[i].reference, reference) == 0)
			return 0;
	nb = reserve(c->conflicts, &c->cap_conflicts, c->n_conflicts, sizeof(*nb));
	if (nb == NULL)
		return -ENOMEM;
	c->conflicts = nb;
	b = &nb[c->n_conflicts++];
	memset(b, 0, sizeof(*b));
	b->guard = GUARD_CONFLICT;
	b->project = project;
	b->reference = reference;
	msgf(b->message, sizeof(b->message),
	    "%zu live deployments \"%s/%s\" match a create of this tool whose "
	    "answer was lost: which one it made cannot be told; nothing is done to "
	    "\"%s/%s\" until %s", candidates, project, reference, project, reference,
	    candidates == 2 ? "one is removed" : "all but one are removed");
	return 0;
}

static int
cmp_dep(const struct observed_deployment *x, const struct observed_deployment *y)
{
	int c = strcmp(nz(x->reference), nz(y->reference));

	return c ? c : strcmp(nz(x->name), nz(y->name));
}

/* A delete of a live project: blocked when the project is protected or
 * would take a protected deployment with it (rule 7). */
static int
delete_project(struct ctx *c, size_t opi, const struct desired_project *dp,
    enum plan_reason reason)
{
	const struct observed_project *op = &c->os->projects[opi];
	struct cand *x = add_cand(c, PLAN_DELETE, PLAN_PROJECT, reason, op->name, op->id);

	if (x == NULL)
		return -ENOMEM;
	if (project_protected(c, dp, op)) {
		x->prot = PROT_SELF;
		return 0;
	}
	for (size_t k = c->proj_start[opi]; k < c->proj_start[opi + 1]; k++) {
		const struct observed_deployment *od = &c->os->deployments[c->by_proj[k]];
		/* A project being deleted has no present declared deployments
		 * (absent projects list none; undeclared ones have no entry), so
		 * only the ledger can protect its deployments. */
		/* Name the first by (reference, name): the message must not
		 * depend on the order the API listed them in. */
		if (dep_protected(c, NULL, od) && (x->holds == NULL ||
		    cmp_dep(od, x->holds) < 0)) {
			x->prot = PROT_HOLDS;
			x->holds = od;
		}
	}
	return 0;
}

static int
delete_deployment(struct ctx *c, const struct observed_project *op,
    const struct desired_project *dp, const struct desired_deployment *dd,
    const struct observed_deployment *od, enum plan_reason reason)
{
	struct cand *x = add_cand(c, PLAN_DELETE, PLAN_DEPLOYMENT, reason, op->name, op->id);

	if (x == NULL)
		return -ENOMEM;
	x->a.reference = od->reference;
	x->a.deployment_name = od->name;
	if (dep_protected(c, dd, od))
		x->prot = PROT_SELF;
	else if (project_protected(c, dp, op))
		x->prot = PROT_PROJECT;
	return 0;
}

/* Should prune delete this undeclared resource? (rules 3, 6 and 12) */
static bool
prune_project(const struct ctx *c, const struct observed_project *op)
{
	const struct ledger_project *lp;

	switch (c->set->prune) {
	case PRUNE_ALL:
		return true;
	case PRUNE_OWNED:
		lp = ledger_project_of(c, op->id);
		return lp != NULL && lp->created;
	default:
		return false;
	}
}

static bool
prune_deployment(const struct ctx *c, const struct observed_deployment *od)
{
	const struct ledger_deployment *ld;

	switch (c->set->prune) {
	case PRUNE_ALL:
		return true;
	case PRUNE_OWNED:
		ld = ledger_dep_of(c, od->name);
		return ld != NULL && ld->created;
	default:
		return false;
	}
}

/* Rule 2: a declared project that does not exist, with its deployments. */
static int
create_all(struct ctx *c, size_t pi)
{
	const struct desired_project *dp = &c->ds->projects[pi];
	struct cand *x = add_cand(c, PLAN_CREATE, PLAN_PROJECT, REASON_DECLARED, dp->name, 0);
	size_t parent;
	int rc;

	if (x == NULL)
		return -ENOMEM;
	x->a.want_project = dp;
	parent = x->orig;
	if ((rc = plan_extras_project(c->extras, dp, NULL, parent)) != 0)
		return rc;
	for (size_t j = 0; j < dp->n_deployments; j++) {
		const struct desired_deployment *dd = &dp->deployments[j];

		if (dd->absent || desired_dep_at(c, pi, dd->reference) != c->dep_off[pi] + j)
			continue;
		if ((x = add_cand(c, PLAN_CREATE, PLAN_DEPLOYMENT, REASON_DECLARED,
		    dp->name, 0)) == NULL)
			return -ENOMEM;
		x->a.reference = dd->reference;
		x->a.want = dd;
		x->a.parent = parent;
		if ((rc = plan_extras_deployment(c->extras, dp->name, 0, dd, NULL,
		    x->orig)) != 0)
			return rc;
	}
	return 0;
}

/* Rule 3: a declared project that exists once. */
static int
diff_project(struct ctx *c, size_t pi, size_t opi)
{
	const struct desired_project *dp = &c->ds->projects[pi];
	const struct observed_project *op = &c->os->projects[opi];
	int rc;

	for (size_t k = c->proj_start[opi]; k < c->proj_start[opi + 1]; k++) {
		const struct observed_deployment *od = &c->os->deployments[c->by_proj[k]];
		size_t g = od->reference ? desired_dep_at(c, pi, od->reference) : SIZE_MAX;
		const struct desired_deployment *dd;
		const struct ledger_conflict *ic = od->reference ?
		    intent_conflict(c, dp->name, od->reference) : NULL;

		if (ic != NULL) {
			/* Neither compared, created nor deleted (rule 4a). */
			if (g != SIZE_MAX)
				c->matched[g] = true;
			if ((rc = add_intent_conflict(c, dp->name, od->reference,
			    ic->candidates)) != 0)
				return rc;
			continue;
		}
		if (g == SIZE_MAX) {
			if (prune_deployment(c, od) &&
			    (rc = delete_deployment(c, op, dp, NULL, od, REASON_PRUNE)))
				return rc;
			continue;
		}
		dd = desired_dep(c, pi, g);
		c->matched[g] = true;
		if (dd->absent)
			rc = delete_deployment(c, op, dp, dd, od, REASON_ABSENT);
		else if ((rc = compare(c, dp->name, dd, od)) == 0)
			rc = plan_extras_deployment(c->extras, dp->name, op->id, dd,
			    od, PLAN_NO_PARENT);
		if (rc)
			return rc;
	}
	if ((rc = plan_extras_project(c->extras, dp, op, PLAN_NO_PARENT)) != 0)
		return rc;
	for (size_t j = 0; j < dp->n_deployments; j++) {
		const struct desired_deployment *dd = &dp->deployments[j];
		size_t g = c->dep_off[pi] + j;
		struct cand *x;

		if (dd->absent || c->matched[g] || desired_dep_at(c, pi, dd->reference) != g)
			continue;
		if ((x = add_cand(c, PLAN_CREATE, PLAN_DEPLOYMENT, REASON_DECLARED,
		    dp->name, op->id)) == NULL)
			return -ENOMEM;
		x->a.reference = dd->reference;
		x->a.want = dd;
		if ((rc = plan_extras_deployment(c->extras, dp->name, op->id, dd,
		    NULL, x->orig)) != 0)
			return rc;
	}
	return 0;
}

static int
diff_declared(struct ctx *c)
{
	for (size_t pi = 0; pi < c->ds->n_projects; pi++) {
		const struct desired_project *dp = &c->ds->projects[pi];
		size_t first, n;
		int rc;

		/* A repeated name (never in a valid desired state): the first wins. */
		n = index_range_str(&c->des_name, dp->name, &first);
		if (n == 0 || c->des_name.items[first].pos != pi)
			continue;
		if (!dp->absent)
			c->any_present = true;
		n = index_range_str(&c->obs_name, nz(dp->name), &first);
		if (n >= 2)
			rc = add_conflict(c, dp->name, first, n);
		else if (n == 0)
			rc = dp->absent ? 0 : create_all(c, pi);
		else if (dp->absent)
			rc = delete_project(c, c->obs_name.items[first].pos, dp, REASON_ABSENT);
		else
			rc = diff_project(c, pi, c->obs_name.items[first].pos);
		if (rc)
			return rc;
	}
	return 0;
}

/* Rule 6: live projects whose name nobody declares. */
static int
diff_undeclared(struct ctx *c)
{
	for (size_t i = 0; i < c->os->n_projects; i++) {
		const struct observed_project *op = &c->os->projects[i];
		size_t first;
		int rc;

		if (index_range_str(&c->des_name, nz(op->name), &first) > 0)
			continue;
		if (prune_project(c, op) && (rc = delete_project(c, i, NULL, REASON_PRUNE)))
			return rc;
	}
	return 0;
}

/* ---- order and guards -------------------------------------------------- */

static int
group_of(const struct plan_action *a)
{
	/* Env, domains and deploy keys (their deletes too) come after the
	 * creates they may wait for and before the deletes that destroy
	 * data, as the executor runs them. */
	if (a->kind != PLAN_PROJECT && a->kind != PLAN_DEPLOYMENT)
		return 2;
	if (a->op == PLAN_CREATE)
		return a->kind == PLAN_PROJECT ? 0 : 1;
	return a->kind == PLAN_DEPLOYMENT ? 3 : 4;
}

static int
cmp_cand(const void *pa, const void *pb)
{
	const struct cand *x = pa, *y = pb;
	int c;

	if ((c = group_of(&x->a) - group_of(&y->a)) != 0)
		return c;
	if ((c = strcmp(nz(x->a.project), nz(y->a.project))) != 0)
		return c;
	if ((c = strcmp(nz(x->a.reference), nz(y->a.reference))) != 0)
		return c;
	if (x->a.project_id != y->a.project_id)
		return x->a.project_id < y->a.project_id ? -1 : 1;
	if ((c = strcmp(nz(x->a.deployment_name), nz(y->a.deployment_name))) != 0)
		return c;
	if ((c = (int)x->a.kind - (int)y->a.kind) != 0)
		return c;
	if ((c = strcmp(nz(plan_extras_name(&x->a)), nz(plan_extras_name(&y->a)))) != 0)
		return c;
	/* One domain deleted and created again (a new destination): the
	 * delete first, as the create waits for it. */
	if ((c = (x->a.op == PLAN_CREATE) - (y->a.op == PLAN_CREATE)) != 0)
		return c;
	return (x->orig > y->orig) - (x->orig < y->orig);
}

static int
cmp_conflict(const void *pa, const void *pb)
{
	const struct plan_blocked *x = pa, *y = pb;
	int c = strcmp(nz(x->project), nz(y->project));

	return c ? c : strcmp(nz(x->reference), nz(y->reference));
}

static int
field_rank(const char *f)
{
	static const char *const order[] = { "type", "region", "class", "default" };

	for (int i = 0; i < 4; i++)
		if (strcmp(f, order[i]) == 0)
			return i;
	return 4;
}

static int
cmp_drift(const void *pa, const void *pb)
{
	const struct plan_drift *x = pa, *y = pb;
	int c;

	if ((c = strcmp(nz(x->project), nz(y->project))) != 0)
		return c;
	if ((c = strcmp(nz(x->reference), nz(y->reference))) != 0)
		return c;
	if ((c = strcmp(nz(x->deployment_name), nz(y->deployment_name))) != 0)
		return c;
	return field_rank(x->field) - field_rank(y->field);
}

static void
protected_message(const struct cand *x, struct plan_blocked *b)
{
	const char *fix = "remove \"protect\" from the files and the ledger first";

	if (x->a.kind == PLAN_DEPLOYMENT && x->prot == PROT_PROJECT)
		msgf(b->message, sizeof(b->message),
		    "deployment \"%s/%s\" (%s) is protected by its project \"%s\": %s",
		    nz(x->a.project), nz(x->a.reference), nz(x->a.deployment_name),
		    nz(x->a.project), fix);
	else if (x->a.kind == PLAN_DEPLOYMENT)
		msgf(b->message, sizeof(b->message),
		    "deployment \"%s/%s\" (%s) is protected: %s",
		    nz(x->a.project), nz(x->a.reference), nz(x->a.deployment_name), fix);
	else if (x->prot == PROT_HOLDS)
		msgf(b->message, sizeof(b->message),
		    "project \"%s\" (%lld) holds protected deployment \"%s/%s\" (%s): %s",
		    nz(x->a.project), (long long)x->a.project_id, nz(x->a.project),
		    nz(x->holds->reference), nz(x->holds->name), fix);
	else
		msgf(b->message, sizeof(b->message),
		    "project \"%s\" (%lld) is protected: %s",
		    nz(x->a.project), (long long)x->a.project_id, fix);
}

static struct plan_blocked *
add_blocked(struct plan *p, enum guard g)
{
	struct plan_blocked *b = &p->blocked[p->n_blocked++];

	memset(b, 0, sizeof(*b));
	b->guard = g;
	return b;
}

/* Sorts, remaps parents, applies the guards (rules 7 to 10 and 13) and
 * moves the result into *out. */
static int
finish(struct ctx *c, struct plan *out)
{
	size_t *pos_of = NULL, *final_of = NULL, n_prune = 0, n_del = 0, i;
	struct plan_blocked *b;
	bool hold = false;

	out->actions = calloc(c->n_cands + 1, sizeof(*out->actions));
	out->blocked = calloc(c->n_conflicts + c->n_cands + 2, sizeof(*out->blocked));
	pos_of = calloc(c->n_cands + 1, sizeof(*pos_of));
	final_of = calloc(c->n_cands + 1, sizeof(*final_of));
	if (!out->actions || !out->blocked || !pos_of || !final_of) {
		free(pos_of);
		free(final_of);
		return -ENOMEM;
	}
	if (c->n_cands > 1)
		qsort(c->cands, c->n_cands, sizeof(*c->cands), cmp_cand);
	for (i = 0; i < c->n_cands; i++)
		pos_of[c->cands[i].orig] = i;

	if (c->n_conflicts > 1)
		qsort(c->conflicts, c->n_conflicts, sizeof(*c->conflicts), cmp_conflict);
	for (i = 0; i < c->n_conflicts; i++)
		out->blocked[out->n_blocked++] = c->conflicts[i];

	/* What the files protect is held; the rest of the deletes (of every
	 * kind: projects, deployments, domains, deploy keys) is what the
	 * global guards count. */
	for (i = 0; i < c->n_cands; i++) {
		const struct cand *x = &c->cands[i];

		if (x->prot != PROT_NONE) {
			b = add_blocked(out, GUARD_PROTECTED);
			b->project = x->a.project;
			b->reference = x->a.kind == PLAN_DEPLOYMENT ? x->a.reference : NULL;
			protected_message(x, b);
			out->n_held++;
		} else if (x->a.op == PLAN_DELETE) {
			n_del++;
			if (x->a.reason == REASON_PRUNE)
				n_prune++;
		}
	}
	if (!c->any_present && n_prune > 0 && !c->set->allow_empty) {
		b = add_blocked(out, GUARD_EMPTY_DESIRED);
		msgf(b->message, sizeof(b->message),
		    "nothing is declared and prune would delete %zu resource%s; "
		    "set allow_empty to allow it", n_prune, n_prune == 1 ? "" : "s");
		hold = true;
	} else if (n_del > c->set->max_deletes) {
		b = add_blocked(out, GUARD_MAX_DELETES);
		msgf(b->message, sizeof(b->message),
		    "%zu delete%s planned, at most %u allowed", n_del,
		    n_del == 1 ? "" : "s", c->set->max_deletes);
		hold = true;
	}
	if (hold)
		out->n_held += n_del;

	/* A parent always sorts before its children: an action whose parent
	 * was held is held with it (a domain created again after its delete). */
	for (i = 0; i < c->n_cands; i++) {
		const struct cand *x = &c->cands[i];
		struct plan_action *a;
		size_t p;

		final_of[i] = SIZE_MAX;
		if (x->prot != PROT_NONE || (hold && x->a.op == PLAN_DELETE))
			continue;
		p = x->a.parent == PLAN_NO_PARENT ? SIZE_MAX : pos_of[x->a.parent];
		if (x->a.parent != PLAN_NO_PARENT && (p >= i || final_of[p] == SIZE_MAX)) {
			out->n_held++;
			continue;
		}
		final_of[i] = out->n_actions;
		a = &out->actions[out->n_actions++];
		*a = x->a;
		if (a->parent != PLAN_NO_PARENT)
			a->parent = final_of[p];
	}
	free(pos_of);
	free(final_of);

	if (c->n_drift > 1)
		qsort(c->drift, c->n_drift, sizeof(*c->drift), cmp_drift);
	out->drift = c->drift;
	out->n_drift = c->n_drift;
	c->drift = NULL;
	c->n_drift = 0;
	return plan_extras_finish(c->extras, out);
}

/* The extras' emitter (plan_extras.h): a candidate like any other. */
static struct plan_action *
emit_extras(void *arg, enum plan_op op, enum plan_kind kind,
    enum plan_reason reason, const char *project, int64_t project_id,
    size_t parent, size_t *index)
{
	struct cand *x = add_cand(arg, op, kind, reason, project, project_id);

	if (x == NULL)
		return NULL;
	x->a.parent = parent;
	*index = x->orig;
	return &x->a;
}

int
plan_build(const struct desired_state *desired,
    const struct observed_state *observed, const struct ledger *ledger,
    const struct plan_settings *settings, struct plan *out)
{
	static const struct ledger no_ledger;
	struct ctx c;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.ds = desired;
	c.os = observed;
	c.led = ledger ? ledger : &no_ledger;
	c.set = settings;
	if ((rc = ctx_init(&c)) == 0 &&
	    (rc = plan_extras_new(observed, c.led, settings, &(const struct
	    plan_extras_emit){ emit_extras, &c }, &c.extras)) == 0 &&
	    (rc = diff_declared(&c)) == 0 &&
	    (rc = diff_undeclared(&c)) == 0)
		rc = finish(&c, out);
	ctx_free(&c);
	if (rc != 0)
		plan_free(out);
	return rc;
}

static const char *const prune_names[] = { "none", "owned", "all" };

const char *
prune_mode_name(enum prune_mode m)
{
	if ((unsigned)m >= sizeof(prune_names) / sizeof(prune_names[0]))
		return "?";
	return prune_names[m];
}

int
prune_mode_parse(const char *s, enum prune_mode *out)
{
	for (size_t i = 0; i < sizeof(prune_names) / sizeof(prune_names[0]); i++) {
		if (strcmp(s, prune_names[i]) == 0) {
			*out = (enum prune_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const drift_names[] = { "correct", "report" };

const char *
drift_mode_name(enum drift_mode m)
{
	if ((unsigned)m >= sizeof(drift_names) / sizeof(drift_names[0]))
		return "?";
	return drift_names[m];
}

int
drift_mode_parse(const char *s, enum drift_mode *out)
{
	for (size_t i = 0; i < sizeof(drift_names) / sizeof(drift_names[0]); i++) {
		if (strcmp(s, drift_names[i]) == 0) {
			*out = (enum drift_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}
