/* api.h: the asynchronous Convex Management API client. Every call runs on
 * the caller's libuv loop through curl multi (see http.h); none blocks.
 *
 * Contract of every call: a negative return means the call did not start and
 * its callback will never run; 0 means the callback runs exactly once, later,
 * from the loop (never from inside the call). Arrays handed to a callback
 * belong to the callback, which frees them with observed_*_free() + free(). */
#ifndef CP_API_H
#define CP_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "model.h"
#include "plan.h"          /* struct plan_env_change */

/* What went wrong with one call, after its retries. */
struct api_error {
	int status;             /* HTTP status; 0 when there was no answer */
	char code[64];          /* the API's "code", or e.g. "ConnectionError",
	                         * "Timeout", "DecodeError", "BodyTooLarge" */
	char message[512];      /* the API's "message", or curl's / the decoder's */
	char route[192];        /* e.g. "POST /teams/1/create_project" */
	int attempts;           /* how many times it was sent */
	bool ambiguous;         /* a create whose request may have reached the
	                         * server (5xx, timeout after sending): the next
	                         * observation decides, it is never resent */
};

/* "HTTP 500 InternalServerError: message (POST /teams/1/create_project, 1 attempt)" */
void api_error_format(const struct api_error *e, char *out, size_t n);

struct api_config {
	const char *base_url;        /* ".../v1", no trailing slash */
	const char *token;           /* never logged */
	const char *ca_file;         /* NULL: system store */
	unsigned concurrency;        /* transfers in flight at most (>= 1) */
	uint64_t request_timeout_ms; /* whole transfer */
	uint64_t connect_timeout_ms; /* 0: 10 s */
	/* Retry policy of SPEC section 5; 0 means the default (5, 500, 30000).
	 * Tests shrink the delays. */
	unsigned max_tries;
	uint64_t backoff_base_ms;
	uint64_t backoff_cap_ms;
	/* The longest wait a server's Retry-After gets; 0 means 30 s, the
	 * backoff cap of SPEC section 5 (tests shrink backoff_cap_ms alone). */
	uint64_t retry_after_cap_ms;
	/* The time a reconcile may spend waiting for retries (counted while
	 * at least one call waits); 0 means (max_tries - 1) x the larger cap,
	 * the longest one call could wait: 4 x 30 s = 120 s by default. A
	 * retry that would go past it is not made: the call fails with its
	 * last error. */
	uint64_t retry_budget_ms;
	/* Largest response body accepted; 0 means 32 MiB (tests shrink it). */
	size_t max_body;
	/* Called after every HTTP exchange (each attempt), for metrics. `route`
	 * is the template ("GET /teams/{team}/projects"); status 0 = no answer. */
	void (*on_request)(void *arg, const char *route, int status, double seconds);
	void *on_request_arg;
};

struct api_client;

/* http:// is refused unless the host is loopback; errors land in `err`. */
int api_client_new(uv_loop_t *loop, const struct api_config *cfg,
    struct api_client **out, struct api_error *err);
/* Cancels every call in flight (their callbacks run with -ECANCELED), closes
 * the libuv handles and calls `closed` once they are all closed; the client
 * is freed just before. Calls started after this fail with -ESHUTDOWN. */
void api_client_close(struct api_client *c, void (*closed)(void *arg), void *arg);
/* Cancels every call in flight, queued or waiting to retry; their callbacks
 * run with -ECANCELED from the loop, after this returns. */
void api_cancel_all(struct api_client *c);
unsigned api_in_flight(const struct api_client *c);
/* Starts a new count of the time spent waiting for retries (see
 * retry_budget_ms); the reconciler calls it at the start of each one. */
void api_retry_budget_reset(struct api_client *c);
/* True once the paginated project / team-deployment routes answered 404 and
 * the client switched to the legacy routes (remembered for the process). */
bool api_legacy_projects(const struct api_client *c);
bool api_legacy_deployments(const struct api_client *c);

/* rc of a callback: 0, or -EACCES (401), -EPERM (403), -ENOENT (404),
 * -EEXIST (409), -EINVAL (other 4xx), -EAGAIN (429 after every try), -EIO
 * (5xx), -ECONNREFUSED (no connection), -ECONNRESET (connection lost),
 * -ETIMEDOUT, -EFBIG (body over the cap), -EPROTO (TLS), -EBADMSG (decoding),
 * -ELOOP (a pagination that never ends), -ECANCELED, -ENOMEM. */
typedef void (*api_done_cb)(void *arg, int rc, const struct api_error *err);
typedef void (*api_token_cb)(void *arg, int rc, const struct api_error *err,
    int64_t team_id);
/* A listing's result: the array is the callee's (free it), the items'
 * strings are in `strings`, which the callee takes with strpool_move before
 * it returns (the listing frees whatever is left in it). On failure items
 * is NULL and n 0. */
