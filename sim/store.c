/* store.c: the in-memory team: projects, deployments, ids, defaults and uniqueness rules. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define FIRST_PROJECT_ID     1000
#define FIRST_DEPLOYMENT_ID  1000000
#define FIRST_KEY_ID         500000000   /* AccessTokenId of deploy keys */
#define NAMES_SALT           0x6e616d6573ULL
#define KEYS_SALT            0x6b657973ULL

int64_t
sim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sim_err_set(struct sim_err *e, unsigned int status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

static void
oom(struct sim_err *err)
{
	sim_err_set(err, 500, "InternalServerError", "out of memory");
}

/* Where the -N search for a slug base resumes, so a thousand projects
 * of one name cost a thousand steps, not half a million. */
struct slug_counter {
	char *base;
	unsigned next;
};

static void
slug_counter_free(void *v)
{
	struct slug_counter *c = v;

	free(c->base);
	free(c);
}

int
store_init(struct sim_store *st, int64_t team_id, const char *team_slug,
    uint64_t seed)
{
	memset(st, 0, sizeof(*st));
	if (pthread_mutex_init(&st->lock, NULL) != 0)
		return -ENOMEM;
	st->team_id = team_id;
	snprintf(st->team_slug, sizeof(st->team_slug), "%s", team_slug);
	snprintf(st->team_name, sizeof(st->team_name), "%s", team_slug);
	st->next_project_id = FIRST_PROJECT_ID;
	st->next_deployment_id = FIRST_DEPLOYMENT_ID;
	st->next_key_id = FIRST_KEY_ID;
	hmap_init(&st->by_name);
	hmap_init(&st->by_slug);
	hmap_init(&st->slug_next);
	hmap_init(&st->by_domain);
	st->seed = seed;
	rng_seed(&st->rng, seed ^ NAMES_SALT);
	rng_seed(&st->key_rng, seed ^ KEYS_SALT);
	return 0;
}

/* Frees d with its domains and keys; the caller has already unlinked the
 * domains from by_domain (store_domains_clear) or drops the whole map. */
void
store_deployment_free(struct sim_deployment *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->ndomains; i++) {
		free(d->domains[i]->domain);
		free(d->domains[i]);
	}
	free(d->domains);
	store_keys_clear(d);
	free(d->keys);
	free(d->name);
	free(d->reference);
	free(d->device_name);
	free(d);
}

static void
project_free(struct sim_project *p)
{
	if (p == NULL)
		return;
	store_env_clear(p);
	free(p->env);
	free(p->name);
	free(p->slug);
	free(p->deps);
	free(p);
}

void
store_clear(struct sim_store *st)
{
	for (size_t i = 0; i < st->ndeps; i++)
		store_deployment_free(st->deps[i]);
	for (size_t i = 0; i < st->nprojects; i++)
		project_free(st->projects[i]);
	free(st->deps);
	free(st->projects);
	st->deps = NULL;
	st->projects = NULL;
	st->ndeps = st->capdeps = st->dead_deps = 0;
	st->nprojects = st->capprojects = st->dead_projects = 0;
	hmap_free(&st->by_name);
	hmap_free(&st->by_slug);
	hmap_free(&st->by_domain);
	hmap_free_with(&st->slug_next, slug_counter_free);
	st->next_project_id = FIRST_PROJECT_ID;
	st->next_deployment_id = FIRST_DEPLOYMENT_ID;
	st->next_key_id = FIRST_KEY_ID;
	rng_seed(&st->rng, st->seed ^ NAMES_SALT);
	rng_seed(&st->key_rng, st->seed ^ KEYS_SALT);
}

void
store_free(struct sim_store *st)
{
	if (st == NULL)
		return;
	store_clear(st);
	pthread_mutex_destroy(&st->lock);
}

