/* test_api_client.c: the API client against a tiny scripted HTTP server on
 * the test's own loop (answers the simulator cannot give: looping cursors,
 * HTTP-date Retry-After, bodies without Content-Length, HTML errors, TLS),
 * plus the checks that need no server (URLs, error text). */
#include "test_api_common.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

/* ---- failures of the loop's side, on demand ---------------------------------
 * The test links with --wrap=uv_poll_start,--wrap=curl_multi_assign
 * (tests/CMakeLists.txt): http.c's calls come here, and fail while the
 * counters say so. */

static int fail_poll_starts;
static int fail_assigns;

int __real_uv_poll_start(uv_poll_t *h, int events, uv_poll_cb cb);
CURLMcode __real_curl_multi_assign(CURLM *m, curl_socket_t fd, void *p);

int
__wrap_uv_poll_start(uv_poll_t *h, int events, uv_poll_cb cb)
{
	if (fail_poll_starts > 0) {
		fail_poll_starts--;
		return UV_ENOMEM;
	}
	return __real_uv_poll_start(h, events, cb);
}

CURLMcode
__wrap_curl_multi_assign(CURLM *m, curl_socket_t fd, void *p)
{
	if (p != NULL && fail_assigns > 0) {
		fail_assigns--;
		return CURLM_BAD_SOCKET;
	}
	return __real_curl_multi_assign(m, fd, p);
}

/* ---- the scripted server ------------------------------------------------ */

struct fake;
typedef void (*fake_handler)(struct fake *f, const char *method,
    const char *target, char **out, size_t *outlen);

/* What the server does instead of answering a request (f->kill). */
enum fake_kill { KILL_NONE, KILL_FIN, KILL_RST };

struct fconn {
	uv_tcp_t tcp;
	struct fake *f;
	struct fconn *next;
	int id;                 /* 1, 2, ... in accept order */
	char in[16384];
	size_t len;
	bool answered;          /* raw mode: one answer per connection */
	bool closing;
};

/* One answer on its way out. */
struct fwrite {
	uv_write_t w;
	uv_buf_t b;
	char *out;
	struct fconn *fc;
	bool close_after;
};

struct fake {
	uv_tcp_t server;
	uv_loop_t *loop;
	int port;
	char url[80];
	fake_handler handler;
	bool raw;               /* answer the first bytes at once (not HTTP) */
	bool keepalive;         /* keep connections open between answers */
	int requests;
	int accepted;           /* connections */
	char targets[32][512];  /* first 32 request targets */
	char bodies[32][256];   /* and their bodies */
	int conn_of[32];        /* and the connection each came on */
	char auth[256];         /* last Authorization header */
	char agent[128];        /* last User-Agent */
	char client[128];       /* last Convex-Client */
	/* Requests whose target holds kill_match get no answer: their
	 * connection is closed (FIN) or reset (RST) once the whole request,
	 * body included, has arrived; at most kill_left times. */
	const char *kill_match;
	enum fake_kill kill;
	int kill_left;
	bool kill_listener;     /* and stop listening: no new connection */
	bool listener_closed;
	struct fconn *conns;
	void *data;
};

/* Builds a whole HTTP answer. */
static void
answer(char **out, size_t *outlen, int status, const char *headers,
    const char *body, bool content_length)
{
	size_t blen = body ? strlen(body) : 0, cap = blen + 1024;
	int n;

	*out = malloc(cap);
	n = snprintf(*out, cap, "HTTP/1.1 %d X\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\n", status);
	if (content_length)
		n += snprintf(*out + n, cap - (size_t)n, "Content-Length: %zu\r\n",
		    blen);
	n += snprintf(*out + n, cap - (size_t)n, "%s\r\n", headers ? headers : "");
	memcpy(*out + n, body ? body : "", blen);
	*outlen = (size_t)n + blen;
}

/* For a keep-alive server: the same answer without "Connection: close". */
static void
keep_alive(char *out, size_t *outlen)
{
	static const char line[] = "Connection: close\r\n";
	char *p = strstr(out, line);

	if (p == NULL)
		return;
	memmove(p, p + sizeof(line) - 1, *outlen - (size_t)(p - out) -
	    (sizeof(line) - 1));
	*outlen -= sizeof(line) - 1;
}

static void
fconn_closed(uv_handle_t *h)
{
	struct fconn *fc = h->data;
	struct fconn **pp;

	for (pp = &fc->f->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == fc) {
			*pp = fc->next;
			break;
		}
	}
	free(fc);
}

static void
fconn_close(struct fconn *fc)
{
	if (fc->closing)
		return;
	fc->closing = true;
	uv_close((uv_handle_t *)&fc->tcp, fconn_closed);
}

/* Closes with RST instead of FIN (SO_LINGER 0). */
static void
fconn_reset(struct fconn *fc)
{
	uv_os_fd_t fd;
	struct linger lg = { 1, 0 };

	if (uv_fileno((uv_handle_t *)&fc->tcp, &fd) == 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	fconn_close(fc);
}

static void
on_written(uv_write_t *w, int status)
{
	struct fwrite *fw = w->data;

	(void)status;
	if (fw->close_after)
		fconn_close(fw->fc);
	free(fw->out);
	free(fw);
}

/* Sends out (taking it) and closes after it unless the server keeps
 * connections alive. */
static void
fconn_send(struct fconn *fc, char *out, size_t outlen, bool close_after)
{
	struct fwrite *fw = calloc(1, sizeof(*fw));

	fw->out = out;
	fw->fc = fc;
	fw->close_after = close_after;
	fw->b = uv_buf_init(out, (unsigned)outlen);
	fw->w.data = fw;
	if (uv_write(&fw->w, (uv_stream_t *)&fc->tcp, &fw->b, 1, on_written) != 0) {
		free(out);
		free(fw);
		fconn_close(fc);
	}
}

static void
on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
	struct fconn *fc = h->data;

	(void)size;
	b->base = fc->in + fc->len;
	b->len = sizeof(fc->in) - fc->len - 1;
}

static void
copy_header(const char *req, const char *name, char *out, size_t n)
{
	const char *p = strcasestr(req, name), *e;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(name);
	while (*p == ' ')
		p++;
	e = strstr(p, "\r\n");
	snprintf(out, n, "%.*s", e ? (int)(e - p) : (int)strlen(p), p);
}

/* Handles every whole request in fc->in (headers and Content-Length bytes
 * of body); false when the connection was closed. */
