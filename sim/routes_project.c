/* routes_project.c: create, get, update (name, slug) and delete a project. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "routes.h"

static void
effect_deployment(cJSON *e, const struct sim_deployment *d)
{
	cJSON_AddStringToObject(e, "name", d->name);
	cJSON_AddNumberToObject(e, "projectId", (double)d->project->id);
	cJSON_AddStringToObject(e, "reference", d->reference);
	cJSON_AddStringToObject(e, "deploymentType", names_type_str(d->type));
	cJSON_AddBoolToObject(e, "isDefault", d->is_default);
}

void
h_create_project(struct call *c)
{
	struct dep_spec spec;
	struct sim_project *p;
	struct sim_deployment *d = NULL;
	struct sim_err err = { 0 };
	const char *name, *type, *region, *cls, *why;
	cJSON *body, *o, *e;
	char url[160];
	int r;

	if ((body = body_object(c, NULL)) == NULL)
		return;
	memset(&spec, 0, sizeof(spec));
	spec.is_default = -1;
	if ((r = opt_string(c, body, "projectName", &name)) < 0 ||
	    opt_string(c, body, "deploymentType", &type) < 0 ||
	    opt_string(c, body, "deploymentRegion", &region) < 0 ||
	    opt_string(c, body, "deploymentClass", &cls) < 0)
		goto out;
	if (r == 1) {
		sim_reply_errorf(c->rp, 400, "BadRequest", "projectName is required");
		goto out;
	}
	if ((why = names_project_name_problem(name)) != NULL) {
		sim_reply_errorf(c->rp, 400, "InvalidProjectName",
		    "projectName %s", why);
		goto out;
	}
	if ((type != NULL && check_type(c, type, &spec.type) != 0) ||
	    (region != NULL && check_region(c, region, &spec.region) != 0) ||
	    (cls != NULL && check_class(c, cls, &spec.cls) != 0))
		goto out;
	spec.has_region = region != NULL;
	spec.has_class = cls != NULL;

	if ((p = store_project_create(c->st, name, &err)) == NULL) {
		sim_reply_error(c->rp, &err);
		goto out;
	}
	if (type != NULL &&
	    (d = store_deployment_create(c->st, p, &spec, &err)) == NULL) {
		store_project_delete(c->st, p);   /* all or nothing */
		sim_reply_error(c->rp, &err);
		goto out;
	}
	c->res->created = true;
	stats_create(true);
	e = call_effect(c, "create", "project");
	cJSON_AddNumberToObject(e, "id", (double)p->id);
	cJSON_AddStringToObject(e, "name", p->name);
	cJSON_AddStringToObject(e, "slug", p->slug);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)p->id);
	cJSON_AddNumberToObject(o, "projectId", (double)p->id);
	cJSON_AddStringToObject(o, "slug", p->slug);
	if (d != NULL) {
		stats_create(false);
		effect_deployment(cJSON_AddObjectToObject(e, "deployment"), d);
		names_deployment_url(d->name, d->region, url, sizeof(url));
		cJSON_AddStringToObject(o, "deploymentName", d->name);
		cJSON_AddStringToObject(o, "deploymentUrl", url);
	}
	sim_reply_json(c->rp, 200, o);
out:
	cJSON_Delete(body);
}

void
h_project(struct call *c)
{
	struct sim_project *p = path_project(c);

	if (p != NULL)
		sim_reply_json(c->rp, 200, json_project(c->st, p));
}

/* PlatformUpdateProjectArgs; answers the updated ProjectResponse. */
void
h_project_patch(struct call *c)
{
	static const char *const keys[] = { "name", "slug", NULL };
	struct sim_project *p = path_project(c);
	struct sim_err err = { 0 };
	const char *name, *slug;
	char *old_name = NULL, *old_slug = NULL;
	cJSON *body, *e, *ch;

	if (p == NULL || (body = body_object(c, keys)) == NULL)
		return;
	if (opt_string(c, body, "name", &name) < 0 ||
	    opt_string(c, body, "slug", &slug) < 0)
		goto out;
	old_name = strdup(p->name);
	old_slug = strdup(p->slug);
	if (old_name == NULL || old_slug == NULL) {
		sim_reply_errorf(c->rp, 500, "InternalServerError", "out of memory");
		goto out;
	}
	if (store_project_patch(c->st, p, name, slug, &err) != 0) {
		sim_reply_error(c->rp, &err);
		goto out;
	}
	e = call_effect(c, "update", "project");
	cJSON_AddNumberToObject(e, "id", (double)p->id);
	ch = cJSON_AddObjectToObject(e, "changes");
	if (name != NULL)
		effect_change(ch, "name", cJSON_CreateString(old_name),
		    cJSON_CreateString(p->name));
	if (slug != NULL)
		effect_change(ch, "slug", cJSON_CreateString(old_slug),
		    cJSON_CreateString(p->slug));
	sim_reply_json(c->rp, 200, json_project(c->st, p));
out:
	free(old_name);
	free(old_slug);
	cJSON_Delete(body);
}

void
h_project_delete(struct call *c)
{
	struct sim_project *p = path_project(c);
	cJSON *e, *a;

	if (p == NULL)
		return;
	e = call_effect(c, "delete", "project");
	cJSON_AddNumberToObject(e, "id", (double)p->id);
	cJSON_AddStringToObject(e, "name", p->name);
	a = cJSON_AddArrayToObject(e, "deployments");
	for (size_t i = 0; i < p->ndeps; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(p->deps[i]->name));
	store_project_delete(c->st, p);
	stats_delete(true);
	sim_reply_empty(c->rp, 200);
}
