/* ledger.h: what this tool created and what carries `protect`, kept in
 * state_dir/ledger.json and written atomically. The in-memory form is
 * struct ledger (model.h); this module loads, saves and edits it. */
#ifndef CP_LEDGER_H
#define CP_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* 0 and an empty ledger when the file does not exist. -EBADMSG when it is
 * damaged (not one JSON document, a NUL in a string, wrong shapes, over
 * 64 MiB): *out is then empty and `err` says why; the caller reports it
 * and must not treat it as "everything is ours". -EPROTONOSUPPORT when a
 * newer version wrote it (err: "written by a newer version ..."): not
 * damage, the caller must stop. Other negative errno values (readfile.h)
 * when it cannot be read: -EINVAL not a regular file (a FIFO...), -ELOOP a
 * symbolic link, -EIO and others: a read error, never taken for its end. */
int ledger_load(const char *path, struct ledger *out, char *err, size_t errlen);
/* Temporary file (path.tmp, created afresh with O_EXCL | O_NOFOLLOW),
 * fsync, rename, fsync of the folder. On failure `err` names the file and
 * the system's reason ("cannot write PATH: No space left on device"). */
int ledger_save(const char *path, const struct ledger *l, char *err, size_t errlen);
/* Moves a corrupt ledger aside (path.corrupt-UNIXTIME, or .corrupt-UNIXTIME.N
 * when that exists: never over an earlier copy or anything else) so the next
 * save does not destroy what a person may want to recover. */
int ledger_quarantine(const char *path, char *moved_to, size_t len);

/* Serialisation, for tests and the fuzzers: pure. */
char *ledger_to_json(const struct ledger *l);
int ledger_from_json(const char *text, size_t len, struct ledger *out,
    char *err, size_t errlen);

int ledger_add_project(struct ledger *l, int64_t id, const char *name);
int ledger_add_deployment(struct ledger *l, const char *name, int64_t project_id,
    const char *project, const char *reference);
/* Removing a project also forgets its deployments (they went with it). */
void ledger_remove_project(struct ledger *l, int64_t id);
void ledger_remove_deployment(struct ledger *l, const char *name);

/* SPEC section 8: a renamed resource keeps its entry (projects are keyed by
 * id, deployments by name): the name (and the project name of its
 * deployments' entries) or the reference changes. 1 when an entry
 * changed, 0 when the ledger does not know it, -ENOMEM (nothing changed). */
int ledger_rename_project(struct ledger *l, int64_t id, const char *name);
int ledger_rename_deployment(struct ledger *l, const char *name,
    const char *reference);

struct ledger_project *ledger_find_project(const struct ledger *l, int64_t id);
struct ledger_deployment *ledger_find_deployment(const struct ledger *l, const char *name);

/* After a complete observation: records `protect` as declared for every
 * declared resource that is live (adding entries as needed, clearing the
 * mark where the files no longer set it), and forgets entries whose
 * resource no longer exists (ids and deployment names are never reused).
 * A live resource found under a renamed_from name of a declared one takes
 * that declaration's mark (SPEC section 8: the mark follows the rename),
 * and every entry takes the live names (a rename made here or by hand).
 * Returns 1 when the ledger changed, 0 when not, -ENOMEM. Only call it with
 * a complete observation: a partial one would forget live resources. */
int ledger_sync(struct ledger *l, const struct desired_state *ds,
    const struct observed_state *os);
/* The part of ledger_sync that needs no observation: every entry recorded
 * under a name (project; project and reference) that the files declare
 * `protect: true` is marked. Run before each observation, so a mark
 * declared while the API cannot be reached holds all the same (random
 * schedules, seed 60611: declared on a deployment while the observation
 * failed, then its project declared absent without it, and deleted).
 * Only adds marks. 1 when the ledger changed, 0 when not, -ENOMEM. */
int ledger_mark_declared(struct ledger *l, const struct desired_state *ds);

/* Deploy keys this tool created (SPEC section 9), by (deployment name,
 * key name); in the file as "deployKeys", names only. */
int ledger_add_deploy_key(struct ledger *l, const char *deployment, const char *name);
void ledger_remove_deploy_key(struct ledger *l, const char *deployment,
    const char *name);
void ledger_forget_deploy_keys_of(struct ledger *l, const char *deployment);
struct ledger_deploy_key *ledger_find_deploy_key(const struct ledger *l,
    const char *deployment, const char *name);
/* Part of ledger_sync: forgets the keys whose deployment is gone, or whose
 * deployment's keys were listed without them. 1 when something changed. */
int ledger_sync_deploy_keys(struct ledger *l, const struct observed_state *os);

#endif
