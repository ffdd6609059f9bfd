/* routes.c: the /v1 route table, matching, the token check and dispatch (the handlers are in routes_*.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "routes.h"

struct route {
	const char *method;
	const char *pattern;      /* segments after /v1/, "{}" matches one */
	const char *name;         /* stats key */
	route_fn *fn;
	bool create;
	bool team;                /* {} is the team id */
	bool paginated;           /* absent in --legacy */
};

static route_fn h_token, h_regions, h_classes;

static const struct route routes[] = {
	{ "GET", "token_details", "GET /token_details", h_token, 0, 0, 0 },
	{ "GET", "teams/{}/projects", "GET /teams/{team}/projects", h_projects, 0, 1, 1 },
	{ "GET", "teams/{}/list_projects", "GET /teams/{team}/list_projects", h_list_projects, 0, 1, 0 },
	{ "POST", "teams/{}/create_project", "POST /teams/{team}/create_project", h_create_project, 1, 1, 0 },
	{ "GET", "teams/{}/list_deployments", "GET /teams/{team}/list_deployments", h_team_deployments, 0, 1, 1 },
	{ "GET", "teams/{}/list_local_deployments", "GET /teams/{team}/list_local_deployments", h_team_local, 0, 1, 0 },
	{ "GET", "teams/{}/list_deployment_regions", "GET /teams/{team}/list_deployment_regions", h_regions, 0, 1, 0 },
	{ "GET", "teams/{}/list_deployment_classes", "GET /teams/{team}/list_deployment_classes", h_classes, 0, 1, 0 },
	{ "GET", "projects/{}", "GET /projects/{id}", h_project, 0, 0, 0 },
	{ "PATCH", "projects/{}", "PATCH /projects/{id}", h_project_patch, 0, 0, 0 },
	{ "POST", "projects/{}/delete", "POST /projects/{id}/delete", h_project_delete, 0, 0, 0 },
	{ "GET", "projects/{}/list_deployments", "GET /projects/{id}/list_deployments", h_project_deployments, 0, 0, 0 },
	{ "POST", "projects/{}/create_deployment", "POST /projects/{id}/create_deployment", h_create_deployment, 1, 0, 0 },
	{ "GET", "projects/{}/list_default_environment_variables", "GET /projects/{id}/list_default_environment_variables", h_env_list, 0, 0, 0 },
	{ "POST", "projects/{}/update_default_environment_variables", "POST /projects/{id}/update_default_environment_variables", h_env_update, 0, 0, 0 },
	{ "GET", "deployments/{}", "GET /deployments/{name}", h_deployment, 0, 0, 0 },
	{ "PATCH", "deployments/{}", "PATCH /deployments/{name}", h_deployment_patch, 0, 0, 0 },
	{ "POST", "deployments/{}/delete", "POST /deployments/{name}/delete", h_deployment_delete, 0, 0, 0 },
	{ "POST", "deployments/{}/create_custom_domain", "POST /deployments/{name}/create_custom_domain", h_domain_create, 1, 0, 0 },
	{ "POST", "deployments/{}/delete_custom_domain", "POST /deployments/{name}/delete_custom_domain", h_domain_delete, 0, 0, 0 },
	{ "GET", "deployments/{}/custom_domains", "GET /deployments/{name}/custom_domains", h_domain_list, 0, 0, 0 },
	{ "POST", "deployments/{}/create_deploy_key", "POST /deployments/{name}/create_deploy_key", h_key_create, 1, 0, 0 },
	{ "GET", "deployments/{}/list_deploy_keys", "GET /deployments/{name}/list_deploy_keys", h_key_list, 0, 0, 0 },
	{ "POST", "deployments/{}/delete_deploy_key", "POST /deployments/{name}/delete_deploy_key", h_key_delete, 0, 0, 0 },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static const char *const unmatched[] = {
	"GET (unmatched)", "POST (unmatched)", "PATCH (unmatched)",
	"PUT (unmatched)", "DELETE (unmatched)", "OTHER (unmatched)",
};

/* ---- matching */

static const char *
unmatched_name(const char *method)
{
	for (size_t i = 0; i + 1 < sizeof(unmatched) / sizeof(unmatched[0]); i++)
		if (strncmp(unmatched[i], method, strlen(method)) == 0 &&
		    unmatched[i][strlen(method)] == ' ')
			return unmatched[i];
	return unmatched[sizeof(unmatched) / sizeof(unmatched[0]) - 1];
}

const char *
routes_template(const char *name)
{
	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(routes[i].name, name) == 0)
			return routes[i].name;
	for (size_t i = 0; i < sizeof(unmatched) / sizeof(unmatched[0]); i++)
		if (strcmp(unmatched[i], name) == 0)
			return unmatched[i];
	return NULL;
}

