/* admin.c: the /_sim routes (state, stats, reset, seed, config; never faulted, no token) and the --state file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sim.h"

#define MAX_STATE_FILE (512L * 1024 * 1024)
#define MAX_SEED       100000

/* Replaces the store's contents with the state in root (NULL: empty). */
static int
replace_state(struct sim_ctx *ctx, const cJSON *root, struct sim_err *err)
{
	struct sim_store fresh;

	if (store_init(&fresh, ctx->store.team_id, ctx->store.team_slug,
	    ctx->store.seed) != 0) {
		sim_err_set(err, 500, "InternalServerError", "out of memory");
		return -1;
	}
	if (root != NULL && json_state_load(&fresh, root, err) != 0) {
		store_free(&fresh);
		return -1;
	}
	pthread_mutex_lock(&ctx->store.lock);
	store_swap_contents(&ctx->store, &fresh);
	pthread_mutex_unlock(&ctx->store.lock);
	store_free(&fresh);   /* the old contents */
	return 0;
}

static cJSON *
parse_body(const struct sim_request *rq, struct sim_reply *rp, bool *empty)
{
	cJSON *root;

	*empty = rq->body_len == 0;
	if (*empty)
		return NULL;
	if (strlen(rq->body) != rq->body_len ||
	    (root = cJSON_ParseWithOpts(rq->body, NULL, 1)) == NULL) {
		sim_reply_errorf(rp, 400, "BadRequest",
		    "The request body is not valid JSON");
		return NULL;
	}
	return root;
}

static void
post_state(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp, bool reset)
{
	struct sim_err err = { 0 };
	bool empty;
	cJSON *root = parse_body(rq, rp, &empty);

	if (root == NULL && !empty)
		return;
	if (root == NULL && !reset) {
		sim_reply_errorf(rp, 400, "BadRequest", "POST /_sim/state needs a state");
		return;
	}
	if (replace_state(ctx, root, &err) != 0) {
		cJSON_Delete(root);
		sim_reply_error(rp, &err);
		return;
	}
	cJSON_Delete(root);
	if (reset) {
		stats_reset();
		faults_reset(&ctx->faults);
	}
	sim_reply_json(rp, 200, cJSON_CreateObject());
}

static int
seed_int(const cJSON *o, const char *key, long dflt, long max, long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v)) {
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > (double)max || v->valuedouble != (double)(long)v->valuedouble)
		return -1;
	*out = (long)v->valuedouble;
	return 0;
}

/* {"projects": N, "deploymentsPerProject": M, "prefix": "p"}: created
 * directly, not counted as API creates. Deployment 0 of each project is
 * the default prod "production", 1 the default dev "development", the
 * others dev "dev-2", "dev-3", ... */
static void
post_seed(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp)
{
	struct sim_store *st = &ctx->store;
	struct sim_err err = { 0 };
	const cJSON *pv;
	const char *prefix = "p";
	long np, nd, made_p = 0, made_d = 0;
	int64_t first = 0, lastid = 0;
	bool empty;
	cJSON *root = parse_body(rq, rp, &empty), *o;

	if (root == NULL && !empty)
		return;
	if (seed_int(root, "projects", 0, MAX_SEED, &np) != 0 ||
	    seed_int(root, "deploymentsPerProject", 0, 100, &nd) != 0) {
		cJSON_Delete(root);
		sim_reply_errorf(rp, 400, "BadRequest",
		    "projects (0..%d) and deploymentsPerProject (0..100) must be integers",
		    MAX_SEED);
		return;
	}
	pv = cJSON_GetObjectItemCaseSensitive(root, "prefix");
	if (cJSON_IsString(pv) && strlen(pv->valuestring) <= 64)
		prefix = pv->valuestring;
	pthread_mutex_lock(&st->lock);
	for (long i = 1; i <= np; i++) {
		struct sim_project *p;
		char name[96], ref[32];

		snprintf(name, sizeof(name), "%s%ld", prefix, i);
		if ((p = store_project_create(st, name, &err)) == NULL)
			break;
		if (first == 0)
			first = p->id;
		lastid = p->id;
		made_p++;
		for (long j = 0; j < nd; j++) {
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
			if (store_deployment_create(st, p, &spec, &err) == NULL)
				break;
			made_d++;
		}
		if (err.status != 0)
			break;
	}
	pthread_mutex_unlock(&st->lock);
	cJSON_Delete(root);
	if (err.status != 0) {
		sim_reply_error(rp, &err);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "projects", (double)made_p);
	cJSON_AddNumberToObject(o, "deployments", (double)made_d);
	cJSON_AddNumberToObject(o, "firstProjectId", (double)first);
	cJSON_AddNumberToObject(o, "lastProjectId", (double)lastid);
	sim_reply_json(rp, 200, o);
}

static cJSON *
config_json(const struct fault_config *f)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "legacy", f->legacy);
	cJSON_AddNumberToObject(o, "latencyMs", f->latency_ms);
	cJSON_AddNumberToObject(o, "latencyJitterMs", f->latency_jitter_ms);
	cJSON_AddNumberToObject(o, "errorRate", f->error_rate);
	cJSON_AddNumberToObject(o, "dropRate", f->drop_rate);
	cJSON_AddNumberToObject(o, "stallRate", f->stall_rate);
	cJSON_AddNumberToObject(o, "stallMs", f->stall_ms);
	cJSON_AddNumberToObject(o, "badJsonRate", f->bad_json_rate);
	cJSON_AddNumberToObject(o, "rateLimit", f->rate_limit);
	return o;
}

static int
cfg_rate(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
		return -1;
	*out = v->valuedouble;
	return 0;
}

