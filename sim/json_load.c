/* json_load.c: a state document (the format of GET /_sim/state) into an empty store, field by field from tables. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

/* What is being loaded, for the messages. */
struct load {
	struct sim_store *st;
	struct sim_err *err;
	struct sim_deployment *d;   /* deployments only */
	const char *what;           /* "project", "deployment NAME", ... */
};

static int
bad(struct load *l, const char *key, const char *why)
{
	sim_err_set(l->err, 400, "BadRequest", "%s: \"%s\" %s", l->what, key, why);
	return -EINVAL;
}

/* The typed readers: 1 absent or null, 0 read, -EINVAL wrong type. */
static int
read_int(struct load *l, const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
	    fabs(v->valuedouble) > 9007199254740992.0)
		return bad(l, key, "must be an integer");
	*out = (int64_t)v->valuedouble;
	return 0;
}

static int
read_str(struct load *l, const cJSON *o, const char *key, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsString(v))
		return bad(l, key, "must be a string");
	*out = v->valuestring;
	return 0;
}

static int
read_bool(struct load *l, const cJSON *o, const char *key, int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsBool(v))
		return bad(l, key, "must be a boolean");
	*out = cJSON_IsTrue(v) ? 1 : 0;
	return 0;
}

static int
need_int(struct load *l, const cJSON *o, const char *key, int64_t *out)
{
	int r = read_int(l, o, key, out);

	return r == 1 ? bad(l, key, "is missing") : r;
}

static int
need_str(struct load *l, const cJSON *o, const char *key, const char **out)
{
	int r = read_str(l, o, key, out);

	return r == 1 ? bad(l, key, "is missing") : r;
}

/* ---- projects */

