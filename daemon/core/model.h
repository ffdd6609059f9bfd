/* model.h: the data every module shares: desired state (from the YAML files),
 * observed state (from the API) and the ledger (what this tool created and
 * what carries `protect`). Plain structs, arrays with counts, owned strings. */
#ifndef CP_MODEL_H
#define CP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "strpool.h"

enum dep_type { DEP_DEV = 0, DEP_PROD, DEP_PREVIEW, DEP_CUSTOM };

const char *dep_type_name(enum dep_type t);
int dep_type_parse(const char *s, enum dep_type *out);   /* 0 or -EINVAL */

/* Where a desired-state node came from; `file` points into
 * desired_state.files and lives as long as the desired state. */
struct src_loc {
	const char *file;
	int line;     /* 1-based */
	int col;      /* 1-based */
};

/* A position in a file named elsewhere: a deployment's, in the file of its
 * project (project.loc.file), 8 bytes less for each of 20,000 deployments. */
struct src_pos {
	int line;     /* 1-based */
	int col;      /* 1-based */
};

/* ---- desired state ---------------------------------------------------- */

/* Every string and array of a desired state lives in its arena (the
 * projects array aside), so the state is freed as a whole and costs a few
 * allocations however many resources it declares. A state built by hand
 * (tests) puts its strings and arrays there too, or frees them itself. */

enum tristate { TRI_UNSET = -1, TRI_FALSE = 0, TRI_TRUE = 1 };

/* expires_at of a deployment (SPEC section 8). */
enum desired_expires {
	DESIRED_EXPIRES_UNSET = 0,   /* not declared: left as it is */
	DESIRED_EXPIRES_NEVER,       /* `never`: no expiry (expiresAt null) */
	DESIRED_EXPIRES_AT,          /* at expires_at_ms */
};

/* requestDestination of a custom domain (SPEC section 9). */
enum desired_destination {
	DESIRED_DEST_CONVEX_CLOUD = 0,   /* convexCloud */
	DESIRED_DEST_CONVEX_SITE,        /* convexSite */
};

const char *desired_destination_name(enum desired_destination d);

struct desired_domain {
	char *domain;            /* lower case, no final dot */
	enum desired_destination destination;
};

/* A default environment variable. The value is a secret: never logged,
 * printed or written anywhere but to the API (see desired_state_secrets). */
struct desired_env_var {
	char *name;
	char *value;             /* NULL only in a state loaded for validate
	                          * whose {file:} or {env:} could not be read */
};

/* The default environment variables of one deployment type. */
struct desired_env {
	struct desired_env_var *vars;   /* n_vars, sorted by name (bytewise) */
	uint32_t n_vars;
	bool declared;           /* the type is listed under env: its set of
	                          * names is exact (undeclared ones go) */
};

struct desired_deployment {
	char *reference;
	char *region;            /* NULL: not declared, any region is fine */
	char *class_name;        /* NULL: not declared */
	char **renamed_from;     /* earlier references, n_renamed_from of them */
	struct desired_domain *domains;  /* n_domains, in file order */
	char **deploy_keys;      /* key names, n_deploy_keys, in file order */
	int64_t expires_at_ms;   /* ms since the epoch, with DESIRED_EXPIRES_AT */
	struct src_pos loc;      /* in the project's file */
	uint16_t n_renamed_from;
	uint16_t n_domains;
	uint16_t n_deploy_keys;
	/* enum dep_type, enum tristate and enum desired_expires, in a byte
	 * each (with loc: 80 bytes a deployment, not 96): */
	unsigned char type;      /* enum dep_type */
	signed char is_default;  /* enum tristate */
	signed char dashboard_edit_confirmation;
	signed char send_logs_to_client;
	unsigned char expires;
	bool domains_declared;   /* `domains:` given: the list is exact */
	bool deploy_keys_declared;
	bool absent;             /* state: absent */
	bool protect;
};

/* A deployment that declares nothing but what the caller sets: every
 * tristate TRI_UNSET. Zeroed memory is NOT that (0 is TRI_FALSE, a declared
 * "false"): start from this, in code and in static initialisers. */