static bool
serve(struct fconn *fc)
{
	struct fake *f = fc->f;
	char method[16], target[512], cl[32], *end, *out = NULL;
	size_t outlen = 0, head, blen, whole;
	int k;

	while ((end = strstr(fc->in, "\r\n\r\n")) != NULL) {
		head = (size_t)(end - fc->in) + 4;
		*end = '\0';
		copy_header(fc->in, "\r\nContent-Length:", cl, sizeof(cl));
		*end = '\r';
		blen = cl[0] ? (size_t)strtoul(cl, NULL, 10) : 0;
		whole = head + blen;
		if (fc->len < whole)
			return true;    /* the body is still coming */
		if (sscanf(fc->in, "%15s %511s", method, target) != 2) {
			fconn_close(fc);
			return false;
		}
		k = f->requests++;
		if (k < 32) {
			snprintf(f->targets[k], sizeof(f->targets[0]), "%s", target);
			snprintf(f->bodies[k], sizeof(f->bodies[0]), "%.*s",
			    (int)blen, fc->in + head);
			f->conn_of[k] = fc->id;
		}
		*end = '\0';
		copy_header(fc->in, "\r\nAuthorization:", f->auth, sizeof(f->auth));
		copy_header(fc->in, "\r\nUser-Agent:", f->agent, sizeof(f->agent));
		copy_header(fc->in, "\r\nConvex-Client:", f->client, sizeof(f->client));
		*end = '\r';
		memmove(fc->in, fc->in + whole, fc->len - whole);
		fc->len -= whole;
		fc->in[fc->len] = '\0';
		if (f->kill != KILL_NONE && f->kill_left > 0 &&
		    f->kill_match != NULL && strstr(target, f->kill_match) != NULL) {
			f->kill_left--;
			if (f->kill_listener && !f->listener_closed) {
				f->listener_closed = true;
				uv_close((uv_handle_t *)&f->server, NULL);
			}
			if (f->kill == KILL_RST)
				fconn_reset(fc);
			else
				fconn_close(fc);
			return false;
		}
		f->handler(f, method, target, &out, &outlen);
		if (f->keepalive)
			keep_alive(out, &outlen);
		fconn_send(fc, out, outlen, !f->keepalive);
		if (!f->keepalive)
			return false;
	}
	return true;
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct fconn *fc = s->data;
	struct fake *f = fc->f;

	(void)b;
	if (nread < 0) {
		fconn_close(fc);
		return;
	}
	if (fc->closing || fc->answered)
		return;
	fc->len += (size_t)nread;
	fc->in[fc->len] = '\0';
	if (f->raw) {
		/* Not HTTP at all: answers a TLS hello with plain text. */
		fc->answered = true;
		fconn_send(fc, strdup("HTTP/1.1 400 Bad\r\n\r\n"),
		    strlen("HTTP/1.1 400 Bad\r\n\r\n"), true);
		return;
	}
	if (!serve(fc))
		uv_read_stop(s);
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct fake *f = server->data;
	struct fconn *fc;

	assert_int_equal(status, 0);
	fc = calloc(1, sizeof(*fc));
	fc->f = f;
	fc->id = ++f->accepted;
	uv_tcp_init(f->loop, &fc->tcp);
	fc->tcp.data = fc;
	fc->next = f->conns;
	f->conns = fc;
	assert_int_equal(uv_accept(server, (uv_stream_t *)&fc->tcp), 0);
	uv_read_start((uv_stream_t *)&fc->tcp, on_alloc, on_read);
}

static void
fake_start(struct fake *f, uv_loop_t *loop, fake_handler h, const char *scheme)
{
	struct sockaddr_in a;
	int alen = sizeof(a);

	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->handler = h;
	uv_ip4_addr("127.0.0.1", 0, &a);
	assert_int_equal(uv_tcp_init(loop, &f->server), 0);
	f->server.data = f;
	assert_int_equal(uv_tcp_bind(&f->server, (struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&f->server, 64, on_connection), 0);
	assert_int_equal(uv_tcp_getsockname(&f->server, (struct sockaddr *)&a,
	    &alen), 0);
	f->port = ntohs(a.sin_port);
	snprintf(f->url, sizeof(f->url), "%s://127.0.0.1:%d/v1", scheme, f->port);
}

static void
fake_stop(struct fake *f)
{
	for (struct fconn *fc = f->conns; fc != NULL; fc = fc->next)
		fconn_close(fc);
	if (!f->listener_closed)
		uv_close((uv_handle_t *)&f->server, NULL);
}

/* One client and one server on a fresh loop. */
struct rig {
	uv_loop_t loop;
	struct fake fake;
	struct api_config cfg;
	struct api_client *c;
	int requests;
	double at_ms[16];       /* on_request times */
	int status[16];
};

static void
rig_on_request(void *arg, const char *route, int status, double seconds)
{
	struct rig *r = arg;

	(void)route;
	(void)seconds;
	if (r->requests < 16) {
		r->at_ms[r->requests] = (double)uv_hrtime() / 1e6;
		r->status[r->requests] = status;
	}
	r->requests++;
}

static struct rig *
rig_start(fake_handler h, const char *scheme)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_int_equal(uv_loop_init(&r->loop), 0);
	fake_start(&r->fake, &r->loop, h, scheme);
	test_config(&r->cfg, r->fake.url, "tok-SECRET-123");
	r->cfg.on_request = rig_on_request;
	r->cfg.on_request_arg = r;
	return r;
}

static void
rig_client(struct rig *r)
{
	struct api_error err;

	assert_int_equal(api_client_new(&r->loop, &r->cfg, &r->c, &err), 0);
}

static void
rig_stop(struct rig *r)
{
	int closed = 0;

	api_client_close(r->c, on_client_closed, &closed);
	fake_stop(&r->fake);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	assert_int_equal(closed, 1);
	assert_int_equal(uv_loop_close(&r->loop), 0);
	free(r);
}

static const char *
project_json(int id, char *buf, size_t n)
{
	snprintf(buf, n, "{\"id\":%d,\"name\":\"p%d\",\"slug\":\"p%d\","
	    "\"teamId\":1,\"teamSlug\":\"t\",\"createTime\":1}", id, id, id);
	return buf;
}

/* ---- pagination guards ---------------------------------------------------- */

/* Cursors hold characters that must be escaped; the third page sends the
 * first cursor again. */
static void
h_looping(struct fake *f, const char *method, const char *target, char **out,
    size_t *outlen)
{
	char body[512], p[200];
	const char *next;
	int id;

	(void)f;
	(void)method;
	if (strstr(target, "cursor=") == NULL) {
		id = 1;
		next = "a+b/=";
	} else if (strstr(target, "cursor=a%2Bb%2F%3D") != NULL) {
		id = 2;
		next = "c d";
	} else {
		id = 3;
		next = "a+b/=";
	}
	snprintf(body, sizeof(body), "{\"items\":[%s],\"pagination\":"
	    "{\"hasMore\":true,\"nextCursor\":\"%s\"}}",
	    project_json(id, p, sizeof(p)), next);
	answer(out, outlen, 200, NULL, body, true);
}

static void
test_cursor_loop(void **state)
{
	struct rig *r = rig_start(h_looping, "http");
	struct res p = { 0 };
	(void)state;

	rig_client(r);
	assert_int_equal(api_list_projects(r->c, 1, res_projects, &p), 0);
	run_until(&r->loop, &p.calls, 1, 30000);
	assert_int_equal(p.rc, -ELOOP);
	assert_string_equal(p.err.code, "PaginationLoop");
	assert_null(p.projects);        /* never a partial result */
	assert_int_equal(p.n, 0);
	assert_int_equal(r->fake.requests, 3);
	assert_string_equal(r->fake.targets[0], "/v1/teams/1/projects?limit=100");
	assert_string_equal(r->fake.targets[1],
	    "/v1/teams/1/projects?limit=100&cursor=a%2Bb%2F%3D");
	assert_string_equal(r->fake.targets[2],
	    "/v1/teams/1/projects?limit=100&cursor=c%20d");
	rig_stop(r);
}

static void
h_more_without_cursor(struct fake *f, const char *method, const char *target,
    char **out, size_t *outlen)
{
	(void)f;
	(void)method;
	(void)target;
	answer(out, outlen, 200, NULL, "{\"items\":[],\"pagination\":"
	    "{\"hasMore\":true,\"nextCursor\":null}}", true);
}

