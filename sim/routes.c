/* routes.c: the /v1 Management API: matching, auth, arguments, and one handler per route. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

#define MAX_SEGS   6
#define MAX_LIMIT  100

struct call {
	struct sim_ctx *ctx;
	struct sim_store *st;
	const struct sim_request *rq;
	struct sim_reply *rp;
	struct route_result *res;
	const char *arg;          /* the {param} of the path, if any */
};

typedef void route_fn(struct call *c);

struct route {
	const char *method;
	const char *pattern;      /* segments after /v1/, "{}" matches one */
	const char *name;         /* stats key */
	route_fn *fn;
	bool create;
	bool team;                /* {} is the team id */
	bool paginated;           /* absent in --legacy */
};

static route_fn h_token, h_projects, h_list_projects, h_create_project,
    h_team_deployments, h_team_local, h_regions, h_classes, h_project,
    h_project_delete, h_project_deployments, h_create_deployment,
    h_deployment, h_deployment_patch, h_deployment_delete;

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
	{ "POST", "projects/{}/delete", "POST /projects/{id}/delete", h_project_delete, 0, 0, 0 },
	{ "GET", "projects/{}/list_deployments", "GET /projects/{id}/list_deployments", h_project_deployments, 0, 0, 0 },
	{ "POST", "projects/{}/create_deployment", "POST /projects/{id}/create_deployment", h_create_deployment, 1, 0, 0 },
	{ "GET", "deployments/{}", "GET /deployments/{name}", h_deployment, 0, 0, 0 },
	{ "PATCH", "deployments/{}", "PATCH /deployments/{name}", h_deployment_patch, 0, 0, 0 },
	{ "POST", "deployments/{}/delete", "POST /deployments/{name}/delete", h_deployment_delete, 0, 0, 0 },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* ---- matching */

static const char *
unmatched_name(const char *method)
{
	if (strcmp(method, "GET") == 0)
		return "GET (unmatched)";
	if (strcmp(method, "POST") == 0)
		return "POST (unmatched)";
	if (strcmp(method, "PATCH") == 0)
		return "PATCH (unmatched)";
	if (strcmp(method, "PUT") == 0)
		return "PUT (unmatched)";
	if (strcmp(method, "DELETE") == 0)
		return "DELETE (unmatched)";
	return "OTHER (unmatched)";
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

/* ---- arguments */

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

static int
parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 17)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* Query booleans: "true" or "false"; absent leaves *out alone. */
static int
query_bool(struct call *c, const char *key, int *out)
{
	const char *v = sim_query_get(c->rq, key);

	if (v == NULL)
		return 0;
	if (strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0)
		*out = 0;
	else {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Query parameter %s must be true or false", key);
		return -1;
	}
	return 0;
}

static int
query_limit(struct call *c, int *limit)
{
	const char *v = sim_query_get(c->rq, "limit");
	int64_t n;

	*limit = MAX_LIMIT;
	if (v == NULL)
		return 0;
	if (parse_id(v, &n) != 0 || n < 1 || n > MAX_LIMIT) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "limit must be an integer from 1 to %d", MAX_LIMIT);
		return -1;
	}
	*limit = (int)n;
	return 0;
}

/* Cursors are opaque to clients: a kind letter, the masked id, a check. */
#define CURSOR_MASK 0x5a17c0de5a17c0deULL

static unsigned
cursor_check(char kind, uint64_t id)
{
	uint64_t h = (id * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)(unsigned char)kind;

	return (unsigned)((h >> 40) & 0xffff);
}

static void
cursor_encode(char kind, int64_t id, char *out, size_t outlen)
{
	snprintf(out, outlen, "%c%016" PRIx64 "%04x", kind,
	    (uint64_t)((uint64_t)id ^ CURSOR_MASK), cursor_check(kind, (uint64_t)id));
}

