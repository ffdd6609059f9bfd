/* test_reconcile_common.h: what test_execute, test_observe and test_reconcile
 * share: the built convex-api-sim (tests/support/sim_harness.h) and an API
 * client on a real libuv loop, a temporary state folder, desired states built
 * in code, the observed state read back from /_sim/state, the simulator's
 * counters, its request log (--verbose, read from its stderr), and a hook
 * that runs after every HTTP exchange so a test can change the simulator's
 * faults in the middle of a run. The teardown proves that no handle leaked
 * (uv_loop_close == 0) and that the simulator exits cleanly. */
#ifndef CP_TEST_RECONCILE_COMMON_H
#define CP_TEST_RECONCILE_COMMON_H

#include "test_api_common.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "arena.h"
#include "plan.h"
#include "support/sim_harness.h"

#define REC_MAX_EXCHANGES 1024

/* One HTTP exchange as the client saw it (api_config.on_request). */
struct rec_exchange {
	char route[96];         /* the template: "POST /teams/{team}/create_project" */
	int status;             /* 0: no answer */
	double start_ms;        /* client clock (uv_hrtime), start and end */
	double end_ms;
};

struct rec_env;
/* Runs after every exchange, from the loop. */
typedef void (*rec_hook)(struct rec_env *e, const char *route, int status);

struct rec_env {
	uv_loop_t loop;
	struct sim sim;
	struct api_client *c;
	struct api_config cfg;
	char dir[256];          /* temporary state folder, removed by rec_stop */
	char ledger_path[320];  /* dir/ledger.json */
	char audit_path[320];   /* dir/actions.jsonl */
	char sim_log[320];      /* the simulator's stderr, when rec_start_logged */
	int requests;           /* exchanges so far */
	struct rec_exchange ex[REC_MAX_EXCHANGES];
	unsigned max_api_in_flight;  /* sampled by rec_run_until */
	rec_hook hook;
	void *hook_arg;
	int hook_fired;
};

static inline void
rec_on_request(void *arg, const char *route, int status, double seconds)
{
	struct rec_env *e = arg;
	double now = (double)uv_hrtime() / 1e6;

	if (e->requests < REC_MAX_EXCHANGES) {
		struct rec_exchange *x = &e->ex[e->requests];

		snprintf(x->route, sizeof(x->route), "%s", route);
		x->status = status;
		x->end_ms = now;
		x->start_ms = now - seconds * 1000;
	}
	e->requests++;
	if (e->hook != NULL)
		e->hook(e, route, status);
}

static inline void
rec_make_dir(struct rec_env *e)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(e->dir, sizeof(e->dir), "%s/cp-rec-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(e->dir) == NULL)
		fail_msg("mkdtemp %s: %s", e->dir, strerror(errno));
	snprintf(e->ledger_path, sizeof(e->ledger_path), "%s/ledger.json", e->dir);
	snprintf(e->audit_path, sizeof(e->audit_path), "%s/actions.jsonl", e->dir);
}

static inline struct rec_env *
rec_alloc(void)
{
	struct rec_env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	assert_int_equal(uv_loop_init(&e->loop), 0);
	rec_make_dir(e);
	return e;
}

static inline void
rec_configure(struct rec_env *e)
{
	/* Short backoffs, so a fault costs milliseconds (as test_api_sim). */
	test_config(&e->cfg, e->sim.url, e->sim.token);
	e->cfg.concurrency = 32;
	e->cfg.on_request = rec_on_request;
	e->cfg.on_request_arg = e;
}

/* The simulator with args (NULL-terminated, may be NULL); the client is made
 * by rec_client, so a test can change e->cfg first. */
static inline struct rec_env *
rec_start(const char *const *args)
{
	struct rec_env *e = rec_alloc();

	assert_int_equal(sim_start(&e->sim, args), 0);
	rec_configure(e);
	return e;
}

/* The same, with the simulator's stderr in e->sim_log: give it --verbose to
 * have one line per request, in the order the simulator answered them. */
