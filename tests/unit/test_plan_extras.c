/* test_plan_extras.c: the plan of SPEC section 9 (default environment
 * variables, custom domains, deploy keys), table by table, and how it is
 * printed: each row is a small desired / observed / ledger / settings
 * fixture and the plan it must give. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "execute.h"
#include "keypath.h"
#include "plan.h"
#include "plan_print.h"

/* ---- fixture builders ------------------------------------------------- */

struct fixture {
	struct desired_state ds;
	struct observed_state os;
	struct ledger l;
	struct plan_settings set;
};

static void *
grow(void *arr, size_t n, size_t size)
{
	void *p = realloc(arr, (n + 1) * size);

	assert_non_null(p);
	memset((char *)p + n * size, 0, size);
	return p;
}

static char *
sdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

static char *
ddup(struct fixture *f, const char *s)
{
	char *d = arena_strdup(&f->ds.arena, s);

	assert_non_null(d);
	return d;
}

static void *
dgrow(struct fixture *f, void *arr, size_t n, size_t size)
{
	char *p = arena_calloc(&f->ds.arena, n + 1, size);

	assert_non_null(p);
	if (n > 0)
		memcpy(p, arr, n * size);
	return p;
}

static enum dep_type
type_of(const char *s)
{
	enum dep_type t;

	assert_int_equal(dep_type_parse(s, &t), 0);
	return t;
}

static enum desired_destination
dest_of(const char *s)
{
	if (strcmp(s, "convexSite") == 0)
		return DESIRED_DEST_CONVEX_SITE;
	assert_string_equal(s, "convexCloud");
	return DESIRED_DEST_CONVEX_CLOUD;
}

static void
each_entry(const char *spec, struct fixture *f, void (*fn)(struct fixture *, char **, int))
{
	char *copy, *entry, *save1 = NULL;

	if (spec == NULL)
		return;
	copy = sdup(spec);
	for (entry = strtok_r(copy, ";", &save1); entry; entry = strtok_r(NULL, ";", &save1)) {
		char *tok[24], *save2 = NULL, *t;
		int n = 0;

		for (t = strtok_r(entry, " ", &save2); t && n < 24; t = strtok_r(NULL, " ", &save2))
			tok[n++] = t;
		if (n > 0)
			fn(f, tok, n);
	}
	free(copy);
}

static int
cmp_var(const void *a, const void *b)
{
	return strcmp(((const struct desired_env_var *)a)->name,
	    ((const struct desired_env_var *)b)->name);
}

/*
 * "P name [absent]"; "E type [NAME=value...]" (env of the last P: the type
 * is declared, its names exact); "D ref type [absent]"; "M domain dest"
 * (a domain of the last D; "M -" declares the list empty); "K name" (a key
 * of the last D; "K -" declares the list empty).
 */
static void
desired_entry(struct fixture *f, char **tok, int n)
{
	struct desired_state *ds = &f->ds;
	struct desired_project *p = ds->n_projects ? &ds->projects[ds->n_projects - 1] : NULL;
	struct desired_deployment *d = p && p->n_deployments ?
	    &p->deployments[p->n_deployments - 1] : NULL;

	if (strcmp(tok[0], "P") == 0) {
		ds->projects = grow(ds->projects, ds->n_projects, sizeof(*p));
		p = &ds->projects[ds->n_projects++];
		p->name = ddup(f, tok[1]);
		p->absent = n > 2 && strcmp(tok[2], "absent") == 0;
	} else if (strcmp(tok[0], "E") == 0) {
		struct desired_env *e;

		assert_non_null(p);
		if (p->env == NULL)
			p->env = arena_calloc(&ds->arena, 4, sizeof(*p->env));
		assert_non_null(p->env);
		e = &p->env[type_of(tok[1])];
		e->declared = true;
		e->vars = arena_calloc(&ds->arena, (size_t)n, sizeof(*e->vars));
		assert_non_null(e->vars);
		for (int i = 2; i < n; i++) {
			char *eq = strchr(tok[i], '=');

			assert_non_null(eq);
			*eq = '\0';
			e->vars[e->n_vars].name = ddup(f, tok[i]);
			e->vars[e->n_vars].value = ddup(f, eq + 1);
			e->n_vars++;
		}
		qsort(e->vars, e->n_vars, sizeof(*e->vars), cmp_var);
	} else if (strcmp(tok[0], "D") == 0) {
		assert_non_null(p);
		p->deployments = dgrow(f, p->deployments, p->n_deployments, sizeof(*d));
		d = &p->deployments[p->n_deployments++];
		d->reference = ddup(f, tok[1]);
		d->type = type_of(tok[2]);
		d->is_default = TRI_UNSET;
		d->dashboard_edit_confirmation = TRI_UNSET;
		d->send_logs_to_client = TRI_UNSET;
		d->absent = n > 3 && strcmp(tok[3], "absent") == 0;
		/* "D ref type from=OLD": declared with renamed_from: [OLD]. */
		if (n > 3 && strncmp(tok[3], "from=", 5) == 0) {
			d->renamed_from = dgrow(f, NULL, 0, sizeof(*d->renamed_from));
			d->renamed_from[0] = ddup(f, tok[3] + 5);
			d->n_renamed_from = 1;
		}
	} else if (strcmp(tok[0], "M") == 0) {
		assert_non_null(d);
		d->domains_declared = true;
		if (strcmp(tok[1], "-") == 0)
			return;
		d->domains = dgrow(f, d->domains, d->n_domains, sizeof(*d->domains));
		d->domains[d->n_domains].domain = ddup(f, tok[1]);
		d->domains[d->n_domains].destination = dest_of(tok[2]);
		d->n_domains++;
	} else {
		assert_string_equal(tok[0], "K");
		assert_non_null(d);
		d->deploy_keys_declared = true;
		if (strcmp(tok[1], "-") == 0)
			return;
		d->deploy_keys = dgrow(f, d->deploy_keys, d->n_deploy_keys, sizeof(char *));
		d->deploy_keys[d->n_deploy_keys++] = ddup(f, tok[1]);
	}
}

/*
 * "P id name"; "D name project_id reference type"; "V project_id type
 * NAME=value"; "O deployment domain dest [verified]"; "Y deployment key
 * [nofile|lost]" (lost: no file, and an open create intent of this tool
 * matched it: its secret was lost); "LE project_id", "LD deployment", "LK deployment" (the
 * listings that were made).
 */