static int
cursor_decode(const char *s, char kind, int64_t *id)
{
	char hex[17];
	unsigned check;
	uint64_t v;

	if (strlen(s) != 21 || s[0] != kind)
		return -1;
	for (int i = 1; i < 21; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return -1;
	memcpy(hex, s + 1, 16);
	hex[16] = '\0';
	v = strtoull(hex, NULL, 16) ^ CURSOR_MASK;
	check = (unsigned)strtoul(s + 17, NULL, 16);
	if (check != cursor_check(kind, v) || v > INT64_MAX)
		return -1;
	*id = (int64_t)v;
	return 0;
}

static int
query_cursor(struct call *c, char kind, bool *has, int64_t *id)
{
	const char *v = sim_query_get(c->rq, "cursor");

	*has = false;
	if (v == NULL || *v == '\0')
		return 0;
	if (cursor_decode(v, kind, id) != 0) {
		sim_reply_errorf(c->rp, 400, "InvalidCursor",
		    "The cursor is not one this endpoint returned");
		return -1;
	}
	*has = true;
	return 0;
}

static cJSON *
body_object(struct call *c)
{
	cJSON *o;

	if (strlen(c->rq->body) != c->rq->body_len ||
	    (o = cJSON_ParseWithOpts(c->rq->body, NULL, 1)) == NULL) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "The request body is not valid JSON");
		return NULL;
	}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "The request body must be a JSON object");
		return NULL;
	}
	return o;
}

/* Optional body fields: 1 absent or null, 0 present, -1 wrong type. */
static int
opt_string(struct call *c, const cJSON *o, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsString(v)) {
		sim_reply_errorf(c->rp, 400, "BadRequest", "%s must be a string",
		    key);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

static int
opt_bool(struct call *c, const cJSON *o, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsBool(v)) {
		sim_reply_errorf(c->rp, 400, "BadRequest", "%s must be a boolean",
		    key);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

static int
opt_int(struct call *c, const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    fabs(v->valuedouble) > 9007199254740992.0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "%s must be an integer", key);
		return -1;
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

static bool
present_null(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return v != NULL && cJSON_IsNull(v);
}

static int
check_type(struct call *c, const char *s, enum dep_type *out)
{
	if (names_type_parse(s, out) != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Unknown deployment type \"%.32s\" (dev, prod, preview or "
		    "custom)", s);
		return -1;
	}
	return 0;
}

static int
check_region(struct call *c, const char *s, enum dep_region *out)
{
	if (names_region_parse(s, out) != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Unknown region \"%.32s\" (aws-us-east-1 or aws-eu-west-1)", s);
		return -1;
	}
	return 0;
}

static int
check_class(struct call *c, const char *s, enum dep_class *out)
{
	if (names_class_parse(s, out) != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Unknown deployment class \"%.32s\" (s16, s256, d1024 or d2048)", s);
		return -1;
	}
	return 0;
}

static struct sim_project *
path_project(struct call *c)
{
	struct sim_project *p;
	int64_t id;

	if (parse_id(c->arg, &id) != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Project id must be a number, not \"%.64s\"", c->arg);
		return NULL;
	}
	if ((p = store_project(c->st, id)) == NULL)
		sim_reply_errorf(c->rp, 404, "ProjectNotFound",
		    "Project %lld not found", (long long)id);
	return p;
}

/* /deployments/{name} serves cloud deployments only. */
static struct sim_deployment *
path_deployment(struct call *c)
{
	struct sim_deployment *d = store_deployment(c->st, c->arg);

	if (d == NULL || d->kind != DEP_CLOUD) {
		sim_reply_errorf(c->rp, 404, "DeploymentNotFound",
		    "Deployment %.100s not found", c->arg);
		return NULL;
	}
	return d;
}

