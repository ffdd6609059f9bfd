/* test_status.c: the status endpoint on a real loop. A client thread makes
 * blocking requests (raw HTTP, so it can also misbehave) while the main
 * thread runs the loop; what the client saw is checked after both end. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "metrics.h"
#include "status.h"
#include "support/promcheck.h"

/* ---- a blocking raw HTTP client --------------------------------------- */

struct resp {
	int status;               /* 0: no answer (connection closed or reset) */
	char head[4096];
	char body[256 * 1024];
	size_t body_len;
};

static int
dial(int port)
{
	struct sockaddr_in sa;
	struct timeval tv = { 15, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;           /* the server may hang up early: fine */
		data += n;
		len -= (size_t)n;
	}
}

static void
send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* Reads an answer until the server closes the connection. */
static void
read_answer(int fd, struct resp *r)
{
	static char raw[sizeof(r->head) + sizeof(r->body)];
	size_t len = 0;
	ssize_t n;
	char *sep;

	memset(r, 0, sizeof(*r));
	while (len < sizeof(raw) - 1 &&
	    (n = recv(fd, raw + len, sizeof(raw) - 1 - len, 0)) > 0)
		len += (size_t)n;
	raw[len] = '\0';
	if ((sep = strstr(raw, "\r\n\r\n")) == NULL ||
	    (size_t)(sep - raw) >= sizeof(r->head) ||
	    sscanf(raw, "HTTP/1.%*c %d", &r->status) != 1) {
		r->status = 0;
		return;
	}
	memcpy(r->head, raw, (size_t)(sep - raw) + 2);
	r->body_len = len - (size_t)(sep + 4 - raw);
	memcpy(r->body, sep + 4, r->body_len);
	r->body[r->body_len] = '\0';
}

static void
request(int port, const char *method, const char *path, struct resp *r)
{
	char req[256];
	int fd = dial(port), n;

	memset(r, 0, sizeof(*r));
	if (fd < 0)
		return;
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\nContent-Length: 0\r\n\r\n", method, path);
	send_all(fd, req, (size_t)n);
	read_answer(fd, r);
	close(fd);
}

static bool
has_header(const struct resp *r, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strcasestr(r->head, want) != NULL;
}

/* ---- the daemon side -------------------------------------------------- */

struct world {
	uv_loop_t loop;
	uv_async_t done;
	uv_timer_t idle_check;
	struct status_server *srv;
	struct metrics *m;
	int port;
	atomic_int ready;
	atomic_int refuse_reconcile;
	atomic_int status_fails;
	int reconciles;           /* loop thread only */
	bool went_idle;
	int idle_polls;
	void (*scenario)(struct world *w);
	/* what the client saw */
	struct resp healthz, readyz_no, readyz_yes, status, status_fail, metrics,
	    head_metrics, post, post_refused, get_reconcile, post_healthz, missing,
	    big_head, huge_head, big_body, chunked, slow_healthz, after_abuse;
};

static int
h_ready(void *arg, char *why, size_t len)
{
	struct world *w = arg;

	if (atomic_load(&w->ready))
		return 1;
	snprintf(why, len, "no complete observation yet");
	return 0;
}

static char *
h_status(void *arg)
{
	struct world *w = arg;
	struct status_snapshot s;
	const char *errs[] = { "a.yaml:3:5: error: unknown key \"nmae\"" };

	if (atomic_load(&w->status_fails))
		return NULL;
	memset(&s, 0, sizeof(s));
	s.version = "test";
	s.last_result = "error";
	s.desired_errors = errs;
	s.n_desired_errors = 1;
	return status_snapshot_json(&s);
}

static int
h_reconcile(void *arg)
{
	struct world *w = arg;

	if (atomic_load(&w->refuse_reconcile))
		return -ESHUTDOWN;
	w->reconciles++;
	return 0;
}

/* A timer other than our own is running: MHD still has a connection. */
static void
find_timer(uv_handle_t *h, void *arg)
{
	struct world *w = arg;

	if (h->type == UV_TIMER && h != (uv_handle_t *)&w->idle_check &&
	    uv_is_active(h))
		w->went_idle = false;
}

static void
on_idle_check(uv_timer_t *t)
{
	struct world *w = t->data;

	w->went_idle = true;
	uv_walk(&w->loop, find_timer, w);
	/* closed client sockets reach MHD a little later: poll, up to 15 s */
	if (!w->went_idle && ++w->idle_polls < 750)
		return;
	uv_close((uv_handle_t *)&w->idle_check, NULL);
	status_stop(w->srv);
	w->srv = NULL;
}

static void
on_done(uv_async_t *a)
{
	struct world *w = a->data;

	uv_close((uv_handle_t *)&w->done, NULL);
	uv_timer_init(&w->loop, &w->idle_check);
	w->idle_check.data = w;
	uv_timer_start(&w->idle_check, on_idle_check, 0, 20);
}

