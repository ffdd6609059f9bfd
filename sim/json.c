/* json.c: projects, deployments and the whole state as JSON in the official shapes, and state loading. */
#include <math.h>
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
add_tristate(cJSON *o, const char *key, int v)
{
	if (v >= 0)
		cJSON_AddBoolToObject(o, key, v);
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
	if (d->has_expires)
		cJSON_AddNumberToObject(o, "expiresAt", (double)d->expires_at);
	else
		cJSON_AddNullToObject(o, "expiresAt");
	if (d->has_last_deploy)
		cJSON_AddNumberToObject(o, "lastDeployTime",
		    (double)d->last_deploy_time);
	else
		cJSON_AddNullToObject(o, "lastDeployTime");
	add_tristate(o, "dashboardEditConfirmation",
	    d->dashboard_edit_confirmation);
	add_tristate(o, "sendLogsToClient", d->send_logs_to_client);
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
	projects = cJSON_AddArrayToObject(root, "projects");
	for (size_t i = 0; i < st->nprojects; i++)
		if (!st->projects[i]->deleted)
			cJSON_AddItemToArray(projects,
			    json_project(st, st->projects[i]));
	deps = cJSON_AddArrayToObject(root, "deployments");
	for (size_t i = 0; i < st->ndeps; i++) {
		const struct sim_deployment *d = st->deps[i];
		cJSON *o;

		if (d->deleted)
			continue;
		o = json_deployment(d);
		/* Local ones have no public id; keep their order on reload. */
		if (d->kind == DEP_LOCAL && o != NULL)
			cJSON_AddNumberToObject(o, "id", (double)d->id);
		cJSON_AddItemToArray(deps, o);
	}
	return root;
}

/* ---- loading */

static int
get_int(const cJSON *o, const char *key, bool required, int64_t *out,
    struct sim_err *err, const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v)) {
		if (required) {
			sim_err_set(err, 400, "BadRequest", "%s: \"%s\" is missing",
			    what, key);
			return -1;
		}
		return 1;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    fabs(v->valuedouble) > 9007199254740992.0) {
		sim_err_set(err, 400, "BadRequest", "%s: \"%s\" must be an integer",
		    what, key);
		return -1;
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int
get_str(const cJSON *o, const char *key, bool required, const char **out,
    struct sim_err *err, const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v)) {
		if (required) {
			sim_err_set(err, 400, "BadRequest", "%s: \"%s\" is missing",
			    what, key);
			return -1;
		}
		return 1;
	}
	if (!cJSON_IsString(v)) {
		sim_err_set(err, 400, "BadRequest", "%s: \"%s\" must be a string",
		    what, key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

static int
get_bool(const cJSON *o, const char *key, int *out, struct sim_err *err,
    const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsBool(v)) {
		sim_err_set(err, 400, "BadRequest", "%s: \"%s\" must be a boolean",
		    what, key);
		return -1;
	}
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return 0;
}

static int
load_project(struct sim_store *st, const cJSON *o, struct sim_err *err)
{
	int64_t id, ct = sim_now_ms();
	const char *name, *slug;

	if (!cJSON_IsObject(o)) {
		sim_err_set(err, 400, "BadRequest", "projects: items must be objects");
		return -1;
	}
	if (get_int(o, "id", true, &id, err, "project") < 0 ||
	    get_str(o, "name", true, &name, err, "project") < 0 ||
	    get_str(o, "slug", false, &slug, err, "project") < 0 ||
	    get_int(o, "createTime", false, &ct, err, "project") < 0)
		return -1;
	if (id <= 0) {
		sim_err_set(err, 400, "BadRequest", "project: id must be positive");
		return -1;
	}
	return store_project_load(st, id, name, slug, ct, err) ? 0 : -1;
}

/* Pass 0 loads the deployments that carry an id, pass 1 the local ones
 * without (they get fresh ids, which then cannot collide). */
static int
load_deployment(struct sim_store *st, const cJSON *o, int pass,
    struct sim_err *err)
{
	struct sim_deployment *d;
	const char *kind = NULL, *name, *type = NULL, *ref = NULL, *region = NULL;
	const char *cls = NULL, *device = NULL;
	int64_t id = 0, pid, v;
	int b, local, r;

	if (!cJSON_IsObject(o)) {
		sim_err_set(err, 400, "BadRequest",
		    "deployments: items must be objects");
		return -1;
	}
	if (get_str(o, "kind", false, &kind, err, "deployment") < 0 ||
	    get_str(o, "name", true, &name, err, "deployment") < 0 ||
	    get_int(o, "projectId", true, &pid, err, "deployment") < 0)
		return -1;
	local = kind != NULL && strcmp(kind, "local") == 0;
	if ((local && cJSON_GetObjectItemCaseSensitive(o, "id") == NULL) !=
	    (pass == 1))
		return 0;
	if (kind != NULL && !local && strcmp(kind, "cloud") != 0) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment %.64s: kind must be cloud or local", name);
		return -1;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		sim_err_set(err, 500, "InternalServerError", "out of memory");
		return -1;
	}
	d->kind = local ? DEP_LOCAL : DEP_CLOUD;
	d->dashboard_edit_confirmation = -1;
	d->send_logs_to_client = -1;
	d->creator = SIM_MEMBER_ID;
	d->create_time = sim_now_ms();
	d->type = local ? DT_DEV : DT_PROD;
	if ((d->name = strdup(name)) == NULL)
		goto oom;
	if ((d->project = store_project(st, pid)) == NULL) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment %.64s: no project %lld", name, (long long)pid);
		goto fail;
	}
	if (get_int(o, "id", !local, &id, err, "deployment") < 0 ||
	    get_str(o, "deploymentType", false, &type, err, "deployment") < 0 ||
	    get_int(o, "createTime", false, &d->create_time, err, "deployment") < 0 ||
	    get_int(o, "creator", false, &d->creator, err, "deployment") < 0)
		goto fail;
	if (local && id == 0)
		id = st->next_deployment_id;
	d->id = id;
	if (type != NULL && names_type_parse(type, &d->type) != 0) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment %.64s: unknown deploymentType", name);
		goto fail;
	}
	if (local) {
		int64_t port = 0;

		b = 0;
		if (get_str(o, "deviceName", false, &device, err, "deployment") < 0 ||
		    get_int(o, "port", false, &port, err, "deployment") < 0 ||
		    get_bool(o, "isActive", &b, err, "deployment") < 0)
			goto fail;
		d->port = (int)(port > 0 && port < 65536 ? port : 0);
		d->is_active = b == 1;
		if ((d->device_name = strdup(device ? device : "sim-laptop")) == NULL)
			goto oom;
		return store_deployment_insert(st, d, err);
	}
	if (get_str(o, "reference", true, &ref, err, "deployment") < 0 ||
	    get_str(o, "region", false, &region, err, "deployment") < 0 ||
	    get_str(o, "class", false, &cls, err, "deployment") < 0)
		goto fail;
	if (region != NULL && names_region_parse(region, &d->region) != 0) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment %.64s: unknown region", name);
		goto fail;
	}
	if (cls != NULL && names_class_parse(cls, &d->cls) != 0) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment %.64s: unknown class", name);
		goto fail;
	}
	if (store_project_reference(d->project, ref) != NULL) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment %.64s: reference \"%.100s\" is used twice in its project",
		    name, ref);
		goto fail;
	}
	if ((d->reference = strdup(ref)) == NULL)
		goto oom;
	b = 0;
	if (get_bool(o, "isDefault", &b, err, "deployment") < 0)
		goto fail;
	d->is_default = b == 1;
	if (d->is_default && store_project_default(d->project, d->type)) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment %.64s: a second default %s deployment", name,
		    names_type_str(d->type));
		goto fail;
	}
	if ((r = get_int(o, "expiresAt", false, &v, err, "deployment")) < 0)
		goto fail;
	d->has_expires = r == 0;
	d->expires_at = r == 0 ? v : 0;
	if ((r = get_int(o, "lastDeployTime", false, &v, err, "deployment")) < 0)
		goto fail;
	d->has_last_deploy = r == 0;
	d->last_deploy_time = r == 0 ? v : 0;
	if (get_bool(o, "dashboardEditConfirmation",
	    &d->dashboard_edit_confirmation, err, "deployment") < 0 ||
	    get_bool(o, "sendLogsToClient", &d->send_logs_to_client, err,
	    "deployment") < 0)
		goto fail;
	return store_deployment_insert(st, d, err);
