/* api.c: the Convex Management API on top of http.c: routes, retries with
 * backoff on loop timers, cursor chains, legacy fallbacks, error mapping.
 *
 * A call (struct api_call) is one logical request: it is sent, perhaps
 * retried, and ends in one continuation (call->done) that decodes the body
 * and runs the user's callback. Each call owns one uv_timer used for its
 * backoff and for delivering a cancellation from the loop; the call is freed
 * in that timer's close callback, so nothing is freed under a running
 * callback. A listing (struct listing) chains one call per page and hands
 * out its items only when the last page has arrived. */
#include "api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "api_decode.h"
#include "http.h"
#include "log.h"
#include "token.h"

#define PAGE_LIMIT 100
#define MAX_PAGES 100000
#define RETRY_AFTER_MAX_MS (300 * 1000)   /* a broken Retry-After must not
                                           * park the daemon for hours */

enum policy {
	POL_IDEMPOTENT,         /* GET, PATCH: retried */
	POL_DELETE,             /* retried; 404 is success */
	POL_CREATE,             /* sent at most once (429, not-sent excepted) */
};

struct api_call;
typedef void (*call_done_fn)(struct api_call *call, int rc,
    const struct api_error *err, const char *body, size_t len);

union user_cb {
	api_done_cb done;
	api_token_cb token;
	api_projects_cb projects;
	api_deployments_cb deployments;
	api_project_created_cb created;
	api_deployment_cb deployment;
};

struct api_call {
	struct api_client *c;
	TAILQ_ENTRY(api_call) link;
	uv_timer_t timer;       /* backoff, deferred cancel; frees the call */
	const char *method;
	const char *tmpl;       /* route template, for metrics */
	char *url;
	char *body;
	enum policy policy;
	int attempts;
	struct http_request *req;
	bool cancelled;
	struct api_error err;   /* a cancellation waiting for the loop */
	call_done_fn done;
	union user_cb cb;
	void *arg;
	void *ctx;              /* the listing, for page calls */
	char route[192];
};

TAILQ_HEAD(call_list, api_call);

struct api_client {
	uv_loop_t *loop;
	struct http_client *http;
	char *base;
	unsigned max_tries;
	uint64_t base_ms;
	uint64_t cap_ms;
	void (*on_request)(void *, const char *, int, double);
	void *on_request_arg;
	bool legacy_projects;
	bool legacy_deployments;
	struct call_list calls; /* not yet finished */
	unsigned n_calls;
	unsigned n_open;        /* calls whose timer is not closed yet */
	bool closing;
	bool http_closing;
	void (*closed)(void *);
	void *closed_arg;
	uint64_t rng;
};

static bool deprecation_warned;

/* ---- errors ------------------------------------------------------------ */

void
api_error_format(const struct api_error *e, char *out, size_t n)
{
	char head[96];

	if (e->status > 0)
		snprintf(head, sizeof(head), "HTTP %d%s%s", e->status,
		    e->code[0] ? " " : "", e->code);
	else
		snprintf(head, sizeof(head), "%s", e->code[0] ? e->code : "Error");
	snprintf(out, n, "%s: %s (%s, %d attempt%s%s)", head,
	    e->message[0] ? e->message : "no message", e->route, e->attempts,
	    e->attempts == 1 ? "" : "s",
	    e->ambiguous ? ", outcome unknown: the next observation decides" : "");
}