static void *
client_main(void *arg)
{
	struct world *w = arg;

	w->scenario(w);
	uv_async_send(&w->done);
	return NULL;
}

static struct world *
world_new(void (*scenario)(struct world *))
{
	struct world *w = calloc(1, sizeof(*w));
	struct status_handlers h = { h_ready, h_status, h_reconcile, NULL };
	char err[256];

	assert_non_null(w);
	h.arg = w;
	w->scenario = scenario;
	assert_int_equal(uv_loop_init(&w->loop), 0);
	assert_non_null(w->m = metrics_new());
	assert_int_equal(status_start(&w->loop, "127.0.0.1:0", w->m, &h, &w->srv,
	    err, sizeof(err)), 0);
	assert_non_null(w->srv);
	w->port = status_port(w->srv);
	assert_true(w->port > 0);
	assert_int_equal(uv_async_init(&w->loop, &w->done, on_done), 0);
	w->done.data = w;
	return w;
}

static void
world_run(struct world *w)
{
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, client_main, w), 0);
	assert_int_equal(uv_run(&w->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(uv_loop_close(&w->loop), 0);
}

static void
world_free(struct world *w)
{
	metrics_free(w->m);
	free(w);
}

/* ---- scenarios -------------------------------------------------------- */

static void
routes_scenario(struct world *w)
{
	request(w->port, "GET", "/healthz", &w->healthz);
	request(w->port, "GET", "/readyz", &w->readyz_no);
	atomic_store(&w->ready, 1);
	request(w->port, "GET", "/readyz", &w->readyz_yes);
	request(w->port, "GET", "/status", &w->status);
	atomic_store(&w->status_fails, 1);
	request(w->port, "GET", "/status", &w->status_fail);
	request(w->port, "GET", "/metrics", &w->metrics);
	request(w->port, "HEAD", "/metrics", &w->head_metrics);
	request(w->port, "POST", "/reconcile", &w->post);
	atomic_store(&w->refuse_reconcile, 1);
	request(w->port, "POST", "/reconcile", &w->post_refused);
	request(w->port, "GET", "/reconcile", &w->get_reconcile);
	request(w->port, "POST", "/healthz", &w->post_healthz);
	request(w->port, "GET", "/nope", &w->missing);
}

static void
test_routes(void **state)
{
	struct world *w = world_new(routes_scenario);
	struct prom_doc doc;
	char err[256];
	cJSON *j;
	(void)state;

	/* some values, so /metrics shows more than zeros */
	assert_int_equal(metrics_reconcile(w->m, METRICS_RESULT_OK, 1.5, 1700000000), 0);
	assert_int_equal(metrics_api_request(w->m, "/teams/{team}/projects", 200, 0.1), 0);
	world_run(w);

	assert_int_equal(w->healthz.status, 200);
	assert_string_equal(w->healthz.body, "ok\n");
	assert_int_equal(w->readyz_no.status, 503);
	assert_string_equal(w->readyz_no.body, "not ready: no complete observation yet\n");
	assert_int_equal(w->readyz_yes.status, 200);

	assert_int_equal(w->status.status, 200);
	assert_true(has_header(&w->status, "Content-Type: application/json"));
	j = cJSON_Parse(w->status.body);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "version")->valuestring, "test");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(j, "desired"), "errors"), 0)->valuestring,
	    "a.yaml:3:5: error: unknown key \"nmae\"");
	cJSON_Delete(j);
	assert_int_equal(w->status_fail.status, 500);

	assert_int_equal(w->metrics.status, 200);
	assert_true(has_header(&w->metrics,
	    "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	if (promcheck_parse(w->metrics.body, &doc, err, sizeof(err)) != 0)
		fail_msg("/metrics: %s", err);
	assert_non_null(promcheck_family(&doc, "convex_provisioner_reconcile_total"));
	{
		double v = 0;

		assert_int_equal(promcheck_value(&doc,
		    "convex_provisioner_reconcile_total{result=\"ok\"}", &v), 0);
		assert_true(v == 1);
	}
	promcheck_free(&doc);
	assert_int_equal(w->head_metrics.status, 200);
	assert_int_equal(w->head_metrics.body_len, 0);

	assert_int_equal(w->post.status, 202);
	assert_int_equal(w->post_refused.status, 503);
	assert_int_equal(w->reconciles, 1);
	assert_int_equal(w->get_reconcile.status, 405);
	assert_true(has_header(&w->get_reconcile, "Allow: POST"));
	assert_int_equal(w->post_healthz.status, 405);
	assert_int_equal(w->missing.status, 404);
	/* every connection was closed and MHD asked for no more timeouts */
	assert_true(w->went_idle);
	world_free(w);
}

static void
abuse_scenario(struct world *w)
{
	static char big[24 * 1024];
	int slow, fd, n;

	/* a client that sends half a request and waits: the loop goes on */
	slow = dial(w->port);
	send_str(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
	request(w->port, "GET", "/healthz", &w->slow_healthz);

	/* a head over 8 KiB (but within MHD's pool): refused by us */
	fd = dial(w->port);
	n = snprintf(big, sizeof(big), "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\nX-Pad: %09000d\r\n\r\n", 0);
	send_all(fd, big, (size_t)n);
	read_answer(fd, &w->big_head);
	close(fd);

	/* a head far over it: MHD's own limit */
	fd = dial(w->port);
	n = snprintf(big, sizeof(big), "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "X-Pad: %020000d\r\n\r\n", 0);
	send_all(fd, big, (size_t)n);
	read_answer(fd, &w->huge_head);
	close(fd);

	/* a declared body over 8 KiB: refused on the head alone */
	fd = dial(w->port);
	send_str(fd, "POST /reconcile HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n");
	read_answer(fd, &w->big_body);
	close(fd);

	/* a chunked body that grows past it: the connection is dropped */
	fd = dial(w->port);
	send_str(fd, "POST /reconcile HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	memset(big, 'x', 1024);
	for (int i = 0; i < 12; i++) {
		send_str(fd, "400\r\n");     /* 1024 in hex */
		send_all(fd, big, 1024);
		send_str(fd, "\r\n");
	}
	send_str(fd, "0\r\n\r\n");
	read_answer(fd, &w->chunked);
	close(fd);

	request(w->port, "GET", "/healthz", &w->after_abuse);
	close(slow);
}

static void
test_limits_and_slow_clients(void **state)
{
	struct world *w = world_new(abuse_scenario);
	(void)state;

	world_run(w);
	assert_int_equal(w->slow_healthz.status, 200);
	assert_int_equal(w->big_head.status, 431);
	/* MHD answers 431 itself, or resets a connection whose head it cannot
	 * hold; never a success */
	assert_true(w->huge_head.status == 431 || w->huge_head.status == 413 ||
	    w->huge_head.status == 0);
	assert_int_equal(w->big_body.status, 413);
	assert_int_equal(w->chunked.status, 0);
	assert_int_equal(w->reconciles, 0);
	assert_int_equal(w->after_abuse.status, 200);
	assert_true(w->went_idle);
	world_free(w);
}

/* ---- without a client ------------------------------------------------- */

static void
test_disabled_and_bad_listen(void **state)
{
	static const char *bad[] = {
		"9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:80x", "example.com:80", "[::1]", "[::1:80", "::1:80",
		"[nothost]:80", ":9464",
	};
	struct status_server *s = (struct status_server *)1;
	struct sockaddr_storage ss;
	socklen_t len;
	uv_loop_t loop;
	char err[256];
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(status_start(&loop, "", NULL, NULL, &s, err, sizeof(err)), 0);
	assert_null(s);
	assert_int_equal(uv_loop_alive(&loop), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (status_parse_listen(bad[i], &ss, &len, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted listen \"%s\"", bad[i]);
		assert_non_null(strstr(err, bad[i]));
		assert_int_equal(status_start(&loop, bad[i], NULL, NULL, &s, err,
		    sizeof(err)), -EINVAL);
	}
	assert_int_equal(status_parse_listen("[::1]:9464", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9464);
	assert_int_equal(status_parse_listen("localhost:80", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(status_parse_listen("0.0.0.0:0", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(status_port(NULL), 0);
	status_stop(NULL);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_port_in_use(void **state)
{
	struct status_server *a = NULL, *b = (struct status_server *)1;
	uv_loop_t loop;
	char addr[64], err[256];
	(void)state;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(status_start(&loop, "127.0.0.1:0", NULL, NULL, &a, err,
	    sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", status_port(a));
	assert_true(status_start(&loop, addr, NULL, NULL, &b, err, sizeof(err)) < 0);
	assert_null(b);
	assert_non_null(strstr(err, addr));
	assert_non_null(strstr(err, "in use"));   /* MHD's reason, passed on */
	status_stop(a);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_ready_rule(void **state)
{
	(void)state;
	assert_false(status_ready(1000000, 0, 60000));          /* never observed */
	assert_true(status_ready(1000000, 1000000, 60000));
	assert_true(status_ready(1000000 + 180000, 1000000, 60000));
	assert_false(status_ready(1000000 + 180001, 1000000, 60000));
	assert_true(status_ready(500, 1000, 60000));             /* clock skew */
}

static void
test_snapshot_json(void **state)
{
	const struct status_drift drift[] = {
		{ "shop", "production", "class", "s256", "s16" },
		{ "shop", NULL, "name", "a", "b" },
	};
	const struct status_blocked blocked[] = {
		{ "max_deletes", "12 deletes planned, at most 10 allowed" },
	};
	struct status_snapshot s;
	cJSON *j, *last, *o;
	char *text;
	(void)state;

	memset(&s, 0, sizeof(s));
	s.version = "0.1.0";
	s.started = 1700000000;
	s.ready = true;
	s.pending = true;
	s.last_reconcile = 1700000060;
	s.last_result = "blocked";
	s.last_duration = 2.5;
	s.n_create = 2;
	s.n_delete = 0;
	s.drift = drift;
	s.n_drift = 2;
	s.blocked = blocked;
	s.n_blocked = 1;
	s.desired_path = "/etc/convex-provisioner/desired";
	s.desired_projects = 7;
	s.desired_follow = "poll";
	s.desired_fingerprint = "00c0ffee12345678";
	s.desired_files = 3;
	s.desired_loaded = 1700000030;
	assert_non_null(text = status_snapshot_json(&s));
	assert_non_null(j = cJSON_Parse(text));
	free(text);
	assert_string_equal(cJSON_GetObjectItem(j, "started")->valuestring,
	    "2023-11-14T22:13:20Z");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ready")));
	o = cJSON_GetObjectItem(j, "reconcile");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "pending")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "running")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "next")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "last_success")));
	last = cJSON_GetObjectItem(j, "last_reconcile");
	assert_string_equal(cJSON_GetObjectItem(last, "result")->valuestring, "blocked");
	assert_true(cJSON_GetObjectItem(last, "duration_seconds")->valuedouble == 2.5);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(last, "error")));
	o = cJSON_GetObjectItem(last, "summary");
	assert_int_equal(cJSON_GetObjectItem(o, "create")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(o, "drift")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(o, "blocked")->valueint, 1);
	o = cJSON_GetArrayItem(cJSON_GetObjectItem(last, "drift"), 0);
	assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "deployment");
	assert_string_equal(cJSON_GetObjectItem(o, "reference")->valuestring, "production");
	assert_string_equal(cJSON_GetObjectItem(o, "want")->valuestring, "s256");
	o = cJSON_GetArrayItem(cJSON_GetObjectItem(last, "drift"), 1);
	assert_string_equal(cJSON_GetObjectItem(o, "kind")->valuestring, "project");
	assert_null(cJSON_GetObjectItem(o, "reference"));
	o = cJSON_GetArrayItem(cJSON_GetObjectItem(last, "blocked"), 0);
	assert_string_equal(cJSON_GetObjectItem(o, "guard")->valuestring, "max_deletes");
	o = cJSON_GetObjectItem(j, "desired");
	assert_int_equal(cJSON_GetObjectItem(o, "projects")->valueint, 7);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "errors")), 0);
	assert_string_equal(cJSON_GetObjectItem(o, "follow")->valuestring, "poll");
	assert_string_equal(cJSON_GetObjectItem(o, "fingerprint")->valuestring,
	    "00c0ffee12345678");
	assert_int_equal(cJSON_GetObjectItem(o, "files")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(o, "loaded")->valuestring,
	    "2023-11-14T22:13:50Z");
	assert_true(cJSON_GetObjectItem(o, "loaded_unix")->valuedouble == 1700000030);
	cJSON_Delete(j);

	/* nothing loaded yet: null, not 0 or 1970 */
	memset(&s, 0, sizeof(s));
	assert_non_null(text = status_snapshot_json(&s));
	assert_non_null(j = cJSON_Parse(text));
	free(text);
	o = cJSON_GetObjectItem(j, "desired");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "loaded")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "loaded_unix")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "fingerprint")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "follow")));
	cJSON_Delete(j);
}

/* Every integer of /status is exact (issue 14): a count at 2^53 + 1
 * prints as its own digits, not as the nearest double. */
static void
test_snapshot_exact(void **state)
{
	struct status_snapshot s;
	char *text;
	(void)state;

	memset(&s, 0, sizeof(s));
	s.version = "0.1.0";
	s.desired_projects = (size_t)9007199254740993ULL;
	s.n_create = 4294967295u;
	assert_non_null(text = status_snapshot_json(&s));
	if (strstr(text, "\"projects\":\t9007199254740993") == NULL)
		fail_msg("%s", text);
	assert_non_null(strstr(text, "\"create\":\t4294967295"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_limits_and_slow_clients),
		cmocka_unit_test(test_disabled_and_bad_listen),
		cmocka_unit_test(test_port_in_use),
		cmocka_unit_test(test_ready_rule),
		cmocka_unit_test(test_snapshot_json),
		cmocka_unit_test(test_snapshot_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