static void
observed_entry(struct fixture *f, char **tok, int n)
{
	struct observed_state *os = &f->os;

	if (strcmp(tok[0], "P") == 0) {
		struct observed_project *p;

		os->projects = grow(os->projects, os->n_projects, sizeof(*p));
		p = &os->projects[os->n_projects++];
		p->id = strtoll(tok[1], NULL, 10);
		p->name = strpool_add(&os->strings, tok[2]);
		p->slug = strpool_add(&os->strings, tok[2]);
	} else if (strcmp(tok[0], "D") == 0) {
		struct observed_deployment *d;

		os->deployments = grow(os->deployments, os->n_deployments, sizeof(*d));
		d = &os->deployments[os->n_deployments++];
		d->id = (int64_t)os->n_deployments;
		d->name = strpool_add(&os->strings, tok[1]);
		d->project_id = strtoll(tok[2], NULL, 10);
		d->reference = strpool_add(&os->strings, tok[3]);
		d->type = type_of(tok[4]);
	} else if (strcmp(tok[0], "V") == 0) {
		struct observed_env_var *v;
		char *eq = strchr(tok[3], '=');

		assert_non_null(eq);
		*eq = '\0';
		os->env_vars = grow(os->env_vars, os->n_env_vars, sizeof(*v));
		v = &os->env_vars[os->n_env_vars++];
		v->project_id = strtoll(tok[1], NULL, 10);
		v->type = type_of(tok[2]);
		v->name = sdup(tok[3]);
		v->value = sdup(eq + 1);
	} else if (strcmp(tok[0], "O") == 0) {
		struct observed_domain *d;

		os->domains = grow(os->domains, os->n_domains, sizeof(*d));
		d = &os->domains[os->n_domains++];
		d->deployment = sdup(tok[1]);
		d->domain = sdup(tok[2]);
		d->destination = dest_of(tok[3]);
		/* Its project, as the observation sets it. */
		for (size_t i = 0; i < os->n_deployments; i++)
			if (strcmp(os->deployments[i].name, tok[1]) == 0)
				d->project_id = os->deployments[i].project_id;
		d->verification_time = n > 4 && strcmp(tok[4], "verified") == 0 ? 1700000000000 : 0;
		d->create_time = 1690000000000;
	} else if (strcmp(tok[0], "Y") == 0) {
		struct observed_deploy_key *k;

		os->deploy_keys = grow(os->deploy_keys, os->n_deploy_keys, sizeof(*k));
		k = &os->deploy_keys[os->n_deploy_keys++];
		k->deployment = sdup(tok[1]);
		k->name = sdup(tok[2]);
		k->lost_secret = n > 3 && strcmp(tok[3], "lost") == 0;
		k->secret_file = !(n > 3 && (strcmp(tok[3], "nofile") == 0 ||
		    k->lost_secret));
	} else {
		struct observed_listed *l;

		os->listed = grow(os->listed, os->n_listed, sizeof(*l));
		l = &os->listed[os->n_listed++];
		if (strcmp(tok[0], "LE") == 0) {
			l->kind = LISTED_ENV;
			l->project_id = strtoll(tok[1], NULL, 10);
		} else {
			l->kind = strcmp(tok[0], "LD") == 0 ? LISTED_DOMAINS : LISTED_DEPLOY_KEYS;
			assert_true(strcmp(tok[0], "LD") == 0 || strcmp(tok[0], "LK") == 0);
			l->deployment = sdup(tok[1]);
		}
	}
}

/* "K deployment name": a key this tool created. */
static void
ledger_entry(struct fixture *f, char **tok, int n)
{
	struct ledger *l = &f->l;

	assert_int_equal(n, 3);
	assert_string_equal(tok[0], "K");
	l->deploy_keys = grow(l->deploy_keys, l->n_deploy_keys, sizeof(*l->deploy_keys));
	l->deploy_keys[l->n_deploy_keys].deployment = sdup(tok[1]);
	l->deploy_keys[l->n_deploy_keys].name = sdup(tok[2]);
	l->n_deploy_keys++;
}

static void
settings_entry(struct fixture *f, char **tok, int n)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(tok[i], "prune=owned") == 0)
			f->set.prune = PRUNE_OWNED;
		else if (strcmp(tok[i], "prune=all") == 0)
			f->set.prune = PRUNE_ALL;
		else if (strncmp(tok[i], "max=", 4) == 0)
			f->set.max_deletes = (unsigned)strtoul(tok[i] + 4, NULL, 10);
		else if (strcmp(tok[i], "drift=report") == 0)
			f->set.drift = DRIFT_REPORT;
		else
			fail_msg("bad settings token %s", tok[i]);
	}
}

static void
fixture_build(struct fixture *f, const char *desired, const char *observed,
    const char *ledger, const char *settings)
{
	memset(f, 0, sizeof(*f));
	f->set.max_deletes = 10;
	each_entry(desired, f, desired_entry);
	each_entry(observed, f, observed_entry);
	each_entry(ledger, f, ledger_entry);
	each_entry(settings, f, settings_entry);
}

static void
fixture_free(struct fixture *f)
{
	desired_state_free(&f->ds);
	observed_state_free(&f->os);
	ledger_free(&f->l);
}

#define REVERSE(arr, n) do {                                              \
	for (size_t i_ = 0; i_ < (n) / 2; i_++) {                         \
		__typeof__((arr)[0]) t_ = (arr)[i_];                      \
		(arr)[i_] = (arr)[(n) - 1 - i_];                          \
		(arr)[(n) - 1 - i_] = t_;                                 \
	}                                                                 \
} while (0)

/* Every input list in the opposite order: the plan must not change. */
static void
fixture_reverse(struct fixture *f)
{
	REVERSE(f->ds.projects, f->ds.n_projects);
	for (size_t i = 0; i < f->ds.n_projects; i++) {
		struct desired_project *p = &f->ds.projects[i];

		REVERSE(p->deployments, p->n_deployments);
		for (size_t j = 0; j < p->n_deployments; j++) {
			REVERSE(p->deployments[j].domains, p->deployments[j].n_domains);
			REVERSE(p->deployments[j].deploy_keys, p->deployments[j].n_deploy_keys);
		}
	}
	REVERSE(f->os.projects, f->os.n_projects);
	REVERSE(f->os.deployments, f->os.n_deployments);
	REVERSE(f->os.env_vars, f->os.n_env_vars);
	REVERSE(f->os.domains, f->os.n_domains);
	REVERSE(f->os.deploy_keys, f->os.n_deploy_keys);
	REVERSE(f->os.listed, f->os.n_listed);
	REVERSE(f->l.deploy_keys, f->l.n_deploy_keys);
}

/* ---- rendering -------------------------------------------------------- */

static void
where(const struct plan_action *a, char *s, size_t n)
{
	if (a->parent != PLAN_NO_PARENT)
		snprintf(s, n, "parent=%zu", a->parent);
	else if (a->deployment_name != NULL)
		snprintf(s, n, "on=%s", a->deployment_name);
	else
		snprintf(s, n, "in=%lld", (long long)a->project_id);
}