static void
set_err(struct api_error *e, const struct api_call *call, int status,
    const char *code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
set_err(struct api_error *e, const struct api_call *call, int status,
    const char *code, const char *fmt, ...)
{
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	snprintf(e->route, sizeof(e->route), "%s", call->route);
	e->attempts = call->attempts;
}

/* A non-JSON error body is shown as text, printable bytes only. */
static void
body_excerpt(const char *body, size_t len, char *out, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < len && k + 1 < n && i < 300; i++) {
		unsigned char ch = (unsigned char)body[i];
		out[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
	}
	out[k] = '\0';
}

static int
status_rc(long status)
{
	switch (status) {
	case 401: return -EACCES;
	case 403: return -EPERM;
	case 404: return -ENOENT;
	case 409: return -EEXIST;
	case 429: return -EAGAIN;
	default:
		if (status >= 500)
			return -EIO;
		if (status >= 400)
			return -EINVAL;
		return -EPROTO;
	}
}

/* ---- calls ------------------------------------------------------------ */

static uint64_t
rng_next(struct api_client *c)
{
	/* xorshift64*: jitter needs spread, not secrecy. */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ULL;
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]. */
static uint64_t
backoff_ms(struct api_client *c, int attempt)
{
	uint64_t ceil = c->base_ms;

	for (int i = 1; i < attempt && ceil < c->cap_ms; i++)
		ceil *= 2;
	if (ceil > c->cap_ms)
		ceil = c->cap_ms;
	return rng_next(c) % (ceil + 1);
}

static void send_attempt(struct api_call *call);

static void
maybe_close_http(struct api_client *c);

static void
on_call_closed(uv_handle_t *t)
{
	struct api_call *call = t->data;
	struct api_client *c = call->c;

	free(call->url);
	free(call->body);
	free(call);
	c->n_open--;
	maybe_close_http(c);
}

/* Ends a call: out of the live list, the continuation, then the close. */
static void
complete(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct api_client *c = call->c;

	TAILQ_REMOVE(&c->calls, call, link);
	c->n_calls--;
	uv_timer_stop(&call->timer);
	call->done(call, rc, err, body, len);
	uv_close((uv_handle_t *)&call->timer, on_call_closed);
}

static void
on_retry_timer(uv_timer_t *t)
{
	send_attempt(t->data);
}

static void
on_cancel_timer(uv_timer_t *t)
{
	struct api_call *call = t->data;

	complete(call, -ECANCELED, &call->err, NULL, 0);
}

static void
retry_later(struct api_call *call, long retry_after_s)
{
	struct api_client *c = call->c;
	uint64_t delay = backoff_ms(c, call->attempts);

	if (retry_after_s >= 0) {
		uint64_t ra = (uint64_t)retry_after_s * 1000;
		if (ra > RETRY_AFTER_MAX_MS)
			ra = RETRY_AFTER_MAX_MS;
		if (ra > delay)
			delay = ra;
	}
	log_debug("api: %s: attempt %d failed, retrying in %llu ms", call->route,
	    call->attempts, (unsigned long long)delay);
	uv_timer_start(&call->timer, on_retry_timer, delay, 0);
}

static void
warn_deprecation(const struct http_response *r, const struct api_call *call)
{
	if (deprecation_warned ||
	    (r->deprecation_state == NULL && r->deprecation_message == NULL))
		return;
	deprecation_warned = true;
	log_warnx("Convex API deprecation notice on %s: %s%s%s", call->tmpl,
	    r->deprecation_state ? r->deprecation_state : "deprecated",
	    r->deprecation_message ? ": " : "",
	    r->deprecation_message ? r->deprecation_message : "");
}

static void
on_http(void *arg, const struct http_response *r)
{
	struct api_call *call = arg;
	struct api_client *c = call->c;
	bool last = call->attempts >= (int)c->max_tries;
	bool create = call->policy == POL_CREATE;
	struct api_error err;
	char code[64], msg[512];
	bool retry;
	int rc;

	call->req = NULL;
	if (c->on_request != NULL)
		c->on_request(c->on_request_arg, call->tmpl,
		    r->fail == HTTP_OK ? (int)r->status : 0, r->seconds);
	warn_deprecation(r, call);

	if (r->fail == HTTP_OK) {
		if (r->status >= 200 && r->status < 300) {
			complete(call, 0, NULL, r->body, r->len);
			return;
		}
		retry = r->status == 429 || (r->status >= 500 && !create);
		if (retry && !last) {
			retry_later(call, r->retry_after_s);
			return;
		}
		if (api_decode_error_body(r->body, r->len, code, sizeof(code),
		    msg, sizeof(msg)) != 0)
			body_excerpt(r->body, r->len, msg, sizeof(msg));
		set_err(&err, call, (int)r->status, code, "%s", msg);
		err.ambiguous = create && r->status >= 500;
		complete(call, status_rc(r->status), &err, r->body, r->len);
		return;
	}

	switch (r->fail) {
	case HTTP_CONNECT:
		/* Nothing was sent: even a create may go again. */
		if (!last) {
			retry_later(call, -1);
			return;
		}
		set_err(&err, call, 0, "ConnectionError", "%s", r->error);
		rc = -ECONNREFUSED;
		break;
	case HTTP_TRANSPORT:
	case HTTP_TIMEOUT:
		if (!create && !last) {
			retry_later(call, -1);
			return;
		}
		if (r->fail == HTTP_TIMEOUT) {
			set_err(&err, call, 0, "Timeout", "%s", r->error);
			rc = -ETIMEDOUT;
		} else {
			set_err(&err, call, 0, "ConnectionError", "%s", r->error);
			rc = -ECONNRESET;
		}
		err.ambiguous = create;
		break;
	case HTTP_TOO_LARGE:
		set_err(&err, call, (int)r->status, "BodyTooLarge",
		    "the response body is larger than the limit");
		err.ambiguous = create;
		rc = -EFBIG;
		break;
	case HTTP_TLS:
		set_err(&err, call, 0, "TLSError", "%s", r->error);
		rc = -EPROTO;
		break;
	default:
		set_err(&err, call, 0, "RequestError", "%s", r->error);
		err.ambiguous = create;
		rc = -EIO;
		break;
	}
	complete(call, rc, &err, NULL, 0);
}

static void
send_attempt(struct api_call *call)
{
	struct api_error err;
	int rc;

	call->attempts++;
	rc = http_request_start(call->c->http, call->method, call->url,
	    call->body, call->policy == POL_CREATE, on_http, call, &call->req);
	if (rc != 0) {
		set_err(&err, call, 0, "RequestError", "could not start: %s",
		    strerror(-rc));
		complete(call, rc, &err, NULL, 0);
	}
}

static void
call_cancel(struct api_call *call)
{
	if (call->cancelled)
		return;
	call->cancelled = true;
	if (call->req != NULL) {
		http_request_cancel(call->req);
		call->req = NULL;
	}
	set_err(&call->err, call, 0, "Cancelled", "cancelled");
	uv_timer_stop(&call->timer);
	uv_timer_start(&call->timer, on_cancel_timer, 0, 0);
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static int
escape(char *out, size_t n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~';
		if (k + (plain ? 1 : 3) >= n)
			return -ENAMETOOLONG;
		if (plain) {
			out[k++] = (char)ch;
		} else {
			out[k++] = '%';
			out[k++] = hex[ch >> 4];
			out[k++] = hex[ch & 15];
		}
	}
	out[k] = '\0';
	return 0;
}

/*
 * Creates and sends a call. path starts with '/'; query (may be NULL) is
 * appended after '?'. body is copied. Returns 0 (the continuation runs
 * later, exactly once) or a negative errno (it never runs).
 */
static int
call_start(struct api_client *c, const char *method, const char *tmpl,
    const char *path, const char *query, const char *body,
    enum policy policy, call_done_fn done, union user_cb cb, void *arg,
    void *ctx)
{
	struct api_call *call;
	size_t ulen;
	int rc;

	if (c->closing)
		return -ESHUTDOWN;
	if ((call = calloc(1, sizeof(*call))) == NULL)
		return -ENOMEM;
	call->c = c;
	call->method = method;
	call->tmpl = tmpl;
	call->policy = policy;
	call->done = done;
	call->cb = cb;
	call->arg = arg;
	call->ctx = ctx;
	snprintf(call->route, sizeof(call->route), "%s %s", method, path);
	ulen = strlen(c->base) + strlen(path) + (query ? strlen(query) + 1 : 0) + 1;
	if ((call->url = malloc(ulen)) == NULL ||
	    (body != NULL && (call->body = strdup(body)) == NULL)) {
		free(call->url);
		free(call);
		return -ENOMEM;
	}
	snprintf(call->url, ulen, "%s%s%s%s", c->base, path, query ? "?" : "",
	    query ? query : "");
	call->attempts = 1;
	rc = http_request_start(c->http, method, call->url, call->body,
	    policy == POL_CREATE, on_http, call, &call->req);
	if (rc != 0) {
		free(call->url);
		free(call->body);
		free(call);
		return rc;
	}
	uv_timer_init(c->loop, &call->timer);
	call->timer.data = call;
	TAILQ_INSERT_TAIL(&c->calls, call, link);
	c->n_calls++;
	c->n_open++;
	return 0;
}

/* A 2xx body that does not decode. */
static void
decode_err(struct api_error *e, const struct api_call *call, const char *why)
{
	set_err(e, call, 200, "DecodeError", "%s", why);
	e->ambiguous = call->policy == POL_CREATE;
}

/* ---- cursor loop guard --------------------------------------------------- */

struct strset {
	char **slots;
	size_t cap;
	size_t n;
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* 1: added, 0: was already there, -ENOMEM. */
static int
strset_add(struct strset *s, const char *k)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		char **ns = calloc(ncap, sizeof(char *));
		if (ns == NULL)
			return -ENOMEM;
		for (size_t j = 0; j < s->cap; j++) {
			if (s->slots[j] == NULL)
				continue;
			for (i = fnv1a(s->slots[j]) % ncap; ns[i]; i = (i + 1) % ncap)
				;
			ns[i] = s->slots[j];
		}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	for (i = fnv1a(k) % s->cap; s->slots[i]; i = (i + 1) % s->cap)
		if (strcmp(s->slots[i], k) == 0)
			return 0;
	if ((s->slots[i] = strdup(k)) == NULL)
		return -ENOMEM;
	s->n++;
	return 1;
}

static void
strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* ---- listings ------------------------------------------------------------ */

enum list_kind {
	LIST_PROJECTS,          /* paginated, may fall back to the legacy route */
	LIST_PROJECTS_LEGACY,
	LIST_TEAM_DEPLOYMENTS,  /* paginated */
	LIST_PROJECT_DEPLOYMENTS,
};

struct listing {
	struct api_client *c;
	enum list_kind kind;
	int64_t id;             /* team or project */
	union user_cb cb;
	void *arg;
	struct observed_project *projects;
	struct observed_deployment *deployments;
	size_t n;
	size_t cap;
	size_t pages;
	struct strset cursors;
};

static void
listing_free(struct listing *l)
{
	api_projects_free(l->projects, l->n);
	api_deployments_free(l->deployments, l->n);
	strset_free(&l->cursors);
	free(l);
}

static void
listing_finish(struct listing *l, int rc, const struct api_error *err)
{
	if (l->kind == LIST_PROJECTS || l->kind == LIST_PROJECTS_LEGACY) {
		struct observed_project *items = rc == 0 ? l->projects : NULL;
		size_t n = rc == 0 ? l->n : 0;
		if (rc == 0)
			l->projects = NULL;
		l->cb.projects(l->arg, rc, err, items, n);
	} else {
		struct observed_deployment *items = rc == 0 ? l->deployments : NULL;
		size_t n = rc == 0 ? l->n : 0;
		if (rc == 0)
			l->deployments = NULL;
		l->cb.deployments(l->arg, rc, err, items, n);
	}
	if (rc == 0)
		l->n = 0;
	listing_free(l);
}

static int
grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 128;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(*arr, ncap * size)) == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void on_page(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len);

