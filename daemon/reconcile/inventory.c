/* inventory.c: the inventory of `show` (inventory.h). Projects in the order
 * the files declare them; a project's live deployments in the order the
 * API listed them, the declared ones that are not live after them. */
#include "inventory.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "jsonint.h"
#include "keyfile.h"
#include "plan.h"
#include "plan_print.h"
#include "textesc.h"

#define PUT(b, lit) buf_append((b), (lit), sizeof(lit) - 1)

/* Lookups built once per inventory, so a team of 10,000 projects costs
 * O(n log n), not a scan of every deployment per project. */
struct lookup {
	struct index projects;     /* name -> position (num: position) */
	struct index refs;         /* (reference, project id) -> deployment */
	struct index domains;      /* deployment name -> domains, in order */
	struct index keys;         /* deployment name -> deploy keys */
	size_t *by_project;        /* deployment positions by (project, position) */
	const struct observed_state *os;
};

static int
cmp_by_project(const void *a, const void *b, void *arg)
{
	const struct observed_state *os = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int64_t pi = os->deployments[i].project_id;
	int64_t pj = os->deployments[j].project_id;

	if (pi != pj)
		return pi < pj ? -1 : 1;
	return i < j ? -1 : i > j;
}

static void
lookup_free(struct lookup *lk)
{
	index_free(&lk->projects);
	index_free(&lk->refs);
	index_free(&lk->domains);
	index_free(&lk->keys);
	free(lk->by_project);
	memset(lk, 0, sizeof(*lk));
}

static int
lookup_build(struct lookup *lk, const struct observed_state *os)
{
	size_t i;

	memset(lk, 0, sizeof(*lk));
	lk->os = os;
	if (index_init(&lk->projects, os->n_projects) != 0 ||
	    index_init(&lk->refs, os->n_deployments) != 0 ||
	    index_init(&lk->domains, os->n_domains) != 0 ||
	    index_init(&lk->keys, os->n_deploy_keys) != 0 ||
	    (os->n_deployments > 0 &&
	    (lk->by_project = calloc(os->n_deployments, sizeof(size_t))) == NULL)) {
		lookup_free(lk);
		return -ENOMEM;
	}
	for (i = 0; i < os->n_projects; i++)
		index_set(&lk->projects, i, os->projects[i].name, (int64_t)i, i);
	for (i = 0; i < os->n_deployments; i++) {
		index_set(&lk->refs, i, os->deployments[i].reference,
		    os->deployments[i].project_id, i);
		lk->by_project[i] = i;
	}
	for (i = 0; i < os->n_domains; i++)
		index_set(&lk->domains, i, os->domains[i].deployment, (int64_t)i, i);
	for (i = 0; i < os->n_deploy_keys; i++)
		index_set(&lk->keys, i, os->deploy_keys[i].deployment, (int64_t)i, i);
	index_sort(&lk->projects);
	index_sort(&lk->refs);
	index_sort(&lk->domains);
	index_sort(&lk->keys);
	if (os->n_deployments > 0)
		qsort_r(lk->by_project, os->n_deployments, sizeof(size_t),
		    cmp_by_project, (void *)os);
	return 0;
}

/* The deployments of a project: *first in by_project, how many returned. */
static size_t
deployments_of(const struct lookup *lk, int64_t project_id, size_t *first)
{
	size_t lo = 0, hi = lk->os->n_deployments, n = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lk->os->deployments[lk->by_project[mid]].project_id < project_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + n < lk->os->n_deployments &&
	    lk->os->deployments[lk->by_project[lo + n]].project_id == project_id)
		n++;
	return n;
}

static const struct desired_deployment *
declared_dep(const struct desired_project *p, const char *reference)
{
	for (size_t i = 0; reference != NULL && i < p->n_deployments; i++)
		if (strcmp(p->deployments[i].reference, reference) == 0)
			return &p->deployments[i];
	return NULL;
}

static const struct observed_project *
live_project(const struct lookup *lk, const char *name, size_t *count)
{
	size_t first;

	*count = index_range_str(&lk->projects, name, &first);
	return *count > 0 ? &lk->os->projects[lk->projects.items[first].pos] : NULL;
}

