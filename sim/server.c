/* server.c: libmicrohttpd on 127.0.0.1, request bodies, dispatch to /v1 or /_sim, and applying the planned faults. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "sim.h"

/* One request being received (MHD's per-request closure). */
struct conn_req {
	char *body;
	size_t len, cap;
	bool too_large;
	bool answered;    /* a response was queued before the body ended */
};

static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;
static bool shutting_down;

void
server_sleep_ms(unsigned ms)
{
	struct timespec until;

	if (ms == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&sleep_lock);
	while (!shutting_down &&
	    pthread_cond_timedwait(&sleep_cond, &sleep_lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&sleep_lock);
}

void
server_shutdown_begin(void)
{
	pthread_mutex_lock(&sleep_lock);
	shutting_down = true;
	pthread_cond_broadcast(&sleep_cond);
	pthread_mutex_unlock(&sleep_lock);
}

/* ---- replies */

const char *
sim_query_get(const struct sim_request *rq, const char *key)
{
	const char *v = NULL;

	for (int i = 0; i < rq->nquery; i++)   /* the last one wins */
		if (strcmp(rq->query[i].key, key) == 0)
			v = rq->query[i].value;
	return v;
}

void
sim_reply_json(struct sim_reply *rp, unsigned int status, cJSON *item)
{
	free(rp->body);
	rp->body = item ? json_print(item) : NULL;
	cJSON_Delete(item);
	rp->status = status;
	if (rp->body == NULL) {
		rp->status = 500;
		rp->body = strdup("{\"code\":\"InternalServerError\",\"message\":\"out of memory\"}");
	}
}

void
sim_reply_error(struct sim_reply *rp, const struct sim_err *err)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "code", err->code);
	cJSON_AddStringToObject(o, "message", err->message);
	sim_reply_json(rp, err->status, o);
}

