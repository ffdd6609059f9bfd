/* admin_seed.c: POST /_sim/seed: a large team made directly in the store (people's data), with env vars, domains and keys if asked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

#define MAX_SEED 100000

struct seed_args {
	long projects, deps, env, domains, keys;
	const char *prefix;
};

struct seed_made {
	long projects, deps, env, domains, keys;
	int64_t first, last;
};

static int
seed_int(const cJSON *o, const char *key, long max, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > (double)max ||
	    v->valuedouble != (double)(long)v->valuedouble)
		return -EINVAL;
	*out = (long)v->valuedouble;
	return 0;
}

static int
seed_parse(const cJSON *root, struct seed_args *a, struct sim_reply *rp)
{
	const cJSON *pv = cJSON_GetObjectItemCaseSensitive(root, "prefix");

	memset(a, 0, sizeof(*a));
	a->prefix = "p";
	if ((root != NULL && !cJSON_IsObject(root)) ||
	    seed_int(root, "projects", MAX_SEED, &a->projects) != 0 ||
	    seed_int(root, "deploymentsPerProject", 100, &a->deps) != 0 ||
	    seed_int(root, "envPerProject", SIM_ENV_PER_TYPE, &a->env) != 0 ||
	    seed_int(root, "domainsPerDeployment", 10, &a->domains) != 0 ||
	    seed_int(root, "deployKeysPerDeployment", 10, &a->keys) != 0) {
		sim_reply_errorf(rp, 400, "BadRequest",
		    "projects (0..%d), deploymentsPerProject (0..100), envPerProject (0..%d), "
		    "domainsPerDeployment and deployKeysPerDeployment (0..10) are whole numbers",
		    MAX_SEED, SIM_ENV_PER_TYPE);
		return -EINVAL;
	}
	if (cJSON_IsString(pv) && strlen(pv->valuestring) <= 64)
		a->prefix = pv->valuestring;
	return 0;
}

/* envPerProject: SEED_VAR_1.. for prod and dev (the same value in both,
 * so the listing groups them). */
static int
seed_env(struct sim_project *p, long n, struct sim_err *err)
{
	struct env_change ch[2 * SIM_ENV_PER_TYPE];
	char names[SIM_ENV_PER_TYPE][32], values[SIM_ENV_PER_TYPE][40];

	for (long i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "SEED_VAR_%ld", i + 1);
		snprintf(values[i], sizeof(values[i]), "seed-value-%ld", i + 1);
		ch[2 * i] = (struct env_change){ DT_PROD, names[i], values[i] };
		ch[2 * i + 1] = (struct env_change){ DT_DEV, names[i], values[i] };
	}
	return store_env_update(p, ch, (size_t)(2 * n), err);
}

/* domainsPerDeployment: dI.NAME.example.com (convexCloud), unverified;
 * deployKeysPerDeployment: seed-key-I (the secrets are made and dropped:
 * keys made by people, whose secrets the tool never sees). */
static int
seed_extras(struct sim_store *st, struct sim_deployment *d,
    const struct seed_args *a, struct seed_made *m, struct sim_err *err)
{
	char buf[160];

	for (long i = 1; i <= a->domains; i++) {
		snprintf(buf, sizeof(buf), "d%ld.%s.example.com", i, d->name);
		if (store_domain_create(st, d, buf, DEST_CLOUD, sim_now_ms(), err) != 0)
			return -EINVAL;
		m->domains++;
	}
	for (long i = 1; i <= a->keys; i++) {
		struct key_spec ks = { buf, SIM_ALL_ACTIONS, false, 0 };
		char *secret;

		snprintf(buf, sizeof(buf), "seed-key-%ld", i);
		if (store_key_create(st, d, &ks, &secret, err) != 0)
			return -EINVAL;
		free(secret);
		m->keys++;
	}
	return 0;
}

/* Deployment 0 of each project is the default prod "production", 1 the
 * default dev "development", the others dev "dev-2", "dev-3", ... */
static int
seed_project(struct sim_store *st, const struct seed_args *a, long i,
    struct seed_made *m, struct sim_err *err)
{
	struct sim_project *p;
	char name[96], ref[32];

	snprintf(name, sizeof(name), "%s%ld", a->prefix, i);
	if ((p = store_project_create(st, name, err)) == NULL)
		return -EINVAL;
	if (m->first == 0)
		m->first = p->id;
	m->last = p->id;
	m->projects++;
	if (a->env > 0 && seed_env(p, a->env, err) != 0)
		return -EINVAL;
	m->env += 2 * a->env;
	for (long j = 0; j < a->deps; j++) {
		struct sim_deployment *d;
		struct dep_spec spec;

		memset(&spec, 0, sizeof(spec));
		spec.is_default = j < 2;
		spec.type = j == 0 ? DT_PROD : DT_DEV;
		if (j == 0)
			snprintf(ref, sizeof(ref), "production");
		else if (j == 1)
			snprintf(ref, sizeof(ref), "development");
		else
			snprintf(ref, sizeof(ref), "dev-%ld", j);
		spec.reference = ref;
		if ((d = store_deployment_create(st, p, &spec, err)) == NULL)
			return -EINVAL;
		m->deps++;
		if (seed_extras(st, d, a, m, err) != 0)
			return -EINVAL;
	}
	return 0;
}

/* Created directly, not counted as API creates; one write for the store
 * version. */
void
admin_seed(struct sim_ctx *ctx, const cJSON *root, struct sim_reply *rp)
{
	struct sim_store *st = &ctx->store;
	struct sim_err err = { 0 };
	struct seed_args a;
	struct seed_made m;
	int rc = 0;
	cJSON *o;

	if (seed_parse(root, &a, rp) != 0)
		return;
	memset(&m, 0, sizeof(m));
	pthread_mutex_lock(&st->lock);
	for (long i = 1; i <= a.projects && rc == 0; i++)
		rc = seed_project(st, &a, i, &m, &err);
	if (m.projects > 0)
		st->version++;
	pthread_mutex_unlock(&st->lock);
	if (rc != 0) {
		sim_reply_error(rp, &err);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "projects", (double)m.projects);
	cJSON_AddNumberToObject(o, "deployments", (double)m.deps);
	cJSON_AddNumberToObject(o, "envVars", (double)m.env);
	cJSON_AddNumberToObject(o, "domains", (double)m.domains);
	cJSON_AddNumberToObject(o, "deployKeys", (double)m.keys);
	cJSON_AddNumberToObject(o, "firstProjectId", (double)m.first);
	cJSON_AddNumberToObject(o, "lastProjectId", (double)m.last);
	sim_reply_json(rp, 200, o);
}
