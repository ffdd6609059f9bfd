/* plan_extras.h: inside the plan (core only): default environment
 * variables, custom domains and deploy keys (SPEC section 9). plan.c
 * matches projects and deployments; for each declared one it found live,
 * or creates, it calls these, and they add their candidates through
 * plan.c's emitter. Pure, like the rest of the plan. */
#ifndef CP_PLAN_EXTRAS_H
#define CP_PLAN_EXTRAS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "plan.h"

struct plan_extras;

/* plan.c's side: a new candidate action (zeroed but for these fields),
 * `parent` a candidate index or PLAN_NO_PARENT; *index is its own index
 * (for its children). The pointer is valid until the next call. NULL: out
 * of memory. */
struct plan_extras_emit {
	struct plan_action *(*action)(void *ctx, enum plan_op op,
	    enum plan_kind kind, enum plan_reason reason, const char *project,
	    int64_t project_id, size_t parent, size_t *index);
	void *ctx;
};

/* Indexes the observation's env vars, domains, keys and listings and the
 * ledger's keys. 0 or -ENOMEM. */
int plan_extras_new(const struct observed_state *os, const struct ledger *l,
    const struct plan_settings *set, const struct plan_extras_emit *emit,
    struct plan_extras **out);
void plan_extras_free(struct plan_extras *x);

/* A declared, present project: `op` the live one it matched (NULL: it is
 * created by this plan, as candidate `parent`). */
int plan_extras_project(struct plan_extras *x, const struct desired_project *dp,
    const struct observed_project *op, size_t parent);
/* A declared, present deployment of project `project` (id 0 when the
 * project is new): `od` the live one (NULL: created as candidate
 * `parent`). */
int plan_extras_deployment(struct plan_extras *x, const char *project,
    int64_t project_id, const struct desired_deployment *dd,
    const struct observed_deployment *od, size_t parent);

/* Once the actions are final: appends the extras' blocked entries to
 * out->blocked, and moves the pending domains, the managed counts and the
 * arena (which holds every env change) into *out. 0 or -ENOMEM. */
int plan_extras_finish(struct plan_extras *x, struct plan *out);

/* For plan.c's order: the name that tells two actions of one kind on one
 * deployment apart (a domain, a key name), or NULL. */
const char *plan_extras_name(const struct plan_action *a);

#endif