static inline struct rec_env *
rec_start_logged(const char *const *args)
{
	struct rec_env *e = rec_alloc();
	int fd, saved, rc;

	snprintf(e->sim_log, sizeof(e->sim_log), "%s/sim.log", e->dir);
	fd = open(e->sim_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	/* The child inherits fd 2 at fork; ours comes back at once. */
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	rc = sim_start(&e->sim, args);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(fd);
	assert_int_equal(rc, 0);
	rec_configure(e);
	return e;
}

static inline void
rec_client(struct rec_env *e)
{
	struct api_error err;

	assert_int_equal(api_client_new(&e->loop, &e->cfg, &e->c, &err), 0);
}

static inline int
rec_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Closes the client, proves no handle is left, stops the simulator (it must
 * exit 0) and removes the state folder. */
static inline void
rec_stop(struct rec_env *e)
{
	close_client_and_loop(&e->loop, e->c);
	assert_int_equal(sim_stop(&e->sim), 0);
	nftw(e->dir, rec_rm, 8, FTW_DEPTH | FTW_PHYS);
	free(e);
}

/* Runs the loop until *counter >= want, or fails after timeout_ms; samples
 * api_in_flight after every turn. */
static inline void
rec_run_until(struct rec_env *e, const int *counter, int want, uint64_t timeout_ms)
{
	uv_timer_t wake;
	uint64_t deadline = uv_hrtime() + timeout_ms * 1000000ULL;

	uv_timer_init(&e->loop, &wake);
	uv_timer_start(&wake, on_wake, 20, 20);
	while (*counter < want && uv_hrtime() < deadline) {
		uv_run(&e->loop, UV_RUN_ONCE);
		if (e->c != NULL && api_in_flight(e->c) > e->max_api_in_flight)
			e->max_api_in_flight = api_in_flight(e->c);
	}
	uv_close((uv_handle_t *)&wake, NULL);
	uv_run(&e->loop, UV_RUN_NOWAIT);
	if (*counter < want)
		fail_msg("timed out after %llu ms: %d of %d callbacks",
		    (unsigned long long)timeout_ms, *counter, want);
}

/* ---- the simulator's side ------------------------------------------------- */

static inline void
rec_admin_post(struct rec_env *e, const char *path, const char *json)
{
	struct sim_response r;

	assert_int_equal(sim_admin_post(&e->sim, path, json, &r), 0);
	if (r.status != 200)
		fail_msg("POST %s: %ld %s", path, r.status, r.body);
	sim_response_free(&r);
}

static inline cJSON *
rec_admin_json(struct rec_env *e, const char *path)
{
	struct sim_response r;
	cJSON *j;

	assert_int_equal(sim_admin_get(&e->sim, path, &r), 0);
	assert_int_equal(r.status, 200);
	j = cJSON_Parse(r.body);
	assert_non_null(j);
	sim_response_free(&r);
	return j;
}

static inline cJSON *
rec_stats(struct rec_env *e)
{
	return rec_admin_json(e, "/_sim/stats");
}

static inline cJSON *
rec_state(struct rec_env *e)
{
	return rec_admin_json(e, "/_sim/state");
}

/* The team as GET /_sim/state prints it, as one string (for equality). */
static inline char *
rec_state_text(struct rec_env *e)
{
	cJSON *j = rec_state(e);
	char *s = cJSON_PrintUnformatted(j);

	assert_non_null(s);
	cJSON_Delete(j);
	return s;
}

/* Answers with this status ("200", "404", "drop"; NULL: all) on a route
 * template ("POST /projects/{id}/delete"). */
static inline long
stat_count(const cJSON *s, const char *route, const char *status)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "requests");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(req, route), *v;
	long n = 0;

	if (r == NULL)
		return 0;
	if (status != NULL) {
		v = cJSON_GetObjectItemCaseSensitive(r, status);
		return v ? (long)v->valuedouble : 0;
	}
	cJSON_ArrayForEach(v, r)
		n += (long)v->valuedouble;
	return n;
}

/* s.a or s.a.b, which must exist. */
static inline long
stat_num(const cJSON *s, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, a);

	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (!cJSON_IsNumber(v))
		fail_msg("no number at %s%s%s in the stats", a, b ? "." : "", b ? b : "");
	return (long)v->valuedouble;
}

/* Requests that could change something: every /v1 request whose method is
 * not GET, whatever its answer. */
static inline long
stat_writes(const cJSON *s)
{
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "requests"), *r, *v;
	long n = 0;

	cJSON_ArrayForEach(r, req) {
		if (strncmp(r->string, "GET ", 4) == 0)
			continue;
		cJSON_ArrayForEach(v, r)
			n += (long)v->valuedouble;
	}
	return n;
}

static inline const char *
json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline int64_t
json_i64(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* The id of the one live project with this name in a /_sim/state; 0 when
 * none; fails when there are several. */
static inline int64_t
state_project_id(const cJSON *st, const char *name)
{
	const cJSON *p;
	int64_t id = 0;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "projects")) {
		const char *n = json_str(p, "name");

		if (n != NULL && strcmp(n, name) == 0) {
			if (id != 0)
				fail_msg("two live projects named \"%s\"", name);
			id = json_i64(p, "id");
		}
	}
	return id;
}