static int
page_start(struct listing *l, const char *cursor)
{
	char path[128], query[1200], esc[1024];
	const char *tmpl;
	union user_cb none = { .done = NULL };

	switch (l->kind) {
	case LIST_PROJECTS:
		tmpl = "GET /teams/{team}/projects";
		snprintf(path, sizeof(path), "/teams/%lld/projects", (long long)l->id);
		break;
	case LIST_PROJECTS_LEGACY:
		tmpl = "GET /teams/{team}/list_projects";
		snprintf(path, sizeof(path), "/teams/%lld/list_projects",
		    (long long)l->id);
		break;
	case LIST_TEAM_DEPLOYMENTS:
		tmpl = "GET /teams/{team}/list_deployments";
		snprintf(path, sizeof(path), "/teams/%lld/list_deployments",
		    (long long)l->id);
		break;
	default:
		tmpl = "GET /projects/{id}/list_deployments";
		snprintf(path, sizeof(path), "/projects/%lld/list_deployments",
		    (long long)l->id);
		break;
	}
	if (l->kind == LIST_PROJECTS || l->kind == LIST_TEAM_DEPLOYMENTS) {
		if (cursor != NULL) {
			if (escape(esc, sizeof(esc), cursor) != 0)
				return -ENAMETOOLONG;
			snprintf(query, sizeof(query), "limit=%d&cursor=%s",
			    PAGE_LIMIT, esc);
		} else {
			snprintf(query, sizeof(query), "limit=%d", PAGE_LIMIT);
		}
		return call_start(l->c, "GET", tmpl, path, query, NULL,
		    POL_IDEMPOTENT, on_page, none, NULL, l);
	}
	return call_start(l->c, "GET", tmpl, path, NULL, NULL, POL_IDEMPOTENT,
	    on_page, none, NULL, l);
}