static int
load_env(struct load *l, struct sim_project *p, const cJSON *a)
{
	struct env_change *ch;
	const cJSON *it;
	size_t n = 0;
	int rc = 0;

	if (a == NULL || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return bad(l, "env", "must be an array");
	if ((ch = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*ch))) == NULL) {
		sim_err_set(l->err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	cJSON_ArrayForEach(it, a) {
		const char *type;

		if ((rc = need_str(l, it, "deploymentType", &type)) != 0 ||
		    (rc = need_str(l, it, "name", &ch[n].name)) != 0 ||
		    (rc = need_str(l, it, "value", &ch[n].value)) != 0)
			break;
		if (names_type_parse(type, &ch[n].type) != 0) {
			rc = bad(l, "env", "has an unknown deploymentType");
			break;
		}
		n++;
	}
	if (rc == 0)
		rc = store_env_update(p, ch, n, l->err);
	free(ch);
	return rc;
}

static int
load_project(struct sim_store *st, const cJSON *o, struct sim_err *err)
{
	struct load l = { st, err, NULL, "project" };
	struct sim_project *p;
	int64_t id, ct = sim_now_ms();
	const char *name, *slug, *why;
	int rc;

	if (!cJSON_IsObject(o)) {
		sim_err_set(err, 400, "BadRequest", "projects: items must be objects");
		return -EINVAL;
	}
	if ((rc = need_int(&l, o, "id", &id)) != 0 ||
	    (rc = need_str(&l, o, "name", &name)) != 0 ||
	    (rc = read_str(&l, o, "slug", &slug)) < 0 ||
	    (rc = read_int(&l, o, "createTime", &ct)) < 0)
		return rc;
	if (id <= 0)
		return bad(&l, "id", "must be positive");
	if (slug != NULL && (why = names_slug_problem(slug)) != NULL)
		return bad(&l, "slug", why);
	if ((p = store_project_load(st, id, name, slug, ct, err)) == NULL)
		return err->status == 500 ? -ENOMEM : -EINVAL;
	return load_env(&l, p, cJSON_GetObjectItemCaseSensitive(o, "env"));
}

/* ---- deployments: one row per field (F_CLOUD, F_LOCAL: which kinds) */

#define F_CLOUD 1u
#define F_LOCAL 2u

struct dep_field {
	const char *key;
	unsigned kinds;
	int (*load)(struct load *l, const cJSON *o, const char *key);
};

static int
f_type(struct load *l, const cJSON *o, const char *key)
{
	const char *s;
	int r = read_str(l, o, key, &s);

	if (r == 0 && names_type_parse(s, &l->d->type) != 0)
		return bad(l, key, "is not dev, prod, preview or custom");
	return r < 0 ? r : 0;
}

static int
f_create_time(struct load *l, const cJSON *o, const char *key)
{
	int r = read_int(l, o, key, &l->d->create_time);

	return r < 0 ? r : 0;
}

static int
f_creator(struct load *l, const cJSON *o, const char *key)
{
	int r = read_int(l, o, key, &l->d->creator);

	return r < 0 ? r : 0;
}

static int
f_device(struct load *l, const cJSON *o, const char *key)
{
	const char *s;
	int r = read_str(l, o, key, &s);

	if (r < 0)
		return r;
	if ((l->d->device_name = strdup(s ? s : "sim-laptop")) == NULL) {
		sim_err_set(l->err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int
f_port(struct load *l, const cJSON *o, const char *key)
{
	int64_t port = 0;
	int r = read_int(l, o, key, &port);

	l->d->port = (int)(port > 0 && port < 65536 ? port : 0);
	return r < 0 ? r : 0;
}

static int
f_active(struct load *l, const cJSON *o, const char *key)
{
	int b = 0, r = read_bool(l, o, key, &b);

	l->d->is_active = b == 1;
	return r < 0 ? r : 0;
}

static int
f_reference(struct load *l, const cJSON *o, const char *key)
{
	const char *ref;
	int r = need_str(l, o, key, &ref);

	if (r != 0)
		return r;
	if (store_project_reference(l->d->project, ref) != NULL)
		return bad(l, key, "is used twice in its project");
	if ((l->d->reference = strdup(ref)) == NULL) {
		sim_err_set(l->err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int
f_region(struct load *l, const cJSON *o, const char *key)
{
	const char *s;
	int r = read_str(l, o, key, &s);

	if (r == 0 && names_region_parse(s, &l->d->region) != 0)
		return bad(l, key, "is not a known region");
	return r < 0 ? r : 0;
}

static int
f_class(struct load *l, const cJSON *o, const char *key)
{
	const char *s;
	int r = read_str(l, o, key, &s);

	if (r == 0 && names_class_parse(s, &l->d->cls) != 0)
		return bad(l, key, "is not a known class");
	return r < 0 ? r : 0;
}

/* After deploymentType (the table's order): a second default is refused. */
static int
f_default(struct load *l, const cJSON *o, const char *key)
{
	int b = 0, r = read_bool(l, o, key, &b);

	if (r < 0)
		return r;
	l->d->is_default = b == 1;
	if (l->d->is_default && store_project_default(l->d->project, l->d->type))
		return bad(l, key, "makes a second default of its type");
	return 0;
}

static int
f_expires(struct load *l, const cJSON *o, const char *key)
{
	int r = read_int(l, o, key, &l->d->expires_at);

	l->d->has_expires = r == 0;
	return r < 0 ? r : 0;
}

static int
f_last_deploy(struct load *l, const cJSON *o, const char *key)
{
	int r = read_int(l, o, key, &l->d->last_deploy_time);

	l->d->has_last_deploy = r == 0;
	return r < 0 ? r : 0;
}

static int
f_edit_confirmation(struct load *l, const cJSON *o, const char *key)
{
	int r = read_bool(l, o, key, &l->d->dashboard_edit_confirmation);

	return r < 0 ? r : 0;
}

static int
f_logs(struct load *l, const cJSON *o, const char *key)
{
	int r = read_bool(l, o, key, &l->d->send_logs_to_client);

	return r < 0 ? r : 0;
}

static const struct dep_field dep_fields[] = {
	{ "deploymentType", F_CLOUD | F_LOCAL, f_type },
	{ "createTime", F_CLOUD | F_LOCAL, f_create_time },
	{ "creator", F_CLOUD | F_LOCAL, f_creator },
	{ "deviceName", F_LOCAL, f_device },
	{ "port", F_LOCAL, f_port },
	{ "isActive", F_LOCAL, f_active },
	{ "reference", F_CLOUD, f_reference },
	{ "region", F_CLOUD, f_region },
	{ "class", F_CLOUD, f_class },
	{ "isDefault", F_CLOUD, f_default },
	{ "expiresAt", F_CLOUD, f_expires },
	{ "lastDeployTime", F_CLOUD, f_last_deploy },
	{ "dashboardEditConfirmation", F_CLOUD, f_edit_confirmation },
	{ "sendLogsToClient", F_CLOUD, f_logs },
};

/* ---- what a cloud deployment owns, once it is in the store */

static int
load_domains(struct load *l, const cJSON *a)
{
	const cJSON *it;
	int rc;

	if (a == NULL || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return bad(l, "customDomains", "must be an array");
	cJSON_ArrayForEach(it, a) {
		const char *domain, *dest;
		enum domain_dest dd;
		int64_t ct = sim_now_ms(), vt = 0;
		int r = 1;

		if ((rc = need_str(l, it, "domain", &domain)) != 0 ||
		    (rc = need_str(l, it, "requestDestination", &dest)) != 0 ||
		    (rc = read_int(l, it, "creationTime", &ct)) < 0 ||
		    (r = read_int(l, it, "verificationTime", &vt)) < 0)
			return rc < 0 ? rc : -EINVAL;
		if (names_dest_parse(dest, &dd) != 0)
			return bad(l, "requestDestination", "is not convexCloud or convexSite");
		if ((rc = store_domain_create(l->st, l->d, domain, dd, ct, l->err)) != 0)
			return rc;
		if (r == 0)
			store_domain_verify(l->st, domain, true, vt);
	}
	return 0;
}

static int
load_actions(struct load *l, const cJSON *a, uint32_t *out)
{
	const cJSON *it;

	*out = SIM_ALL_ACTIONS;
	if (a == NULL || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return bad(l, "allowedActions", "must be an array");
	*out = 0;
	cJSON_ArrayForEach(it, a) {
		int i = cJSON_IsString(it) ? names_action_parse(it->valuestring) : -EINVAL;

		if (i < 0)
			return bad(l, "allowedActions", "holds an unknown action");
		*out |= 1u << i;
	}
	return 0;
}

static int
load_key(struct load *l, const cJSON *it)
{
	struct sim_key *k;
	const char *name, *hash;
	int rc, r = 1;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		sim_err_set(l->err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	k->id = l->st->next_key_id;
	k->creation_time = sim_now_ms();
	k->creator = SIM_MEMBER_ID;
	if ((rc = need_str(l, it, "name", &name)) != 0 ||
	    (rc = read_str(l, it, "secretHash", &hash)) < 0 ||
	    (rc = read_int(l, it, "id", &k->id)) < 0 ||
	    (rc = read_int(l, it, "creationTime", &k->creation_time)) < 0 ||
	    (rc = read_int(l, it, "creator", &k->creator)) < 0 ||
	    (r = read_int(l, it, "expiresAt", &k->expires_at)) < 0 ||
	    (rc = load_actions(l, cJSON_GetObjectItemCaseSensitive(it,
	    "allowedActions"), &k->actions)) != 0) {
		free(k);
		return rc < 0 ? rc : -EINVAL;
	}
	k->has_expires = r == 0;
	/* Without a hash the key can be deleted by name only. */
	if (hash != NULL && (strlen(hash) != SIM_SHA256_HEX - 1 ||
	    strspn(hash, "0123456789abcdef") != SIM_SHA256_HEX - 1)) {
		free(k);
		return bad(l, "secretHash", "must be 64 lowercase hex digits");
	}
	snprintf(k->secret_hash, sizeof(k->secret_hash), "%s", hash ? hash : "");
	if ((k->name = strdup(name)) == NULL) {
		free(k);
		sim_err_set(l->err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	return store_key_insert(l->st, l->d, k, l->err);
}

static int
load_keys(struct load *l, const cJSON *a)
{
	const cJSON *it;
	int rc;

	if (a == NULL || cJSON_IsNull(a))
		return 0;
	if (!cJSON_IsArray(a))
		return bad(l, "deployKeys", "must be an array");
	cJSON_ArrayForEach(it, a)
		if ((rc = load_key(l, it)) != 0)
			return rc;
	return 0;
}

/* A new deployment with the defaults of its kind, before the fields. */
static struct sim_deployment *
dep_new(struct sim_store *st, bool local, const char *name, int64_t id,
    struct sim_project *p)
{
	struct sim_deployment *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->name = strdup(name)) == NULL) {
		free(d);
		return NULL;
	}
	d->kind = local ? DEP_LOCAL : DEP_CLOUD;
	d->id = local && id == 0 ? st->next_deployment_id : id;
	d->project = p;
	d->type = local ? DT_DEV : DT_PROD;
	d->creator = SIM_MEMBER_ID;
	d->create_time = sim_now_ms();
	d->dashboard_edit_confirmation = -1;
	d->send_logs_to_client = -1;
	return d;
}

/* Pass 0 loads the deployments that carry an id, pass 1 the local ones
 * without (they get fresh ids, which then cannot collide). */
static int
load_deployment(struct sim_store *st, const cJSON *o, int pass,
    struct sim_err *err)
{
	struct load l = { st, err, NULL, "deployment" };
	struct sim_project *p;
	const char *kind, *name;
	char what[96];
	int64_t id = 0, pid;
	bool local;
	int rc;

	if (!cJSON_IsObject(o)) {
		sim_err_set(err, 400, "BadRequest", "deployments: items must be objects");
		return -EINVAL;
	}
	if ((rc = read_str(&l, o, "kind", &kind)) < 0 ||
	    (rc = need_str(&l, o, "name", &name)) != 0 ||
	    (rc = need_int(&l, o, "projectId", &pid)) != 0)
		return rc;
	snprintf(what, sizeof(what), "deployment %.64s", name);
	l.what = what;
	local = kind != NULL && strcmp(kind, "local") == 0;
	if (kind != NULL && !local && strcmp(kind, "cloud") != 0)
		return bad(&l, "kind", "must be cloud or local");
	if ((local && cJSON_GetObjectItemCaseSensitive(o, "id") == NULL) != (pass == 1))
		return 0;
	if ((rc = (local ? read_int : need_int)(&l, o, "id", &id)) < 0)
		return rc;
	if ((p = store_project(st, pid)) == NULL)
		return bad(&l, "projectId", "names no project of the state");
	if ((l.d = dep_new(st, local, name, id, p)) == NULL) {
		sim_err_set(err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(dep_fields) / sizeof(dep_fields[0]); i++) {
		if (!(dep_fields[i].kinds & (local ? F_LOCAL : F_CLOUD)))
			continue;
		if ((rc = dep_fields[i].load(&l, o, dep_fields[i].key)) != 0) {
			store_deployment_free(l.d);
			return rc;
		}
	}
	if ((rc = store_deployment_insert(st, l.d, err)) != 0 || local)
		return rc;
	/* In the store now: a failure below fails the whole load, and the
	 * caller frees the store. */
	if ((rc = load_domains(&l, cJSON_GetObjectItemCaseSensitive(o, "customDomains"))) != 0)
		return rc;
	return load_keys(&l, cJSON_GetObjectItemCaseSensitive(o, "deployKeys"));
}

/* Keeps ids from going backwards across a save and a load. */
static int
load_counters(struct sim_store *st, const cJSON *root, struct sim_err *err)
{
	static const char *const keys[] = {
		"nextProjectId", "nextDeploymentId", "nextDeployKeyId",
	};
	int64_t *fields[] = {
		&st->next_project_id, &st->next_deployment_id, &st->next_key_id,
	};
	struct load l = { st, err, NULL, "state" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int64_t v;
		int r = read_int(&l, root, keys[i], &v);

		if (r < 0)
			return r;
		if (r == 0 && v > *fields[i])
			*fields[i] = v;
	}
	return 0;
}

int
json_state_load(struct sim_store *st, const cJSON *root, struct sim_err *err)
{
	const cJSON *projects, *deps, *item;
	int rc;

	err->status = 0;
	if (!cJSON_IsObject(root)) {
		sim_err_set(err, 400, "BadRequest", "state must be a JSON object");
		return -EINVAL;
	}
	projects = cJSON_GetObjectItemCaseSensitive(root, "projects");
	deps = cJSON_GetObjectItemCaseSensitive(root, "deployments");
	if ((projects != NULL && !cJSON_IsArray(projects)) ||
	    (deps != NULL && !cJSON_IsArray(deps))) {
		sim_err_set(err, 400, "BadRequest",
		    "state: projects and deployments must be arrays");
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, projects)
		if ((rc = load_project(st, item, err)) != 0)
			return rc;
	for (int pass = 0; pass < 2; pass++)
		cJSON_ArrayForEach(item, deps)
			if ((rc = load_deployment(st, item, pass, err)) != 0)
				return rc;
	return load_counters(st, root, err);
}
