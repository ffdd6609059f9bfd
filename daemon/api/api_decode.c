/* api_decode.c: Management API JSON (cJSON) to model structs; pure, bounded,
 * every error names the field it is about. */
#include "api_decode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonget.h"
#include "jsonscan.h"

static int
fail(char *err, size_t errlen, const char *where, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
fail(char *err, size_t errlen, const char *where, const char *field,
    const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err != NULL && errlen > 0) {
		if (where != NULL && *where != '\0' && field != NULL)
			snprintf(err, errlen, "%s.%s: %s", where, field, what);
		else if (field != NULL)
			snprintf(err, errlen, "%s: %s", field, what);
		else if (where != NULL && *where != '\0')
			snprintf(err, errlen, "%s: %s", where, what);
		else
			snprintf(err, errlen, "%s", what);
	}
	return -EBADMSG;
}

/* One JSON document and nothing after it; no string may hold U+0000 (cJSON
 * would cut it there, so "shop\u0000-prod" would read as "shop": the whole
 * body is refused, as a DecodeError; jsonscan.h). */
static cJSON *
parse(const char *body, size_t len, char *err, size_t errlen)
{
	char why[200];
	cJSON *root;

	if (body == NULL || len == 0) {
		fail(err, errlen, NULL, NULL, "empty body, expected JSON");
		return NULL;
	}
	if ((root = jsonscan_parse(body, len, why, sizeof(why))) == NULL)
		fail(err, errlen, NULL, NULL, "%s", why);
	return root;
}

/* The getters of jsonget.h with this file's messages ("items[3].id:
 * expected an integer"); a missing member is an error only when required. */
static int
get_int(const cJSON *obj, const char *name, bool required, int64_t *out,
    const char *where, char *err, size_t errlen)
{
	int rc = jsonget_int(obj, name, out);

	if (rc == -ENOENT)
		return required ? fail(err, errlen, where, name, "missing") : 0;
	return rc == 0 ? 0 : fail(err, errlen, where, name, "expected an integer");
}

/* *out is only set on success, allocated (NULL when missing). */
static int
get_str(const cJSON *obj, const char *name, bool required, char **out,
    const char *where, char *err, size_t errlen)
{
	const char *s;
	int rc = jsonget_str(obj, name, &s);

	if (rc == -ENOENT) {
		if (required)
			return fail(err, errlen, where, name, "missing");
		*out = NULL;
		return 0;
	}
	if (rc != 0)
		return fail(err, errlen, where, name, "expected a string");
	return (*out = strdup(s)) == NULL ? -ENOMEM : 0;
}

static int
get_bool(const cJSON *obj, const char *name, bool required, bool *out,
    const char *where, char *err, size_t errlen)
{
	int rc = jsonget_bool(obj, name, out);

	if (rc == -ENOENT)
		return required ? fail(err, errlen, where, name, "missing") : 0;
	return rc == 0 ? 0 : fail(err, errlen, where, name,
	    "expected true or false");
}

static int
decode_project(const cJSON *o, const char *where, struct observed_project *p,
    char *err, size_t errlen)
{
	int rc;

	/* p is never NULL: projects_from_array allocates one slot per element
	 * cJSON_GetArraySize counts, the same list cJSON_ArrayForEach walks
	 * (libcjson's code, which the analyzer does not see). */
	memset(p, 0, sizeof(*p)); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
	if (!cJSON_IsObject(o))
		return fail(err, errlen, where, NULL, "expected an object");
	if ((rc = get_int(o, "id", true, &p->id, where, err, errlen)) != 0 ||
	    (rc = get_str(o, "name", true, &p->name, where, err, errlen)) != 0 ||
	    (rc = get_str(o, "slug", true, &p->slug, where, err, errlen)) != 0 ||
	    (rc = get_int(o, "createTime", false, &p->create_time, where, err,
	    errlen)) != 0) {
		observed_project_free(p);
		return rc;
	}
	return 0;
}

/* A boolean that may be absent or null: -1 then. */
static int
get_tristate(const cJSON *obj, const char *name, signed char *out,
    const char *where, char *err, size_t errlen)
{
	bool b = false;
	int rc;

	*out = -1;
	if (jsonget_member(obj, name) == NULL)
		return 0;
	if ((rc = get_bool(obj, name, true, &b, where, err, errlen)) != 0)
		return rc;
	*out = b ? 1 : 0;
	return 0;
}