/* Matches path (after "/v1/") against pattern; copies the {} segment. */
static bool
match_path(const char *pattern, const char *path, char *arg, size_t arglen)
{
	const char *p = pattern, *s = path;

	arg[0] = '\0';
	while (*p != '\0') {
		const char *pe = strchr(p, '/'), *se = strchr(s, '/');
		size_t pl = pe ? (size_t)(pe - p) : strlen(p);
		size_t sl = se ? (size_t)(se - s) : strlen(s);

		if (sl == 0)
			return false;
		if (pl == 2 && strncmp(p, "{}", 2) == 0) {
			if (sl >= arglen)
				return false;
			memcpy(arg, s, sl);
			arg[sl] = '\0';
		} else if (pl != sl || strncmp(p, s, pl) != 0) {
			return false;
		}
		if ((pe == NULL) != (se == NULL))
			return false;
		if (pe == NULL)
			return true;
		p = pe + 1;
		s = se + 1;
	}
	return false;
}

/* Finds the route; *path_known tells whether another method would match. */
static const struct route *
find_route(const struct sim_request *rq, char *arg, size_t arglen,
    bool *path_known)
{
	const char *path;

	*path_known = false;
	if (strncmp(rq->path, "/v1/", 4) != 0)
		return NULL;
	path = rq->path + 4;
	for (size_t i = 0; i < NROUTES; i++) {
		if (!match_path(routes[i].pattern, path, arg, arglen))
			continue;
		if (strcmp(routes[i].method, rq->method) == 0 ||
		    (strcmp(rq->method, "HEAD") == 0 &&
		    strcmp(routes[i].method, "GET") == 0))
			return &routes[i];   /* MHD leaves out a HEAD's body */
		*path_known = true;
	}
	return NULL;
}

void
routes_match(const struct sim_request *rq, struct route_result *res)
{
	const struct route *r;
	char arg[256];
	bool known;

	memset(res, 0, sizeof(*res));
	r = find_route(rq, arg, sizeof(arg), &known);
	res->route = r ? r->name : unmatched_name(rq->method);
	res->is_create = r ? r->create : false;
}

/* ---- the handlers that need no store */

static bool
token_ok(const char *auth, const char *token)
{
	size_t n, m;
	unsigned char diff = 0;

	if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	while (*auth == ' ')
		auth++;
	n = strlen(auth);
	m = strlen(token);
	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(auth[i] ^ token[i]);
	return diff == 0;
}

static void
h_token(struct call *c)
{
	cJSON *o = cJSON_CreateObject();

	if (c->ctx->opt->project_token > 0) {
		cJSON_AddStringToObject(o, "type", "projectToken");
		cJSON_AddNumberToObject(o, "projectId",
		    (double)c->ctx->opt->project_token);
	} else {
		cJSON_AddStringToObject(o, "type", "teamToken");
		cJSON_AddNumberToObject(o, "teamId", (double)c->st->team_id);
	}
	cJSON_AddStringToObject(o, "name", "convex-api-sim");
	cJSON_AddNumberToObject(o, "id", 1);
	cJSON_AddNumberToObject(o, "createTime", (double)c->ctx->start_ms);
	sim_reply_json(c->rp, 200, o);
}

