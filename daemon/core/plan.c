/* plan.c: the pure diff of SPEC section 5; docs/reconcile.md states each
 * rule this file implements. No I/O, no clock, no logging. */
#include "plan.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdefs.h"
#include "index.h"
#include "nametab.h"
#include "pindex.h"
#include "plan_extras.h"
#include "plan_update.h"
#include "strcut.h"

/* Why a candidate delete may not run. */
enum prot { PROT_NONE = 0, PROT_SELF, PROT_PROJECT, PROT_HOLDS };

/* An action before the guards: its position before sorting (so `parent`
 * can be remapped) and what protects it. */
struct cand {
	struct plan_action a;
	size_t orig;
	enum prot prot;
	const struct observed_deployment *holds;  /* PROT_HOLDS: which one */
	const struct observed_deployment *have;   /* updates: the live deployment */
};

struct ctx {
	const struct desired_state *ds;
	const struct observed_state *os;
	const struct ledger *led;
	const struct plan_settings *set;

	/* The large lookups hold positions only (pindex.h: SPEC section 12). */
	struct pindex obs_name;   /* observed projects by (name, id) */
	struct pindex obs_id;     /* observed projects by id */
	struct pindex des_name;   /* desired projects by name */
	uint32_t *des_dep;        /* global desired deployment indexes, each
	                           * project's slice sorted by reference */
	struct index led_proj;    /* ledger projects by id */
	struct index led_dep;     /* ledger deployments by name */
	/* Positions in 32 bits (states are far below 2^32 items: ctx_init
	 * checks), half the memory of size_t at the peak of a plan. */
	uint32_t *dep_off;        /* first global index of each desired project's deployments */
	bool *matched;            /* per global desired deployment: found live */
	uint32_t *by_proj;        /* observed deployment positions grouped by project */
	uint32_t *proj_start;     /* by_proj[proj_start[i] .. proj_start[i+1]) */
	bool any_present;

	struct cand *cands;
	size_t n_cands, cap_cands;
	struct plan_drift *drift;
	size_t n_drift, cap_drift;
	struct plan_blocked *conflicts;
	size_t n_conflicts, cap_conflicts;

	/* SPEC section 8 */
	struct index des_old;     /* renamed_from names of desired projects */
	bool *dep_held;           /* per observed deployment: a candidate of a
	                           * rename conflict (nothing is done to it) */
	struct plan_extras *extras;   /* env, domains, deploy keys (SPEC 9) */
};

static const char *const guard_names[] = {
	"empty_desired", "max_deletes", "protected", "conflict", "key_file_missing"
};
static const char *const reason_names[] = { "declared", "absent", "prune" };

const char *
guard_name(enum guard g)
{
	return nametab_name(guard_names, CP_NELEM(guard_names), (unsigned)g);
}

