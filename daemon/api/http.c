/* http.c: curl multi driven by libuv (uv_poll per socket, one uv_timer for
 * curl's timeouts), a FIFO queue in front of it, bounded response bodies.
 *
 * Life of a request: http_request_start builds the easy handle (owned by
 * the request, found again through CURLOPT_PRIVATE) and either adds it to
 * the multi handle or queues it when `concurrency` transfers already run.
 * Every socket or timer event calls curl_multi_socket_action and then
 * drains curl_multi_info_read; a finished transfer is removed, reported to
 * its callback, freed, and the next queued request starts.
 *
 * A request body is handed to curl through a read callback, never as
 * CURLOPT_POSTFIELDS, so that curl must ask (the seek callback) before it
 * sends the body a second time; a request marked `once` refuses, which is
 * what keeps creates at most once on shared connections (see "At most
 * once on a shared connection" in docs/architecture.md).
 *
 * Errors of curl_multi_socket_action (a socket callback that failed, out
 * of memory) fail every running transfer through the deferred path: curl
 * marks the multi handle dead after a failed callback, and a transfer left
 * in it might never be reported.
 *
 * Teardown (http_client_close): remove and free every easy handle at once,
 * then, from a zero timer (so never inside a curl call or our own drain
 * loop), curl_multi_cleanup while the loop still runs (it may call the
 * socket callback), close the remaining polls and both timers, and free
 * the client in the last close callback. */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "cdefs.h"
#include "log.h"

struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct http_client *h;
	LIST_ENTRY(sock) link;
	bool closing;
};

enum req_where { REQ_QUEUED, REQ_RUNNING, REQ_FAILED };

struct http_request {
	struct http_client *h;
	TAILQ_ENTRY(http_request) link;
	enum req_where where;
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;        /* the answer */
	char *payload;          /* the request body, or NULL */
	size_t payload_len;
	size_t payload_off;     /* next byte curl reads */
	bool once;              /* never let curl send it twice */
	bool payload_read;      /* curl took body bytes: they may be out */
	bool too_large;
	enum http_fail fail;    /* why, when on `failed` */
	http_done_cb cb;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
};

TAILQ_HEAD(req_list, http_request);

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;       /* curl's timeout */
	uv_timer_t defer;       /* work that must not run inside a call */
	struct req_list queue;
	struct req_list running;
	struct req_list failed; /* reported by `defer` */
	LIST_HEAD(, sock) socks;
	unsigned in_flight;
	unsigned open_handles;  /* libuv handles not yet closed */
	bool closing;
	bool broken;            /* failing the running transfers: start none */
	bool torn_down;         /* the multi handle and the polls are closed */
	void (*closed)(void *arg);
	void *closed_arg;

	unsigned concurrency;
	long request_timeout_ms;
	long connect_timeout_ms;
	size_t max_body;
	char *ca_file;
	char *user_agent;
	char **headers;
	size_t n_headers;
};

static void on_defer(uv_timer_t *t);
static CURLM *multi_open(struct http_client *h);
static void sock_close(struct sock *s);

/* The headers hold the token: wipe them before giving the memory back. */
static void
config_free(struct http_client *h)
{
	for (size_t i = 0; i < h->n_headers; i++) {
		explicit_bzero(h->headers[i], strlen(h->headers[i]));
		free(h->headers[i]);
	}
	free(h->headers);
	free(h->ca_file);
	free(h->user_agent);
}

/* ---- requests ------------------------------------------------------- */

static void
request_free(struct http_request *r)
{
	if (r == NULL)
		return;
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	buf_free(&r->body);
	free(r->payload);
	free(r);
}

static size_t
on_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct http_request *r = userp;
	size_t n = size * nmemb;
	int rc;

	if ((rc = buf_append(&r->body, ptr, n)) != 0) {
		r->too_large = (rc == -E2BIG);
		return 0;       /* curl ends the transfer with CURLE_WRITE_ERROR */
	}
	return n;
}