static cJSON *
page_json(cJSON *items, bool more, const char *next)
{
	cJSON *o = cJSON_CreateObject(), *pg;

	cJSON_AddItemToObject(o, "items", items);
	pg = cJSON_AddObjectToObject(o, "pagination");
	cJSON_AddBoolToObject(pg, "hasMore", more);
	if (more)
		cJSON_AddStringToObject(pg, "nextCursor", next);
	else
		cJSON_AddNullToObject(pg, "nextCursor");
	return o;
}

/* ---- handlers */

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

static bool
project_matches(const struct sim_project *p, const char *q)
{
	return q == NULL || *q == '\0' || strcasestr(p->name, q) != NULL ||
	    strcasestr(p->slug, q) != NULL;
}

static void
h_projects(struct call *c)
{
	struct sim_store *st = c->st;
	const char *q = sim_query_get(c->rq, "q");
	cJSON *items;
	int limit, n = 0;
	int64_t cur, last = 0;
	bool has, more = false;
	size_t i;
	char next[32];

	if (query_limit(c, &limit) != 0 || query_cursor(c, 'p', &has, &cur) != 0)
		return;
	items = cJSON_CreateArray();
	/* Newest first: walk the id-ordered array backwards from the cursor. */
	for (i = has ? store_project_pos(st, cur) : st->nprojects; i > 0; i--) {
		const struct sim_project *p = st->projects[i - 1];

		if (p->deleted || !project_matches(p, q))
			continue;
		if (n == limit) {
			more = true;
			break;
		}
		cJSON_AddItemToArray(items, json_project(st, p));
		last = p->id;
		n++;
	}
	cursor_encode('p', last, next, sizeof(next));
	sim_reply_json(c->rp, 200, page_json(items, more, next));
}

static void
h_list_projects(struct call *c)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < c->st->nprojects; i++)
		if (!c->st->projects[i]->deleted)
			cJSON_AddItemToArray(a,
			    json_project(c->st, c->st->projects[i]));
	sim_reply_json(c->rp, 200, a);
}

static void
h_create_project(struct call *c)
{
	struct dep_spec spec;
	struct sim_project *p;
	struct sim_deployment *d = NULL;
	struct sim_err err = { 0 };
	const char *name, *type, *region, *cls;
	cJSON *body, *o;
	char url[160];
	int r;

	if ((body = body_object(c)) == NULL)
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
	if (strspn(name, " \t\r\n") == strlen(name) || strlen(name) > 128) {
		sim_reply_errorf(c->rp, 400, "InvalidProjectName",
		    "projectName must be 1 to 128 bytes and not blank");
		goto out;
	}
	if (type != NULL && check_type(c, type, &spec.type) != 0)
		goto out;
	if (region != NULL && check_region(c, region, &spec.region) != 0)
		goto out;
	if (cls != NULL && check_class(c, cls, &spec.cls) != 0)
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
	if (d != NULL)
		stats_create(false);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", (double)p->id);
	cJSON_AddNumberToObject(o, "projectId", (double)p->id);
	cJSON_AddStringToObject(o, "slug", p->slug);
	if (d != NULL) {
		names_deployment_url(d->name, d->region, url, sizeof(url));
		cJSON_AddStringToObject(o, "deploymentName", d->name);
		cJSON_AddStringToObject(o, "deploymentUrl", url);
	}
	sim_reply_json(c->rp, 200, o);
out:
	cJSON_Delete(body);
}

static void
h_project(struct call *c)
{
	struct sim_project *p = path_project(c);

	if (p != NULL)
		sim_reply_json(c->rp, 200, json_project(c->st, p));
}

static void
h_project_delete(struct call *c)
{
	struct sim_project *p = path_project(c);

	if (p == NULL)
		return;
	store_project_delete(c->st, p);
	stats_delete(true);
	sim_reply_empty(c->rp, 200);
}

/* Filters shared by both deployment listings. */
struct dep_filter {
	bool include_local;
	int is_default;           /* -1 any */
	bool has_type;
	enum dep_type type;
	int64_t project_id;       /* 0 any */
	int64_t creator;          /* 0 any */
	const char *q;
};