/* Starts the next page (or the legacy route) from a continuation; on
 * failure the listing ends with that error. */
static void
continue_or_fail(struct listing *l, const struct api_call *call,
    const char *cursor)
{
	struct api_error err;
	int rc;

	if ((rc = page_start(l, cursor)) != 0) {
		set_err(&err, call, 0, "RequestError", "could not request the "
		    "next page: %s", strerror(-rc));
		listing_finish(l, rc, &err);
	}
}

static void
on_page(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct listing *l = call->ctx;
	struct api_client *c = l->c;
	struct observed_project *pv = NULL;
	struct observed_deployment *dv = NULL;
	struct api_page page = { 0 };
	struct api_error e;
	char why[256];
	size_t n = 0;
	int added;

	if (rc == -ENOENT && l->pages == 0 && l->kind == LIST_PROJECTS) {
		/* Older APIs have only the unpaginated route. */
		log_debug("api: %s answered 404, trying the legacy route",
		    call->route);
		l->kind = LIST_PROJECTS_LEGACY;
		continue_or_fail(l, call, NULL);
		return;
	}
	if (rc == -ENOENT && l->pages == 0 && l->kind == LIST_TEAM_DEPLOYMENTS) {
		if (!c->legacy_deployments) {
			c->legacy_deployments = true;
			log_info("api: %s does not exist on this API (404); "
			    "listing deployments project by project from now on",
			    "GET /teams/{team}/list_deployments");
		}
		e = *err;
		snprintf(e.code, sizeof(e.code), "NotSupported");
		listing_finish(l, -ENOTSUP, &e);
		return;
	}
	if (rc != 0) {
		listing_finish(l, rc, err);
		return;
	}

	switch (l->kind) {
	case LIST_PROJECTS:
		rc = api_decode_projects_page(body, len, &pv, &n, &page, why,
		    sizeof(why));
		break;
	case LIST_PROJECTS_LEGACY:
		rc = api_decode_projects_array(body, len, &pv, &n, why, sizeof(why));
		break;
	case LIST_TEAM_DEPLOYMENTS:
		rc = api_decode_deployments_page(body, len, &dv, &n, &page, why,
		    sizeof(why));
		break;
	default:
		rc = api_decode_deployments_array(body, len, &dv, &n, why,
		    sizeof(why));
		break;
	}
	if (rc != 0) {
		if (rc == -ENOMEM)
			snprintf(why, sizeof(why), "out of memory");
		decode_err(&e, call, why);
		listing_finish(l, rc, &e);
		return;
	}
	if (l->kind == LIST_PROJECTS_LEGACY && !c->legacy_projects) {
		c->legacy_projects = true;
		log_info("api: GET /teams/{team}/projects does not exist on this "
		    "API (404); using GET /teams/{team}/list_projects from now on");
	}

	/* Append this page's items. */
	if (pv != NULL) {
		if (grow((void **)&l->projects, &l->cap, l->n + n,
		    sizeof(*pv)) != 0) {
			api_projects_free(pv, n);
			goto nomem;
		}
		memcpy(l->projects + l->n, pv, n * sizeof(*pv));
		free(pv);
		l->n += n;
	} else if (dv != NULL) {
		if (grow((void **)&l->deployments, &l->cap, l->n + n,
		    sizeof(*dv)) != 0) {
			api_deployments_free(dv, n);
			goto nomem;
		}
		memcpy(l->deployments + l->n, dv, n * sizeof(*dv));
		free(dv);
		l->n += n;
	}
	l->pages++;

	if (!page.has_more) {
		api_page_clear(&page);
		listing_finish(l, 0, NULL);
		return;
	}
	if (page.next_cursor == NULL || page.next_cursor[0] == '\0') {
		api_page_clear(&page);
		decode_err(&e, call, "pagination: hasMore is true but nextCursor "
		    "is missing");
		listing_finish(l, -EBADMSG, &e);
		return;
	}
	if ((added = strset_add(&l->cursors, page.next_cursor)) <= 0 ||
	    l->pages >= MAX_PAGES) {
		api_page_clear(&page);
		if (added < 0)
			goto nomem;
		set_err(&e, call, 200, "PaginationLoop", added == 0 ?
		    "the server sent cursor it had already sent (after %zu pages)" :
		    "more than %zu pages", l->pages);
		listing_finish(l, -ELOOP, &e);
		return;
	}
	continue_or_fail(l, call, page.next_cursor);
	api_page_clear(&page);
	return;
nomem:
	set_err(&e, call, 0, "RequestError", "out of memory");
	listing_finish(l, -ENOMEM, &e);
}

