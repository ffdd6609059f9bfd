/* api.c: the Convex Management API client's engine on top of http.c: the
 * client, calls with retries and backoff on loop timers, error mapping,
 * cancellation and the close sequence.
 *
 * A call (struct api_call, api_call.h) is one logical request: it is sent,
 * perhaps retried, and ends in one continuation (call->done) that decodes
 * the body and runs the user's callback (api_routes.c, api_list.c). Each
 * call owns one uv_timer used for its backoff and for delivering a
 * cancellation from the loop; the call is freed in that timer's close
 * callback, so nothing is freed under a running callback. The client is
 * freed once every call's timer is closed and http.c has closed its own
 * handles. */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "api_call.h"
#include "api_decode.h"
#include "http.h"
#include "log.h"
#include "loopback.h"
#include "secrets.h"
#include "token.h"

/* Room for a message from outside before it is scrubbed and cut: a whole
 * token fits in it wherever the message starts to quote it. */
#define ERR_TEXT_MAX (2 * TOKEN_MAX + 1024)

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

/* Copies what fits of src into dst (n > 0 bytes), NUL-terminated. */
static void
cut_copy(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* What came from outside (the API's code and message, curl's words, a
 * decoder's quote) is scrubbed of the token here, where it is stored:
 * first whole, then again once cut to the struct's size, so a token cut in
 * the middle is masked too (secrets.h). */
void
call_set_err(struct api_error *e, const struct api_call *call, int status,
    const char *code, const char *fmt, ...)
{
	char whole[ERR_TEXT_MAX];
	va_list ap;

	memset(e, 0, sizeof(*e));
	e->status = status;
	snprintf(whole, sizeof(whole), "%s", code);
	secrets_scrub(whole, sizeof(whole));
	cut_copy(e->code, sizeof(e->code), whole);
	secrets_scrub(e->code, sizeof(e->code));
	va_start(ap, fmt);
	vsnprintf(whole, sizeof(whole), fmt, ap);
	va_end(ap);
	secrets_scrub(whole, sizeof(whole));
	cut_copy(e->message, sizeof(e->message), whole);
	secrets_scrub(e->message, sizeof(e->message));
	snprintf(e->route, sizeof(e->route), "%s", call->route);
	e->attempts = call->attempts;
}

/* A non-JSON error body is shown as text, printable bytes only, from a
 * copy scrubbed of secrets (taken long enough to hold a whole token that
 * starts within the excerpt). */
static void
body_excerpt(const char *body, size_t len, char *out, size_t n)
{
	size_t k = 0, wlen = len < 300 + TOKEN_MAX ? len : 300 + TOKEN_MAX;
	char *w = secrets_scrub_dup(body, wlen, false, &wlen);

	if (w != NULL) {
		for (size_t i = 0; i < wlen && k + 1 < n && i < 300; i++) {
			unsigned char ch = (unsigned char)w[i];
			out[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : ' ';
		}
	}
	if (n > 0)
		out[k] = '\0';
	free(w);
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

/*
 * Schedules the next attempt, or refuses to (false: the caller fails the
 * call with its last error). The wait is the backoff, or what the server
 * asks in Retry-After when that is longer, but never more than the backoff
 * cap of SPEC section 5 (30 s, ra_cap_ms): a server cannot park a
 * reconcile. Every wait
 * also counts against the reconcile's retry budget (api_config): the time
 * during which at least one call waits, so concurrent waits count once.
 */
static bool
retry_later(struct api_call *call, long retry_after_s)
{
	struct api_client *c = call->c;
	uint64_t delay = backoff_ms(c, call->attempts), asked = 0, now, from, end,
	    added;
	bool capped = false;

	if (retry_after_s >= 0) {
		asked = (uint64_t)retry_after_s > UINT64_MAX / 1000 ? UINT64_MAX :
		    (uint64_t)retry_after_s * 1000;
		if (asked > delay)
			delay = asked;
		if (delay > c->ra_cap_ms) {
			delay = c->ra_cap_ms;
			capped = true;
		}
	}
	now = uv_now(c->loop);
	from = now > c->wait_horizon_ms ? now : c->wait_horizon_ms;
	end = now + delay;
	added = end > from ? end - from : 0;
	if (c->wait_used_ms + added > c->budget_ms) {
		log_warnx("api: %s: attempt %d failed; not retrying: this "
		    "reconcile has waited %.1f s for retries and may wait %.1f s "
		    "in all", call->route, call->attempts,
		    (double)c->wait_used_ms / 1000, (double)c->budget_ms / 1000);
		call->budget_spent = true;
		return false;
	}
	c->wait_used_ms += added;
	if (end > c->wait_horizon_ms)
		c->wait_horizon_ms = end;
	if (capped)
		log_warnx("api: %s: the server asked to wait %ld s (Retry-After); "
		    "waiting %.1f s, the cap", call->route, retry_after_s,
		    (double)delay / 1000);
	else if (retry_after_s >= 0)
		log_debug("api: %s: attempt %d failed; the server asked to wait "
		    "%ld s (Retry-After); waiting %.1f s", call->route,
		    call->attempts, retry_after_s, (double)delay / 1000);
	else
		log_debug("api: %s: attempt %d failed, retrying in %llu ms",
		    call->route, call->attempts, (unsigned long long)delay);
	uv_timer_start(&call->timer, on_retry_timer, delay, 0);
	return true;
}

/* Says in the error why a retryable failure was not retried. */
static void
note_budget(struct api_error *e, const struct api_call *call)
{
	size_t len = strlen(e->message);

	if (call->budget_spent)
		snprintf(e->message + len, sizeof(e->message) - len, "%s",
		    " (not retried: this reconcile's time for retries is spent)");
}

/* Convex announces the end of a route in two response headers; the first
 * notice of a process is logged (each value cut to a line's worth). */
static void
warn_deprecation(const struct http_response *r, const struct api_call *call)
{
	char state[256], msg[512];
	const char *v;

	if (deprecation_warned)
		return;
	state[0] = msg[0] = '\0';
	/* Copied at once: the next lookup reuses curl's storage. */
	if ((v = http_response_header(r, "x-convex-deprecation-state")) != NULL)
		snprintf(state, sizeof(state), "%s", v);
	if ((v = http_response_header(r, "x-convex-deprecation-message")) != NULL)
		snprintf(msg, sizeof(msg), "%s", v);
	if (state[0] == '\0' && msg[0] == '\0')
		return;
	deprecation_warned = true;
	log_warnx("Convex API deprecation notice on %s: %s%s%s", call->tmpl,
	    state[0] ? state : "deprecated", msg[0] ? ": " : "", msg);
}

static void
on_http(void *arg, const struct http_response *r)
{
	struct api_call *call = arg;
	struct api_client *c = call->c;
	bool last = call->attempts >= (int)c->max_tries;
	bool create = call->policy == POL_CREATE;
	struct api_error err;
	char code[64], msg[ERR_TEXT_MAX];
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
		if (retry && !last && retry_later(call, r->retry_after_s))
			return;
		if (api_decode_error_body(r->body, r->len, code, sizeof(code),
		    msg, sizeof(msg)) != 0)
			body_excerpt(r->body, r->len, msg, sizeof(msg));
		call_set_err(&err, call, (int)r->status, code, "%s", msg);
		note_budget(&err, call);
		err.ambiguous = create && r->status >= 500;
		complete(call, status_rc(r->status), &err, r->body, r->len);
		return;
	}

	switch (r->fail) {
	case HTTP_CONNECT:
		/* Nothing was sent: even a create may go again. */
		if (!last && retry_later(call, -1))
			return;
		call_set_err(&err, call, 0, "ConnectionError", "%s", r->error);
		rc = -ECONNREFUSED;
		break;
	case HTTP_TRANSPORT:
	case HTTP_TIMEOUT:
		if (!create && !last && retry_later(call, -1))
			return;
		if (r->fail == HTTP_TIMEOUT) {
			call_set_err(&err, call, 0, "Timeout", "%s", r->error);
			rc = -ETIMEDOUT;
		} else {
			call_set_err(&err, call, 0, "ConnectionError", "%s", r->error);
			rc = -ECONNRESET;
		}
		err.ambiguous = create;
		break;
	case HTTP_TOO_LARGE:
		call_set_err(&err, call, (int)r->status, "BodyTooLarge",
		    "the response body is larger than the limit");
		err.ambiguous = create;
		rc = -EFBIG;
		break;
	case HTTP_TLS:
		call_set_err(&err, call, 0, "TLSError", "%s", r->error);
		rc = -EPROTO;
		break;
	default:
		call_set_err(&err, call, 0, "RequestError", "%s", r->error);
		err.ambiguous = create;
		rc = -EIO;
		break;
	}
	note_budget(&err, call);
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
		call_set_err(&err, call, 0, "RequestError", "could not start: %s",
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
	call_set_err(&call->err, call, 0, "Cancelled", "cancelled");
	uv_timer_stop(&call->timer);
	uv_timer_start(&call->timer, on_cancel_timer, 0, 0);
}

int
call_escape(char *out, size_t n, const char *s)
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

int
call_deployment_path(char *path, size_t n, const char *name, const char *suffix)
{
	char esc[400];

	if (name == NULL || *name == '\0')
		return -EINVAL;
	if (call_escape(esc, sizeof(esc), name) != 0)
		return -ENAMETOOLONG;
	if ((size_t)snprintf(path, n, "/deployments/%s%s", esc, suffix) >= n)
		return -ENAMETOOLONG;
	return 0;
}

int
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

void
call_decode_err(struct api_error *e, const struct api_call *call, int rc,
    const char *why)
{
	if (rc == -ENOMEM)
		why = "out of memory";
	call_set_err(e, call, 200, "DecodeError", "%s", why);
	e->ambiguous = call->policy == POL_CREATE;
}

char *
call_print_body(cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return s;
}

/* ---- the client ------------------------------------------------------------ */

/* Only https, or http to this machine: the token must not cross a network
 * in clear text. */
static int
check_base_url(const char *url, struct api_error *err)
{
	char *scheme = NULL, *host = NULL, shown[512];
	CURLU *u;
	int rc = 0;

	/* Quoted without the password of a userinfo (secrets.h). */
	secrets_url_redact(url, shown, sizeof(shown));
	if ((u = curl_url()) == NULL)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err->code, sizeof(err->code), "InvalidURL");
		snprintf(err->message, sizeof(err->message),
		    "the API URL \"%.300s\" is not a valid URL", shown);
		rc = -EINVAL;
	} else if (strcasecmp(scheme, "https") == 0) {
		rc = 0;
	} else if (strcasecmp(scheme, "http") == 0) {
		if (!loopback_host(host, strlen(host))) {
			snprintf(err->code, sizeof(err->code), "InsecureURL");
			snprintf(err->message, sizeof(err->message),
			    "refusing %.300s: plain http would send the token in "
			    "clear text over the network; use https (http is "
			    "allowed only to a loopback host: 127.0.0.0/8, ::1, "
			    "localhost)", shown);
			rc = -EINVAL;
		}
	} else {
		snprintf(err->code, sizeof(err->code), "InvalidURL");
		snprintf(err->message, sizeof(err->message),
		    "the API URL \"%.300s\" must start with https://", shown);
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
	/* token_load registered it already; a token given some other way
	 * is masked in every output from now on too (secrets.h). */
	if (secrets_register(cfg->token) != 0 ||
	    (c = calloc(1, sizeof(*c))) == NULL ||
	    (c->base = strdup(cfg->base_url)) == NULL)
		goto nomem;
	blen = strlen(c->base);
	while (blen > 0 && c->base[blen - 1] == '/')
		c->base[--blen] = '\0';
	c->loop = loop;
	c->max_tries = cfg->max_tries ? cfg->max_tries : 5;
	c->base_ms = cfg->backoff_base_ms ? cfg->backoff_base_ms : 500;
	c->cap_ms = cfg->backoff_cap_ms ? cfg->backoff_cap_ms : 30000;
	c->ra_cap_ms = cfg->retry_after_cap_ms ? cfg->retry_after_cap_ms : 30000;
	c->budget_ms = cfg->retry_budget_ms ? cfg->retry_budget_ms :
	    (uint64_t)(c->max_tries > 1 ? c->max_tries - 1 : 1) *
	    (c->cap_ms > c->ra_cap_ms ? c->cap_ms : c->ra_cap_ms);
	c->wait_horizon_ms = uv_now(loop);
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

void
api_retry_budget_reset(struct api_client *c)
{
	c->wait_used_ms = 0;
	c->wait_horizon_ms = uv_now(c->loop);
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