void
store_swap_contents(struct sim_store *dst, struct sim_store *src)
{
	struct sim_store tmp = *dst;

	/* Swap everything but the locks, the team identity and the version
	 * (which only ever grows; the caller bumps it). */
#define SWAP(f) do { dst->f = src->f; src->f = tmp.f; } while (0)
	SWAP(next_project_id);
	SWAP(next_deployment_id);
	SWAP(next_key_id);
	SWAP(projects);
	SWAP(nprojects);
	SWAP(capprojects);
	SWAP(dead_projects);
	SWAP(deps);
	SWAP(ndeps);
	SWAP(capdeps);
	SWAP(dead_deps);
	SWAP(by_name);
	SWAP(by_slug);
	SWAP(slug_next);
	SWAP(by_domain);
	SWAP(rng);
	SWAP(key_rng);
#undef SWAP
}

size_t
store_project_pos(const struct sim_store *st, int64_t id)
{
	size_t lo = 0, hi = st->nprojects;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->projects[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
store_deployment_pos(const struct sim_store *st, int64_t id)
{
	size_t lo = 0, hi = st->ndeps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->deps[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct sim_project *
store_project(struct sim_store *st, int64_t id)
{
	size_t i = store_project_pos(st, id);

	if (i < st->nprojects && st->projects[i]->id == id &&
	    !st->projects[i]->deleted)
		return st->projects[i];
	return NULL;
}

struct sim_deployment *
store_deployment(struct sim_store *st, const char *name)
{
	return hmap_get(&st->by_name, name);
}

int
sim_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	void *n;
	size_t c;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	if ((n = realloc(*arr, c * elem)) == NULL)
		return -ENOMEM;
	*arr = n;
	*cap = c;
	return 0;
}

bool
store_edit_confirmation(const struct sim_deployment *d)
{
	if (d->dashboard_edit_confirmation >= 0)
		return d->dashboard_edit_confirmation == 1;
	return names_default_edit_confirmation(d->type);
}

bool
store_logs_to_client(const struct sim_deployment *d)
{
	if (d->send_logs_to_client >= 0)
		return d->send_logs_to_client == 1;
	return names_default_logs_to_client(d->type);
}

/* Appends in id order: a loaded item with a smaller id than the last one
 * is placed by insertion (only state loading does that). */
static int
projects_insert(struct sim_store *st, struct sim_project *p)
{
	size_t pos;

	if (sim_grow((void **)&st->projects, &st->capprojects, st->nprojects + 1,
	    sizeof(*st->projects)) != 0)
		return -ENOMEM;
	pos = store_project_pos(st, p->id);
	memmove(&st->projects[pos + 1], &st->projects[pos],
	    (st->nprojects - pos) * sizeof(*st->projects));
	st->projects[pos] = p;
	st->nprojects++;
	return 0;
}

static int
deps_insert(struct sim_store *st, struct sim_deployment *d)
{
	size_t pos;

	if (sim_grow((void **)&st->deps, &st->capdeps, st->ndeps + 1,
	    sizeof(*st->deps)) != 0)
		return -ENOMEM;
	pos = store_deployment_pos(st, d->id);
	memmove(&st->deps[pos + 1], &st->deps[pos],
	    (st->ndeps - pos) * sizeof(*st->deps));
	st->deps[pos] = d;
	st->ndeps++;
	return 0;
}

static int
project_add_dep(struct sim_project *p, struct sim_deployment *d)
{
	size_t pos;

	if (sim_grow((void **)&p->deps, &p->capdeps, p->ndeps + 1,
	    sizeof(*p->deps)) != 0)
		return -ENOMEM;
	/* creation (id) order */
	for (pos = p->ndeps; pos > 0 && p->deps[pos - 1]->id > d->id; pos--)
		p->deps[pos] = p->deps[pos - 1];
	p->deps[pos] = d;
	p->ndeps++;
	return 0;
}

static void
project_remove_dep(struct sim_project *p, struct sim_deployment *d)
{
	for (size_t i = 0; i < p->ndeps; i++) {
		if (p->deps[i] == d) {
			memmove(&p->deps[i], &p->deps[i + 1],
			    (p->ndeps - i - 1) * sizeof(*p->deps));
			p->ndeps--;
			return;
		}
	}
}

/* Slug from the name, made unique in the team with -2, -3, ... */
static char *
unique_slug(struct sim_store *st, const char *base)
{
	struct slug_counter *c;
	char buf[96];
	unsigned n;

	snprintf(buf, sizeof(buf), "%s", base);
	if (hmap_get(&st->by_slug, buf) == NULL)
		return strdup(buf);
	c = hmap_get(&st->slug_next, base);
	n = c ? c->next : 2;
	for (;; n++) {
		snprintf(buf, sizeof(buf), "%.64s-%u", base, n);
		if (hmap_get(&st->by_slug, buf) == NULL)
			break;
	}
	if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
		if ((c->base = strdup(base)) == NULL ||
		    hmap_put(&st->slug_next, c->base, c) != 0) {
			free(c->base);
			free(c);
			c = NULL;
		}
	}
	if (c != NULL)
		c->next = n + 1;
	return strdup(buf);
}

static struct sim_project *
project_new(struct sim_store *st, int64_t id, const char *name,
    const char *slug, int64_t create_time, struct sim_err *err)
{
	struct sim_project *p = calloc(1, sizeof(*p));
	char base[96];

	if (p == NULL) {
		oom(err);
		return NULL;
	}
	p->id = id;
	p->create_time = create_time;
	p->name = strdup(name);
	if (slug != NULL) {
		if (hmap_get(&st->by_slug, slug) != NULL) {
			sim_err_set(err, 400, "BadRequest",
			    "project slug \"%.64s\" is used twice", slug);
			project_free(p);
			return NULL;
		}
		p->slug = strdup(slug);
	} else {
		names_slugify(name, base, sizeof(base));
		p->slug = unique_slug(st, base);
	}
	if (p->name == NULL || p->slug == NULL ||
	    hmap_put(&st->by_slug, p->slug, p) != 0) {
		project_free(p);
		oom(err);
		return NULL;
	}
	if (projects_insert(st, p) != 0) {
		hmap_del(&st->by_slug, p->slug);
		project_free(p);
		oom(err);
		return NULL;
	}
	return p;
}

struct sim_project *
store_project_create(struct sim_store *st, const char *name,
    struct sim_err *err)
{
	struct sim_project *p;

	p = project_new(st, st->next_project_id, name, NULL, sim_now_ms(), err);
	if (p != NULL)
		st->next_project_id++;
	return p;
}

struct sim_project *
store_project_load(struct sim_store *st, int64_t id, const char *name,
    const char *slug, int64_t create_time, struct sim_err *err)
{
	size_t pos = store_project_pos(st, id);
	struct sim_project *p;

	if (pos < st->nprojects && st->projects[pos]->id == id) {
		sim_err_set(err, 400, "BadRequest",
		    "project id %lld is used twice", (long long)id);
		return NULL;
	}
	p = project_new(st, id, name, slug, create_time, err);
	if (p != NULL && id >= st->next_project_id)
		st->next_project_id = id + 1;
	return p;
}

struct sim_deployment *
store_project_default(const struct sim_project *p, enum dep_type type)
{
	for (size_t i = 0; i < p->ndeps; i++) {
		struct sim_deployment *d = p->deps[i];

		if (d->kind == DEP_CLOUD && d->is_default && d->type == type)
			return d;
	}
	return NULL;
}

struct sim_deployment *
store_project_reference(const struct sim_project *p, const char *ref)
{
	for (size_t i = 0; i < p->ndeps; i++) {
		struct sim_deployment *d = p->deps[i];

		if (d->kind == DEP_CLOUD && strcmp(d->reference, ref) == 0)
			return d;
	}
	return NULL;
}

/* "production", "production-2", ...; "pr-1", "custom-1", ... */
static char *
generate_reference(const struct sim_project *p, enum dep_type type)
{
	static const char *const base[] = {
		"development", "production", "pr", "custom"
	};
	char buf[64];
	unsigned n = 1;

	if (type == DT_DEV || type == DT_PROD)
		snprintf(buf, sizeof(buf), "%s", base[type]);
	else
		snprintf(buf, sizeof(buf), "%s-%u", base[type], n);
	while (store_project_reference(p, buf) != NULL) {
		n++;
		snprintf(buf, sizeof(buf), "%s-%u", base[type], n);
	}
	return strdup(buf);
}

static char *
generate_name(struct sim_store *st)
{
	char buf[64];

	for (int tries = 0; tries < 64; tries++) {
		names_deployment(&st->rng, buf, sizeof(buf));
		if (hmap_get(&st->by_name, buf) == NULL)
			return strdup(buf);
	}
	/* A crowded space: widen the number until it is free. */
	for (;;) {
		names_deployment(&st->rng, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%u",
		    (unsigned)rng_below(&st->rng, 1000000));
		if (hmap_get(&st->by_name, buf) == NULL)
			return strdup(buf);
	}
}

int
store_deployment_insert(struct sim_store *st, struct sim_deployment *d,
    struct sim_err *err)
{
	size_t pos = store_deployment_pos(st, d->id);
	int rc = -EEXIST;

	if (pos < st->ndeps && st->deps[pos]->id == d->id) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment id %lld is used twice", (long long)d->id);
		goto fail;
	}
	if (hmap_get(&st->by_name, d->name) != NULL) {
		sim_err_set(err, 400, "BadRequest",
		    "deployment name \"%.64s\" is used twice", d->name);
		goto fail;
	}
	rc = -ENOMEM;
	if (hmap_put(&st->by_name, d->name, d) != 0) {
		oom(err);
		goto fail;
	}
	if (deps_insert(st, d) != 0) {
		hmap_del(&st->by_name, d->name);
		oom(err);
		goto fail;
	}
	if (project_add_dep(d->project, d) != 0) {
		/* Leave it as a tombstone: the arrays stay consistent. */
		d->deleted = true;
		st->dead_deps++;
		hmap_del(&st->by_name, d->name);
		oom(err);
		return -ENOMEM;
	}
	if (d->id >= st->next_deployment_id)
		st->next_deployment_id = d->id + 1;
	return 0;
fail:
	store_deployment_free(d);
	return rc;
}

struct sim_deployment *
store_deployment_create(struct sim_store *st, struct sim_project *p,
    const struct dep_spec *spec, struct sim_err *err)
{
	struct sim_deployment *d;
	const char *why;
	bool is_default;

	if (spec->reference != NULL) {
		if ((why = names_reference_problem(spec->reference)) != NULL) {
			sim_err_set(err, 400, "InvalidReference",
			    "Invalid deployment reference \"%.100s\": it %s",
			    spec->reference, why);
			return NULL;
		}
		if (store_project_reference(p, spec->reference) != NULL) {
			sim_err_set(err, 400, "ReferenceAlreadyExists",
			    "A deployment with reference \"%.100s\" already exists in project %lld",
			    spec->reference, (long long)p->id);
			return NULL;
		}
	}
	if (spec->is_default >= 0)
		is_default = spec->is_default == 1;
	else
		is_default = spec->reference == NULL &&
		    (spec->type == DT_DEV || spec->type == DT_PROD);
	if (is_default && spec->type != DT_DEV && spec->type != DT_PROD) {
		sim_err_set(err, 400, "BadRequest",
		    "isDefault can only be set on dev and prod deployments");
		return NULL;
	}
	if (is_default && store_project_default(p, spec->type) != NULL) {
		sim_err_set(err, 400, "DefaultDeploymentExists",
		    "Project %lld already has a default %s deployment (%s)",
		    (long long)p->id, names_type_str(spec->type),
		    store_project_default(p, spec->type)->name);
		return NULL;
	}
	if (spec->has_expires && !spec->expires_null &&
	    spec->expires_at < sim_now_ms() + SIM_MIN_EXPIRY_MS) {
		sim_err_set(err, 400, "BadRequest",
		    "expiresAt must be at least 30 minutes in the future");
		return NULL;
	}

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		oom(err);
		return NULL;
	}
	d->id = st->next_deployment_id;
	d->kind = DEP_CLOUD;
	d->project = p;
	d->type = spec->type;
	d->create_time = sim_now_ms();
	d->creator = SIM_MEMBER_ID;
	d->region = spec->has_region ? spec->region : REGION_US_EAST_1;
	d->cls = spec->has_class ? spec->cls : CLASS_S16;
	d->is_default = is_default;
	d->dashboard_edit_confirmation = -1;
	d->send_logs_to_client = -1;
	if (spec->has_expires) {
		d->has_expires = !spec->expires_null;
		d->expires_at = spec->expires_at;
	} else if (spec->type == DT_PREVIEW) {
		/* Previews expire by default (the team's retention). */
		d->has_expires = true;
		d->expires_at = d->create_time + 14LL * 24 * 3600 * 1000;
	}
	d->reference = spec->reference ? strdup(spec->reference) :
	    generate_reference(p, spec->type);
	d->name = generate_name(st);
	if (d->reference == NULL || d->name == NULL) {
		store_deployment_free(d);
		oom(err);
		return NULL;
	}
	if (store_deployment_insert(st, d, err) != 0)
		return NULL;
	return d;
}