static int
listing_start(struct api_client *c, enum list_kind kind, int64_t id,
    union user_cb cb, void *arg)
{
	struct listing *l;
	int rc;

	if (c->closing)
		return -ESHUTDOWN;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->c = c;
	l->kind = kind;
	l->id = id;
	l->cb = cb;
	l->arg = arg;
	if ((rc = page_start(l, NULL)) != 0)
		listing_free(l);
	return rc;
}

int
api_list_projects(struct api_client *c, int64_t team, api_projects_cb cb,
    void *arg)
{
	union user_cb u = { .projects = cb };

	return listing_start(c, c->legacy_projects ? LIST_PROJECTS_LEGACY :
	    LIST_PROJECTS, team, u, arg);
}

int
api_list_team_deployments(struct api_client *c, int64_t team,
    api_deployments_cb cb, void *arg)
{
	union user_cb u = { .deployments = cb };

	if (c->legacy_deployments)
		return -ENOTSUP;
	return listing_start(c, LIST_TEAM_DEPLOYMENTS, team, u, arg);
}

int
api_list_project_deployments(struct api_client *c, int64_t project_id,
    api_deployments_cb cb, void *arg)
{
	union user_cb u = { .deployments = cb };

	return listing_start(c, LIST_PROJECT_DEPLOYMENTS, project_id, u, arg);
}