static void
render_action(const struct plan_action *a, char *s, size_t n)
{
	char w[64];
	size_t len;

	where(a, w, sizeof(w));
	switch (a->kind) {
	case PLAN_PROJECT:
		snprintf(s, n, "%s project %s", a->op == PLAN_CREATE ? "create" : "delete",
		    a->project);
		break;
	case PLAN_DEPLOYMENT:
		snprintf(s, n, "%s deployment %s/%s %s", plan_op_name(a->op),
		    a->project, a->reference, w);
		break;
	case PLAN_ENV:
		assert_int_equal(a->op, PLAN_UPDATE);
		len = (size_t)snprintf(s, n, "env %s %s:", a->project, w);
		for (size_t k = 0; k < a->n_env && len < n; k++)
			len += (size_t)snprintf(s + len, n - len, " %c%s/%s",
			    a->env[k].change == PLAN_ENV_SET ? '+' :
			    a->env[k].change == PLAN_ENV_CHANGED ? '~' : '-',
			    dep_type_name(a->env[k].type), a->env[k].name);
		break;
	case PLAN_DOMAIN:
		snprintf(s, n, "%s domain %s/%s %s %s %s %s", a->op == PLAN_CREATE ?
		    "create" : "delete", a->project, a->reference, a->domain,
		    desired_destination_name(a->destination), w,
		    plan_reason_name(a->reason));
		break;
	default:
		snprintf(s, n, "%s key %s/%s %s %s %s", a->op == PLAN_CREATE ?
		    "create" : "delete", a->project, a->reference, a->key_name, w,
		    plan_reason_name(a->reason));
		break;
	}
}

static char *
render_plan(const struct plan *p)
{
	size_t cap = 1024 * (p->n_actions + p->n_blocked + p->n_pending_domains + 1) + 64;
	size_t len = 0;
	char *out = malloc(cap), line[512];

	assert_non_null(out);
	out[0] = '\0';
	for (size_t i = 0; i < p->n_actions; i++) {
		render_action(&p->actions[i], line, sizeof(line));
		len += (size_t)snprintf(out + len, cap - len, "A %s\n", line);
	}
	for (size_t i = 0; i < p->n_blocked; i++)
		len += (size_t)snprintf(out + len, cap - len, "B %s: %s\n",
		    guard_name(p->blocked[i].guard), p->blocked[i].message);
	for (size_t i = 0; i < p->n_pending_domains; i++)
		len += (size_t)snprintf(out + len, cap - len, "P %s/%s %s\n",
		    p->pending_domains[i].project, p->pending_domains[i].reference,
		    p->pending_domains[i].domain);
	snprintf(out + len, cap - len, "held %zu managed %zu %zu %zu\n", p->n_held,
	    p->n_managed_env_vars, p->n_managed_domains, p->n_managed_deploy_keys);
	return out;
}

/* Structural truths of every plan. */
static void
check_invariants(const struct plan *p)
{
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		if (a->parent != PLAN_NO_PARENT) {
			const struct plan_action *par;

			assert_true(a->parent < i);
			par = &p->actions[a->parent];
			/* A domain after its delete (moved: maybe from another
			 * project); everything else within its project. */
			if (!(a->kind == PLAN_DOMAIN && (par->kind == PLAN_DOMAIN ||
			    par->op == PLAN_DELETE)))
				assert_string_equal(par->project, a->project);
			if (a->kind == PLAN_ENV) {
				assert_int_equal(par->op, PLAN_CREATE);
				assert_int_equal(par->kind, PLAN_PROJECT);
			} else if (a->kind == PLAN_DOMAIN || a->kind == PLAN_DEPLOY_KEY) {
				/* A new deployment's, a domain after its delete,
				 * or a key whose secret was lost after its delete. */
				assert_true((par->op == PLAN_CREATE && par->kind == PLAN_DEPLOYMENT) ||
				    (a->op == PLAN_CREATE && par->op == PLAN_DELETE &&
				    par->kind == PLAN_DOMAIN && strcmp(par->domain, a->domain) == 0) ||
				    (a->kind == PLAN_DOMAIN && a->op == PLAN_CREATE &&
				    par->op == PLAN_DELETE && (par->kind == PLAN_DEPLOYMENT ||
				    par->kind == PLAN_PROJECT)) ||
				    (par->op == PLAN_DELETE && par->kind == PLAN_DEPLOY_KEY &&
				    a->kind == PLAN_DEPLOY_KEY && a->op == PLAN_CREATE &&
				    strcmp(par->key_name, a->key_name) == 0 &&
				    strcmp(par->deployment_name, a->deployment_name) == 0));
				/* A new deployment's name comes from its parent
				 * (a moved domain's delete only waits for it). */
				if (par->kind == PLAN_DEPLOYMENT && par->op == PLAN_CREATE &&
				    a->op == PLAN_CREATE)
					assert_null(a->deployment_name);
			}
		}
		if (a->kind == PLAN_ENV) {
			assert_true(a->n_env > 0);
			for (size_t k = 0; k < a->n_env; k++) {
				assert_true(k == 0 || a->env[k - 1].type < a->env[k].type ||
				    (a->env[k - 1].type == a->env[k].type &&
				    strcmp(a->env[k - 1].name, a->env[k].name) < 0));
				assert_int_equal(a->env[k].value == NULL,
				    a->env[k].change == PLAN_ENV_REMOVE);
			}
		}
		if ((a->kind == PLAN_DOMAIN || a->kind == PLAN_DEPLOY_KEY) &&
		    a->op == PLAN_DELETE)
			assert_non_null(a->deployment_name);
	}
	for (size_t i = 0; i < p->n_blocked; i++)
		assert_true(p->blocked[i].message[0] != '\0');
}

/* ---- the table ------------------------------------------------------- */

struct row {
	const char *name;
	const char *desired;
	const char *observed;
	const char *ledger;
	const char *settings;
	const char *actions[16];
	const char *blocked[4];       /* guard names, in order */
	const char *pending[4];
	size_t held;
	size_t managed[3];            /* env vars, domains, keys */
};

#define SHOP_LIVE "P 12 shop; D happy-otter-1 12 production prod"
#define SHOP_DECL "P shop; D production prod"