static void
test_more_without_cursor(void **state)
{
	struct rig *r = rig_start(h_more_without_cursor, "http");
	struct res d = { 0 };
	(void)state;

	rig_client(r);
	assert_int_equal(api_list_team_deployments(r->c, 1, res_deployments, &d), 0);
	run_until(&r->loop, &d.calls, 1, 30000);
	assert_int_equal(d.rc, -EBADMSG);
	assert_string_equal(d.err.code, "DecodeError");
	assert_non_null(strstr(d.err.message, "nextCursor"));
	assert_int_equal(r->fake.requests, 1);
	rig_stop(r);
}

/* ---- hostile listings (issue 18, classes 7 and 8) ------------------------ */

/* f->data selects the variant: "same" repeats project 2 identically on
 * page 2, "differ" repeats it with another name. */
static void
h_repeats(struct fake *f, const char *method, const char *target, char **out,
    size_t *outlen)
{
	char body[1024], a[200], b[200];

	(void)method;
	if (strstr(target, "cursor=") == NULL) {
		snprintf(body, sizeof(body), "{\"items\":[%s,%s],\"pagination\":"
		    "{\"hasMore\":true,\"nextCursor\":\"p2\"}}",
		    project_json(1, a, sizeof(a)), project_json(2, b, sizeof(b)));
	} else if (strcmp(f->data, "same") == 0) {
		snprintf(body, sizeof(body), "{\"items\":[%s,%s],\"pagination\":"
		    "{\"hasMore\":false}}", project_json(2, a, sizeof(a)),
		    project_json(3, b, sizeof(b)));
	} else {
		snprintf(body, sizeof(body), "{\"items\":[{\"id\":2,\"name\":"
		    "\"renamed\",\"slug\":\"p2\",\"createTime\":1},%s],"
		    "\"pagination\":{\"hasMore\":false}}",
		    project_json(3, b, sizeof(b)));
	}
	answer(out, outlen, 200, NULL, body, true);
}

static void
test_repeated_items(void **state)
{
	struct rig *r = rig_start(h_repeats, "http");
	struct res p = { 0 }, q = { 0 };
	struct capture cap;
	char *log;
	(void)state;

	r->fake.data = (void *)"same";
	rig_client(r);
	capture_start(&cap);
	assert_int_equal(api_list_projects(r->c, 1, res_projects, &p), 0);
	run_until(&r->loop, &p.calls, 1, 30000);
	log = capture_end(&cap);
	assert_int_equal(p.rc, 0);
	assert_int_equal(p.n, 3);               /* 1, 2, 3: 2 counted once */
	assert_int_equal(p.projects[0].id, 1);
	assert_int_equal(p.projects[1].id, 2);
	assert_int_equal(p.projects[2].id, 3);
	assert_non_null(strstr(log, "listed 1 projects twice"));
	free(log);

	/* The same id with other fields: which is true? Refused. */
	r->fake.data = (void *)"differ";
	assert_int_equal(api_list_projects(r->c, 1, res_projects, &q), 0);
	run_until(&r->loop, &q.calls, 1, 30000);
	assert_int_equal(q.rc, -EBADMSG);
	assert_string_equal(q.err.code, "InconsistentListing");
	assert_non_null(strstr(q.err.message, "project 2 is listed twice"));
	assert_null(q.projects);
	res_free(&p);
	res_free(&q);
	rig_stop(r);
}

#define TDEP(id, name) "{\"kind\":\"cloud\",\"id\":" #id ",\"name\":\"" name \
    "\",\"projectId\":9,\"deploymentType\":\"dev\",\"reference\":\"r" #id \
    "\",\"region\":\"aws-us-east-1\",\"class\":\"s16\",\"isDefault\":false}"

/* Deployments: a repeat is dropped; one name under two ids is refused. */
static void
h_dep_repeats(struct fake *f, const char *method, const char *target,
    char **out, size_t *outlen)
{
	(void)method;
	if (strstr(target, "cursor=") == NULL)
		answer(out, outlen, 200, NULL, "{\"items\":[" TDEP(5, "a-b-1") ","
		    TDEP(6, "a-b-2") "],\"pagination\":{\"hasMore\":true,"
		    "\"nextCursor\":\"d2\"}}", true);
	else if (strcmp(f->data, "same") == 0)
		answer(out, outlen, 200, NULL, "{\"items\":[" TDEP(6, "a-b-2") ","
		    TDEP(7, "a-b-3") "],\"pagination\":{\"hasMore\":false}}", true);
	else
		answer(out, outlen, 200, NULL, "{\"items\":[" TDEP(8, "a-b-1")
		    "],\"pagination\":{\"hasMore\":false}}", true);
}

static void
test_repeated_deployments(void **state)
{
	struct rig *r = rig_start(h_dep_repeats, "http");
	struct res d = { 0 }, e = { 0 };
	(void)state;

	r->fake.data = (void *)"same";
	rig_client(r);
	assert_int_equal(api_list_team_deployments(r->c, 1, res_deployments, &d), 0);
	run_until(&r->loop, &d.calls, 1, 30000);
	assert_int_equal(d.rc, 0);
	assert_int_equal(d.n, 3);
	r->fake.data = (void *)"name";
	assert_int_equal(api_list_team_deployments(r->c, 1, res_deployments, &e), 0);
	run_until(&r->loop, &e.calls, 1, 30000);
	assert_int_equal(e.rc, -EBADMSG);
	assert_string_equal(e.err.code, "InconsistentListing");
	assert_non_null(strstr(e.err.message, "under one name"));
	res_free(&d);
	res_free(&e);
	rig_stop(r);
}

/* Fresh cursors for ever: f->data "same" repeats two items, "empty" sends
 * none, "local" sends only local deployments (no ids), "big" new items
 * with long names. */
static void
h_endless(struct fake *f, const char *method, const char *target, char **out,
    size_t *outlen)
{
	const char *v = f->data;
	char a[200], b[200], *body;
	size_t cap = 1 << 20;

	(void)method;
	(void)target;
	body = malloc(cap + 4096);
	if (strcmp(v, "same") == 0) {
		snprintf(body, cap, "{\"items\":[%s,%s],\"pagination\":{\"hasMore\":"
		    "true,\"nextCursor\":\"c%d\"}}", project_json(1, a, sizeof(a)),
		    project_json(2, b, sizeof(b)), f->requests);
	} else if (strcmp(v, "empty") == 0) {
		snprintf(body, cap, "{\"items\":[],\"pagination\":{\"hasMore\":"
		    "true,\"nextCursor\":\"c%d\"}}", f->requests);
	} else if (strcmp(v, "local") == 0) {
		size_t k = (size_t)snprintf(body, cap, "{\"items\":[");
		for (int i = 0; i < 100; i++)
			k += (size_t)snprintf(body + k, cap - k, "%s{\"kind\":\"local\","
			    "\"name\":\"l-%d-%d\",\"projectId\":9}", i ? "," : "",
			    f->requests, i);
		snprintf(body + k, cap - k, "],\"pagination\":{\"hasMore\":true,"
		    "\"nextCursor\":\"c%d\"}}", f->requests);
	} else {
		/* 4 projects of about 250 KB of name each: 1 MB a page. */
		size_t k = (size_t)snprintf(body, cap, "{\"items\":[");
		for (int i = 0; i < 4; i++) {
			k += (size_t)snprintf(body + k, cap - k, "%s{\"id\":%d,\"slug\":"
			    "\"s\",\"name\":\"", i ? "," : "", f->requests * 4 + i + 1);
			memset(body + k, 'n', 250000);
			k += 250000;
			k += (size_t)snprintf(body + k, cap + 4096 - k, "\"}");
		}
		snprintf(body + k, cap + 4096 - k, "],\"pagination\":{\"hasMore\":"
		    "true,\"nextCursor\":\"c%d\"}}", f->requests);
	}
	answer(out, outlen, 200, NULL, body, true);
	free(body);
}

