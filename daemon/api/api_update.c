/* api_update.c: PATCH /deployments/{name} and PATCH /projects/{id} (SPEC
 * section 8), their bodies built with cJSON from typed arguments. */
#include "api_update.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api_call.h"

void
api_deployment_patch_init(struct api_deployment_patch *p)
{
	memset(p, 0, sizeof(*p));
	p->is_default = -1;
	p->dashboard_edit_confirmation = -1;
	p->send_logs_to_client = -1;
}

static bool
add_bool(cJSON *o, const char *key, int v)
{
	return v < 0 || cJSON_AddBoolToObject(o, key, v != 0) != NULL;
}

static bool
add_str(cJSON *o, const char *key, const char *v)
{
	return v == NULL || cJSON_AddStringToObject(o, key, v) != NULL;
}

/* The object printed, or NULL when it is empty (nothing to send). */
static char *
print_nonempty(cJSON *o, bool ok)
{
	char *s = NULL;

	if (ok && o != NULL && o->child != NULL)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

char *
api_deployment_patch_body(const struct api_deployment_patch *p)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	ok = ok && add_str(o, "reference", p->reference) &&
	    add_str(o, "class", p->class_name) &&
	    add_bool(o, "isDefault", p->is_default) &&
	    add_bool(o, "dashboardEditConfirmation", p->dashboard_edit_confirmation) &&
	    add_bool(o, "sendLogsToClient", p->send_logs_to_client);
	if (ok && p->set_expires)
		ok = (p->expires_at == 0 ? cJSON_AddNullToObject(o, "expiresAt") :
		    cJSON_AddNumberToObject(o, "expiresAt", (double)p->expires_at)) != NULL;
	return print_nonempty(o, ok);
}

char *
api_project_patch_body(const struct api_project_patch *p)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	ok = ok && add_str(o, "name", p->name) && add_str(o, "slug", p->slug);
	return print_nonempty(o, ok);
}

static void
on_patched(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	/* The answer (a ProjectResponse, or nothing) is not needed: the next
	 * observation shows the result. */
	(void)body;
	(void)len;
	call->cb.done(call->arg, rc, err);
}

int
api_patch_deployment(struct api_client *c, const char *name,
    const struct api_deployment_patch *p, api_done_cb cb, void *arg)
{
	char *body = api_deployment_patch_body(p);
	int rc;

	if (body == NULL)
		return -EINVAL;
	rc = api_update_deployment(c, name, body, cb, arg);
	cJSON_free(body);
	return rc;
}

int
api_update_project(struct api_client *c, int64_t project_id,
    const struct api_project_patch *p, api_done_cb cb, void *arg)
{
	union user_cb u = { .done = cb };
	char path[96], *body;
	int rc;

	if (project_id <= 0 || (body = api_project_patch_body(p)) == NULL)
		return -EINVAL;
	snprintf(path, sizeof(path), "/projects/%lld", (long long)project_id);
	/* Setting fields to values is idempotent: retried like a GET. */
	rc = call_start(c, "PATCH", "PATCH /projects/{id}", path, NULL, body,
	    POL_IDEMPOTENT, on_patched, u, arg, NULL);
	cJSON_free(body);
	return rc;
}