static const struct row rows[] = {
	/* ---- env */
	{ .name = "env_of_new_project_waits_for_it",
	  .desired = "P shop; E prod B=2 A=1; E dev C=3",
	  .actions = { "create project shop", "env shop parent=0: +dev/C +prod/A +prod/B" },
	  .managed = { 3, 0, 0 } },
	{ .name = "env_converged",
	  .desired = "P shop; E prod A=1",
	  .observed = "P 12 shop; V 12 prod A=1; LE 12",
	  .managed = { 1, 0, 0 } },
	{ .name = "env_set_change_remove_in_one_action",
	  .desired = "P shop; E prod A=1 B=2; E dev D=4",
	  .observed = "P 12 shop; V 12 prod A=0; V 12 prod C=9; V 12 dev D=4; V 12 dev E=5; LE 12",
	  .actions = { "env shop in=12: -dev/E ~prod/A +prod/B -prod/C" },
	  .managed = { 3, 0, 0 } },
	{ .name = "env_undeclared_type_left_alone",
	  .desired = "P shop; E dev X=1",
	  .observed = "P 12 shop; V 12 prod A=0; V 12 preview B=1; V 12 dev X=1; LE 12",
	  .managed = { 1, 0, 0 } },
	{ .name = "env_declared_empty_type_is_exact",
	  .desired = "P shop; E custom",
	  .observed = "P 12 shop; V 12 custom A=0; V 12 custom B=1; V 12 prod C=1; LE 12",
	  .actions = { "env shop in=12: -custom/A -custom/B" } },
	{ .name = "env_not_listed_no_action",
	  .desired = "P shop; E prod A=1",
	  .observed = "P 12 shop; V 12 prod A=0" },
	{ .name = "env_other_project_listing_does_not_count",
	  .desired = "P shop; E prod A=1",
	  .observed = "P 12 shop; P 13 blog; LE 13" },
	{ .name = "env_no_env_declared_ignores_live_vars",
	  .desired = SHOP_DECL,
	  .observed = SHOP_LIVE "; V 12 prod A=0; LE 12" },
	{ .name = "env_converges_in_report_mode",
	  .desired = "P shop; E prod A=1",
	  .observed = "P 12 shop; V 12 prod A=0; LE 12",
	  .settings = "drift=report",
	  .actions = { "env shop in=12: ~prod/A" },
	  .managed = { 1, 0, 0 } },
	{ .name = "env_value_case_and_empty_value",
	  .desired = "P shop; E prod A= B=x",
	  .observed = "P 12 shop; V 12 prod A=; V 12 prod B=X; LE 12",
	  .actions = { "env shop in=12: ~prod/B" },
	  .managed = { 2, 0, 0 } },
	{ .name = "env_several_projects_sorted",
	  .desired = "P zeta; E dev A=1; P alpha; E dev A=1; P mid; E dev A=1",
	  .observed = "P 3 zeta; P 1 alpha; P 2 mid; V 2 dev A=1; LE 1; LE 2; LE 3",
	  .actions = { "env alpha in=1: +dev/A", "env zeta in=3: +dev/A" },
	  .managed = { 3, 0, 0 } },
	{ .name = "env_removals_are_not_deletes",
	  .desired = "P shop; E prod",
	  .observed = "P 12 shop; V 12 prod A=0; V 12 prod B=0; LE 12",
	  .settings = "max=0",
	  .actions = { "env shop in=12: -prod/A -prod/B" } },
	{ .name = "env_conflict_does_nothing",
	  .desired = "P shop; E prod A=1",
	  .observed = "P 12 shop; P 13 shop; LE 12; LE 13",
	  .blocked = { "conflict" } },
	{ .name = "env_absent_project_is_deleted_not_diffed",
	  .desired = "P shop absent",
	  .observed = "P 12 shop; V 12 prod A=0; LE 12",
	  .actions = { "delete project shop" } },

	/* ---- domains */
	{ .name = "domains_of_new_deployment_in_new_project",
	  .desired = "P shop; D production prod; M api.shop.example.com convexCloud; M hooks.shop.example.com convexSite",
	  .actions = { "create project shop", "create deployment shop/production parent=0",
	               "create domain shop/production api.shop.example.com convexCloud parent=1 declared",
	               "create domain shop/production hooks.shop.example.com convexSite parent=1 declared" },
	  .managed = { 0, 2, 0 } },
	{ .name = "domains_of_new_deployment_in_live_project",
	  .desired = "P shop; D staging dev; M s.example.com convexCloud",
	  .observed = "P 12 shop",
	  .actions = { "create deployment shop/staging in=12",
	               "create domain shop/staging s.example.com convexCloud parent=0 declared" },
	  .managed = { 0, 1, 0 } },
	{ .name = "domains_exact_create_delete_pending",
	  .desired = SHOP_DECL "; M a.example.com convexCloud; M b.example.com convexCloud; M c.example.com convexSite",
	  .observed = SHOP_LIVE "; O happy-otter-1 b.example.com convexCloud; O happy-otter-1 c.example.com convexSite verified;"
	              " O happy-otter-1 old.example.com convexCloud verified; LD happy-otter-1",
	  .actions = { "create domain shop/production a.example.com convexCloud on=happy-otter-1 declared",
	               "delete domain shop/production old.example.com convexCloud on=happy-otter-1 absent" },
	  .pending = { "shop/production b.example.com" },
	  .managed = { 0, 3, 0 } },
	{ .name = "domains_new_destination_deletes_then_creates",
	  .desired = SHOP_DECL "; M a.example.com convexSite",
	  .observed = SHOP_LIVE "; O happy-otter-1 a.example.com convexCloud verified; LD happy-otter-1",
	  .actions = { "delete domain shop/production a.example.com convexCloud on=happy-otter-1 absent",
	               "create domain shop/production a.example.com convexSite parent=0 declared" },
	  .managed = { 0, 1, 0 } },
	/* A domain is one name per team: moved from a deployment to another
	 * in one edit, its create waits for the delete that frees it (random
	 * schedules, seed 786: the create went first and was refused). */
	{ .name = "domains_moved_between_live_deployments",
	  .desired = "P shop; D production prod; M -; D staging dev; M a.example.com convexCloud",
	  .observed = SHOP_LIVE "; D brave-cat-2 12 staging dev; O happy-otter-1 a.example.com convexCloud verified;"
	              " LD happy-otter-1; LD brave-cat-2",
	  .actions = { "delete domain shop/production a.example.com convexCloud on=happy-otter-1 absent",
	               "create domain shop/staging a.example.com convexCloud parent=0 declared" },
	  .managed = { 0, 1, 0 } },
	{ .name = "domains_moved_between_projects",
	  .desired = "P blog; D main prod; M a.example.com convexSite; P shop; D production prod; M -",
	  .observed = SHOP_LIVE "; P 13 blog; D calm-cat-3 13 main prod; O happy-otter-1 a.example.com convexCloud verified;"
	              " LD happy-otter-1; LD calm-cat-3",
	  .actions = { "delete domain shop/production a.example.com convexCloud on=happy-otter-1 absent",
	               "create domain blog/main a.example.com convexSite parent=0 declared" },
	  .managed = { 0, 1, 0 } },
	/* Moved to a deployment created in this plan: the delete waits for
	 * that create (the domain stays if its new home cannot be made), the
	 * domain's create for the delete. */
	{ .name = "domains_moved_to_new_deployment",
	  .desired = "P shop; D production prod; M -; D staging dev; M a.example.com convexCloud",
	  .observed = SHOP_LIVE "; O happy-otter-1 a.example.com convexCloud verified; LD happy-otter-1",
	  .actions = { "create deployment shop/staging in=12",
	               "delete domain shop/production a.example.com convexCloud parent=0 absent",
	               "create domain shop/staging a.example.com convexCloud parent=1 declared" },
	  .managed = { 0, 1, 0 } },
	/* A deployment renamed in the edit that gives it a domain and a key:
	 * both are made on the live deployment in the same run (random
	 * schedules, seed 83: they waited for the next run). */
	{ .name = "extras_of_a_renamed_deployment",
	  .desired = "P shop; D main prod from=production; M a.example.com convexCloud; K ci",
	  .observed = SHOP_LIVE "; LD happy-otter-1; LK happy-otter-1",
	  .actions = { "rename deployment shop/main on=happy-otter-1",
	               "create domain shop/main a.example.com convexCloud on=happy-otter-1 declared",
	               "create key shop/main ci on=happy-otter-1 declared" },
	  .managed = { 0, 1, 1 } },
	/* Moved off a deployment deleted in the same plan: the create waits
	 * for that delete (random schedules, seed 5477: refused, then done by
	 * the next run). */
	{ .name = "domains_moved_off_a_deleted_deployment",
	  .desired = "P shop; D production prod; M a.example.com convexCloud; D old dev absent",
	  .observed = SHOP_LIVE "; D calm-cat-2 12 old dev; O calm-cat-2 a.example.com convexCloud verified;"
	              " LD happy-otter-1; LD calm-cat-2",
	  .actions = { "delete deployment shop/old on=calm-cat-2",
	               "create domain shop/production a.example.com convexCloud parent=0 declared" },
	  .managed = { 0, 1, 0 } },
	/* The same off a deployment prune deletes (random schedules, known
	 * failure g: refused once, then done by the next run), off one of a
	 * project declared absent, and off one of a project prune deletes:
	 * the create waits for that delete. A held delete holds the create. */
	{ .name = "domains_moved_off_a_pruned_deployment",
	  .desired = "P shop; D production prod; M a.example.com convexCloud",
	  .observed = SHOP_LIVE "; D calm-cat-2 12 old dev; O calm-cat-2 a.example.com convexCloud verified;"
	              " LD happy-otter-1; LD calm-cat-2",
	  .settings = "prune=all",
	  .actions = { "delete deployment shop/old on=calm-cat-2",
	               "create domain shop/production a.example.com convexCloud parent=0 declared" },
	  .managed = { 0, 1, 0 } },
	{ .name = "domains_moved_off_an_absent_project",
	  .desired = "P shop; D production prod; M a.example.com convexCloud; P blog absent",
	  .observed = SHOP_LIVE "; P 13 blog; D calm-cat-3 13 main prod; O calm-cat-3 a.example.com convexCloud verified;"
	              " LD happy-otter-1; LD calm-cat-3",
	  .actions = { "delete project blog",
	               "create domain shop/production a.example.com convexCloud parent=0 declared" },
	  .managed = { 0, 1, 0 } },
	{ .name = "domains_moved_off_a_pruned_project",
	  .desired = "P shop; D production prod; M a.example.com convexCloud",
	  .observed = SHOP_LIVE "; P 13 blog; D calm-cat-3 13 main prod; O calm-cat-3 a.example.com convexCloud verified;"
	              " LD happy-otter-1; LD calm-cat-3",
	  .settings = "prune=all",
	  .actions = { "delete project blog",
	               "create domain shop/production a.example.com convexCloud parent=0 declared" },
	  .managed = { 0, 1, 0 } },
	/* Moved to a new deployment off a pruned one: the domain's create
	 * waits for the delete, the delete for the new deployment's create
	 * (random schedules, seed 41011: refused once before). */
	{ .name = "domains_moved_to_new_deployment_off_a_pruned_one",
	  .desired = "P shop; D production prod; D staging dev; M a.example.com convexCloud",
	  .observed = SHOP_LIVE "; D calm-cat-2 12 old dev; O calm-cat-2 a.example.com convexCloud verified;"
	              " LD calm-cat-2",
	  .settings = "prune=all",
	  .actions = { "create deployment shop/staging in=12",
	               "delete deployment shop/old parent=0",
	               "create domain shop/staging a.example.com convexCloud parent=1 declared" },
	  .managed = { 0, 1, 0 } },
	/* Two domains moved together the same way: both wait for the one
	 * delete (random schedules, seed 83628: the second was refused). */
	{ .name = "two_domains_moved_to_new_deployment_off_a_pruned_one",
	  .desired = "P shop; D production prod; D staging dev; M a.example.com convexCloud; M b.example.com convexSite",
	  .observed = SHOP_LIVE "; D calm-cat-2 12 old dev; O calm-cat-2 a.example.com convexCloud verified;"
	              " O calm-cat-2 b.example.com convexSite; LD calm-cat-2",
	  .settings = "prune=all",
	  .actions = { "create deployment shop/staging in=12",
	               "delete deployment shop/old parent=0",
	               "create domain shop/staging a.example.com convexCloud parent=1 declared",
	               "create domain shop/staging b.example.com convexSite parent=1 declared" },
	  .managed = { 0, 2, 0 } },
	{ .name = "domain_move_held_with_the_pruned_deployment",
	  .desired = "P shop; D production prod; M a.example.com convexCloud",
	  .observed = SHOP_LIVE "; D calm-cat-2 12 old dev; O calm-cat-2 a.example.com convexCloud verified;"
	              " LD happy-otter-1; LD calm-cat-2",
	  .settings = "prune=all max=0",
	  .blocked = { "max_deletes" }, .held = 2,
	  .managed = { 0, 1, 0 } },
	{ .name = "domains_declared_empty_deletes_all",
	  .desired = SHOP_DECL "; M -",
	  .observed = SHOP_LIVE "; O happy-otter-1 a.example.com convexCloud; O happy-otter-1 b.example.com convexSite; LD happy-otter-1",
	  .actions = { "delete domain shop/production a.example.com convexCloud on=happy-otter-1 absent",
	               "delete domain shop/production b.example.com convexSite on=happy-otter-1 absent" } },
	{ .name = "domains_not_declared_left_alone",
	  .desired = SHOP_DECL,
	  .observed = SHOP_LIVE "; O happy-otter-1 a.example.com convexCloud; LD happy-otter-1" },
	{ .name = "domains_not_listed_no_action",
	  .desired = SHOP_DECL "; M a.example.com convexCloud",
	  .observed = SHOP_LIVE "; O happy-otter-1 b.example.com convexCloud; LK happy-otter-1" },
	{ .name = "domains_converge_in_report_mode",
	  .desired = SHOP_DECL "; M a.example.com convexCloud",
	  .observed = SHOP_LIVE "; LD happy-otter-1",
	  .settings = "drift=report",
	  .actions = { "create domain shop/production a.example.com convexCloud on=happy-otter-1 declared" },
	  .managed = { 0, 1, 0 } },
	{ .name = "domain_deletes_count_toward_max_deletes",
	  .desired = SHOP_DECL "; M new.example.com convexCloud",
	  .observed = SHOP_LIVE "; O happy-otter-1 a.example.com convexCloud; O happy-otter-1 b.example.com convexCloud; LD happy-otter-1",
	  .settings = "max=1",
	  .actions = { "create domain shop/production new.example.com convexCloud on=happy-otter-1 declared" },
	  .blocked = { "max_deletes" }, .held = 2,
	  .managed = { 0, 1, 0 } },
	{ .name = "domain_replaced_held_with_its_delete",
	  .desired = SHOP_DECL "; M a.example.com convexSite; E prod A=1",
	  .observed = SHOP_LIVE "; O happy-otter-1 a.example.com convexCloud; LD happy-otter-1; LE 12",
	  .settings = "max=0",
	  .actions = { "env shop in=12: +prod/A" },
	  .blocked = { "max_deletes" }, .held = 2,
	  .managed = { 1, 1, 0 } },
	{ .name = "domains_of_absent_deployment_are_not_diffed",
	  .desired = "P shop; D production prod absent",
	  .observed = SHOP_LIVE "; O happy-otter-1 a.example.com convexCloud; LD happy-otter-1",
	  .actions = { "delete deployment shop/production on=happy-otter-1" } },

	/* ---- deploy keys */
	{ .name = "keys_of_new_deployment",
	  .desired = "P shop; D production prod; K github-actions; K nightly",
	  .actions = { "create project shop", "create deployment shop/production parent=0",
	               "create key shop/production github-actions parent=1 declared",
	               "create key shop/production nightly parent=1 declared" },
	  .managed = { 0, 0, 2 } },
	{ .name = "keys_created_once",
	  .desired = SHOP_DECL "; K ci; K nightly",
	  .observed = SHOP_LIVE "; Y happy-otter-1 ci; LK happy-otter-1",
	  .ledger = "K happy-otter-1 ci",
	  .actions = { "create key shop/production nightly on=happy-otter-1 declared" },
	  .managed = { 0, 0, 2 } },
	{ .name = "key_without_its_file_is_blocked",
	  .desired = SHOP_DECL "; K ci",
	  .observed = SHOP_LIVE "; Y happy-otter-1 ci nofile; LK happy-otter-1",
	  .ledger = "K happy-otter-1 ci",
	  .blocked = { "key_file_missing" },
	  .managed = { 0, 0, 1 } },
	/* SPEC section 11: a create of ours whose answer was lost made it;
	 * nobody holds its secret, so it is deleted and created again (the
	 * create waits for the delete), whatever prune says. */
	{ .name = "key_whose_secret_was_lost_is_replaced",
	  .desired = SHOP_DECL "; K ci; K nightly",
	  .observed = SHOP_LIVE "; Y happy-otter-1 ci; Y happy-otter-1 nightly lost; LK happy-otter-1",
	  .ledger = "K happy-otter-1 ci; K happy-otter-1 nightly",
	  .actions = { "delete key shop/production nightly on=happy-otter-1 declared",
	               "create key shop/production nightly parent=0 declared" },
	  .managed = { 0, 0, 2 } },
	{ .name = "lost_secret_replacement_held_by_max_deletes",
	  .desired = SHOP_DECL "; K ci",
	  .observed = SHOP_LIVE "; Y happy-otter-1 ci lost; LK happy-otter-1",
	  .ledger = "K happy-otter-1 ci",
	  .settings = "max=0",
	  .blocked = { "max_deletes" }, .held = 2,
	  .managed = { 0, 0, 1 } },
	{ .name = "lost_secret_of_undeclared_key_is_not_replaced",
	  .desired = SHOP_DECL "; K -",
	  .observed = SHOP_LIVE "; Y happy-otter-1 ci lost; LK happy-otter-1",
	  .ledger = "K happy-otter-1 ci" },
	{ .name = "persons_key_with_declared_name_is_blocked_not_recreated",
	  .desired = SHOP_DECL "; K ci",
	  .observed = SHOP_LIVE "; Y happy-otter-1 ci nofile; LK happy-otter-1",
	  .settings = "prune=all",
	  .blocked = { "key_file_missing" },
	  .managed = { 0, 0, 1 } },
	{ .name = "own_undeclared_key_pruned_when_owned",
	  .desired = SHOP_DECL "; K -",
	  .observed = SHOP_LIVE "; Y happy-otter-1 old; Y happy-otter-1 persons; LK happy-otter-1",
	  .ledger = "K happy-otter-1 old",
	  .settings = "prune=owned",
	  .actions = { "delete key shop/production old on=happy-otter-1 prune" } },
	{ .name = "persons_key_never_pruned_even_with_all",
	  .desired = SHOP_DECL "; K ci",
	  .observed = SHOP_LIVE "; Y happy-otter-1 ci; Y happy-otter-1 persons; LK happy-otter-1",
	  .ledger = "K happy-otter-1 ci; K other-deployment persons",
	  .settings = "prune=all",
	  .managed = { 0, 0, 1 } },
	{ .name = "own_key_kept_without_prune",
	  .desired = SHOP_DECL "; K -",
	  .observed = SHOP_LIVE "; Y happy-otter-1 old; LK happy-otter-1",
	  .ledger = "K happy-otter-1 old" },
	{ .name = "keys_not_listed_no_action",
	  .desired = SHOP_DECL "; K ci",
	  .observed = SHOP_LIVE "; Y happy-otter-1 old; LD happy-otter-1",
	  .ledger = "K happy-otter-1 old",
	  .settings = "prune=all" },
	{ .name = "keys_not_declared_left_alone",
	  .desired = SHOP_DECL,
	  .observed = SHOP_LIVE "; Y happy-otter-1 old; LK happy-otter-1",
	  .ledger = "K happy-otter-1 old",
	  .settings = "prune=all" },
	{ .name = "key_deletes_count_toward_max_deletes",
	  .desired = SHOP_DECL "; K -; M -",
	  .observed = SHOP_LIVE "; Y happy-otter-1 k1; Y happy-otter-1 k2; O happy-otter-1 a.example.com convexCloud;"
	              " LK happy-otter-1; LD happy-otter-1",
	  .ledger = "K happy-otter-1 k1; K happy-otter-1 k2",
	  .settings = "prune=owned max=2",
	  .blocked = { "max_deletes" }, .held = 3 },

	/* ---- all of it */
	{ .name = "order_within_a_project",
	  .desired = "P shop; E prod A=1; D production prod; M z.example.com convexCloud; K ci; D staging dev; K ci; M a.example.com convexCloud",
	  .observed = "P 12 shop; D happy-otter-1 12 production prod; D calm-cat-2 12 staging dev;"
	              " LE 12; LD happy-otter-1; LK happy-otter-1; LD calm-cat-2; LK calm-cat-2",
	  .actions = { "env shop in=12: +prod/A",
	               "create domain shop/production z.example.com convexCloud on=happy-otter-1 declared",
	               "create key shop/production ci on=happy-otter-1 declared",
	               "create domain shop/staging a.example.com convexCloud on=calm-cat-2 declared",
	               "create key shop/staging ci on=calm-cat-2 declared" },
	  .managed = { 1, 2, 2 } },
};

