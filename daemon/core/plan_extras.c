/* plan_extras.c: the diff of SPEC section 9 (docs/reconcile.md, "Env,
 * domains and deploy keys"). A declared env type is an exact set of names,
 * a declared domain list an exact set of domains, a declared key list the
 * keys this tool creates once and keeps; what is not declared is left
 * alone. Pure: no I/O, no clock, no logging, never a value in a message. */
#include "plan_extras.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdefs.h"
#include "keypath.h"
#include "nametab.h"
#include "strcut.h"

struct plan_extras {
	const struct observed_state *os;
	const struct ledger *led;
	const struct plan_settings *set;
	struct plan_extras_emit emit;

	/* Sorted views of the inputs, for binary searches. */
	const struct observed_env_var **env;       /* (project, type, name) */
	const struct observed_domain **dom;        /* (deployment, domain) */
	const struct observed_deploy_key **key;    /* (deployment, name) */
	const struct observed_listed **listed;     /* (kind, project, deployment) */
	const struct ledger_deploy_key **lkey;     /* (deployment, name) */

	struct arena arena;                        /* env changes, pending */
	struct plan_blocked *blocked;
	size_t n_blocked, cap_blocked;
	struct plan_pending_domain *pending;
	size_t n_pending, cap_pending;
	size_t n_env_vars, n_domains, n_keys;      /* managed */
};

static const char *
nz(const char *s)
{
	return s ? s : "";
}

static const char *const env_op_names[] = { "set", "changed", "remove" };

const char *
plan_env_op_name(enum plan_env_op op)
{
	return nametab_name(env_op_names, CP_NELEM(env_op_names), (unsigned)op);
}

const char *
plan_extras_name(const struct plan_action *a)
{
	if (a->kind == PLAN_DOMAIN)
		return a->domain;
	if (a->kind == PLAN_DEPLOY_KEY)
		return a->key_name;
	return NULL;
}

/* ---- sorted views ----------------------------------------------------- */

static int
cmp_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

static int
cmp_env(const void *pa, const void *pb)
{
	const struct observed_env_var *a = *(const struct observed_env_var *const *)pa;
	const struct observed_env_var *b = *(const struct observed_env_var *const *)pb;
	int c;

	if ((c = cmp_i64(a->project_id, b->project_id)) != 0)
		return c;
	if ((c = (int)a->type - (int)b->type) != 0)
		return c;
	return strcmp(nz(a->name), nz(b->name));
}

static int
cmp_dom(const void *pa, const void *pb)
{
	const struct observed_domain *a = *(const struct observed_domain *const *)pa;
	const struct observed_domain *b = *(const struct observed_domain *const *)pb;
	int c = strcmp(nz(a->deployment), nz(b->deployment));

	return c ? c : strcmp(nz(a->domain), nz(b->domain));
}

static int
cmp_key(const void *pa, const void *pb)
{
	const struct observed_deploy_key *a = *(const struct observed_deploy_key *const *)pa;
	const struct observed_deploy_key *b = *(const struct observed_deploy_key *const *)pb;
	int c = strcmp(nz(a->deployment), nz(b->deployment));

	return c ? c : strcmp(nz(a->name), nz(b->name));
}

static int
cmp_listed(const void *pa, const void *pb)
{
	const struct observed_listed *a = *(const struct observed_listed *const *)pa;
	const struct observed_listed *b = *(const struct observed_listed *const *)pb;
	int c;

	if ((c = (int)a->kind - (int)b->kind) != 0)
		return c;
	if ((c = cmp_i64(a->project_id, b->project_id)) != 0)
		return c;
	return strcmp(nz(a->deployment), nz(b->deployment));
}

static int
cmp_lkey(const void *pa, const void *pb)
{
	const struct ledger_deploy_key *a = *(const struct ledger_deploy_key *const *)pa;
	const struct ledger_deploy_key *b = *(const struct ledger_deploy_key *const *)pb;
	int c = strcmp(nz(a->deployment), nz(b->deployment));

	return c ? c : strcmp(nz(a->name), nz(b->name));
}

/* An array of pointers to each of n elements of `size` bytes at base,
 * sorted by cmp; NULL only on ENOMEM. */