static int
dep_filter_parse(struct call *c, struct dep_filter *f)
{
	const char *t = sim_query_get(c->rq, "deploymentType");

	f->is_default = -1;
	if (query_bool(c, "isDefault", &f->is_default) != 0)
		return -1;
	if (t != NULL && *t != '\0') {
		if (check_type(c, t, &f->type) != 0)
			return -1;
		f->has_type = true;
	}
	return 0;
}

static bool
dep_matches(const struct sim_deployment *d, const struct dep_filter *f)
{
	if (d->deleted)
		return false;
	if (d->kind == DEP_LOCAL && !f->include_local)
		return false;
	if (f->is_default >= 0 &&
	    (d->kind == DEP_CLOUD && d->is_default) != (f->is_default == 1))
		return false;
	if (f->has_type && d->type != f->type)
		return false;
	if (f->project_id > 0 && d->project->id != f->project_id)
		return false;
	if (f->creator > 0 && d->creator != f->creator)
		return false;
	if (f->q != NULL && *f->q != '\0' && strcasestr(d->name, f->q) == NULL &&
	    (d->reference == NULL || strcasestr(d->reference, f->q) == NULL))
		return false;
	return true;
}

static void
h_project_deployments(struct call *c)
{
	struct sim_project *p = path_project(c);
	struct dep_filter f = { 0 };
	int inc = 0;
	cJSON *a;

	if (p == NULL || query_bool(c, "includeLocal", &inc) != 0 ||
	    dep_filter_parse(c, &f) != 0)
		return;
	f.include_local = inc == 1;
	a = cJSON_CreateArray();
	for (size_t i = 0; i < p->ndeps; i++)
		if (dep_matches(p->deps[i], &f))
			cJSON_AddItemToArray(a, json_deployment(p->deps[i]));
	sim_reply_json(c->rp, 200, a);
}

static void
h_team_deployments(struct call *c)
{
	struct sim_store *st = c->st;
	struct dep_filter f = { 0 };
	const char *sort_by = sim_query_get(c->rq, "sortBy");
	const char *order = sim_query_get(c->rq, "sortOrder");
	const char *v;
	bool asc = false, has, more = false;
	int64_t cur = 0, last = 0;
	int limit, n = 0;
	size_t i;
	cJSON *items;
	char next[32];

	/* The item type is the union of cloud and local deployments, so
	 * local ones are listed too: clients must skip kind "local". */
	f.include_local = true;
	if (dep_filter_parse(c, &f) != 0 || query_limit(c, &limit) != 0)
		return;
	f.q = sim_query_get(c->rq, "q");
	if ((v = sim_query_get(c->rq, "projectId")) != NULL &&
	    (parse_id(v, &f.project_id) != 0 || f.project_id == 0)) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "projectId must be a project id");
		return;
	}
	if ((v = sim_query_get(c->rq, "creator")) != NULL &&
	    (parse_id(v, &f.creator) != 0 || f.creator == 0)) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "creator must be a member id");
		return;
	}
	if (sort_by != NULL && strcmp(sort_by, "createTime") != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "sortBy: the simulator supports createTime only");
		return;
	}
	if (order != NULL) {
		if (strcmp(order, "asc") == 0) {
			asc = true;
		} else if (strcmp(order, "desc") != 0) {
			sim_reply_errorf(c->rp, 400, "BadRequest",
			    "sortOrder must be asc or desc");
			return;
		}
	}
	if (query_cursor(c, asc ? 'a' : 'd', &has, &cur) != 0)
		return;
	items = cJSON_CreateArray();
	if (asc) {
		for (i = has ? store_deployment_pos(st, cur + 1) : 0;
		    i < st->ndeps; i++) {
			if (!dep_matches(st->deps[i], &f))
				continue;
			if (n == limit) {
				more = true;
				break;
			}
			cJSON_AddItemToArray(items, json_deployment(st->deps[i]));
			last = st->deps[i]->id;
			n++;
		}
	} else {
		for (i = has ? store_deployment_pos(st, cur) : st->ndeps; i > 0;
		    i--) {
			if (!dep_matches(st->deps[i - 1], &f))
				continue;
			if (n == limit) {
				more = true;
				break;
			}
			cJSON_AddItemToArray(items,
			    json_deployment(st->deps[i - 1]));
			last = st->deps[i - 1]->id;
			n++;
		}
	}
	cursor_encode(asc ? 'a' : 'd', last, next, sizeof(next));
	sim_reply_json(c->rp, 200, page_json(items, more, next));
}