static void
check_row(const struct row *r, bool reversed)
{
	struct fixture f;
	struct plan p;
	char line[512];
	size_t n_want = 0, n_block = 0, n_pend = 0;

	fixture_build(&f, r->desired, r->observed, r->ledger, r->settings);
	if (reversed)
		fixture_reverse(&f);
	assert_int_equal(plan_build(&f.ds, &f.os, &f.l, &f.set, &p), 0);
	check_invariants(&p);
	while (n_want < 16 && r->actions[n_want])
		n_want++;
	while (n_block < 4 && r->blocked[n_block])
		n_block++;
	while (n_pend < 4 && r->pending[n_pend])
		n_pend++;
	if (p.n_actions != n_want || p.n_blocked != n_block ||
	    p.n_pending_domains != n_pend || p.n_held != r->held ||
	    p.n_managed_env_vars != r->managed[0] ||
	    p.n_managed_domains != r->managed[1] ||
	    p.n_managed_deploy_keys != r->managed[2]) {
		char *got = render_plan(&p);
		fail_msg("%s%s: got\n%s", r->name, reversed ? " (reversed)" : "", got);
	}
	for (size_t i = 0; i < n_want; i++) {
		render_action(&p.actions[i], line, sizeof(line));
		if (strcmp(line, r->actions[i]) != 0) {
			char *got = render_plan(&p);
			fail_msg("%s%s: action %zu is \"%s\", want \"%s\"; plan:\n%s",
			    r->name, reversed ? " (reversed)" : "", i, line,
			    r->actions[i], got);
		}
	}
	for (size_t i = 0; i < n_block; i++)
		assert_string_equal(guard_name(p.blocked[i].guard), r->blocked[i]);
	for (size_t i = 0; i < n_pend; i++) {
		snprintf(line, sizeof(line), "%s/%s %s", p.pending_domains[i].project,
		    p.pending_domains[i].reference, p.pending_domains[i].domain);
		assert_string_equal(line, r->pending[i]);
	}
	plan_free(&p);
	fixture_free(&f);
}