/* ---- single calls -------------------------------------------------------- */

static void
on_token(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct api_token_info ti;
	struct api_error e;
	char why[256];

	if (rc != 0) {
		call->cb.token(call->arg, rc, err, 0);
		return;
	}
	if ((rc = api_decode_token_details(body, len, &ti, why, sizeof(why))) != 0) {
		decode_err(&e, call, why);
		call->cb.token(call->arg, rc, &e, 0);
		return;
	}
	if (!ti.team_token) {
		set_err(&e, call, 200, "ProjectToken", "the token is a project "
		    "token (project %lld); the provisioner manages a team and "
		    "needs a team access token", (long long)ti.project_id);
		api_token_info_clear(&ti);
		call->cb.token(call->arg, -EPERM, &e, 0);
		return;
	}
	call->cb.token(call->arg, 0, NULL, ti.team_id);
	api_token_info_clear(&ti);
}

int
api_token_details(struct api_client *c, api_token_cb cb, void *arg)
{
	union user_cb u = { .token = cb };

	return call_start(c, "GET", "GET /token_details", "/token_details", NULL,
	    NULL, POL_IDEMPOTENT, on_token, u, arg, NULL);
}

static void
on_project_created(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct api_error e;
	char why[256], *slug = NULL;
	int64_t id = 0;

	if (rc != 0) {
		call->cb.created(call->arg, rc, err, 0, NULL);
		return;
	}
	if ((rc = api_decode_created_project(body, len, &id, &slug, why,
	    sizeof(why))) != 0) {
		decode_err(&e, call, why);
		call->cb.created(call->arg, rc, &e, 0, NULL);
		return;
	}
	call->cb.created(call->arg, 0, NULL, id, slug);
	free(slug);
}

static char *
json_print(cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return s;
}

