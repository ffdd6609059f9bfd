/* plan_update.h: inside the plan: which declared fields of a project or a
 * deployment differ from the live one (SPEC section 8). Pure; plan.c
 * decides what becomes an update, a rename or drift. */
#ifndef CP_PLAN_UPDATE_H
#define CP_PLAN_UPDATE_H

#include <stddef.h>

#include "model.h"
#include "plan.h"

/* Why a difference is never changed, whatever `drift` says. */
#define PLAN_WHY_TYPE "a deployment's type is never changed by the " \
	"provisioner: that is a decision for a person"
#define PLAN_WHY_REGION "the API cannot move a deployment to another region"
#define PLAN_WHY_DEFAULT_TYPE "the default flag is per type and the live " \
	"type differs from the declared one"

/* The declared fields of dd that differ from od: reference (a rename),
 * class, default, dashboard_edit_confirmation, send_logs_to_client,
 * expires_at; undeclared ones never differ. Fills out (room for
 * PLAN_MAX_CHANGES) in plan_field order; returns how many. */
size_t plan_deployment_changes(const struct desired_deployment *dd,
    const struct observed_deployment *od, struct plan_change *out);
/* name (a rename: dp is matched through renamed_from) and a declared slug. */
size_t plan_project_changes(const struct desired_project *dp,
    const struct observed_project *op, struct plan_change *out);
/* What a create cannot say and a PATCH right after it must: the settings of
 * a new deployment, the slug of a new project (from: unset). */
size_t plan_deployment_create_changes(const struct desired_deployment *dd,
    struct plan_change *out);
size_t plan_project_create_changes(const struct desired_project *dp,
    struct plan_change *out);

#endif