int
store_project_patch(struct sim_store *st, struct sim_project *p,
    const char *name, const char *slug, struct sim_err *err)
{
	const char *why;
	struct sim_project *other;
	char *nn = NULL, *ns = NULL;

	if (name != NULL && (why = names_project_name_problem(name)) != NULL) {
		sim_err_set(err, 400, "InvalidProjectName", "name %s", why);
		return -EINVAL;
	}
	if (slug != NULL) {
		if ((why = names_slug_problem(slug)) != NULL) {
			sim_err_set(err, 400, "InvalidProjectSlug",
			    "Invalid project slug \"%.64s\": it %s", slug, why);
			return -EINVAL;
		}
		other = hmap_get(&st->by_slug, slug);
		if (other != NULL && other != p) {
			sim_err_set(err, 400, "ProjectSlugAlreadyExists",
			    "Project %lld already uses the slug \"%.64s\"",
			    (long long)other->id, slug);
			return -EINVAL;
		}
	}
	if ((name != NULL && (nn = strdup(name)) == NULL) ||
	    (slug != NULL && (ns = strdup(slug)) == NULL)) {
		free(nn);
		free(ns);
		oom(err);
		return -ENOMEM;
	}
	if (ns != NULL) {
		/* by_slug borrows its key from p->slug: unlink before freeing. */
		hmap_del(&st->by_slug, p->slug);
		if (hmap_put(&st->by_slug, ns, p) != 0) {
			hmap_put(&st->by_slug, p->slug, p);   /* a freed slot: cannot fail */
			free(nn);
			free(ns);
			oom(err);
			return -ENOMEM;
		}
		free(p->slug);
		p->slug = ns;
	}
	if (nn != NULL) {
		free(p->name);
		p->name = nn;
	}
	return 0;
}