static void
test_endless_pagination(void **state)
{
	struct rig *r = rig_start(h_endless, "http");
	struct res p = { 0 }, q = { 0 }, d = { 0 }, b = { 0 };
	(void)state;

	rig_client(r);
	/* The same items under a fresh cursor: the second page adds nothing. */
	r->fake.data = (void *)"same";
	assert_int_equal(api_list_projects(r->c, 1, res_projects, &p), 0);
	run_until(&r->loop, &p.calls, 1, 30000);
	assert_int_equal(p.rc, -ELOOP);
	assert_string_equal(p.err.code, "PaginationLoop");
	assert_non_null(strstr(p.err.message, "no progress"));
	assert_null(p.projects);
	assert_int_equal(r->fake.requests, 2);

	/* An empty page that announces another: no progress either. */
	r->fake.data = (void *)"empty";
	r->fake.requests = 0;
	assert_int_equal(api_list_projects(r->c, 1, res_projects, &q), 0);
	run_until(&r->loop, &q.calls, 1, 30000);
	assert_int_equal(q.rc, -ELOOP);
	assert_int_equal(r->fake.requests, 1);

	/* Local deployments only (no ids): ended by the item bound, after
	 * 250,000 items (2,500 pages), never by memory. */
	r->fake.data = (void *)"local";
	r->fake.requests = 0;
	assert_int_equal(api_list_team_deployments(r->c, 1, res_deployments, &d), 0);
	run_until(&r->loop, &d.calls, 1, 120000);
	assert_int_equal(d.rc, -EFBIG);
	assert_string_equal(d.err.code, "ListingTooLarge");
	assert_int_equal(r->fake.requests, 2501);

	/* New ids with huge names: ended by the byte bound (32 MiB). */
	r->fake.data = (void *)"big";
	r->fake.requests = 0;
	assert_int_equal(api_list_projects(r->c, 1, res_projects, &b), 0);
	run_until(&r->loop, &b.calls, 1, 120000);
	assert_int_equal(b.rc, -EFBIG);
	assert_string_equal(b.err.code, "ListingTooLarge");
	assert_true(r->fake.requests <= 35);
	res_free(&p);
	res_free(&q);
	res_free(&d);
	res_free(&b);
	rig_stop(r);
}

/* Pages 1 and 2 arrive, page 3 fails every time: the whole listing fails
 * after the retries, and nothing of pages 1 and 2 is handed out. */
static void
h_third_page_fails(struct fake *f, const char *method, const char *target,
    char **out, size_t *outlen)
{
	char body[512], p[200];

	(void)f;
	(void)method;
	if (strstr(target, "cursor=two") != NULL) {
		answer(out, outlen, 500, NULL, "{\"code\":\"InternalServerError\","
		    "\"message\":\"boom\"}", true);
		return;
	}
	snprintf(body, sizeof(body), "{\"items\":[%s],\"pagination\":"
	    "{\"hasMore\":true,\"nextCursor\":\"%s\"}}",
	    project_json(strstr(target, "cursor") ? 2 : 1, p, sizeof(p)),
	    strstr(target, "cursor") ? "two" : "one");
	answer(out, outlen, 200, NULL, body, true);
}

static void
test_failed_page_fails_listing(void **state)
{
	struct rig *r = rig_start(h_third_page_fails, "http");
	struct res p = { 0 };
	char line[1024];
	(void)state;

	rig_client(r);
	assert_int_equal(api_list_projects(r->c, 7, res_projects, &p), 0);
	run_until(&r->loop, &p.calls, 1, 30000);
	assert_int_equal(p.rc, -EIO);
	assert_null(p.projects);
	assert_int_equal(p.err.status, 500);
	assert_int_equal(p.err.attempts, 5);
	assert_int_equal(r->fake.requests, 2 + 5);
	api_error_format(&p.err, line, sizeof(line));
	assert_string_equal(line, "HTTP 500 InternalServerError: boom "
	    "(GET /teams/7/projects, 5 attempts)");
	rig_stop(r);
}

/* ---- answers the simulator does not give ------------------------------------ */

static void
h_retry_after_date(struct fake *f, const char *method, const char *target,
    char **out, size_t *outlen)
{
	char hdr[128];
	time_t t;

	(void)method;
	(void)target;
	if (f->requests == 1) {
		t = time(NULL) + 2;
		strftime(hdr, sizeof(hdr), "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n",
		    gmtime(&t));
		answer(out, outlen, 503, hdr, "{\"code\":\"Busy\",\"message\":\"later\"}",
		    true);
		return;
	}
	answer(out, outlen, 200, NULL, "{\"type\":\"teamToken\",\"teamId\":5}", true);
}

static void
test_retry_after_http_date(void **state)
{
	struct rig *r = rig_start(h_retry_after_date, "http");
	struct res t = { 0 };
	(void)state;

	rig_client(r);
	assert_int_equal(api_token_details(r->c, res_token, &t), 0);
	run_until(&r->loop, &t.calls, 1, 30000);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.id, 5);
	assert_int_equal(r->requests, 2);
	assert_int_equal(r->status[0], 503);
	/* The date is two whole seconds ahead: at least one second left. */
	assert_true(r->at_ms[1] - r->at_ms[0] >= 950);
	rig_stop(r);
}

/* ---- Retry-After from a hostile server (issue 18, class 9) ------------------ */

/* 429 with an absurd Retry-After (f->data: seconds, or a date far away):
 * always, or only for the first request when f->data starts "once:". */
static void
h_retry_after_huge(struct fake *f, const char *method, const char *target,
    char **out, size_t *outlen)
{
	const char *v = f->data;
	bool once = strncmp(v, "once:", 5) == 0;
	char hdr[128];

	(void)method;
	(void)target;
	if (once && f->requests > 1) {
		answer(out, outlen, 200, NULL, "{\"type\":\"teamToken\",\"teamId\":5}",
		    true);
		return;
	}
	snprintf(hdr, sizeof(hdr), "Retry-After: %s\r\n", once ? v + 5 : v);
	answer(out, outlen, 429, hdr, "{\"code\":\"TooManyRequests\","
	    "\"message\":\"slow down\"}", true);
}

static void
test_retry_after_capped(void **state)
{
	static const char *const asks[] = {
		"once:1000000000", "once:Fri, 31 Dec 9999 23:59:59 GMT",
		"once:99999999999999999999",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
		struct rig *r = rig_start(h_retry_after_huge, "http");
		struct res t = { 0 };
		struct capture cap;
		char *log;

		r->fake.data = (void *)asks[i];
		r->cfg.retry_after_cap_ms = 300;        /* 30 s outside tests */
		rig_client(r);
		capture_start(&cap);
		assert_int_equal(api_token_details(r->c, res_token, &t), 0);
		run_until(&r->loop, &t.calls, 1, 10000);
		log = capture_end(&cap);
		assert_int_equal(t.rc, 0);
		assert_int_equal(r->requests, 2);
		/* Honoured up to the cap, never beyond (an unreadable value is
		 * no Retry-After: the backoff alone, at most 100 ms here). */
		assert_true(r->at_ms[1] - r->at_ms[0] < 1500);
		if (i < 2) {
			assert_true(r->at_ms[1] - r->at_ms[0] >= 250);
			assert_non_null(strstr(log, "the server asked to wait"));
			assert_non_null(strstr(log, "waiting 0.3 s, the cap"));
		}
		if (i == 0)
			assert_non_null(strstr(log, "1000000000 s (Retry-After)"));
		free(log);
		rig_stop(r);
	}
}

