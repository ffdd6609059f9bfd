/* delay_proxy.c: a loopback TCP proxy for tests and benchmarks that adds a
 * fixed one-way delay to every chunk in each direction, so that a round trip
 * through it costs what it costs on a WAN (issue 13, SPEC section 10).
 *
 * Usage: delay_proxy --target HOST:PORT [--port N] [--control-port N]
 *            [--delay-ms N] [--max-queue BYTES] [--kill-after-bytes N]
 *            [--kill-rate P] [--kill-on up|down|both] [--kill-with rst|fin]
 *            [--seed N]
 *
 * It listens on 127.0.0.1:PORT (0, the default, picks a free port) and
 * prints the port on the first line of stdout, the control port on the
 * second. Each accepted client is connected to the target; bytes read on one
 * side are written to the other --delay-ms later, in order (never earlier,
 * at most about a millisecond later: the loop's timers count whole ms). A TCP handshake
 * costs a round trip on a WAN, so nothing goes either way before 2 x delay
 * after the accept: the first request reaches the target 3 x delay after the
 * client connected, its answer comes back one delay later (4 x delay in all,
 * the same as connect + request on a real link), and every later round trip
 * costs 2 x delay. A TLS handshake through it pays its round trips too.
 *
 * Memory is bounded per connection: when the bytes waiting for one side
 * pass --max-queue (default 256 KiB), reading from the other side stops
 * until half of them are written (TCP's own flow control then holds the
 * sender).
 *
 * Killing connections (a kill is a reset: SO_LINGER 0 on both sockets, so
 * each peer gets RST, and the chunk that triggered it is not delivered;
 * with --kill-with fin both sockets are closed instead, so each peer reads
 * end of file, as when a server closes an idle keep-alive connection, and
 * whatever waits in the queues is dropped too):
 *   --kill-after-bytes N  a connection that would pass N bytes delivered
 *                         (both directions together) is reset instead;
 *   --kill-rate P         each chunk, when it is due, resets its connection
 *                         with probability P (--seed makes it repeatable);
 *   --kill-on DIR         chunks of that direction only may trigger the two
 *                         above: up (client to target), down, both (default);
 *   the control command `kill` resets every open connection at once.
 *
 * The control port (127.0.0.1, line protocol, one answer line per command):
 *   stats  {"accepted":N,"open":N,"failed":N,"killed":N,"bytes_up":N,
 *           "bytes_down":N,"tls_hellos":N,"max_queued":N}
 *          accepted: client connections accepted; open: still open;
 *          failed: target connects that failed; killed: connections reset
 *          by a kill; bytes_up/bytes_down: bytes delivered to the target /
 *          to clients; tls_hellos: connections whose first client bytes are
 *          a TLS handshake record (one full or resumed TLS handshake each);
 *          max_queued: the most bytes ever waiting in one direction.
 *   kill   resets every open connection; answers {"killed":N}
 *   zero   sets the counters (not open) to zero; answers ok
 * e.g. from bash: exec 3<>/dev/tcp/127.0.0.1/$CTL; echo stats >&3; read -r l <&3
 *
 * SIGTERM or SIGINT: stop listening, close every connection, print the
 * stats line on stderr, exit 0. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <uv.h>

#define READ_BUF (64 * 1024)
#define NS_PER_MS 1000000ULL
#define CTL_LINE 256

enum chunk_kind { CHUNK_DATA, CHUNK_EOF, CHUNK_RESET };
enum kill_on { KILL_UP = 1, KILL_DOWN = 2, KILL_BOTH = 3 };

struct pipe;

/* One unit read from a side, waiting until its due time (uv_hrtime ns). */
struct chunk {
	struct chunk *next;
	struct pipe *pipe;
	uv_write_t wr;
	uint64_t due;
	enum chunk_kind kind;
	size_t len;
	char data[];
};

/* One direction of a connection: read from `from`, written to `to`. */
struct pipe {
	struct conn *conn;
	uv_tcp_t *from, *to;
	struct chunk *head, *tail;
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	size_t queued;          /* bytes waiting or being written */
	bool up;                /* client to target */
	bool paused;            /* reading stopped: queue over the cap */
	bool read_done;         /* EOF or error read from `from` */
	bool eof_sent;          /* shutdown of `to` done */
};