typedef void (*api_projects_cb)(void *arg, int rc, const struct api_error *err,
    struct observed_project *items, size_t n, struct strpool *strings);
typedef void (*api_deployments_cb)(void *arg, int rc, const struct api_error *err,
    struct observed_deployment *items, size_t n, struct strpool *strings);
typedef void (*api_project_created_cb)(void *arg, int rc,
    const struct api_error *err, int64_t project_id, const char *slug);
typedef void (*api_deployment_cb)(void *arg, int rc, const struct api_error *err,
    struct observed_deployment *dep);   /* dep owned by the callee */

/* GET /token_details; a project token fails with -EPERM and a clear message. */
int api_token_details(struct api_client *c, api_token_cb cb, void *arg);
/* Every project of the team: all pages of GET /teams/{team}/projects, or the
 * legacy GET /teams/{team}/list_projects where the former answers 404. */
int api_list_projects(struct api_client *c, int64_t team, api_projects_cb cb, void *arg);
/* Every cloud deployment of the team (all pages). rc -ENOTSUP: the route does
 * not exist on this API (404); list per project instead. */
int api_list_team_deployments(struct api_client *c, int64_t team,
    api_deployments_cb cb, void *arg);
int api_list_project_deployments(struct api_client *c, int64_t project_id,
    api_deployments_cb cb, void *arg);
int api_create_project(struct api_client *c, int64_t team, const char *name,
    api_project_created_cb cb, void *arg);
int api_create_deployment(struct api_client *c, int64_t project_id,
    const struct desired_deployment *want, api_deployment_cb cb, void *arg);
/* A 404 answer counts as done (rc 0). */
int api_delete_project(struct api_client *c, int64_t project_id, api_done_cb cb, void *arg);
int api_delete_deployment(struct api_client *c, const char *name, api_done_cb cb, void *arg);
int api_get_deployment(struct api_client *c, const char *name, api_deployment_cb cb, void *arg);
/* PATCH /deployments/{name} with a JSON object body. */
int api_update_deployment(struct api_client *c, const char *name,
    const char *json_body, api_done_cb cb, void *arg);

/* ---- SPEC section 9 (api_extras.c) -------------------------------------- */

typedef void (*api_env_cb)(void *arg, int rc, const struct api_error *err,
    struct observed_env_var *items, size_t n);
typedef void (*api_domains_cb)(void *arg, int rc, const struct api_error *err,
    struct observed_domain *items, size_t n);
typedef void (*api_deploy_keys_cb)(void *arg, int rc,
    const struct api_error *err, struct observed_deploy_key *items, size_t n);
/* secret: the new key's secret, registered with the scrubber (secrets.h);
 * valid during the callback only (then wiped). */
typedef void (*api_key_created_cb)(void *arg, int rc,
    const struct api_error *err, const char *secret);

/* Every default env var of a project: all pages of GET
 * /projects/{id}/list_default_environment_variables, one item per (type,
 * name) (the API's deploymentTypes groups expanded), a (type, name) listed
 * twice with different values refused. Items free with
 * observed_env_var_free + free. */
int api_list_env(struct api_client *c, int64_t project_id, api_env_cb cb, void *arg);
/* POST /projects/{id}/update_default_environment_variables with all n
 * changes in one request (a remove sends "value": null). Retried like a
 * GET: setting values is idempotent. The body is wiped once sent. */
int api_update_env(struct api_client *c, int64_t project_id,
    const struct plan_env_change *changes, size_t n, api_done_cb cb, void *arg);
/* GET /deployments/{name}/custom_domains; each item's deployment is `name`. */
int api_list_custom_domains(struct api_client *c, const char *deployment,
    api_domains_cb cb, void *arg);
/* Sent at most once (a create); the next observation decides an
 * ambiguous one. */
int api_create_custom_domain(struct api_client *c, const char *deployment,
    const char *domain, enum desired_destination dest, api_done_cb cb, void *arg);
/* A 404 answer counts as done (rc 0). */
int api_delete_custom_domain(struct api_client *c, const char *deployment,
    const char *domain, enum desired_destination dest, api_done_cb cb, void *arg);
/* GET /deployments/{name}/list_deploy_keys (a plain array); keys are
 * matched by name. */
int api_list_deploy_keys(struct api_client *c, const char *deployment,
    api_deploy_keys_cb cb, void *arg);
/* POST /deployments/{name}/create_deploy_key {"name"}: sent at most once. */
int api_create_deploy_key(struct api_client *c, const char *deployment,
    const char *name, api_key_created_cb cb, void *arg);
/* POST /deployments/{name}/delete_deploy_key {"id": name}; 404 is done. */
int api_delete_deploy_key(struct api_client *c, const char *deployment,
    const char *name, api_done_cb cb, void *arg);

#endif
