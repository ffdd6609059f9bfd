/* routes_deployment.c: create, get, update (PlatformUpdateDeploymentArgs) and delete a cloud deployment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "routes.h"

void
h_create_deployment(struct call *c)
{
	struct sim_project *p = path_project(c);
	struct sim_deployment *d;
	struct sim_err err = { 0 };
	struct dep_spec spec;
	const char *type, *region, *cls;
	cJSON *body, *e;
	int r, b = 0;
	int64_t exp = 0;

	if (p == NULL || (body = body_object(c, NULL)) == NULL)
		return;
	memset(&spec, 0, sizeof(spec));
	spec.is_default = -1;
	if ((r = opt_string(c, body, "type", &type)) < 0 ||
	    opt_string(c, body, "reference", &spec.reference) < 0 ||
	    opt_string(c, body, "region", &region) < 0 ||
	    opt_string(c, body, "class", &cls) < 0)
		goto out;
	if (r == 1) {
		sim_reply_errorf(c->rp, 400, "BadRequest", "type is required");
		goto out;
	}
	if (check_type(c, type, &spec.type) != 0 ||
	    (region && check_region(c, region, &spec.region) != 0) ||
	    (cls && check_class(c, cls, &spec.cls) != 0))
		goto out;
	spec.has_region = region != NULL;
	spec.has_class = cls != NULL;
	if ((r = opt_bool(c, body, "isDefault", &b)) < 0)
		goto out;
	if (r == 0)
		spec.is_default = b;
	if ((r = opt_int(c, body, "expiresAt", &exp)) < 0)
		goto out;
	if (r == 0 || present_null(body, "expiresAt")) {
		spec.has_expires = true;
		spec.expires_null = r != 0;
		spec.expires_at = exp;
	}
	if ((d = store_deployment_create(c->st, p, &spec, &err)) == NULL) {
		sim_reply_error(c->rp, &err);
		goto out;
	}
	c->res->created = true;
	stats_create(false);
	e = call_effect(c, "create", "deployment");
	cJSON_AddStringToObject(e, "name", d->name);
	cJSON_AddNumberToObject(e, "projectId", (double)p->id);
	cJSON_AddStringToObject(e, "reference", d->reference);
	cJSON_AddStringToObject(e, "deploymentType", names_type_str(d->type));
	cJSON_AddBoolToObject(e, "isDefault", d->is_default);
	sim_reply_json(c->rp, 200, json_deployment(d));
out:
	cJSON_Delete(body);
}

void
h_deployment(struct call *c)
{
	struct sim_deployment *d = path_deployment(c);

	if (d != NULL)
		sim_reply_json(c->rp, 200, json_deployment(d));
}

/* -2 absent, -1 null (reset to the type default), 0 or 1. */
static int
setting(struct call *c, const cJSON *body, const char *key, int *out)
{
	int b = 0, r = opt_bool(c, body, key, &b);

	if (r < 0)
		return r;
	*out = r == 0 ? b : present_null(body, key) ? -1 : -2;
	return 0;
}

/* The body of a PATCH into pt; -EINVAL after a 400. Null means "leave it"
 * for class, reference, isDefault and deploymentType (as for an absent
 * field), "clear" for expiresAt and "reset" for the two settings. */
static int
parse_patch(struct call *c, const cJSON *body, struct dep_patch *pt)
{
	const char *cls, *type;
	int b = 0, r;

	memset(pt, 0, sizeof(*pt));
	pt->is_default = -1;
	if (opt_string(c, body, "class", &cls) < 0 ||
	    opt_string(c, body, "reference", &pt->reference) < 0 ||
	    opt_string(c, body, "deploymentType", &type) < 0 ||
	    (cls != NULL && check_class(c, cls, &pt->cls) != 0) ||
	    (type != NULL && check_type(c, type, &pt->type) != 0))
		return -EINVAL;
	pt->has_class = cls != NULL;
	pt->has_type = type != NULL;
	if ((r = opt_bool(c, body, "isDefault", &b)) < 0)
		return r;
	if (r == 0)
		pt->is_default = b;
	if ((r = opt_int(c, body, "expiresAt", &pt->expires_at)) < 0)
		return r;
	pt->has_expires = r == 0 || present_null(body, "expiresAt");
	pt->expires_null = r != 0;
	if ((r = setting(c, body, "dashboardEditConfirmation",
	    &pt->edit_confirmation)) < 0 ||
	    (r = setting(c, body, "sendLogsToClient", &pt->logs_to_client)) < 0)
		return r;
	return 0;
}