/* The request body, as curl asks for it. */
static size_t
on_read(char *out, size_t size, size_t nitems, void *userp)
{
	struct http_request *r = userp;
	size_t n = size * nitems, left = r->payload_len - r->payload_off;

	if (n > left)
		n = left;
	memcpy(out, r->payload + r->payload_off, n);
	r->payload_off += n;
	if (n > 0)
		r->payload_read = true;
	return n;
}

/*
 * curl calls this before it sends the body again: on a retry of its own
 * (a reused connection that died before any byte of the answer came, a
 * refused HTTP/2 stream) and nowhere else we use. A request sent at most
 * once refuses, and curl then ends the transfer with CURLE_SEND_FAIL_REWIND
 * instead of sending the body on a second connection: the server may have
 * acted on the first. Any other request starts again from the beginning.
 */
static int
on_seek(void *userp, curl_off_t offset, int origin)
{
	struct http_request *r = userp;

	if (r->once || origin != SEEK_SET || offset < 0 ||
	    (uint64_t)offset > r->payload_len)
		return CURL_SEEKFUNC_FAIL;
	r->payload_off = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* Seconds form ("120") or HTTP-date form; -1 when unreadable. */
static long
parse_retry_after(const char *v)
{
	char *end;
	long s;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v >= '0' && *v <= '9') {
		errno = 0;
		s = strtol(v, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (errno != 0 || *end != '\0' || s < 0)
			return -1;
		return s;
	}
	t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	t -= time(NULL);
	return t > 0 ? (long)t : 0;
}

/* Masks the userinfo of every "scheme://USER:PASS@" in line (cap bytes):
 * curl names the proxy it takes from the environment, credentials and all
 * ("Uses proxy env variable https_proxy == 'http://u:p@proxy:3128'"). */
static void
redact_userinfo(char *line, size_t cap)
{
	static const char mask[] = "***";
	char *p = line, *q;
	size_t len, skip, off;

	while ((p = strstr(p, "://")) != NULL) {
		p += 3;
		q = p + strcspn(p, "@/ '\"");
		if (*q != '@' || q == p) {
			p = q;
			continue;
		}
		len = strlen(line);
		skip = (size_t)(q - p);
		off = (size_t)(p - line);
		if (off + sizeof(mask) > cap) {
			*p = '\0';             /* not even the mask fits */
			return;
		}
		if (len - skip + sizeof(mask) - 1 >= cap) {
			memcpy(p, mask, sizeof(mask));  /* the rest goes */
			return;
		}
		memmove(p + sizeof(mask) - 1, q, len - off - skip + 1);
		memcpy(p, mask, sizeof(mask) - 1);
		p += sizeof(mask) - 1;
	}
}

/* Verbose curl output at debug level, one log line per line, and any line
 * that mentions the Authorization header replaced: the token never reaches
 * a log. (Over HTTP/2 curl also echoes the request headers as text lines,
 * "[authorization: Bearer ...]", hence the search anywhere in the line;
 * it also catches a proxy's Proxy-Authorization.) URLs lose their
 * userinfo. */
static void
debug_lines(const char *prefix, const char *data, size_t size)
{
	const char *p = data, *end = data + size, *nl;
	char line[2048];
	size_t n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		redact_userinfo(line, sizeof(line));
		if (strcasestr(line, "authorization") != NULL)
			log_debug("%s Authorization: [redacted]", prefix);
		else if (n > 0)
			log_debug("%s %s", prefix, line);
		p = nl ? nl + 1 : end;
	}
}