/* The fields of SPEC section 8 (all optional in PlatformDeploymentResponse)
 * and deploymentUrl, kept only when it is not the usual one (model.h). */
static int
decode_deployment_settings(const cJSON *o, const char *where,
    struct observed_deployment *d, char *err, size_t errlen)
{
	char *url = NULL, usual[256];
	int rc;

	if ((rc = get_tristate(o, "dashboardEditConfirmation",
	    &d->dashboard_edit_confirmation, where, err, errlen)) != 0 ||
	    (rc = get_tristate(o, "sendLogsToClient", &d->send_logs_to_client,
	    where, err, errlen)) != 0 ||
	    (rc = get_int(o, "expiresAt", false, &d->expires_at, where, err,
	    errlen)) != 0)
		return rc;
	if (d->expires_at < 0)
		return fail(err, errlen, where, "expiresAt", "expected a time "
		    "after 1970");
	if ((rc = get_str(o, "deploymentUrl", false, &url, where, err,
	    errlen)) != 0)
		return rc;
	snprintf(usual, sizeof(usual), "https://%s.convex.cloud", d->name);
	if (url != NULL && strcmp(url, usual) == 0) {
		free(url);
		url = NULL;
	}
	d->url = url;
	return 0;
}

/* Sets *is_local for "kind":"local" (nothing else is read from it). */
static int
decode_deployment(const cJSON *o, const char *where,
    struct observed_deployment *d, bool *is_local, char *err, size_t errlen)
{
	const cJSON *kind;
	char *type = NULL;
	int rc;

	/* d is never NULL, as in decode_project (deployments_from_array). */
	memset(d, 0, sizeof(*d)); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
	*is_local = false;
	if (!cJSON_IsObject(o))
		return fail(err, errlen, where, NULL, "expected an object");
	kind = jsonget_member(o, "kind");
	if (kind == NULL)
		return fail(err, errlen, where, "kind", "missing");
	if (!cJSON_IsString(kind))
		return fail(err, errlen, where, "kind", "expected a string");
	if (strcmp(kind->valuestring, "local") == 0) {
		*is_local = true;
		return 0;
	}
	/* An unknown kind fails the listing: guessing could make the plan
	 * create a duplicate or miss a deletion. */
	if (strcmp(kind->valuestring, "cloud") != 0)
		return fail(err, errlen, where, "kind", "unknown kind \"%.64s\"",
		    kind->valuestring);
	if ((rc = get_int(o, "id", true, &d->id, where, err, errlen)) != 0 ||
	    (rc = get_str(o, "name", true, &d->name, where, err, errlen)) != 0 ||
	    (rc = get_int(o, "projectId", true, &d->project_id, where, err,
	    errlen)) != 0 ||
	    (rc = get_str(o, "deploymentType", true, &type, where, err,
	    errlen)) != 0 ||
	    (rc = get_str(o, "reference", true, &d->reference, where, err,
	    errlen)) != 0 ||
	    (rc = get_str(o, "region", true, &d->region, where, err,
	    errlen)) != 0 ||
	    (rc = get_str(o, "class", true, &d->class_name, where, err,
	    errlen)) != 0 ||
	    (rc = get_bool(o, "isDefault", true, &d->is_default, where, err,
	    errlen)) != 0 ||
	    (rc = get_int(o, "createTime", false, &d->create_time, where, err,
	    errlen)) != 0 ||
	    (rc = decode_deployment_settings(o, where, d, err, errlen)) != 0)
		goto out;
	if (dep_type_parse(type, &d->type) != 0)
		rc = fail(err, errlen, where, "deploymentType",
		    "unknown type \"%.64s\"", type);
out:
	free(type);
	if (rc != 0)
		observed_deployment_free(d);
	return rc;
}

static int
decode_page(const cJSON *root, struct api_page *page, char *err, size_t errlen)
{
	const cJSON *pg = jsonget_member(root, "pagination");
	int rc;

	page->has_more = false;
	page->next_cursor = NULL;
	page->n_items = 0;
	if (pg == NULL)
		return fail(err, errlen, NULL, "pagination", "missing");
	if (!cJSON_IsObject(pg))
		return fail(err, errlen, NULL, "pagination", "expected an object");
	if ((rc = get_bool(pg, "hasMore", true, &page->has_more, "pagination",
	    err, errlen)) != 0)
		return rc;
	/* A page that does not decode promises nothing more (fuzz_api_decode:
	 * hasMore true with a numeric nextCursor left has_more set). */
	if ((rc = get_str(pg, "nextCursor", false, &page->next_cursor,
	    "pagination", err, errlen)) != 0)
		page->has_more = false;
	return rc;
}

