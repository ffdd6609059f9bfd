/* routes.h: what the /v1 route files share: the call of one request, the handlers, and the argument readers of args.c. */
#ifndef CP_SIM_ROUTES_H
#define CP_SIM_ROUTES_H

#include "sim.h"

#define MAX_LIMIT  100

/* One request being handled (the store is locked). */
struct call {
	struct sim_ctx *ctx;
	struct sim_store *st;
	const struct sim_request *rq;
	struct sim_reply *rp;
	struct route_result *res;
	const char *arg;          /* the {param} of the path, if any */
};

typedef void route_fn(struct call *c);

/* routes_list.c */
route_fn h_projects, h_list_projects, h_project_deployments,
    h_team_deployments, h_team_local;
/* routes_project.c */
route_fn h_create_project, h_project, h_project_patch, h_project_delete;
/* routes_deployment.c */
route_fn h_create_deployment, h_deployment, h_deployment_patch,
    h_deployment_delete;
/* routes_env.c */
route_fn h_env_list, h_env_update;
/* routes_domain.c */
route_fn h_domain_create, h_domain_delete, h_domain_list;
/* routes_key.c */
route_fn h_key_create, h_key_list, h_key_delete;

/* ---- args.c: path, query and body arguments; each reports its own 400 */
int parse_id(const char *s, int64_t *out);                 /* 0 or -EINVAL */
int query_bool(struct call *c, const char *key, int *out);  /* absent: *out kept */
int query_limit(struct call *c, int *limit);
/* Cursors are opaque: a kind letter, the masked position id, the page
 * number it leads to (for the failPage knob), a check. */
void cursor_encode(char kind, int64_t id, unsigned page, char *out,
    size_t outlen);
int cursor_decode(const char *s, char kind, int64_t *id, unsigned *page);
/* Reads ?cursor= into *id (has: given) and sets c->res->page. */
int query_cursor(struct call *c, char kind, bool *has, int64_t *id);
/* The body as a JSON object; with allowed (NULL-terminated), any other key
 * is refused. NULL after replying 400. */
struct cJSON *body_object(struct call *c, const char *const *allowed);
/* Optional fields: 1 absent or null, 0 read, -EINVAL wrong type (400 sent). */
int opt_string(struct call *c, const struct cJSON *o, const char *key,
    const char **out);
int opt_bool(struct call *c, const struct cJSON *o, const char *key, int *out);
int opt_int(struct call *c, const struct cJSON *o, const char *key,
    int64_t *out);
bool present_null(const struct cJSON *o, const char *key);
int check_type(struct call *c, const char *s, enum dep_type *out);
int check_region(struct call *c, const char *s, enum dep_region *out);
int check_class(struct call *c, const char *s, enum dep_class *out);
struct sim_project *path_project(struct call *c);
/* /deployments/{name} serves cloud deployments only. */
struct sim_deployment *path_deployment(struct call *c);
struct cJSON *page_json(struct cJSON *items, bool more, const char *next);
/* Marks the request as a write and starts its effect record
 * {"op": op, "kind": kind}; returns it for more fields (may be NULL). */
struct cJSON *call_effect(struct call *c, const char *op, const char *kind);
/* {"from": ..., "to": ...} under changes[field] */
void effect_change(struct cJSON *changes, const char *field,
    struct cJSON *from, struct cJSON *to);

#endif
