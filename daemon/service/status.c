/* status.c: the status endpoint: libmicrohttpd in external mode on the
 * daemon's loop. MHD_USE_EPOLL gives one epoll fd that stands for all of
 * MHD's sockets; a uv_poll_t on it calls MHD_run() when anything is ready,
 * and a one-shot uv_timer_t follows MHD_get_timeout() (connection timeouts,
 * and work MHD left ready for an immediate rerun). With no connection open
 * MHD asks for no timeout, and the endpoint costs no wake-up at all.
 *
 * libmicrohttpd is loaded (dlopen) when an endpoint starts, not linked:
 * only `run --listen` uses it, and every other command (plan, apply,
 * validate) would carry its pages for nothing (SPEC section 12,
 * docs/performance.md). Missing, it fails the start with a clear error. */
#include "status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <microhttpd.h>

#include "cdefs.h"
#include "jsonint.h"
#include "log.h"
#include "textesc.h"

/* MHD's per-connection memory pool: the request head must fit in it; our
 * own check stops at STATUS_MAX_REQUEST before that. */
#define CONNECTION_MEMORY (2 * STATUS_MAX_REQUEST)

struct status_server {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	const struct metrics *metrics;
	struct status_handlers h;
	int port;
	char last_log[256];          /* MHD's last complaint, for start errors */
	int open;                    /* handles not yet closed */
	bool stopping;
};

/* Per request: the body bytes seen so far. */
struct request {
	size_t body;
};

/* ---- libmicrohttpd, loaded on first use -------------------------------- */

#define MHD_SONAME "libmicrohttpd.so.12"

/* The functions this file calls, with the header's own prototypes. */
static struct {
	void *dl;                /* loaded once, kept for the process */
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_get_connection_values) *get_connection_values;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
} mhd;

/* *fp = the symbol `name` of dl; -1 when it is not there. */
static int
sym(void *dl, const char *name, void *fp)
{
	void *p = dlsym(dl, name);

	if (p == NULL)
		return -1;
	memcpy(fp, &p, sizeof(p));
	return 0;
}

static int
mhd_load(char *err, size_t errlen)
{
	const char *missing = NULL;
	void *dl;

	if (mhd.dl != NULL)
		return 0;
	if ((dl = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "status endpoint: cannot load %s (Debian "
		    "package libmicrohttpd12): %s", MHD_SONAME, dlerror());
		return -ENOENT;
	}
#define SYM(field, name) \
	if (missing == NULL && sym(dl, name, &mhd.field) != 0) \
		missing = name
	SYM(start_daemon, "MHD_start_daemon");
	SYM(stop_daemon, "MHD_stop_daemon");
	SYM(run, "MHD_run");
	SYM(get_timeout, "MHD_get_timeout");
	SYM(get_daemon_info, "MHD_get_daemon_info");
	SYM(create_response_from_buffer, "MHD_create_response_from_buffer");
	SYM(add_response_header, "MHD_add_response_header");
	SYM(queue_response, "MHD_queue_response");
	SYM(destroy_response, "MHD_destroy_response");
	SYM(get_connection_values, "MHD_get_connection_values");
	SYM(lookup_connection_value, "MHD_lookup_connection_value");
#undef SYM
	if (missing != NULL) {
		snprintf(err, errlen, "status endpoint: %s has no %s", MHD_SONAME,
		    missing);
		memset(&mhd, 0, sizeof(mhd));
		dlclose(dl);
		return -ENOENT;
	}
	mhd.dl = dl;
	return 0;
}

/* ---- listen address --------------------------------------------------- */