struct conn {
	struct proxy *px;
	struct conn *prev, *next;
	uv_tcp_t client, target;
	uv_connect_t connect;
	struct pipe up, down;
	uint64_t ready_at;      /* accept + the TCP handshake's round trip, ns */
	uint64_t delivered;     /* bytes written, both directions */
	int open_handles;
	bool target_ready;
	bool first_seen;        /* the client's first chunk was looked at */
	bool closing;
};

struct ctl_conn {
	struct proxy *px;
	struct ctl_conn *prev, *next;
	uv_tcp_t tcp;
	size_t len;
	char line[CTL_LINE];
	bool closing;
};

struct stats {
	uint64_t accepted, failed, killed, bytes_up, bytes_down, tls_hellos;
	size_t max_queued;
};

struct proxy {
	uv_loop_t *loop;
	uv_tcp_t listener, ctl_listener;
	uv_signal_t sigterm, sigint;
	struct sockaddr_storage target;
	struct conn *conns;
	struct ctl_conn *ctls;
	unsigned open;
	struct stats st;
	uint64_t delay_ms;
	size_t max_queue;
	uint64_t kill_after;    /* 0: off */
	double kill_rate;
	enum kill_on kill_on;
	bool kill_fin;          /* kills close (FIN) rather than reset */
	uint64_t rng;
	bool stopping;
	char buf[READ_BUF];     /* every read lands here, then is copied */
};

/* ---- small helpers ------------------------------------------------------ */

/* splitmix64: the kill draws, repeatable from --seed. */
static double
rng_next(struct proxy *px)
{
	uint64_t z = (px->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

static void
stats_line(const struct proxy *px, char *out, size_t n)
{
	snprintf(out, n, "{\"accepted\":%" PRIu64 ",\"open\":%u,\"failed\":%" PRIu64
	    ",\"killed\":%" PRIu64 ",\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64
	    ",\"tls_hellos\":%" PRIu64 ",\"max_queued\":%zu}\n",
	    px->st.accepted, px->open, px->st.failed, px->st.killed,
	    px->st.bytes_up, px->st.bytes_down, px->st.tls_hellos,
	    px->st.max_queued);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct proxy *px = h->loop->data;

	(void)suggested;
	/* One loop thread: a read is copied out before the next alloc. */
	*buf = uv_buf_init(px->buf, sizeof(px->buf));
}

/* ---- connections -------------------------------------------------------- */

static void pipe_kick(struct pipe *p);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void
conn_free(struct conn *c)
{
	struct pipe *ps[2] = { &c->up, &c->down };

	for (int i = 0; i < 2; i++) {
		struct chunk *ch = ps[i]->head, *nx;

		for (; ch != NULL; ch = nx) {
			nx = ch->next;
			free(ch);
		}
	}
	free(c);
}

static void
conn_unref(struct conn *c)
{
	if (--c->open_handles == 0)
		conn_free(c);
}

/* The sockets' data is the conn, the timers' their pipe. */
static void
on_socket_closed(uv_handle_t *h)
{
	conn_unref(h->data);
}

static void
on_timer_closed(uv_handle_t *h)
{
	conn_unref(((struct pipe *)h->data)->conn);
}

/* A socket closed with SO_LINGER 0 sends RST instead of FIN. uv_fileno
 * fails for a socket not yet created (a connect never started): nothing to
 * reset then. */
static void
linger_zero(uv_tcp_t *t)
{
	uv_os_fd_t fd;
	struct linger lg = { 1, 0 };

	if (uv_fileno((uv_handle_t *)t, &fd) == 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/* Closes both sockets (reset: with RST) and both timers; the conn is freed
 * when the last close callback has run. */
static void
conn_close(struct conn *c, bool reset)
{
	struct proxy *px = c->px;

	if (c->closing)
		return;
	c->closing = true;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	px->open--;
	if (reset) {
		linger_zero(&c->client);
		linger_zero(&c->target);
	}
	uv_close((uv_handle_t *)&c->client, on_socket_closed);
	uv_close((uv_handle_t *)&c->target, on_socket_closed);
	uv_close((uv_handle_t *)&c->up.timer, on_timer_closed);
	uv_close((uv_handle_t *)&c->down.timer, on_timer_closed);
}

static void
conn_kill(struct conn *c)
{
	if (c->closing)
		return;
	c->px->st.killed++;
	conn_close(c, !c->px->kill_fin);
}

static void
maybe_done(struct conn *c)
{
	/* Both directions ended with EOF and everything was written. */
	if (c->up.eof_sent && c->down.eof_sent)
		conn_close(c, false);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct pipe *p = req->data;
	struct conn *c = p->conn;

	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c, true);
		return;
	}
	p->eof_sent = true;
	maybe_done(c);
}

static void
on_written(uv_write_t *wr, int status)
{
	struct chunk *ch = wr->data;
	struct pipe *p = ch->pipe;
	struct conn *c = p->conn;

	p->queued -= ch->len;
	free(ch);
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c, true);
		return;
	}
	if (p->paused && !p->read_done && p->queued <= c->px->max_queue / 2) {
		p->paused = false;
		if (uv_read_start((uv_stream_t *)p->from, on_alloc, on_read) < 0)
			conn_close(c, true);
	}
}