/* The cloud deployment (project id, reference) of a /_sim/state, or NULL. */
static inline const cJSON *
state_deployment(const cJSON *st, int64_t project_id, const char *reference)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(st, "deployments")) {
		const char *kind = json_str(d, "kind"), *ref = json_str(d, "reference");

		if (kind != NULL && strcmp(kind, "cloud") == 0 &&
		    json_i64(d, "projectId") == project_id &&
		    ref != NULL && strcmp(ref, reference) == 0)
			return d;
	}
	return NULL;
}

static inline size_t
state_count(const cJSON *st, const char *what)
{
	return (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, what));
}

static inline char *
test_strdup(const char *s)
{
	char *d = strdup(s);

	assert_non_null(d);
	return d;
}

/* The observed projects' and deployments' strings live in the state's pool
 * (model.h), as the listings put them there. */
static inline char *
pool_strdup(struct observed_state *os, const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strpool_add(&os->strings, s);
	assert_non_null(d);
	return d;
}

static inline signed char
state_tristate(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsBool(v) ? (signed char)(cJSON_IsTrue(v) ? 1 : 0) : -1;
}

/* The observed state the API would give, read from /_sim/state (cloud
 * deployments only), without any /v1 request: a test of the executor needs
 * a plan without depending on the observation code. */
static inline void
observed_from_sim(struct rec_env *e, struct observed_state *os)
{
	cJSON *st = rec_state(e);
	const cJSON *p, *d;
	size_t np = state_count(st, "projects"), nd = state_count(st, "deployments");

	memset(os, 0, sizeof(*os));
	os->projects = calloc(np + 1, sizeof(*os->projects));
	os->deployments = calloc(nd + 1, sizeof(*os->deployments));
	assert_non_null(os->projects);
	assert_non_null(os->deployments);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(st, "projects")) {
		struct observed_project *o = &os->projects[os->n_projects++];

		o->id = json_i64(p, "id");
		o->name = pool_strdup(os, json_str(p, "name"));
		o->slug = pool_strdup(os, json_str(p, "slug"));
		o->create_time = json_i64(p, "createTime");
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(st, "deployments")) {
		struct observed_deployment *o;
		const char *kind = json_str(d, "kind");

		if (kind == NULL || strcmp(kind, "cloud") != 0)
			continue;
		o = &os->deployments[os->n_deployments++];
		o->id = json_i64(d, "id");
		o->name = pool_strdup(os, json_str(d, "name"));
		o->project_id = json_i64(d, "projectId");
		assert_int_equal(dep_type_parse(json_str(d, "deploymentType"), &o->type), 0);
		o->reference = pool_strdup(os, json_str(d, "reference"));
		o->region = pool_strdup(os, json_str(d, "region"));
		o->class_name = pool_strdup(os, json_str(d, "class"));
		o->is_default = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "isDefault"));
		o->create_time = json_i64(d, "createTime");
		/* As stored: null (the type default) reads as "not said". */
		o->dashboard_edit_confirmation = state_tristate(d, "dashboardEditConfirmation");
		o->send_logs_to_client = state_tristate(d, "sendLogsToClient");
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "expiresAt")))
			o->expires_at = json_i64(d, "expiresAt");
	}
	cJSON_Delete(st);
}

/* Replaces the team and zeroes the counters: POST /_sim/reset with the
 * current state plus `extra_deployments` (a JSON array text, e.g. local
 * deployments, which the API cannot create), or NULL. */
static inline void
rec_reset_with(struct rec_env *e, const char *extra_deployments)
{
	cJSON *st = rec_state(e), *deps, *extra;
	char *text;

	deps = cJSON_GetObjectItemCaseSensitive(st, "deployments");
	if (extra_deployments != NULL) {
		cJSON *x;

		extra = cJSON_Parse(extra_deployments);
		assert_non_null(extra);
		while ((x = cJSON_DetachItemFromArray(extra, 0)) != NULL)
			cJSON_AddItemToArray(deps, x);
		cJSON_Delete(extra);
	}
	text = cJSON_PrintUnformatted(st);
	assert_non_null(text);
	rec_admin_post(e, "/_sim/reset", text);
	free(text);
	cJSON_Delete(st);
}