oom:
	sim_err_set(err, 500, "InternalServerError", "out of memory");
fail:
	store_deployment_free(d);
	return -1;
}

int
json_state_load(struct sim_store *st, const cJSON *root, struct sim_err *err)
{
	const cJSON *projects, *deps, *item;
	int64_t v;

	err->status = 0;
	if (!cJSON_IsObject(root)) {
		sim_err_set(err, 400, "BadRequest", "state must be a JSON object");
		return -1;
	}
	projects = cJSON_GetObjectItemCaseSensitive(root, "projects");
	deps = cJSON_GetObjectItemCaseSensitive(root, "deployments");
	if ((projects != NULL && !cJSON_IsArray(projects)) ||
	    (deps != NULL && !cJSON_IsArray(deps))) {
		sim_err_set(err, 400, "BadRequest",
		    "state: projects and deployments must be arrays");
		return -1;
	}
	cJSON_ArrayForEach(item, projects)
		if (load_project(st, item, err) != 0)
			return -1;
	for (int pass = 0; pass < 2; pass++)
		cJSON_ArrayForEach(item, deps)
			if (load_deployment(st, item, pass, err) != 0)
				return -1;
	/* Keep ids from going backwards across a save and a load. */
	if (get_int(root, "nextProjectId", false, &v, err, "state") < 0 ||
	    get_int(root, "nextDeploymentId", false, &v, err, "state") < 0)
		return -1;
	if (get_int(root, "nextProjectId", false, &v, err, "state") == 0 &&
	    v > st->next_project_id)
		st->next_project_id = v;
	if (get_int(root, "nextDeploymentId", false, &v, err, "state") == 0 &&
	    v > st->next_deployment_id)
		st->next_deployment_id = v;
	return 0;
}