/* Whether a due data chunk of this pipe triggers a kill. */
static bool
kill_due(struct conn *c, const struct pipe *p, size_t len)
{
	struct proxy *px = c->px;

	if (!(px->kill_on & (p->up ? KILL_UP : KILL_DOWN)))
		return false;
	if (px->kill_after > 0 && c->delivered + len > px->kill_after)
		return true;
	return px->kill_rate > 0 && rng_next(px) < px->kill_rate;
}

/* Sends every chunk whose time has come, in order; re-arms the timer for
 * the next one. Called by the timer and when the target connects. */
static void
pipe_run(struct pipe *p)
{
	struct conn *c = p->conn;
	struct proxy *px = c->px;
	uint64_t now = uv_hrtime();
	struct chunk *ch;

	if (!c->target_ready)
		return;
	while ((ch = p->head) != NULL && ch->due <= now) {
		p->head = ch->next;
		if (p->head == NULL)
			p->tail = NULL;
		if (ch->kind == CHUNK_RESET) {
			free(ch);
			conn_close(c, true);
			return;
		}
		if (ch->kind == CHUNK_EOF) {
			free(ch);
			p->shutdown.data = p;
			if (uv_shutdown(&p->shutdown, (uv_stream_t *)p->to, on_shutdown) < 0)
				conn_close(c, true);
			return;
		}
		if (kill_due(c, p, ch->len)) {
			p->queued -= ch->len;
			free(ch);
			conn_kill(c);
			return;
		}
		uv_buf_t b = uv_buf_init(ch->data, (unsigned)ch->len);

		ch->wr.data = ch;
		if (uv_write(&ch->wr, (uv_stream_t *)p->to, &b, 1, on_written) < 0) {
			p->queued -= ch->len;
			free(ch);
			conn_close(c, true);
			return;
		}
		c->delivered += ch->len;
		if (p->up)
			px->st.bytes_up += ch->len;
		else
			px->st.bytes_down += ch->len;
	}
}

static void
on_pipe_timer(uv_timer_t *t)
{
	pipe_kick(t->data);
}

static void
pipe_kick(struct pipe *p)
{
	uint64_t now;

	pipe_run(p);
	if (p->conn->closing || p->head == NULL)
		return;
	/* The timer counts whole milliseconds from the loop's (older) time:
	 * round up, and pipe_run re-arms it if it fires a little early, so a
	 * chunk is never sent before its time and at most about 1 ms after. */
	now = uv_hrtime();
	uv_timer_start(&p->timer, on_pipe_timer, p->head->due > now ?
	    (p->head->due - now + NS_PER_MS - 1) / NS_PER_MS : 0, 0);
}

