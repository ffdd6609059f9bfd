/* reconcile.h: one reconcile = observe -> plan -> (apply only) execute. */
#ifndef CP_RECONCILE_H
#define CP_RECONCILE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api.h"
#include "execute.h"
#include "intents.h"
#include "model.h"
#include "plan.h"

enum reconcile_mode { RECONCILE_PLAN = 0, RECONCILE_APPLY };

struct reconcile_config {
	int64_t team_id;          /* 0: discover with GET /token_details */
	struct plan_settings plan;
	const char *state_dir;    /* ledger.json and actions.jsonl live here */
	unsigned concurrency;     /* actions in flight at most (0: no limit) */
	const char *keys_dir;     /* deploy key secrets; NULL: state_dir/keys */
};

struct reconcile_outcome {
	enum reconcile_mode mode;
	int rc;                   /* 0, or < 0: nothing was acted on */
	char error[800];          /* when rc < 0: which request failed and how */
	int64_t team_id;
	struct observed_state observed;
	struct plan plan;         /* points into observed and the desired state */
	struct action_result *results;   /* apply only, plan.n_actions long */
	size_t n_ok, n_failed, n_skipped;
	int ledger_rc;            /* a ledger save failed: < 0 */
	struct intents_report intents;   /* what the observation resolved */
	double seconds;           /* wall time of the whole reconcile */
};

/* Called once per reconcile; the outcome belongs to the callee until
 * reconcile_outcome_free. */
typedef void (*reconcile_done_cb)(void *arg, struct reconcile_outcome *out);

struct reconciler {
	uv_loop_t *loop;
	struct api_client *client;
	struct reconcile_config cfg;
	int64_t team;             /* known team (configured or discovered) */
	struct ledger ledger;
	char *state_dir;
	char *ledger_path;
	char *audit_path;
	char *keys_dir;
	char *intents_path;
	struct intents intents;   /* open create intents, read with the ledger */
	bool intents_clean;       /* the file is exactly `intents`: appendable */
	bool intents_dirty;       /* `intents` changed since it was read */

	/* the reconcile in progress */
	bool busy;
	bool stopping;
	const struct desired_state *ds;
	struct reconcile_outcome *out;
	struct execution *exec;
	reconcile_done_cb done;
	void *done_arg;
	uint64_t started_ms;

	/* `apply FILE` (may be NULL): called with the new plan before the
	 * ledger is saved or anything is sent; non-zero refuses the apply,
	 * which then fails with the message it wrote and does nothing. */
	int (*gate)(void *arg, const struct reconcile_outcome *out, char *msg,
	    size_t len);
	void *gate_arg;

	/* per finished action, for metrics and logs (may be NULL) */
	execute_action_cb on_action;
	void *on_action_arg;
};

int reconciler_init(struct reconciler *r, uv_loop_t *loop, struct api_client *c,
    const struct reconcile_config *cfg);
void reconciler_cleanup(struct reconciler *r);
/* Before anything is sent: the state files (ledger.json, intents.jsonl,
 * their temporary files, actions.jsonl, lock) must be regular files or
 * absent, the ledger and the intents readable, the ledger not from a newer
 * version (damage is not an error: a damaged ledger is moved aside by the
 * first apply, a damaged intent line skipped). 0 or a negative errno,
 * logged. `run` calls it at start; reconcile_start checks the same. */
int reconcile_check_state(struct reconciler *r);
/* -EBUSY while one runs; otherwise every failure is logged here (the
 * refusals of reconcile_check_state among them). `ds` must stay valid
 * until the outcome is freed. */
int reconcile_start(struct reconciler *r, const struct desired_state *ds,
    enum reconcile_mode mode, reconcile_done_cb done, void *arg);
/* Shutdown: start nothing new; what is in flight finishes or is cancelled
 * by the API client. */
void reconcile_stop_starting(struct reconciler *r);
void reconcile_outcome_free(struct reconcile_outcome *o);

/* Exit status of `plan` (0 no changes, 2 changes, 1 error) and `apply`
 * (0 converged, 1 a failure, 3 a guard held something back). */
int reconcile_exit_code(const struct reconcile_outcome *o);

#endif