int
status_parse_listen(const char *listen, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen)
{
	char host[64];
	const char *colon, *h, *p;
	size_t hl;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (listen == NULL || *listen == '\0')
		goto bad;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		h = listen + 1;
		hl = (size_t)(close - h);
		p = close + 2;
	} else {
		if ((colon = strrchr(listen, ':')) == NULL ||
		    strchr(listen, ':') != colon)
			goto bad;
		h = listen;
		hl = (size_t)(colon - listen);
		p = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host) || *p == '\0')
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(p, &end, 10);
	if (*end != '\0' || errno != 0 || port < 0 || port > 65535 || *p == '-' ||
	    *p == '+')
		goto bad;
	if (listen[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			snprintf(err, errlen, "listen \"%s\": the host must be an IP "
			    "address or localhost", listen);
			return -EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	}
	return 0;
bad:
	snprintf(err, errlen, "listen \"%s\": expected HOST:PORT, such as "
	    "127.0.0.1:9464 or [::1]:9464", listen ? listen : "");
	return -EINVAL;
}

bool
status_ready(uint64_t now_ms, uint64_t last_ok_ms, uint64_t interval_ms)
{
	if (last_ok_ms == 0)
		return false;
	if (now_ms < last_ok_ms)
		return true;
	return now_ms - last_ok_ms <= 3 * interval_ms;
}

/* ---- answers ---------------------------------------------------------- */

static enum MHD_Result
answer(struct MHD_Connection *c, unsigned code, const char *type, char *body,
    size_t len, bool owned, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = mhd.create_response_from_buffer(len, body,
	    owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	mhd.add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow != NULL)
		mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	rc = mhd.queue_response(c, code, r);
	mhd.destroy_response(r);
	return rc;
}

static enum MHD_Result
answer_text(struct MHD_Connection *c, unsigned code, const char *text,
    const char *allow)
{
	/* static text: MHD only reads it */
	return answer(c, code, "text/plain; charset=utf-8", (char *)(uintptr_t)text,
	    strlen(text), false, allow);
}

static enum MHD_Result
answer_readyz(struct status_server *s, struct MHD_Connection *c)
{
	char why[256] = "", *body;

	if (s->h.ready == NULL || s->h.ready(s->h.arg, why, sizeof(why)))
		return answer_text(c, MHD_HTTP_OK, "ready\n", NULL);
	if (asprintf(&body, "not ready: %s\n", why[0] ? why : "unknown") < 0)
		return MHD_NO;
	return answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
	    body, strlen(body), true, NULL);
}

static enum MHD_Result
answer_status(struct status_server *s, struct MHD_Connection *c)
{
	char *json = s->h.status_json ? s->h.status_json(s->h.arg) : NULL;

	if (json == NULL)
		return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "status unavailable\n", NULL);
	return answer(c, MHD_HTTP_OK, "application/json", json, strlen(json),
	    true, NULL);
}

static enum MHD_Result
answer_metrics(struct status_server *s, struct MHD_Connection *c)
{
	size_t len = 0;
	char *text = s->metrics ? metrics_render_text(s->metrics, &len) : strdup("");

	if (text == NULL)
		return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "metrics unavailable\n", NULL);
	return answer(c, MHD_HTTP_OK, METRICS_CONTENT_TYPE, text, len, true, NULL);
}

static enum MHD_Result
answer_reconcile(struct status_server *s, struct MHD_Connection *c)
{
	if (s->h.reconcile == NULL || s->h.reconcile(s->h.arg) != 0)
		return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "not accepting reconciles now\n", NULL);
	return answer_text(c, MHD_HTTP_ACCEPTED, "reconcile pending\n", NULL);
}

/* ---- requests --------------------------------------------------------- */

