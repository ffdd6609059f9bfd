/* api_extras.c: the routes of SPEC section 9: default environment
 * variables (a paginated listing and one update per project), custom
 * domains and deploy keys. Request bodies built with cJSON, answers
 * decoded by api_decode.c. Env values and key secrets are secrets: they
 * travel in bodies only, never in a URL, a message or a log line; a key's
 * secret is registered with the scrubber (secrets.h) before anything
 * else sees it. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api_call.h"
#include "api_decode.h"
#include "log.h"
#include "secrets.h"

#define ENV_PAGE_LIMIT 100
/* 4 types x 100 names is what the API allows; a listing that says more
 * (or never ends) is refused. */
#define ENV_MAX_ITEMS 10000
#define ENV_MAX_PAGES 1000

/* The user's callback of a single call, carried in call->ctx (api_call.h
 * keeps the union of the older routes' callbacks). */
struct extras_call {
	union {
		api_done_cb done;
		api_domains_cb domains;
		api_deploy_keys_cb keys;
		api_key_created_cb key_created;
	} cb;
	void *arg;
	char *deployment;       /* the deployment a listing is about */
};

static struct extras_call *
extras_new(void *arg, const char *deployment)
{
	struct extras_call *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	e->arg = arg;
	if (deployment != NULL && (e->deployment = strdup(deployment)) == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

static void
extras_free(struct extras_call *e)
{
	if (e == NULL)
		return;
	free(e->deployment);
	free(e);
}

/* Starts a call whose continuation reads its extras_call from ctx; on
 * failure to start, the extras_call is freed. The body, which may hold
 * secrets, is wiped once copied. */
static int
extras_start(struct api_client *c, const char *method, const char *tmpl,
    const char *path, const char *query, char *body, enum policy policy,
    call_done_fn done, struct extras_call *e)
{
	union user_cb none = { .done = NULL };
	int rc = call_start(c, method, tmpl, path, query, body, policy, done,
	    none, NULL, e);

	if (body != NULL) {
		explicit_bzero(body, strlen(body));
		cJSON_free(body);
	}
	if (rc != 0)
		extras_free(e);
	return rc;
}

/* ---- default environment variables -------------------------------------- */

struct env_listing {
	struct api_client *c;
	int64_t project_id;
	api_env_cb cb;
	void *arg;
	struct observed_env_var *items;
	size_t n, cap;
	size_t pages;
	char **cursors;         /* every cursor followed, to refuse a loop */
	size_t n_cursors;
};

static void
env_items_free(struct observed_env_var *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		observed_env_var_free(&v[i]);
	free(v);
}

static void
env_listing_free(struct env_listing *l)
{
	env_items_free(l->items, l->n);
	for (size_t i = 0; i < l->n_cursors; i++)
		free(l->cursors[i]);
	free(l->cursors);
	free(l);
}

static int
cmp_env_item(const void *pa, const void *pb)
{
	const struct observed_env_var *a = pa, *b = pb;

	if (a->type != b->type)
		return (int)a->type - (int)b->type;
	return strcmp(a->name, b->name);
}

/* One (type, name) listed twice: kept once when the values agree, else
 * the listing is inconsistent (which value is live?). */
static int
env_dedupe(struct env_listing *l, const struct api_call *call, struct api_error *e)
{
	size_t w = 0;

	if (l->n > 1)
		qsort(l->items, l->n, sizeof(*l->items), cmp_env_item);
	for (size_t r = 0; r < l->n; r++) {
		if (w > 0 && cmp_env_item(&l->items[w - 1], &l->items[r]) == 0) {
			if (strcmp(l->items[w - 1].value, l->items[r].value) != 0) {
				call_set_err(e, call, 200, "InconsistentListing",
				    "environment variable %s of type %s is listed "
				    "twice with different values: the listing is "
				    "not consistent", l->items[r].name,
				    dep_type_name(l->items[r].type));
				return -EBADMSG;
			}
			observed_env_var_free(&l->items[r]);
			continue;
		}
		l->items[w++] = l->items[r];
	}
	l->n = w;
	return 0;
}

static void
env_finish(struct env_listing *l, int rc, const struct api_error *err)
{
	if (rc == 0) {
		l->cb(l->arg, 0, NULL, l->items, l->n);
		l->items = NULL;
		l->n = 0;
	} else {
		l->cb(l->arg, rc, err, NULL, 0);
	}
	env_listing_free(l);
}

static void on_env_page(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len);

static int
env_page_start(struct env_listing *l, const char *cursor)
{
	char path[128], query[1200], esc[1024];
	union user_cb none = { .done = NULL };

	snprintf(path, sizeof(path), "/projects/%lld/list_default_environment_variables",
	    (long long)l->project_id);
	if (cursor != NULL) {
		if (call_escape(esc, sizeof(esc), cursor) != 0)
			return -ENAMETOOLONG;
		snprintf(query, sizeof(query), "limit=%d&cursor=%s", ENV_PAGE_LIMIT, esc);
	} else {
		snprintf(query, sizeof(query), "limit=%d", ENV_PAGE_LIMIT);
	}
	return call_start(l->c, "GET",
	    "GET /projects/{id}/list_default_environment_variables", path, query,
	    NULL, POL_IDEMPOTENT, on_env_page, none, NULL, l);
}

static void
on_env_page(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct env_listing *l = call->ctx;
	struct observed_env_var *v = NULL;
	struct api_page page = { 0 };
	struct api_error e;
	char why[256], **nc;
	size_t n = 0;

	if (rc != 0) {
		env_finish(l, rc, err);
		return;
	}
	if ((rc = api_decode_env_page(body, len, l->project_id, &v, &n, &page,
	    why, sizeof(why))) != 0) {
		call_decode_err(&e, call, rc, why);
		env_finish(l, rc, &e);
		return;
	}
	l->pages++;
	if (l->n + n > ENV_MAX_ITEMS) {
		env_items_free(v, n);
		api_page_free(&page);
		call_set_err(&e, call, 200, "ListingTooLarge", "the listing holds "
		    "more than %d environment variables: refused", ENV_MAX_ITEMS);
		env_finish(l, -EFBIG, &e);
		return;
	}
	if (n > 0) {
		if (l->n + n > l->cap) {
			size_t ncap = l->cap ? l->cap : 64;
			struct observed_env_var *ni;

			while (ncap < l->n + n)
				ncap *= 2;
			if ((ni = realloc(l->items, ncap * sizeof(*ni))) == NULL) {
				env_items_free(v, n);
				api_page_free(&page);
				call_set_err(&e, call, 0, "RequestError", "out of memory");
				env_finish(l, -ENOMEM, &e);
				return;
			}
			l->items = ni;
			l->cap = ncap;
		}
		memcpy(l->items + l->n, v, n * sizeof(*v));
		l->n += n;
	}
	free(v);
	if (!page.has_more) {
		api_page_free(&page);
		rc = env_dedupe(l, call, &e);
		env_finish(l, rc, rc ? &e : NULL);
		return;
	}
	if (page.next_cursor == NULL || page.next_cursor[0] == '\0') {
		api_page_free(&page);
		call_decode_err(&e, call, 0, "pagination: hasMore is true but nextCursor "
		    "is missing");
		env_finish(l, -EBADMSG, &e);
		return;
	}
	for (size_t i = 0; i <= l->n_cursors; i++) {
		if (l->pages >= ENV_MAX_PAGES || (i < l->n_cursors &&
		    strcmp(l->cursors[i], page.next_cursor) == 0)) {
			api_page_free(&page);
			call_set_err(&e, call, 200, "PaginationLoop", "the server sent "
			    "a cursor it had already sent, or more than %d pages",
			    ENV_MAX_PAGES);
			env_finish(l, -ELOOP, &e);
			return;
		}
	}
	if ((nc = realloc(l->cursors, (l->n_cursors + 1) * sizeof(*nc))) == NULL) {
		api_page_free(&page);
		call_set_err(&e, call, 0, "RequestError", "out of memory");
		env_finish(l, -ENOMEM, &e);
		return;
	}
	l->cursors = nc;
	l->cursors[l->n_cursors++] = page.next_cursor;   /* moved */
	page.next_cursor = NULL;
	if ((rc = env_page_start(l, l->cursors[l->n_cursors - 1])) != 0) {
		if (rc == -ESHUTDOWN) {
			call_set_err(&e, call, 0, "Cancelled", "cancelled");
			rc = -ECANCELED;
		} else {
			call_set_err(&e, call, 0, "RequestError", "could not request "
			    "the next page: %s", strerror(-rc));
		}
		env_finish(l, rc, &e);
	}
}

int
api_list_env(struct api_client *c, int64_t project_id, api_env_cb cb, void *arg)
{
	struct env_listing *l;
	int rc;

	if (c->closing)
		return -ESHUTDOWN;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->c = c;
	l->project_id = project_id;
	l->cb = cb;
	l->arg = arg;
	if ((rc = env_page_start(l, NULL)) != 0)
		env_listing_free(l);
	return rc;
}

/* 200 (and an empty body, or anything): done. A delete answered 404 is
 * done too: what is gone is gone. */
static void
on_extras_done(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct extras_call *e = call->ctx;

	(void)body;
	(void)len;
	if (rc == -ENOENT && call->policy == POL_DELETE) {
		log_debug("api: %s: already gone (404)", call->route);
		rc = 0;
		err = NULL;
	}
	e->cb.done(e->arg, rc, err);
	extras_free(e);
}

int
api_update_env(struct api_client *c, int64_t project_id,
    const struct plan_env_change *changes, size_t n, api_done_cb cb, void *arg)
{
	struct extras_call *e;
	cJSON *o, *arr;
	char path[128], *body;
	bool ok;

	if (n == 0)
		return -EINVAL;
	if ((o = cJSON_CreateObject()) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "changes")) == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		cJSON *ch = cJSON_CreateObject();

		if (ch == NULL || !cJSON_AddItemToArray(arr, ch)) {
			cJSON_Delete(ch);
			ok = false;
			break;
		}
		ok = cJSON_AddStringToObject(ch, "deploymentType",
		    dep_type_name(changes[i].type)) != NULL &&
		    cJSON_AddStringToObject(ch, "name", changes[i].name) != NULL;
		/* A string upserts; null deletes (SPEC section 9). */
		if (ok && changes[i].change == PLAN_ENV_REMOVE)
			ok = cJSON_AddNullToObject(ch, "value") != NULL;
		else if (ok)
			ok = changes[i].value != NULL &&
			    cJSON_AddStringToObject(ch, "value", changes[i].value) != NULL;
	}
	if (!ok) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	body = call_print_body(o);
	if (body == NULL)
		return -ENOMEM;
	if ((e = extras_new(arg, NULL)) == NULL) {
		explicit_bzero(body, strlen(body));
		cJSON_free(body);
		return -ENOMEM;
	}
	e->cb.done = cb;
	snprintf(path, sizeof(path), "/projects/%lld/update_default_environment_variables",
	    (long long)project_id);
	/* Setting values is idempotent: retried like a GET. */
	return extras_start(c, "POST",
	    "POST /projects/{id}/update_default_environment_variables", path, NULL,
	    body, POL_IDEMPOTENT, on_extras_done, e);
}

