/* desired.h: loads the desired state (SPEC sections 2, 8 and 9) from a YAML
 * file or a directory of them into struct desired_state, checking every
 * rule and reporting each broken one as FILE:LINE:COL in a struct diag. */
#ifndef CP_DESIRED_H
#define CP_DESIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct diag;
struct ytree_limits;

#define DESIRED_NAME_MAX 128        /* bytes in a project name */
#define DESIRED_REF_MIN 3
#define DESIRED_REF_MAX 100
#define DESIRED_ATTR_MAX 64         /* region, class */
#define DESIRED_SLUG_MAX 60
#define DESIRED_DOMAIN_MAX 253
#define DESIRED_ENV_NAME_MAX 40
#define DESIRED_ENV_PER_TYPE 100    /* names per deployment type */
#define DESIRED_ENV_VALUE_MAX 8192  /* bytes in a value, after reading it */
#define DESIRED_KEY_NAME_MAX 64
#define DESIRED_LIST_MAX 100        /* renamed_from, domains, deploy_keys */

/* desired_load_opts flags. */
#define DESIRED_SECRETS_WARN 1u     /* an env value whose {file:} or {env:}
                                     * cannot be read is a warning, and its
                                     * value NULL (offline `validate`) */

/* path: a file (loaded whatever its name) or a directory (read recursively:
 * files ending .yaml or .yml, in byte order of their relative path, names
 * starting with "." skipped). Returns 0 and fills *out when everything is
 * valid; otherwise every problem is in `d`, *out is empty and the result is
 * -EINVAL (invalid), -E2BIG (a limit), -ENOMEM, or -errno when `path`
 * itself cannot be read. Warnings do not make the state invalid. An env
 * value that cannot be read is an error. */
int desired_load(const char *path, struct desired_state *out, struct diag *d);
/* The same with other limits (tests); lim NULL means the defaults. */
int desired_load_limits(const char *path, const struct ytree_limits *lim,
    struct desired_state *out, struct diag *d);
/* The same with DESIRED_* flags. */
int desired_load_opts(const char *path, const struct ytree_limits *lim,
    unsigned flags, struct desired_state *out, struct diag *d);

struct desired_sources;
/* The same, also listing in `sources` (when not NULL, appended to, whether
 * the state is valid or not) every file an env value was read from, with a
 * digest of what was read: desired_sources.h. */
int desired_load_sources(const char *path, const struct ytree_limits *lim,
    unsigned flags, struct desired_sources *sources, struct desired_state *out,
    struct diag *d);

size_t desired_count_deployments(const struct desired_state *ds);

/* ---- the rules of single values (desired_rules.c) ----------------------
 * Each returns NULL when s (len bytes, NULs included) keeps the rule, else
 * the broken rule as a phrase ("is reserved", "must be 3 to 100 characters
 * long", ...) to follow the quoted value. */
const char *desired_reference_problem(const char *s, size_t len);
const char *desired_name_problem(const char *s, size_t len);   /* project */
const char *desired_slug_problem(const char *s, size_t len);
const char *desired_domain_problem(const char *s, size_t len);
const char *desired_env_name_problem(const char *s, size_t len);
const char *desired_key_name_problem(const char *s, size_t len);
/* C0 and C1 control characters (a NUL is one). */
bool desired_has_control(const char *s, size_t len);
/* An RFC 3339 time (2027-01-31T00:00:00Z, 2027-01-31T02:00:00.5+02:00):
 * 0 and *ms since the epoch (finer than milliseconds cut), or -EINVAL and
 * *why as a phrase. */
int desired_parse_time(const char *s, size_t len, int64_t *ms,
    const char **why);

#endif
