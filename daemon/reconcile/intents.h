/* intents.h: durable create intents, state_dir/intents.jsonl (SPEC
 * section 11; docs/recovery.md says what an operator sees).
 *
 * A create whose answer never arrives (the process killed, a connection
 * dropped, a timeout, a completion made between two of the executor's
 * spaced ledger saves and lost with them) may still have made the
 * resource, which would then never be recorded as ours. So:
 *
 * 1. Before the first create of an apply is sent, one line per create of
 *    the plan (kind, identity, time) is appended to intents.jsonl and the
 *    file fsynced, once for the whole batch. If that fails (a full disk, a
 *    read-only folder) no create is sent at all.
 * 2. After every complete observation, each open intent is resolved
 *    against it (intents_resolve). Candidates are the live resources with
 *    the intent's identity created at or after (time - INTENTS_SKEW_MS):
 *    - exactly one, recorded in the ledger as created: its completion
 *      was recorded; the intent is dropped;
 *    - exactly one: adopted, recorded in the ledger as created by this
 *      tool (with the `protect: true` its declaration had when planned,
 *      as an answered create records it); dropped;
 *    - two or more, even if one is recorded as ours (a person may have
 *      renamed one of ours onto the name the lost create was made with):
 *      a conflict (ledger.conflicts, which the plan reports
 *      as `conflict` and leaves alone); the intent is marked and kept, and
 *      a marked intent is never adopted: it is dropped once fewer than two
 *      candidates are left (which one survived was a person's choice);
 *    - none: the create did not happen, dropped. (One exception: a
 *      deployment of a live project that is not declared is kept, since an
 *      API without the team-wide listing lists only declared projects'
 *      deployments.)
 *    Intents older than INTENTS_MAX_AGE_MS are dropped unexamined, so a
 *    stale one can never adopt what a person made since.
 * 3. After the execution, the intents of its batch whose create is settled
 *    are dropped (intents_settle): done and saved in the ledger, or never
 *    sent. A failed create's intent waits for the next observation.
 *
 * Every intent in the file was written by a reconcile that has ended (one
 * reconcile at a time, under the state folder's lock), so "none" in an
 * observation really means "not made" (up to a request the API was still
 * processing when the process died, which no client can know of).
 *
 * Custom domains and deploy keys (SPEC sections 9 and 11) are intents of
 * their own: the deployment's name when it was live when planned (names
 * never change, so a rename in the same plan does not lose the match),
 * else its project and reference, as a deployment intent; and the domain
 * or the key name. Their candidates are the listed domains or keys of that
 * deployment with that name. A domain has no ledger record (a declared
 * list is exact whoever made an entry): one candidate only resolves its
 * intent. A key is ours once adopted (ledger.deploy_keys):
 *    - a candidate whose secret file exists was completed (its secret was
 *      written; the ledger record is made again if a save was lost);
 *    - one candidate and no secret file: its create's answer, and with it
 *      the secret, was lost. It is recorded as ours and marked
 *      lost_secret in the observation, and the plan deletes it and creates
 *      it again. The intent is kept, tied to that new create in
 *      intents_from_plan, so a crash before the new secret is written
 *      leaves the key to be replaced again, never held by nobody;
 *    - a key with no open intent and no secret file is not known to be
 *      ours: it stays blocked (plan_extras.c), a person's key of that name
 *      is never deleted.
 *    An intent whose deployment is live but whose listing of that kind was
 *    not made (the files no longer declare it) is kept: "none" would only
 *    mean "not listed".
 * Adding a kind: add it to enum intent_kind (model.h) and to kind_names[]
 * in intents.c, map its plan action in intents_from_plan(), check its
 * fields in from_line(), and give intents_resolve() its candidates and
 * its adoption. A kind with no mapping gets no intent.
 */
#ifndef CP_INTENTS_H
#define CP_INTENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execute.h"
#include "model.h"
#include "plan.h"

/* A candidate created up to this long before the intent still matches:
 * the API stamps createTime with its clock, the intent is stamped with
 * ours, and the two may differ (5 minutes: Kerberos' default tolerance). */
#define INTENTS_SKEW_MS (5 * 60 * 1000LL)
/* Intents older than this are dropped without being examined. */
#define INTENTS_MAX_AGE_MS (24 * 60 * 60 * 1000LL)
/* A larger file is not read (refused as damage). */
#define INTENTS_MAX_BYTES (64u << 20)

#define INTENT_NO_ACTION ((size_t)-1)

struct intent {
	enum intent_kind kind;
	char *project;           /* project name */
	int64_t project_id;      /* deployments: the project's id if it was
	                          * live when planned, else 0 (match by name) */
	char *reference;         /* deployments, domains, keys */
	char *deployment;        /* domains, keys: the live deployment's name
	                          * when planned, else NULL (by reference) */
	char *name;              /* domains: the domain; keys: the key name */
	int64_t time_ms;         /* our wall clock when written */
	bool conflict;           /* once seen with two or more candidates */
	bool protect;            /* projects, deployments: declared `protect:
	                          * true` when planned; an adoption records the
	                          * mark, as a create that was answered does */
	bool lost_secret;        /* in memory: a key adopted without its
	                          * secret; settled only by a new create that
	                          * succeeded (never by one left unsent) */
	size_t action;           /* in memory: the create of this apply's plan
	                          * it stands for, or INTENT_NO_ACTION */
};