static int
pipe_push(struct pipe *p, enum chunk_kind kind, const char *data, size_t len)
{
	struct conn *c = p->conn;
	struct proxy *px = c->px;
	uint64_t now = uv_hrtime();
	struct chunk *ch = malloc(sizeof(*ch) + len);

	if (ch == NULL)
		return -ENOMEM;
	memset(ch, 0, sizeof(*ch));
	ch->pipe = p;
	ch->kind = kind;
	ch->len = len;
	if (len > 0)
		memcpy(ch->data, data, len);
	ch->due = (now > c->ready_at ? now : c->ready_at) + px->delay_ms * NS_PER_MS;
	if (p->tail != NULL)
		p->tail->next = ch;
	else
		p->head = ch;
	p->tail = ch;
	p->queued += len;
	if (p->queued > px->st.max_queued)
		px->st.max_queued = p->queued;
	if (p->head == ch)
		pipe_kick(p);
	return 0;
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	struct pipe *p = (s == (uv_stream_t *)&c->client) ? &c->up : &c->down;
	struct proxy *px = c->px;
	int rc;

	if (nread == 0 || c->closing)
		return;
	if (nread > 0) {
		if (p->up && !c->first_seen) {
			c->first_seen = true;
			/* A TLS record of type handshake (22), version 3.x. */
			if (nread >= 2 && (unsigned char)buf->base[0] == 0x16 &&
			    buf->base[1] == 0x03)
				px->st.tls_hellos++;
		}
		rc = pipe_push(p, CHUNK_DATA, buf->base, (size_t)nread);
		if (rc == 0 && !c->closing && p->queued > px->max_queue) {
			p->paused = true;
			uv_read_stop(s);
		}
	} else {
		p->read_done = true;
		uv_read_stop(s);
		rc = pipe_push(p, nread == UV_EOF ? CHUNK_EOF : CHUNK_RESET, NULL, 0);
	}
	if (rc < 0)
		conn_close(c, true);
}

static void
on_target_connected(uv_connect_t *req, int status)
{
	struct conn *c = req->data;

	if (status == UV_ECANCELED || c->closing)
		return;
	if (status < 0) {
		c->px->st.failed++;
		conn_close(c, true);
		return;
	}
	c->target_ready = true;
	(void)uv_tcp_nodelay(&c->target, 1);
	if (uv_read_start((uv_stream_t *)&c->target, on_alloc, on_read) < 0) {
		conn_close(c, true);
		return;
	}
	pipe_kick(&c->up);
	pipe_kick(&c->down);
}

static void
pipe_init(struct conn *c, struct pipe *p, bool up)
{
	p->conn = c;
	p->up = up;
	p->from = up ? &c->client : &c->target;
	p->to = up ? &c->target : &c->client;
	uv_timer_init(c->px->loop, &p->timer);
	p->timer.data = p;
}

static void
on_accept(uv_stream_t *server, int status)
{
	struct proxy *px = server->data;
	struct conn *c;

	if (status < 0 || px->stopping)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		fprintf(stderr, "delay_proxy: out of memory\n");
		return;
	}
	c->px = px;
	uv_tcp_init(px->loop, &c->client);
	uv_tcp_init(px->loop, &c->target);
	c->client.data = c->target.data = c;
	pipe_init(c, &c->up, true);
	pipe_init(c, &c->down, false);
	c->open_handles = 4;
	c->next = px->conns;
	if (px->conns != NULL)
		px->conns->prev = c;
	px->conns = c;
	px->open++;
	if (uv_accept(server, (uv_stream_t *)&c->client) < 0) {
		conn_close(c, false);
		return;
	}
	px->st.accepted++;
	c->ready_at = uv_hrtime() + 2 * px->delay_ms * NS_PER_MS;
	(void)uv_tcp_nodelay(&c->client, 1);
	c->connect.data = c;
	if (uv_tcp_connect(&c->connect, &c->target,
	    (const struct sockaddr *)&px->target, on_target_connected) < 0 ||
	    uv_read_start((uv_stream_t *)&c->client, on_alloc, on_read) < 0) {
		px->st.failed++;
		conn_close(c, true);
	}
}

/* ---- control port --------------------------------------------------------- */

static void
on_ctl_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
ctl_close(struct ctl_conn *k)
{
	struct proxy *px = k->px;

	if (k->closing)
		return;
	k->closing = true;
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		px->ctls = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	uv_close((uv_handle_t *)&k->tcp, on_ctl_closed);
}

static void
on_ctl_written(uv_write_t *wr, int status)
{
	(void)status;
	free(wr);
}