const char *
plan_reason_name(enum plan_reason r)
{
	return nametab_name(reason_names, CP_NELEM(reason_names), (unsigned)r);
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
	for (size_t i = 0; i < p->n_actions; i++)
		free(p->actions[i].changes);
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

/* ---- lookups ---------------------------------------------------------- */

static void
key_obs_name(const void *ctx, size_t pos, const char **str, int64_t *num)
{
	const struct observed_project *p = &((const struct observed_state *)ctx)->projects[pos];

	*str = p->name;
	*num = p->id;
}

static void
key_obs_id(const void *ctx, size_t pos, const char **str, int64_t *num)
{
	*str = NULL;
	*num = ((const struct observed_state *)ctx)->projects[pos].id;
}

static void
key_des_name(const void *ctx, size_t pos, const char **str, int64_t *num)
{
	*str = ((const struct desired_state *)ctx)->projects[pos].name;
	*num = 0;
}

/* The deployments of one desired project, by reference. */
struct dep_key {
	const struct ctx *c;
	size_t pi;
};

static void
key_des_dep(const void *ctx, size_t global, const char **str, int64_t *num)
{
	const struct dep_key *k = ctx;

	*str = k->c->ds->projects[k->pi].deployments[global - k->c->dep_off[k->pi]].reference;
	*num = 0;
}

static int
ctx_init(struct ctx *c)
{
	const struct desired_state *ds = c->ds;
	const struct observed_state *os = c->os;
	const struct ledger *l = c->led;
	size_t n_dd = 0, n_old = 0, i, j, k;
	int rc;
	size_t n_lp = l ? l->n_projects : 0, n_ld = l ? l->n_deployments : 0;

	for (i = 0; i < ds->n_projects; i++) {
		n_dd += ds->projects[i].n_deployments;
		n_old += ds->projects[i].n_renamed_from;
	}
	if (ds->n_projects >= UINT32_MAX || n_dd >= UINT32_MAX ||
	    os->n_projects >= UINT32_MAX || os->n_deployments >= UINT32_MAX)
		return -EFBIG;
	if (index_init(&c->led_proj, n_lp) ||
	    index_init(&c->led_dep, n_ld) ||
	    index_init(&c->des_old, n_old))
		return -ENOMEM;
	c->dep_off = calloc(ds->n_projects + 1, sizeof(*c->dep_off));
	c->des_dep = calloc(n_dd + 1, sizeof(*c->des_dep));
	c->matched = calloc(n_dd + 1, sizeof(*c->matched));
	c->by_proj = calloc(os->n_deployments + 1, sizeof(*c->by_proj));
	c->proj_start = calloc(os->n_projects + 1, sizeof(*c->proj_start));
	c->dep_held = calloc(os->n_deployments + 1, sizeof(*c->dep_held));
	if (!c->dep_off || !c->des_dep || !c->matched || !c->by_proj ||
	    !c->proj_start || !c->dep_held)
		return -ENOMEM;

	for (i = 0, k = 0; i < ds->n_projects; i++) {
		struct dep_key dk = { c, i };

		c->dep_off[i] = (uint32_t)k;
		for (j = 0; j < ds->projects[i].n_deployments; j++, k++)
			c->des_dep[k] = (uint32_t)k;
		pindex_sort(c->des_dep + c->dep_off[i], ds->projects[i].n_deployments,
		    key_des_dep, &dk);
	}
	c->dep_off[ds->n_projects] = (uint32_t)k;
	if ((rc = pindex_build(&c->obs_name, os->n_projects, key_obs_name, os)) != 0 ||
	    (rc = pindex_build(&c->obs_id, os->n_projects, key_obs_id, os)) != 0 ||
	    (rc = pindex_build(&c->des_name, ds->n_projects, key_des_name, ds)) != 0)
		return rc;
	for (i = 0, k = 0; i < ds->n_projects; i++)
		for (j = 0; j < ds->projects[i].n_renamed_from; j++, k++)
			index_set(&c->des_old, k, ds->projects[i].renamed_from[j], 0, i);
	index_sort(&c->des_old);
	for (i = 0; i < n_lp; i++)
		index_set(&c->led_proj, i, NULL, l->projects[i].id, i);
	for (i = 0; i < n_ld; i++)
		index_set(&c->led_dep, i, l->deployments[i].name, 0, i);
	index_sort(&c->led_proj);
	index_sort(&c->led_dep);

	/* Group the observed deployments by project (a counting sort, keeping
	 * the observed order within a project); orphans are dropped (rule 11). */
	for (i = 0; i < os->n_deployments; i++) {
		size_t at = pindex_find(&c->obs_id, NULL, os->deployments[i].project_id);
		if (at != SIZE_MAX)
			c->proj_start[at + 1]++;
	}
	for (i = 0; i < os->n_projects; i++)
		c->proj_start[i + 1] += c->proj_start[i];
	/* Each project's start serves as its cursor while placing, ending at
	 * the next project's start; then everything moves up one. */
	for (i = 0; i < os->n_deployments; i++) {
		size_t at = pindex_find(&c->obs_id, NULL, os->deployments[i].project_id);
		if (at != SIZE_MAX)
			c->by_proj[c->proj_start[at]++] = (uint32_t)i;
	}
	for (i = os->n_projects; i > 0; i--)
		c->proj_start[i] = c->proj_start[i - 1];
	c->proj_start[0] = 0;
	return 0;
}

static void
ctx_free(struct ctx *c)
{
	pindex_free(&c->obs_name);
	pindex_free(&c->obs_id);
	pindex_free(&c->des_name);
	free(c->des_dep);
	index_free(&c->led_proj);
	index_free(&c->led_dep);
	free(c->dep_off);
	free(c->matched);
	free(c->by_proj);
	free(c->proj_start);
	/* What finish() moved to the plan is NULL here; what was held is not. */
	for (size_t i = 0; i < c->n_cands; i++)
		free(c->cands[i].a.changes);
	free(c->cands);
	free(c->drift);
	free(c->conflicts);
	index_free(&c->des_old);
	free(c->dep_held);
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
	struct dep_key dk = { c, pi };

	return pindex_search(c->des_dep + c->dep_off[pi],
	    c->dep_off[pi + 1] - c->dep_off[pi], key_des_dep, &dk, nz(ref), 0);
}

static const struct desired_deployment *
desired_dep(const struct ctx *c, size_t pi, size_t global)
{
	return &c->ds->projects[pi].deployments[global - c->dep_off[pi]];
}

/* The id of the i-th observed project in name order (obs_name). */
static int64_t
obs_id_at(const struct ctx *c, size_t i)
{
	return c->os->projects[pindex_pos(&c->obs_name, i)].id;
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
	memset(d, 0, sizeof(*d));
	d->project_id = od->project_id;
	d->project = project;
	d->reference = od->reference;
	d->deployment_name = od->name;
	d->field = field;
	copy_str(d->want, sizeof(d->want), want);
	copy_str(d->have, sizeof(d->have), have);
	return 0;
}

static int update_or_drift(struct ctx *c, size_t pi, size_t opi,
    const struct desired_deployment *dd, const struct observed_deployment *od);

/* Rule 3: type always and region where declared are drift, never changed
 * (with the reason); the fields of SPEC section 8 (class, default, ...)
 * are updates, or drift with `drift: report`. */
static int
compare(struct ctx *c, size_t pi, size_t opi, const struct desired_deployment *dd,
    const struct observed_deployment *od)
{
	const char *project = c->ds->projects[pi].name;

	if (dd->type != od->type) {
		if (add_drift(c, project, od, "type", dep_type_name(dd->type),
		    dep_type_name(od->type)))
			return -ENOMEM;
		c->drift[c->n_drift - 1].reason = PLAN_WHY_TYPE;
	}
	if (dd->region != NULL && strcmp(dd->region, nz(od->region)) != 0) {
		if (add_drift(c, project, od, "region", dd->region, od->region))
			return -ENOMEM;
		c->drift[c->n_drift - 1].reason = PLAN_WHY_REGION;
	}
	return update_or_drift(c, pi, opi, dd, od);
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
		    i ? ", " : "", (long long)obs_id_at(c, first + i));
		if (r > 0 && (size_t)r < sizeof(ids) - len)
			len += (size_t)r;
	}
	if (shown < n)
		snprintf(ids + len, sizeof(ids) - len, " and %zu more", n - shown);
	strcut_printf(b->message, sizeof(b->message),
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
	strcut_printf(b->message, sizeof(b->message),
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
	/* The declared name: a rename of the project (SPEC section 8) runs
	 * before any delete. */
	struct cand *x = add_cand(c, PLAN_DELETE, PLAN_DEPLOYMENT, reason,
	    dp != NULL ? dp->name : op->name, op->id);

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
bool
prune_deletes(enum prune_mode m, bool created)
{
	return m == PRUNE_ALL || (m == PRUNE_OWNED && created);
}

static bool
prune_project(const struct ctx *c, const struct observed_project *op)
{
	const struct ledger_project *lp = ledger_project_of(c, op->id);

	return prune_deletes(c->set->prune, lp != NULL && lp->created);
}

static bool
prune_deployment(const struct ctx *c, const struct observed_deployment *od)
{
	const struct ledger_deployment *ld = ledger_dep_of(c, od->name);

	return prune_deletes(c->set->prune, ld != NULL && ld->created);
}

/* ---- updates and renames (SPEC section 8) ------------------------------ */

/* A new update (a rename when the name or reference changes) carrying a
 * copy of ch; NULL on ENOMEM. The cand pointer is valid until the next
 * add_cand. */
static struct cand *
add_update(struct ctx *c, enum plan_kind kind, const char *project,
    int64_t project_id, const struct plan_change *ch, size_t n)
{
	struct plan_change *copy = malloc((n ? n : 1) * sizeof(*copy));
	enum plan_op op = PLAN_UPDATE;
	struct cand *x;

	if (copy == NULL)
		return NULL;
	memcpy(copy, ch, n * sizeof(*copy));
	for (size_t i = 0; i < n; i++)
		if (ch[i].field == PLAN_FIELD_NAME || ch[i].field == PLAN_FIELD_REFERENCE)
			op = PLAN_RENAME;
	if ((x = add_cand(c, op, kind, REASON_DECLARED, project, project_id)) == NULL) {
		free(copy);
		return NULL;
	}
	x->a.changes = copy;
	x->a.n_changes = n;
	return x;
}

static int
add_project_drift(struct ctx *c, const struct desired_project *dp,
    const struct observed_project *op, const char *field, const char *want,
    const char *have)
{
	struct plan_drift *nd, *d;

	nd = reserve(c->drift, &c->cap_drift, c->n_drift, sizeof(*nd));
	if (nd == NULL)
		return -ENOMEM;
	c->drift = nd;
	d = &nd[c->n_drift++];
	memset(d, 0, sizeof(*d));
	d->of_project = true;
	d->project = dp->name;
	d->project_id = op->id;
	d->field = field;
	copy_str(d->want, sizeof(d->want), want);
	copy_str(d->have, sizeof(d->have), have);
	return 0;
}

/* The slug or name of a matched project: an update or, with `drift:
 * report`, drift. */
static int
update_project(struct ctx *c, size_t pi, size_t opi)
{
	const struct desired_project *dp = &c->ds->projects[pi];
	const struct observed_project *op = &c->os->projects[opi];
	struct plan_change ch[PLAN_MAX_CHANGES];
	char b1[32], b2[32];
	size_t n = plan_project_changes(dp, op, ch);
	struct cand *x;

	if (n == 0)
		return 0;
	if (c->set->drift == DRIFT_REPORT) {
		for (size_t i = 0; i < n; i++)
			if (add_project_drift(c, dp, op, plan_field_name(ch[i].field),
			    plan_change_text(&ch[i], true, b1, sizeof(b1)),
			    plan_change_text(&ch[i], false, b2, sizeof(b2))))
				return -ENOMEM;
		return 0;
	}
	if ((x = add_update(c, PLAN_PROJECT, dp->name, op->id, ch, n)) == NULL)
		return -ENOMEM;
	x->a.want_project = dp;
	return 0;
}

/* The declared fields of a matched deployment (or one found under a
 * renamed_from reference) that differ: one update, or drift each. */
static int
update_or_drift(struct ctx *c, size_t pi, size_t opi,
    const struct desired_deployment *dd, const struct observed_deployment *od)
{
	const char *project = c->ds->projects[pi].name;
	struct plan_change ch[PLAN_MAX_CHANGES];
	char b1[32], b2[32];
	size_t n = plan_deployment_changes(dd, od, ch);
	struct cand *x;

	/* The default flag is one per type: on a deployment whose live type
	 * is not the declared one, setting it would take the flag from the
	 * live default of the other type, and with two such declarations the
	 * flag would move back and forth on every apply. Reported only. */
	if (dd->type != od->type) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			if (ch[i].field != PLAN_FIELD_DEFAULT) {
				ch[k++] = ch[i];
				continue;
			}
			if (add_drift(c, project, od, plan_field_name(ch[i].field),
			    plan_change_text(&ch[i], true, b1, sizeof(b1)),
			    plan_change_text(&ch[i], false, b2, sizeof(b2))))
				return -ENOMEM;
			c->drift[c->n_drift - 1].reason = PLAN_WHY_DEFAULT_TYPE;
		}
		n = k;
	}
	if (n == 0)
		return 0;
	if (c->set->drift == DRIFT_REPORT) {
		for (size_t i = 0; i < n; i++)
			if (add_drift(c, project, od, plan_field_name(ch[i].field),
			    plan_change_text(&ch[i], true, b1, sizeof(b1)),
			    plan_change_text(&ch[i], false, b2, sizeof(b2))))
				return -ENOMEM;
		return 0;
	}
	x = add_update(c, PLAN_DEPLOYMENT, project, c->os->projects[opi].id, ch, n);
	if (x == NULL)
		return -ENOMEM;
	x->a.reference = dd->reference;
	x->a.deployment_name = od->name;
	x->a.want = dd;
	x->have = od;
	return 0;
}