static void
h_team_local(struct call *c)
{
	cJSON *o = cJSON_CreateObject(), *a;

	a = cJSON_AddArrayToObject(o, "items");
	for (size_t i = 0; i < c->st->ndeps; i++) {
		const struct sim_deployment *d = c->st->deps[i];

		if (!d->deleted && d->kind == DEP_LOCAL)
			cJSON_AddItemToArray(a, json_deployment(d));
	}
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

static void
h_create_deployment(struct call *c)
{
	struct sim_project *p = path_project(c);
	struct sim_deployment *d;
	struct sim_err err = { 0 };
	struct dep_spec spec;
	const char *type, *region, *cls;
	cJSON *body;
	int r, b = 0;
	int64_t exp = 0;

	if (p == NULL || (body = body_object(c)) == NULL)
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
	sim_reply_json(c->rp, 200, json_deployment(d));
out:
	cJSON_Delete(body);
}

static void
h_deployment(struct call *c)
{
	struct sim_deployment *d = path_deployment(c);

	if (d != NULL)
		sim_reply_json(c->rp, 200, json_deployment(d));
}

static void
h_deployment_patch(struct call *c)
{
	struct sim_deployment *d = path_deployment(c), *other;
	const char *cls, *ref, *type, *why;
	enum dep_class new_cls;
	enum dep_type new_type;
	int isdef = -1, b, r, dec = -2, slc = -2;
	int64_t exp = 0;
	bool set_exp = false, exp_null = false;
	cJSON *body;

	if (d == NULL || (body = body_object(c)) == NULL)
		return;
	new_cls = d->cls;
	new_type = d->type;
	if (opt_string(c, body, "class", &cls) < 0 ||
	    opt_string(c, body, "reference", &ref) < 0 ||
	    opt_string(c, body, "deploymentType", &type) < 0)
		goto out;
	if ((cls && check_class(c, cls, &new_cls) != 0) ||
	    (type && check_type(c, type, &new_type) != 0))
		goto out;
	if ((r = opt_bool(c, body, "isDefault", &b)) < 0)
		goto out;
	if (r == 0)
		isdef = b;
	if ((r = opt_int(c, body, "expiresAt", &exp)) < 0)
		goto out;
	if (r == 0 || present_null(body, "expiresAt")) {
		set_exp = true;
		exp_null = r != 0;
		if (!exp_null && exp < sim_now_ms() + 30 * 60 * 1000) {
			sim_reply_errorf(c->rp, 400, "BadRequest",
			    "expiresAt must be at least 30 minutes in the future");
			goto out;
		}
	}
	if ((r = opt_bool(c, body, "dashboardEditConfirmation", &b)) < 0)
		goto out;
	if (r == 0 || present_null(body, "dashboardEditConfirmation"))
		dec = r == 0 ? b : -1;
	if ((r = opt_bool(c, body, "sendLogsToClient", &b)) < 0)
		goto out;
	if (r == 0 || present_null(body, "sendLogsToClient"))
		slc = r == 0 ? b : -1;
	if (ref != NULL && strcmp(ref, d->reference) != 0) {
		if ((why = names_reference_problem(ref)) != NULL) {
			sim_reply_errorf(c->rp, 400, "InvalidReference",
			    "Invalid deployment reference \"%.100s\": it %s", ref, why);
			goto out;
		}
		if (store_project_reference(d->project, ref) != NULL) {
			sim_reply_errorf(c->rp, 400, "ReferenceAlreadyExists",
			    "A deployment with reference \"%.100s\" already exists in project %lld",
			    ref, (long long)d->project->id);
			goto out;
		}
	}
	if (isdef < 0)
		isdef = d->is_default;
	if (isdef && new_type != DT_DEV && new_type != DT_PROD) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Only dev and prod deployments can be default");
		goto out;
	}
	other = store_project_default(d->project, new_type);
	if (isdef && other != NULL && other != d) {
		sim_reply_errorf(c->rp, 400, "DefaultDeploymentExists",
		    "Project %lld already has a default %s deployment (%s)",
		    (long long)d->project->id, names_type_str(new_type),
		    other->name);
		goto out;
	}
	/* Everything checked: apply all or nothing. */
	if (ref != NULL && strcmp(ref, d->reference) != 0) {
		char *dup = strdup(ref);

		if (dup == NULL) {
			sim_reply_errorf(c->rp, 500, "InternalServerError",
			    "out of memory");
			goto out;
		}
		free(d->reference);
		d->reference = dup;
	}
	d->cls = new_cls;
	d->type = new_type;
	d->is_default = isdef == 1;
	if (set_exp) {
		d->has_expires = !exp_null;
		d->expires_at = exp;
	}
	if (dec != -2)
		d->dashboard_edit_confirmation = dec;
	if (slc != -2)
		d->send_logs_to_client = slc;
	sim_reply_empty(c->rp, 200);
out:
	cJSON_Delete(body);
}

