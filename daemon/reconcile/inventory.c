/* inventory.c: the inventory of `show` (inventory.h). Projects in the order
 * the files declare them; a project's live deployments in the order the
 * API listed them, the declared ones that are not live after them. */
#include "inventory.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonint.h"
#include "keyfile.h"
#include "plan.h"
#include "textesc.h"

#define PUT(b, lit) buf_append((b), (lit), sizeof(lit) - 1)

static const struct desired_deployment *
declared_dep(const struct desired_project *p, const char *reference)
{
	for (size_t i = 0; reference != NULL && i < p->n_deployments; i++)
		if (strcmp(p->deployments[i].reference, reference) == 0)
			return &p->deployments[i];
	return NULL;
}

static const struct observed_project *
live_project(const struct observed_state *os, const char *name, size_t *count)
{
	const struct observed_project *found = NULL;

	*count = 0;
	for (size_t i = 0; i < os->n_projects; i++) {
		if (strcmp(os->projects[i].name, name) == 0) {
			if (found == NULL)
				found = &os->projects[i];
			(*count)++;
		}
	}
	return found;
}

static bool
is_live(const struct observed_state *os, int64_t project_id, const char *reference)
{
	for (size_t i = 0; i < os->n_deployments; i++)
		if (os->deployments[i].project_id == project_id &&
		    os->deployments[i].reference != NULL &&
		    strcmp(os->deployments[i].reference, reference) == 0)
			return true;
	return false;
}

/* "never" or RFC 3339, as plans show expiry (plan_change_text). */
static const char *
expiry_text(int64_t ms, char *tmp, size_t n)
{
	struct plan_change c = { .field = PLAN_FIELD_EXPIRES_AT, .to_num = ms };

	return plan_change_text(&c, true, tmp, n);
}

static bool
key_live(const struct observed_state *os, const char *deployment, const char *key,
    bool *file)
{
	for (size_t i = 0; i < os->n_deploy_keys; i++) {
		const struct observed_deploy_key *k = &os->deploy_keys[i];

		if (strcmp(k->deployment, deployment) == 0 && strcmp(k->name, key) == 0) {
			*file = k->secret_file;
			return true;
		}
	}
	*file = false;
	return false;
}

/* ---- JSON -------------------------------------------------------------- */

static bool
add_str_or_null(cJSON *o, const char *k, const char *v)
{
	return (v != NULL ? cJSON_AddStringToObject(o, k, v) :
	    cJSON_AddNullToObject(o, k)) != NULL;
}

