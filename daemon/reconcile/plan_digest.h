/* plan_digest.h: the digests a saved plan is checked with (SPEC section
 * 13): of the desired-state files one by one and of the env values they
 * resolve to, of the observation, and of the plan itself.
 *
 * Every digest is HMAC-SHA-256 under a key derived from the API token
 * (plan_digest_key). A plain hash of a short secret (an env value like
 * "1234") could be found by trying every candidate; a keyed one cannot be
 * computed at all without the key, and whoever holds the token can read
 * the values from the API anyway. So a saved plan holds no secret and no
 * way to test a guess of one. The price: `plan --out` and `apply FILE`
 * must use the same token (a different one is refused, said clearly). */
#ifndef CP_PLAN_DIGEST_H
#define CP_PLAN_DIGEST_H

#include <stddef.h>

#include "model.h"
#include "plan.h"
#include "sha256.h"

struct plan_digest_key {
	unsigned char k[SHA256_LEN];
};

/* HMAC-SHA-256(token, "convex-provisioner saved plan v1"). */
void plan_digest_key(const char *token, struct plan_digest_key *key);
/* Wipes it. */
void plan_digest_key_wipe(struct plan_digest_key *key);

/* One desired-state file: its path relative to the desired path (the base
 * name when the path is a file) and the digest of its bytes. */
struct plan_digest_file {
	char *path;
	char hex[SHA256_HEX_LEN];
};

struct plan_digest_desired {
	struct plan_digest_file *files;   /* in load order */
	size_t n_files;
	char values[SHA256_HEX_LEN];      /* every env value, with its project,
	                                   * type and name ({file:} and {env:}
	                                   * sources included) */
	char all[SHA256_HEX_LEN];         /* of the files' digests and values */
};

/* Reads every file of ds (desired_path: what --desired named) again and
 * digests it. 0, or a negative errno with err naming the file. */
int plan_digest_desired(const char *desired_path, const struct desired_state *ds,
    const struct plan_digest_key *key, struct plan_digest_desired *out,
    char *err, size_t errlen);
void plan_digest_desired_free(struct plan_digest_desired *d);   /* NULL ok */
/* The digest of the files' digests and the values (the `all` field). */
void plan_digest_desired_all(const struct plan_digest_desired *d,
    const struct plan_digest_key *key, char out[SHA256_HEX_LEN]);

/* Every resource of the observation (projects, deployments, env values,
 * domains and their verification, deploy keys and their secret files,
 * what was listed), in any order: the same resources give the same
 * digest whatever order the API listed them in. 0 or -ENOMEM. */
int plan_digest_observed(const struct observed_state *os,
    const struct plan_digest_key *key, char out[SHA256_HEX_LEN]);

/* What apply would do: the actions (as their JSON, SPEC section 4: ids,
 * names, fields) with the value each env change sets, and the blocked
 * guards. Drift that is only reported and pending domains are left out:
 * they change nothing. 0 or -ENOMEM. */
int plan_digest_plan(const struct plan *p, const struct plan_digest_key *key,
    char out[SHA256_HEX_LEN]);

/* Constant-time equality of two hex digests. */
int plan_digest_equal(const char *a, const char *b);

#endif