static void
h_regions(struct call *c)
{
	cJSON *o = cJSON_CreateObject(), *a, *it;

	a = cJSON_AddArrayToObject(o, "items");
	for (int i = 0; i < SIM_NREGIONS; i++) {
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "name",
		    names_region_str((enum dep_region)i));
		cJSON_AddStringToObject(it, "displayName",
		    names_region_display((enum dep_region)i));
		cJSON_AddBoolToObject(it, "available", 1);
		cJSON_AddItemToArray(a, it);
	}
	sim_reply_json(c->rp, 200, o);
}

static void
h_classes(struct call *c)
{
	cJSON *o = cJSON_CreateObject(), *a, *it;

	a = cJSON_AddArrayToObject(o, "items");
	for (int i = 0; i < SIM_NCLASSES; i++) {
		it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "type",
		    names_class_str((enum dep_class)i));
		cJSON_AddBoolToObject(it, "available", 1);
		cJSON_AddItemToArray(a, it);
	}
	sim_reply_json(c->rp, 200, o);
}

/* ---- dispatch */

/* 401, 404/405, 403 and the team check, in that order; 0 when it passes. */
static int
gate(struct sim_ctx *ctx, const struct sim_request *rq, struct sim_reply *rp,
    const struct route **r, bool known, const char *arg)
{
	struct fault_config cfg;
	int64_t team;

	if (!token_ok(rq->auth, ctx->opt->token)) {
		sim_reply_errorf(rp, 401, "Unauthorized",
		    "Missing or invalid access token (Authorization: Bearer ...)");
		return -EACCES;
	}
	faults_get_config(&ctx->faults, &cfg);
	if (*r != NULL && (*r)->paginated && cfg.legacy)
		*r = NULL;   /* an older API: the route does not exist */
	if (*r == NULL) {
		if (known)
			sim_reply_errorf(rp, 405, "MethodNotAllowed",
			    "%s is not allowed on %.200s", rq->method, rq->path);
		else
			sim_reply_errorf(rp, 404, "NotFound", "No route %s %.200s",
			    rq->method, rq->path);
		return -ENOENT;
	}
	if (!(*r)->team)
		return 0;
	if (ctx->opt->project_token > 0) {
		sim_reply_errorf(rp, 403, "Forbidden",
		    "A project token cannot use team routes (missing permission project:view on the team)");
		return -EPERM;
	}
	if (parse_id(arg, &team) != 0 || team != ctx->store.team_id) {
		sim_reply_errorf(rp, 404, "TeamNotFound", "Team %.64s not found", arg);
		return -ENOENT;
	}
	return 0;
}

void
routes_handle(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp, struct route_result *res)
{
	const struct route *r;
	struct call c;
	char arg[256];
	bool known;

	memset(res, 0, sizeof(*res));
	r = find_route(rq, arg, sizeof(arg), &known);
	res->route = r ? r->name : unmatched_name(rq->method);
	res->is_create = r ? r->create : false;
	if (gate(ctx, rq, rp, &r, known, arg) != 0) {
		pthread_mutex_lock(&ctx->store.lock);
		res->version = ctx->store.version;
		pthread_mutex_unlock(&ctx->store.lock);
		return;
	}
	c.ctx = ctx;
	c.st = &ctx->store;
	c.rq = rq;
	c.rp = rp;
	c.res = res;
	c.arg = arg;
	pthread_mutex_lock(&ctx->store.lock);
	res->version = ctx->store.version;
	r->fn(&c);
	if (res->wrote)
		ctx->store.version++;
	/* An unpaginated listing is one page: failPage {page: 1} hits it. */
	if (res->page == 0 && strcmp(r->method, "GET") == 0)
		res->page = 1;
	pthread_mutex_unlock(&ctx->store.lock);
}