static int
cfg_uint(const cJSON *o, const char *key, unsigned *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 &&
	    v->valuedouble <= 3600000) || v->valuedouble != (double)(unsigned)v->valuedouble)
		return -1;
	*out = (unsigned)v->valuedouble;
	return 0;
}

/* Changes fault settings at run time (keys as GET /_sim/config shows). */
static void
post_config(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp)
{
	struct fault_config f;
	const cJSON *lg;
	bool empty;
	cJSON *root = parse_body(rq, rp, &empty);

	if (root == NULL) {
		if (empty)
			sim_reply_errorf(rp, 400, "BadRequest", "a JSON object is needed");
		return;
	}
	faults_get_config(&ctx->faults, &f);
	lg = cJSON_GetObjectItemCaseSensitive(root, "legacy");
	if (!cJSON_IsObject(root) || (lg != NULL && !cJSON_IsBool(lg)) ||
	    cfg_uint(root, "latencyMs", &f.latency_ms) != 0 ||
	    cfg_uint(root, "latencyJitterMs", &f.latency_jitter_ms) != 0 ||
	    cfg_rate(root, "errorRate", &f.error_rate) != 0 ||
	    cfg_rate(root, "dropRate", &f.drop_rate) != 0 ||
	    cfg_rate(root, "stallRate", &f.stall_rate) != 0 ||
	    cfg_uint(root, "stallMs", &f.stall_ms) != 0 ||
	    cfg_rate(root, "badJsonRate", &f.bad_json_rate) != 0 ||
	    cfg_uint(root, "rateLimit", &f.rate_limit) != 0) {
		cJSON_Delete(root);
		sim_reply_errorf(rp, 400, "BadRequest",
		    "rates are numbers in 0..1, times and rateLimit whole numbers, legacy a boolean");
		return;
	}
	if (lg != NULL)
		f.legacy = cJSON_IsTrue(lg);
	cJSON_Delete(root);
	faults_set_config(&ctx->faults, &f);
	sim_reply_json(rp, 200, config_json(&f));
}

void
admin_handle(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp)
{
	const char *p = rq->path;
	bool get = strcmp(rq->method, "GET") == 0;
	bool post = strcmp(rq->method, "POST") == 0;

	if (strcmp(p, "/_sim/state") == 0 && get) {
		cJSON *s;

		pthread_mutex_lock(&ctx->store.lock);
		s = json_state(&ctx->store);
		pthread_mutex_unlock(&ctx->store.lock);
		sim_reply_json(rp, 200, s);
	} else if (strcmp(p, "/_sim/state") == 0 && post) {
		post_state(ctx, rq, rp, false);
	} else if (strcmp(p, "/_sim/reset") == 0 && post) {
		post_state(ctx, rq, rp, true);
	} else if (strcmp(p, "/_sim/stats") == 0 && get) {
		sim_reply_json(rp, 200, stats_json());
	} else if (strcmp(p, "/_sim/seed") == 0 && post) {
		post_seed(ctx, rq, rp);
	} else if (strcmp(p, "/_sim/config") == 0 && get) {
		struct fault_config f;

		faults_get_config(&ctx->faults, &f);
		sim_reply_json(rp, 200, config_json(&f));
	} else if (strcmp(p, "/_sim/config") == 0 && post) {
		post_config(ctx, rq, rp);
	} else {
		sim_reply_errorf(rp, 404, "NotFound", "No admin route %s %.200s",
		    rq->method, p);
	}
}

int
admin_load_file(struct sim_ctx *ctx, const char *path)
{
	struct sim_err err = { 0 };
	struct stat sb;
	char *text;
	cJSON *root;
	FILE *f;
	int rc;

	if ((f = fopen(path, "rb")) == NULL) {
		if (errno == ENOENT)
			return 0;   /* a first run: created on exit */
		rc = -errno;
		sim_log("cannot open state file %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fileno(f), &sb) != 0 || sb.st_size > MAX_STATE_FILE ||
	    (text = malloc((size_t)sb.st_size + 1)) == NULL) {
		sim_log("state file %s: too large or unreadable", path);
		fclose(f);
		return -EFBIG;
	}
	if (fread(text, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		sim_log("state file %s: read error", path);
		free(text);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	text[sb.st_size] = '\0';
	root = cJSON_ParseWithOpts(text, NULL, 1);
	free(text);
	if (root == NULL) {
		sim_log("state file %s: not valid JSON", path);
		return -EINVAL;
	}
	rc = replace_state(ctx, root, &err);
	cJSON_Delete(root);
	if (rc != 0) {
		sim_log("state file %s: %s", path, err.message);
		return -EINVAL;
	}
	return 0;
}

/* Written to a temporary file and renamed, so a crash never leaves half. */
int
admin_save_file(struct sim_ctx *ctx, const char *path)
{
	char tmp[4096];
	char *text;
	cJSON *s;
	size_t len;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&ctx->store.lock);
	s = json_state(&ctx->store);
	pthread_mutex_unlock(&ctx->store.lock);
	text = s ? cJSON_Print(s) : NULL;
	cJSON_Delete(s);
	if (text == NULL)
		return -ENOMEM;
	len = strlen(text);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		int e = -errno;

		sim_log("cannot write %s: %s", tmp, strerror(errno));
		free(text);
		return e;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;

			sim_log("cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			free(text);
			return e;
		}
		off += (size_t)n;
	}
	free(text);
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		int e = -errno;

		sim_log("cannot save %s: %s", path, strerror(errno));
		unlink(tmp);
		return e;
	}
	return 0;
}