static void
test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		check_row(&rows[i], false);
		check_row(&rows[i], true);
	}
}

/* ---- messages and output ------------------------------------------------ */

static struct plan
build(struct fixture *f, const char *desired, const char *observed,
    const char *ledger, const char *settings)
{
	struct plan p;

	fixture_build(f, desired, observed, ledger, settings);
	assert_int_equal(plan_build(&f->ds, &f->os, &f->l, &f->set, &p), 0);
	return p;
}

/* The blocked message names the key, the deployment, the file and the way
 * out, and says when a person made the key. */
static void
test_key_file_message(void **state)
{
	struct fixture f;
	struct plan p;
	char rel[KEYPATH_MAX];
	(void)state;

	p = build(&f, "P Shop Web; D production prod; K ci.key",
	    "P 12 Shop Web; D happy-otter-1 12 production prod; Y happy-otter-1 ci.key nofile; LK happy-otter-1",
	    "K happy-otter-1 ci.key", NULL);
	assert_int_equal(p.n_blocked, 1);
	assert_string_equal(p.blocked[0].project, "Shop");
	assert_int_equal(keypath_relative(rel, sizeof(rel), "Shop", "production", "ci.key"), 0);
	assert_non_null(strstr(p.blocked[0].message, "\"ci.key\""));
	assert_non_null(strstr(p.blocked[0].message, "happy-otter-1"));
	assert_non_null(strstr(p.blocked[0].message, "docs/recovery.md"));
	assert_non_null(strstr(p.blocked[0].message, rel));
	assert_null(strstr(p.blocked[0].message, "not created by this tool"));
	plan_free(&p);
	fixture_free(&f);

	p = build(&f, SHOP_DECL "; K ci", SHOP_LIVE "; Y happy-otter-1 ci nofile; LK happy-otter-1",
	    NULL, NULL);
	assert_int_equal(p.n_blocked, 1);
	assert_non_null(strstr(p.blocked[0].message, "not created by this tool"));
	plan_free(&p);
	fixture_free(&f);
}