#define DESIRED_DEPLOYMENT_UNSET \
	.is_default = TRI_UNSET, .dashboard_edit_confirmation = TRI_UNSET, \
	.send_logs_to_client = TRI_UNSET
void desired_deployment_init(struct desired_deployment *d);

struct desired_project {
	char *name;
	char *slug;              /* NULL: not declared */
	char **renamed_from;     /* earlier names, n_renamed_from of them */
	struct desired_deployment *deployments;
	struct desired_env *env; /* NULL: no env declared; else 4 of them,
	                          * indexed by enum dep_type */
	struct src_loc loc;
	uint32_t n_deployments;  /* (64 bytes a project, not 72) */
	uint16_t n_renamed_from;
	bool absent;             /* state: absent */
	bool protect;
};

struct desired_state {
	struct desired_project *projects;   /* malloc'd, n_projects of them */
	size_t n_projects;
	char **files;            /* every file loaded, in load order */
	size_t n_files;
	struct arena arena;      /* everything else: strings, arrays */
};

/* Frees the projects array and the arena (contents, not ds); leaves it
 * empty. */
void desired_state_free(struct desired_state *ds);
/* Calls fn for every secret value the state holds (env values), so a
 * caller can register each with its scrubber before anything is logged;
 * stops at fn's first non-zero result and returns it (0 when all done). */
int desired_state_secrets(const struct desired_state *ds,
    int (*fn)(const char *value, void *ctx), void *ctx);

/* ---- observed state --------------------------------------------------- */

/* Who owns a project's or a deployment's strings: one that a decoder hands
 * out (api_decode.h) owns them (observed_*_free frees them); once taken
 * into a listing's result or an observed_state they live in that state's
 * pool `strings` (names and references packed, region and class interned:
 * SPEC section 12), and an item is dropped without clearing it. The other
 * lists (env vars, domains, keys) own their strings. */

/* Every string here is whole: a name from the API that holds a NUL cannot
 * be a C string, so the decoders refuse the answer that carries it
 * (jsonscan.h), as the YAML loader refuses one in the files and the ledger
 * loader in the ledger. Comparing names with strcmp is therefore comparing
 * them with their length: "shop\0-prod-db" never reaches a match as "shop". */

struct observed_project {
	int64_t id;
	char *name;
	char *slug;
	int64_t create_time;     /* ms since the epoch, 0 if unknown */
};

/* Cloud deployments only: local ones are dropped when decoded. */
struct observed_deployment {
	int64_t id;
	char *name;              /* happy-otter-123 */
	int64_t project_id;
	enum dep_type type;
	/* SPEC section 8: 1 true, 0 false, -1 the API did not say (null); in
	 * the room after `type`, with is_default (20,000 deployments: no
	 * byte more) */
	signed char dashboard_edit_confirmation;
	signed char send_logs_to_client;
	bool is_default;
	char *reference;
	char *region;
	char *class_name;
	int64_t create_time;
	int64_t expires_at;      /* ms since the epoch, 0: no expiry */
	/* deploymentUrl when it is not https://NAME.convex.cloud (the usual
	 * one is not kept: 20,000 deployments would carry 20,000 copies of
	 * their name); read it with observed_deployment_url() */
	char *url;
};

/* SPEC section 9. A default environment variable of a project, one entry
 * per (type, name): the API's groups (`deploymentTypes`) expanded. The
 * value is a secret: compared, never shown (it is wiped when freed). */
struct observed_env_var {
	int64_t project_id;
	char *name;
	char *value;
	enum dep_type type;
};

/* A custom domain of a deployment. */
struct observed_domain {
	char *deployment;            /* deployment name */
	int64_t project_id;          /* its project (set by the observation) */
	char *domain;
	int64_t verification_time;   /* ms since the epoch; 0: pending */
	int64_t create_time;
	enum desired_destination destination;
};

/* A deploy key of a deployment, by name (its secret is never listed). */
struct observed_deploy_key {
	char *deployment;            /* deployment name */
	char *name;
	int64_t create_time;
	bool secret_file;            /* a declared key: its secret file exists
	                              * under keys_dir (the observation stats
	                              * it, so the plan stays pure) */
	bool lost_secret;            /* set when the intents are resolved: made
	                              * by a create of this tool whose answer,
	                              * and so its secret, was lost (an open
	                              * intent matches it, no secret file): the
	                              * plan deletes it and creates it again */
};