static enum MHD_Result
add_size(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static size_t
head_size(struct MHD_Connection *c, const char *url, const char *method)
{
	size_t n = strlen(method) + strlen(url) + 12;

	mhd.get_connection_values(c, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND,
	    add_size, &n);
	return n;
}

static bool
is_get(const char *method)
{
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static enum MHD_Result
route(struct status_server *s, struct MHD_Connection *c, const char *url,
    const char *method)
{
	static const struct { const char *path; bool post; } routes[] = {
		{ "/healthz", false }, { "/readyz", false }, { "/status", false },
		{ "/metrics", false }, { "/reconcile", true },
	};
	size_t i;

	for (i = 0; i < CP_NELEM(routes); i++)
		if (strcmp(url, routes[i].path) == 0)
			break;
	if (i == CP_NELEM(routes))
		return answer_text(c, MHD_HTTP_NOT_FOUND, "not found\n", NULL);
	if (routes[i].post ? strcmp(method, MHD_HTTP_METHOD_POST) != 0 : !is_get(method))
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed\n", routes[i].post ? "POST" : "GET, HEAD");
	switch (i) {
	case 0:
		/* answered from the loop, so it is alive */
		return answer_text(c, MHD_HTTP_OK, "ok\n", NULL);
	case 1:
		return answer_readyz(s, c);
	case 2:
		return answer_status(s, c);
	case 3:
		return answer_metrics(s, c);
	default:
		return answer_reconcile(s, c);
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct status_server *s = cls;
	struct request *r = *req_cls;

	(void)version;
	(void)upload;
	if (r == NULL) {
		/* the head has arrived: refuse what is too big before any body */
		const char *cl;

		if ((r = calloc(1, sizeof(*r))) == NULL)
			return MHD_NO;
		*req_cls = r;
		if (head_size(c, url, method) > STATUS_MAX_REQUEST)
			return answer_text(c, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
			    "request header too large\n", NULL);
		cl = mhd.lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > STATUS_MAX_REQUEST)
			return answer_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
			    "request body too large\n", NULL);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/* no route reads a body; a chunked one that grows too big ends
		 * the connection (MHD cannot answer in the middle of a body) */
		r->body += *upload_size;
		*upload_size = 0;
		return r->body > STATUS_MAX_REQUEST ? MHD_NO : MHD_YES;
	}
	return route(s, c, url, method);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*req_cls);
	*req_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    CP_PRINTF(2, 0);

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct status_server *s = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	snprintf(s->last_log, sizeof(s->last_log), "%.200s", msg);
	/* clients that hang up or misbehave are not the operator's problem */
	log_debug("status endpoint: %s", msg);
}

/* ---- driving MHD from the loop ---------------------------------------- */

static void on_timer(uv_timer_t *t);

static void
drive(struct status_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (s->stopping)
		return;
	mhd.run(s->mhd);
	if (mhd.get_timeout(s->mhd, &ms) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, (uint64_t)ms, 0);
	else
		uv_timer_stop(&s->timer);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;   /* an error on the epoll fd: MHD_run finds out */
	(void)events;
	drive(p->data);
}

static void
on_timer(uv_timer_t *t)
{
	drive(t->data);
}

static void
on_closed(uv_handle_t *h)
{
	struct status_server *s = h->data;

	if (--s->open > 0)
		return;
	/* the loop no longer watches MHD's epoll fd: now it may go */
	if (s->mhd != NULL)
		mhd.stop_daemon(s->mhd);
	free(s);
}

void
status_stop(struct status_server *s)
{
	if (s == NULL || s->stopping)
		return;
	s->stopping = true;
	uv_close((uv_handle_t *)&s->poll, on_closed);
	uv_close((uv_handle_t *)&s->timer, on_closed);
}

int
status_port(const struct status_server *s)
{
	return s ? s->port : 0;
}