struct intents {
	struct intent *items;
	size_t n, cap;
};

void intents_free(struct intents *in);   /* frees contents, leaves it empty */
int intents_add(struct intents *in, enum intent_kind kind, const char *project,
    int64_t project_id, const char *reference, int64_t time_ms);
/* The same with a domain's or a key's deployment (NULL: not live when
 * planned) and name. 0 or -ENOMEM. */
int intents_add_named(struct intents *in, enum intent_kind kind,
    const char *project, int64_t project_id, const char *reference,
    const char *deployment, const char *name, int64_t time_ms);
const char *intent_kind_name(enum intent_kind k);   /* "project", ... */
/* The kind named s: 0, or -EINVAL. */
int intent_kind_parse(const char *s, enum intent_kind *out);

/* ---- the file (intents_file.c) ------------------------------------------ */

/* Parses the lines of an intents file (pure, for tests and the fuzzer).
 * A line that is not one intent of a known version and kind (a line torn
 * by a crash while it was written, damage, a newer version) is skipped
 * and counted in *bad (the first one's number in *first_bad): an intent
 * lost only leaves its resource unowned, the safe side. 0 or -ENOMEM. */
int intents_parse(const char *text, size_t len, struct intents *out,
    size_t *bad, size_t *first_bad);
/* One line per intent, each ending "\n" (NULL on ENOMEM). */
char *intents_to_text(const struct intents *in, size_t from);

/* Loads path: 0 and nothing when it does not exist. *clean is true when
 * the file can simply be appended to (no bad line, ends with a newline).
 * Errors as readfile.h (-EINVAL not a regular file, -ELOOP a link, -EIO..)
 * with `err`; a file over INTENTS_MAX_BYTES is -EFBIG. */
int intents_load(const char *path, struct intents *out, size_t *bad,
    bool *clean, char *err, size_t errlen);
/* Appends the intents from index `from` in one write, then fsync (and of
 * the folder when the file was created). 0, or a negative errno with err;
 * the file then holds at most a torn last line, skipped when read. */
int intents_append(const char *path, const struct intents *in, size_t from,
    char *err, size_t errlen);
/* Replaces the file by exactly `in`: the temporary path.tmp, fsync,
 * rename, fsync of the folder; with no intent left, truncates the file
 * (fsync) instead. 0 or a negative errno with err. */
int intents_save(const char *path, const struct intents *in, char *err,
    size_t errlen);

/* ---- the batch and its resolution -------------------------------------- */

/* Appends to `in` one intent per create of the plan (action set), stamped
 * now_ms; returns how many, or -ENOMEM. An open deploy key intent kept for
 * a key whose secret was lost is tied to its new create too (action set),
 * so it is settled with it. */
int intents_from_plan(struct intents *in, const struct plan *p, int64_t now_ms);

enum intent_event {
	INTENT_ADOPTED,          /* recorded as created: id / name of the resource */
	INTENT_CONFLICT,         /* two or more candidates (count in id) */
	INTENT_CONFLICT_GONE,    /* a marked intent with fewer than two: dropped */
	INTENT_EXPIRED,          /* older than INTENTS_MAX_AGE_MS: dropped */
	INTENT_LOST_SECRET,      /* a key adopted without its secret: kept */
};
/* For the log: `id` is the adopted project's id (or the count of
 * candidates), `name` the adopted deployment's name (the deployment of an
 * adopted domain or key). INTENT_LOST_SECRET: a key adopted whose secret
 * was lost, to be replaced. */
typedef void (*intent_event_cb)(void *arg, enum intent_event ev,
    const struct intent *it, int64_t id, const char *name);

struct intents_report {
	size_t adopted;          /* recorded in the ledger as created */
	size_t completed;        /* their completion was in the ledger */
	size_t unmatched;        /* nothing live: dropped */
	size_t expired;
	size_t conflicts;        /* kept, marked, in ledger.conflicts */
	size_t lost_secrets;     /* keys marked lost_secret (also adopted) */
	size_t kept;             /* still open afterwards */
	bool changed;            /* `in` changed: the file should be rewritten */
};

/* Resolves every open intent against one COMPLETE observation (a partial
 * one would drop intents whose resource it missed): adopts into the
 * ledger, replaces ledger.conflicts, marks the deploy keys whose secret
 * was lost (observed_deploy_key.lost_secret, its only change to os),
 * drops what is resolved. Pure apart from the callback. 0 or -ENOMEM. */
int intents_resolve(struct intents *in, const struct desired_state *ds,
    struct observed_state *os, struct ledger *l, int64_t now_ms,
    struct intents_report *rep, intent_event_cb cb, void *arg);

/* After an execution of plan p (results parallel to its actions): drops
 * the intents of its creates that are settled: never sent (skipped), or
 * done and, when ledger_saved, durably recorded; for a domain or a key,
 * also a create that failed without being ambiguous (refused, never
 * made). Other failed creates keep theirs for the next observation; a
 * lost secret's intent (kept by intents_resolve) goes only with its new
 * key, done and saved. Returns true when `in` changed. */
bool intents_settle(struct intents *in, const struct plan *p,
    const struct action_result *results, bool ledger_saved);

#endif
