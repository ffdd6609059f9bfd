/* audit.h: the audit trail, state_dir/actions.jsonl: one JSON line per
 * action taken (time, op, kind, identity, result). */
#ifndef CP_AUDIT_H
#define CP_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "plan.h"          /* struct plan_env_change */

struct audit_entry {
	const char *op;          /* "create" | "delete" | "update" | "rename" */
	const char *kind;        /* "project" | "deployment" | "env" | "domain"
	                          * | "deploy_key" */
	const char *project;
	int64_t project_id;      /* 0: unknown (a create that failed) */
	const char *reference;   /* deployments, else NULL */
	const char *name;        /* deployment name, else NULL */
	const char *result;      /* "ok" | "error" */
	const char *error;       /* NULL unless result is "error" */
	const cJSON *changes;    /* updates and renames: {field: {from, to}}
	                          * (plan_changes_cjson; never a secret) */
	/* SPEC section 9, each NULL / 0 when not about it. Never a value,
	 * never a secret: env changes are written as type, name and kind. */
	const char *domain;
	const char *destination;
	const char *key;         /* a deploy key's name */
	const struct plan_env_change *env;
	size_t n_env;
};

/* Formats one line (no I/O, for tests); the caller frees it. */
char *audit_format(const struct audit_entry *e, double unix_time);
/* Appends one line with O_APPEND (a single write, so lines never mix).
 * Never blocks and never follows a link: -ENXIO for a FIFO without a
 * reader, -EINVAL for anything that is not a regular file, -ELOOP for a
 * symbolic link. */
int audit_append(const char *path, const struct audit_entry *e);

#endif
