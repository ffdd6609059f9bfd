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
/* Whether prune mode m deletes an undeclared resource (SPEC rules 3, 6 and
 * 12); created: the ledger records it as made by this tool. */
bool prune_deletes(enum prune_mode m, bool created);

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


/* The fields an update or a rename of a project or a deployment changes
 * (SPEC section 8), in the order they are shown. */
enum plan_field {
	PLAN_FIELD_NAME = 0,          /* project */
	PLAN_FIELD_SLUG,              /* project */
	PLAN_FIELD_REFERENCE,         /* deployment */
	PLAN_FIELD_CLASS,
	PLAN_FIELD_DEFAULT,
	PLAN_FIELD_DASHBOARD_EDIT_CONFIRMATION,
	PLAN_FIELD_SEND_LOGS_TO_CLIENT,
	PLAN_FIELD_EXPIRES_AT,
};

#define PLAN_MAX_CHANGES 8

/* One field of an update: its live value and the value the files declare,
 * typed (the request is built from `to`; plan_change_text gives both as
 * text for output). */
struct plan_change {
	enum plan_field field;
	/* name, slug, reference, class: point into the inputs; NULL: unset */
	const char *from_str, *to_str;
	/* default and the two settings: 1 true, 0 false, -1 unset (the API
	 * did not say); expires_at: ms since the epoch, 0 = never */
	int64_t from_num, to_num;
};

/* "name", "slug", "reference", "class", "default",
 * "dashboard_edit_confirmation", "send_logs_to_client", "expires_at"; "?" */
const char *plan_field_name(enum plan_field f);
/* A change's value (`to` true: the new one) as text: the string, "true" or
 * "false", RFC 3339 UTC ("2027-01-31T00:00:00Z") or "never"; NULL when
 * unset. Uses buf (32 bytes are enough) for what it formats. */
const char *plan_change_text(const struct plan_change *c, bool to, char *buf,
    size_t n);

enum guard { GUARD_EMPTY_DESIRED = 0, GUARD_MAX_DELETES, GUARD_PROTECTED, GUARD_CONFLICT,
	GUARD_KEY_FILE };   /* a declared deploy key is live, its secret file gone */

/* One change of a project's default environment variables (SPEC section
 * 9): `changed` is a set whose value differs from the live one. */
enum plan_env_op { PLAN_ENV_SET = 0, PLAN_ENV_CHANGED, PLAN_ENV_REMOVE };

struct plan_env_change {
	const char *name;
	const char *value;            /* into the desired state (NULL for a
	                               * remove): a secret, sent to the API and
	                               * never printed, logged or saved */
	enum dep_type type;
	enum plan_env_op change;
};

const char *plan_env_op_name(enum plan_env_op op);   /* "set", "changed", "remove" */

/* A declared custom domain that is live and not yet verified. */
struct plan_pending_domain {
	const char *project;
	const char *reference;
	const char *deployment_name;
	const char *domain;
	enum desired_destination destination;
};

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
	/* PLAN_UPDATE / PLAN_RENAME of a project or a deployment. `project`
	 * and `reference` are the declared names (the old ones are the
	 * `from` of the name / reference change); `deployment_name` is the
	 * live deployment's, NULL when it is created by this plan (then the
	 * parent is that create and its result gives the name); project_id
	 * is 0 when the project is created by this plan (same). `parent`:
	 * the create it follows (fields create does not take), or the update
	 * that unsets the old default first. */
	struct plan_change *changes;  /* n_changes, owned by the plan */
	size_t n_changes;

	/* ---- env, domains, deploy keys (SPEC section 9) ---- */
	/* PLAN_ENV (op PLAN_UPDATE): every change of the project's default
	 * env vars, by type (dev, prod, preview, custom) then name; sent in
	 * one request. The project is project_id, or the parent's result. */
	const struct plan_env_change *env;
	size_t n_env;
	/* PLAN_DOMAIN and PLAN_DEPLOY_KEY: `reference` names the deployment,
	 * `deployment_name` too when it is live (else it is the parent's
	 * result: a domain or key of a deployment created in this plan). */
	const char *domain;
	enum desired_destination destination;
	const char *key_name;
};

struct plan_drift {
	const char *project;
	const char *reference;
	const char *deployment_name;
	const char *field;            /* "type", "region", "class", "default",
	                               * and the fields of plan_field_name */
	char want[136];               /* room for a 128-byte project name */
	char have[136];
	bool of_project;              /* a project's (name, slug): reference and
	                               * deployment_name NULL; false: a deployment's */
	int64_t project_id;           /* the live project */
	const char *reason;           /* why it is not changed (type, region);
	                               * NULL: drift: report */
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

	/* SPEC section 9: declared custom domains pending verification, and
	 * how many env vars, domains and deploy keys the files manage on the
	 * resources this plan found live or creates. */
	struct plan_pending_domain *pending_domains;
	size_t n_pending_domains;
	size_t n_managed_env_vars;
	size_t n_managed_domains;
	size_t n_managed_deploy_keys;
	struct arena arena;           /* the env changes and pending domains */
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
/* "create", "delete", "update", "rename"; "project", "deployment", "env",
 * "domain", "deploy_key" (output, audit trail, metric labels). */
const char *plan_op_name(enum plan_op op);
const char *plan_kind_name(enum plan_kind kind);
const char *plan_reason_name(enum plan_reason r);   /* "declared", ... */
size_t plan_count(const struct plan *p, enum plan_op op);
/* Updates as the summary counts them: updates, renames and env updates. */
size_t plan_count_updates(const struct plan *p);

#endif