static bool
is_live(const struct lookup *lk, int64_t project_id, const char *reference)
{
	return index_find(&lk->refs, reference, project_id) != NULL;
}

/* "never" or RFC 3339, as plans show expiry (plan_change_text). */
static const char *
expiry_text(int64_t ms, char *tmp, size_t n)
{
	struct plan_change c = { .field = PLAN_FIELD_EXPIRES_AT, .to_num = ms };

	return plan_change_text(&c, true, tmp, n);
}

static bool
key_live(const struct lookup *lk, const char *deployment, const char *key,
    bool *file)
{
	size_t first, n = index_range_str(&lk->keys, deployment, &first);

	for (size_t i = 0; i < n; i++) {
		const struct observed_deploy_key *k =
		    &lk->os->deploy_keys[lk->keys.items[first + i].pos];

		if (strcmp(k->name, key) == 0) {
			*file = k->secret_file;
			return true;
		}
	}
	*file = false;
	return false;
}

/* The pending domains of a deployment: how many, *first in lk->domains. */
static size_t
domains_of(const struct lookup *lk, const char *deployment, size_t *first)
{
	return index_range_str(&lk->domains, deployment, first);
}

/* ---- JSON -------------------------------------------------------------- */

static bool
add_str_or_null(cJSON *o, const char *k, const char *v)
{
	return (v != NULL ? cJSON_AddStringToObject(o, k, v) :
	    cJSON_AddNullToObject(o, k)) != NULL;
}

static bool
dep_json(cJSON *arr, const struct inventory *inv, const struct lookup *lk,
    const struct desired_project *dp, const struct observed_deployment *d,
    const struct desired_deployment *want)
{
	cJSON *o = cJSON_CreateObject(), *pend, *keys;
	char url[512], tmp[40];
	size_t first, n;
	bool ok;

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	if (d == NULL)   /* declared, not live */
		return add_str_or_null(o, "reference", want->reference) &&
		    cJSON_AddBoolToObject(o, "declared", 1) &&
		    cJSON_AddBoolToObject(o, "live", 0) &&
		    cJSON_AddStringToObject(o, "type", dep_type_name(want->type));
	ok = add_str_or_null(o, "reference", d->reference) &&
	    cJSON_AddBoolToObject(o, "declared", want != NULL) &&
	    cJSON_AddBoolToObject(o, "live", 1) &&
	    jsonint_add(o, "id", d->id) &&
	    cJSON_AddStringToObject(o, "name", d->name) &&
	    cJSON_AddStringToObject(o, "url", observed_deployment_url(d, url, sizeof(url))) &&
	    cJSON_AddStringToObject(o, "type", dep_type_name(d->type)) &&
	    add_str_or_null(o, "region", d->region) &&
	    add_str_or_null(o, "class", d->class_name) &&
	    cJSON_AddBoolToObject(o, "default", d->is_default) &&
	    add_str_or_null(o, "expires_at", d->expires_at != 0 ?
	    expiry_text(d->expires_at, tmp, sizeof(tmp)) : NULL) &&
	    (pend = cJSON_AddArrayToObject(o, "pending_domains")) != NULL &&
	    (keys = cJSON_AddArrayToObject(o, "deploy_keys")) != NULL;
	n = domains_of(lk, d->name, &first);
	for (size_t i = 0; ok && i < n; i++) {
		const struct observed_domain *m =
		    &lk->os->domains[lk->domains.items[first + i].pos];
		cJSON *x;

		if (m->verification_time != 0)
			continue;
		ok = (x = cJSON_CreateObject()) != NULL && cJSON_AddItemToArray(pend, x) &&
		    cJSON_AddStringToObject(x, "domain", m->domain) &&
		    cJSON_AddStringToObject(x, "destination",
		    desired_destination_name(m->destination));
	}
	for (size_t i = 0; ok && want != NULL && i < want->n_deploy_keys; i++) {
		char path[4096];
		bool file, live = key_live(lk, d->name, want->deploy_keys[i], &file);
		cJSON *x;

		if (keyfile_path(path, sizeof(path), inv->keys_dir, dp->name,
		    want->reference, want->deploy_keys[i]) != 0)
			return false;
		ok = (x = cJSON_CreateObject()) != NULL && cJSON_AddItemToArray(keys, x) &&
		    cJSON_AddStringToObject(x, "name", want->deploy_keys[i]) &&
		    cJSON_AddStringToObject(x, "file", path) &&
		    cJSON_AddBoolToObject(x, "live", live) &&
		    cJSON_AddBoolToObject(x, "file_exists", live && file);
	}
	return ok;
}

