/* admin_config.c: GET and POST /_sim/config: the global fault knobs and the per-route ones. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

#define MAX_MS          3600000
#define MAX_RETRY_AFTER 1000000000

static cJSON *
route_json(const struct route_faults *rf)
{
	cJSON *o = cJSON_CreateObject(), *fp;

	cJSON_AddNumberToObject(o, "errorRate", rf->error_rate);
	cJSON_AddNumberToObject(o, "errorAfterRate", rf->error_after_rate);
	cJSON_AddNumberToObject(o, "dropRate", rf->drop_rate);
	cJSON_AddNumberToObject(o, "dropAfterRate", rf->drop_after_rate);
	cJSON_AddNumberToObject(o, "rateLimitRate", rf->rate_limit_rate);
	cJSON_AddNumberToObject(o, "retryAfter", rf->retry_after);
	cJSON_AddNumberToObject(o, "stallRate", rf->stall_rate);
	cJSON_AddNumberToObject(o, "stallMs", rf->stall_ms);
	cJSON_AddNumberToObject(o, "badJsonRate", rf->bad_json_rate);
	if (rf->fail_page > 0) {
		fp = cJSON_AddObjectToObject(o, "failPage");
		cJSON_AddNumberToObject(fp, "page", rf->fail_page);
		cJSON_AddNumberToObject(fp, "status", rf->fail_page_status);
		cJSON_AddNumberToObject(fp, "times",
		    rf->fail_page_times < 0 ? 0 : (double)rf->fail_page_times);
	} else {
		cJSON_AddNullToObject(o, "failPage");
	}
	return o;
}

static cJSON *
config_json(struct sim_ctx *ctx)
{
	struct route_faults rf[SIM_MAX_ROUTE_FAULTS];
	struct fault_config f;
	cJSON *o = cJSON_CreateObject(), *r;
	size_t n;

	faults_get_config(&ctx->faults, &f);
	n = faults_get_routes(&ctx->faults, rf, SIM_MAX_ROUTE_FAULTS);
	cJSON_AddBoolToObject(o, "legacy", f.legacy);
	cJSON_AddNumberToObject(o, "latencyMs", f.latency_ms);
	cJSON_AddNumberToObject(o, "latencyJitterMs", f.latency_jitter_ms);
	cJSON_AddNumberToObject(o, "errorRate", f.error_rate);
	cJSON_AddNumberToObject(o, "dropRate", f.drop_rate);
	cJSON_AddNumberToObject(o, "stallRate", f.stall_rate);
	cJSON_AddNumberToObject(o, "stallMs", f.stall_ms);
	cJSON_AddNumberToObject(o, "badJsonRate", f.bad_json_rate);
	cJSON_AddNumberToObject(o, "rateLimit", f.rate_limit);
	r = cJSON_AddObjectToObject(o, "routes");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToObject(r, rf[i].route, route_json(&rf[i]));
	return o;
}

void
admin_config_get(struct sim_ctx *ctx, struct sim_reply *rp)
{
	sim_reply_json(rp, 200, config_json(ctx));
}

/* Each reader: 0 (absent leaves *out alone) or -EINVAL. */
static int
cfg_rate(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
		return -EINVAL;
	*out = v->valuedouble;
	return 0;
}

static int
cfg_uint(const cJSON *o, const char *key, unsigned max, unsigned *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 &&
	    v->valuedouble <= max) ||
	    v->valuedouble != (double)(unsigned)v->valuedouble)
		return -EINVAL;
	*out = (unsigned)v->valuedouble;
	return 0;
}

static bool
known(const cJSON *o, const char *const *keys)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, o) {
		const char *const *k;

		for (k = keys; *k != NULL && strcmp(*k, it->string) != 0; k++)
			;
		if (*k == NULL)
			return false;
	}
	return true;
}

/* {"page": N >= 1, "status"?: 400..599 (500), "times"?: N (0 = always)} */
static int
parse_fail_page(const cJSON *v, struct route_faults *rf)
{
	static const char *const keys[] = { "page", "status", "times", NULL };
	unsigned page = 0, status = 500, times = 0;

	if (v == NULL)
		return 0;
	if (cJSON_IsNull(v)) {
		rf->fail_page = 0;
		return 0;
	}
	if (!cJSON_IsObject(v) || !known(v, keys) ||
	    cfg_uint(v, "page", 65535, &page) != 0 || page == 0 ||
	    cfg_uint(v, "status", 599, &status) != 0 || status < 400 ||
	    cfg_uint(v, "times", 1000000, &times) != 0)
		return -EINVAL;
	rf->fail_page = page;
	rf->fail_page_status = status;
	rf->fail_page_times = times == 0 ? -1 : (long)times;
	return 0;
}

