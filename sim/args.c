/* args.c: the arguments of a /v1 request (path ids, query, cursors, JSON body fields) and the 400 answers when they are wrong. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "routes.h"

int
parse_id(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 17)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* Query booleans: "true" or "false"; absent leaves *out alone. */
int
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
		return -EINVAL;
	}
	return 0;
}

int
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
		return -EINVAL;
	}
	*limit = (int)n;
	return 0;
}

#define CURSOR_MASK 0x5a17c0de5a17c0deULL
#define CURSOR_LEN  25

static unsigned
cursor_check(char kind, uint64_t id, unsigned page)
{
	uint64_t h = (id * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)(unsigned char)kind ^
	    ((uint64_t)page << 20);

	return (unsigned)((h >> 40) & 0xffff);
}

void
cursor_encode(char kind, int64_t id, unsigned page, char *out, size_t outlen)
{
	page &= 0xffff;
	snprintf(out, outlen, "%c%016" PRIx64 "%04x%04x", kind,
	    (uint64_t)((uint64_t)id ^ CURSOR_MASK), page,
	    cursor_check(kind, (uint64_t)id, page));
}

int
cursor_decode(const char *s, char kind, int64_t *id, unsigned *page)
{
	char hex[17], pg[5];
	unsigned check;
	uint64_t v;

	if (strlen(s) != CURSOR_LEN || s[0] != kind)
		return -EINVAL;
	for (int i = 1; i < CURSOR_LEN; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return -EINVAL;
	memcpy(hex, s + 1, 16);
	hex[16] = '\0';
	memcpy(pg, s + 17, 4);
	pg[4] = '\0';
	v = strtoull(hex, NULL, 16) ^ CURSOR_MASK;
	*page = (unsigned)strtoul(pg, NULL, 16);
	check = (unsigned)strtoul(s + 21, NULL, 16);
	if (check != cursor_check(kind, v, *page) || v > INT64_MAX)
		return -EINVAL;
	*id = (int64_t)v;
	return 0;
}

int
query_cursor(struct call *c, char kind, bool *has, int64_t *id)
{
	const char *v = sim_query_get(c->rq, "cursor");
	unsigned page;

	*has = false;
	c->res->page = 1;
	if (v == NULL || *v == '\0')
		return 0;
	if (cursor_decode(v, kind, id, &page) != 0) {
		sim_reply_errorf(c->rp, 400, "InvalidCursor",
		    "The cursor is not one this endpoint returned");
		return -EINVAL;
	}
	c->res->page = page;
	*has = true;
	return 0;
}

static bool
allowed_key(const char *const *allowed, const char *key)
{
	for (; *allowed != NULL; allowed++)
		if (strcmp(*allowed, key) == 0)
			return true;
	return false;
}

cJSON *
body_object(struct call *c, const char *const *allowed)
{
	const cJSON *it;
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
	cJSON_ArrayForEach(it, o) {
		if (allowed != NULL && !allowed_key(allowed, it->string)) {
			sim_reply_errorf(c->rp, 400, "BadRequest",
			    "Unknown field \"%.64s\" in the request body",
			    it->string);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

int
opt_string(struct call *c, const cJSON *o, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsString(v)) {
		sim_reply_errorf(c->rp, 400, "BadRequest", "%s must be a string",
		    key);
		return -EINVAL;
	}
	*out = v->valuestring;
	return 0;
}

int
opt_bool(struct call *c, const cJSON *o, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsBool(v)) {
		sim_reply_errorf(c->rp, 400, "BadRequest", "%s must be a boolean",
		    key);
		return -EINVAL;
	}
	*out = cJSON_IsTrue(v);
	return 0;
}

int
opt_int(struct call *c, const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    fabs(v->valuedouble) > 9007199254740992.0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "%s must be an integer", key);
		return -EINVAL;
	}
	*out = (int64_t)v->valuedouble;
	return 0;
}

bool
present_null(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return v != NULL && cJSON_IsNull(v);
}

int
check_type(struct call *c, const char *s, enum dep_type *out)
{
	if (names_type_parse(s, out) != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Unknown deployment type \"%.32s\" (dev, prod, preview or "
		    "custom)", s);
		return -EINVAL;
	}
	return 0;
}

int
check_region(struct call *c, const char *s, enum dep_region *out)
{
	if (names_region_parse(s, out) != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Unknown region \"%.32s\" (aws-us-east-1 or aws-eu-west-1)", s);
		return -EINVAL;
	}
	return 0;
}

int
check_class(struct call *c, const char *s, enum dep_class *out)
{
	if (names_class_parse(s, out) != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "Unknown deployment class \"%.32s\" (s16, s256, d1024 or d2048)", s);
		return -EINVAL;
	}
	return 0;
}

struct sim_project *
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

struct sim_deployment *
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

cJSON *
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

cJSON *
call_effect(struct call *c, const char *op, const char *kind)
{
	cJSON *e = cJSON_CreateObject();

	c->res->wrote = true;
	cJSON_Delete(c->res->effect);
	c->res->effect = e;
	cJSON_AddStringToObject(e, "op", op);
	cJSON_AddStringToObject(e, "kind", kind);
	return e;
}

void
effect_change(cJSON *changes, const char *field, cJSON *from, cJSON *to)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddItemToObject(o, "from", from);
	cJSON_AddItemToObject(o, "to", to);
	cJSON_AddItemToObject(changes, field, o);
}
