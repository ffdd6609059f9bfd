/* observe_extras.c: the per-resource listings of SPEC section 9 (env of a
 * project, custom domains and deploy keys of a deployment), started once
 * the two main chains have matched the declared resources. */
#include "observe_extras.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "index.h"
#include "keyfile.h"
#include "ledger.h"
#include "strcut.h"

struct extras_obs;

/* One listing in flight: which resource it is about. */
struct listing_ctx {
	struct extras_obs *x;
	const struct desired_project *dp;
	const struct desired_deployment *dd;   /* domains and keys */
	int64_t project_id;
	char *deployment;                      /* the live deployment's name */
};

struct extras_obs {
	struct api_client *client;
	struct observed_state *os;
	const char *keys_dir;
	observe_extras_cb cb;
	void *arg;
	size_t cap_env, cap_domains, cap_keys, cap_listed;
	int pending;
	int rc;
	char error[768];
};

static void
fail(struct extras_obs *x, int rc, const char *what, const struct listing_ctx *l,
    const struct api_error *err)
{
	char detail[700];

	if (x->rc != 0)
		return;       /* the first failure is the cause */
	x->rc = rc;
	if (err != NULL)
		api_error_format(err, detail, sizeof(detail));
	else
		snprintf(detail, sizeof(detail), "%s", strerror(-rc));
	if (l->dd != NULL)
		snprintf(x->error, sizeof(x->error), "listing the %s of deployment "
		    "\"%s/%s\" (%s): %s", what, l->dp->name, l->dd->reference,
		    l->deployment, detail);
	else if (l->deployment != NULL)
		strcut_printf(x->error, sizeof(x->error), "listing the %s of "
		    "deployment %s (project %lld, which this reconcile may delete): %s", what,
		    l->deployment, (long long)l->project_id, detail);
	else
		snprintf(x->error, sizeof(x->error), "listing the %s of project "
		    "\"%s\" (%lld): %s", what, l->dp->name, (long long)l->project_id,
		    detail);
}

