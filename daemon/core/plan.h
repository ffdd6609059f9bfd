/* plan.h: the pure diff. (desired, observed, ledger, settings) -> actions in
 * execution order, drift, and what the guards held back. No I/O, no clock,
 * no logging. Strings in the result point into the inputs: a plan lives no
 * longer than the desired and observed states it was built from. */
#ifndef CP_PLAN_H
#define CP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* What happens to live resources the files do not declare (SPEC section 5). */
enum prune_mode { PRUNE_NONE = 0, PRUNE_OWNED, PRUNE_ALL };

const char *prune_mode_name(enum prune_mode m);   /* "none", ...; "?" */
int prune_mode_parse(const char *s, enum prune_mode *out);   /* 0 or -EINVAL */

#define PLAN_NO_PARENT ((size_t)-1)

/* SPEC sections 5, 8 and 9. An update changes fields in place (PATCH); a
 * rename is an update whose name (project) or reference (deployment)
 * changes, perhaps with other fields. */
enum plan_op { PLAN_CREATE = 0, PLAN_DELETE, PLAN_UPDATE, PLAN_RENAME };
/* Env: one update per project holding all its default env var changes.
 * Domains and deploy keys: creates and deletes of one each. */
enum plan_kind { PLAN_PROJECT = 0, PLAN_DEPLOYMENT, PLAN_ENV, PLAN_DOMAIN,
	PLAN_DEPLOY_KEY };
/* What an attribute difference becomes (setting `drift`, SPEC section 8). */
enum drift_mode { DRIFT_CORRECT = 0, DRIFT_REPORT };

const char *drift_mode_name(enum drift_mode m);   /* "correct", "report"; "?" */
int drift_mode_parse(const char *s, enum drift_mode *out);   /* 0 or -EINVAL */

enum plan_reason { REASON_DECLARED = 0, REASON_ABSENT, REASON_PRUNE };
enum guard { GUARD_EMPTY_DESIRED = 0, GUARD_MAX_DELETES, GUARD_PROTECTED, GUARD_CONFLICT };

struct plan_action {
	enum plan_op op;
	enum plan_kind kind;
	enum plan_reason reason;
	const char *project;          /* project name */
	int64_t project_id;           /* 0: the project is created by this plan */
	size_t parent;                /* deployment create in a new project: index
	                               * of that project's create; else PLAN_NO_PARENT */
	const char *reference;        /* deployments */
	const char *deployment_name;  /* deployment deletes */
	const struct desired_deployment *want;   /* deployment creates */
	const struct desired_project *want_project;  /* project creates */

	/* ---- updates and renames (SPEC section 8) ---- */

	/* ---- env, domains, deploy keys (SPEC section 9) ---- */
};

struct plan_drift {
	const char *project;
	const char *reference;
	const char *deployment_name;
	const char *field;            /* "type", "region", "class", "default" */
	char want[64];
	char have[64];
};

struct plan_blocked {
	enum guard guard;
	char message[512];            /* room for two 128-byte names and more */
	const char *project;          /* NULL for the global guards */
	const char *reference;        /* NULL unless a deployment */
};

struct plan_settings {
	enum prune_mode prune;
	unsigned max_deletes;
	bool allow_empty;
	enum drift_mode drift;
};

struct plan {
	struct plan_action *actions;  /* creates (projects, then deployments),
	                               * then deletes (deployments, then projects) */
	size_t n_actions;
	struct plan_drift *drift;
	size_t n_drift;
	struct plan_blocked *blocked;
	size_t n_blocked;
	size_t n_held;                /* deletes a guard removed from actions */
};

/* 0, or -ENOMEM (then *out is empty). The semantics, rule by rule, are in
 * docs/reconcile.md. The desired state must be valid (names unique,
 * references unique per project); the ledger may be in any order, or NULL
 * (no ledger: `owned` prunes nothing, only the files protect). */
int plan_build(const struct desired_state *desired,
    const struct observed_state *observed, const struct ledger *ledger,
    const struct plan_settings *settings, struct plan *out);
void plan_free(struct plan *p);
const char *guard_name(enum guard g);     /* "max_deletes", ... */
const char *plan_reason_name(enum plan_reason r);   /* "declared", ... */
size_t plan_count(const struct plan *p, enum plan_op op);

#endif