/* Every wait counts against one bound per reconcile; waits that overlap
 * count once; api_retry_budget_reset starts a new count. */
static void
test_retry_budget(void **state)
{
	struct rig *r = rig_start(h_retry_after_huge, "http");
	struct res a = { 0 }, b = { 0 }, c = { 0 };
	char line[1024];
	(void)state;

	r->fake.data = (void *)"1000000000";
	r->cfg.retry_after_cap_ms = 200;
	r->cfg.retry_budget_ms = 500;
	r->cfg.max_tries = 5;
	rig_client(r);
	/* Two calls wait side by side: 200 + 200 ms of the 500, the third
	 * wait would pass it. Three attempts each, not five. */
	assert_int_equal(api_token_details(r->c, res_token, &a), 0);
	assert_int_equal(api_token_details(r->c, res_token, &b), 0);
	run_until(&r->loop, &a.calls, 1, 10000);
	run_until(&r->loop, &b.calls, 1, 10000);
	assert_int_equal(a.rc, -EAGAIN);
	assert_int_equal(b.rc, -EAGAIN);
	assert_int_equal(a.err.attempts, 3);
	assert_int_equal(b.err.attempts, 3);
	assert_int_equal(r->fake.requests, 6);
	api_error_format(&a.err, line, sizeof(line));
	assert_non_null(strstr(line, "not retried: this reconcile's time for "
	    "retries is spent"));
	/* Spent: the next call is not retried at all... */
	assert_int_equal(api_token_details(r->c, res_token, &c), 0);
	run_until(&r->loop, &c.calls, 1, 10000);
	assert_int_equal(c.err.attempts, 1);
	res_free(&c);
	/* ...until the next reconcile starts a new count. */
	api_retry_budget_reset(r->c);
	assert_int_equal(api_token_details(r->c, res_token, &c), 0);
	run_until(&r->loop, &c.calls, 1, 10000);
	assert_int_equal(c.err.attempts, 3);
	res_free(&a);
	res_free(&b);
	res_free(&c);
	rig_stop(r);
}

/* A token answer padded to exactly `size` bytes. */
static char *
padded_token_body(size_t size)
{
	const char *head = "{\"type\":\"teamToken\",\"teamId\":9,\"name\":\"";
	char *b = malloc(size + 1);
	size_t h = strlen(head);

	memcpy(b, head, h);
	memset(b + h, 'x', size - h - 2);
	memcpy(b + size - 2, "\"}", 2);
	b[size] = '\0';
	return b;
}

static void
h_sized(struct fake *f, const char *method, const char *target, char **out,
    size_t *outlen)
{
	/* Without Content-Length (read to the close): only the write callback
	 * can stop it. */
	char *body = padded_token_body(strstr(target, "token_details") &&
	    f->requests == 1 ? 4096 : 4097);

	(void)method;
	answer(out, outlen, 200, NULL, body, false);
	free(body);
}

static void
test_body_cap_without_length(void **state)
{
	struct rig *r = rig_start(h_sized, "http");
	struct res ok = { 0 }, big = { 0 };
	(void)state;

	r->cfg.max_body = 4096;
	rig_client(r);
	assert_int_equal(api_token_details(r->c, res_token, &ok), 0);
	run_until(&r->loop, &ok.calls, 1, 30000);
	assert_int_equal(ok.rc, 0);             /* exactly the cap passes */
	assert_int_equal(ok.id, 9);
	assert_int_equal(api_token_details(r->c, res_token, &big), 0);
	run_until(&r->loop, &big.calls, 1, 30000);
	assert_int_equal(big.rc, -EFBIG);       /* one byte more does not */
	assert_string_equal(big.err.code, "BodyTooLarge");
	assert_int_equal(big.err.attempts, 1);
	rig_stop(r);
}

static void
h_html_error(struct fake *f, const char *method, const char *target, char **out,
    size_t *outlen)
{
	(void)f;
	(void)method;
	(void)target;
	answer(out, outlen, 502, NULL, "<html>Bad\ngateway</html>", true);
}

static void
test_error_body_not_json(void **state)
{
	struct rig *r = rig_start(h_html_error, "http");
	struct res d = { 0 };
	char line[1024];
	(void)state;

	r->cfg.max_tries = 2;
	rig_client(r);
	assert_int_equal(api_delete_deployment(r->c, "a b/c", res_done, &d), 0);
	run_until(&r->loop, &d.calls, 1, 30000);
	assert_int_equal(d.rc, -EIO);
	assert_string_equal(d.err.code, "");
	assert_string_equal(d.err.message, "<html>Bad gateway</html>");
	/* The name is one escaped path segment. */
	assert_string_equal(r->fake.targets[0], "/v1/deployments/a%20b%2Fc/delete");
	api_error_format(&d.err, line, sizeof(line));
	assert_string_equal(line, "HTTP 502: <html>Bad gateway</html> "
	    "(POST /deployments/a%20b%2Fc/delete, 2 attempts)");
	rig_stop(r);
}

static void
h_deprecated(struct fake *f, const char *method, const char *target, char **out,
    size_t *outlen)
{
	(void)f;
	(void)method;
	(void)target;
	answer(out, outlen, 200, "x-convex-deprecation-state: deprecated\r\n"
	    "x-convex-deprecation-message: v1 ends in May\r\n",
	    "{\"type\":\"teamToken\",\"teamId\":5}", true);
}

static void
test_deprecation_warned_once(void **state)
{
	struct rig *r = rig_start(h_deprecated, "http");
	struct res t[3];
	struct capture cap;
	char *log;
	(void)state;

	memset(t, 0, sizeof(t));
	rig_client(r);
	capture_start(&cap);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(api_token_details(r->c, res_token, &t[i]), 0);
		run_until(&r->loop, &t[i].calls, 1, 30000);
		assert_int_equal(t[i].rc, 0);
	}
	log = capture_end(&cap);
	assert_int_equal(count_substr(log, "v1 ends in May"), 1);
	assert_int_equal(count_substr(log, "deprecation notice"), 1);
	free(log);
	rig_stop(r);
}

static void
h_token(struct fake *f, const char *method, const char *target, char **out,
    size_t *outlen)
{
	(void)f;
	(void)method;
	(void)target;
	answer(out, outlen, 200, NULL, "{\"type\":\"teamToken\",\"teamId\":5}", true);
}

/* The identifying headers go out on every request; curl's verbose output
 * at debug level shows them, but never the token. */