#define SECRET_A "sk_live_do_not_print_1"
#define SECRET_B "sk_live_do_not_print_2"

/* Text and JSON say which names change and how, never a value. */
static void
test_print(void **state)
{
	struct fixture f;
	struct plan p;
	struct buf b;
	struct action_result *res;
	(void)state;

	p = build(&f, "P shop; E prod STRIPE_KEY=" SECRET_A " NEW=" SECRET_B "; D production prod;"
	    " M api.example.com convexCloud; M b.example.com convexSite; K ci",
	    "P 12 shop; D happy-otter-1 12 production prod; V 12 prod STRIPE_KEY=old-value-xyz;"
	    " V 12 prod GONE=gone-value-xyz; O happy-otter-1 old.example.com convexCloud;"
	    " O happy-otter-1 b.example.com convexSite; Y happy-otter-1 stale; LE 12; LD happy-otter-1; LK happy-otter-1",
	    "K happy-otter-1 stale", "prune=owned");
	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_text(&p, NULL, 0, &b), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_non_null(strstr(b.data, "- env shop prod GONE\n"));
	assert_non_null(strstr(b.data, "+ env shop prod NEW\n"));
	assert_non_null(strstr(b.data, "~ env shop prod STRIPE_KEY (value changed)\n"));
	assert_non_null(strstr(b.data, "+ create domain \"shop/production\" api.example.com (convexCloud)\n"));
	assert_non_null(strstr(b.data, "- delete domain \"shop/production\" old.example.com (convexCloud, happy-otter-1)\n"));
	assert_non_null(strstr(b.data, "+ create deploy key \"shop/production\" ci\n"));
	assert_non_null(strstr(b.data, "- delete deploy key \"shop/production\" stale (happy-otter-1)\n"));
	assert_non_null(strstr(b.data, "? pending domain \"shop/production\" b.example.com (convexSite): not verified yet\n"));
	assert_non_null(strstr(b.data, "Plan: 2 to create, 1 to update, 2 to delete"));
	assert_null(strstr(b.data, SECRET_A));
	assert_null(strstr(b.data, SECRET_B));
	assert_null(strstr(b.data, "value-xyz"));
	buf_free(&b);

	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_json(&p, NULL, 0, &b), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_non_null(strstr(b.data, "{\"op\":\"update\",\"kind\":\"env\",\"project\":\"shop\",\"id\":12,"
	    "\"changes\":[{\"type\":\"prod\",\"name\":\"GONE\",\"change\":\"remove\"},"
	    "{\"type\":\"prod\",\"name\":\"NEW\",\"change\":\"set\"},"
	    "{\"type\":\"prod\",\"name\":\"STRIPE_KEY\",\"change\":\"changed\"}],\"reason\":\"declared\"}"));
	assert_non_null(strstr(b.data, "{\"op\":\"create\",\"kind\":\"domain\",\"project\":\"shop\","
	    "\"reference\":\"production\",\"name\":\"happy-otter-1\",\"domain\":\"api.example.com\","
	    "\"destination\":\"convexCloud\",\"reason\":\"declared\"}"));
	assert_non_null(strstr(b.data, "{\"op\":\"delete\",\"kind\":\"deploy_key\",\"project\":\"shop\","
	    "\"reference\":\"production\",\"name\":\"happy-otter-1\",\"key\":\"stale\",\"reason\":\"prune\"}"));
	assert_non_null(strstr(b.data, "\"pending_domains\":[{\"project\":\"shop\",\"reference\":\"production\","
	    "\"name\":\"happy-otter-1\",\"domain\":\"b.example.com\",\"destination\":\"convexSite\"}]"));
	assert_non_null(strstr(b.data, "\"summary\":{\"create\":2,\"update\":1,\"delete\":2,"));
	assert_null(strstr(b.data, SECRET_A));
	assert_null(strstr(b.data, SECRET_B));
	assert_null(strstr(b.data, "value-xyz"));
	buf_free(&b);

	/* After apply: each env line carries the action's result. */
	res = calloc(p.n_actions, sizeof(*res));
	assert_non_null(res);
	for (size_t i = 0; i < p.n_actions; i++)
		res[i].state = ACTION_OK;
	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_text(&p, res, 0, &b), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_non_null(strstr(b.data, "~ env shop prod STRIPE_KEY (value changed): ok\n"));
	assert_non_null(strstr(b.data, "+ create deploy key \"shop/production\" ci: ok\n"));
	buf_free(&b);
	free(res);
	plan_free(&p);
	fixture_free(&f);
}

