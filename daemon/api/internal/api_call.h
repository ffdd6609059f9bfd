/* api_call.h: inside the API client: the client struct and one logical
 * request (struct api_call: sent, perhaps retried, ended exactly once in its
 * continuation). The engine is api.c; api_list.c chains calls into cursor
 * listings and api_routes.c holds the single calls. Not for other modules. */
#ifndef CP_API_CALL_H
#define CP_API_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <uv.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "cdefs.h"

struct http_request;

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
	bool budget_spent;      /* a retry was refused: the wait bound is spent */
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
	uint64_t ra_cap_ms;     /* the longest wait a Retry-After gets */
	/* Waiting for retries, counted per reconcile (api_retry_budget_reset):
	 * the time during which at least one call waits, at most budget_ms. */
	uint64_t budget_ms;
	uint64_t wait_used_ms;
	uint64_t wait_horizon_ms;  /* loop time when the last wait ends */
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

/*
 * Creates and sends a call. path starts with '/'; query (may be NULL) is
 * appended after '?'; body (may be NULL) is copied; tmpl is the route
 * template given to on_request. Returns 0 (`done` runs later from the loop,
 * exactly once, and the call is freed after it returns) or a negative errno
 * (it never runs).
 */
int call_start(struct api_client *c, const char *method, const char *tmpl,
    const char *path, const char *query, const char *body,
    enum policy policy, call_done_fn done, union user_cb cb, void *arg,
    void *ctx);
/* Fills e for this call (route, attempts) with a status, code and message. */
void call_set_err(struct api_error *e, const struct api_call *call, int status,
    const char *code, const char *fmt, ...) CP_PRINTF(5, 6);
/* A 2xx body that does not decode (ambiguous for a create: it was done):
 * why, or "out of memory" when rc is -ENOMEM. */
void call_decode_err(struct api_error *e, const struct api_call *call, int rc,
    const char *why);
/* o printed compactly and deleted (NULL in, or out of memory: NULL). */
char *call_print_body(cJSON *o);
/* Percent-encodes all but RFC 3986 unreserved characters (one path segment
 * or query value); -ENAMETOOLONG when out is too small. */
int call_escape(char *out, size_t n, const char *s);
/* "/deployments/NAME" then suffix ("", "/delete", ...), NAME escaped:
 * 0, -EINVAL for an empty name, -ENAMETOOLONG. */
int call_deployment_path(char *path, size_t n, const char *name,
    const char *suffix);

#endif