static void
test_headers_and_redaction(void **state)
{
	struct rig *r = rig_start(h_token, "http");
	struct res t = { 0 };
	struct capture cap;
	char *log;
	(void)state;

	rig_client(r);
	log_set_level(LOG_LVL_DEBUG);
	capture_start(&cap);
	assert_int_equal(api_token_details(r->c, res_token, &t), 0);
	run_until(&r->loop, &t.calls, 1, 30000);
	log = capture_end(&cap);
	log_set_level(LOG_LVL_INFO);
	assert_int_equal(t.rc, 0);
	assert_string_equal(r->fake.auth, "Bearer tok-SECRET-123");
	assert_string_equal(r->fake.agent, "convex-provisioner/" CP_VERSION);
	assert_string_equal(r->fake.client, "convex-provisioner-" CP_VERSION);
	assert_non_null(strstr(log, "> GET /v1/token_details"));
	assert_non_null(strstr(log, "Authorization: [redacted]"));
	assert_non_null(strstr(log, "User-Agent: convex-provisioner/" CP_VERSION));
	assert_null(strstr(log, "SECRET"));
	free(log);
	rig_stop(r);
}

/* A proxy from the environment with a password: curl's verbose output
 * names it ("Uses proxy env variable https_proxy == '...'") and sends
 * Proxy-Authorization; the debug log shows neither the password nor the
 * header's value, and the CONNECT request carries no Authorization. (The
 * fake server plays the proxy: it gets the CONNECT.) */
static void
test_proxy_credentials_redacted(void **state)
{
	struct rig *r = rig_start(h_token, "http");
	struct res t = { 0 };
	struct capture cap;
	char proxy[128], *log;
	(void)state;

	snprintf(proxy, sizeof(proxy), "http://proxyuser:pw-HIDDEN-42@127.0.0.1:%d",
	    r->fake.port);
	r->cfg.max_tries = 1;
	r->cfg.base_url = "https://api.invalid/v1";
	setenv("https_proxy", proxy, 1);
	rig_client(r);
	log_set_level(LOG_LVL_DEBUG);
	capture_start(&cap);
	assert_int_equal(api_token_details(r->c, res_token, &t), 0);
	run_until(&r->loop, &t.calls, 1, 30000);
	log = capture_end(&cap);
	log_set_level(LOG_LVL_INFO);
	unsetenv("https_proxy");
	assert_true(t.rc < 0);                  /* no TLS behind this "proxy" */
	assert_string_equal(r->fake.targets[0], "api.invalid:443");
	assert_string_equal(r->fake.auth, "");  /* the token: not to the proxy */
	assert_non_null(strstr(log, "'http://***@127.0.0.1:"));
	assert_non_null(strstr(log, "CONNECT api.invalid:443"));
	assert_non_null(strstr(log, "Authorization: [redacted]"));
	assert_null(strstr(log, "HIDDEN"));
	assert_null(strstr(log, "cHJveHl1c2Vy")); /* base64 of "proxyuser" */
	free(log);
	rig_stop(r);
}

/* Error answers that echo the token: a JSON message, a "code", an HTML
 * body, and a long message cut by the error struct in the middle of it. */
static void
h_echo_token(struct fake *f, const char *method, const char *target,
    char **out, size_t *outlen)
{
	char body[2048], pad[600];

	(void)f;
	(void)method;
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	if (strstr(target, "/one/") != NULL)
		snprintf(body, sizeof(body), "{\"code\":\"Unauthorized\",\"message\":"
		    "\"bad token tok-SECRET-123 (Bearer tok-SECRET-123)\"}");
	else if (strstr(target, "/two/") != NULL)
		snprintf(body, sizeof(body), "{\"code\":\"tok-SECRET-123\","
		    "\"message\":\"no\"}");
	else if (strstr(target, "/three/") != NULL)
		snprintf(body, sizeof(body), "<html>denied for tok-SECRET-123</html>");
	else
		snprintf(body, sizeof(body), "{\"code\":\"Unauthorized\",\"message\":"
		    "\"%.500s tok-SECRET-123\"}", pad);
	answer(out, outlen, 401, NULL, body, true);
}

static void
test_token_echo_scrubbed(void **state)
{
	static const char *const names[] = { "one", "two", "three", "four" };
	struct rig *r = rig_start(h_echo_token, "http");
	struct capture cap;
	char *log;
	(void)state;

	rig_client(r);
	capture_start(&cap);
	for (size_t i = 0; i < 4; i++) {
		struct res d = { 0 };
		char line[1024];

		assert_int_equal(api_delete_deployment(r->c, names[i], res_done,
		    &d), 0);
		run_until(&r->loop, &d.calls, 1, 30000);
		assert_int_equal(d.rc, -EACCES);
		api_error_format(&d.err, line, sizeof(line));
		log_errorx("%s", line);
		if (strstr(line, "SECRET") != NULL || strstr(line, "tok-SECR") != NULL)
			fail_msg("%s: the token shows: %s", names[i], line);
		if (strstr(line, i == 3 ? "xxx ***" : "***") == NULL)
			fail_msg("%s: not masked: %s", names[i], line);
	}
	log = capture_end(&cap);
	assert_null(strstr(log, "SECRET"));
	free(log);
	rig_stop(r);
}

/* https to a server that does not speak TLS. With an unusable CA file the
 * transfer fails on the CA file (a TLS set-up error, never retried); without
 * one, the handshake fails (nothing was sent: retried). */
static void
test_ca_file_honoured(void **state)
{
	struct rig *r = rig_start(h_token, "https");
	struct res a = { 0 }, b = { 0 };
	struct api_client *plain;
	struct api_error err;
	(void)state;

	r->fake.raw = true;
	r->cfg.max_tries = 2;
	r->cfg.ca_file = "/nonexistent/ca.pem";
	rig_client(r);
	assert_int_equal(api_token_details(r->c, res_token, &a), 0);
	run_until(&r->loop, &a.calls, 1, 30000);
	assert_int_equal(a.rc, -EPROTO);
	assert_string_equal(a.err.code, "TLSError");
	assert_int_equal(a.err.attempts, 1);

	r->cfg.ca_file = NULL;
	assert_int_equal(api_client_new(&r->loop, &r->cfg, &plain, &err), 0);
	assert_int_equal(api_token_details(plain, res_token, &b), 0);
	run_until(&r->loop, &b.calls, 1, 30000);
	assert_int_equal(b.rc, -ECONNREFUSED);
	assert_string_equal(b.err.code, "ConnectionError");
	assert_int_equal(b.err.attempts, 2);
	{
		int closed = 0;
		api_client_close(plain, on_client_closed, &closed);
		run_until(&r->loop, &closed, 1, 30000);
	}
	rig_stop(r);
}

/* ---- at most once on a shared connection (issue 13) ------------------------ */

static void
h_keepalive(struct fake *f, const char *method, const char *target,
    char **out, size_t *outlen)
{
	(void)f;
	(void)method;
	if (strstr(target, "create_project") != NULL)
		answer(out, outlen, 200, NULL, "{\"projectId\":77,"
		    "\"projectSlug\":\"shop\"}", true);
	else if (strstr(target, "/deployments/") != NULL)
		answer(out, outlen, 200, NULL, "", true);
	else
		answer(out, outlen, 200, NULL, "{\"type\":\"teamToken\","
		    "\"teamId\":5}", true);
}

/*
 * A create goes out on the kept-alive connection of an earlier request;
 * the server reads all of it (body included) and the connection dies
 * before any byte of the answer, closed (FIN) or reset (RST). That is when
 * curl resends a request on a fresh connection by itself (Curl_retry_request
 * in lib/transfer.c: a reused connection, nothing received). For a create
 * the body must never go out again: the server may have acted. The create
 * is reported ambiguous after one attempt, and the server saw it once.
 * (With CURLOPT_POSTFIELDS instead of the read and seek callbacks, the FIN
 * case reaches the server twice: this test fails.)
 */
