/* model.h: the data every module shares: desired state (from the YAML files),
 * observed state (from the API) and the ledger (what this tool created and
 * what carries `protect`). Plain structs, arrays with counts, owned strings. */
#ifndef CP_MODEL_H
#define CP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

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

struct desired_deployment {
	char *reference;
	char *region;            /* NULL: not declared, any region is fine */
	char *class_name;        /* NULL: not declared */
	char **renamed_from;     /* earlier references, n_renamed_from of them */
	int64_t expires_at_ms;   /* ms since the epoch, with DESIRED_EXPIRES_AT */
	struct src_loc loc;
	enum dep_type type;
	enum tristate is_default;
	uint16_t n_renamed_from;
	/* enum tristate and enum desired_expires, in a byte each: */
	signed char dashboard_edit_confirmation;
	signed char send_logs_to_client;
	unsigned char expires;
	bool absent;             /* state: absent */
	bool protect;
};

struct desired_project {
	char *name;
	char *slug;              /* NULL: not declared */
	char **renamed_from;     /* earlier names, n_renamed_from of them */
	struct desired_deployment *deployments;
	size_t n_deployments;
	struct src_loc loc;
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

/* ---- observed state --------------------------------------------------- */

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

struct ledger {
	struct ledger_project *projects;
	size_t n_projects;
	struct ledger_deployment *deployments;
	size_t n_deployments;
};

void ledger_clear(struct ledger *l);   /* frees contents, leaves it empty */

/* strdup that accepts NULL; returns NULL only for NULL input or ENOMEM. */
char *xstrdup_null(const char *s);

#endif