/* The checks of a PATCH, in the order the errors are reported. */
static int
patch_check(const struct sim_deployment *d, const struct dep_patch *pt,
    struct sim_err *err)
{
	enum dep_type type = pt->has_type ? pt->type : d->type;
	bool isdef = pt->is_default >= 0 ? pt->is_default == 1 : d->is_default;
	struct sim_deployment *other;
	const char *why;

	if (pt->reference != NULL && strcmp(pt->reference, d->reference) != 0) {
		if ((why = names_reference_problem(pt->reference)) != NULL) {
			sim_err_set(err, 400, "InvalidReference",
			    "Invalid deployment reference \"%.100s\": it %s",
			    pt->reference, why);
			return -EINVAL;
		}
		if (store_project_reference(d->project, pt->reference) != NULL) {
			sim_err_set(err, 400, "ReferenceAlreadyExists",
			    "A deployment with reference \"%.100s\" already exists in project %lld",
			    pt->reference, (long long)d->project->id);
			return -EINVAL;
		}
	}
	if (pt->has_expires && !pt->expires_null &&
	    pt->expires_at < sim_now_ms() + SIM_MIN_EXPIRY_MS) {
		sim_err_set(err, 400, "BadRequest",
		    "expiresAt must be at least 30 minutes in the future");
		return -EINVAL;
	}
	/* A default that would stay default under a type that cannot be
	 * default is refused too: clear it in the same request. */
	if (isdef && type != DT_DEV && type != DT_PROD) {
		sim_err_set(err, 400, "BadRequest",
		    "Only dev and prod deployments can be default (%s is %s)",
		    d->name, names_type_str(type));
		return -EINVAL;
	}
	other = store_project_default(d->project, type);
	if (isdef && other != NULL && other != d) {
		sim_err_set(err, 400, "DefaultDeploymentExists",
		    "Project %lld already has a default %s deployment (%s)",
		    (long long)d->project->id, names_type_str(type), other->name);
		return -EINVAL;
	}
	return 0;
}

