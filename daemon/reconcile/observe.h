/* observe.h: one complete, consistent view of the team from the API, or an
 * error: never a partial view (SPEC section 5, "Observe"). */
#ifndef CP_OBSERVE_H
#define CP_OBSERVE_H

#include <stdint.h>

#include "api.h"
#include "model.h"
#include "plan.h"

/* rc 0: *os holds every project and every cloud deployment that matters, and
 * belongs to the callback (observed_state_free). rc < 0: `error` says which
 * request failed and how; os is empty. Called exactly once, from the loop. */
typedef void (*observe_cb)(void *arg, int rc, const char *error,
    struct observed_state *os);

/* Lists projects and team deployments as two concurrent cursor chains. On an
 * API without the team-wide deployment route, lists per project instead, for
 * the projects that matter: declared ones, and prune candidates (undeclared
 * ones under prune all, those the ledger says we created under prune owned).
 * `ds` and `ledger` must stay valid until the callback. */
int observe_start(struct api_client *c, int64_t team,
    const struct desired_state *ds, const struct ledger *ledger,
    enum prune_mode prune, observe_cb cb, void *arg);
/* The same, then (SPEC section 9) the env, custom domains and deploy keys
 * of the declared resources that declare them (observe_extras.h), with
 * each declared live key's secret file looked for under keys_dir (which
 * must stay valid until the callback; NULL: no file is known). */
/* max_deletes: the plan's guard, which bounds the projects prune may
 * delete whose deployments' domains are worth listing (observe_extras.h). */
int observe_start_keys(struct api_client *c, int64_t team,
    const struct desired_state *ds, const struct ledger *ledger,
    enum prune_mode prune, unsigned max_deletes, const char *keys_dir,
    observe_cb cb, void *arg);

#endif