/* Only pending domains: no change, and the plan says so. */
static void
test_pending_only(void **state)
{
	struct fixture f;
	struct plan p;
	struct buf b;
	(void)state;

	p = build(&f, SHOP_DECL "; M a.example.com convexCloud",
	    SHOP_LIVE "; O happy-otter-1 a.example.com convexCloud; LD happy-otter-1", NULL, NULL);
	assert_int_equal(p.n_actions, 0);
	assert_int_equal(p.n_pending_domains, 1);
	buf_init(&b, 1 << 20);
	assert_int_equal(plan_print_text(&p, NULL, 0, &b), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_non_null(strstr(b.data, "? pending domain \"shop/production\" a.example.com"));
	assert_non_null(strstr(b.data, "No changes."));
	buf_free(&b);
	plan_free(&p);
	fixture_free(&f);
}

/* The key file's path: injective, no traversal, folders under NAME_MAX. */
static void
test_keypath(void **state)
{
	char a[KEYPATH_MAX], b[KEYPATH_MAX], big[300];
	(void)state;

	assert_int_equal(keypath_component(a, sizeof(a), "shop"), 0);
	assert_string_equal(a, "shop");
	assert_int_equal(keypath_component(a, sizeof(a), "."), 0);
	assert_string_equal(a, "%2E");
	assert_int_equal(keypath_component(a, sizeof(a), ".."), 0);
	assert_string_equal(a, "%2E%2E");
	assert_int_equal(keypath_component(a, sizeof(a), "a/b"), 0);
	assert_string_equal(a, "a%2Fb");
	assert_int_equal(keypath_component(a, sizeof(a), "%2F"), 0);
	assert_string_equal(a, "%252%46");
	assert_int_equal(keypath_component(a, sizeof(a), "Shop Web é"), 0);
	assert_string_equal(a, "%53hop%20%57eb%20%C3%A9");
	assert_int_equal(keypath_component(a, sizeof(a), ""), -EINVAL);
	assert_int_equal(keypath_component(a, 4, "abcd"), -ENAMETOOLONG);
	assert_int_equal(keypath_relative(a, sizeof(a), "shop", "review/x", "ci.key"), 0);
	assert_string_equal(a, "shop/review%2Fx/ci%2Ekey");

	/* A long name is cut into folders of at most KEYPATH_SEGMENT_MAX,
	 * never inside a %XX, every piece but the last ending with '+'. */
	memset(big, 'A', 128);
	big[128] = '\0';
	assert_int_equal(keypath_component(a, sizeof(a), big), 0);
	{
		char *seg = a, *slash;
		int pieces = 0;

		for (;;) {
			size_t len;

			slash = strchr(seg, '/');
			len = slash ? (size_t)(slash - seg) : strlen(seg);
			assert_true(len > 0 && len <= KEYPATH_SEGMENT_MAX);
			assert_int_equal(seg[len - 1] == '+', slash != NULL);
			assert_true(len < 2 || seg[len - 2] != '%');
			pieces++;
			if (slash == NULL)
				break;
			seg = slash + 1;
		}
		assert_int_equal(pieces, 2);
	}
	/* Two names, one a prefix of the other's pieces: different paths. */
	memset(big, 'a', 199);
	big[199] = '\0';
	assert_int_equal(keypath_relative(a, sizeof(a), big, "ref", "k"), 0);
	memset(big, 'a', 200);
	big[200] = '\0';
	assert_int_equal(keypath_relative(b, sizeof(b), big, "ref", "k"), 0);
	assert_string_not_equal(a, b);
	/* Names of the largest sizes fit. */
	memset(big, 0xff, 128);
	big[128] = '\0';
	assert_int_equal(keypath_relative(a, sizeof(a), big,
	    "a/b/c/d/e/f/g/h/i/j/a/b/c/d/e/f/g/h/i/j/a/b/c/d/e/f/g/h/i/j/a/b/c/d/e/f/g/h/i/j/a/b/c/d/e/f/g/h/i/j/ab",
	    "k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k."), 0);
	assert_null(strstr(a, "/../"));
	assert_null(strstr(a, "/./"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_key_file_message),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_pending_only),
		cmocka_unit_test(test_keypath),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