int
store_deployment_patch(struct sim_store *st, struct sim_deployment *d,
    const struct dep_patch *pt, struct sim_err *err)
{
	char *ref = NULL;
	int rc;

	(void)st;
	if ((rc = patch_check(d, pt, err)) != 0)
		return rc;
	if (pt->reference != NULL && strcmp(pt->reference, d->reference) != 0 &&
	    (ref = strdup(pt->reference)) == NULL) {
		oom(err);
		return -ENOMEM;
	}
	/* Everything checked: apply all of it. */
	if (ref != NULL) {
		free(d->reference);
		d->reference = ref;
	}
	if (pt->has_class)
		d->cls = pt->cls;
	if (pt->has_type)
		d->type = pt->type;
	if (pt->is_default >= 0)
		d->is_default = pt->is_default == 1;
	if (pt->has_expires) {
		d->has_expires = !pt->expires_null;
		d->expires_at = pt->expires_null ? 0 : pt->expires_at;
	}
	if (pt->edit_confirmation != -2)
		d->dashboard_edit_confirmation = pt->edit_confirmation;
	if (pt->logs_to_client != -2)
		d->send_logs_to_client = pt->logs_to_client;
	return 0;
}

/* Drops tombstones once they outnumber the living, so walks stay short. */
static void
compact(struct sim_store *st)
{
	size_t j;

	if (st->dead_deps > 64 && st->dead_deps * 2 > st->ndeps) {
		for (size_t i = j = 0; i < st->ndeps; i++) {
			if (st->deps[i]->deleted)
				store_deployment_free(st->deps[i]);
			else
				st->deps[j++] = st->deps[i];
		}
		st->ndeps = j;
		st->dead_deps = 0;
	}
	if (st->dead_projects > 64 && st->dead_projects * 2 > st->nprojects) {
		for (size_t i = j = 0; i < st->nprojects; i++) {
			if (st->projects[i]->deleted)
				project_free(st->projects[i]);
			else
				st->projects[j++] = st->projects[i];
		}
		st->nprojects = j;
		st->dead_projects = 0;
	}
}

/* A deleted deployment stays as a tombstone until a compaction; what it
 * owned (domains, keys) goes now, so its domains are free again. */
static void
deployment_kill(struct sim_store *st, struct sim_deployment *d)
{
	hmap_del(&st->by_name, d->name);
	store_domains_clear(st, d);
	store_keys_clear(d);
	d->deleted = true;
	st->dead_deps++;
}

void
store_deployment_delete(struct sim_store *st, struct sim_deployment *d)
{
	if (d->deleted)
		return;
	project_remove_dep(d->project, d);
	deployment_kill(st, d);
	compact(st);
}

void
store_project_delete(struct sim_store *st, struct sim_project *p)
{
	if (p->deleted)
		return;
	for (size_t i = 0; i < p->ndeps; i++)
		deployment_kill(st, p->deps[i]);
	p->ndeps = 0;
	store_env_clear(p);
	hmap_del(&st->by_slug, p->slug);
	p->deleted = true;
	st->dead_projects++;
	compact(st);
}
