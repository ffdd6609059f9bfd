/* api_decode.h: pure decoders of Management API bodies into the model's
 * structs (no I/O, no clock, no log), so tests and fuzzers can call them.
 *
 * Every decoder takes (body, len) and an error buffer. It returns 0, or
 * -EBADMSG with a message naming the field ("items[3].projectId: expected an
 * integer"), or -ENOMEM. Unknown fields are ignored; fields this program uses
 * are required. On failure no output is left allocated.
 *
 * A body that holds a NUL in any string (a "\u0000" escape or a raw 0 byte)
 * or anything after its JSON document is refused whole (jsonscan.h): a
 * name cut at a NUL would match another name. */
#ifndef CP_API_DECODE_H
#define CP_API_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The "pagination" object of a paginated answer. */
struct api_page {
	bool has_more;
	char *next_cursor;      /* NULL when absent or null */
	size_t n_items;         /* elements of "items", local deployments
	                         * (dropped from the output) included */
};

struct api_token_info {
	bool team_token;        /* "teamToken"; false: "projectToken" */
	int64_t team_id;        /* team tokens */
	int64_t project_id;     /* project tokens */
	char *name;             /* may be NULL */
};

/* {"items":[ProjectResponse], "pagination":{...}} */
int api_decode_projects_page(const char *body, size_t len,
    struct observed_project **items, size_t *n, struct api_page *page,
    char *err, size_t errlen);
/* The legacy list_projects answer: [ {"id","name","slug",...} ] */
int api_decode_projects_array(const char *body, size_t len,
    struct observed_project **items, size_t *n, char *err, size_t errlen);
/* {"items":[PlatformDeploymentResponse], "pagination":{...}}; local
 * deployments are dropped. */
int api_decode_deployments_page(const char *body, size_t len,
    struct observed_deployment **items, size_t *n, struct api_page *page,
    char *err, size_t errlen);
/* [PlatformDeploymentResponse]; local deployments are dropped. */
int api_decode_deployments_array(const char *body, size_t len,
    struct observed_deployment **items, size_t *n, char *err, size_t errlen);
/* One PlatformDeploymentResponse. A local one sets *is_local and leaves
 * `out` zeroed. */
int api_decode_deployment(const char *body, size_t len,
    struct observed_deployment *out, bool *is_local, char *err, size_t errlen);
/* create_project: "id" (or the older "projectId") and "slug". *slug is
 * allocated (NULL when the answer has none). */
int api_decode_created_project(const char *body, size_t len,
    int64_t *id, char **slug, char *err, size_t errlen);
int api_decode_token_details(const char *body, size_t len,
    struct api_token_info *out, char *err, size_t errlen);
/* {"code","message"}: copies what is there (each may be missing); returns
 * -EBADMSG when the body is not such a JSON object. */
int api_decode_error_body(const char *body, size_t len,
    char *code, size_t codelen, char *message, size_t msglen);

/* SPEC section 9. A page of list_default_environment_variables
 * ({"items":[{"deploymentTypes":[...],"name","value"}],"pagination"}):
 * one entry per (type, name), project_id set on each. page->n_items counts
 * the JSON items (groups). Errors never quote a value. */
int api_decode_env_page(const char *body, size_t len, int64_t project_id,
    struct observed_env_var **items, size_t *n, struct api_page *page,
    char *err, size_t errlen);
/* {"domains":[{"domain","requestDestination","verificationTime"?,
 * "creationTime"?,...}]}; each item's deployment is a copy of `deployment`. */
int api_decode_domains(const char *body, size_t len, const char *deployment,
    struct observed_domain **items, size_t *n, char *err, size_t errlen);
/* [{"name","creationTime"?,...}] (list_deploy_keys); `name` is required:
 * keys are matched by it. */
int api_decode_deploy_keys(const char *body, size_t len, const char *deployment,
    struct observed_deploy_key **items, size_t *n, char *err, size_t errlen);
/* {"deployKey": SECRET}: *secret allocated, non-empty. Errors never quote
 * it. */
int api_decode_created_deploy_key(const char *body, size_t len, char **secret,
    char *err, size_t errlen);

void api_page_free(struct api_page *p);
void api_token_info_free(struct api_token_info *t);
/* Free n items and the array itself; accept NULL. */
void api_projects_free(struct observed_project *items, size_t n);
void api_deployments_free(struct observed_deployment *items, size_t n);

#endif
