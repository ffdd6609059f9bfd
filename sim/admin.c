/* admin.c: the /_sim routes (state, reset, stats, log, script, verify_domain; never faulted, no token) and the --state file. */
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

/* Replaces the store's contents with the state in root (NULL: empty);
 * 0 or -EINVAL/-ENOMEM. A reset starts the version over, a replace bumps
 * it (a write like any other). */
static int
replace_state(struct sim_ctx *ctx, const cJSON *root, bool reset,
    struct sim_err *err)
{
	struct sim_store fresh;
	int rc;

	if (store_init(&fresh, ctx->store.team_id, ctx->store.team_slug,
	    ctx->store.seed) != 0) {
		sim_err_set(err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	if (root != NULL && (rc = json_state_load(&fresh, root, err)) != 0) {
		store_free(&fresh);
		return rc;
	}
	pthread_mutex_lock(&ctx->store.lock);
	store_swap_contents(&ctx->store, &fresh);
	ctx->store.version = reset ? 0 : ctx->store.version + 1;
	pthread_mutex_unlock(&ctx->store.lock);
	store_free(&fresh);   /* the old contents */
	return 0;
}

/* The body as JSON; NULL with *empty when there is none, NULL after a
 * 400 when it does not parse. */
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
post_state(struct sim_ctx *ctx, const cJSON *root, struct sim_reply *rp,
    bool reset)
{
	struct sim_err err = { 0 };

	if (root == NULL && !reset) {
		sim_reply_errorf(rp, 400, "BadRequest", "POST /_sim/state needs a state");
		return;
	}
	if (replace_state(ctx, root, reset, &err) != 0) {
		sim_reply_error(rp, &err);   /* nothing changed, the log included */
		return;
	}
	if (reset) {
		reqlog_reset();
		script_clear();
		stats_reset();
		faults_reset(&ctx->faults);
	}
	sim_reply_json(rp, 200, cJSON_CreateObject());
}

/* {"domain": D, "verified"?: true, "verificationTime"?: ms} */
static void
post_verify(struct sim_ctx *ctx, const cJSON *root, struct sim_reply *rp,
    cJSON **effect)
{
	const cJSON *dv = cJSON_GetObjectItemCaseSensitive(root, "domain");
	const cJSON *vv = cJSON_GetObjectItemCaseSensitive(root, "verified");
	const cJSON *tv = cJSON_GetObjectItemCaseSensitive(root, "verificationTime");
	bool verified = vv == NULL || cJSON_IsTrue(vv);
	int64_t when = sim_now_ms();
	int rc;

	if (!cJSON_IsString(dv) || (vv != NULL && !cJSON_IsBool(vv)) ||
	    (tv != NULL && (!cJSON_IsNumber(tv) || tv->valuedouble < 0))) {
		sim_reply_errorf(rp, 400, "BadRequest",
		    "needs {\"domain\": D, \"verified\"?: bool, \"verificationTime\"?: ms}");
		return;
	}
	if (tv != NULL)
		when = (int64_t)tv->valuedouble;
	pthread_mutex_lock(&ctx->store.lock);
	rc = store_domain_verify(&ctx->store, dv->valuestring, verified, when);
	if (rc == 0)
		ctx->store.version++;
	pthread_mutex_unlock(&ctx->store.lock);
	if (rc != 0) {
		sim_reply_errorf(rp, 404, "CustomDomainNotFound",
		    "No custom domain %.100s", dv->valuestring);
		return;
	}
	*effect = cJSON_CreateObject();
	cJSON_AddStringToObject(*effect, "op", verified ? "verify" : "unverify");
	cJSON_AddStringToObject(*effect, "kind", "domain");
	cJSON_AddStringToObject(*effect, "domain", dv->valuestring);
	sim_reply_empty(rp, 200);
}

static void
post_script(const cJSON *root, struct sim_reply *rp)
{
	char why[256] = "";
	int rc = script_add(root, why, sizeof(why));
	cJSON *o;

	if (rc == -ENOMEM) {
		sim_reply_errorf(rp, 500, "InternalServerError", "out of memory");
	} else if (rc != 0) {
		sim_reply_errorf(rp, 400, "BadRequest", "%s", why);
	} else {
		o = script_json();
		sim_reply_json(rp, 200, o);
	}
}

static void
get_log(const struct sim_request *rq, struct sim_reply *rp)
{
	const char *since = sim_query_get(rq, "since");
	const char *limit = sim_query_get(rq, "limit");
	unsigned long long s = 0, l = 0;
	char *end;

	if (since != NULL) {
		s = strtoull(since, &end, 10);
		if (*since == '\0' || *end != '\0') {
			sim_reply_errorf(rp, 400, "BadRequest", "since must be a number");
			return;
		}
	}
	if (limit != NULL) {
		l = strtoull(limit, &end, 10);
		if (*limit == '\0' || *end != '\0') {
			sim_reply_errorf(rp, 400, "BadRequest", "limit must be a number");
			return;
		}
	}
	if ((rp->body = reqlog_json(s, (size_t)l)) == NULL) {
		sim_reply_errorf(rp, 500, "InternalServerError", "out of memory");
		return;
	}
	rp->status = 200;
}

/* The admin writes go into the request log too (actor "admin"). */
static void
log_admin(const struct sim_request *rq, const struct sim_reply *rp,
    uint64_t seq, int64_t t, uint64_t v0, uint64_t v1, const cJSON *effect)
{
	struct reqlog_rec r;

	memset(&r, 0, sizeof(r));
	r.seq = seq;
	r.time_ms = t;
	r.actor = "admin";
	r.method = rq->method;
	r.route = rq->path;
	r.path = rq->path;
	r.status = rp->status;
	r.version = v0;
	r.wrote = v1 != v0;
	r.write_version = v1;
	r.effect = effect;
	reqlog_add(&r);
}

static uint64_t
version_now(struct sim_ctx *ctx)
{
	uint64_t v;

	pthread_mutex_lock(&ctx->store.lock);
	v = ctx->store.version;
	pthread_mutex_unlock(&ctx->store.lock);
	return v;
}

/* The POST routes that take a JSON body (or none). */
static void
admin_post(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp)
{
	const char *p = rq->path;
	uint64_t seq = 0, v0 = 0;
	int64_t t = sim_now_ms();
	cJSON *effect = NULL, *root;
	bool empty, logged = strcmp(p, "/_sim/reset") != 0 &&
	    strcmp(p, "/_sim/log/clear") != 0;

	if (logged) {
		seq = reqlog_next_seq();
		v0 = version_now(ctx);
	}
	root = parse_body(rq, rp, &empty);
	if (root == NULL && !empty)
		goto out;
	if (strcmp(p, "/_sim/state") == 0)
		post_state(ctx, root, rp, false);
	else if (strcmp(p, "/_sim/reset") == 0)
		post_state(ctx, root, rp, true);
	else if (strcmp(p, "/_sim/seed") == 0)
		admin_seed(ctx, root, rp);
	else if (strcmp(p, "/_sim/config") == 0 && root != NULL)
		admin_config_post(ctx, root, rp);
	else if (strcmp(p, "/_sim/script") == 0 && root != NULL)
		post_script(root, rp);
	else if (strcmp(p, "/_sim/script/clear") == 0) {
		script_clear();
		sim_reply_json(rp, 200, cJSON_CreateObject());
	} else if (strcmp(p, "/_sim/log/clear") == 0) {
		reqlog_clear();
		sim_reply_json(rp, 200, cJSON_CreateObject());
	} else if (strcmp(p, "/_sim/verify_domain") == 0 && root != NULL)
		post_verify(ctx, root, rp, &effect);
	else if (strcmp(p, "/_sim/config") == 0 || strcmp(p, "/_sim/script") == 0 ||
	    strcmp(p, "/_sim/verify_domain") == 0)
		sim_reply_errorf(rp, 400, "BadRequest", "a JSON object is needed");
	else
		sim_reply_errorf(rp, 404, "NotFound", "No admin route POST %.200s", p);
out:
	if (logged)
		log_admin(rq, rp, seq, t, v0, version_now(ctx), effect);
	cJSON_Delete(effect);
	cJSON_Delete(root);
}

void
admin_handle(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp)
{
	const char *p = rq->path;
	cJSON *s;

	if (strcmp(rq->method, "POST") == 0) {
		admin_post(ctx, rq, rp);
	} else if (strcmp(rq->method, "GET") != 0) {
		sim_reply_errorf(rp, 405, "MethodNotAllowed",
		    "%s is not allowed on %.200s", rq->method, p);
	} else if (strcmp(p, "/_sim/state") == 0) {
		pthread_mutex_lock(&ctx->store.lock);
		s = json_state(&ctx->store);
		pthread_mutex_unlock(&ctx->store.lock);
		sim_reply_json(rp, 200, s);
	} else if (strcmp(p, "/_sim/stats") == 0) {
		sim_reply_json(rp, 200, stats_json());
	} else if (strcmp(p, "/_sim/config") == 0) {
		admin_config_get(ctx, rp);
	} else if (strcmp(p, "/_sim/log") == 0) {
		get_log(rq, rp);
	} else if (strcmp(p, "/_sim/script") == 0) {
		sim_reply_json(rp, 200, script_json());
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
	rc = replace_state(ctx, root, true, &err);   /* version 0 at start */
	cJSON_Delete(root);
	if (rc != 0) {
		sim_log("state file %s: %s", path, err.message);
		return rc;
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