/* One project's object; NULL on ENOMEM. */
static cJSON *
project_json(const struct inventory *inv, const struct lookup *lk,
    const struct desired_project *dp)
{
	cJSON *o = cJSON_CreateObject(), *deps;
	size_t count, first, n;
	const struct observed_project *lp = live_project(lk, dp->name, &count);
	bool ok;

	if (o == NULL)
		return NULL;
	ok = cJSON_AddStringToObject(o, "name", dp->name) &&
	    cJSON_AddStringToObject(o, "state", dp->absent ? "absent" : "present") &&
	    cJSON_AddBoolToObject(o, "live", count > 0) &&
	    (count <= 1 || jsonint_add(o, "conflict", (int64_t)count));
	if (ok && lp != NULL && count == 1) {
		ok = jsonint_add(o, "id", lp->id) && add_str_or_null(o, "slug", lp->slug) &&
		    (deps = cJSON_AddArrayToObject(o, "deployments")) != NULL;
		n = ok ? deployments_of(lk, lp->id, &first) : 0;
		for (size_t i = 0; ok && i < n; i++) {
			const struct observed_deployment *d =
			    &lk->os->deployments[lk->by_project[first + i]];

			ok = dep_json(deps, inv, lk, dp, d, declared_dep(dp, d->reference));
		}
		for (size_t i = 0; ok && i < dp->n_deployments; i++)
			if (!dp->deployments[i].absent &&
			    !is_live(lk, lp->id, dp->deployments[i].reference))
				ok = dep_json(deps, inv, lk, dp, NULL, &dp->deployments[i]);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Appends the compact JSON of one item, made valid UTF-8 with its secrets
 * masked (textesc.h). */
static int
put_item(struct buf *out, cJSON *item)
{
	return plan_print_cjson(out, item, 0);
}

/* One project per line inside the object, each built, printed and freed
 * in turn: a team of 10,000 projects never holds one tree of them all. */
int
inventory_print_json(const struct inventory *inv, struct buf *out)
{
	struct lookup lk;
	int rc;

	if ((rc = lookup_build(&lk, inv->os)) != 0)
		return rc;
	rc = buf_appendf(out, "{\"team_id\": %lld, \"projects\": [",
	    (long long)inv->team_id);
	for (size_t i = 0; rc == 0 && i < inv->ds->n_projects; i++) {
		if ((rc = buf_appendf(out, "%s\n  ", i > 0 ? "," : "")) == 0)
			rc = put_item(out, project_json(inv, &lk, &inv->ds->projects[i]));
	}
	if (rc == 0)
		rc = buf_appendf(out, "%s]}\n", inv->ds->n_projects > 0 ? "\n" : "");
	lookup_free(&lk);
	return rc;
}

/* ---- text --------------------------------------------------------------- */

static int
put_esc(struct buf *out, const char *s)
{
	s = s != NULL ? s : "";
	return textesc_buf(out, s, strlen(s), TEXTESC_QUOTES);
}

static int
dep_text(struct buf *out, const struct inventory *inv, const struct lookup *lk,
    const struct desired_project *dp, const struct observed_deployment *d,
    const struct desired_deployment *want)
{
	char url[512], tmp[40];
	size_t first, n;
	int rc;

	if ((rc = PUT(out, "  deployment \"")) ||
	    (rc = put_esc(out, d != NULL ? d->reference : want->reference)))
		return rc;
	if (d == NULL)
		return buf_appendf(out, "\" (%s): not live\n", dep_type_name(want->type));
	if ((rc = PUT(out, "\": ")) || (rc = put_esc(out, d->name)) ||
	    (rc = buf_appendf(out, " (%s", dep_type_name(d->type))) ||
	    (d->region && ((rc = PUT(out, ", ")) || (rc = put_esc(out, d->region)))) ||
	    (d->class_name && ((rc = PUT(out, ", ")) || (rc = put_esc(out, d->class_name)))) ||
	    (d->is_default && (rc = PUT(out, ", default"))) ||
	    (want == NULL && (rc = PUT(out, ", not declared"))) ||
	    (rc = PUT(out, ")\n    url: ")) ||
	    (rc = put_esc(out, observed_deployment_url(d, url, sizeof(url)))) ||
	    (rc = buf_appendf(out, "\n    expires: %s\n", d->expires_at != 0 ?
	    expiry_text(d->expires_at, tmp, sizeof(tmp)) : "never")))
		return rc;
	n = domains_of(lk, d->name, &first);
	for (size_t i = 0; i < n; i++) {
		const struct observed_domain *m =
		    &lk->os->domains[lk->domains.items[first + i].pos];

		if (m->verification_time != 0)
			continue;
		if ((rc = PUT(out, "    pending domain: ")) || (rc = put_esc(out, m->domain)) ||
		    (rc = buf_appendf(out, " (%s): not verified yet\n",
		    desired_destination_name(m->destination))))
			return rc;
	}
	for (size_t i = 0; want != NULL && i < want->n_deploy_keys; i++) {
		char path[4096];
		bool file, live = key_live(lk, d->name, want->deploy_keys[i], &file);

		if (keyfile_path(path, sizeof(path), inv->keys_dir, dp->name,
		    want->reference, want->deploy_keys[i]) != 0)
			return -ENAMETOOLONG;
		if ((rc = PUT(out, "    deploy key \"")) ||
		    (rc = put_esc(out, want->deploy_keys[i])) || (rc = PUT(out, "\": ")) ||
		    (rc = put_esc(out, path)) ||
		    (rc = buf_appendf(out, "%s\n", !live ? " (not created yet)" :
		    file ? "" : " (the file is missing)")))
			return rc;
	}
	return 0;
}

static int
project_text(struct buf *out, const struct inventory *inv, const struct lookup *lk,
    const struct desired_project *dp)
{
	size_t count, first, n;
	const struct observed_project *lp = live_project(lk, dp->name, &count);
	int rc;

	if ((rc = PUT(out, "project \"")) || (rc = put_esc(out, dp->name)) ||
	    (rc = PUT(out, "\"")))
		return rc;
	if (count > 1)
		return buf_appendf(out, ": %zu live projects carry this name "
		    "(conflict)\n", count);
	if (lp == NULL)
		return buf_appendf(out, ": not live%s\n", dp->absent ?
		    " (declared absent)" : "");
	if ((rc = buf_appendf(out, " (id %lld, slug ", (long long)lp->id)) ||
	    (rc = put_esc(out, lp->slug)) ||
	    (rc = buf_appendf(out, ")%s\n", dp->absent ?
	    ": declared absent, still live" : "")))
		return rc;
	n = deployments_of(lk, lp->id, &first);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		const struct observed_deployment *d =
		    &lk->os->deployments[lk->by_project[first + k]];

		rc = dep_text(out, inv, lk, dp, d, declared_dep(dp, d->reference));
	}
	for (size_t k = 0; rc == 0 && k < dp->n_deployments; k++)
		if (!dp->deployments[k].absent &&
		    !is_live(lk, lp->id, dp->deployments[k].reference))
			rc = dep_text(out, inv, lk, dp, NULL, &dp->deployments[k]);
	return rc;
}

int
inventory_print_text(const struct inventory *inv, struct buf *out)
{
	struct lookup lk;
	int rc;

	if (inv->ds->n_projects == 0)
		return PUT(out, "No projects are declared.\n");
	if ((rc = lookup_build(&lk, inv->os)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < inv->ds->n_projects; i++)
		rc = project_text(out, inv, &lk, &inv->ds->projects[i]);
	lookup_free(&lk);
	return rc;
}
