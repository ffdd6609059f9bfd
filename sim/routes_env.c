/* routes_env.c: list (paginated, grouped by name and value) and update a project's default environment variables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "routes.h"

#define EFFECT_MAX_CHANGES 500

/* Env cursors: "e", the type digit and page (hex) of the last item's key,
 * a check, then the last item's name: the key (name, first type) of the
 * last item returned, so changes between pages neither repeat nor skip. */
static unsigned
env_check(const char *name, int type, unsigned page)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)type ^ ((uint64_t)page << 8);

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (unsigned)((h >> 24) & 0xffff);
}

static void
env_cursor(const char *name, enum dep_type t, unsigned page, char *out,
    size_t outlen)
{
	page &= 0xffff;
	snprintf(out, outlen, "e%d%04x%04x%s", (int)t, page,
	    env_check(name, (int)t, page), name);
}

static int
env_cursor_decode(const char *s, char *name, size_t namelen,
    enum dep_type *t, unsigned *page)
{
	char hex[5];

	if (strlen(s) < 11 || s[0] != 'e' || s[1] < '0' || s[1] > '3' ||
	    strspn(s + 2, "0123456789abcdef") < 8 ||
	    strlen(s + 10) >= namelen || names_env_name_problem(s + 10) != NULL)
		return -EINVAL;
	*t = (enum dep_type)(s[1] - '0');
	memcpy(hex, s + 2, 4);
	hex[4] = '\0';
	*page = (unsigned)strtoul(hex, NULL, 16);
	memcpy(hex, s + 6, 4);
	snprintf(name, namelen, "%s", s + 10);
	if ((unsigned)strtoul(hex, NULL, 16) != env_check(name, (int)*t, *page))
		return -EINVAL;
	return 0;
}

struct env_query {
	const char *name;         /* exact name filter or NULL */
	bool has_type;
	enum dep_type type;
	int limit;
	bool has_cursor;
	char cur_name[SIM_ENV_NAME_MAX + 1];
	enum dep_type cur_type;
};

static int
env_query_parse(struct call *c, struct env_query *q)
{
	const char *t = sim_query_get(c->rq, "deploymentType");
	const char *cur = sim_query_get(c->rq, "cursor");
	unsigned page = 1;

	memset(q, 0, sizeof(*q));
	q->name = sim_query_get(c->rq, "name");
	if (q->name != NULL && *q->name == '\0')
		q->name = NULL;
	if (t != NULL && *t != '\0') {
		if (check_type(c, t, &q->type) != 0)
			return -EINVAL;
		q->has_type = true;
	}
	if (query_limit(c, &q->limit) != 0)
		return -EINVAL;
	if (cur != NULL && *cur != '\0') {
		if (env_cursor_decode(cur, q->cur_name, sizeof(q->cur_name),
		    &q->cur_type, &page) != 0) {
			sim_reply_errorf(c->rp, 400, "InvalidCursor",
			    "The cursor is not one this endpoint returned");
			return -EINVAL;
		}
		q->has_cursor = true;
	}
	c->res->page = page;
	return 0;
}

/* One item: this variable, and (without a type filter) the later types of
 * the same name with the same value, marked used. */
static cJSON *
env_item(const struct sim_env *run, size_t n, size_t k, bool grouped,
    bool *used)
{
	cJSON *o = cJSON_CreateObject(), *types;

	types = cJSON_AddArrayToObject(o, "deploymentTypes");
	for (size_t m = k; m < n; m++) {
		if (used[m] || (m > k && (!grouped ||
		    strcmp(run[m].value, run[k].value) != 0)))
			continue;
		used[m] = true;
		cJSON_AddItemToArray(types,
		    cJSON_CreateString(names_type_str(run[m].type)));
	}
	cJSON_AddStringToObject(o, "name", run[k].name);
	cJSON_AddStringToObject(o, "value", run[k].value);
	return o;
}

/* PaginatedDefaultEnvironmentVariablesResponse, in name order; within a
 * name, groups in the order of their first type (dev, prod, preview,
 * custom). */