static void
h_deployment_delete(struct call *c)
{
	struct sim_deployment *d = path_deployment(c);

	if (d == NULL)
		return;
	store_deployment_delete(c->st, d);
	stats_delete(false);
	sim_reply_empty(c->rp, 200);
}

/* ---- dispatch */

void
routes_handle(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp, struct route_result *res)
{
	const struct route *r;
	struct fault_config cfg;
	struct call c;
	char arg[256];
	bool known;
	int64_t team;

	memset(res, 0, sizeof(*res));
	r = find_route(rq, arg, sizeof(arg), &known);
	res->route = r ? r->name : unmatched_name(rq->method);
	res->is_create = r ? r->create : false;

	if (!token_ok(rq->auth, ctx->opt->token)) {
		sim_reply_errorf(rp, 401, "Unauthorized",
		    "Missing or invalid access token (Authorization: Bearer ...)");
		return;
	}
	faults_get_config(&ctx->faults, &cfg);
	if (r != NULL && r->paginated && cfg.legacy)
		r = NULL;   /* an older API: the route does not exist */
	if (r == NULL) {
		if (known)
			sim_reply_errorf(rp, 405, "MethodNotAllowed",
			    "%s is not allowed on %.200s", rq->method, rq->path);
		else
			sim_reply_errorf(rp, 404, "NotFound", "No route %s %.200s",
			    rq->method, rq->path);
		return;
	}
	if (r->team) {
		if (ctx->opt->project_token > 0) {
			sim_reply_errorf(rp, 403, "Forbidden",
			    "A project token cannot use team routes (missing permission project:view on the team)");
			return;
		}
		if (parse_id(arg, &team) != 0 || team != ctx->store.team_id) {
			sim_reply_errorf(rp, 404, "TeamNotFound",
			    "Team %.64s not found", arg);
			return;
		}
	}
	c.ctx = ctx;
	c.st = &ctx->store;
	c.rq = rq;
	c.rp = rp;
	c.res = res;
	c.arg = arg;
	pthread_mutex_lock(&ctx->store.lock);
	r->fn(&c);
	pthread_mutex_unlock(&ctx->store.lock);
}