static void *
sorted_view(const void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	const void **v = calloc(n + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = (const char *)base + i * size;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp);
	return v;
}

/* First position in v[0..n) whose element is not less than `key` under
 * cmp (a comparator over pointers to elements, as qsort's). */
static size_t
lower_bound(const void *v, size_t n, const void *key,
    int (*cmp)(const void *, const void *))
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp((const char *)v + mid * sizeof(void *), &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
plan_extras_new(const struct observed_state *os, const struct ledger *l,
    const struct plan_settings *set, const struct plan_extras_emit *emit,
    struct plan_extras **out)
{
	struct plan_extras *x = calloc(1, sizeof(*x));
	size_t n_lk = l ? l->n_deploy_keys : 0;

	*out = NULL;
	if (x == NULL)
		return -ENOMEM;
	x->os = os;
	x->led = l;
	x->set = set;
	x->emit = *emit;
	x->env = sorted_view(os->env_vars, os->n_env_vars, sizeof(*os->env_vars), cmp_env);
	x->dom = sorted_view(os->domains, os->n_domains, sizeof(*os->domains), cmp_dom);
	x->key = sorted_view(os->deploy_keys, os->n_deploy_keys,
	    sizeof(*os->deploy_keys), cmp_key);
	x->listed = sorted_view(os->listed, os->n_listed, sizeof(*os->listed), cmp_listed);
	x->lkey = sorted_view(n_lk ? l->deploy_keys : NULL, n_lk,
	    sizeof(struct ledger_deploy_key), cmp_lkey);
	if (!x->env || !x->dom || !x->key || !x->listed || !x->lkey) {
		plan_extras_free(x);
		return -ENOMEM;
	}
	*out = x;
	return 0;
}

void
plan_extras_free(struct plan_extras *x)
{
	if (x == NULL)
		return;
	free(x->env);
	free(x->dom);
	free(x->key);
	free(x->listed);
	free(x->lkey);
	free(x->blocked);
	free(x->pending);
	arena_free(&x->arena);
	free(x);
}

static bool
listed(const struct plan_extras *x, enum observed_listing kind, int64_t project_id,
    const char *deployment)
{
	struct observed_listed want = { project_id, (char *)(uintptr_t)deployment, kind };
	size_t at = lower_bound(x->listed, x->os->n_listed, &want, cmp_listed);

	return at < x->os->n_listed && cmp_listed(&x->listed[at], &(const void *){ &want }) == 0;
}

static bool
ledger_has_key(const struct plan_extras *x, const char *deployment, const char *name)
{
	struct ledger_deploy_key want = { (char *)(uintptr_t)deployment, (char *)(uintptr_t)name };
	size_t n = x->led ? x->led->n_deploy_keys : 0;
	size_t at = lower_bound(x->lkey, n, &want, cmp_lkey);

	return at < n && cmp_lkey(&x->lkey[at], &(const void *){ &want }) == 0;
}

/* ---- output ------------------------------------------------------------ */

static struct plan_blocked *
add_blocked(struct plan_extras *x)
{
	struct plan_blocked *b;

	if (x->n_blocked == x->cap_blocked) {
		size_t ncap = x->cap_blocked ? x->cap_blocked * 2 : 8;
		struct plan_blocked *nb = realloc(x->blocked, ncap * sizeof(*nb));

		if (nb == NULL)
			return NULL;
		x->blocked = nb;
		x->cap_blocked = ncap;
	}
	b = &x->blocked[x->n_blocked++];
	memset(b, 0, sizeof(*b));
	return b;
}

static int
add_pending(struct plan_extras *x, const char *project,
    const struct desired_deployment *dd, const struct observed_deployment *od,
    const struct observed_domain *dom)
{
	struct plan_pending_domain *p;

	if (x->n_pending == x->cap_pending) {
		size_t ncap = x->cap_pending ? x->cap_pending * 2 : 8;
		struct plan_pending_domain *np = realloc(x->pending, ncap * sizeof(*np));

		if (np == NULL)
			return -ENOMEM;
		x->pending = np;
		x->cap_pending = ncap;
	}
	p = &x->pending[x->n_pending++];
	p->project = project;
	p->reference = dd->reference;
	p->deployment_name = od->name;
	p->domain = dom->domain;
	p->destination = dom->destination;
	return 0;
}

static struct plan_action *
emit(struct plan_extras *x, enum plan_op op, enum plan_kind kind,
    enum plan_reason reason, const char *project, int64_t project_id,
    size_t parent, size_t *index)
{
	size_t unused;

	return x->emit.action(x->emit.ctx, op, kind, reason, project, project_id,
	    parent, index ? index : &unused);
}

/* ---- env ----------------------------------------------------------------- */

/* Adds one change; values stay pointers into the desired state. */
static void
put_change(struct plan_env_change *v, size_t *n, enum dep_type t,
    const char *name, const char *value, enum plan_env_op op)
{
	v[*n].type = t;
	v[*n].name = name;
	v[*n].value = op == PLAN_ENV_REMOVE ? NULL : value;
	v[*n].change = op;
	(*n)++;
}

/* The changes of one declared type: a merge of the declared names (sorted
 * by the loader) with the live ones (sorted here), both bytewise. */
static void
diff_type(const struct desired_env *de, enum dep_type t,
    const struct observed_env_var *const *live, size_t n_live,
    struct plan_env_change *v, size_t *n)
{
	size_t i = 0, j = 0;

	while (i < de->n_vars || j < n_live) {
		const struct desired_env_var *d = i < de->n_vars ? &de->vars[i] : NULL;
		const struct observed_env_var *o = j < n_live ? live[j] : NULL;

		if (d != NULL && (o == NULL || strcmp(d->name, nz(o->name)) < 0)) {
			/* An unread value (offline validate only) is not set. */
			if (d->value != NULL)
				put_change(v, n, t, d->name, d->value, PLAN_ENV_SET);
			i++;
			continue;
		}
		if (o == NULL)
			break;          /* never: one of the two is left */
		if (d == NULL || strcmp(d->name, nz(o->name)) > 0) {
			put_change(v, n, t, o->name, NULL, PLAN_ENV_REMOVE);
		} else {
			if (d->value != NULL && strcmp(d->value, nz(o->value)) != 0)
				put_change(v, n, t, d->name, d->value, PLAN_ENV_CHANGED);
			i++;
		}
		/* A name listed twice (never from a consistent listing) counts
		 * once. */
		for (j++; j < n_live && strcmp(nz(live[j]->name), nz(o->name)) == 0; j++)
			;
	}
}

int
plan_extras_project(struct plan_extras *x, const struct desired_project *dp,
    const struct observed_project *op, size_t parent)
{
	const struct desired_env *env = dp->env;
	struct plan_env_change *v;
	struct plan_action *a;
	size_t lo = 0, hi = 0, cap = 0, n = 0;

	if (env == NULL)
		return 0;
	if (op != NULL) {
		struct observed_env_var first = { op->id, NULL, NULL, DEP_DEV };

		/* Never acted on without its listing (SPEC section 5). */
		if (!listed(x, LISTED_ENV, op->id, NULL))
			return 0;
		lo = lower_bound(x->env, x->os->n_env_vars, &first, cmp_env);
		for (hi = lo; hi < x->os->n_env_vars && x->env[hi]->project_id == op->id; hi++)
			;
	}
	for (int t = 0; t < 4; t++) {
		if (!env[t].declared)
			continue;
		cap += env[t].n_vars;
		for (uint32_t k = 0; k < env[t].n_vars; k++)
			x->n_env_vars += env[t].vars[k].value != NULL;
	}
	cap += hi - lo;
	if (cap == 0)
		return 0;
	if ((v = ARENA_ARRAY(&x->arena, struct plan_env_change, cap)) == NULL)
		return -ENOMEM;
	for (int t = 0; t < 4; t++) {
		size_t a0 = lo, a1;

		if (!env[t].declared)
			continue;
		while (a0 < hi && (int)x->env[a0]->type < t)
			a0++;
		for (a1 = a0; a1 < hi && (int)x->env[a1]->type == t; a1++)
			;
		diff_type(&env[t], (enum dep_type)t, x->env + a0, a1 - a0, v, &n);
	}
	if (n == 0)
		return 0;
	if ((a = emit(x, PLAN_UPDATE, PLAN_ENV, REASON_DECLARED, dp->name,
	    op ? op->id : 0, parent, NULL)) == NULL)
		return -ENOMEM;
	a->env = v;
	a->n_env = n;
	return 0;
}

/* ---- domains ------------------------------------------------------------- */

static struct plan_action *
emit_domain(struct plan_extras *x, enum plan_op op, enum plan_reason reason,
    const char *project, int64_t project_id, const struct desired_deployment *dd,
    const struct observed_deployment *od, const char *domain,
    enum desired_destination dest, size_t parent, size_t *index)
{
	struct plan_action *a = emit(x, op, PLAN_DOMAIN, reason, project,
	    project_id, parent, index);

	if (a != NULL) {
		a->reference = dd->reference;
		a->deployment_name = od ? od->name : NULL;
		a->domain = domain;
		a->destination = dest;
	}
	return a;
}

/* The declared domain named `name`, or NULL. Lists are short (at most
 * 100): a scan. */
static const struct desired_domain *
declared_domain(const struct desired_deployment *dd, const char *name)
{
	for (size_t i = 0; i < dd->n_domains; i++)
		if (strcmp(dd->domains[i].domain, name) == 0)
			return &dd->domains[i];
	return NULL;
}

static int
diff_domains(struct plan_extras *x, const char *project, int64_t project_id,
    const struct desired_deployment *dd, const struct observed_deployment *od,
    size_t parent)
{
	size_t lo, hi, del;
	struct observed_domain first = { 0 };

	if (od == NULL) {
		x->n_domains += dd->n_domains;
		for (size_t i = 0; i < dd->n_domains; i++)
			if (emit_domain(x, PLAN_CREATE, REASON_DECLARED, project,
			    project_id, dd, NULL, dd->domains[i].domain,
			    dd->domains[i].destination, parent, NULL) == NULL)
				return -ENOMEM;
		return 0;
	}
	if (!listed(x, LISTED_DOMAINS, 0, od->name))
		return 0;
	x->n_domains += dd->n_domains;
	first.deployment = od->name;
	first.domain = (char *)"";
	lo = lower_bound(x->dom, x->os->n_domains, &first, cmp_dom);
	for (hi = lo; hi < x->os->n_domains &&
	    strcmp(nz(x->dom[hi]->deployment), od->name) == 0; hi++)
		;
	/* Live ones: kept, pending, replaced or deleted. */
	for (size_t k = lo; k < hi; k++) {
		const struct observed_domain *live = x->dom[k];
		const struct desired_domain *want = declared_domain(dd, nz(live->domain));

		if (k > lo && strcmp(nz(live->domain), nz(x->dom[k - 1]->domain)) == 0)
			continue;
		if (want != NULL && want->destination == live->destination) {
			if (live->verification_time == 0 &&
			    add_pending(x, project, dd, od, live) != 0)
				return -ENOMEM;
			continue;
		}
		/* Not declared, or declared with another destination: the
		 * domain is one name in the whole team, so the new one waits
		 * for the old one to go. */
		if (emit_domain(x, PLAN_DELETE, REASON_ABSENT, project, project_id,
		    dd, od, live->domain, live->destination, PLAN_NO_PARENT,
		    &del) == NULL)
			return -ENOMEM;
		if (want != NULL && emit_domain(x, PLAN_CREATE, REASON_DECLARED,
		    project, project_id, dd, od, want->domain, want->destination,
		    del, NULL) == NULL)
			return -ENOMEM;
	}
	/* Declared ones not live at all. */
	for (size_t i = 0; i < dd->n_domains; i++) {
		struct observed_domain probe = { 0 };
		size_t at;

		probe.deployment = od->name;
		probe.domain = dd->domains[i].domain;
		at = lower_bound(x->dom + lo, hi - lo, &probe, cmp_dom);
		if (at < hi - lo && strcmp(nz(x->dom[lo + at]->domain),
		    dd->domains[i].domain) == 0)
			continue;
		if (emit_domain(x, PLAN_CREATE, REASON_DECLARED, project, project_id,
		    dd, od, dd->domains[i].domain, dd->domains[i].destination,
		    PLAN_NO_PARENT, NULL) == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* ---- deploy keys --------------------------------------------------------- */

static struct plan_action *
emit_key(struct plan_extras *x, enum plan_op op, enum plan_reason reason,
    const char *project, int64_t project_id, const struct desired_deployment *dd,
    const struct observed_deployment *od, const char *name, size_t parent,
    size_t *index)
{
	struct plan_action *a = emit(x, op, PLAN_DEPLOY_KEY, reason, project,
	    project_id, parent, index);

	if (a != NULL) {
		a->reference = dd->reference;
		a->deployment_name = od ? od->name : NULL;
		a->key_name = name;
	}
	return a;
}

static bool
key_declared(const struct desired_deployment *dd, const char *name)
{
	for (size_t i = 0; i < dd->n_deploy_keys; i++)
		if (strcmp(dd->deploy_keys[i], name) == 0)
			return true;
	return false;
}

static int
key_file_blocked(struct plan_extras *x, const char *project,
    const struct desired_deployment *dd, const struct observed_deployment *od,
    const char *name)
{
	struct plan_blocked *b = add_blocked(x);
	char rel[KEYPATH_MAX];

	if (b == NULL)
		return -ENOMEM;
	if (keypath_relative(rel, sizeof(rel), project, dd->reference, name) != 0)
		snprintf(rel, sizeof(rel), "?");
	b->guard = GUARD_KEY_FILE;
	b->project = project;
	b->reference = dd->reference;
	strcut_printf(b->message, sizeof(b->message),
	    "deploy key \"%s\" of \"%s/%s\" (%s) is live but its secret file "
	    "is missing%s: it is never recreated silently (a key's secret is "
	    "shown once); restore the file, or delete the key and apply "
	    "(docs/recovery.md); file: keys_dir/%s", name, project,
	    dd->reference, nz(od->name),
	    ledger_has_key(x, od->name, name) ? "" :
	    " (the key was not created by this tool)", rel);
	return 0;
}

static int
diff_keys(struct plan_extras *x, const char *project, int64_t project_id,
    const struct desired_deployment *dd, const struct observed_deployment *od,
    size_t parent)
{
	struct observed_deploy_key first = { 0 };
	size_t lo, hi;

	if (od == NULL) {
		x->n_keys += dd->n_deploy_keys;
		for (size_t i = 0; i < dd->n_deploy_keys; i++)
			if (emit_key(x, PLAN_CREATE, REASON_DECLARED, project,
			    project_id, dd, NULL, dd->deploy_keys[i], parent,
			    NULL) == NULL)
				return -ENOMEM;
		return 0;
	}
	if (!listed(x, LISTED_DEPLOY_KEYS, 0, od->name))
		return 0;
	x->n_keys += dd->n_deploy_keys;
	first.deployment = od->name;
	first.name = (char *)"";
	lo = lower_bound(x->key, x->os->n_deploy_keys, &first, cmp_key);
	for (hi = lo; hi < x->os->n_deploy_keys &&
	    strcmp(nz(x->key[hi]->deployment), od->name) == 0; hi++)
		;
	for (size_t i = 0; i < dd->n_deploy_keys; i++) {
		const char *name = dd->deploy_keys[i];
		struct observed_deploy_key probe = { 0 };
		size_t at;

		probe.deployment = od->name;
		probe.name = (char *)(uintptr_t)name;
		at = lo + lower_bound(x->key + lo, hi - lo, &probe, cmp_key);
		if (at < hi && strcmp(nz(x->key[at]->name), name) == 0) {
			size_t del;

			if (x->key[at]->secret_file)
				continue;
			/* Made by a create of ours whose answer (and secret)
			 * was lost (an open intent says so, SPEC section 11):
			 * nobody holds it, so it is replaced. Any other key
			 * without its file is only reported. */
			if (!x->key[at]->lost_secret) {
				if (key_file_blocked(x, project, dd, od, name) != 0)
					return -ENOMEM;
				continue;
			}
			if (emit_key(x, PLAN_DELETE, REASON_DECLARED, project,
			    project_id, dd, od, name, PLAN_NO_PARENT, &del) == NULL ||
			    emit_key(x, PLAN_CREATE, REASON_DECLARED, project,
			    project_id, dd, od, name, del, NULL) == NULL)
				return -ENOMEM;
			continue;
		}
		if (emit_key(x, PLAN_CREATE, REASON_DECLARED, project, project_id,
		    dd, od, name, PLAN_NO_PARENT, NULL) == NULL)
			return -ENOMEM;
	}
	/* Undeclared live keys: only ours, and only when prune says so.
	 * A person's key is never touched, whatever prune says. */
	if (x->set->prune == PRUNE_NONE)
		return 0;
	for (size_t k = lo; k < hi; k++) {
		const struct observed_deploy_key *live = x->key[k];

		if ((k > lo && strcmp(nz(live->name), nz(x->key[k - 1]->name)) == 0) ||
		    key_declared(dd, nz(live->name)) ||
		    !ledger_has_key(x, od->name, nz(live->name)))
			continue;
		if (emit_key(x, PLAN_DELETE, REASON_PRUNE, project, project_id, dd,
		    od, live->name, PLAN_NO_PARENT, NULL) == NULL)
			return -ENOMEM;
	}
	return 0;
}

int
plan_extras_deployment(struct plan_extras *x, const char *project,
    int64_t project_id, const struct desired_deployment *dd,
    const struct observed_deployment *od, size_t parent)
{
	int rc;

	if (dd->absent)
		return 0;
	if (dd->domains_declared &&
	    (rc = diff_domains(x, project, project_id, dd, od, parent)) != 0)
		return rc;
	if (dd->deploy_keys_declared &&
	    (rc = diff_keys(x, project, project_id, dd, od, parent)) != 0)
		return rc;
	return 0;
}

/* ---- the end ------------------------------------------------------------- */

static int
cmp_blocked(const void *pa, const void *pb)
{
	const struct plan_blocked *a = pa, *b = pb;
	int c;

	if ((c = strcmp(nz(a->project), nz(b->project))) != 0)
		return c;
	if ((c = strcmp(nz(a->reference), nz(b->reference))) != 0)
		return c;
	return strcmp(a->message, b->message);
}

static int
cmp_pending(const void *pa, const void *pb)
{
	const struct plan_pending_domain *a = pa, *b = pb;
	int c;

	if ((c = strcmp(nz(a->project), nz(b->project))) != 0)
		return c;
	if ((c = strcmp(nz(a->reference), nz(b->reference))) != 0)
		return c;
	return strcmp(nz(a->domain), nz(b->domain));
}

int
plan_extras_finish(struct plan_extras *x, struct plan *out)
{
	if (x->n_blocked > 0) {
		struct plan_blocked *nb = realloc(out->blocked,
		    (out->n_blocked + x->n_blocked) * sizeof(*nb));

		if (nb == NULL)
			return -ENOMEM;
		out->blocked = nb;
		if (x->n_blocked > 1)
			qsort(x->blocked, x->n_blocked, sizeof(*x->blocked), cmp_blocked);
		memcpy(out->blocked + out->n_blocked, x->blocked,
		    x->n_blocked * sizeof(*nb));
		out->n_blocked += x->n_blocked;
	}
	if (x->n_pending > 0) {
		if (x->n_pending > 1)
			qsort(x->pending, x->n_pending, sizeof(*x->pending), cmp_pending);
		out->pending_domains = arena_memdup(&x->arena, x->pending,
		    x->n_pending * sizeof(*x->pending),
		    _Alignof(struct plan_pending_domain));
		if (out->pending_domains == NULL)
			return -ENOMEM;
		out->n_pending_domains = x->n_pending;
	}
	out->n_managed_env_vars = x->n_env_vars;
	out->n_managed_domains = x->n_domains;
	out->n_managed_deploy_keys = x->n_keys;
	out->arena = x->arena;
	memset(&x->arena, 0, sizeof(x->arena));
	return 0;
}