void
h_env_list(struct call *c)
{
	struct sim_project *p = path_project(c);
	struct env_query q;
	const char *last_name = NULL;
	enum dep_type last_type = DT_DEV;
	bool more = false;
	size_t i;
	int n = 0;
	cJSON *items;
	char next[64] = "";

	if (p == NULL || env_query_parse(c, &q) != 0)
		return;
	items = cJSON_CreateArray();
	i = q.name != NULL ? store_env_pos(p, q.name) :
	    q.has_cursor ? store_env_pos(p, q.cur_name) : 0;
	while (i < p->nenv && !more) {
		const struct sim_env *run = &p->env[i];
		bool used[SIM_NTYPES] = { false };
		size_t j = i;

		while (j < p->nenv && strcmp(p->env[j].name, run->name) == 0)
			j++;
		if (q.name != NULL && strcmp(run->name, q.name) != 0)
			break;
		for (size_t k = 0; k < j - i; k++) {
			bool before;
			cJSON *o;

			if (used[k] || (q.has_type && run[k].type != q.type))
				continue;
			before = q.has_cursor && (strcmp(run->name, q.cur_name) < 0 ||
			    (strcmp(run->name, q.cur_name) == 0 &&
			    run[k].type <= q.cur_type));
			if (!before && n == q.limit) {
				more = true;
				break;
			}
			/* Built even when skipped: it marks its group's types
			 * used, so they do not come back as items of their own. */
			o = env_item(run, j - i, k, !q.has_type, used);
			if (before) {
				cJSON_Delete(o);
				continue;
			}
			cJSON_AddItemToArray(items, o);
			last_name = run[k].name;
			last_type = run[k].type;
			n++;
		}
		i = j;
	}
	if (more && last_name != NULL)
		env_cursor(last_name, last_type, c->res->page + 1, next, sizeof(next));
	sim_reply_json(c->rp, 200, page_json(items, more, next));
}

static int
parse_change(struct call *c, const cJSON *o, size_t idx, struct env_change *ch)
{
	static const char *const keys[] = { "deploymentType", "name", "value", NULL };
	const cJSON *it, *t, *name, *value;

	if (!cJSON_IsObject(o)) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "changes[%zu] must be an object", idx);
		return -EINVAL;
	}
	cJSON_ArrayForEach(it, o) {
		size_t k;

		for (k = 0; keys[k] != NULL && strcmp(keys[k], it->string) != 0; k++)
			;
		if (keys[k] == NULL) {
			sim_reply_errorf(c->rp, 400, "BadRequest",
			    "changes[%zu]: unknown field \"%.64s\"", idx, it->string);
			return -EINVAL;
		}
	}
	t = cJSON_GetObjectItemCaseSensitive(o, "deploymentType");
	name = cJSON_GetObjectItemCaseSensitive(o, "name");
	value = cJSON_GetObjectItemCaseSensitive(o, "value");
	if (!cJSON_IsString(t) || !cJSON_IsString(name) ||
	    (value != NULL && !cJSON_IsNull(value) && !cJSON_IsString(value))) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "changes[%zu]: deploymentType and name are strings, value a string or null",
		    idx);
		return -EINVAL;
	}
	if (check_type(c, t->valuestring, &ch->type) != 0)
		return -EINVAL;
	ch->name = name->valuestring;
	ch->value = value != NULL && cJSON_IsString(value) ? value->valuestring : NULL;
	return 0;
}

static void
env_effect(struct call *c, const struct sim_project *p,
    const struct env_change *ch, size_t n)
{
	cJSON *e = call_effect(c, "update", "env"), *a, *o;

	cJSON_AddNumberToObject(e, "projectId", (double)p->id);
	a = cJSON_AddArrayToObject(e, "changes");
	/* Names and what happened, never the values (they are secrets). */
	for (size_t i = 0; i < n && i < EFFECT_MAX_CHANGES; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "deploymentType",
		    names_type_str(ch[i].type));
		cJSON_AddStringToObject(o, "name", ch[i].name);
		cJSON_AddStringToObject(o, "op", ch[i].value ? "set" : "delete");
		cJSON_AddItemToArray(a, o);
	}
	cJSON_AddBoolToObject(e, "truncated", n > EFFECT_MAX_CHANGES);
}

/* UpdateDefaultEnvironmentVariablesArgs: every change or none; 200 with
 * an empty body. A value that is null (or left out) deletes. */
void
h_env_update(struct call *c)
{
	static const char *const keys[] = { "changes", NULL };
	struct sim_project *p = path_project(c);
	struct sim_err err = { 0 };
	struct env_change *ch = NULL;
	const cJSON *list, *it;
	size_t n = 0;
	cJSON *body;

	if (p == NULL || (body = body_object(c, keys)) == NULL)
		return;
	list = cJSON_GetObjectItemCaseSensitive(body, "changes");
	if (!cJSON_IsArray(list)) {
		sim_reply_errorf(c->rp, 400, "BadRequest", "changes must be an array");
		goto out;
	}
	if ((ch = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*ch))) == NULL) {
		sim_reply_errorf(c->rp, 500, "InternalServerError", "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, list) {
		if (parse_change(c, it, n, &ch[n]) != 0)
			goto out;
		n++;
	}
	if (store_env_update(p, ch, n, &err) != 0) {
		sim_reply_error(c->rp, &err);
		goto out;
	}
	env_effect(c, p, ch, n);
	sim_reply_empty(c->rp, 200);
out:
	free(ch);
	cJSON_Delete(body);
}
