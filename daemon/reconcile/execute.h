/* execute.h: runs a plan's actions on the loop: creates first (a new
 * project's deployments as soon as its id is known), then deployment deletes,
 * then project deletes; the API client keeps at most `concurrency` in flight.
 * Every create and delete is recorded in the ledger (saved atomically) and
 * in the audit trail. */
#ifndef CP_EXECUTE_H
#define CP_EXECUTE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "api.h"
#include "model.h"
#include "plan.h"

enum action_state {
	ACTION_PENDING = 0,
	ACTION_RUNNING,
	ACTION_OK,
	ACTION_FAILED,
	ACTION_SKIPPED,     /* never sent: its project's create failed, or a stop */
};

struct action_result {
	enum action_state state;
	int64_t project_id;   /* project creates: the new id */
	char *deployment_name; /* deployment creates: the new name */
	char *error;          /* FAILED / SKIPPED: why */
	bool ambiguous;       /* a create that may have happened anyway */
};

struct execute_paths {
	const char *ledger;   /* NULL: do not persist (tests) */
	const char *audit;    /* NULL: no audit trail */
	const char *keys_dir; /* deploy key secrets (keyfile.h); NULL: no key
	                       * can be created */
};

/* Called once per finished action (metrics, logs). */
typedef void (*execute_action_cb)(void *arg, const struct plan_action *a,
    const struct action_result *r);
/* Called once when nothing is left running. ledger_rc is the last ledger
 * save's result (0 when every save succeeded). */
typedef void (*execute_done_cb)(void *arg, int ledger_rc);

struct execution;

/* At most max_in_flight actions are sent at once (0: no limit); the rest
 * wait here, so a stop can skip them. `results` has plan->n_actions zeroed entries owned by the caller (free
 * them with execute_results_free). The plan, ledger and results must stay
 * valid until the done callback. Returns < 0 (and calls nothing) if it could
 * not start. */
int execute_start(uv_loop_t *loop, struct api_client *c, int64_t team,
    unsigned max_in_flight, const struct plan *plan, struct ledger *ledger,
    const struct execute_paths *paths, struct action_result *results,
    execute_action_cb on_action, execute_done_cb done, void *arg,
    struct execution **out);
/* Starts nothing new: what has not been sent is skipped; what is in flight
 * finishes (or is cancelled by api_cancel_all). Never calls the done
 * callback from inside itself. Not to be called after the done callback. */
void execute_stop_starting(struct execution *x);

void execute_results_free(struct action_result *r, size_t n);

#endif
