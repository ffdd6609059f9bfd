/* saved_plan.h: the file `plan --out FILE` writes and `apply FILE` reads
 * (SPEC section 13; docs/gitops.md shows one).
 *
 * Versioned JSON, written atomically with mode 0600, holding what the plan
 * was made from and what it says: the API URL and team, the settings that
 * shape a plan, the digest of each desired-state file and of the env
 * values, the digest of the observation, the digest of the plan, its text
 * lines and its JSON object (SPEC section 4), for people and for jq. No
 * secret is in it: env values appear only inside keyed digests
 * (plan_digest.h). The last member, "seal", is an HMAC of every byte
 * before it under the same key, so an edited file, or one made with
 * another token, is refused before anything in it is believed.
 *
 * `apply FILE` never executes what the file lists: it observes again,
 * plans again, and goes on only when the new plan's digest equals the
 * saved one, so it does exactly the reviewed plan or nothing. */
#ifndef CP_SAVED_PLAN_H
#define CP_SAVED_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "plan.h"
#include "plan_digest.h"

#define SAVED_PLAN_FORMAT "convex-provisioner plan"
#define SAVED_PLAN_VERSION 1
#define SAVED_PLAN_MAX_BYTES (64u << 20)

/* What a plan is saved with (the strings are borrowed). */
struct saved_plan_input {
	const char *api_url;
	int64_t team_id;
	const struct plan_settings *settings;
	const char *desired_path;
	const struct plan_digest_desired *desired;
	const char *observed;         /* hex digest */
	const char *plan_digest;      /* hex digest */
	const struct plan *plan;      /* its lines and JSON go in the file */
	int64_t now_ms;               /* the "created" time */
};

/* A saved plan as read back (owned strings). */
struct saved_plan {
	int version;
	char *created;                /* RFC 3339 UTC */
	char *tool;                   /* "convex-provisioner VERSION" */
	char *api_url;
	int64_t team_id;
	struct plan_settings settings;
	char *desired_path;
	struct plan_digest_desired desired;
	char observed[SHA256_HEX_LEN];
	char plan_digest[SHA256_HEX_LEN];
	char **lines;                 /* the text plan's item lines */
	size_t n_lines;
};

/* Writes the file (a temporary file beside it, created 0600, fsync,
 * rename, fsync of the folder). 0, or a negative errno with err. */
int saved_plan_write(const char *path, const struct saved_plan_input *in,
    const struct plan_digest_key *key, char *err, size_t errlen);

/* Reads and checks a saved plan. 0, or with err:
 *   -EBADMSG          not a saved plan: not JSON, truncated, a field
 *                     missing or of the wrong shape
 *   -EPROTONOSUPPORT  another version of the format (a newer program's)
 *   -EKEYREJECTED     the seal does not match: the file was edited after
 *                     it was saved, or saved with another API token
 *   -EFBIG, -ENOENT, -ELOOP, -EINVAL, ...: readfile.h's errors
 *   -ENOMEM */
int saved_plan_read(const char *path, const struct plan_digest_key *key,
    struct saved_plan *out, char *err, size_t errlen);
/* The same from memory (tests). */
int saved_plan_parse(const char *text, size_t len, const struct plan_digest_key *key,
    struct saved_plan *out, char *err, size_t errlen);
void saved_plan_free(struct saved_plan *sp);   /* NULL ok */
/* The seal of text[0..len) (every byte before the seal member), as hex:
 * what saved_plan_write appends and saved_plan_parse checks (tests). */
void saved_plan_seal(const char *text, size_t len, const struct plan_digest_key *key,
    char out[SHA256_HEX_LEN]);
/* The bytes a sealed file ends with: SAVED_PLAN_SEAL_HEAD, the seal, then
 * SAVED_PLAN_SEAL_TAIL (tests build files with them). */
#define SAVED_PLAN_SEAL_HEAD ",\n\t\"seal\":\t\""
#define SAVED_PLAN_SEAL_TAIL "\"\n}\n"

/* Whether the plan can be applied with these settings: the same API URL,
 * team (0: any, the saved one is used) and plan settings. 0, or -EINVAL
 * with err naming every difference. */
int saved_plan_check_settings(const struct saved_plan *sp, const char *api_url,
    int64_t team_id, const struct plan_settings *ps, char *err, size_t errlen);

/* Why a new plan differs from the saved one, for people, one line each:
 * the files changed, added or removed, changed env values, a changed
 * team, then the plan's lines that are gone and those that are new.
 * Returns 0 or buf_append's error. */
int saved_plan_explain(const struct saved_plan *sp,
    const struct plan_digest_desired *desired, const char *observed,
    const struct plan *plan, struct buf *out);

#endif
