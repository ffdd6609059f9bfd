/* desired.h: loads the desired state (SPEC section 2) from a YAML file or a
 * directory of them into struct desired_state, checking every rule and
 * reporting each broken one as FILE:LINE:COL in a struct diag. */
#ifndef CP_DESIRED_H
#define CP_DESIRED_H

#include <stddef.h>

#include "model.h"

struct diag;
struct ytree_limits;

#define DESIRED_NAME_MAX 128        /* bytes in a project name */
#define DESIRED_REF_MIN 3
#define DESIRED_REF_MAX 100
#define DESIRED_ATTR_MAX 64         /* region, class */

/* path: a file (loaded whatever its name) or a directory (read recursively:
 * files ending .yaml or .yml, in byte order of their relative path, names
 * starting with "." skipped). Returns 0 and fills *out when everything is
 * valid; otherwise every problem is in `d`, *out is empty and the result is
 * -EINVAL (invalid), -E2BIG (a limit), -ENOMEM, or -errno when `path`
 * itself cannot be read. Warnings do not make the state invalid. */
int desired_load(const char *path, struct desired_state *out, struct diag *d);
/* The same with other limits (tests); lim NULL means the defaults. */
int desired_load_limits(const char *path, const struct ytree_limits *lim,
    struct desired_state *out, struct diag *d);

/* NULL when ref (len bytes) is a valid deployment reference, else the
 * broken rule as a phrase ("is reserved", ...). */
const char *desired_reference_problem(const char *ref, size_t len);
size_t desired_count_deployments(const struct desired_state *ds);

#endif