int
status_start(uv_loop_t *loop, const char *listen, const struct metrics *m,
    const struct status_handlers *h, struct status_server **out, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct status_server *s;
	socklen_t sl;
	unsigned flags;
	int rc, epfd;

	*out = NULL;
	if (listen == NULL || *listen == '\0')
		return 0;
	if ((rc = status_parse_listen(listen, &ss, &sl, err, errlen)) != 0 ||
	    (rc = mhd_load(err, errlen)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "status endpoint: out of memory");
		return -ENOMEM;
	}
	s->loop = loop;
	s->metrics = m;
	if (h != NULL)
		s->h = *h;
	flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the port is bound through SOCK_ADDR; MHD names it in its messages */
	s->mhd = mhd.start_daemon(flags, ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port), NULL, NULL, on_request, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)STATUS_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)STATUS_CONNECTION_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		/* MHD says why only through its logger */
		snprintf(err, errlen, "status endpoint: cannot listen on %s: %s",
		    listen, s->last_log[0] ? s->last_log : "unknown error");
		free(s);
		return -EADDRINUSE;
	}
	if ((info = mhd.get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD)) == NULL ||
	    (epfd = info->epoll_fd) < 0 ||
	    (info = mhd.get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT)) == NULL) {
		snprintf(err, errlen, "status endpoint: libmicrohttpd without epoll");
		mhd.stop_daemon(s->mhd);
		free(s);
		return -ENOTSUP;
	}
	s->port = info->port;
	if ((rc = uv_timer_init(loop, &s->timer)) != 0) {
		snprintf(err, errlen, "status endpoint: %s", uv_strerror(rc));
		mhd.stop_daemon(s->mhd);
		free(s);
		return rc;
	}
	s->timer.data = s;
	s->open = 1;
	if ((rc = uv_poll_init(loop, &s->poll, epfd)) != 0) {
		snprintf(err, errlen, "status endpoint: %s", uv_strerror(rc));
		s->stopping = true;
		uv_close((uv_handle_t *)&s->timer, on_closed);
		return rc;
	}
	s->poll.data = s;
	s->open = 2;
	if ((rc = uv_poll_start(&s->poll, UV_READABLE, on_poll)) != 0) {
		snprintf(err, errlen, "status endpoint: %s", uv_strerror(rc));
		status_stop(s);
		return rc;
	}
	log_info("status endpoint on %s (port %d)", listen, s->port);
	*out = s;
	return 0;
}

/* ---- the /status document --------------------------------------------- */

static cJSON *
time_or_null(int64_t t)
{
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return cJSON_CreateNull();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return cJSON_CreateString(buf);
}