/* What a PATCH touches, before and after, for the effect record. */
struct patch_view {
	char reference[128];
	const char *cls, *type;
	bool is_default, confirm, logs, has_expires;
	int64_t expires_at;
};

static void
view_of(const struct sim_deployment *d, struct patch_view *v)
{
	snprintf(v->reference, sizeof(v->reference), "%s", d->reference);
	v->cls = names_class_str(d->cls);
	v->type = names_type_str(d->type);
	v->is_default = d->is_default;
	v->confirm = store_edit_confirmation(d);
	v->logs = store_logs_to_client(d);
	v->has_expires = d->has_expires;
	v->expires_at = d->expires_at;
}

static cJSON *
time_json(bool has, int64_t t)
{
	return has ? cJSON_CreateNumber((double)t) : cJSON_CreateNull();
}

static void
patch_effect(struct call *c, const struct sim_deployment *d,
    const cJSON *body, const struct patch_view *a, const struct patch_view *b)
{
	cJSON *e = call_effect(c, "update", "deployment"), *ch;

	cJSON_AddStringToObject(e, "name", d->name);
	cJSON_AddNumberToObject(e, "projectId", (double)d->project->id);
	cJSON_AddStringToObject(e, "reference", d->reference);
	ch = cJSON_AddObjectToObject(e, "changes");
	/* The fields the body named (a null one included), in the d.ts order. */
#define NAMED(k) (cJSON_GetObjectItemCaseSensitive(body, k) != NULL)
	if (NAMED("class"))
		effect_change(ch, "class", cJSON_CreateString(a->cls),
		    cJSON_CreateString(b->cls));
	if (NAMED("dashboardEditConfirmation"))
		effect_change(ch, "dashboardEditConfirmation",
		    cJSON_CreateBool(a->confirm), cJSON_CreateBool(b->confirm));
	if (NAMED("deploymentType"))
		effect_change(ch, "deploymentType", cJSON_CreateString(a->type),
		    cJSON_CreateString(b->type));
	if (NAMED("expiresAt"))
		effect_change(ch, "expiresAt", time_json(a->has_expires,
		    a->expires_at), time_json(b->has_expires, b->expires_at));
	if (NAMED("isDefault"))
		effect_change(ch, "isDefault", cJSON_CreateBool(a->is_default),
		    cJSON_CreateBool(b->is_default));
	if (NAMED("reference"))
		effect_change(ch, "reference", cJSON_CreateString(a->reference),
		    cJSON_CreateString(b->reference));
	if (NAMED("sendLogsToClient"))
		effect_change(ch, "sendLogsToClient", cJSON_CreateBool(a->logs),
		    cJSON_CreateBool(b->logs));
#undef NAMED
}

/* PlatformUpdateDeploymentArgs: 200 with an empty body; all or nothing. */
void
h_deployment_patch(struct call *c)
{
	static const char *const keys[] = {
		"class", "dashboardEditConfirmation", "deploymentType",
		"expiresAt", "isDefault", "reference", "sendLogsToClient", NULL,
	};
	struct sim_deployment *d = path_deployment(c);
	struct sim_err err = { 0 };
	struct patch_view before, after;
	struct dep_patch pt;
	cJSON *body;

	if (d == NULL || (body = body_object(c, keys)) == NULL)
		return;
	if (parse_patch(c, body, &pt) != 0)
		goto out;
	view_of(d, &before);
	if (store_deployment_patch(c->st, d, &pt, &err) != 0) {
		sim_reply_error(c->rp, &err);
		goto out;
	}
	view_of(d, &after);
	patch_effect(c, d, body, &before, &after);
	sim_reply_empty(c->rp, 200);
out:
	cJSON_Delete(body);
}

void
h_deployment_delete(struct call *c)
{
	struct sim_deployment *d = path_deployment(c);
	cJSON *e;

	if (d == NULL)
		return;
	e = call_effect(c, "delete", "deployment");
	cJSON_AddStringToObject(e, "name", d->name);
	cJSON_AddNumberToObject(e, "projectId", (double)d->project->id);
	cJSON_AddStringToObject(e, "reference", d->reference);
	store_deployment_delete(c->st, d);
	stats_delete(false);
	sim_reply_empty(c->rp, 200);
}
