/* api_list.c: listings as chains of page calls: follow nextCursor until
 * hasMore is false, guard against servers that loop, fall back to the
 * legacy routes on 404, and hand out the items only when every page has
 * arrived (a failed page fails the whole listing). */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "api_decode.h"
#include "log.h"

#define PAGE_LIMIT 100
#define MAX_PAGES 100000

/* ---- cursor loop guard --------------------------------------------------- */

struct strset {
	char **slots;
	size_t cap;
	size_t n;
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* 1: added, 0: was already there, -ENOMEM. */
static int
strset_add(struct strset *s, const char *k)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		char **ns = calloc(ncap, sizeof(char *));
		if (ns == NULL)
			return -ENOMEM;
		for (size_t j = 0; j < s->cap; j++) {
			if (s->slots[j] == NULL)
				continue;
			for (i = fnv1a(s->slots[j]) % ncap; ns[i]; i = (i + 1) % ncap)
				;
			ns[i] = s->slots[j];
		}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	for (i = fnv1a(k) % s->cap; s->slots[i]; i = (i + 1) % s->cap)
		if (strcmp(s->slots[i], k) == 0)
			return 0;
	if ((s->slots[i] = strdup(k)) == NULL)
		return -ENOMEM;
	s->n++;
	return 1;
}

static void
strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* ---- listings ------------------------------------------------------------ */

enum list_kind {
	LIST_PROJECTS,          /* paginated, may fall back to the legacy route */
	LIST_PROJECTS_LEGACY,
	LIST_TEAM_DEPLOYMENTS,  /* paginated */
	LIST_PROJECT_DEPLOYMENTS,
};

struct listing {
	struct api_client *c;
	enum list_kind kind;
	int64_t id;             /* team or project */
	union user_cb cb;
	void *arg;
	struct observed_project *projects;
	struct observed_deployment *deployments;
	size_t n;
	size_t cap;
	size_t pages;
	struct strset cursors;
};

static void
listing_free(struct listing *l)
{
	api_projects_free(l->projects, l->n);
	api_deployments_free(l->deployments, l->n);
	strset_free(&l->cursors);
	free(l);
}

static void
listing_finish(struct listing *l, int rc, const struct api_error *err)
{
	if (l->kind == LIST_PROJECTS || l->kind == LIST_PROJECTS_LEGACY) {
		struct observed_project *items = rc == 0 ? l->projects : NULL;
		size_t n = rc == 0 ? l->n : 0;
		if (rc == 0)
			l->projects = NULL;
		l->cb.projects(l->arg, rc, err, items, n);
	} else {
		struct observed_deployment *items = rc == 0 ? l->deployments : NULL;
		size_t n = rc == 0 ? l->n : 0;
		if (rc == 0)
			l->deployments = NULL;
		l->cb.deployments(l->arg, rc, err, items, n);
	}
	if (rc == 0)
		l->n = 0;
	listing_free(l);
}

static int
grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 128;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(*arr, ncap * size)) == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static void on_page(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len);

static int
page_start(struct listing *l, const char *cursor)
{
	char path[128], query[1200], esc[1024];
	const char *tmpl;
	union user_cb none = { .done = NULL };

	switch (l->kind) {
	case LIST_PROJECTS:
		tmpl = "GET /teams/{team}/projects";
		snprintf(path, sizeof(path), "/teams/%lld/projects", (long long)l->id);
		break;
	case LIST_PROJECTS_LEGACY:
		tmpl = "GET /teams/{team}/list_projects";
		snprintf(path, sizeof(path), "/teams/%lld/list_projects",
		    (long long)l->id);
		break;
	case LIST_TEAM_DEPLOYMENTS:
		tmpl = "GET /teams/{team}/list_deployments";
		snprintf(path, sizeof(path), "/teams/%lld/list_deployments",
		    (long long)l->id);
		break;
	default:
		tmpl = "GET /projects/{id}/list_deployments";
		snprintf(path, sizeof(path), "/projects/%lld/list_deployments",
		    (long long)l->id);
		break;
	}
	if (l->kind == LIST_PROJECTS || l->kind == LIST_TEAM_DEPLOYMENTS) {
		if (cursor != NULL) {
			if (call_escape(esc, sizeof(esc), cursor) != 0)
				return -ENAMETOOLONG;
			snprintf(query, sizeof(query), "limit=%d&cursor=%s",
			    PAGE_LIMIT, esc);
		} else {
			snprintf(query, sizeof(query), "limit=%d", PAGE_LIMIT);
		}
		return call_start(l->c, "GET", tmpl, path, query, NULL,
		    POL_IDEMPOTENT, on_page, none, NULL, l);
	}
	return call_start(l->c, "GET", tmpl, path, NULL, NULL, POL_IDEMPOTENT,
	    on_page, none, NULL, l);
}

/* Starts the next page (or the legacy route) from a continuation; on
 * failure the listing ends with that error. */
static void
continue_or_fail(struct listing *l, const struct api_call *call,
    const char *cursor)
{
	struct api_error err;
	int rc;

	if ((rc = page_start(l, cursor)) == -ESHUTDOWN) {
		/* The client closed while this page was answered. */
		call_set_err(&err, call, 0, "Cancelled", "cancelled");
		listing_finish(l, -ECANCELED, &err);
	} else if (rc != 0) {
		call_set_err(&err, call, 0, "RequestError", "could not request the "
		    "next page: %s", strerror(-rc));
		listing_finish(l, rc, &err);
	}
}