static cJSON *
str_or_null(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* cJSON_AddItemToObject with a NULL item fails; the caller checks once at
 * the end through `ok`. */
static void
put(cJSON *o, const char *key, cJSON *v, bool *ok)
{
	if (v == NULL || !cJSON_AddItemToObject(o, key, v)) {
		cJSON_Delete(v);
		*ok = false;
	}
}

static void
push(cJSON *a, cJSON *v, bool *ok)
{
	if (v == NULL || !cJSON_AddItemToArray(a, v)) {
		cJSON_Delete(v);
		*ok = false;
	}
}

/* SPEC section 9: the domains waiting for verification (by name) and
 * what the files manage. */
static void
extras_json(cJSON *o, const struct status_snapshot *s, bool *ok)
{
	cJSON *pending = cJSON_CreateArray(), *managed = cJSON_CreateObject();

	for (size_t i = 0; pending && i < s->n_pending_domains; i++) {
		const struct status_pending_domain *d = &s->pending_domains[i];
		cJSON *e = cJSON_CreateObject();

		put(e, "project", str_or_null(d->project), ok);
		put(e, "reference", str_or_null(d->reference), ok);
		put(e, "domain", str_or_null(d->domain), ok);
		put(e, "destination", str_or_null(d->destination), ok);
		push(pending, e, ok);
	}
	put(o, "pending_domains", pending, ok);
	put(managed, "env_vars", jsonint_create((int64_t)s->managed_env_vars), ok);
	put(managed, "domains", jsonint_create((int64_t)s->managed_domains), ok);
	put(managed, "deploy_keys", jsonint_create((int64_t)s->managed_deploy_keys), ok);
	put(o, "managed", managed, ok);
}

/* Every integer of the document is written exactly (jsonint.h), as the
 * plan's JSON writes ids: a count or an id through a double is rounded
 * from 2^53 on. */
static cJSON *
last_reconcile(const struct status_snapshot *s, bool *ok)
{
	cJSON *o = cJSON_CreateObject(), *sum = cJSON_CreateObject();
	cJSON *drift = cJSON_CreateArray(), *blocked = cJSON_CreateArray();

	put(o, "time", time_or_null(s->last_reconcile), ok);
	put(o, "result", str_or_null(s->last_result), ok);
	put(o, "duration_seconds", cJSON_CreateNumber(s->last_duration), ok);
	put(o, "error", str_or_null(s->last_error), ok);
	put(sum, "create", jsonint_create(s->n_create), ok);
	put(sum, "update", jsonint_create(s->n_update), ok);
	put(sum, "delete", jsonint_create(s->n_delete), ok);
	put(sum, "failed", jsonint_create(s->n_failed), ok);
	put(sum, "drift", jsonint_create((int64_t)s->n_drift), ok);
	put(sum, "blocked", jsonint_create((int64_t)s->n_blocked), ok);
	put(o, "summary", sum, ok);
	for (size_t i = 0; drift && i < s->n_drift; i++) {
		const struct status_drift *d = &s->drift[i];
		cJSON *e = cJSON_CreateObject();

		put(e, "kind", cJSON_CreateString(d->reference ? "deployment" : "project"), ok);
		put(e, "project", str_or_null(d->project), ok);
		if (d->reference)
			put(e, "reference", cJSON_CreateString(d->reference), ok);
		put(e, "field", str_or_null(d->field), ok);
		put(e, "want", str_or_null(d->want), ok);
		put(e, "have", str_or_null(d->have), ok);
		push(drift, e, ok);
	}
	put(o, "drift", drift, ok);
	for (size_t i = 0; blocked && i < s->n_blocked; i++) {
		cJSON *e = cJSON_CreateObject();

		put(e, "guard", str_or_null(s->blocked[i].guard), ok);
		put(e, "message", str_or_null(s->blocked[i].message), ok);
		push(blocked, e, ok);
	}
	put(o, "blocked", blocked, ok);
	extras_json(o, s, ok);
	return o;
}

char *
status_snapshot_json(const struct status_snapshot *s)
{
	cJSON *root = cJSON_CreateObject(), *rec = cJSON_CreateObject();
	cJSON *des = cJSON_CreateObject(), *errs = cJSON_CreateArray();
	bool ok = root != NULL;
	char *text = NULL, *raw;

	put(root, "version", str_or_null(s->version), &ok);
	put(root, "started", time_or_null(s->started), &ok);
	put(root, "ready", cJSON_CreateBool(s->ready), &ok);
	put(rec, "running", cJSON_CreateBool(s->running), &ok);
	put(rec, "pending", cJSON_CreateBool(s->pending), &ok);
	put(rec, "next", time_or_null(s->next_reconcile), &ok);
	put(root, "reconcile", rec, &ok);
	put(root, "last_reconcile", last_reconcile(s, &ok), &ok);
	put(root, "last_success", time_or_null(s->last_success), &ok);
	put(root, "last_observation", time_or_null(s->last_observation), &ok);
	put(des, "path", str_or_null(s->desired_path), &ok);
	put(des, "follow", str_or_null(s->desired_follow), &ok);
	put(des, "fingerprint", str_or_null(s->desired_fingerprint), &ok);
	put(des, "files", cJSON_CreateNumber((double)s->desired_files), &ok);
	put(des, "loaded", time_or_null(s->desired_loaded), &ok);
	put(des, "loaded_unix", s->desired_loaded > 0 ?
	    jsonint_create((int64_t)s->desired_loaded) : cJSON_CreateNull(), &ok);
	put(des, "projects", jsonint_create((int64_t)s->desired_projects), &ok);
	for (size_t i = 0; errs && i < s->n_desired_errors; i++)
		push(errs, str_or_null(s->desired_errors[i]), &ok);
	put(des, "errors", errs, &ok);
	put(root, "desired", des, &ok);
	if (ok && (raw = cJSON_Print(root)) != NULL) {
		/* Valid UTF-8, controls escaped, secrets masked (textesc.h). */
		text = textesc_json_clean(raw);
		cJSON_free(raw);
	}
	cJSON_Delete(root);
	return text;
}
