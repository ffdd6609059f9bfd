/* daemon.h: `run`, the long-running reconciler (SPEC section 6). */
#ifndef CP_DAEMON_H
#define CP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api.h"
#include "desired_fingerprint.h"
#include "desired_sources.h"
#include "metrics.h"
#include "model.h"
#include "notify.h"
#include "reconcile.h"
#include "settings.h"
#include "status.h"
#include "token.h"
#include "watch.h"

/* What the last reconcile left, copied out of its outcome for /status (the
 * outcome itself points into a desired state that may be replaced). */
struct daemon_last {
	int64_t finished;          /* unix seconds; 0: none yet */
	const char *result;        /* "ok", "error", "blocked" (static) */
	double duration;
	char *error;
	unsigned n_create, n_delete, n_failed;
	unsigned n_update;         /* updates and renames (SPEC section 8) */
	struct status_drift *drift;
	size_t n_drift;
	struct status_blocked *blocked;
	size_t n_blocked;
	struct status_pending_domain *pending_domains;   /* SPEC section 9 */
	size_t n_pending_domains;
	size_t managed_env_vars, managed_domains, managed_deploy_keys;
	char **strings;            /* every string the arrays above point to */
	size_t n_strings;
};

struct daemon {
	uv_loop_t *loop;
	struct settings settings;  /* owned: replaced on SIGHUP */
	struct token token;
	struct api_client *client;
	struct reconciler rec;
	bool rec_ready;
	struct metrics *metrics;
	struct status_server *status;
	struct notify_watchdog *watchdog;
	struct watch *watch;
	int lock_fd;

	uv_timer_t timer;          /* next reconcile: interval, or backoff */
	uv_timer_t grace;          /* shutdown: in-flight requests get 10 s */
	uv_signal_t sighup, sigterm, sigint;

	struct desired_state *desired;   /* the last valid desired state */
	struct desired_state *in_use;    /* the one a running reconcile reads */
	int64_t desired_loaded;
	char **desired_errors;           /* "file:line:col: error: ..." */
	size_t n_desired_errors;
	/* Level-triggered: the files' fingerprint at the last load, valid or
	 * not, is what the check before every reconcile compares with. */
	struct desired_fingerprint fp_seen;
	bool fp_ok;                      /* false: the next check reloads */
	struct desired_fingerprint fp_loaded;   /* of the state in use */
	struct desired_sources sources;  /* env value files of the last load,
	                                  * valid or not, with what they held */
	const char *next_trigger;        /* METRICS_TRIGGER_* of the coming reconcile */
	bool watch_degraded;             /* events were lost or a folder is not watched */
	bool watch_logged[WATCH_PROBLEMS];   /* each kind of problem logged once */
	enum watch_fault watch_fault;    /* test hook: CP_TEST_WATCH_FAULT */

	bool running;
	bool pending;
	bool stopping;
	bool reload_client;        /* settings changed under a running reconcile */
	uint64_t backoff_ms;       /* 0 after a success */
	int64_t started;
	int64_t next_reconcile;
	uint64_t last_observation_ms;   /* uv_now of the last complete observation */
	int64_t last_observation;
	int64_t last_success;
	struct daemon_last last;
};

/* cmd_run.c: the `run` command. */
int cmd_run(const struct settings *s, int argc, char **argv);

/* daemon_report.c: what a finished reconcile tells metrics, logs, systemd
 * and /status. */
void daemon_report(struct daemon *d, const struct reconcile_outcome *o);
void daemon_last_free(struct daemon_last *l);
char *daemon_status_json(void *arg);
int daemon_ready(void *arg, char *why, size_t len);
void daemon_on_action(void *arg, const struct plan_action *a,
    const struct action_result *r);
void daemon_on_request(void *arg, const char *route, int status, double seconds);
/* How the desired files are followed: "watch", or "poll" when the setting
 * says so or the watch is not running or has failed. */
const char *daemon_follow(const struct daemon *d);

#endif