int
api_create_project(struct api_client *c, int64_t team, const char *name,
    api_project_created_cb cb, void *arg)
{
	union user_cb u = { .created = cb };
	char path[96];
	cJSON *o;
	char *body;
	int rc;

	if ((o = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(o, "projectName", name) == NULL) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if ((body = json_print(o)) == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/teams/%lld/create_project", (long long)team);
	rc = call_start(c, "POST", "POST /teams/{team}/create_project", path,
	    NULL, body, POL_CREATE, on_project_created, u, arg, NULL);
	cJSON_free(body);
	return rc;
}

static void
on_deployment(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct observed_deployment d;
	struct api_error e;
	char why[256];
	bool local;

	if (rc != 0) {
		call->cb.deployment(call->arg, rc, err, NULL);
		return;
	}
	if ((rc = api_decode_deployment(body, len, &d, &local, why,
	    sizeof(why))) != 0) {
		decode_err(&e, call, why);
		call->cb.deployment(call->arg, rc, &e, NULL);
		return;
	}
	if (local) {
		set_err(&e, call, 200, "LocalDeployment", "a local deployment, "
		    "not managed here");
		call->cb.deployment(call->arg, -ENOENT, &e, NULL);
		return;
	}
	call->cb.deployment(call->arg, 0, NULL, &d);
	observed_deployment_clear(&d);
}

int
api_create_deployment(struct api_client *c, int64_t project_id,
    const struct desired_deployment *want, api_deployment_cb cb, void *arg)
{
	union user_cb u = { .deployment = cb };
	char path[96];
	cJSON *o;
	char *body;
	bool ok;
	int rc;

	if ((o = cJSON_CreateObject()) == NULL)
		return -ENOMEM;
	ok = cJSON_AddStringToObject(o, "type", dep_type_name(want->type)) &&
	    cJSON_AddStringToObject(o, "reference", want->reference);
	if (ok && want->region != NULL)
		ok = cJSON_AddStringToObject(o, "region", want->region) != NULL;
	if (ok && want->class_name != NULL)
		ok = cJSON_AddStringToObject(o, "class", want->class_name) != NULL;
	if (ok && want->is_default != TRI_UNSET)
		ok = cJSON_AddBoolToObject(o, "isDefault",
		    want->is_default == TRI_TRUE) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	if ((body = json_print(o)) == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/projects/%lld/create_deployment",
	    (long long)project_id);
	rc = call_start(c, "POST", "POST /projects/{id}/create_deployment", path,
	    NULL, body, POL_CREATE, on_deployment, u, arg, NULL);
	cJSON_free(body);
	return rc;
}

static void
on_done(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	(void)body;
	(void)len;
	/* Deleting what is already gone is done. */
	if (rc == -ENOENT && call->policy == POL_DELETE) {
		log_debug("api: %s: already gone (404)", call->route);
		rc = 0;
		err = NULL;
	}
	call->cb.done(call->arg, rc, err);
}

int
api_delete_project(struct api_client *c, int64_t project_id, api_done_cb cb,
    void *arg)
{
	union user_cb u = { .done = cb };
	char path[96];

	snprintf(path, sizeof(path), "/projects/%lld/delete", (long long)project_id);
	return call_start(c, "POST", "POST /projects/{id}/delete", path, NULL,
	    NULL, POL_DELETE, on_done, u, arg, NULL);
}

static int
name_path(char *path, size_t n, const char *name, const char *suffix)
{
	char esc[400];

	if (name == NULL || *name == '\0')
		return -EINVAL;
	if (escape(esc, sizeof(esc), name) != 0)
		return -ENAMETOOLONG;
	snprintf(path, n, "/deployments/%s%s", esc, suffix);
	return 0;
}

int
api_delete_deployment(struct api_client *c, const char *name, api_done_cb cb,
    void *arg)
{
	union user_cb u = { .done = cb };
	char path[512];
	int rc;

	if ((rc = name_path(path, sizeof(path), name, "/delete")) != 0)
		return rc;
	return call_start(c, "POST", "POST /deployments/{name}/delete", path,
	    NULL, NULL, POL_DELETE, on_done, u, arg, NULL);
}

int
api_get_deployment(struct api_client *c, const char *name,
    api_deployment_cb cb, void *arg)
{
	union user_cb u = { .deployment = cb };
	char path[512];
	int rc;

	if ((rc = name_path(path, sizeof(path), name, "")) != 0)
		return rc;
	return call_start(c, "GET", "GET /deployments/{name}", path, NULL, NULL,
	    POL_IDEMPOTENT, on_deployment, u, arg, NULL);
}

int
api_update_deployment(struct api_client *c, const char *name,
    const char *json_body, api_done_cb cb, void *arg)
{
	union user_cb u = { .done = cb };
	char path[512];
	int rc;

	if (json_body == NULL)
		return -EINVAL;
	if ((rc = name_path(path, sizeof(path), name, "")) != 0)
		return rc;
	/* Setting fields to values is idempotent: retried like a GET. */
	return call_start(c, "PATCH", "PATCH /deployments/{name}", path, NULL,
	    json_body, POL_IDEMPOTENT, on_done, u, arg, NULL);
}

/* ---- the client ------------------------------------------------------------ */

static bool
loopback_host(const char *host)
{
	struct in_addr a4;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcmp(host, "::1") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return false;
}

/* Only https, or http to this machine: the token must not cross a network
 * in clear text. */
static int
check_base_url(const char *url, struct api_error *err)
{
	char *scheme = NULL, *host = NULL;
	CURLU *u;
	int rc = 0;

	if ((u = curl_url()) == NULL)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err->code, sizeof(err->code), "InvalidURL");
		snprintf(err->message, sizeof(err->message),
		    "the API URL \"%.300s\" is not a valid URL", url);
		rc = -EINVAL;
	} else if (strcasecmp(scheme, "https") == 0) {
		rc = 0;
	} else if (strcasecmp(scheme, "http") == 0) {
		if (!loopback_host(host)) {
			snprintf(err->code, sizeof(err->code), "InsecureURL");
			snprintf(err->message, sizeof(err->message),
			    "refusing %.300s: plain http would send the token in "
			    "clear text over the network; use https (http is "
			    "allowed only to a loopback host: 127.0.0.0/8, ::1, "
			    "localhost)", url);
			rc = -EINVAL;
		}
	} else {
		snprintf(err->code, sizeof(err->code), "InvalidURL");
		snprintf(err->message, sizeof(err->message),
		    "the API URL \"%.300s\" must start with https://", url);
		rc = -EINVAL;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

int
api_client_new(uv_loop_t *loop, const struct api_config *cfg,
    struct api_client **out, struct api_error *err)
{
	struct api_client *c = NULL;
	struct http_config hc;
	const char *cc = "Convex-Client: convex-provisioner-" CP_VERSION;
	char auth[TOKEN_MAX + 64];
	const char *headers[2];
	size_t blen;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	snprintf(err->route, sizeof(err->route), "client set-up");
	if (cfg->base_url == NULL || cfg->token == NULL || cfg->token[0] == '\0' ||
	    cfg->concurrency == 0) {
		snprintf(err->code, sizeof(err->code), "InvalidConfig");
		snprintf(err->message, sizeof(err->message), "%s",
		    cfg->base_url == NULL ? "no API URL" :
		    cfg->concurrency == 0 ? "concurrency must be at least 1" :
		    "no API token");
		return -EINVAL;
	}
	if (strpbrk(cfg->token, "\r\n") != NULL ||
	    strlen(cfg->token) + 32 > sizeof(auth)) {
		snprintf(err->code, sizeof(err->code), "InvalidConfig");
		snprintf(err->message, sizeof(err->message),
		    "the API token is too long or holds a line break");
		return -EINVAL;
	}
	if ((rc = check_base_url(cfg->base_url, err)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->base = strdup(cfg->base_url)) == NULL)
		goto nomem;
	blen = strlen(c->base);
	while (blen > 0 && c->base[blen - 1] == '/')
		c->base[--blen] = '\0';
	c->loop = loop;
	c->max_tries = cfg->max_tries ? cfg->max_tries : 5;
	c->base_ms = cfg->backoff_base_ms ? cfg->backoff_base_ms : 500;
	c->cap_ms = cfg->backoff_cap_ms ? cfg->backoff_cap_ms : 30000;
	c->on_request = cfg->on_request;
	c->on_request_arg = cfg->on_request_arg;
	c->rng = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)c;
	if (c->rng == 0)
		c->rng = 0x9e3779b97f4a7c15ULL;
	TAILQ_INIT(&c->calls);

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cfg->token);
	headers[0] = auth;
	headers[1] = cc;
	memset(&hc, 0, sizeof(hc));
	hc.ca_file = cfg->ca_file;
	hc.concurrency = cfg->concurrency;
	hc.request_timeout_ms = cfg->request_timeout_ms;
	hc.connect_timeout_ms = cfg->connect_timeout_ms;
	hc.max_body = cfg->max_body;
	hc.user_agent = "convex-provisioner/" CP_VERSION;
	hc.headers = headers;
	hc.n_headers = 2;
	rc = http_client_new(loop, &hc, &c->http);
	explicit_bzero(auth, sizeof(auth));
	if (rc != 0) {
		free(c->base);
		free(c);
		snprintf(err->code, sizeof(err->code), "InvalidConfig");
		snprintf(err->message, sizeof(err->message),
		    "could not set up the HTTP client: %s", strerror(-rc));
		return rc;
	}
	*out = c;
	return 0;
nomem:
	if (c != NULL)
		free(c->base);
	free(c);
	snprintf(err->code, sizeof(err->code), "InvalidConfig");
	snprintf(err->message, sizeof(err->message), "out of memory");
	return -ENOMEM;
}

