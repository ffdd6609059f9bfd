/* observe_extras.h: the second step of an observation (SPEC section 9):
 * once projects and deployments are known, the env of every declared
 * project that declares `env`, and the custom domains and deploy keys of
 * every declared deployment that declares `domains` or `deploy_keys`
 * (even an empty list), when the resource is live and matched (by name or
 * reference, or a unique `renamed_from`); and when some deployment
 * declares domains, the domains of the live deployments this reconcile
 * may delete (declared `state: absent`, in an absent project, pruned from
 * a declared project under `prune` and the ledger, or in a project prune
 * deletes when there are at most max_deletes such projects: with more,
 * the plan's guard holds every delete), whose domains may move elsewhere.
 * Resources that declare none of this cost no request. All listings run at once through the API client's
 * queue; any failure fails the whole observation. */
#ifndef CP_OBSERVE_EXTRAS_H
#define CP_OBSERVE_EXTRAS_H

#include "api.h"
#include "model.h"
#include "plan.h"

/* rc 0: everything listed is in *os (with its LISTED_* markers); rc < 0:
 * `error` says which listing failed and how (os may hold part of it: the
 * caller drops the observation). */
typedef void (*observe_extras_cb)(void *arg, int rc, const char *error);

/* Adds to *os (which must stay valid until the callback). For every
 * declared key that is live, stats keys_dir/KEYPATH (keypath.h) and sets
 * secret_file (NULL keys_dir: no file is known). Returns 1 when nothing
 * needs listing (no callback), 0 when started (the callback runs once,
 * from the loop), or a negative errno when nothing could start (no
 * callback). */
int observe_extras_start(struct api_client *c, const struct desired_state *ds,
    struct observed_state *os, const struct ledger *led, enum prune_mode prune,
    unsigned max_deletes, const char *keys_dir, observe_extras_cb cb, void *arg);

#endif