/* What create does not take, patched right after the create `parent`. */
static int
after_create_project(struct ctx *c, size_t parent, const struct desired_project *dp)
{
	struct plan_change ch[PLAN_MAX_CHANGES];
	size_t n = plan_project_create_changes(dp, ch);
	struct cand *x;

	if (n == 0)
		return 0;
	if ((x = add_update(c, PLAN_PROJECT, dp->name, 0, ch, n)) == NULL)
		return -ENOMEM;
	x->a.want_project = dp;
	x->a.parent = parent;
	return 0;
}

static int
after_create_deployment(struct ctx *c, size_t parent, const char *project,
    int64_t project_id, const struct desired_deployment *dd)
{
	struct plan_change ch[PLAN_MAX_CHANGES];
	size_t n = plan_deployment_create_changes(dd, ch);
	struct cand *x;

	if (n == 0)
		return 0;
	if ((x = add_update(c, PLAN_DEPLOYMENT, project, project_id, ch, n)) == NULL)
		return -ENOMEM;
	x->a.reference = dd->reference;
	x->a.want = dd;
	x->a.parent = parent;
	return 0;
}

static bool
in_list(const char *s, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nz(s), v[i]) == 0)
			return true;
	return false;
}

/* Is `name` an earlier name (renamed_from) of a declared project? */
static bool
claimed_name(const struct ctx *c, const char *name)
{
	size_t first;

	return index_range_str(&c->des_old, nz(name), &first) > 0;
}

/* Is `ref` an earlier reference of a deployment of desired project pi? */
static bool
claimed_reference(const struct ctx *c, size_t pi, const char *ref)
{
	const struct desired_project *dp = &c->ds->projects[pi];

	for (size_t j = 0; j < dp->n_deployments; j++)
		if (!dp->deployments[j].absent &&
		    in_list(ref, dp->deployments[j].renamed_from,
		    dp->deployments[j].n_renamed_from))
			return true;
	return false;
}

/* Live deployments of project opi under one of dd's renamed_from
 * references: how many, and the first. */