/* ---- the simulator's request log ------------------------------------------ */

static inline char *
read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long len;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	s = calloc(1, (size_t)len + 1);
	assert_non_null(s);
	if (len > 0)
		assert_int_equal(fread(s, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return s;
}

/* Where `line` (e.g. "POST /v1/projects/1000/delete -> 200") first appears in
 * the log; fails when it does not. */
static inline size_t
log_pos(const char *log, const char *line)
{
	const char *p = strstr(log, line);

	if (p == NULL)
		fail_msg("the simulator never logged \"%s\"", line);
	return (size_t)(p - log);
}

/* Where it last appears. */
static inline size_t
log_last_pos(const char *log, const char *line)
{
	const char *p = strstr(log, line), *last = NULL;

	for (; p != NULL; p = strstr(p + 1, line))
		last = p;
	if (last == NULL)
		fail_msg("the simulator never logged \"%s\"", line);
	return (size_t)(last - log);
}

/* ---- desired states built in code ------------------------------------------ */

/* The desired state's strings and deployment arrays live in its arena, as
 * the loader puts them there (desired_state_free frees the arena and the
 * projects array). ds_deployment finds the arena of the state its project
 * belongs to here: the last one ds_project was called with. */
static struct arena *ds_arena_now;

/* Appends a project; the pointer is valid until the next ds_project. */
static inline struct desired_project *
ds_project(struct desired_state *ds, const char *name)
{
	struct desired_project *p = realloc(ds->projects,
	    (ds->n_projects + 1) * sizeof(*p));

	assert_non_null(p);
	ds->projects = p;
	p = &ds->projects[ds->n_projects++];
	memset(p, 0, sizeof(*p));
	ds_arena_now = &ds->arena;
	p->name = arena_strdup(&ds->arena, name);
	assert_non_null(p->name);
	return p;
}

/* Appends a deployment to p; valid until the next ds_deployment on p. */
static inline struct desired_deployment *
ds_deployment(struct desired_project *p, const char *reference, enum dep_type type)
{
	/* An arena does not grow in place: copy into a larger array (the old
	 * one stays in the arena until it is freed with the state). */
	struct desired_deployment *d = arena_calloc(ds_arena_now,
	    p->n_deployments + 1, sizeof(*d));

	assert_non_null(d);
	if (p->n_deployments > 0)
		memcpy(d, p->deployments, p->n_deployments * sizeof(*d));
	p->deployments = d;
	d = &p->deployments[p->n_deployments++];
	d->reference = arena_strdup(ds_arena_now, reference);
	assert_non_null(d->reference);
	d->type = type;
	d->is_default = TRI_UNSET;
	d->dashboard_edit_confirmation = TRI_UNSET;
	d->send_logs_to_client = TRI_UNSET;
	return d;
}

/* renamed_from of a project or deployment: one earlier name. */
static inline char **
ds_renamed(const char *old, uint16_t *n)
{
	char **v = arena_calloc(ds_arena_now, 1, sizeof(*v));

	assert_non_null(v);
	v[0] = arena_strdup(ds_arena_now, old);
	assert_non_null(v[0]);
	*n = 1;
	return v;
}

/* ---- plans ------------------------------------------------------------------ */

/* The index of the one action (op, kind, project, reference: NULL for a
 * project); fails when there is none. */
static inline size_t
find_action(const struct plan *p, enum plan_op op, enum plan_kind kind,
    const char *project, const char *reference)
{
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		if (a->op != op || a->kind != kind || strcmp(a->project, project) != 0)
			continue;
		if (kind == PLAN_DEPLOYMENT &&
		    (a->reference == NULL || strcmp(a->reference, reference) != 0))
			continue;
		return i;
	}
	fail_msg("no %s %s \"%s%s%s\" in the plan", op == PLAN_CREATE ? "create" : "delete",
	    kind == PLAN_PROJECT ? "project" : "deployment", project,
	    reference ? "/" : "", reference ? reference : "");
	return (size_t)-1;
}

/* The lines of the audit trail as JSON objects (NULL when there is none). */
static inline cJSON *
audit_lines(const char *path)
{
	char *text = read_text(path), *line, *save = NULL;
	cJSON *arr;

	if (text == NULL)
		return NULL;
	arr = cJSON_CreateArray();
	assert_non_null(arr);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(line);

		if (j == NULL)
			fail_msg("audit line is not JSON: %s", line);
		cJSON_AddItemToArray(arr, j);
	}
	free(text);
	return arr;
}

static inline bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

#endif
