/* json.c: projects, deployments, domains, keys and the whole state as JSON in the official shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

char *
json_print(cJSON *item)
{
	return cJSON_PrintUnformatted(item);
}

cJSON *
json_project(const struct sim_store *st, const struct sim_project *p)
{
	cJSON *o = cJSON_CreateObject();
	struct sim_deployment *prod, *dev;

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)p->id);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "slug", p->slug);
	cJSON_AddNumberToObject(o, "teamId", (double)st->team_id);
	cJSON_AddStringToObject(o, "teamSlug", st->team_slug);
	cJSON_AddNumberToObject(o, "createTime", (double)p->create_time);
	prod = store_project_default(p, DT_PROD);
	dev = store_project_default(p, DT_DEV);
	if (prod != NULL)
		cJSON_AddStringToObject(o, "prodDeploymentName", prod->name);
	else
		cJSON_AddNullToObject(o, "prodDeploymentName");
	if (dev != NULL)
		cJSON_AddStringToObject(o, "devDeploymentName", dev->name);
	else
		cJSON_AddNullToObject(o, "devDeploymentName");
	return o;
}

static void
add_time(cJSON *o, const char *key, bool has, int64_t v)
{
	if (has)
		cJSON_AddNumberToObject(o, key, (double)v);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *
json_deployment(const struct sim_deployment *d)
{
	cJSON *o = cJSON_CreateObject();
	char url[160];

	if (o == NULL)
		return NULL;
	if (d->kind == DEP_LOCAL) {
		cJSON_AddStringToObject(o, "kind", "local");
		cJSON_AddStringToObject(o, "name", d->name);
		cJSON_AddNumberToObject(o, "projectId", (double)d->project->id);
		cJSON_AddStringToObject(o, "deploymentType",
		    names_type_str(d->type));
		cJSON_AddStringToObject(o, "deviceName",
		    d->device_name ? d->device_name : "");
		cJSON_AddNumberToObject(o, "port", d->port);
		cJSON_AddBoolToObject(o, "isActive", d->is_active);
		cJSON_AddNumberToObject(o, "creator", (double)d->creator);
		cJSON_AddNumberToObject(o, "createTime", (double)d->create_time);
		return o;
	}
	names_deployment_url(d->name, d->region, url, sizeof(url));
	cJSON_AddStringToObject(o, "kind", "cloud");
	cJSON_AddNumberToObject(o, "id", (double)d->id);
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddNumberToObject(o, "projectId", (double)d->project->id);
	cJSON_AddStringToObject(o, "deploymentType", names_type_str(d->type));
	cJSON_AddStringToObject(o, "reference", d->reference);
	cJSON_AddStringToObject(o, "region", names_region_str(d->region));
	cJSON_AddStringToObject(o, "class", names_class_str(d->cls));
	cJSON_AddBoolToObject(o, "isDefault", d->is_default);
	cJSON_AddStringToObject(o, "deploymentUrl", url);
	cJSON_AddNumberToObject(o, "createTime", (double)d->create_time);
	cJSON_AddNumberToObject(o, "creator", (double)d->creator);
	add_time(o, "expiresAt", d->has_expires, d->expires_at);
	add_time(o, "lastDeployTime", d->has_last_deploy, d->last_deploy_time);
	/* Shown as the API applies them: an unset one is the type default. */
	cJSON_AddBoolToObject(o, "dashboardEditConfirmation",
	    store_edit_confirmation(d));
	cJSON_AddBoolToObject(o, "sendLogsToClient", store_logs_to_client(d));
	return o;
}

/* PlatformCustomDomainResponse */
cJSON *
json_domain(const struct sim_domain *dm)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "creationTime", (double)dm->creation_time);
	cJSON_AddStringToObject(o, "deploymentName", dm->dep->name);
	cJSON_AddStringToObject(o, "domain", dm->domain);
	cJSON_AddStringToObject(o, "requestDestination", names_dest_str(dm->dest));
	add_time(o, "verificationTime", dm->verified, dm->verification_time);
	return o;
}

/* PlatformDeployKeyResponse: never the secret (the simulator does not
 * have it; only its hash, which this does not show either). */