static int
projects_from_array(const cJSON *arr, const char *name,
    struct observed_project **items, size_t *n, char *err, size_t errlen)
{
	struct observed_project *v = NULL;
	const cJSON *it;
	size_t count, i = 0;
	char where[64];
	int rc;

	*items = NULL;
	*n = 0;
	if (!cJSON_IsArray(arr))
		return fail(err, errlen, NULL, name, "expected an array");
	count = (size_t)cJSON_GetArraySize(arr);
	if (count > 0 && (v = calloc(count, sizeof(*v))) == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(it, arr) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i);
		if ((rc = decode_project(it, where, &v[i], err, errlen)) != 0) {
			api_projects_free(v, i);
			return rc;
		}
		i++;
	}
	*items = v;
	*n = i;
	return 0;
}

static int
deployments_from_array(const cJSON *arr, const char *name,
    struct observed_deployment **items, size_t *n, char *err, size_t errlen)
{
	struct observed_deployment *v = NULL;
	const cJSON *it;
	size_t count, i = 0, k = 0;
	char where[64];
	bool local;
	int rc;

	*items = NULL;
	*n = 0;
	if (!cJSON_IsArray(arr))
		return fail(err, errlen, NULL, name, "expected an array");
	count = (size_t)cJSON_GetArraySize(arr);
	if (count > 0 && (v = calloc(count, sizeof(*v))) == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(it, arr) {
		snprintf(where, sizeof(where), "%s[%zu]", name, i++);
		if ((rc = decode_deployment(it, where, &v[k], &local, err,
		    errlen)) != 0) {
			api_deployments_free(v, k);
			return rc;
		}
		if (!local)
			k++;
	}
	if (k == 0) {
		free(v);
		v = NULL;
	}
	*items = v;
	*n = k;
	return 0;
}

/* The envelope shared by every paginated answer: a JSON object with an
 * "items" array and "pagination". On success *root is the parsed document
 * (the caller deletes it) and *arr its items; on failure nothing is left. */
static int
open_page(const char *body, size_t len, cJSON **root, const cJSON **arr,
    struct api_page *page, char *err, size_t errlen)
{
	int rc;