static size_t
old_deps(const struct ctx *c, size_t opi, const struct desired_deployment *dd,
    const struct observed_deployment **first)
{
	size_t n = 0;

	if (first != NULL)
		*first = NULL;
	if (dd->n_renamed_from == 0)
		return 0;
	for (size_t k = c->proj_start[opi]; k < c->proj_start[opi + 1]; k++) {
		const struct observed_deployment *od = &c->os->deployments[c->by_proj[k]];

		if (od->reference != NULL &&
		    in_list(od->reference, dd->renamed_from, dd->n_renamed_from)) {
			if (n++ == 0 && first != NULL)
				*first = od;
		}
	}
	return n;
}

static struct plan_blocked *
new_conflict(struct ctx *c)
{
	struct plan_blocked *nb, *b;

	nb = reserve(c->conflicts, &c->cap_conflicts, c->n_conflicts, sizeof(*nb));
	if (nb == NULL)
		return NULL;
	c->conflicts = nb;
	b = &nb[c->n_conflicts++];
	memset(b, 0, sizeof(*b));
	b->guard = GUARD_CONFLICT;
	return b;
}

/* Appends `"name" (id)` to a list of candidates, six at most. */
static void
list_add(char *list, size_t n, size_t *len, size_t *shown, const char *name,
    const char *id)
{
	int r;

	if (*shown >= 6)
		return;
	r = snprintf(list + *len, n - *len, "%s\"%s\" (%s)", *shown ? ", " : "",
	    nz(name), id);
	if (r > 0 && (size_t)r < n - *len)
		*len += (size_t)r;
	(*shown)++;
}

/* Two or more live projects could be declared project pi: its own name
 * and its earlier ones. Nothing is done to any of them. */
static int
project_rename_conflict(struct ctx *c, size_t pi, size_t n_cur, size_t first_cur)
{
	const struct desired_project *dp = &c->ds->projects[pi];
	struct plan_blocked *b = new_conflict(c);
	char list[300], id[24];
	size_t len = 0, shown = 0, total = n_cur, first, m;

	if (b == NULL)
		return -ENOMEM;
	b->project = dp->name;
	list[0] = '\0';
	for (size_t i = 0; i < n_cur; i++) {
		snprintf(id, sizeof(id), "%lld", (long long)obs_id_at(c, first_cur + i));
		list_add(list, sizeof(list), &len, &shown, dp->name, id);
	}
	for (size_t k = 0; k < dp->n_renamed_from; k++) {
		m = pindex_range_str(&c->obs_name, dp->renamed_from[k], &first);
		for (size_t i = 0; i < m; i++) {
			snprintf(id, sizeof(id), "%lld", (long long)obs_id_at(c, first + i));
			list_add(list, sizeof(list), &len, &shown, dp->renamed_from[k], id);
		}
		total += m;
	}
	if (shown < total)
		snprintf(list + len, sizeof(list) - len, " and %zu more", total - shown);
	strcut_printf(b->message, sizeof(b->message),
	    "%zu live projects could be \"%s\" (its name and renamed_from): %s: "
	    "nothing is done to \"%s\" until %s", total, dp->name, list, dp->name,
	    total == 2 ? "one is removed or renamed" : "all but one are removed or renamed");
	return 0;
}

/* Two or more live deployments of the project could be dd (its reference
 * and its earlier ones): blocked, and nothing is done to any of them. */
static int
deployment_rename_conflict(struct ctx *c, size_t pi, size_t opi,
    const struct desired_deployment *dd)
{
	const char *project = c->ds->projects[pi].name;
	struct plan_blocked *b = new_conflict(c);
	char list[300];
	size_t len = 0, shown = 0, total = 0;

	if (b == NULL)
		return -ENOMEM;
	b->project = project;
	b->reference = dd->reference;
	list[0] = '\0';
	for (size_t k = c->proj_start[opi]; k < c->proj_start[opi + 1]; k++) {
		const struct observed_deployment *od = &c->os->deployments[c->by_proj[k]];

		if (od->reference == NULL ||
		    (strcmp(od->reference, dd->reference) != 0 &&
		    !in_list(od->reference, dd->renamed_from, dd->n_renamed_from)))
			continue;
		c->dep_held[c->by_proj[k]] = true;
		total++;
	}
	/* By (reference, name), whatever order the API listed them in. */
	for (const struct observed_deployment *last = NULL, *next; shown < 6; last = next) {
		next = NULL;
		for (size_t k = c->proj_start[opi]; k < c->proj_start[opi + 1]; k++) {
			const struct observed_deployment *od = &c->os->deployments[c->by_proj[k]];

			if (c->dep_held[c->by_proj[k]] && od->reference != NULL &&
			    (strcmp(od->reference, dd->reference) == 0 ||
			    in_list(od->reference, dd->renamed_from, dd->n_renamed_from)) &&
			    (last == NULL || cmp_dep(od, last) > 0) &&
			    (next == NULL || cmp_dep(od, next) < 0))
				next = od;
		}
		if (next == NULL)
			break;
		list_add(list, sizeof(list), &len, &shown, next->reference, nz(next->name));
	}
	if (shown < total)
		snprintf(list + len, sizeof(list) - len, " and %zu more", total - shown);
	strcut_printf(b->message, sizeof(b->message),
	    "%zu live deployments of project \"%s\" could be \"%s/%s\" (its "
	    "reference and renamed_from): %s: nothing is done to \"%s/%s\" until %s",
	    total, project, project, dd->reference, list, project, dd->reference,
	    total == 2 ? "one is removed or renamed" : "all but one are removed or renamed");
	return 0;
}

/* A declared project found under one of its renamed_from names. 1: none
 * is live, the usual rules apply; 0: done here (a rename with the rest of
 * the project's diff, its drift, or a conflict); -ENOMEM. */
static int diff_project(struct ctx *c, size_t pi, size_t opi);

static int
rename_project(struct ctx *c, size_t pi, size_t n_cur, size_t first_cur)
{
	const struct desired_project *dp = &c->ds->projects[pi];
	size_t n_old = 0, opi = SIZE_MAX, first, m;

	for (size_t k = 0; k < dp->n_renamed_from; k++) {
		m = pindex_range_str(&c->obs_name, dp->renamed_from[k], &first);
		if (m > 0)
			opi = pindex_pos(&c->obs_name, first);
		n_old += m;
	}
	if (n_old == 0)
		return 1;
	if (n_cur + n_old >= 2)
		return project_rename_conflict(c, pi, n_cur, first_cur);
	/* Never a create: the project exists under its old name. */
	return diff_project(c, pi, opi);
}