static bool
dep_json(cJSON *arr, const struct inventory *inv, const struct desired_project *dp,
    const struct observed_deployment *d, const struct desired_deployment *want)
{
	cJSON *o = cJSON_CreateObject(), *pend, *keys;
	char url[512], tmp[40];
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
	for (size_t i = 0; ok && i < inv->os->n_domains; i++) {
		const struct observed_domain *m = &inv->os->domains[i];
		cJSON *x;

		if (m->verification_time != 0 || strcmp(m->deployment, d->name) != 0)
			continue;
		ok = (x = cJSON_CreateObject()) != NULL && cJSON_AddItemToArray(pend, x) &&
		    cJSON_AddStringToObject(x, "domain", m->domain) &&
		    cJSON_AddStringToObject(x, "destination",
		    desired_destination_name(m->destination));
	}
	for (size_t i = 0; ok && want != NULL && i < want->n_deploy_keys; i++) {
		char path[4096];
		bool file, live = key_live(inv->os, d->name, want->deploy_keys[i], &file);
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

static bool
project_json(cJSON *arr, const struct inventory *inv, const struct desired_project *dp)
{
	cJSON *o = cJSON_CreateObject(), *deps;
	size_t count;
	const struct observed_project *lp = live_project(inv->os, dp->name, &count);
	bool ok;

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	ok = cJSON_AddStringToObject(o, "name", dp->name) &&
	    cJSON_AddStringToObject(o, "state", dp->absent ? "absent" : "present") &&
	    cJSON_AddBoolToObject(o, "live", count > 0) &&
	    (count <= 1 || jsonint_add(o, "conflict", (int64_t)count));
	if (!ok || lp == NULL || count > 1)
		return ok;
	ok = jsonint_add(o, "id", lp->id) && add_str_or_null(o, "slug", lp->slug) &&
	    (deps = cJSON_AddArrayToObject(o, "deployments")) != NULL;
	for (size_t i = 0; ok && i < inv->os->n_deployments; i++) {
		const struct observed_deployment *d = &inv->os->deployments[i];

		if (d->project_id == lp->id)
			ok = dep_json(deps, inv, dp, d, declared_dep(dp, d->reference));
	}
	for (size_t i = 0; ok && i < dp->n_deployments; i++)
		if (!dp->deployments[i].absent &&
		    !is_live(inv->os, lp->id, dp->deployments[i].reference))
			ok = dep_json(deps, inv, dp, NULL, &dp->deployments[i]);
	return ok;
}

cJSON *
inventory_to_cjson(const struct inventory *inv)
{
	cJSON *root = cJSON_CreateObject(), *projects;
	bool ok = root != NULL && jsonint_add(root, "team_id", inv->team_id) &&
	    (projects = cJSON_AddArrayToObject(root, "projects")) != NULL;

	for (size_t i = 0; ok && i < inv->ds->n_projects; i++)
		ok = project_json(projects, inv, &inv->ds->projects[i]);
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int
inventory_print_json(const struct inventory *inv, struct buf *out)
{
	cJSON *root = inventory_to_cjson(inv);
	char *s, *clean;
	int rc;

	if (root == NULL)
		return -ENOMEM;
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (s == NULL)
		return -ENOMEM;
	clean = textesc_json_clean(s);   /* valid UTF-8, secrets masked */
	cJSON_free(s);
	if (clean == NULL)
		return -ENOMEM;
	if ((rc = buf_append(out, clean, strlen(clean))) == 0)
		rc = PUT(out, "\n");
	free(clean);
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
dep_text(struct buf *out, const struct inventory *inv, const struct desired_project *dp,
    const struct observed_deployment *d, const struct desired_deployment *want)
{
	char url[512], tmp[40];
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
	for (size_t i = 0; i < inv->os->n_domains; i++) {
		const struct observed_domain *m = &inv->os->domains[i];

		if (m->verification_time != 0 || strcmp(m->deployment, d->name) != 0)
			continue;
		if ((rc = PUT(out, "    pending domain: ")) || (rc = put_esc(out, m->domain)) ||
		    (rc = buf_appendf(out, " (%s): not verified yet\n",
		    desired_destination_name(m->destination))))
			return rc;
	}
	for (size_t i = 0; want != NULL && i < want->n_deploy_keys; i++) {
		char path[4096];
		bool file, live = key_live(inv->os, d->name, want->deploy_keys[i], &file);

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

int
inventory_print_text(const struct inventory *inv, struct buf *out)
{
	int rc = 0;

	if (inv->ds->n_projects == 0)
		return PUT(out, "No projects are declared.\n");
	for (size_t i = 0; rc == 0 && i < inv->ds->n_projects; i++) {
		const struct desired_project *dp = &inv->ds->projects[i];
		size_t count;
		const struct observed_project *lp = live_project(inv->os, dp->name, &count);

		if ((rc = PUT(out, "project \"")) || (rc = put_esc(out, dp->name)) ||
		    (rc = PUT(out, "\"")))
			break;
		if (count > 1) {
			rc = buf_appendf(out, ": %zu live projects carry this name "
			    "(conflict)\n", count);
			continue;
		}
		if (lp == NULL) {
			rc = buf_appendf(out, ": not live%s\n", dp->absent ?
			    " (declared absent)" : "");
			continue;
		}
		if ((rc = buf_appendf(out, " (id %lld, slug ", (long long)lp->id)) ||
		    (rc = put_esc(out, lp->slug)) ||
		    (rc = buf_appendf(out, ")%s\n", dp->absent ?
		    ": declared absent, still live" : "")))
			break;
		for (size_t k = 0; rc == 0 && k < inv->os->n_deployments; k++) {
			const struct observed_deployment *d = &inv->os->deployments[k];

			if (d->project_id == lp->id)
				rc = dep_text(out, inv, dp, d, declared_dep(dp, d->reference));
		}
		for (size_t k = 0; rc == 0 && k < dp->n_deployments; k++)
			if (!dp->deployments[k].absent &&
			    !is_live(inv->os, lp->id, dp->deployments[k].reference))
				rc = dep_text(out, inv, dp, NULL, &dp->deployments[k]);
	}
	return rc;
}