static void
ctl_reply(struct ctl_conn *k, const char *text)
{
	size_t n = strlen(text);
	uv_write_t *wr = malloc(sizeof(*wr) + n);
	uv_buf_t b;

	if (wr == NULL) {
		ctl_close(k);
		return;
	}
	memcpy((char *)(wr + 1), text, n);
	b = uv_buf_init((char *)(wr + 1), (unsigned)n);
	if (uv_write(wr, (uv_stream_t *)&k->tcp, &b, 1, on_ctl_written) < 0) {
		free(wr);
		ctl_close(k);
	}
}

static void
ctl_command(struct ctl_conn *k, char *line)
{
	struct proxy *px = k->px;
	char out[320];

	line[strcspn(line, "\r")] = '\0';
	if (strcmp(line, "stats") == 0) {
		stats_line(px, out, sizeof(out));
	} else if (strcmp(line, "kill") == 0) {
		unsigned n = 0;

		while (px->conns != NULL) {
			conn_kill(px->conns);
			n++;
		}
		snprintf(out, sizeof(out), "{\"killed\":%u}\n", n);
	} else if (strcmp(line, "zero") == 0) {
		memset(&px->st, 0, sizeof(px->st));
		snprintf(out, sizeof(out), "ok\n");
	} else {
		snprintf(out, sizeof(out), "error: unknown command (stats, kill, zero)\n");
	}
	ctl_reply(k, out);
}

static void
on_ctl_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl_conn *k = s->data;

	if (nread < 0) {
		ctl_close(k);
		return;
	}
	for (ssize_t i = 0; i < nread && !k->closing; i++) {
		char ch = buf->base[i];

		if (ch == '\n') {
			k->line[k->len] = '\0';
			k->len = 0;
			ctl_command(k, k->line);
		} else if (k->len + 1 < sizeof(k->line)) {
			k->line[k->len++] = ch;
		} else {
			ctl_reply(k, "error: line too long\n");
			ctl_close(k);
		}
	}
}

static void
on_ctl_accept(uv_stream_t *server, int status)
{
	struct proxy *px = server->data;
	struct ctl_conn *k;

	if (status < 0 || px->stopping || (k = calloc(1, sizeof(*k))) == NULL)
		return;
	k->px = px;
	uv_tcp_init(px->loop, &k->tcp);
	k->tcp.data = k;
	k->next = px->ctls;
	if (px->ctls != NULL)
		px->ctls->prev = k;
	px->ctls = k;
	if (uv_accept(server, (uv_stream_t *)&k->tcp) < 0 ||
	    uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_ctl_read) < 0)
		ctl_close(k);
}

/* ---- start and stop ---------------------------------------------------- */

static void
on_signal(uv_signal_t *s, int signum)
{
	struct proxy *px = s->data;

	(void)signum;
	if (px->stopping)
		return;
	px->stopping = true;
	uv_close((uv_handle_t *)&px->listener, NULL);
	uv_close((uv_handle_t *)&px->ctl_listener, NULL);
	uv_close((uv_handle_t *)&px->sigterm, NULL);
	uv_close((uv_handle_t *)&px->sigint, NULL);
	while (px->conns != NULL)
		conn_close(px->conns, false);
	while (px->ctls != NULL)
		ctl_close(px->ctls);
}

static int
listen_on(struct proxy *px, uv_tcp_t *t, unsigned port, uv_connection_cb cb,
    unsigned *bound)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int len = sizeof(ss), rc;

	uv_ip4_addr("127.0.0.1", (int)port, &sin);
	uv_tcp_init(px->loop, t);
	t->data = px;
	if ((rc = uv_tcp_bind(t, (const struct sockaddr *)&sin, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)t, 128, cb)) < 0 ||
	    (rc = uv_tcp_getsockname(t, (struct sockaddr *)&ss, &len)) < 0) {
		fprintf(stderr, "delay_proxy: cannot listen on 127.0.0.1:%u: %s\n",
		    port, uv_strerror(rc));
		return rc;
	}
	*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static int