static void
on_page(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len)
{
	struct listing *l = call->ctx;
	struct api_client *c = l->c;
	struct observed_project *pv = NULL;
	struct observed_deployment *dv = NULL;
	struct api_page page = { 0 };
	struct api_error e;
	char why[256];
	size_t n = 0;
	int added;

	if (rc == -ENOENT && l->pages == 0 && l->kind == LIST_PROJECTS) {
		/* Older APIs have only the unpaginated route. */
		log_debug("api: %s answered 404, trying the legacy route",
		    call->route);
		l->kind = LIST_PROJECTS_LEGACY;
		continue_or_fail(l, call, NULL);
		return;
	}
	if (rc == -ENOENT && l->pages == 0 && l->kind == LIST_TEAM_DEPLOYMENTS) {
		if (!c->legacy_deployments) {
			c->legacy_deployments = true;
			log_info("api: %s does not exist on this API (404); "
			    "listing deployments project by project from now on",
			    "GET /teams/{team}/list_deployments");
		}
		listing_finish(l, -ENOTSUP, err);
		return;
	}
	if (rc != 0) {
		listing_finish(l, rc, err);
		return;
	}

	switch (l->kind) {
	case LIST_PROJECTS:
		rc = api_decode_projects_page(body, len, &pv, &n, &page, why,
		    sizeof(why));
		break;
	case LIST_PROJECTS_LEGACY:
		rc = api_decode_projects_array(body, len, &pv, &n, why, sizeof(why));
		break;
	case LIST_TEAM_DEPLOYMENTS:
		rc = api_decode_deployments_page(body, len, &dv, &n, &page, why,
		    sizeof(why));
		break;
	default:
		rc = api_decode_deployments_array(body, len, &dv, &n, why,
		    sizeof(why));
		break;
	}
	if (rc != 0) {
		if (rc == -ENOMEM)
			snprintf(why, sizeof(why), "out of memory");
		call_decode_err(&e, call, why);
		listing_finish(l, rc, &e);
		return;
	}
	if (l->kind == LIST_PROJECTS_LEGACY && !c->legacy_projects) {
		c->legacy_projects = true;
		log_info("api: GET /teams/{team}/projects does not exist on this "
		    "API (404); using GET /teams/{team}/list_projects from now on");
	}

	/* Append this page's items. */
	if (pv != NULL) {
		if (grow((void **)&l->projects, &l->cap, l->n + n,
		    sizeof(*pv)) != 0) {
			api_projects_free(pv, n);
			goto nomem;
		}
		memcpy(l->projects + l->n, pv, n * sizeof(*pv));
		free(pv);
		l->n += n;
	} else if (dv != NULL) {
		if (grow((void **)&l->deployments, &l->cap, l->n + n,
		    sizeof(*dv)) != 0) {
			api_deployments_free(dv, n);
			goto nomem;
		}
		memcpy(l->deployments + l->n, dv, n * sizeof(*dv));
		free(dv);
		l->n += n;
	}
	l->pages++;

	if (!page.has_more) {
		api_page_clear(&page);
		listing_finish(l, 0, NULL);
		return;
	}
	if (page.next_cursor == NULL || page.next_cursor[0] == '\0') {
		api_page_clear(&page);
		call_decode_err(&e, call, "pagination: hasMore is true but nextCursor "
		    "is missing");
		listing_finish(l, -EBADMSG, &e);
		return;
	}
	if ((added = strset_add(&l->cursors, page.next_cursor)) <= 0 ||
	    l->pages >= MAX_PAGES) {
		api_page_clear(&page);
		if (added < 0)
			goto nomem;
		call_set_err(&e, call, 200, "PaginationLoop", added == 0 ?
		    "the server sent cursor it had already sent (after %zu pages)" :
		    "more than %zu pages", l->pages);
		listing_finish(l, -ELOOP, &e);
		return;
	}
	continue_or_fail(l, call, page.next_cursor);
	api_page_clear(&page);
	return;
nomem:
	call_set_err(&e, call, 0, "RequestError", "out of memory");
	listing_finish(l, -ENOMEM, &e);
}

static int
listing_start(struct api_client *c, enum list_kind kind, int64_t id,
    union user_cb cb, void *arg)
{
	struct listing *l;
	int rc;

	if (c->closing)
		return -ESHUTDOWN;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->c = c;
	l->kind = kind;
	l->id = id;
	l->cb = cb;
	l->arg = arg;
	if ((rc = page_start(l, NULL)) != 0)
		listing_free(l);
	return rc;
}

int
api_list_projects(struct api_client *c, int64_t team, api_projects_cb cb,
    void *arg)
{
	union user_cb u = { .projects = cb };

	return listing_start(c, c->legacy_projects ? LIST_PROJECTS_LEGACY :
	    LIST_PROJECTS, team, u, arg);
}

int
api_list_team_deployments(struct api_client *c, int64_t team,
    api_deployments_cb cb, void *arg)
{
	union user_cb u = { .deployments = cb };

	if (c->legacy_deployments)
		return -ENOTSUP;
	return listing_start(c, LIST_TEAM_DEPLOYMENTS, team, u, arg);
}

int
api_list_project_deployments(struct api_client *c, int64_t project_id,
    api_deployments_cb cb, void *arg)
{
	union user_cb u = { .deployments = cb };

	return listing_start(c, LIST_PROJECT_DEPLOYMENTS, project_id, u, arg);
}