/* ---- custom domains ------------------------------------------------------ */

static void
on_domains(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct extras_call *e = call->ctx;
	struct observed_domain *v = NULL;
	struct api_error de;
	char why[256];
	size_t n = 0;

	if (rc == 0 && (rc = api_decode_domains(body, len, e->deployment, &v, &n,
	    why, sizeof(why))) != 0) {
		call_decode_err(&de, call, rc, why);
		err = &de;
	}
	e->cb.domains(e->arg, rc, rc ? err : NULL, rc ? NULL : v, rc ? 0 : n);
	extras_free(e);
}

int
api_list_custom_domains(struct api_client *c, const char *deployment,
    api_domains_cb cb, void *arg)
{
	struct extras_call *e;
	char path[512];
	int rc;

	if ((rc = call_deployment_path(path, sizeof(path), deployment, "/custom_domains")) != 0)
		return rc;
	if ((e = extras_new(arg, deployment)) == NULL)
		return -ENOMEM;
	e->cb.domains = cb;
	return extras_start(c, "GET", "GET /deployments/{name}/custom_domains",
	    path, NULL, NULL, POL_IDEMPOTENT, on_domains, e);
}

static int
domain_call(struct api_client *c, const char *deployment, const char *domain,
    enum desired_destination dest, bool create, api_done_cb cb, void *arg)
{
	struct extras_call *e;
	char path[512], *body;
	cJSON *o;
	int rc;