parse_target(const char *s, struct sockaddr_storage *out)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints, *res = NULL;
	size_t hl;
	int rc;

	if (colon == NULL || colon == s || colon[1] == '\0' ||
	    (hl = (size_t)(colon - s)) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		fprintf(stderr, "delay_proxy: target %s: %s\n", s, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static int
parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: delay_proxy --target HOST:PORT [--port N] [--control-port N]\n"
	    "           [--delay-ms N] [--max-queue BYTES] [--kill-after-bytes N]\n"
	    "           [--kill-rate P] [--kill-on up|down|both] [--kill-with rst|fin]\n"
	    "           [--seed N]\n"
	    "A loopback TCP proxy adding a one-way delay to every chunk (see the\n"
	    "opening comment of tests/support/delay_proxy.c and docs/testing.md).\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "port", required_argument, NULL, 'p' },
		{ "control-port", required_argument, NULL, 'c' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "max-queue", required_argument, NULL, 'q' },
		{ "kill-after-bytes", required_argument, NULL, 'k' },
		{ "kill-rate", required_argument, NULL, 'r' },
		{ "kill-on", required_argument, NULL, 'o' },
		{ "kill-with", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct proxy px;
	const char *target = NULL;
	uint64_t port = 0, ctl_port = 0, v;
	unsigned bound, ctl_bound;
	char *end, line[320];
	int ch, idx = 0;

	px.max_queue = 256 * 1024;
	px.kill_on = KILL_BOTH;
	px.rng = 1;
	while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		switch (ch) {
		case 't':
			target = optarg;
			break;
		case 'p':
			if (parse_num(optarg, 65535, &port) < 0)
				goto bad;
			break;
		case 'c':
			if (parse_num(optarg, 65535, &ctl_port) < 0)
				goto bad;
			break;
		case 'd':
			if (parse_num(optarg, 600000, &px.delay_ms) < 0)
				goto bad;
			break;
		case 'q':
			if (parse_num(optarg, (uint64_t)1 << 30, &v) < 0 || v == 0)
				goto bad;
			px.max_queue = (size_t)v;
			break;
		case 'k':
			if (parse_num(optarg, UINT64_MAX, &px.kill_after) < 0)
				goto bad;
			break;
		case 'r':
			errno = 0;
			px.kill_rate = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    !(px.kill_rate >= 0 && px.kill_rate <= 1))
				goto bad;
			break;
		case 'o':
			if (strcmp(optarg, "up") == 0)
				px.kill_on = KILL_UP;
			else if (strcmp(optarg, "down") == 0)
				px.kill_on = KILL_DOWN;
			else if (strcmp(optarg, "both") == 0)
				px.kill_on = KILL_BOTH;
			else
				goto bad;
			break;
		case 'w':
			if (strcmp(optarg, "rst") == 0)
				px.kill_fin = false;
			else if (strcmp(optarg, "fin") == 0)
				px.kill_fin = true;
			else
				goto bad;
			break;
		case 's':
			if (parse_num(optarg, UINT64_MAX, &px.rng) < 0)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || target == NULL) {
		usage(stderr);
		return 2;
	}
	if (parse_target(target, &px.target) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	px.loop = uv_default_loop();
	px.loop->data = &px;
	if (listen_on(&px, &px.listener, (unsigned)port, on_accept, &bound) < 0 ||
	    listen_on(&px, &px.ctl_listener, (unsigned)ctl_port, on_ctl_accept,
	    &ctl_bound) < 0)
		return 1;
	uv_signal_init(px.loop, &px.sigterm);
	uv_signal_init(px.loop, &px.sigint);
	px.sigterm.data = px.sigint.data = &px;
	uv_signal_start(&px.sigterm, on_signal, SIGTERM);
	uv_signal_start(&px.sigint, on_signal, SIGINT);
	printf("%u\n%u\n", bound, ctl_bound);
	fflush(stdout);

	uv_run(px.loop, UV_RUN_DEFAULT);
	stats_line(&px, line, sizeof(line));
	fprintf(stderr, "delay_proxy: %s", line);
	if (uv_loop_close(px.loop) != 0) {
		fprintf(stderr, "delay_proxy: handles left open at exit\n");
		return 1;
	}
	return 0;
bad:
	fprintf(stderr, "delay_proxy: bad value for --%s: %s\n", opts[idx].name,
	    optarg);
	usage(stderr);
	return 2;
}
