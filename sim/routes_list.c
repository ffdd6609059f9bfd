/* routes_list.c: the listings of projects and deployments (paginated, legacy and per project) with their filters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "routes.h"

static bool
project_matches(const struct sim_project *p, const char *q)
{
	return q == NULL || *q == '\0' || strcasestr(p->name, q) != NULL ||
	    strcasestr(p->slug, q) != NULL;
}

void
h_projects(struct call *c)
{
	struct sim_store *st = c->st;
	const char *q = sim_query_get(c->rq, "q");
	cJSON *items;
	int limit, n = 0;
	int64_t cur, last = 0;
	bool has, more = false;
	size_t i;
	char next[40];

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
	cursor_encode('p', last, c->res->page + 1, next, sizeof(next));
	sim_reply_json(c->rp, 200, page_json(items, more, next));
}

void
h_list_projects(struct call *c)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < c->st->nprojects; i++)
		if (!c->st->projects[i]->deleted)
			cJSON_AddItemToArray(a,
			    json_project(c->st, c->st->projects[i]));
	sim_reply_json(c->rp, 200, a);
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
		return -EINVAL;
	if (t != NULL && *t != '\0') {
		if (check_type(c, t, &f->type) != 0)
			return -EINVAL;
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

void
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

void
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
	char next[40];

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
	cursor_encode(asc ? 'a' : 'd', last, c->res->page + 1, next, sizeof(next));
	sim_reply_json(c->rp, 200, page_json(items, more, next));
}

void
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