	if ((rc = call_deployment_path(path, sizeof(path), deployment, create ?
	    "/create_custom_domain" : "/delete_custom_domain")) != 0)
		return rc;
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "domain", domain) == NULL ||
	    cJSON_AddStringToObject(o, "requestDestination",
	    desired_destination_name(dest)) == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if ((body = call_print_body(o)) == NULL)
		return -ENOMEM;
	if ((e = extras_new(arg, NULL)) == NULL) {
		cJSON_free(body);
		return -ENOMEM;
	}
	e->cb.done = cb;
	if (create)
		return extras_start(c, "POST", "POST /deployments/{name}/create_custom_domain",
		    path, NULL, body, POL_CREATE, on_extras_done, e);
	return extras_start(c, "POST", "POST /deployments/{name}/delete_custom_domain",
	    path, NULL, body, POL_DELETE, on_extras_done, e);
}

int
api_create_custom_domain(struct api_client *c, const char *deployment,
    const char *domain, enum desired_destination dest, api_done_cb cb, void *arg)
{
	return domain_call(c, deployment, domain, dest, true, cb, arg);
}

int
api_delete_custom_domain(struct api_client *c, const char *deployment,
    const char *domain, enum desired_destination dest, api_done_cb cb, void *arg)
{
	return domain_call(c, deployment, domain, dest, false, cb, arg);
}

