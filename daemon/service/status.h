/* status.h: the status endpoint of `run` (/healthz, /readyz, /status,
 * /metrics, POST /reconcile), served by libmicrohttpd from the daemon's own
 * libuv loop: no thread, MHD's epoll fd watched by a uv_poll_t, its
 * timeouts by a uv_timer_t. The daemon supplies the answers through
 * callbacks, so this module knows nothing of reconciles. */
#ifndef CP_STATUS_H
#define CP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "metrics.h"

#define STATUS_MAX_REQUEST 8192        /* request line + headers, and body */
#define STATUS_MAX_CONNECTIONS 64
#define STATUS_CONNECTION_TIMEOUT_S 10 /* an idle or slow client is dropped */

struct status_handlers {
	/* GET /readyz: 1 when ready; otherwise 0 and a one-line reason in `why`.
	 * NULL: always ready. */
	int (*ready)(void *arg, char *why, size_t len);
	/* GET /status: a malloc'd JSON document (status_snapshot_json), or NULL
	 * on failure (answered 500). */
	char *(*status_json)(void *arg);
	/* POST /reconcile: mark a reconcile pending (no work here); 0 answers
	 * 202, a negative errno (say, shutting down) 503. */
	int (*reconcile)(void *arg);
	void *arg;
};

struct status_server;

/* Listens on `listen` ("127.0.0.1:9464", "[::1]:9464", "localhost:9464";
 * port 0 picks a free one, see status_port). An empty `listen` disables the
 * endpoint: 0 and *out NULL. `m` (may be NULL) is rendered on /metrics and
 * must outlive the server; `h` is copied. 0, or a negative errno with `err`
 * saying why (then *out is NULL). */
int status_start(uv_loop_t *loop, const char *listen, const struct metrics *m,
    const struct status_handlers *h, struct status_server **out, char *err,
    size_t errlen);
/* The bound port; 0 for NULL. */
int status_port(const struct status_server *s);
/* Closes the poll and timer handles; in their close callbacks MHD is
 * stopped (dropping open connections) and the struct freed, so the loop
 * must run once more. NULL is ignored. */
void status_stop(struct status_server *s);

/* "host:port" -> address. Hosts are IP literals (IPv6 in brackets) or
 * "localhost" (127.0.0.1); no name lookups. 0 or -EINVAL with `err`. */
int status_parse_listen(const char *listen, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen);

/* The /readyz rule: an observation completed, and no longer ago than three
 * intervals. Times in ms on any one clock; last_ok_ms 0 means never. */
bool status_ready(uint64_t now_ms, uint64_t last_ok_ms, uint64_t interval_ms);

/* ---- the /status document --------------------------------------------- */

struct status_drift {
	const char *project;
	const char *reference;       /* NULL for a project */
	const char *field;
	const char *want;
	const char *have;
};

struct status_blocked {
	const char *guard;           /* "max_deletes", ... */
	const char *message;
};

/* A declared custom domain that is live but not verified yet. */
struct status_pending_domain {
	const char *project;
	const char *reference;
	const char *domain;
	const char *destination;
};

/* Plain data the daemon fills from its last reconcile; strings are
 * borrowed, NULL is written as null. Times are unix seconds, 0: never. */
struct status_snapshot {
	const char *version;
	int64_t started;             /* when the daemon started */
	bool ready;
	bool running;                /* a reconcile is in progress */
	bool pending;                /* another one is queued */
	int64_t next_reconcile;

	int64_t last_reconcile;      /* when the last one finished */
	const char *last_result;     /* "ok", "error", "blocked"; NULL: none yet */
	double last_duration;        /* seconds */
	const char *last_error;      /* why it failed, or NULL */
	int64_t last_success;
	int64_t last_observation;    /* last complete observation */
	unsigned n_create, n_delete, n_failed;   /* the summary */
	unsigned n_update;                       /* updates and renames, env
	                                          * updates among them */
	const struct status_drift *drift;
	size_t n_drift;
	const struct status_blocked *blocked;
	size_t n_blocked;
	/* SPEC section 9 (last complete observation): */
	const struct status_pending_domain *pending_domains;
	size_t n_pending_domains;
	size_t managed_env_vars, managed_domains, managed_deploy_keys;

	const char *desired_path;
	const char *desired_follow;  /* "watch" or "poll": how changes are seen */
	const char *desired_fingerprint;   /* of the files in use, hex; NULL */
	size_t desired_files;        /* files of the state in use */
	int64_t desired_loaded;      /* when the state in use was loaded */
	size_t desired_projects;
	const char *const *desired_errors;   /* "file:line:col: error: message" */
	size_t n_desired_errors;
};

/* The JSON of GET /status (malloc'd), NULL on ENOMEM. Layout in
 * docs/operations.md. */
char *status_snapshot_json(const struct status_snapshot *s);

#endif