/* A declared deployment with renamed_from. 1: no earlier reference is
 * live, the usual rules apply; 0: done here; -ENOMEM. */
static int
rename_deployment(struct ctx *c, size_t pi, size_t opi, size_t g)
{
	const struct desired_deployment *dd = desired_dep(c, pi, g);
	const struct observed_deployment *old;
	size_t n_old = old_deps(c, opi, dd, &old);
	int rc;

	if (n_old == 0)
		return 1;
	if (c->matched[g] || n_old >= 2)
		return deployment_rename_conflict(c, pi, opi, dd);
	/* Found under its old reference: renamed (or, with drift: report,
	 * reported), never created anew; its env, domains and keys are those
	 * of the live deployment (random schedules, seed 83: they were left
	 * out until the next run). */
	if ((rc = compare(c, pi, opi, dd, old)) != 0)
		return rc;
	return plan_extras_deployment(c->extras, c->ds->projects[pi].name,
	    c->os->projects[opi].id, dd, old, PLAN_NO_PARENT);
}

static bool
sets_default(const struct plan_action *a)
{
	for (size_t i = 0; i < a->n_changes; i++)
		if (a->changes[i].field == PLAN_FIELD_DEFAULT && a->changes[i].to_num == 1)
			return true;
	return false;
}

/* The live default deployment of `type` in project opi other than self. */
static const struct observed_deployment *
live_default(const struct ctx *c, size_t opi, enum dep_type type,
    const struct observed_deployment *self)
{
	for (size_t k = c->proj_start[opi]; k < c->proj_start[opi + 1]; k++) {
		const struct observed_deployment *od = &c->os->deployments[c->by_proj[k]];

		if (od->is_default && od->type == type && od != self)
			return od;
	}
	return NULL;
}

/* The update (among cands from `from` on) that unsets old's default flag:
 * an update of old gains the change, or a new one is made. Its index, or
 * SIZE_MAX on ENOMEM. */
static size_t
unset_default(struct ctx *c, size_t pi, size_t opi, size_t from,
    const struct observed_deployment *old)
{
	struct plan_change ch = { .field = PLAN_FIELD_DEFAULT, .from_num = 1, .to_num = 0 };
	struct cand *x;

	for (size_t j = from; j < c->n_cands; j++) {
		struct plan_action *a = &c->cands[j].a;
		struct plan_change *nc;

		if (c->cands[j].have != old || a->op == PLAN_CREATE || a->op == PLAN_DELETE)
			continue;
		for (size_t i = 0; i < a->n_changes; i++)
			if (a->changes[i].field == PLAN_FIELD_DEFAULT)
				return j;
		if ((nc = realloc(a->changes, (a->n_changes + 1) * sizeof(*nc))) == NULL)
			return SIZE_MAX;
		a->changes = nc;
		/* Keep plan_field order: default goes before the later fields. */
		{
			size_t at = a->n_changes;

			while (at > 0 && nc[at - 1].field > PLAN_FIELD_DEFAULT)
				at--;
			memmove(&nc[at + 1], &nc[at], (a->n_changes - at) * sizeof(*nc));
			nc[at] = ch;
		}
		a->n_changes++;
		return j;
	}
	x = add_update(c, PLAN_DEPLOYMENT, c->ds->projects[pi].name,
	    c->os->projects[opi].id, &ch, 1);
	if (x == NULL)
		return SIZE_MAX;
	x->a.reference = old->reference;
	x->a.deployment_name = old->name;
	x->have = old;
	return c->n_cands - 1;
}

/* SPEC section 8's order: a deployment made the default (by an update, or
 * created as the default) waits for the update that unsets the live
 * default of its type in the project. Cands of this project start at
 * `from`. With `drift: report` nothing live is changed: a create as the
 * default then meets the API's refusal (docs/reconcile.md). */
static int
default_swaps(struct ctx *c, size_t pi, size_t opi, size_t from)
{
	size_t end = c->n_cands;

	if (c->set->drift != DRIFT_CORRECT)
		return 0;
	for (size_t i = from; i < end; i++) {
		const struct cand *x = &c->cands[i];
		const struct observed_deployment *self = NULL, *old;
		enum dep_type type;
		size_t y;

		if (x->a.kind != PLAN_DEPLOYMENT || x->a.parent != PLAN_NO_PARENT)
			continue;
		if (x->a.op == PLAN_CREATE && x->a.want != NULL &&
		    x->a.want->is_default == TRI_TRUE) {
			type = x->a.want->type;
		} else if ((x->a.op == PLAN_UPDATE || x->a.op == PLAN_RENAME) &&
		    x->have != NULL && sets_default(&x->a)) {
			type = x->have->type;
			self = x->have;
		} else {
			continue;
		}
		old = live_default(c, opi, type, self);
		if (old == NULL || c->dep_held[old - c->os->deployments])
			continue;
		if ((y = unset_default(c, pi, opi, from, old)) == SIZE_MAX)
			return -ENOMEM;
		c->cands[i].a.parent = c->cands[y].orig;
	}
	return 0;
}