void
sim_reply_errorf(struct sim_reply *rp, unsigned int status, const char *code,
    const char *fmt, ...)
{
	struct sim_err err;
	va_list ap;

	err.status = status;
	snprintf(err.code, sizeof(err.code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	sim_reply_error(rp, &err);
}

void
sim_reply_empty(struct sim_reply *rp, unsigned int status)
{
	free(rp->body);
	rp->body = NULL;
	rp->body_len = 0;
	rp->status = status;
}

void
sim_reply_free(struct sim_reply *rp)
{
	free(rp->body);
	free(rp->headers);
	memset(rp, 0, sizeof(*rp));
}

/* The "Name: value\n" lines of a scripted answer; true if one of them is
 * a Content-Type. */
static bool
add_headers(struct MHD_Response *resp, char *lines)
{
	bool has_type = false;
	char *save = NULL;

	for (char *l = strtok_r(lines, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(l, ':'), *v;

		if (colon == NULL)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' '; v++)
			;
		if (strcasecmp(l, MHD_HTTP_HEADER_CONTENT_TYPE) == 0)
			has_type = true;
		MHD_add_response_header(resp, l, v);
	}
	return has_type;
}

static enum MHD_Result
send_reply(struct MHD_Connection *c, struct sim_reply *rp, const char *deprecation)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	bool has_type = false, had_body = rp->body != NULL;
	char num[16];

	if (had_body) {
		size_t len = rp->body_len > 0 ? rp->body_len : strlen(rp->body);

		resp = MHD_create_response_from_buffer(len, rp->body,
		    MHD_RESPMEM_MUST_FREE);
		if (resp == NULL) {
			sim_reply_free(rp);
			return MHD_NO;
		}
		rp->body = NULL;   /* MHD owns it now */
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		if (resp == NULL) {
			sim_reply_free(rp);
			return MHD_NO;
		}
	}
	if (rp->headers != NULL)
		has_type = add_headers(resp, rp->headers);
	if (had_body && !has_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json");
	if (rp->retry_after > 0) {
		snprintf(num, sizeof(num), "%u", rp->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (deprecation != NULL) {
		MHD_add_response_header(resp, "x-convex-deprecation-state",
		    "Deprecated");
		MHD_add_response_header(resp, "x-convex-deprecation-message",
		    deprecation);
	}
	ret = MHD_queue_response(c, rp->status, resp);
	MHD_destroy_response(resp);
	sim_reply_free(rp);
	return ret;
}

/* ---- the request flow */

static enum MHD_Result
collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct sim_request *rq = cls;

	(void)kind;
	if (rq->nquery < SIM_MAX_QUERY && key != NULL) {
		rq->query[rq->nquery].key = key;
		rq->query[rq->nquery].value = value ? value : "";
		rq->nquery++;
	}
	return MHD_YES;
}

static bool
is_api(const char *url)
{
	return strncmp(url, "/v1/", 4) == 0 || strcmp(url, "/v1") == 0;
}

static bool
is_admin(const char *url)
{
	return strncmp(url, "/_sim/", 6) == 0;
}

/* A truncated body: a proper prefix of a JSON object never parses. */
static void
corrupt(struct sim_reply *rp)
{
	size_t n = rp->body ? strlen(rp->body) / 2 : 0;

	if (n == 0) {
		free(rp->body);
		rp->body = strdup("{");
	} else {
		rp->body[n] = '\0';
	}
	rp->body_len = 0;
}

static const char *
status_code(unsigned status)
{
	switch (status) {
	case 429: return "TooManyRequests";
	case 500: return "InternalServerError";
	case 502: return "BadGateway";
	case 503: return "ServiceUnavailable";
	default: return "InjectedFault";
	}
}

static uint64_t
store_version(struct sim_ctx *ctx)
{
	uint64_t v;

	pthread_mutex_lock(&ctx->store.lock);
	v = ctx->store.version;
	pthread_mutex_unlock(&ctx->store.lock);
	return v;
}

/* One /v1 request from arrival to its log entry. */
struct api_req {
	struct sim_ctx *ctx;
	const struct sim_request *rq;
	struct route_result res;
	struct sim_reply rp;
	struct reqlog_rec log;
	bool handled;             /* the route ran (res.version is set) */
};

static void
run_route(struct api_req *a)
{
	routes_handle(a->ctx, a->rq, &a->rp, &a->res);
	a->handled = true;
}

/* The request's log entry, its stats, and the verbose line; status 0:
 * dropped. */
static void
finish(struct api_req *a, unsigned status)
{
	struct reqlog_rec *l = &a->log;

	l->status = status;
	l->route = a->res.route;
	l->version = a->handled ? a->res.version : store_version(a->ctx);
	l->wrote = a->res.wrote;
	l->write_version = a->res.version + 1;
	l->effect = a->res.effect;
	reqlog_add(l);
	cJSON_Delete(a->res.effect);
	a->res.effect = NULL;
	stats_request(a->res.route, status);
	stats_leave();
	if (a->ctx->opt->verbose)
		sim_log("%s %s -> %u%s%s", a->rq->method, a->rq->path, status,
		    l->fault ? " " : "", l->fault ? l->fault : "");
}

static enum MHD_Result
drop(struct api_req *a, enum stat_fault sf, const char *fault)
{
	stats_fault(sf);
	a->log.fault = fault;
	sim_reply_free(&a->rp);
	finish(a, 0);
	return MHD_NO;   /* MHD closes the connection without an answer */
}

static enum MHD_Result
serve_script(struct api_req *a, struct MHD_Connection *c,
    struct script_answer *sa)
{
	stats_fault(SF_SCRIPTED);
	server_sleep_ms(sa->delay_ms);
	if (sa->act)
		run_route(a);
	if (sa->drop) {
		script_answer_free(sa);
		return drop(a, SF_SCRIPTED, "script");
	}
	sim_reply_free(&a->rp);
	a->rp.status = sa->status;
	a->rp.body = sa->body;
	a->rp.body_len = sa->body_len;
	a->rp.headers = sa->headers;
	a->log.fault = "script";
	finish(a, a->rp.status);
	return send_reply(c, &a->rp, NULL);
}

static void
error_reply(struct api_req *a, unsigned status, const char *fault)
{
	a->log.fault = fault;
	sim_reply_errorf(&a->rp, status, status_code(status),
	    "Injected fault%s", a->res.wrote ? " (the request took effect)" : "");
}

static enum MHD_Result
handle_api(struct sim_ctx *ctx, struct MHD_Connection *c,
    const struct sim_request *rq)
{
	struct api_req a;
	struct fault_plan plan;
	struct script_answer sa;
	unsigned page_status;
	bool scripted = false;

	memset(&a, 0, sizeof(a));
	memset(&plan, 0, sizeof(plan));
	a.ctx = ctx;
	a.rq = rq;
	a.log.seq = reqlog_next_seq();
	a.log.time_ms = sim_now_ms();
	a.log.actor = rq->person ? "person" : "tool";
	a.log.method = rq->method;
	a.log.path = rq->path;
	a.log.rq = rq;
	routes_match(rq, &a.res);
	/* A person's edits are neither faulted nor scripted, and draw no
	 * random numbers: the tool's faults do not depend on them. */
	if (!rq->person) {
		faults_plan(&ctx->faults, a.res.route, a.res.is_create, &plan);
		scripted = script_take(a.res.route, rq->path, &sa);
	}
	stats_enter();
	if (scripted)
		return serve_script(&a, c, &sa);
	server_sleep_ms(plan.delay_ms);
	if (plan.rate_limited) {
		stats_fault(SF_RATE_LIMITED);
		a.log.fault = "rateLimited";
		sim_reply_errorf(&a.rp, 429, "TooManyRequests",
		    "Rate limit exceeded, retry after %u s", plan.retry_after);
		a.rp.retry_after = plan.retry_after;
		goto send;
	}
	if (plan.stall) {
		stats_fault(SF_STALL);
		a.log.fault = "stall";
		server_sleep_ms(plan.stall_ms);
	}
	if (plan.kind == FAULT_ERROR && !plan.after) {
		stats_fault(SF_ERROR);
		error_reply(&a, plan.error_status, "error");
		goto send;
	}
	if (plan.kind == FAULT_DROP && !plan.after)
		return drop(&a, SF_DROP, "drop");

	run_route(&a);
	if (plan.kind == FAULT_ERROR) {
		stats_fault(a.res.created ? SF_ERROR_AFTER :
		    a.res.wrote ? SF_ERROR_AFTER_WRITE : SF_ERROR);
		error_reply(&a, plan.error_status, "errorAfter");
		goto send;
	}
	if (plan.kind == FAULT_DROP)
		return drop(&a, a.res.created ? SF_DROP_AFTER :
		    a.res.wrote ? SF_DROP_AFTER_WRITE : SF_DROP, "dropAfter");
	if (a.rp.status == 200 &&
	    faults_page_fails(&ctx->faults, a.res.route, a.res.page, &page_status)) {
		stats_fault(SF_PAGE_FAIL);
		error_reply(&a, page_status, "pageFail");
		goto send;
	}
	if (plan.kind == FAULT_BAD_JSON && a.rp.status == 200) {
		stats_fault(SF_BAD_JSON);
		a.log.fault = "badJson";
		corrupt(&a.rp);
	}
send:
	finish(&a, a.rp.status);
	return send_reply(c, &a.rp, ctx->opt->deprecation);
}

/* A request answered outside handle_api (a body too large, a path outside
 * /v1 and /_sim): counted and logged like the others. */
static void
log_plain(struct sim_ctx *ctx, const struct sim_request *rq, unsigned status)
{
	struct route_result res;
	struct reqlog_rec l;

	routes_match(rq, &res);
	stats_request(res.route, status);
	memset(&l, 0, sizeof(l));
	l.seq = reqlog_next_seq();
	l.time_ms = sim_now_ms();
	l.actor = rq->person ? "person" : "tool";
	l.method = rq->method;
	l.route = res.route;
	l.path = rq->path;
	l.rq = rq;
	l.status = status;
	l.version = store_version(ctx);
	reqlog_add(&l);
}

static enum MHD_Result
too_large(struct sim_ctx *ctx, struct MHD_Connection *c,
    const struct sim_request *rq)
{
	struct sim_reply rp = { 0 };

	if (!is_admin(rq->path))
		log_plain(ctx, rq, 413);
	sim_reply_errorf(&rp, 413, "PayloadTooLarge",
	    "Request body larger than %d bytes", SIM_MAX_BODY);
	return send_reply(c, &rp, NULL);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct sim_ctx *ctx = cls;
	struct conn_req *r = *con_cls;
	struct sim_request rq;
	struct sim_reply rp = { 0 };
	const char *actor;

	(void)version;
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.path = url;
	rq.body = "";

	if (r == NULL) {
		const char *cl;

		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		*con_cls = r;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > SIM_MAX_BODY) {
			/* Refuse before reading: MHD then closes the
			 * connection instead of draining the body. */
			r->too_large = r->answered = true;
			return too_large(ctx, c, &rq);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->too_large)
			return MHD_YES;
		if (r->len + n > SIM_MAX_BODY) {
			r->too_large = true;
			free(r->body);
			r->body = NULL;
			r->len = r->cap = 0;
			return MHD_YES;
		}
		if (r->len + n + 1 > r->cap) {
			size_t cap = r->cap ? r->cap : 1024;
			char *nb;

			while (cap < r->len + n + 1)
				cap *= 2;
			if ((nb = realloc(r->body, cap)) == NULL)
				return MHD_NO;
			r->body = nb;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload_data, n);
		r->len += n;
		r->body[r->len] = '\0';
		return MHD_YES;
	}
	if (r->answered)
		return MHD_YES;
	if (r->too_large)
		return too_large(ctx, c, &rq);

	rq.body = r->body ? r->body : "";
	rq.body_len = r->len;
	rq.auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	actor = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Sim-Actor");
	rq.person = actor != NULL && strcmp(actor, "person") == 0;
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &rq);

	if (is_admin(url)) {
		admin_handle(ctx, &rq, &rp);
		return send_reply(c, &rp, NULL);
	}
	if (is_api(url))
		return handle_api(ctx, c, &rq);
	log_plain(ctx, &rq, 404);
	sim_reply_errorf(&rp, 404, "NotFound", "No route %s %.200s", method, url);
	return send_reply(c, &rp, NULL);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn_req *r = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (r != NULL) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

/* libmicrohttpd's own format strings, hence the attribute. */
static void __attribute__((format(printf, 2, 0)))
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	/* A dropped connection is our own doing (--drop-rate), not news. */
	if (strstr(line, "Application reported internal error") != NULL)
		return;
	sim_log("microhttpd: %s", line);
}

struct MHD_Daemon *
server_start(struct sim_ctx *ctx, unsigned *port)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)*port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);   /* loopback only */

	/* A thread per connection: a request that sleeps (latency, stall)
	 * holds only its own connection, so concurrent clients overlap. */
	d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, ctx,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)2048,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)300,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)(1024 * 1024),
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
	    MHD_OPTION_END);
	if (d == NULL)
		return NULL;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0) {
		MHD_stop_daemon(d);
		return NULL;
	}
	*port = info->port;
	return d;
}

void
server_stop(struct MHD_Daemon *d)
{
	server_shutdown_begin();
	if (d != NULL)
		MHD_stop_daemon(d);
}