static int
on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *userp)
{
	(void)e;
	(void)userp;
	switch (type) {
	case CURLINFO_TEXT:
		debug_lines("*", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		debug_lines(">", data, size);
		break;
	case CURLINFO_HEADER_IN:
		debug_lines("<", data, size);
		break;
	case CURLINFO_DATA_IN:
		log_debug("< [%zu bytes of body]", size);
		break;
	case CURLINFO_DATA_OUT:
		log_debug("> [%zu bytes of body]", size);
		break;
	default:
		break;
	}
	return 0;
}

static int
setup_easy(struct http_client *h, struct http_request *r, const char *method,
    const char *url)
{
	CURL *e = r->easy;
	CURLcode cc = CURLE_OK;

#define SET(opt, val) do { if (cc == CURLE_OK) cc = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PRIVATE, r);
	SET(CURLOPT_ERRORBUFFER, r->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* Verification stays on; an extra CA bundle only adds trust anchors. */
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL)
		SET(CURLOPT_CAINFO, h->ca_file);
	/* HTTP/2 where TLS negotiates it (ALPN), HTTP/1.1 otherwise. */
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Proxies: curl's defaults, from the environment (https_proxy,
	 * HTTPS_PROXY, all_proxy, no_proxy, NO_PROXY). An https URL goes
	 * through an HTTP proxy in a CONNECT tunnel, so the proxy sees the
	 * host name and TLS, never the token; the headers we add are for the
	 * server only (never in the CONNECT request). Plain http is allowed
	 * only to a loopback host (api.c), which no proxy stands between:
	 * never through one, where the token would travel in clear. */
	SET(CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
	if (strncasecmp(url, "http:", 5) == 0)
		SET(CURLOPT_PROXY, "");
	/* Wait for a connection that may multiplex rather than open another
	 * one; only TLS connections negotiate HTTP/2. */
	if (strncasecmp(url, "https:", 6) == 0)
		SET(CURLOPT_PIPEWAIT, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, h->request_timeout_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body);
	SET(CURLOPT_WRITEFUNCTION, on_write);
	SET(CURLOPT_WRITEDATA, r);
	if (h->user_agent != NULL)
		SET(CURLOPT_USERAGENT, h->user_agent);
	if (log_get_level() >= LOG_LVL_DEBUG) {
		SET(CURLOPT_DEBUGFUNCTION, on_debug);
		SET(CURLOPT_VERBOSE, 1L);
	}

	if (strcmp(method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		SET(CURLOPT_POST, 1L);
		if (strcmp(method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, method);
		if (r->payload_len > 0) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->payload_len);
			SET(CURLOPT_READFUNCTION, on_read);
			SET(CURLOPT_READDATA, r);
			SET(CURLOPT_SEEKFUNCTION, on_seek);
			SET(CURLOPT_SEEKDATA, r);
		} else {
			SET(CURLOPT_POSTFIELDSIZE, 0L);
			SET(CURLOPT_POSTFIELDS, "");
			/* No body to hold back: a server could act on the
			 * request line alone, so a request sent at most once
			 * takes a connection of its own, which curl never
			 * resends on (its retry needs a reused connection). */
			if (r->once)
				SET(CURLOPT_FRESH_CONNECT, 1L);
		}
	}
	SET(CURLOPT_HTTPHEADER, r->headers);
#undef SET
	return cc == CURLE_OK ? 0 : -EINVAL;
}

static int
build_headers(struct http_client *h, struct http_request *r, bool json_body)
{
	struct curl_slist *l = NULL, *t;
	const char *fixed[] = {
		"Accept: application/json",
		"Expect:",      /* no 100-continue round trip */
		json_body ? "Content-Type: application/json" : NULL,
	};

	for (size_t i = 0; i < h->n_headers; i++) {
		if ((t = curl_slist_append(l, h->headers[i])) == NULL)
			goto fail;
		l = t;
	}
	for (size_t i = 0; i < CP_NELEM(fixed); i++) {
		if (fixed[i] == NULL)
			continue;
		if ((t = curl_slist_append(l, fixed[i])) == NULL)
			goto fail;
		l = t;
	}
	r->headers = l;
	return 0;
fail:
	curl_slist_free_all(l);
	return -ENOMEM;
}

/* Adds to the multi handle; 0 or -EIO. */
static int
add_running(struct http_client *h, struct http_request *r)
{
	CURLMcode mc;

	/* Replaced after a failure (fail_running); opened again here. */
	if (h->multi == NULL && (h->multi = multi_open(h)) == NULL) {
		log_warnx("http: could not open a curl multi handle");
		return -EIO;
	}
	mc = curl_multi_add_handle(h->multi, r->easy);

	if (mc != CURLM_OK) {
		log_warnx("http: curl_multi_add_handle: %s", curl_multi_strerror(mc));
		return -EIO;
	}
	r->where = REQ_RUNNING;
	TAILQ_INSERT_TAIL(&h->running, r, link);
	h->in_flight++;
	return 0;
}

/* Puts a request (out of every list) on `failed`, reported from the defer
 * timer with `fail` and `why`, so no callback runs inside the caller. */
static void
fail_later(struct http_request *r, enum http_fail fail, const char *why)
{
	struct http_client *h = r->h;

	r->where = REQ_FAILED;
	r->fail = fail;
	snprintf(r->errbuf, sizeof(r->errbuf), "%s", why);
	TAILQ_INSERT_TAIL(&h->failed, r, link);
	uv_timer_start(&h->defer, on_defer, 0, 0);
}

/* Starts queued requests while there is room. A request that cannot be
 * added was never sent. */
static void
pump(struct http_client *h)
{
	struct http_request *r;

	while (!h->closing && !h->broken && h->in_flight < h->concurrency &&
	    (r = TAILQ_FIRST(&h->queue)) != NULL) {
		TAILQ_REMOVE(&h->queue, r, link);
		if (add_running(h, r) != 0)
			fail_later(r, HTTP_OTHER, "could not start the transfer");
	}
}

int
http_request_start(struct http_client *h, const char *method, const char *url,
    const char *body, bool once, http_done_cb cb, void *arg,
    struct http_request **out)
{
	struct http_request *r;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (h->closing)
		return -ESHUTDOWN;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -ENOMEM;
	r->h = h;
	r->cb = cb;
	r->arg = arg;
	r->once = once;
	buf_init(&r->body, h->max_body);
	if (body != NULL && body[0] != '\0') {
		r->payload_len = strlen(body);
		if ((r->payload = strdup(body)) == NULL) {
			free(r);
			return -ENOMEM;
		}
	}
	if ((r->easy = curl_easy_init()) == NULL) {
		free(r->payload);
		free(r);
		return -ENOMEM;
	}
	if ((rc = build_headers(h, r, body != NULL)) != 0 ||
	    (rc = setup_easy(h, r, method, url)) != 0) {
		request_free(r);
		return rc;
	}
	if (!h->broken && h->in_flight < h->concurrency &&
	    TAILQ_EMPTY(&h->queue)) {
		if ((rc = add_running(h, r)) != 0) {
			request_free(r);
			return rc;
		}
	} else {
		r->where = REQ_QUEUED;
		TAILQ_INSERT_TAIL(&h->queue, r, link);
	}
	if (out != NULL)
		*out = r;
	return 0;
}

/* Takes the request out of whatever list holds it. */
static void
detach(struct http_request *r)
{
	struct http_client *h = r->h;

	switch (r->where) {
	case REQ_RUNNING:
		TAILQ_REMOVE(&h->running, r, link);
		curl_multi_remove_handle(h->multi, r->easy);
		h->in_flight--;
		break;
	case REQ_QUEUED:
		TAILQ_REMOVE(&h->queue, r, link);
		break;
	case REQ_FAILED:
		TAILQ_REMOVE(&h->failed, r, link);
		break;
	}
}

void
http_request_cancel(struct http_request *r)
{
	struct http_client *h;

	if (r == NULL)
		return;
	h = r->h;
	detach(r);
	request_free(r);
	pump(h);
}

static enum http_fail
classify(CURLcode res, bool too_large, curl_off_t pretransfer_us)
{
	switch (res) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTP_TOO_LARGE;
	case CURLE_WRITE_ERROR:
		return too_large ? HTTP_TOO_LARGE : HTTP_OTHER;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
		return HTTP_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		/* No pre-transfer time: still connecting, nothing was sent. */
		return pretransfer_us == 0 ? HTTP_CONNECT : HTTP_TIMEOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return HTTP_TLS;
	case CURLE_SEND_FAIL_REWIND:
		/* curl wanted to send the body again after the connection died
		 * (on_seek refused): the first sending may have arrived. */
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		return HTTP_TRANSPORT;
	default:
		return HTTP_OTHER;
	}
}