/* Rule 2: a declared project that does not exist, with its deployments. */
static int
create_all(struct ctx *c, size_t pi)
{
	const struct desired_project *dp = &c->ds->projects[pi];
	struct cand *x = add_cand(c, PLAN_CREATE, PLAN_PROJECT, REASON_DECLARED, dp->name, 0);
	size_t parent, at;
	int rc;

	if (x == NULL)
		return -ENOMEM;
	x->a.want_project = dp;
	parent = x->orig;
	if ((rc = after_create_project(c, parent, dp)) != 0 ||
	    (rc = plan_extras_project(c->extras, dp, NULL, parent)) != 0)
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
		/* x may move as the next calls add candidates */
		at = x->orig;
		if ((rc = after_create_deployment(c, at, dp->name, 0, dd)) != 0 ||
		    (rc = plan_extras_deployment(c->extras, dp->name, 0, dd, NULL,
		    at)) != 0)
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
	size_t from = c->n_cands, at;
	int rc;

	if ((rc = update_project(c, pi, opi)) != 0)
		return rc;
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
			/* An earlier reference: decided with its deployment. */
			if (claimed_reference(c, pi, od->reference))
				continue;
			if (prune_deployment(c, od) &&
			    (rc = delete_deployment(c, op, dp, NULL, od, REASON_PRUNE)))
				return rc;
			continue;
		}
		dd = desired_dep(c, pi, g);
		c->matched[g] = true;
		if (dd->absent)
			rc = delete_deployment(c, op, dp, dd, od, REASON_ABSENT);
		else if (old_deps(c, opi, dd, NULL) > 0)
			rc = 0;   /* old and new both live: rename_deployment */
		else if ((rc = compare(c, pi, opi, dd, od)) == 0)
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

		if (dd->absent || desired_dep_at(c, pi, dd->reference) != g)
			continue;
		if (dd->n_renamed_from > 0 && (rc = rename_deployment(c, pi, opi, g)) != 1) {
			if (rc < 0)
				return rc;
			continue;
		}
		if (c->matched[g])
			continue;
		if ((x = add_cand(c, PLAN_CREATE, PLAN_DEPLOYMENT, REASON_DECLARED,
		    dp->name, op->id)) == NULL)
			return -ENOMEM;
		x->a.reference = dd->reference;
		x->a.want = dd;
		at = x->orig;
		if ((rc = after_create_deployment(c, at, dp->name, op->id, dd)) != 0 ||
		    (rc = plan_extras_deployment(c->extras, dp->name, op->id, dd,
		    NULL, at)) != 0)
			return rc;
	}
	return default_swaps(c, pi, opi, from);
}

static int
diff_declared(struct ctx *c)
{
	for (size_t pi = 0; pi < c->ds->n_projects; pi++) {
		const struct desired_project *dp = &c->ds->projects[pi];
		size_t first, n;
		int rc;

		/* A repeated name (never in a valid desired state): the first wins. */
		n = pindex_range_str(&c->des_name, dp->name, &first);
		if (n == 0 || pindex_pos(&c->des_name, first) != pi)
			continue;
		if (!dp->absent)
			c->any_present = true;
		n = pindex_range_str(&c->obs_name, nz(dp->name), &first);
		if (!dp->absent && dp->n_renamed_from > 0 &&
		    (rc = rename_project(c, pi, n, first)) != 1) {
			if (rc < 0)
				return rc;
			continue;
		}
		if (n >= 2)
			rc = add_conflict(c, dp->name, first, n);
		else if (n == 0)
			rc = dp->absent ? 0 : create_all(c, pi);
		else if (dp->absent)
			rc = delete_project(c, pindex_pos(&c->obs_name, first), dp, REASON_ABSENT);
		else
			rc = diff_project(c, pi, pindex_pos(&c->obs_name, first));
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

		if (pindex_range_str(&c->des_name, nz(op->name), &first) > 0 ||
		    claimed_name(c, op->name))
			continue;
		if (prune_project(c, op) && (rc = delete_project(c, i, NULL, REASON_PRUNE)))
			return rc;
	}
	return 0;
}

/* ---- order and guards -------------------------------------------------- */

/* Project creates, project updates, deployment creates, deployment
 * updates, deployment deletes, project deletes (a child that waits for a
 * later action is then moved after it: parents_first). */
