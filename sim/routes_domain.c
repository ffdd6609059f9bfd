/* routes_domain.c: create, delete and list a deployment's custom domains. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "routes.h"

/* PlatformDeleteCustomDomainArgs is the body of both routes (the d.ts
 * gives create_custom_domain that type too): domain and destination. */
static cJSON *
domain_args(struct call *c, const char **domain, enum domain_dest *dest)
{
	static const char *const keys[] = { "domain", "requestDestination", NULL };
	const char *ds;
	cJSON *body = body_object(c, keys);

	if (body == NULL)
		return NULL;
	if (opt_string(c, body, "domain", domain) != 0 ||
	    opt_string(c, body, "requestDestination", &ds) != 0) {
		if (c->rp->status == 0)
			sim_reply_errorf(c->rp, 400, "BadRequest",
			    "domain and requestDestination are required strings");
		cJSON_Delete(body);
		return NULL;
	}
	if (names_dest_parse(ds, dest) != 0) {
		sim_reply_errorf(c->rp, 400, "BadRequest",
		    "requestDestination must be convexCloud or convexSite, not \"%.32s\"",
		    ds);
		cJSON_Delete(body);
		return NULL;
	}
	return body;
}

static void
domain_effect(struct call *c, const char *op, const struct sim_deployment *d,
    const char *domain, enum domain_dest dest)
{
	cJSON *e = call_effect(c, op, "domain");

	cJSON_AddStringToObject(e, "deployment", d->name);
	cJSON_AddStringToObject(e, "domain", domain);
	cJSON_AddStringToObject(e, "requestDestination", names_dest_str(dest));
}

/* New domains are unverified (verificationTime null) until
 * POST /_sim/verify_domain. 200 with an empty body. */
void
h_domain_create(struct call *c)
{
	struct sim_deployment *d = path_deployment(c);
	struct sim_err err = { 0 };
	enum domain_dest dest;
	const char *domain;
	cJSON *body;

	if (d == NULL || (body = domain_args(c, &domain, &dest)) == NULL)
		return;
	if (store_domain_create(c->st, d, domain, dest, sim_now_ms(), &err) != 0) {
		sim_reply_error(c->rp, &err);
	} else {
		c->res->created = true;
		domain_effect(c, "create", d, domain, dest);
		sim_reply_empty(c->rp, 200);
	}
	cJSON_Delete(body);
}

void
h_domain_delete(struct call *c)
{
	struct sim_deployment *d = path_deployment(c);
	struct sim_err err = { 0 };
	enum domain_dest dest;
	const char *domain;
	cJSON *body;

	if (d == NULL || (body = domain_args(c, &domain, &dest)) == NULL)
		return;
	if (store_domain_delete(c->st, d, domain, dest, &err) != 0) {
		sim_reply_error(c->rp, &err);
	} else {
		domain_effect(c, "delete", d, domain, dest);
		sim_reply_empty(c->rp, 200);
	}
	cJSON_Delete(body);
}

/* PlatformListCustomDomainsResponse: {"domains": [...]}, oldest first. */
void
h_domain_list(struct call *c)
{
	struct sim_deployment *d = path_deployment(c);
	cJSON *o, *a;

	if (d == NULL)
		return;
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "domains");
	for (size_t i = 0; i < d->ndomains; i++)
		cJSON_AddItemToArray(a, json_domain(d->domains[i]));
	sim_reply_json(c->rp, 200, o);
}