	page->has_more = false;
	page->next_cursor = NULL;
	page->n_items = 0;
	if ((*root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	if (!cJSON_IsObject(*root))
		rc = fail(err, errlen, NULL, NULL, "expected a JSON object");
	else if ((*arr = jsonget_member(*root, "items")) == NULL)
		rc = fail(err, errlen, NULL, "items", "missing");
	else
		rc = decode_page(*root, page, err, errlen);
	if (rc == 0 && cJSON_IsArray(*arr))
		page->n_items = (size_t)cJSON_GetArraySize(*arr);
	if (rc != 0) {
		cJSON_Delete(*root);
		*root = NULL;
	}
	return rc;
}

int
api_decode_projects_page(const char *body, size_t len,
    struct observed_project **items, size_t *n, struct api_page *page,
    char *err, size_t errlen)
{
	cJSON *root;
	const cJSON *arr = NULL;
	int rc;

	*items = NULL;
	*n = 0;
	if ((rc = open_page(body, len, &root, &arr, page, err, errlen)) != 0)
		return rc;
	if ((rc = projects_from_array(arr, "items", items, n, err, errlen)) != 0)
		api_page_free(page);
	cJSON_Delete(root);
	return rc;
}

int
api_decode_projects_array(const char *body, size_t len,
    struct observed_project **items, size_t *n, char *err, size_t errlen)
{
	cJSON *root;
	int rc;

	*items = NULL;
	*n = 0;
	if ((root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	rc = projects_from_array(root, "projects", items, n, err, errlen);
	cJSON_Delete(root);
	return rc;
}

int
api_decode_deployments_page(const char *body, size_t len,
    struct observed_deployment **items, size_t *n, struct api_page *page,
    char *err, size_t errlen)
{
	cJSON *root;
	const cJSON *arr = NULL;
	int rc;

	*items = NULL;
	*n = 0;
	if ((rc = open_page(body, len, &root, &arr, page, err, errlen)) != 0)
		return rc;
	if ((rc = deployments_from_array(arr, "items", items, n, err,
	    errlen)) != 0)
		api_page_free(page);
	cJSON_Delete(root);
	return rc;
}

int
api_decode_deployments_array(const char *body, size_t len,
    struct observed_deployment **items, size_t *n, char *err, size_t errlen)
{
	cJSON *root;
	int rc;

	*items = NULL;
	*n = 0;
	if ((root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	rc = deployments_from_array(root, "deployments", items, n, err, errlen);
	cJSON_Delete(root);
	return rc;
}

int
api_decode_deployment(const char *body, size_t len,
    struct observed_deployment *out, bool *is_local, char *err, size_t errlen)
{
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	*is_local = false;
	if ((root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	rc = decode_deployment(root, "", out, is_local, err, errlen);
	cJSON_Delete(root);
	return rc;
}

int
api_decode_created_project(const char *body, size_t len, int64_t *id,
    char **slug, char *err, size_t errlen)
{
	cJSON *root;
	int rc;

	*id = 0;
	*slug = NULL;
	if ((root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	if (!cJSON_IsObject(root)) {
		rc = fail(err, errlen, NULL, NULL, "expected a JSON object");
		goto out;
	}
	/* Older APIs answer only "projectId"; newer ones "id" (and the alias). */
	if (jsonget_member(root, "id") != NULL)
		rc = get_int(root, "id", true, id, NULL, err, errlen);
	else
		rc = get_int(root, "projectId", true, id, NULL, err, errlen);
	if (rc != 0)
		goto out;
	rc = get_str(root, "slug", false, slug, NULL, err, errlen);
out:
	cJSON_Delete(root);
	return rc;
}

int
api_decode_token_details(const char *body, size_t len,
    struct api_token_info *out, char *err, size_t errlen)
{
	cJSON *root;
	char *type = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	if (!cJSON_IsObject(root)) {
		rc = fail(err, errlen, NULL, NULL, "expected a JSON object");
		goto out;
	}
	if ((rc = get_str(root, "type", true, &type, NULL, err, errlen)) != 0)
		goto out;
	/* A required field: get_str set type or returned fail()'s -EBADMSG.
	 * The analyzer never inlines a variadic function like fail(), so it
	 * takes its result for a possible 0. */
	if (strcmp(type, "teamToken") == 0) { /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
		out->team_token = true;
		rc = get_int(root, "teamId", true, &out->team_id, NULL, err,
		    errlen);
	} else if (strcmp(type, "projectToken") == 0) {
		rc = get_int(root, "projectId", true, &out->project_id, NULL,
		    err, errlen);
	} else {
		rc = fail(err, errlen, NULL, "type", "unknown token type \"%.64s\"",
		    type);
	}
	if (rc == 0)
		rc = get_str(root, "name", false, &out->name, NULL, err, errlen);
	if (rc != 0)
		api_token_info_free(out);
out:
	free(type);
	cJSON_Delete(root);
	return rc;
}

int
api_decode_error_body(const char *body, size_t len, char *code,
    size_t codelen, char *message, size_t msglen)
{
	const cJSON *v;
	cJSON *root;
	char why[200];

	if (codelen > 0)
		code[0] = '\0';
	if (msglen > 0)
		message[0] = '\0';
	/* Held to the same rules as every body: a message with a NUL in it
	 * is shown as the body's text instead, never cut at the NUL. */
	if ((root = jsonscan_parse(body, len, why, sizeof(why))) == NULL)
		return -EBADMSG;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -EBADMSG;
	}
	if ((v = jsonget_member(root, "code")) != NULL && cJSON_IsString(v) &&
	    codelen > 0)
		snprintf(code, codelen, "%s", v->valuestring);
	if ((v = jsonget_member(root, "message")) != NULL && cJSON_IsString(v) &&
	    msglen > 0)
		snprintf(message, msglen, "%s", v->valuestring);
	cJSON_Delete(root);
	return 0;
}

void
api_page_free(struct api_page *p)
{
	if (p == NULL)
		return;
	free(p->next_cursor);
	p->next_cursor = NULL;
	p->has_more = false;
	p->n_items = 0;
}

void
api_token_info_free(struct api_token_info *t)
{
	if (t == NULL)
		return;
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void
api_projects_free(struct observed_project *items, size_t n)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		observed_project_free(&items[i]);
	free(items);
}

void
api_deployments_free(struct observed_deployment *items, size_t n)
{
	if (items == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		observed_deployment_free(&items[i]);
	free(items);
}

/* ---- SPEC section 9: env vars, custom domains, deploy keys --------------- */

static void
env_vars_free(struct observed_env_var *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		observed_env_var_free(&v[i]);
	free(v);
}

int
api_decode_env_page(const char *body, size_t len, int64_t project_id,
    struct observed_env_var **items, size_t *n, struct api_page *page,
    char *err, size_t errlen)
{
	struct observed_env_var *v = NULL;
	const cJSON *arr = NULL, *it, *types, *t;
	size_t cap = 0, k = 0, i = 0;
	char where[64];
	cJSON *root;
	int rc = 0;

	*items = NULL;
	*n = 0;
	if ((rc = open_page(body, len, &root, &arr, page, err, errlen)) != 0)
		return rc;
	if (!cJSON_IsArray(arr)) {
		rc = fail(err, errlen, NULL, "items", "expected an array");
		goto out;
	}
	/* At most 4 entries per item (one per type): sized once (one more,
	 * so the array exists even for an empty page). */
	cap = (size_t)cJSON_GetArraySize(arr) * 4;
	if ((v = calloc(cap + 1, sizeof(*v))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, arr) {
		const cJSON *name, *value;
		size_t before = k;

		snprintf(where, sizeof(where), "items[%zu]", i++);
		if (!cJSON_IsObject(it)) {
			rc = fail(err, errlen, where, NULL, "expected an object");
			goto out;
		}
		name = jsonget_member(it, "name");
		value = jsonget_member(it, "value");
		types = jsonget_member(it, "deploymentTypes");
		if (name == NULL || !cJSON_IsString(name) || name->valuestring[0] == '\0') {
			rc = fail(err, errlen, where, "name", "expected a non-empty string");
			goto out;
		}
		/* The value is a secret: its problems are named, never shown. */
		if (value == NULL || !cJSON_IsString(value)) {
			rc = fail(err, errlen, where, "value", "expected a string");
			goto out;
		}
		if (types == NULL || !cJSON_IsArray(types)) {
			rc = fail(err, errlen, where, "deploymentTypes", "expected an array");
			goto out;
		}
		cJSON_ArrayForEach(t, types) {
			enum dep_type dt;

			if (!cJSON_IsString(t) || dep_type_parse(t->valuestring, &dt) != 0) {
				rc = fail(err, errlen, where, "deploymentTypes",
				    "an unknown deployment type");
				goto out;
			}
			/* A type named twice in one item counts once. */
			for (size_t j = before; j < k; j++)
				if (v[j].type == dt)
					goto next_type;
			if (k == cap) {
				rc = fail(err, errlen, where, "deploymentTypes",
				    "more than 4 types");
				goto out;
			}
			v[k].project_id = project_id;
			v[k].type = dt;
			if ((v[k].name = strdup(name->valuestring)) == NULL ||
			    (v[k].value = strdup(value->valuestring)) == NULL) {
				k++;
				rc = -ENOMEM;
				goto out;
			}
			k++;
next_type:
			;
		}
	}
out:
	if (rc != 0) {
		env_vars_free(v, k);
		api_page_free(page);
	} else if (k == 0) {
		free(v);
	} else {
		*items = v;
		*n = k;
	}
	cJSON_Delete(root);
	return rc;
}

static int
destination_parse(const char *s, enum desired_destination *out)
{
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "convexCloud") == 0)
		*out = DESIRED_DEST_CONVEX_CLOUD;
	else if (strcmp(s, "convexSite") == 0)
		*out = DESIRED_DEST_CONVEX_SITE;
	else
		return -EINVAL;
	return 0;
}

int
api_decode_domains(const char *body, size_t len, const char *deployment,
    struct observed_domain **items, size_t *n, char *err, size_t errlen)
{
	struct observed_domain *v = NULL;
	const cJSON *arr, *it;
	size_t count, k = 0;
	char where[64], *dest = NULL;
	cJSON *root;
	int rc = 0;

	*items = NULL;
	*n = 0;
	if ((root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	if (!cJSON_IsObject(root)) {
		rc = fail(err, errlen, NULL, NULL, "expected a JSON object");
		goto out;
	}
	if ((arr = jsonget_member(root, "domains")) == NULL || !cJSON_IsArray(arr)) {
		rc = fail(err, errlen, NULL, "domains", "expected an array");
		goto out;
	}
	count = (size_t)cJSON_GetArraySize(arr);
	if ((v = calloc(count + 1, sizeof(*v))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, arr) {
		struct observed_domain *d;

		if (k >= count)
			break;
		d = &v[k];

		snprintf(where, sizeof(where), "domains[%zu]", k);
		if (!cJSON_IsObject(it)) {
			rc = fail(err, errlen, where, NULL, "expected an object");
			goto out;
		}
		k++;
		if ((rc = get_str(it, "domain", true, &d->domain, where, err, errlen)) != 0 ||
		    (rc = get_str(it, "requestDestination", true, &dest, where, err,
		    errlen)) != 0 ||
		    (rc = get_int(it, "verificationTime", false, &d->verification_time,
		    where, err, errlen)) != 0 ||
		    (rc = get_int(it, "creationTime", false, &d->create_time, where,
		    err, errlen)) != 0)
			goto out;
		if (destination_parse(dest, &d->destination) != 0) {
			rc = fail(err, errlen, where, "requestDestination",
			    "unknown destination \"%.64s\"", dest ? dest : "");
			goto out;
		}
		free(dest);
		dest = NULL;
		if ((d->deployment = strdup(deployment)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
out:
	free(dest);
	if (rc != 0) {
		for (size_t i = 0; i < k; i++)
			observed_domain_free(&v[i]);
		free(v);
	} else if (k == 0) {
		free(v);
	} else {
		*items = v;
		*n = k;
	}
	cJSON_Delete(root);
	return rc;
}

int
api_decode_deploy_keys(const char *body, size_t len, const char *deployment,
    struct observed_deploy_key **items, size_t *n, char *err, size_t errlen)
{
	struct observed_deploy_key *v = NULL;
	const cJSON *it;
	size_t count, k = 0;
	char where[64];
	cJSON *root;
	int rc = 0;

	*items = NULL;
	*n = 0;
	if ((root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	if (!cJSON_IsArray(root)) {
		rc = fail(err, errlen, NULL, NULL, "expected a JSON array");
		goto out;
	}
	count = (size_t)cJSON_GetArraySize(root);
	if ((v = calloc(count + 1, sizeof(*v))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, root) {
		struct observed_deploy_key *d;

		if (k >= count)
			break;
		d = &v[k];

		snprintf(where, sizeof(where), "[%zu]", k);
		if (!cJSON_IsObject(it)) {
			rc = fail(err, errlen, where, NULL, "expected an object");
			goto out;
		}
		k++;
		if ((rc = get_str(it, "name", true, &d->name, where, err, errlen)) != 0 ||
		    (rc = get_int(it, "creationTime", false, &d->create_time, where,
		    err, errlen)) != 0)
			goto out;
		if ((d->deployment = strdup(deployment)) == NULL) {
			rc = -ENOMEM;
			goto out;
		}
	}
out:
	if (rc != 0) {
		for (size_t i = 0; i < k; i++)
			observed_deploy_key_free(&v[i]);
		free(v);
	} else if (k == 0) {
		free(v);
	} else {
		*items = v;
		*n = k;
	}
	cJSON_Delete(root);
	return rc;
}

int
api_decode_created_deploy_key(const char *body, size_t len, char **secret,
    char *err, size_t errlen)
{
	const cJSON *key;
	cJSON *root;
	int rc = 0;

	*secret = NULL;
	if ((root = parse(body, len, err, errlen)) == NULL)
		return -EBADMSG;
	if (!cJSON_IsObject(root))
		rc = fail(err, errlen, NULL, NULL, "expected a JSON object");
	else if ((key = jsonget_member(root, "deployKey")) == NULL || !cJSON_IsString(key) ||
	    key->valuestring[0] == '\0')
		rc = fail(err, errlen, NULL, "deployKey", "expected a non-empty string");
	else if ((*secret = strdup(key->valuestring)) == NULL)
		rc = -ENOMEM;
	/* The parsed copy of the secret goes with the tree: wipe it first. */
	if (root != NULL && cJSON_IsObject(root) &&
	    (key = jsonget_member(root, "deployKey")) != NULL && cJSON_IsString(key))
		explicit_bzero(key->valuestring, strlen(key->valuestring));
	cJSON_Delete(root);
	return rc;
}