static int
group_of(const struct plan_action *a)
{
	/* Env, domains and deploy keys (their deletes too) come after the
	 * creates and updates they may wait for and before the deletes that
	 * destroy data, as the executor runs them. */
	if (a->kind != PLAN_PROJECT && a->kind != PLAN_DEPLOYMENT)
		return 4;
	if (a->op == PLAN_UPDATE || a->op == PLAN_RENAME)
		return a->kind == PLAN_PROJECT ? 1 : 3;
	if (a->op == PLAN_CREATE)
		return a->kind == PLAN_PROJECT ? 0 : 2;
	return a->kind == PLAN_DEPLOYMENT ? 5 : 6;
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
	static const char *const order[] = { "name", "slug", "reference", "type",
		"region", "class", "default", "dashboard_edit_confirmation",
		"send_logs_to_client", "expires_at" };
	const int n = (int)(CP_NELEM(order));

	for (int i = 0; i < n; i++)
		if (strcmp(f, order[i]) == 0)
			return i;
	return n;
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
		strcut_printf(b->message, sizeof(b->message),
		    "deployment \"%s/%s\" (%s) is protected by its project \"%s\": %s",
		    nz(x->a.project), nz(x->a.reference), nz(x->a.deployment_name),
		    nz(x->a.project), fix);
	else if (x->a.kind == PLAN_DEPLOYMENT)
		strcut_printf(b->message, sizeof(b->message),
		    "deployment \"%s/%s\" (%s) is protected: %s",
		    nz(x->a.project), nz(x->a.reference), nz(x->a.deployment_name), fix);
	else if (x->prot == PROT_HOLDS)
		strcut_printf(b->message, sizeof(b->message),
		    "project \"%s\" (%lld) holds protected deployment \"%s/%s\" (%s): %s",
		    nz(x->a.project), (long long)x->a.project_id, nz(x->a.project),
		    nz(x->holds->reference), nz(x->holds->name), fix);
	else
		strcut_printf(b->message, sizeof(b->message),
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

/* After sorting, an action that waits for one not yet listed (a create or
 * an update made the default waits for the update that unsets the old
 * one; an update after a create waits for it) moves to just after it, so
 * every parent comes before its children and the list reads in the order
 * things happen. */
struct reorder {
	const struct cand *in;
	struct cand *out;
	size_t k;
	size_t *pos;        /* orig -> sorted index */
	size_t *first;      /* per sorted index: the children waiting for it */
	size_t *last;
	size_t *next;
	bool *done;
};

static void
emit(struct reorder *r, size_t i)
{
	r->out[r->k++] = r->in[i];
	r->done[i] = true;
	for (size_t ch = r->first[i]; ch != SIZE_MAX; ch = r->next[ch])
		emit(r, ch);
}

static int
parents_first(struct ctx *c)
{
	size_t n = c->n_cands, i;
	struct reorder r = { .in = c->cands };
	bool any = false;
	int rc = -ENOMEM;

	for (i = 0; i < n && !any; i++)
		any = c->cands[i].a.parent != PLAN_NO_PARENT;
	if (!any)
		return 0;
	r.pos = calloc(n + 1, sizeof(*r.pos));
	r.first = calloc(n + 1, sizeof(*r.first));
	r.last = calloc(n + 1, sizeof(*r.last));
	r.next = calloc(n + 1, sizeof(*r.next));
	r.done = calloc(n + 1, sizeof(*r.done));
	r.out = calloc(n + 1, sizeof(*r.out));
	if (r.pos && r.first && r.last && r.next && r.done && r.out) {
		for (i = 0; i < n; i++) {
			r.pos[c->cands[i].orig] = i;
			r.first[i] = r.last[i] = r.next[i] = SIZE_MAX;
		}
		for (i = 0; i < n; i++) {
			size_t p = c->cands[i].a.parent;

			if (p == PLAN_NO_PARENT || r.done[r.pos[p]]) {
				emit(&r, i);
				continue;
			}
			p = r.pos[p];   /* waits: listed right after its parent */
			if (r.first[p] == SIZE_MAX)
				r.first[p] = i;
			else
				r.next[r.last[p]] = i;
			r.last[p] = i;
		}
		/* Every parent is a cand, so everything was listed; if not,
		 * the sorted order stays. */
		if (r.k == n)
			memcpy(c->cands, r.out, n * sizeof(*r.out));
		rc = 0;
	}
	free(r.pos);
	free(r.first);
	free(r.last);
	free(r.next);
	free(r.done);
	free(r.out);
	return rc;
}

static int
cmp_domain_cand(const void *pa, const void *pb)
{
	const struct cand *x = *(const struct cand *const *)pa;
	const struct cand *y = *(const struct cand *const *)pb;

	return strcmp(nz(x->a.domain), nz(y->a.domain));
}

static int
cmp_dom_name(const void *pa, const void *pb)
{
	const struct observed_domain *x = *(const struct observed_domain *const *)pa;
	const struct observed_domain *y = *(const struct observed_domain *const *)pb;

	return strcmp(nz(x->domain), nz(y->domain));
}

static int
cmp_dep_delete(const void *pa, const void *pb)
{
	const struct cand *x = *(const struct cand *const *)pa;
	const struct cand *y = *(const struct cand *const *)pb;

	return strcmp(nz(x->a.deployment_name), nz(y->a.deployment_name));
}

static int
cmp_project_delete(const void *pa, const void *pb)
{
	const struct cand *x = *(const struct cand *const *)pa;
	const struct cand *y = *(const struct cand *const *)pb;

	return (x->a.project_id > y->a.project_id) - (x->a.project_id < y->a.project_id);
}

/* The deletes of deployments (by name) and of projects (by id) in a plan:
 * what may free a domain. */
struct holders {
	struct cand **deps, **projects;
	size_t n_deps, n_projects;
};

/* The delete that frees `domain`: its deployment's, else its project's;
 * NULL when it is not held by anything deleted. */
static struct cand *
holder_delete(const struct observed_domain **doms, size_t n_doms,
    const struct holders *h, const char *domain)
{
	struct observed_domain probe = { .domain = (char *)domain };
	const struct observed_domain *pk = &probe, *const *live;
	struct cand key, *kp = &key, **hit;

	live = bsearch(&pk, doms, n_doms, sizeof(*doms), cmp_dom_name);
	if (live == NULL || (*live)->deployment == NULL)
		return NULL;
	key.a.deployment_name = (*live)->deployment;
	hit = h->n_deps == 0 ? NULL :
	    bsearch(&kp, h->deps, h->n_deps, sizeof(*h->deps), cmp_dep_delete);
	if (hit == NULL && h->n_projects > 0 && (*live)->project_id != 0) {
		key.a.project_id = (*live)->project_id;
		hit = bsearch(&kp, h->projects, h->n_projects,
		    sizeof(*h->projects), cmp_project_delete);
	}
	return hit ? *hit : NULL;
}

/*
 * x takes a name that is one per team (a domain, a slug) from what delete
 * d frees: x waits for d. When x already waits for a create (its new
 * deployment or project), d waits for that create instead and x for d: the
 * executor looks past d for x's new name or id, and runs d in its own
 * phase all the same (execute.c). A d that already waits for another
 * create frees its names for that create's resource only: the others are
 * refused once and done by the next apply (docs/reconcile.md).
 */
static void
wait_for_delete(struct cand *x, struct cand *d)
{
	if (x->a.parent == d->orig)
		return;
	if (x->a.parent != PLAN_NO_PARENT) {
		/* Two domains moved together wait for the same create. */
		if (d->a.parent != PLAN_NO_PARENT && d->a.parent != x->a.parent)
			return;
		d->a.parent = x->a.parent;
	}
	x->a.parent = d->orig;
}

/* A custom domain is one name in the whole team: one moved from a
 * deployment to another in one edit is created only once its old entry is
 * deleted (the API refuses it before). The create waits for that delete;
 * when it already waits for its new deployment's create, the delete waits
 * for that create instead (so the domain stays where it is if its new home
 * cannot be made) and the executor looks past the delete for the
 * deployment's name. A domain whose deployment (or project) is deleted in
 * this plan is freed by that delete, which runs in a later phase: the
 * create waits for it (and runs in that phase), as wait_for_delete says. */
static int
domain_moves(struct ctx *c)
{
	struct cand **del = NULL;
	struct holders h = { 0 };
	const struct observed_domain **doms = NULL;
	size_t n = 0, n_doms = c->os->n_domains;
	int rc = -ENOMEM;

	for (size_t i = 0; i < c->n_cands; i++) {
		const struct plan_action *a = &c->cands[i].a;

		n += a->kind == PLAN_DOMAIN && a->op == PLAN_DELETE;
		h.n_deps += a->kind == PLAN_DEPLOYMENT && a->op == PLAN_DELETE &&
		    a->deployment_name != NULL;
		h.n_projects += a->kind == PLAN_PROJECT && a->op == PLAN_DELETE &&
		    a->project_id != 0;
	}
	if ((n > 0 && (del = malloc(n * sizeof(*del))) == NULL) ||
	    (h.n_deps > 0 && (h.deps = malloc(h.n_deps * sizeof(*h.deps))) == NULL) ||
	    (h.n_projects > 0 &&
	    (h.projects = malloc(h.n_projects * sizeof(*h.projects))) == NULL) ||
	    (h.n_deps + h.n_projects > 0 && n_doms > 0 &&
	    (doms = malloc(n_doms * sizeof(*doms))) == NULL))
		goto out;
	n = h.n_deps = h.n_projects = 0;
	for (size_t i = 0; i < c->n_cands; i++) {
		struct cand *x = &c->cands[i];

		if (x->a.kind == PLAN_DOMAIN && x->a.op == PLAN_DELETE)
			del[n++] = x;
		else if (x->a.kind == PLAN_DEPLOYMENT && x->a.op == PLAN_DELETE &&
		    x->a.deployment_name != NULL)
			h.deps[h.n_deps++] = x;
		else if (x->a.kind == PLAN_PROJECT && x->a.op == PLAN_DELETE &&
		    x->a.project_id != 0)
			h.projects[h.n_projects++] = x;
	}
	if (doms != NULL) {
		for (size_t i = 0; i < n_doms; i++)
			doms[i] = &c->os->domains[i];
		qsort(doms, n_doms, sizeof(*doms), cmp_dom_name);
		if (h.n_deps > 1)
			qsort(h.deps, h.n_deps, sizeof(*h.deps), cmp_dep_delete);
		if (h.n_projects > 1)
			qsort(h.projects, h.n_projects, sizeof(*h.projects),
			    cmp_project_delete);
	}
	if (n > 1)
		qsort(del, n, sizeof(*del), cmp_domain_cand);
	for (size_t i = 0; i < c->n_cands; i++) {
		struct cand *x = &c->cands[i], *key = x, **hit = NULL, *d;

		if (x->a.kind != PLAN_DOMAIN || x->a.op != PLAN_CREATE)
			continue;
		if (n > 0)
			hit = bsearch(&key, del, n, sizeof(*del), cmp_domain_cand);
		if (hit != NULL)
			d = *hit;
		else if (doms == NULL ||
		    (d = holder_delete(doms, n_doms, &h, x->a.domain)) == NULL)
			continue;   /* not held by anything deleted here */
		/* The same deployment's delete is already the parent (a new
		 * destination); a domain is listed once per team, so there
		 * is at most one other. */
		wait_for_delete(x, d);
	}
	rc = 0;
out:
	free(del);
	free(h.deps);
	free(h.projects);
	free(doms);
	return rc;
}

static const char *
slug_to(const struct plan_action *a)
{
	if (a->kind != PLAN_PROJECT ||
	    (a->op != PLAN_UPDATE && a->op != PLAN_RENAME))
		return NULL;
	for (size_t i = 0; i < a->n_changes; i++)
		if (a->changes[i].field == PLAN_FIELD_SLUG)
			return a->changes[i].to_str;
	return NULL;
}

struct slug_holder {
	const char *slug;
	struct cand *del;
};

static int
cmp_slug_holder(const void *pa, const void *pb)
{
	return strcmp(((const struct slug_holder *)pa)->slug,
	    ((const struct slug_holder *)pb)->slug);
}

/* A slug is one per team too: a project given the slug of a live project
 * this plan deletes (say one of ours a person renamed away, which prune
 * deletes; random schedules, seed 43041) is given it after that delete. */
static int
slug_moves(struct ctx *c)
{
	struct slug_holder *h, key, *hit;
	size_t n = 0, at;

	for (size_t i = 0; i < c->n_cands; i++)
		n += c->cands[i].a.kind == PLAN_PROJECT &&
		    c->cands[i].a.op == PLAN_DELETE && c->cands[i].a.project_id != 0;
	if (n == 0)
		return 0;
	if ((h = malloc(n * sizeof(*h))) == NULL)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < c->n_cands; i++) {
		struct cand *x = &c->cands[i];

		if (x->a.kind != PLAN_PROJECT || x->a.op != PLAN_DELETE ||
		    x->a.project_id == 0 ||
		    (at = pindex_find(&c->obs_id, NULL, x->a.project_id)) == SIZE_MAX ||
		    c->os->projects[at].slug == NULL)
			continue;
		h[n].slug = c->os->projects[at].slug;
		h[n++].del = x;
	}
	if (n > 1)
		qsort(h, n, sizeof(*h), cmp_slug_holder);
	for (size_t i = 0; n > 0 && i < c->n_cands; i++) {
		struct cand *x = &c->cands[i];

		if ((key.slug = slug_to(&x->a)) == NULL ||
		    (hit = bsearch(&key, h, n, sizeof(*h), cmp_slug_holder)) == NULL ||
		    hit->del->a.project_id == x->a.project_id)
			continue;
		wait_for_delete(x, hit->del);
	}
	free(h);
	return 0;
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
	if (parents_first(c) != 0) {
		free(pos_of);
		free(final_of);
		return -ENOMEM;
	}
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
		strcut_printf(b->message, sizeof(b->message),
		    "nothing is declared and prune would delete %zu resource%s; "
		    "set allow_empty to allow it", n_prune, n_prune == 1 ? "" : "s");
		hold = true;
	} else if (n_del > c->set->max_deletes) {
		b = add_blocked(out, GUARD_MAX_DELETES);
		strcut_printf(b->message, sizeof(b->message),
		    "%zu delete%s planned, at most %u allowed", n_del,
		    n_del == 1 ? "" : "s", c->set->max_deletes);
		hold = true;
	}
	if (hold)
		out->n_held += n_del;

	/* A parent always sorts before its children: an action whose parent
	 * was held is held with it (a domain created again after its delete). */
	for (i = 0; i < c->n_cands; i++) {
		struct cand *x = &c->cands[i];
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
		x->a.changes = NULL;    /* the plan's now */
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
	    (rc = diff_undeclared(&c)) == 0 &&
	    (rc = domain_moves(&c)) == 0 &&
	    (rc = slug_moves(&c)) == 0)
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
	return nametab_name(prune_names, CP_NELEM(prune_names), (unsigned)m);
}

int
prune_mode_parse(const char *s, enum prune_mode *out)
{
	int i = nametab_find(prune_names, CP_NELEM(prune_names), s);

	if (i < 0)
		return -EINVAL;
	*out = (enum prune_mode)i;
	return 0;
}

static const char *const drift_names[] = { "correct", "report" };

const char *
drift_mode_name(enum drift_mode m)
{
	return nametab_name(drift_names, CP_NELEM(drift_names), (unsigned)m);
}

int
drift_mode_parse(const char *s, enum drift_mode *out)
{
	int i = nametab_find(drift_names, CP_NELEM(drift_names), s);

	if (i < 0)
		return -EINVAL;
	*out = (enum drift_mode)i;
	return 0;
}