/* Room for `more` elements of `size` bytes at the end of *arr. */
static int
reserve(void **arr, size_t *cap, size_t n, size_t more, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *p;

	if (n + more <= *cap)
		return 0;
	while (ncap < n + more)
		ncap *= 2;
	if ((p = realloc(*arr, ncap * size)) == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int
add_listed(struct extras_obs *x, enum observed_listing kind, int64_t project_id,
    const char *deployment)
{
	struct observed_state *os = x->os;
	struct observed_listed *l;

	if (reserve((void **)&os->listed, &x->cap_listed, os->n_listed, 1,
	    sizeof(*os->listed)) != 0)
		return -ENOMEM;
	l = &os->listed[os->n_listed];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->project_id = project_id;
	if (deployment != NULL && (l->deployment = strdup(deployment)) == NULL)
		return -ENOMEM;
	os->n_listed++;
	return 0;
}

static void
ctx_free(struct listing_ctx *l)
{
	free(l->deployment);
	free(l);
}

/* One listing ended: the last one reports. */
static void
done_one(struct listing_ctx *l)
{
	struct extras_obs *x = l->x;

	ctx_free(l);
	if (--x->pending > 0)
		return;
	x->cb(x->arg, x->rc, x->rc ? x->error : NULL);
	free(x);
}

static void
on_env(void *arg, int rc, const struct api_error *err,
    struct observed_env_var *items, size_t n)
{
	struct listing_ctx *l = arg;
	struct extras_obs *x = l->x;
	struct observed_state *os = x->os;

	if (rc == 0 && x->rc == 0 &&
	    (rc = reserve((void **)&os->env_vars, &x->cap_env, os->n_env_vars, n,
	    sizeof(*items))) == 0 &&
	    (rc = add_listed(x, LISTED_ENV, l->project_id, NULL)) == 0) {
		if (n > 0)
			memcpy(os->env_vars + os->n_env_vars, items, n * sizeof(*items));
		os->n_env_vars += n;
		n = 0;
	}
	for (size_t i = 0; i < n; i++)
		observed_env_var_free(&items[i]);
	free(items);
	if (rc != 0)
		fail(x, rc, "default environment variables", l, err);
	done_one(l);
}

static void
on_domains(void *arg, int rc, const struct api_error *err,
    struct observed_domain *items, size_t n)
{
	struct listing_ctx *l = arg;
	struct extras_obs *x = l->x;
	struct observed_state *os = x->os;

	/* Two entries for one domain: only a broken listing says that. */
	for (size_t i = 0; rc == 0 && i < n; i++)
		for (size_t j = i + 1; rc == 0 && j < n; j++)
			if (strcmp(items[i].domain, items[j].domain) == 0)
				rc = -EBADMSG;
	if (rc == -EBADMSG && err == NULL) {
		fail(x, rc, "custom domains (a domain listed twice)", l, NULL);
	} else if (rc == 0 && x->rc == 0 &&
	    (rc = reserve((void **)&os->domains, &x->cap_domains, os->n_domains, n,
	    sizeof(*items))) == 0 &&
	    (rc = add_listed(x, LISTED_DOMAINS, 0, l->deployment)) == 0) {
		for (size_t i = 0; i < n; i++)
			items[i].project_id = l->project_id;
		if (n > 0)
			memcpy(os->domains + os->n_domains, items, n * sizeof(*items));
		os->n_domains += n;
		n = 0;
	}
	for (size_t i = 0; i < n; i++)
		observed_domain_free(&items[i]);
	free(items);
	if (rc != 0)
		fail(x, rc, "custom domains", l, err);
	done_one(l);
}

/* The secret file of a declared key: a regular file at its path, or at
 * the path of the names it had before a rename (apply moves it there
 * before any action: keyfile_follow_renames). */
static bool
secret_file_exists(const struct extras_obs *x, const struct listing_ctx *l,
    const char *key)
{
	const char *p, *r;

	return keyfile_locate(x->keys_dir, l->dp, l->dd, key, &p, &r) >= 0;
}

static void
on_keys(void *arg, int rc, const struct api_error *err,
    struct observed_deploy_key *items, size_t n)
{
	struct listing_ctx *l = arg;
	struct extras_obs *x = l->x;
	struct observed_state *os = x->os;

	for (size_t i = 0; rc == 0 && i < n; i++)
		for (size_t j = i + 1; rc == 0 && j < n; j++)
			if (strcmp(items[i].name, items[j].name) == 0)
				rc = -EBADMSG;
	if (rc == -EBADMSG && err == NULL) {
		fail(x, rc, "deploy keys (a name listed twice)", l, NULL);
	} else if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < l->dd->n_deploy_keys; k++)
				if (strcmp(items[i].name, l->dd->deploy_keys[k]) == 0)
					items[i].secret_file = secret_file_exists(x, l,
					    items[i].name);
		if (x->rc == 0 &&
		    (rc = reserve((void **)&os->deploy_keys, &x->cap_keys,
		    os->n_deploy_keys, n, sizeof(*items))) == 0 &&
		    (rc = add_listed(x, LISTED_DEPLOY_KEYS, 0, l->deployment)) == 0) {
			if (n > 0)
				memcpy(os->deploy_keys + os->n_deploy_keys, items, n * sizeof(*items));
			os->n_deploy_keys += n;
			n = 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		observed_deploy_key_free(&items[i]);
	free(items);
	if (rc != 0)
		fail(x, rc, "deploy keys", l, err);
	done_one(l);
}

/* ---- matching --------------------------------------------------------- */

/* The live project a declared one stands for: its name, live once; else,
 * when its name is not live, the one `renamed_from` name that is live
 * once. NULL when none or ambiguous (a conflict: nothing is done). */
static const struct observed_project *
match_project(const struct observed_state *os, const struct index *by_name,
    const struct desired_project *dp)
{
	const struct observed_project *found = NULL;
	size_t first, n = index_range_str(by_name, dp->name, &first);

	if (n == 1)
		return &os->projects[by_name->items[first].pos];
	if (n > 1)
		return NULL;
	for (size_t i = 0; i < dp->n_renamed_from; i++) {
		n = index_range_str(by_name, dp->renamed_from[i], &first);
		if (n == 0)
			continue;
		if (n > 1 || found != NULL)
			return NULL;
		found = &os->projects[by_name->items[first].pos];
	}
	return found;
}

/* How many live deployments of the project carry `reference` (one of
 * them in *out). Two are a conflict (a lost create's answer, SPEC 11): the
 * plan leaves them alone, so they are not listed. */
static size_t
live_refs(const struct observed_state *os, const struct index *by_ref,
    int64_t project_id, const char *reference,
    const struct observed_deployment **out)
{
	size_t first, n = index_range_str(by_ref, reference, &first), k = 0;

	for (size_t i = first; i < first + n; i++) {
		if (by_ref->items[i].num != project_id)
			continue;
		*out = &os->deployments[by_ref->items[i].pos];
		k++;
	}
	return k;
}

static const struct observed_deployment *
match_deployment(const struct observed_state *os, const struct index *by_ref,
    int64_t project_id, const struct desired_deployment *dd)
{
	const struct observed_deployment *found = NULL, *od = NULL;
	size_t n = live_refs(os, by_ref, project_id, dd->reference, &od);

	if (n == 1)
		return od;
	if (n > 1)
		return NULL;
	for (size_t i = 0; i < dd->n_renamed_from; i++) {
		n = live_refs(os, by_ref, project_id, dd->renamed_from[i], &od);
		if (n == 0)
			continue;
		if (n > 1 || found != NULL)
			return NULL;
		found = od;
	}
	return found;
}

static bool
env_declared(const struct desired_project *dp)
{
	for (int t = 0; dp->env != NULL && t < 4; t++)
		if (dp->env[t].declared)
			return true;
	return false;
}

static int
start_one(struct extras_obs *x, int what, const struct desired_project *dp,
    const struct desired_deployment *dd, int64_t project_id, const char *deployment)
{
	struct listing_ctx *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return -ENOMEM;
	l->x = x;
	l->dp = dp;
	l->dd = dd;
	l->project_id = project_id;
	if (deployment != NULL && (l->deployment = strdup(deployment)) == NULL) {
		free(l);
		return -ENOMEM;
	}
	x->pending++;
	if (what == LISTED_ENV)
		rc = api_list_env(x->client, project_id, on_env, l);
	else if (what == LISTED_DOMAINS)
		rc = api_list_custom_domains(x->client, deployment, on_domains, l);
	else
		rc = api_list_deploy_keys(x->client, deployment, on_keys, l);
	if (rc != 0) {
		x->pending--;
		ctx_free(l);
	}
	return rc;
}

/* Whether prune deletes an undeclared live project or deployment, by
 * plan.c's rule (prune_deletes) on the ledger itself. */
static bool
pruned_project(const struct ledger *led, enum prune_mode prune, int64_t id)
{
	const struct ledger_project *lp = led ? ledger_find_project(led, id) : NULL;

	return prune_deletes(prune, lp != NULL && lp->created);
}

static bool
pruned_deployment(const struct ledger *led, enum prune_mode prune,
    const char *name)
{
	const struct ledger_deployment *ld = led && name ?
	    ledger_find_deployment(led, name) : NULL;

	return prune_deletes(prune, ld != NULL && ld->created);
}

static bool
any_absent_project(const struct desired_state *ds)
{
	for (size_t i = 0; i < ds->n_projects; i++)
		if (ds->projects[i].absent)
			return true;
	return false;
}

enum { LIVE_UNDECLARED = 0, LIVE_DECLARED, LIVE_ABSENT, LIVE_PRUNED };

/*
 * The live deployments this reconcile may delete with no declaration of
 * their own (those of a `state: absent` project, those prune removes from
 * a declared project, and those of the projects prune deletes, at most
 * max_deletes of them) free their domains too: listed, so that a domain
 * moved off one of them is created after that delete (plan.c,
 * domain_moves). A deployment whose delete a guard then holds is listed
 * again each run while it is held.
 */
static int
start_freed(struct extras_obs *x, const struct desired_state *ds,
    const struct index *by_name, const struct index *by_ref,
    const struct ledger *led, enum prune_mode prune, unsigned max_deletes)
{
	struct observed_state *os = x->os;
	unsigned char *proj;
	bool *dep;
	struct index by_id;
	size_t n_pruned = 0;
	int rc = 0;

	if (os->n_deployments == 0 || os->n_projects == 0 ||
	    (prune == PRUNE_NONE && !any_absent_project(ds)))
		return 0;
	proj = calloc(os->n_projects, sizeof(*proj));
	dep = calloc(os->n_deployments, sizeof(*dep));
	if (proj == NULL || dep == NULL || index_init(&by_id, os->n_projects) != 0) {
		free(proj);
		free(dep);
		return -ENOMEM;
	}
	for (size_t i = 0; i < os->n_projects; i++)
		index_set(&by_id, i, NULL, os->projects[i].id, i);
	index_sort(&by_id);
	for (size_t i = 0; i < ds->n_projects; i++) {
		const struct desired_project *dp = &ds->projects[i];
		const struct observed_project *op = match_project(os, by_name, dp);
		const struct observed_deployment *od;

		if (op == NULL)
			continue;
		proj[op - os->projects] = dp->absent ? LIVE_ABSENT : LIVE_DECLARED;
		for (size_t j = 0; !dp->absent && j < dp->n_deployments; j++)
			if ((od = match_deployment(os, by_ref, op->id,
			    &dp->deployments[j])) != NULL)
				dep[od - os->deployments] = true;
	}
	/* The projects prune deletes count only while the plan may delete
	 * them: with more than max_deletes the guard holds every delete, and
	 * under `prune: all` they may be every project nothing declares, a
	 * listing each per run (random schedules, seed 90352: 120 listings
	 * under page faults kept an apply past two minutes). */
	for (size_t i = 0; i < os->n_projects; i++)
		if (proj[i] == LIVE_UNDECLARED &&
		    pruned_project(led, prune, os->projects[i].id)) {
			proj[i] = LIVE_PRUNED;
			n_pruned++;
		}
	for (size_t i = 0; rc == 0 && i < os->n_deployments; i++) {
		const struct observed_deployment *od = &os->deployments[i];
		const struct index_item *it = index_find(&by_id, NULL, od->project_id);
		bool goes;

		if (dep[i] || it == NULL || od->name == NULL)
			continue;
		if (proj[it->pos] == LIVE_DECLARED)
			goes = pruned_deployment(led, prune, od->name);
		else if (proj[it->pos] == LIVE_PRUNED)
			goes = n_pruned <= max_deletes;
		else
			goes = proj[it->pos] == LIVE_ABSENT;
		if (goes)
			rc = start_one(x, LISTED_DOMAINS, NULL, NULL, od->project_id,
			    od->name);
	}
	index_free(&by_id);
	free(proj);
	free(dep);
	return rc;
}

/* Whether any present project declares env, or any present deployment
 * domains or deploy keys: without, the lookups below (24 bytes for each
 * live project and deployment, at the peak of a large plan: SPEC section
 * 12) are not built at all. *domains: some present deployment declares
 * its domains (then a `state: absent` deployment's domains are listed too). */
static bool
any_declared(const struct desired_state *ds, bool *domains)
{
	bool any = false;

	*domains = false;
	for (size_t i = 0; i < ds->n_projects; i++) {
		const struct desired_project *dp = &ds->projects[i];

		if (dp->absent)
			continue;
		any |= env_declared(dp);
		for (size_t j = 0; j < dp->n_deployments; j++) {
			const struct desired_deployment *dd = &dp->deployments[j];

			if (dd->absent)
				continue;
			any |= dd->domains_declared || dd->deploy_keys_declared;
			*domains |= dd->domains_declared;
		}
	}
	return any;
}

int
observe_extras_start(struct api_client *c, const struct desired_state *ds,
    struct observed_state *os, const struct ledger *led, enum prune_mode prune,
    unsigned max_deletes, const char *keys_dir, observe_extras_cb cb, void *arg)
{
	struct index by_name, by_ref;
	struct extras_obs *x;
	bool domains;
	int rc = 0;

	if (!any_declared(ds, &domains))
		return 1;       /* nothing declares any of it */
	if (index_init(&by_name, os->n_projects) != 0)
		return -ENOMEM;
	if (index_init(&by_ref, os->n_deployments) != 0) {
		index_free(&by_name);
		return -ENOMEM;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		index_free(&by_name);
		index_free(&by_ref);
		return -ENOMEM;
	}
	x->client = c;
	x->os = os;
	x->keys_dir = keys_dir;
	x->cb = cb;
	x->arg = arg;
	for (size_t i = 0; i < os->n_projects; i++)
		index_set(&by_name, i, os->projects[i].name, os->projects[i].id, i);
	for (size_t i = 0; i < os->n_deployments; i++)
		index_set(&by_ref, i, os->deployments[i].reference,
		    os->deployments[i].project_id, i);
	index_sort(&by_name);
	index_sort(&by_ref);

	/* pending counts one for this loop, so no callback can see zero
	 * while listings are still being started. */
	x->pending = 1;
	for (size_t i = 0; rc == 0 && i < ds->n_projects; i++) {
		const struct desired_project *dp = &ds->projects[i];
		const struct observed_project *op;

		if (dp->absent || (op = match_project(os, &by_name, dp)) == NULL)
			continue;
		if (env_declared(dp))
			rc = start_one(x, LISTED_ENV, dp, NULL, op->id, NULL);
		for (size_t j = 0; rc == 0 && j < dp->n_deployments; j++) {
			const struct desired_deployment *dd = &dp->deployments[j];
			const struct observed_deployment *od;

			/* A live deployment that goes (state: absent) frees its
			 * domains: listed when one may move elsewhere, so that
			 * its create waits for the delete (plan.c). */
			if (dd->absent) {
				if (domains && (od = match_deployment(os, &by_ref,
				    op->id, dd)) != NULL)
					rc = start_one(x, LISTED_DOMAINS, dp, dd, op->id,
					    od->name);
				continue;
			}
			if ((!dd->domains_declared && !dd->deploy_keys_declared) ||
			    (od = match_deployment(os, &by_ref, op->id, dd)) == NULL)
				continue;
			if (dd->domains_declared)
				rc = start_one(x, LISTED_DOMAINS, dp, dd, op->id, od->name);
			if (rc == 0 && dd->deploy_keys_declared)
				rc = start_one(x, LISTED_DEPLOY_KEYS, dp, dd, op->id, od->name);
		}
	}
	if (rc == 0 && domains)
		rc = start_freed(x, ds, &by_name, &by_ref, led, prune, max_deletes);
	index_free(&by_name);
	index_free(&by_ref);
	if (rc != 0 && x->pending == 1) {
		free(x);
		return rc;
	}
	if (rc != 0 && x->rc == 0) {
		x->rc = rc;
		snprintf(x->error, sizeof(x->error), "cannot start the listings of env, "
		    "domains and deploy keys: %s", strerror(-rc));
	}
	if (x->pending == 1) {
		free(x);
		return 1;       /* nothing declares any of it */
	}
	/* Drop this loop's count; the listings in flight report. Callbacks
	 * never run from inside the calls that start them (api.h). */
	x->pending--;
	return 0;
}