/* ---- deploy keys --------------------------------------------------------- */

static void
on_deploy_keys(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct extras_call *e = call->ctx;
	struct observed_deploy_key *v = NULL;
	struct api_error de;
	char why[256];
	size_t n = 0;

	if (rc == 0 && (rc = api_decode_deploy_keys(body, len, e->deployment, &v,
	    &n, why, sizeof(why))) != 0) {
		call_decode_err(&de, call, rc, why);
		err = &de;
	}
	e->cb.keys(e->arg, rc, rc ? err : NULL, rc ? NULL : v, rc ? 0 : n);
	extras_free(e);
}

int
api_list_deploy_keys(struct api_client *c, const char *deployment,
    api_deploy_keys_cb cb, void *arg)
{
	struct extras_call *e;
	char path[512];
	int rc;

	if ((rc = call_deployment_path(path, sizeof(path), deployment, "/list_deploy_keys")) != 0)
		return rc;
	if ((e = extras_new(arg, deployment)) == NULL)
		return -ENOMEM;
	e->cb.keys = cb;
	return extras_start(c, "GET", "GET /deployments/{name}/list_deploy_keys",
	    path, NULL, NULL, POL_IDEMPOTENT, on_deploy_keys, e);
}

/* The secret is registered with the scrubber before the callback (or a
 * log line) sees it, and wiped once the callback returns. */
static void
on_key_created(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct extras_call *e = call->ctx;
	struct api_error de;
	char why[256], *secret = NULL;

	if (rc == 0 && (rc = api_decode_created_deploy_key(body, len, &secret,
	    why, sizeof(why))) == 0 && secrets_register(secret) != 0)
		rc = -ENOMEM;
	if (rc != 0 && err == NULL) {
		/* Ambiguous: the key was made, its secret is not known. */
		call_decode_err(&de, call, rc, why);
		err = &de;
	}
	e->cb.key_created(e->arg, rc, rc ? err : NULL, rc ? NULL : secret);
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	extras_free(e);
}

int
api_create_deploy_key(struct api_client *c, const char *deployment,
    const char *name, api_key_created_cb cb, void *arg)
{
	struct extras_call *e;
	char path[512], *body;
	cJSON *o;
	int rc;

	if ((rc = call_deployment_path(path, sizeof(path), deployment, "/create_deploy_key")) != 0)
		return rc;
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "name", name) == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if ((body = call_print_body(o)) == NULL)
		return -ENOMEM;
	if ((e = extras_new(arg, NULL)) == NULL) {
		cJSON_free(body);
		return -ENOMEM;
	}
	e->cb.key_created = cb;
	return extras_start(c, "POST", "POST /deployments/{name}/create_deploy_key",
	    path, NULL, body, POL_CREATE, on_key_created, e);
}

int
api_delete_deploy_key(struct api_client *c, const char *deployment,
    const char *name, api_done_cb cb, void *arg)
{
	struct extras_call *e;
	char path[512], *body;
	cJSON *o;
	int rc;

	if ((rc = call_deployment_path(path, sizeof(path), deployment, "/delete_deploy_key")) != 0)
		return rc;
	/* By its name: this tool never keeps a secret anywhere but its file. */
	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "id", name) == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if ((body = call_print_body(o)) == NULL)
		return -ENOMEM;
	if ((e = extras_new(arg, NULL)) == NULL) {
		cJSON_free(body);
		return -ENOMEM;
	}
	e->cb.done = cb;
	return extras_start(c, "POST", "POST /deployments/{name}/delete_deploy_key",
	    path, NULL, body, POL_DELETE, on_extras_done, e);
}