/* The per-resource listings an observation made. The plan acts on the env
 * of a project, or the domains or keys of a deployment, only when its
 * listing is here: nothing is done on what was not seen. */
enum observed_listing { LISTED_ENV = 0, LISTED_DOMAINS, LISTED_DEPLOY_KEYS };

struct observed_listed {
	int64_t project_id;          /* LISTED_ENV */
	char *deployment;            /* the others: the deployment's name */
	enum observed_listing kind;
};

struct observed_state {
	struct strpool strings;  /* of the projects and deployments (above) */
	struct observed_project *projects;
	size_t n_projects;
	struct observed_deployment *deployments;
	size_t n_deployments;
	/* SPEC section 9, for the resources that declare them. */
	struct observed_env_var *env_vars;
	size_t n_env_vars;
	struct observed_domain *domains;
	size_t n_domains;
	struct observed_deploy_key *deploy_keys;
	size_t n_deploy_keys;
	struct observed_listed *listed;
	size_t n_listed;
};

void observed_project_free(struct observed_project *p);
void observed_deployment_free(struct observed_deployment *d);
/* True when two observations of one resource say the same in every field
 * (a listing that repeats an item: identical is harmless, different is an
 * inconsistent listing). */
bool observed_project_same(const struct observed_project *a,
    const struct observed_project *b);
bool observed_deployment_same(const struct observed_deployment *a,
    const struct observed_deployment *b);
/* The deployment's URL (deploymentUrl) into buf; "" when neither the API
 * gave one nor the name is known. Returns buf. */
const char *observed_deployment_url(const struct observed_deployment *d,
    char *buf, size_t n);
/* Frees the contents (the pool of strings with them), not os. */
void observed_state_free(struct observed_state *os);
void observed_env_var_free(struct observed_env_var *v);   /* wipes the value */
void observed_domain_free(struct observed_domain *d);
void observed_deploy_key_free(struct observed_deploy_key *k);
void observed_listed_free(struct observed_listed *l);

/* ---- ledger ----------------------------------------------------------- */

/* A project the ledger knows: created by this tool, and/or marked protect
 * the last time it was declared. Keyed by id (ids are never reused). */
struct ledger_project {
	int64_t id;
	char *name;
	bool created;
	bool protect;
};

/* Keyed by deployment name (unique across Convex, never reused). */
struct ledger_deployment {
	char *name;
	int64_t project_id;
	char *project;           /* project name when recorded */
	char *reference;
	bool created;
	bool protect;
};

/* A deploy key this tool created (SPEC section 9): only these may ever be
 * pruned. Keyed by (deployment name, key name). */
struct ledger_deploy_key {
	char *deployment;
	char *name;
};

/* What a create intent names (reconcile/intents.h): a project by name, a
 * deployment by project and reference, a custom domain by deployment and
 * domain, a deploy key by deployment and key name. */
enum intent_kind { INTENT_PROJECT = 0, INTENT_DEPLOYMENT, INTENT_DOMAIN,
	INTENT_DEPLOY_KEY };

/* An open create intent that two or more live resources match, none of
 * them recorded as created by this tool: which one it made cannot be told.
 * Found after each complete observation (intents.c), never saved in
 * ledger.json. The plan reports each as a `conflict` and does nothing to
 * the resources it names. */
struct ledger_conflict {
	enum intent_kind kind;
	char *project;           /* project name */
	char *reference;         /* all kinds but INTENT_PROJECT, else NULL */
	size_t candidates;       /* live resources that match (2 or more) */
};

struct ledger {
	struct ledger_project *projects;
	size_t n_projects;
	struct ledger_deployment *deployments;
	size_t n_deployments;
	struct ledger_deploy_key *deploy_keys;
	size_t n_deploy_keys;
	struct ledger_conflict *conflicts;   /* in memory only, see above */
	size_t n_conflicts;
};

void ledger_free(struct ledger *l);   /* frees contents, leaves it empty */

/* strdup that accepts NULL; returns NULL only for NULL input or ENOMEM. */
char *xstrdup_null(const char *s);

#endif