const char *
http_response_header(const struct http_response *resp, const char *name)
{
	struct curl_header *hd;
	CURL *e;

	if (resp->req == NULL)
		return NULL;
	e = resp->req->easy;
	if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return NULL;
	if (hd->amount > 1 && curl_easy_header(e, name, hd->amount - 1,
	    CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return NULL;
	return hd->value;
}

static void
finish(struct http_request *r, CURLcode res)
{
	struct http_client *h = r->h;
	struct http_response resp;
	curl_off_t total_us = 0, pre_us = 0;
	const char *v;
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME_T, &total_us);
	curl_easy_getinfo(r->easy, CURLINFO_PRETRANSFER_TIME_T, &pre_us);
	detach(r);

	memset(&resp, 0, sizeof(resp));
	resp.req = r;
	resp.fail = classify(res, r->too_large, pre_us);
	if (resp.fail == HTTP_OK && status == 0)
		resp.fail = HTTP_TRANSPORT;
	/* A failure to connect after curl took body bytes is a failure of
	 * its own retry on a new connection (transfer.c, Curl_retry_request):
	 * the first sending may have arrived. */
	if (r->payload_read && (resp.fail == HTTP_CONNECT || resp.fail == HTTP_TLS))
		resp.fail = HTTP_TRANSPORT;
	resp.status = status;
	resp.body = r->body.data ? r->body.data : "";
	resp.len = r->body.len;
	resp.seconds = (double)total_us / 1e6;
	resp.retry_after_s = -1;
	if ((v = http_response_header(&resp, "Retry-After")) != NULL)
		resp.retry_after_s = parse_retry_after(v);
	if (resp.fail == HTTP_TOO_LARGE)
		resp.error = "response body too large";
	else if (resp.fail != HTTP_OK)
		resp.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(res);

	r->cb(r->arg, &resp);
	request_free(r);
	pump(h);
}

/* Drain after every action, even with nothing left running: the last
 * transfer to fail is otherwise never reported. */
static void
drain(struct http_client *h)
{
	struct http_request *r;
	CURLMsg *msg;
	char *priv;
	int left;

	while (h->multi != NULL &&
	    (msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		if ((r = (struct http_request *)priv) != NULL)
			finish(r, msg->data.result);
	}
}

/* Closes every poll left (their sockets are curl's, closed or about to
 * be); each struct is freed in its close callback. */
static void
close_polls(struct http_client *h)
{
	while (!LIST_EMPTY(&h->socks))
		sock_close(LIST_FIRST(&h->socks));
}

/*
 * curl_multi_socket_action failed: after a socket callback that failed
 * curl has marked the multi handle dead (every transfer in it fails when
 * next run, and a transfer waiting on a socket may never run again); out
 * of memory leaves no better hope. What finished is reported first; every
 * transfer still running is then removed and failed from the defer timer
 * (it may have been sent: HTTP_TRANSPORT, ambiguous for a create). The
 * multi handle itself is not used again: after a failed socket callback
 * curl 7.88 keeps the transfer in its table of that socket even once it is
 * removed (valgrind saw the next action on a socket of the same number
 * read the freed handle). It is cleaned up with its connections, and the
 * next transfer opens a new one (add_running); then the queue restarts.
 */
static void
fail_running(struct http_client *h, CURLMcode mc)
{
	struct http_request *r;
	char why[CURL_ERROR_SIZE];
	CURLM *old;

	snprintf(why, sizeof(why), "curl_multi_socket_action: %s",
	    curl_multi_strerror(mc));
	log_warnx("http: %s; failing the %u transfer(s) in flight", why,
	    h->in_flight);
	h->broken = true;
	drain(h);
	while ((r = TAILQ_FIRST(&h->running)) != NULL) {
		/* detach() unlinks r from `running` (where == REQ_RUNNING). */
		detach(r);
		fail_later(r, HTTP_TRANSPORT, why);
	}
	if (!h->closing && h->multi != NULL) {
		old = h->multi;
		h->multi = NULL;        /* on_curl_socket: no assign into it */
		curl_multi_cleanup(old);        /* may call on_curl_socket */
		close_polls(h);
		uv_timer_stop(&h->timer);
	}
	h->broken = false;
	pump(h);
}

static void
socket_action(struct http_client *h, curl_socket_t fd, int flags)
{
	CURLMcode mc;
	int running;

	if (h->multi == NULL)
		return;
	mc = curl_multi_socket_action(h->multi, fd, flags, &running);
	if (mc != CURLM_OK) {
		fail_running(h, mc);
		return;
	}
	drain(h);
}

/* ---- libuv side ----------------------------------------------------- */

static void
handle_closed(struct http_client *h)
{
	void (*closed)(void *);
	void *arg;

	if (--h->open_handles > 0)
		return;
	closed = h->closed;
	arg = h->closed_arg;
	config_free(h);
	free(h);
	curl_global_cleanup();
	if (closed != NULL)
		closed(arg);
}

static void
on_sock_closed(uv_handle_t *p)
{
	struct sock *s = p->data;
	struct http_client *h = s->h;

	free(s);
	handle_closed(h);
}

static void
sock_close(struct sock *s)
{
	if (s->closing)
		return;
	s->closing = true;
	LIST_REMOVE(s, link);
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *s = p->data;
	int flags = 0;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	/* s may be closed during the action; its memory lives until the
	 * close callback, which runs later. */
	socket_action(s->h, s->fd, flags);
}

static int
on_curl_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *h = userp;
	struct sock *s = socketp;
	int events = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			/* curl drops its entry for fd after this callback:
			 * a failed assign here leaves nothing behind. */
			if (h->multi != NULL && !h->closing)
				(void)curl_multi_assign(h->multi, fd, NULL);
			sock_close(s);
		}
		return 0;
	}
	/* A -1 below makes curl mark the multi handle dead and
	 * curl_multi_socket_action fail: fail_running then ends every
	 * transfer in flight. */
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		if (uv_poll_init_socket(h->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->fd = fd;
		s->h = h;
		h->open_handles++;
		LIST_INSERT_HEAD(&h->socks, s, link);
		if (curl_multi_assign(h->multi, fd, s) != CURLM_OK) {
			/* curl would never hand this poll back: close it now. */
			log_warnx("http: curl_multi_assign failed for a new socket");
			sock_close(s);
			return -1;
		}
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	if (uv_poll_start(&s->poll, events, on_poll) != 0)
		return -1;
	return 0;
}

static void
on_timer(uv_timer_t *t)
{
	struct http_client *h = t->data;

	socket_action(h, CURL_SOCKET_TIMEOUT, 0);
}

static int
on_curl_timer(CURLM *m, long ms, void *userp)
{
	struct http_client *h = userp;

	(void)m;
	if (h->closing)
		return 0;
	if (ms < 0)
		uv_timer_stop(&h->timer);
	else
		uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
	return 0;
}

static void
on_timer_closed(uv_handle_t *t)
{
	handle_closed(t->data);
}

/* Runs from the loop: failed starts, then the deferred teardown. */
static void
on_defer(uv_timer_t *t)
{
	struct http_client *h = t->data;
	struct http_request *r;
	struct http_response resp;

	while (!h->closing && (r = TAILQ_FIRST(&h->failed)) != NULL) {
		/* A request is on `failed` only with where == REQ_FAILED, so
		 * detach() unlinks it and TAILQ_FIRST never returns it again;
		 * the analyzer loses that link and reports a use after free. */
		detach(r);	/* NOLINT(clang-analyzer-unix.Malloc) */
		memset(&resp, 0, sizeof(resp));
		resp.fail = r->fail;
		resp.body = "";
		resp.retry_after_s = -1;
		resp.error = r->errbuf;
		r->cb(r->arg, &resp);
		request_free(r);
	}
	if (!h->closing || h->torn_down)
		return;
	h->torn_down = true;
	if (h->multi != NULL) {
		curl_multi_cleanup(h->multi);   /* may call on_curl_socket */
		h->multi = NULL;
	}
	close_polls(h);
	uv_close((uv_handle_t *)&h->timer, on_timer_closed);
	uv_close((uv_handle_t *)&h->defer, on_timer_closed);
}

/* ---- client ----------------------------------------------------------- */

/*
 * A multi handle set up for h. Connections: HTTP/2 multiplexes every
 * transfer on one (PIPEWAIT on each https transfer makes the first ones
 * wait for it rather than open more); HTTP/1.1 needs one per transfer in
 * flight, so never more than `concurrency` to the host, and room in the
 * cache for all of them, so that keep-alive connections are reused, not
 * closed. Creates share them too (on_seek says why that is safe).
 */
static CURLM *
multi_open(struct http_client *h)
{
	long maxconn = (long)(h->concurrency < 4 ? 4 : h->concurrency);
	CURLM *m;

	if ((m = curl_multi_init()) == NULL)
		return NULL;
	if (curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_curl_socket) ||
	    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, h) ||
	    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_curl_timer) ||
	    curl_multi_setopt(m, CURLMOPT_TIMERDATA, h) ||
	    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) ||
	    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)h->concurrency) ||
	    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, maxconn)) {
		curl_multi_cleanup(m);
		return NULL;
	}
	return m;
}