static int
parse_route(const cJSON *v, struct route_faults *rf)
{
	static const char *const keys[] = {
		"errorRate", "errorAfterRate", "dropRate", "dropAfterRate",
		"rateLimitRate", "retryAfter", "stallRate", "stallMs",
		"badJsonRate", "failPage", NULL,
	};

	if (!cJSON_IsObject(v) || !known(v, keys) ||
	    cfg_rate(v, "errorRate", &rf->error_rate) != 0 ||
	    cfg_rate(v, "errorAfterRate", &rf->error_after_rate) != 0 ||
	    cfg_rate(v, "dropRate", &rf->drop_rate) != 0 ||
	    cfg_rate(v, "dropAfterRate", &rf->drop_after_rate) != 0 ||
	    cfg_rate(v, "rateLimitRate", &rf->rate_limit_rate) != 0 ||
	    cfg_uint(v, "retryAfter", MAX_RETRY_AFTER, &rf->retry_after) != 0 ||
	    cfg_rate(v, "stallRate", &rf->stall_rate) != 0 ||
	    cfg_uint(v, "stallMs", MAX_MS, &rf->stall_ms) != 0 ||
	    cfg_rate(v, "badJsonRate", &rf->bad_json_rate) != 0 ||
	    parse_fail_page(cJSON_GetObjectItemCaseSensitive(v, "failPage"), rf) != 0)
		return -EINVAL;
	return 0;
}

/* "routes": {TEMPLATE: {knobs} | null}. A route's object replaces the
 * knobs it names and keeps the others; null removes them all. Checked
 * whole before any is set. */
static int
apply_routes(struct sim_ctx *ctx, const cJSON *routes, char *why,
    size_t whylen)
{
	struct route_faults cur[SIM_MAX_ROUTE_FAULTS], next[SIM_MAX_ROUTE_FAULTS];
	const char *tmpl[SIM_MAX_ROUTE_FAULTS];
	size_t ncur, n = 0;
	const cJSON *it;

	if (routes == NULL)
		return 0;
	if (!cJSON_IsObject(routes) || cJSON_GetArraySize(routes) > SIM_MAX_ROUTE_FAULTS) {
		snprintf(why, whylen, "routes must be an object of at most %d routes",
		    SIM_MAX_ROUTE_FAULTS);
		return -EINVAL;
	}
	ncur = faults_get_routes(&ctx->faults, cur, SIM_MAX_ROUTE_FAULTS);
	cJSON_ArrayForEach(it, routes) {
		struct route_faults *rf = &next[n];

		if ((tmpl[n] = routes_template(it->string)) == NULL) {
			snprintf(why, whylen, "routes: unknown route template \"%.100s\"",
			    it->string);
			return -EINVAL;
		}
		memset(rf, 0, sizeof(*rf));
		rf->retry_after = 1;
		rf->stall_ms = 60000;
		rf->fail_page_status = 500;
		for (size_t i = 0; i < ncur; i++)
			if (cur[i].route == tmpl[n])
				*rf = cur[i];
		rf->route = tmpl[n];
		if (!cJSON_IsNull(it) && parse_route(it, rf) != 0) {
			snprintf(why, whylen, "routes[\"%.100s\"]: rates are numbers in 0..1, "
			    "retryAfter and stallMs whole numbers, failPage {page, status?, times?}",
			    it->string);
			return -EINVAL;
		}
		n++;
	}
	n = 0;
	cJSON_ArrayForEach(it, routes) {
		if (faults_set_route(&ctx->faults, tmpl[n],
		    cJSON_IsNull(it) ? NULL : &next[n]) != 0) {
			snprintf(why, whylen, "at most %d routes can have knobs",
			    SIM_MAX_ROUTE_FAULTS);
			return -ENOSPC;
		}
		n++;
	}
	return 0;
}

/* Changes fault settings at run time (keys as GET /_sim/config shows;
 * only the keys given change). */
void
admin_config_post(struct sim_ctx *ctx, const cJSON *root, struct sim_reply *rp)
{
	static const char *const keys[] = {
		"legacy", "latencyMs", "latencyJitterMs", "errorRate", "dropRate",
		"stallRate", "stallMs", "badJsonRate", "rateLimit", "routes", NULL,
	};
	struct fault_config f;
	const cJSON *lg;
	char why[256];

	faults_get_config(&ctx->faults, &f);
	lg = cJSON_GetObjectItemCaseSensitive(root, "legacy");
	if (!cJSON_IsObject(root) || !known(root, keys) ||
	    (lg != NULL && !cJSON_IsBool(lg)) ||
	    cfg_uint(root, "latencyMs", MAX_MS, &f.latency_ms) != 0 ||
	    cfg_uint(root, "latencyJitterMs", MAX_MS, &f.latency_jitter_ms) != 0 ||
	    cfg_rate(root, "errorRate", &f.error_rate) != 0 ||
	    cfg_rate(root, "dropRate", &f.drop_rate) != 0 ||
	    cfg_rate(root, "stallRate", &f.stall_rate) != 0 ||
	    cfg_uint(root, "stallMs", MAX_MS, &f.stall_ms) != 0 ||
	    cfg_rate(root, "badJsonRate", &f.bad_json_rate) != 0 ||
	    cfg_uint(root, "rateLimit", 1000000, &f.rate_limit) != 0) {
		sim_reply_errorf(rp, 400, "BadRequest",
		    "known keys only; rates are numbers in 0..1, times and rateLimit whole numbers, legacy a boolean");
		return;
	}
	if (lg != NULL)
		f.legacy = cJSON_IsTrue(lg);
	if (apply_routes(ctx, cJSON_GetObjectItemCaseSensitive(root, "routes"),
	    why, sizeof(why)) != 0) {
		sim_reply_errorf(rp, 400, "BadRequest", "%s", why);
		return;
	}
	faults_set_config(&ctx->faults, &f);
	sim_reply_json(rp, 200, config_json(ctx));
}