static void
test_create_once_on_dead_reused_connection(void **state)
{
	static const enum fake_kill kills[] = { KILL_FIN, KILL_RST };
	(void)state;

	for (size_t i = 0; i < 2; i++) {
		struct rig *r = rig_start(h_keepalive, "http");
		struct res t = { 0 }, c = { 0 };
		int creates = 0;

		r->fake.keepalive = true;
		r->fake.kill = kills[i];
		r->fake.kill_match = "create_project";
		r->fake.kill_left = 1000;
		rig_client(r);
		assert_int_equal(api_token_details(r->c, res_token, &t), 0);
		run_until(&r->loop, &t.calls, 1, 30000);
		assert_int_equal(t.rc, 0);
		assert_int_equal(api_create_project(r->c, 1, "shop", res_created,
		    &c), 0);
		run_until(&r->loop, &c.calls, 1, 30000);
		/* Sent once, on the connection of the first request. */
		for (int k = 0; k < r->fake.requests && k < 32; k++) {
			if (strstr(r->fake.targets[k], "create_project") == NULL)
				continue;
			creates++;
			assert_int_equal(r->fake.conn_of[k], r->fake.conn_of[0]);
			assert_string_equal(r->fake.bodies[k],
			    "{\"projectName\":\"shop\"}");
		}
		if (creates != 1)
			fail_msg("%s: the create reached the server %d times",
			    kills[i] == KILL_FIN ? "FIN" : "RST", creates);
		assert_int_equal(r->fake.requests, 2);
		assert_int_equal(c.rc, -ECONNRESET);
		assert_string_equal(c.err.code, "ConnectionError");
		assert_true(c.err.ambiguous);
		assert_int_equal(c.err.attempts, 1);
		/* After a FIN curl tried its resend, and was refused. (After
		 * a RST the poll reports an error first, and curl ends the
		 * transfer with a send error without trying.) */
		if (kills[i] == KILL_FIN &&
		    strstr(c.err.message, "seek callback returned error") == NULL)
			fail_msg("FIN: not refused by the seek callback: %s",
			    c.err.message);
		rig_stop(r);
	}
}

/*
 * The server goes away for good just as the create's connection dies: curl's
 * own retry cannot even connect (CURLE_COULDNT_CONNECT, before the seek
 * callback is asked). That failure must not read as "nothing was sent"
 * (which our retries would resend): curl took the body, so the create is
 * ambiguous after one attempt.
 */
static void
test_create_ambiguous_when_retry_cannot_connect(void **state)
{
	struct rig *r = rig_start(h_keepalive, "http");
	struct res t = { 0 }, c = { 0 };
	(void)state;

	r->fake.keepalive = true;
	r->fake.kill = KILL_FIN;
	r->fake.kill_match = "create_project";
	r->fake.kill_left = 1;
	r->fake.kill_listener = true;
	rig_client(r);
	assert_int_equal(api_token_details(r->c, res_token, &t), 0);
	run_until(&r->loop, &t.calls, 1, 30000);
	assert_int_equal(api_create_project(r->c, 1, "shop", res_created, &c), 0);
	run_until(&r->loop, &c.calls, 1, 30000);
	assert_int_equal(r->fake.requests, 2);
	assert_true(c.err.ambiguous);
	assert_int_equal(c.err.attempts, 1);
	assert_int_equal(c.rc, -ECONNRESET);
	rig_stop(r);
}

/* The same death (FIN) for an idempotent request: curl may and does send
 * it again (the seek callback lets it start over), and it succeeds. */
static void
test_update_resent_on_dead_reused_connection(void **state)
{
	struct rig *r = rig_start(h_keepalive, "http");
	struct res t = { 0 }, u = { 0 };
	(void)state;

	r->fake.keepalive = true;
	r->fake.kill = KILL_FIN;
	r->fake.kill_match = "/deployments/";
	r->fake.kill_left = 1;
	rig_client(r);
	assert_int_equal(api_token_details(r->c, res_token, &t), 0);
	run_until(&r->loop, &t.calls, 1, 30000);
	assert_int_equal(api_update_deployment(r->c, "a-b-1",
	    "{\"reference\":\"next\"}", res_done, &u), 0);
	run_until(&r->loop, &u.calls, 1, 30000);
	assert_int_equal(u.rc, 0);
	assert_int_equal(u.err.attempts, 0);    /* no error: one call... */
	assert_int_equal(r->requests, 1 + 1);   /* ...one attempt of ours */
	assert_int_equal(r->fake.requests, 3);  /* curl sent the PATCH twice */
	assert_string_equal(r->fake.bodies[1], "{\"reference\":\"next\"}");
	assert_string_equal(r->fake.bodies[2], "{\"reference\":\"next\"}");
	assert_int_equal(r->fake.conn_of[1], r->fake.conn_of[0]);
	assert_true(r->fake.conn_of[2] != r->fake.conn_of[1]);
	rig_stop(r);
}

/* Creates share the kept-alive connection when nothing goes wrong: one
 * TCP connection for a token request and three creates in a row. */
static void
test_creates_share_connection(void **state)
{
	struct rig *r = rig_start(h_keepalive, "http");
	struct res t = { 0 }, c[3];
	(void)state;

	memset(c, 0, sizeof(c));
	r->fake.keepalive = true;
	rig_client(r);
	assert_int_equal(api_token_details(r->c, res_token, &t), 0);
	run_until(&r->loop, &t.calls, 1, 30000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(api_create_project(r->c, 1, "shop", res_created,
		    &c[i]), 0);
		run_until(&r->loop, &c[i].calls, 1, 30000);
		assert_int_equal(c[i].rc, 0);
		assert_int_equal(c[i].id, 77);
		free(c[i].slug);
	}
	assert_int_equal(r->fake.requests, 4);
	assert_int_equal(r->fake.accepted, 1);
	rig_stop(r);
}

/* ---- curl multi errors (issue 17) --------------------------------------------- */

/*
 * The socket callback fails (a poll that cannot start, a socket curl will
 * not take back): curl marks the multi handle dead and
 * curl_multi_socket_action fails. The transfers in flight end at once
 * through the deferred path, a GET is retried and succeeds, a create is
 * ambiguous and not resent, and the client works again afterwards.
 */
