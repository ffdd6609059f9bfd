/* api_routes.c: the single calls of the Management API (token details,
 * creates, deletes, get and update of a deployment): request bodies built
 * with cJSON, answers decoded by api_decode.c. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api_call.h"
#include "api_decode.h"
#include "log.h"

static void
on_token(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct api_token_info ti;
	struct api_error e;
	char why[256];

	if (rc != 0) {
		call->cb.token(call->arg, rc, err, 0);
		return;
	}
	if ((rc = api_decode_token_details(body, len, &ti, why, sizeof(why))) != 0) {
		call_decode_err(&e, call, rc, why);
		call->cb.token(call->arg, rc, &e, 0);
		return;
	}
	if (!ti.team_token) {
		call_set_err(&e, call, 200, "ProjectToken", "the token is a project "
		    "token (project %lld); the provisioner manages a team and "
		    "needs a team access token", (long long)ti.project_id);
		api_token_info_free(&ti);
		call->cb.token(call->arg, -EPERM, &e, 0);
		return;
	}
	call->cb.token(call->arg, 0, NULL, ti.team_id);
	api_token_info_free(&ti);
}

int
api_token_details(struct api_client *c, api_token_cb cb, void *arg)
{
	union user_cb u = { .token = cb };

	return call_start(c, "GET", "GET /token_details", "/token_details", NULL,
	    NULL, POL_IDEMPOTENT, on_token, u, arg, NULL);
}

static void
on_project_created(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct api_error e;
	char why[256], *slug = NULL;
	int64_t id = 0;

	if (rc != 0) {
		call->cb.created(call->arg, rc, err, 0, NULL);
		return;
	}
	if ((rc = api_decode_created_project(body, len, &id, &slug, why,
	    sizeof(why))) != 0) {
		call_decode_err(&e, call, rc, why);
		call->cb.created(call->arg, rc, &e, 0, NULL);
		return;
	}
	call->cb.created(call->arg, 0, NULL, id, slug);
	free(slug);
}

int
api_create_project(struct api_client *c, int64_t team, const char *name,
    api_project_created_cb cb, void *arg)
{
	union user_cb u = { .created = cb };
	char path[96];
	cJSON *o;
	char *body;
	int rc;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "projectName", name) == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if ((body = call_print_body(o)) == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/teams/%lld/create_project", (long long)team);
	rc = call_start(c, "POST", "POST /teams/{team}/create_project", path,
	    NULL, body, POL_CREATE, on_project_created, u, arg, NULL);
	cJSON_free(body);
	return rc;
}

static void
on_deployment(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct observed_deployment d;
	struct api_error e;
	char why[256];
	bool local;

	if (rc != 0) {
		call->cb.deployment(call->arg, rc, err, NULL);
		return;
	}
	if ((rc = api_decode_deployment(body, len, &d, &local, why,
	    sizeof(why))) != 0) {
		call_decode_err(&e, call, rc, why);
		call->cb.deployment(call->arg, rc, &e, NULL);
		return;
	}
	if (local) {
		call_set_err(&e, call, 200, "LocalDeployment", "a local deployment, "
		    "not managed here");
		call->cb.deployment(call->arg, -ENOENT, &e, NULL);
		return;
	}
	call->cb.deployment(call->arg, 0, NULL, &d);
	observed_deployment_free(&d);
}

int
api_create_deployment(struct api_client *c, int64_t project_id,
    const struct desired_deployment *want, api_deployment_cb cb, void *arg)
{
	union user_cb u = { .deployment = cb };
	char path[96];
	cJSON *o;
	char *body;
	bool ok;
	int rc;

	if ((o = cJSON_CreateObject()) == NULL)
		return -ENOMEM;
	ok = cJSON_AddStringToObject(o, "type", dep_type_name(want->type)) &&
	    cJSON_AddStringToObject(o, "reference", want->reference);
	if (ok && want->region != NULL)
		ok = cJSON_AddStringToObject(o, "region", want->region) != NULL;
	if (ok && want->class_name != NULL)
		ok = cJSON_AddStringToObject(o, "class", want->class_name) != NULL;
	if (ok && want->is_default != TRI_UNSET)
		ok = cJSON_AddBoolToObject(o, "isDefault",
		    want->is_default == TRI_TRUE) != NULL;
	/* SPEC section 8: create takes expiresAt (null: no expiry, which a
	 * preview deployment would otherwise get). */
	if (ok && want->expires == DESIRED_EXPIRES_NEVER)
		ok = cJSON_AddNullToObject(o, "expiresAt") != NULL;
	else if (ok && want->expires == DESIRED_EXPIRES_AT)
		ok = cJSON_AddNumberToObject(o, "expiresAt",
		    (double)want->expires_at_ms) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if ((body = call_print_body(o)) == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/projects/%lld/create_deployment",
	    (long long)project_id);
	rc = call_start(c, "POST", "POST /projects/{id}/create_deployment", path,
	    NULL, body, POL_CREATE, on_deployment, u, arg, NULL);
	cJSON_free(body);
	return rc;
}

static void
on_done(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	(void)body;
	(void)len;
	/* Deleting what is already gone is done. */
	if (rc == -ENOENT && call->policy == POL_DELETE) {
		log_debug("api: %s: already gone (404)", call->route);
		rc = 0;
		err = NULL;
	}
	call->cb.done(call->arg, rc, err);
}

int
api_delete_project(struct api_client *c, int64_t project_id, api_done_cb cb,
    void *arg)
{
	union user_cb u = { .done = cb };
	char path[96];

	snprintf(path, sizeof(path), "/projects/%lld/delete", (long long)project_id);
	return call_start(c, "POST", "POST /projects/{id}/delete", path, NULL,
	    NULL, POL_DELETE, on_done, u, arg, NULL);
}

int
api_delete_deployment(struct api_client *c, const char *name, api_done_cb cb,
    void *arg)
{
	union user_cb u = { .done = cb };
	char path[512];
	int rc;

	if ((rc = call_deployment_path(path, sizeof(path), name, "/delete")) != 0)
		return rc;
	return call_start(c, "POST", "POST /deployments/{name}/delete", path,
	    NULL, NULL, POL_DELETE, on_done, u, arg, NULL);
}

int
api_get_deployment(struct api_client *c, const char *name,
    api_deployment_cb cb, void *arg)
{
	union user_cb u = { .deployment = cb };
	char path[512];
	int rc;

	if ((rc = call_deployment_path(path, sizeof(path), name, "")) != 0)
		return rc;
	return call_start(c, "GET", "GET /deployments/{name}", path, NULL, NULL,
	    POL_IDEMPOTENT, on_deployment, u, arg, NULL);
}

int
api_update_deployment(struct api_client *c, const char *name,
    const char *json_body, api_done_cb cb, void *arg)
{
	union user_cb u = { .done = cb };
	char path[512];
	int rc;

	if (json_body == NULL)
		return -EINVAL;
	if ((rc = call_deployment_path(path, sizeof(path), name, "")) != 0)
		return rc;
	/* Setting fields to values is idempotent: retried like a GET. */
	return call_start(c, "PATCH", "PATCH /deployments/{name}", path, NULL,
	    json_body, POL_IDEMPOTENT, on_done, u, arg, NULL);
}
