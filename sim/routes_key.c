/* routes_key.c: create (the secret, once), list (never the secret) and delete a deployment's deploy keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "routes.h"

static int
parse_actions(struct call *c, const cJSON *a, uint32_t *out)
{
	const cJSON *it;

	*out = SIM_ALL_ACTIONS;   /* not given: a key that may do everything */
	if (a == NULL || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a)) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "allowedActions must be an array of action names");
		return -EINVAL;
	}
	*out = 0;
	cJSON_ArrayForEach(it, a) {
		int i = cJSON_IsString(it) ? names_action_parse(it->valuestring) :
		    -EINVAL;

		if (i < 0) {
			sim_reply_errorf(c->rp, 400, "BadRequest",
			    "allowedActions: unknown action \"%.64s\"",
			    cJSON_IsString(it) ? it->valuestring : "(not a string)");
			return -EINVAL;
		}
		*out |= 1u << i;
	}
	return 0;
}

/* PlatformCreateDeployKeyArgs -> {"deployKey": SECRET}: the only time the
 * secret is shown. */
void
h_key_create(struct call *c)
{
	static const char *const keys[] = {
		"allowedActions", "expiresAt", "name", NULL,
	};
	struct sim_deployment *d = path_deployment(c);
	struct sim_err err = { 0 };
	struct key_spec spec;
	char *secret = NULL;
	cJSON *body, *o, *e;
	int r;

	if (d == NULL || (body = body_object(c, keys)) == NULL)
		return;
	memset(&spec, 0, sizeof(spec));
	if ((r = opt_string(c, body, "name", &spec.name)) < 0)
		goto out;
	if (r == 1) {
		sim_reply_errorf(c->rp, 400, "BadRequest", "name is required");
		goto out;
	}
	if ((r = opt_int(c, body, "expiresAt", &spec.expires_at)) < 0 ||
	    parse_actions(c, cJSON_GetObjectItemCaseSensitive(body,
	    "allowedActions"), &spec.actions) != 0)
		goto out;
	spec.has_expires = r == 0;
	if (store_key_create(c->st, d, &spec, &secret, &err) != 0) {
		sim_reply_error(c->rp, &err);
		goto out;
	}
	c->res->created = true;
	e = call_effect(c, "create", "deployKey");
	cJSON_AddStringToObject(e, "deployment", d->name);
	cJSON_AddStringToObject(e, "name", spec.name);
	cJSON_AddNumberToObject(e, "id", (double)d->keys[d->nkeys - 1]->id);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "deployKey", secret);
	sim_reply_json(c->rp, 200, o);
out:
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	cJSON_Delete(body);
}

/* PlatformDeployKeyResponse[]: a plain array, oldest first, no secrets. */
void
h_key_list(struct call *c)
{
	struct sim_deployment *d = path_deployment(c);
	cJSON *a;

	if (d == NULL)
		return;
	a = cJSON_CreateArray();
	for (size_t i = 0; i < d->nkeys; i++)
		cJSON_AddItemToArray(a, json_key(d->keys[i]));
	sim_reply_json(c->rp, 200, a);
}

/* PlatformDeleteDeployKeyArgs {"id"}: the key's name, its full secret, or
 * the secret's token part. 200 with an empty body. */
void
h_key_delete(struct call *c)
{
	static const char *const keys[] = { "id", NULL };
	struct sim_deployment *d = path_deployment(c);
	struct sim_err err = { 0 };
	const char *id;
	char name[128];
	cJSON *body, *e;

	if (d == NULL || (body = body_object(c, keys)) == NULL)
		return;
	if (opt_string(c, body, "id", &id) != 0) {
		if (c->rp->status == 0)
			sim_reply_errorf(c->rp, 400, "BadRequest", "id is required");
	} else if (store_key_delete(d, id, name, sizeof(name), &err) != 0) {
		sim_reply_error(c->rp, &err);
	} else {
		e = call_effect(c, "delete", "deployKey");
		cJSON_AddStringToObject(e, "deployment", d->name);
		cJSON_AddStringToObject(e, "name", name);
		sim_reply_empty(c->rp, 200);
	}
	cJSON_Delete(body);
}