void
api_cancel_all(struct api_client *c)
{
	struct api_call *call;

	/* Newest first: queued requests go before running ones, so cancelling
	 * a running one never starts a queued one only to cancel it. */
	TAILQ_FOREACH_REVERSE(call, &c->calls, call_list, link)
		call_cancel(call);
}

unsigned
api_in_flight(const struct api_client *c)
{
	return c->n_calls;
}

bool
api_legacy_projects(const struct api_client *c)
{
	return c->legacy_projects;
}

bool
api_legacy_deployments(const struct api_client *c)
{
	return c->legacy_deployments;
}

static void
on_http_closed(void *arg)
{
	struct api_client *c = arg;
	void (*closed)(void *) = c->closed;
	void *closed_arg = c->closed_arg;

	free(c->base);
	free(c);
	if (closed != NULL)
		closed(closed_arg);
}

static void
maybe_close_http(struct api_client *c)
{
	if (!c->closing || c->http_closing || c->n_open > 0)
		return;
	c->http_closing = true;
	http_client_close(c->http, on_http_closed, c);
}

void
api_client_close(struct api_client *c, void (*closed)(void *arg), void *arg)
{
	if (c == NULL || c->closing)
		return;
	c->closing = true;
	c->closed = closed;
	c->closed_arg = arg;
	api_cancel_all(c);
	maybe_close_http(c);
}