static void
test_socket_callback_failure(void **state)
{
	struct rig *r = rig_start(h_keepalive, "http");
	struct res t = { 0 }, c = { 0 }, c2 = { 0 };
	struct capture cap;
	char *log;
	(void)state;

	rig_client(r);
	capture_start(&cap);
	fail_poll_starts = 1;
	assert_int_equal(api_token_details(r->c, res_token, &t), 0);
	run_until(&r->loop, &t.calls, 1, 30000);
	assert_int_equal(fail_poll_starts, 0);
	assert_int_equal(t.rc, 0);
	assert_int_equal(t.id, 5);
	assert_int_equal(r->requests, 2);       /* the failed attempt, then ok */
	assert_int_equal(r->status[0], 0);
	assert_int_equal(r->status[1], 200);

	fail_assigns = 1;
	assert_int_equal(api_create_project(r->c, 1, "shop", res_created, &c), 0);
	run_until(&r->loop, &c.calls, 1, 30000);
	assert_int_equal(fail_assigns, 0);
	assert_int_equal(c.rc, -ECONNRESET);
	assert_true(c.err.ambiguous);
	assert_int_equal(c.err.attempts, 1);
	assert_non_null(strstr(c.err.message, "curl_multi_socket_action"));

	/* The next create goes through (and is the only one the server saw:
	 * the failed one never left, though the client cannot know it). */
	assert_int_equal(api_create_project(r->c, 1, "shop", res_created, &c2), 0);
	run_until(&r->loop, &c2.calls, 1, 30000);
	log = capture_end(&cap);
	assert_int_equal(c2.rc, 0);
	assert_int_equal(c2.id, 77);
	assert_int_equal(count_substr(log, "failing the 1 transfer(s) in flight"), 2);
	int creates = 0;
	for (int k = 0; k < r->fake.requests && k < 32; k++)
		creates += strstr(r->fake.targets[k], "create_project") != NULL;
	assert_int_equal(creates, 1);
	free(log);
	free(c.slug);
	free(c2.slug);
	rig_stop(r);
}

/* ---- no server needed ------------------------------------------------------------ */

static void
test_base_url_rules(void **state)
{
	static const struct {
		const char *url;
		int rc;
		const char *code;
	} rows[] = {
		{ "https://api.convex.dev/v1", 0, NULL },
		{ "https://api.convex.dev/v1/", 0, NULL },
		{ "http://127.0.0.1:8050/v1", 0, NULL },
		{ "http://127.1.2.3:8050/v1", 0, NULL },
		{ "http://localhost:8050/v1", 0, NULL },
		{ "http://LOCALHOST/v1", 0, NULL },
		{ "http://[::1]:8050/v1", 0, NULL },
		{ "http://10.0.0.1/v1", -EINVAL, "InsecureURL" },
		{ "http://api.convex.dev/v1", -EINVAL, "InsecureURL" },
		{ "http://128.0.0.1/v1", -EINVAL, "InsecureURL" },
		{ "http://localhost.evil.com/v1", -EINVAL, "InsecureURL" },
		{ "http://[::2]/v1", -EINVAL, "InsecureURL" },
		{ "ftp://127.0.0.1/v1", -EINVAL, "InvalidURL" },
		{ "not a url", -EINVAL, "InvalidURL" },
	};
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	uv_loop_t loop;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		test_config(&cfg, rows[i].url, "tok");
		c = NULL;
		if (api_client_new(&loop, &cfg, &c, &err) != rows[i].rc)
			fail_msg("%s: want %d (%s %s)", rows[i].url, rows[i].rc,
			    err.code, err.message);
		if (rows[i].rc == 0) {
			int closed = 0;
			api_client_close(c, on_client_closed, &closed);
			uv_run(&loop, UV_RUN_DEFAULT);
			assert_int_equal(closed, 1);
			continue;
		}
		assert_null(c);
		assert_string_equal(err.code, rows[i].code);
		if (strcmp(rows[i].code, "InsecureURL") == 0) {
			assert_non_null(strstr(err.message, "clear text"));
			assert_non_null(strstr(err.message, "loopback"));
		}
	}
	/* Bad settings are refused with words, and the token never shows. */
	test_config(&cfg, "https://x.test/v1", "a\r\nX-Evil: 1");
	assert_int_equal(api_client_new(&loop, &cfg, &c, &err), -EINVAL);
	assert_null(strstr(err.message, "Evil"));
	test_config(&cfg, "https://x.test/v1", "");
	assert_int_equal(api_client_new(&loop, &cfg, &c, &err), -EINVAL);
	test_config(&cfg, "https://x.test/v1", "tok");
	cfg.concurrency = 0;
	assert_int_equal(api_client_new(&loop, &cfg, &c, &err), -EINVAL);
	assert_non_null(strstr(err.message, "concurrency"));
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_error_format(void **state)
{
	struct api_error e;
	char out[1024];
	(void)state;

	memset(&e, 0, sizeof(e));
	e.status = 500;
	snprintf(e.code, sizeof(e.code), "InternalServerError");
	snprintf(e.message, sizeof(e.message), "boom");
	snprintf(e.route, sizeof(e.route), "POST /teams/1/create_project");
	e.attempts = 1;
	api_error_format(&e, out, sizeof(out));
	assert_string_equal(out, "HTTP 500 InternalServerError: boom "
	    "(POST /teams/1/create_project, 1 attempt)");
	e.ambiguous = true;
	api_error_format(&e, out, sizeof(out));
	assert_string_equal(out, "HTTP 500 InternalServerError: boom "
	    "(POST /teams/1/create_project, 1 attempt, outcome unknown: the next "
	    "observation decides)");
	e.ambiguous = false;
	e.status = 0;
	e.attempts = 5;
	snprintf(e.code, sizeof(e.code), "Timeout");
	snprintf(e.message, sizeof(e.message), "Operation timed out");
	snprintf(e.route, sizeof(e.route), "GET /token_details");
	api_error_format(&e, out, sizeof(out));
	assert_string_equal(out, "Timeout: Operation timed out "
	    "(GET /token_details, 5 attempts)");
	/* A short buffer truncates, never overflows. */
	api_error_format(&e, out, 8);
	assert_string_equal(out, "Timeout");
}

static void
test_refused_before_start(void **state)
{
	struct api_config cfg;
	struct api_client *c;
	struct api_error err;
	struct res r = { 0 };
	uv_loop_t loop;
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	test_config(&cfg, "http://127.0.0.1:9/v1", "tok");
	assert_int_equal(api_client_new(&loop, &cfg, &c, &err), 0);
	assert_int_equal(api_get_deployment(c, "", res_deployment, &r), -EINVAL);
	assert_int_equal(api_delete_deployment(c, NULL, res_done, &r), -EINVAL);
	assert_int_equal(api_update_deployment(c, "a-b-1", NULL, res_done, &r),
	    -EINVAL);
	assert_int_equal(api_in_flight(c), 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(r.calls, 0);           /* refused calls never call back */
	close_client_and_loop(&loop, c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_loop),
		cmocka_unit_test(test_more_without_cursor),
		cmocka_unit_test(test_repeated_items),
		cmocka_unit_test(test_repeated_deployments),
		cmocka_unit_test(test_endless_pagination),
		cmocka_unit_test(test_failed_page_fails_listing),
		cmocka_unit_test(test_retry_after_http_date),
		cmocka_unit_test(test_retry_after_capped),
		cmocka_unit_test(test_retry_budget),
		cmocka_unit_test(test_body_cap_without_length),
		cmocka_unit_test(test_error_body_not_json),
		cmocka_unit_test(test_deprecation_warned_once),
		cmocka_unit_test(test_headers_and_redaction),
		cmocka_unit_test(test_token_echo_scrubbed),
		cmocka_unit_test(test_proxy_credentials_redacted),
		cmocka_unit_test(test_ca_file_honoured),
		cmocka_unit_test(test_create_once_on_dead_reused_connection),
		cmocka_unit_test(test_create_ambiguous_when_retry_cannot_connect),
		cmocka_unit_test(test_update_resent_on_dead_reused_connection),
		cmocka_unit_test(test_creates_share_connection),
		cmocka_unit_test(test_socket_callback_failure),
		cmocka_unit_test(test_base_url_rules),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_refused_before_start),
	};

	log_init(LOG_LVL_INFO, LOG_FMT_TEXT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
