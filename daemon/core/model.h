/* model.h: the data every module shares: desired state (from the YAML files),
 * observed state (from the API) and the ledger (what this tool created and
 * what carries `protect`). Plain structs, arrays with counts, owned strings. */
#ifndef CP_MODEL_H
#define CP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* ---- desired state ---------------------------------------------------- */

enum tristate { TRI_UNSET = -1, TRI_FALSE = 0, TRI_TRUE = 1 };

struct desired_deployment {
	char *reference;
	enum dep_type type;
	char *region;            /* NULL: not declared, any region is fine */
	char *class_name;        /* NULL: not declared */
	enum tristate is_default;
	bool absent;             /* state: absent */
	bool protect;
	struct src_loc loc;
};

struct desired_project {
	char *name;
	bool absent;             /* state: absent */
	bool protect;
	struct desired_deployment *deployments;
	size_t n_deployments;
	struct src_loc loc;
};

struct desired_state {
	struct desired_project *projects;
	size_t n_projects;
	char **files;            /* every file loaded, in load order */
	size_t n_files;
};

void desired_state_free(struct desired_state *ds);   /* frees contents, not ds */

/* ---- observed state --------------------------------------------------- */

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
	char *reference;
	char *region;
	char *class_name;
	bool is_default;
	int64_t create_time;
};

struct observed_state {
	struct observed_project *projects;
	size_t n_projects;
	struct observed_deployment *deployments;
	size_t n_deployments;
};

void observed_project_clear(struct observed_project *p);
void observed_deployment_clear(struct observed_deployment *d);
/* True when two observations of one resource say the same in every field
 * (a listing that repeats an item: identical is harmless, different is an
 * inconsistent listing). */
bool observed_project_same(const struct observed_project *a,
    const struct observed_project *b);
bool observed_deployment_same(const struct observed_deployment *a,
    const struct observed_deployment *b);
void observed_state_free(struct observed_state *os); /* frees contents, not os */

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

/* What a create intent names (reconcile/intents.h): a project by name, a
 * deployment by project and reference. Custom domains (deployment +
 * domain) and deploy keys (deployment + key name) are the next kinds. */
enum intent_kind { INTENT_PROJECT = 0, INTENT_DEPLOYMENT };

/* An open create intent that two or more live resources match, none of
 * them recorded as created by this tool: which one it made cannot be told.
 * Found after each complete observation (intents.c), never saved in
 * ledger.json. The plan reports each as a `conflict` and does nothing to
 * the resources it names. */
struct ledger_conflict {
	enum intent_kind kind;
	char *project;           /* project name */
	char *reference;         /* INTENT_DEPLOYMENT, else NULL */
	size_t candidates;       /* live resources that match (2 or more) */
};

struct ledger {
	struct ledger_project *projects;
	size_t n_projects;
	struct ledger_deployment *deployments;
	size_t n_deployments;
	struct ledger_conflict *conflicts;   /* in memory only, see above */
	size_t n_conflicts;
};

void ledger_clear(struct ledger *l);   /* frees contents, leaves it empty */

/* strdup that accepts NULL; returns NULL only for NULL input or ENOMEM. */
char *xstrdup_null(const char *s);

#endif