cJSON *
json_key(const struct sim_key *k)
{
	cJSON *o = cJSON_CreateObject(), *a;

	if (o == NULL)
		return NULL;
	a = cJSON_AddArrayToObject(o, "allowedActions");
	for (int i = 0; i < SIM_NACTIONS; i++)
		if (k->actions & (1u << i))
			cJSON_AddItemToArray(a,
			    cJSON_CreateString(names_action_str(i)));
	cJSON_AddNumberToObject(o, "creationTime", (double)k->creation_time);
	cJSON_AddNumberToObject(o, "creator", (double)k->creator);
	add_time(o, "expiresAt", k->has_expires, k->expires_at);
	cJSON_AddNumberToObject(o, "id", (double)k->id);
	cJSON_AddNullToObject(o, "lastUsedTime");
	cJSON_AddNullToObject(o, "managedBy");
	cJSON_AddStringToObject(o, "name", k->name);
	return o;
}

/* ---- the state document (GET /_sim/state, --state) */

static void
add_setting(cJSON *o, const char *key, int v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	if (v >= 0)
		cJSON_AddBoolToObject(o, key, v == 1);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *
state_project(const struct sim_store *st, const struct sim_project *p)
{
	cJSON *o = json_project(st, p), *a, *e;

	if (o == NULL || p->nenv == 0)
		return o;
	/* One item per (type, name): env values are in the state (a test-only
	 * route; docs/simulator.md says so). */
	a = cJSON_AddArrayToObject(o, "env");
	for (size_t i = 0; i < p->nenv; i++) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "deploymentType",
		    names_type_str(p->env[i].type));
		cJSON_AddStringToObject(e, "name", p->env[i].name);
		cJSON_AddStringToObject(e, "value", p->env[i].value);
		cJSON_AddItemToArray(a, e);
	}
	return o;
}

static cJSON *
state_deployment(const struct sim_deployment *d)
{
	cJSON *o = json_deployment(d), *a, *k;

	if (o == NULL)
		return NULL;
	if (d->kind == DEP_LOCAL) {
		/* No public id; keep their order on reload. */
		cJSON_AddNumberToObject(o, "id", (double)d->id);
		return o;
	}
	/* The settings as stored: null follows the type default. */
	add_setting(o, "dashboardEditConfirmation", d->dashboard_edit_confirmation);
	add_setting(o, "sendLogsToClient", d->send_logs_to_client);
	if (d->ndomains > 0) {
		a = cJSON_AddArrayToObject(o, "customDomains");
		for (size_t i = 0; i < d->ndomains; i++)
			cJSON_AddItemToArray(a, json_domain(d->domains[i]));
	}
	if (d->nkeys > 0) {
		a = cJSON_AddArrayToObject(o, "deployKeys");
		for (size_t i = 0; i < d->nkeys; i++) {
			k = json_key(d->keys[i]);
			cJSON_AddStringToObject(k, "secretHash",
			    d->keys[i]->secret_hash);
			cJSON_AddItemToArray(a, k);
		}
	}
	return o;
}

cJSON *
json_state(const struct sim_store *st)
{
	cJSON *root = cJSON_CreateObject(), *team, *projects, *deps;

	if (root == NULL)
		return NULL;
	team = cJSON_AddObjectToObject(root, "team");
	cJSON_AddNumberToObject(team, "id", (double)st->team_id);
	cJSON_AddStringToObject(team, "slug", st->team_slug);
	cJSON_AddNumberToObject(root, "nextProjectId",
	    (double)st->next_project_id);
	cJSON_AddNumberToObject(root, "nextDeploymentId",
	    (double)st->next_deployment_id);
	cJSON_AddNumberToObject(root, "nextDeployKeyId", (double)st->next_key_id);
	cJSON_AddNumberToObject(root, "version", (double)st->version);
	projects = cJSON_AddArrayToObject(root, "projects");
	for (size_t i = 0; i < st->nprojects; i++)
		if (!st->projects[i]->deleted)
			cJSON_AddItemToArray(projects,
			    state_project(st, st->projects[i]));
	deps = cJSON_AddArrayToObject(root, "deployments");
	for (size_t i = 0; i < st->ndeps; i++)
		if (!st->deps[i]->deleted)
			cJSON_AddItemToArray(deps, state_deployment(st->deps[i]));
	return root;
}