int
http_client_new(uv_loop_t *loop, const struct http_config *cfg,
    struct http_client **out)
{
	struct http_client *h;

	*out = NULL;
	if (cfg->concurrency == 0)
		return -EINVAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		goto nomem;
	h->loop = loop;
	TAILQ_INIT(&h->queue);
	TAILQ_INIT(&h->running);
	TAILQ_INIT(&h->failed);
	LIST_INIT(&h->socks);
	h->concurrency = cfg->concurrency;
	h->request_timeout_ms = (long)cfg->request_timeout_ms;
	h->connect_timeout_ms = cfg->connect_timeout_ms ?
	    (long)cfg->connect_timeout_ms : 10000L;
	h->max_body = cfg->max_body ? cfg->max_body : HTTP_MAX_BODY_DEFAULT;
	if ((cfg->ca_file && (h->ca_file = strdup(cfg->ca_file)) == NULL) ||
	    (cfg->user_agent &&
	    (h->user_agent = strdup(cfg->user_agent)) == NULL))
		goto nomem;
	if (cfg->n_headers > 0) {
		if ((h->headers = calloc(cfg->n_headers, sizeof(char *))) == NULL)
			goto nomem;
		for (size_t i = 0; i < cfg->n_headers; i++) {
			if ((h->headers[i] = strdup(cfg->headers[i])) == NULL)
				goto nomem;
			h->n_headers = i + 1;
		}
	}
	if ((h->multi = multi_open(h)) == NULL)
		goto nomem;
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	uv_timer_init(loop, &h->defer);
	h->defer.data = h;
	h->open_handles = 2;
	*out = h;
	return 0;
nomem:
	if (h != NULL) {
		config_free(h);
		free(h);
	}
	curl_global_cleanup();
	return -ENOMEM;
}

void
http_client_close(struct http_client *h, void (*closed)(void *arg), void *arg)
{
	struct http_request *r;

	if (h == NULL || h->closing)
		return;
	h->closing = true;
	h->closed = closed;
	h->closed_arg = arg;
	/* Removing easy handles is allowed here, even from a callback run by
	 * drain(); curl_multi_cleanup is not, hence the defer timer. */
	while ((r = TAILQ_FIRST(&h->running)) != NULL ||
	    (r = TAILQ_FIRST(&h->queue)) != NULL ||
	    (r = TAILQ_FIRST(&h->failed)) != NULL) {
		/* Each list holds only requests whose `where` names it, so
		 * detach() unlinks r before it is freed (the analyzer does not
		 * know this and reports a use after free). */
		detach(r);	/* NOLINT(clang-analyzer-unix.Malloc) */
		request_free(r);
	}
	uv_timer_stop(&h->timer);
	uv_timer_start(&h->defer, on_defer, 0, 0);
}
