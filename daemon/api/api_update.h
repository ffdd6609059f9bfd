/* api_update.h: the two PATCH routes of SPEC section 8 with typed
 * arguments: only the fields set are sent. Same contract as api.h: a
 * negative return means the callback never runs. Both are retried like
 * a GET (setting fields to values is idempotent); a 404 is an error
 * (-ENOENT): the resource is gone, nothing was updated. */
#ifndef CP_API_UPDATE_H
#define CP_API_UPDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"

/* PlatformUpdateDeploymentArgs. */
struct api_deployment_patch {
	const char *reference;             /* NULL: not sent */
	const char *class_name;            /* NULL: not sent */
	int is_default;                    /* -1: not sent; 0 or 1 */
	int dashboard_edit_confirmation;   /* -1: not sent; 0 or 1 */
	int send_logs_to_client;           /* -1: not sent; 0 or 1 */
	bool set_expires;                  /* expiresAt sent: */
	int64_t expires_at;                /* ms, or 0 for null (no expiry) */
};

/* PlatformUpdateProjectArgs. */
struct api_project_patch {
	const char *name;                  /* NULL: not sent */
	const char *slug;                  /* NULL: not sent */
};

/* An empty patch: all fields unset / -1. */
void api_deployment_patch_init(struct api_deployment_patch *p);

/* The request body, for tests; NULL when nothing is set (or ENOMEM).
 * Freed with cJSON_free. */
char *api_deployment_patch_body(const struct api_deployment_patch *p);
char *api_project_patch_body(const struct api_project_patch *p);

/* PATCH /deployments/{name}; -EINVAL when nothing is set. */
int api_patch_deployment(struct api_client *c, const char *name,
    const struct api_deployment_patch *p, api_done_cb cb, void *arg);
/* PATCH /projects/{id}; -EINVAL when nothing is set. */
int api_update_project(struct api_client *c, int64_t project_id,
    const struct api_project_patch *p, api_done_cb cb, void *arg);

#endif
