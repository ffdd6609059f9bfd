/* api_list.c: listings as chains of page calls: follow nextCursor until
 * hasMore is false, guard against servers that loop, fall back to the
 * legacy routes on 404, and hand out the items only when every page has
 * arrived (a failed page fails the whole listing).
 *
 * What a listing takes from a server is checked as it arrives (issue 18):
 * - an item listed twice (same id; for deployments also same name) is
 *   kept once when both say the same, and fails the listing when they
 *   differ (which one is true?): one live project never counts as two, so
 *   no false conflict and no delete sent twice;
 * - a page that brings no new item while saying hasMore (the same items
 *   under fresh cursors, or an empty page) ends the listing: it makes no
 *   progress;
 * - a listing holds at most LIST_MAX_ITEMS items (as sent, repeats and
 *   local deployments included) and LIST_MAX_BYTES of decoded data and
 *   cursors, so a server cannot make it take unbounded memory or time.
 * Each of these fails the listing, and so the observation: nothing is
 * done on what it said. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_call.h"
#include "api_decode.h"
#include "log.h"
#include "pindex.h"
#include "strmap.h"

#define PAGE_LIMIT 100
#define MAX_PAGES 10000
/* 250,000 items: 25 times the 10,000 projects (x 2 deployments) the
 * benchmarks plan; 32 MiB: the cap of one response body. */
#define LIST_MAX_ITEMS 250000
#define LIST_MAX_BYTES (32u << 20)

/* ---- items seen, by id ----------------------------------------------------- */

/* Open addressing over the listing's own items: a slot holds an item's
 * position + 1 (0 is empty), the key is read from the item. 32 bits are
 * enough (a listing keeps at most LIST_MAX_ITEMS) and halve the table;
 * grown at three quarters full (20,000 deployments: 128 KiB, at the peak
 * of a plan's memory: SPEC section 12). Deployment names are checked once
 * the listing is complete (names_unique), not with a second table. */
struct seen {
	uint32_t *slots;
	size_t cap;
	size_t n;
};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void
seen_free(struct seen *s)
{
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
	struct strpool strings;  /* of the kept items (model.h) */
	size_t pages;
	struct strmap cursors;   /* every cursor sent, keys in cursor_bytes */
	struct arena cursor_bytes;
	struct seen by_id;
	size_t raw_items;       /* as sent, repeats and local ones included */
	size_t bytes;           /* kept items and cursors, roughly */
	size_t repeats;         /* identical items listed again */
};

static bool
lists_projects(const struct listing *l)
{
	return l->kind == LIST_PROJECTS || l->kind == LIST_PROJECTS_LEGACY;
}

static int64_t
item_id(const struct listing *l, size_t i)
{
	return lists_projects(l) ? l->projects[i].id : l->deployments[i].id;
}

/* The position + 1 of the kept item with this id, or 0; *slot is where it
 * is or would go. */
static size_t
seen_find(const struct listing *l, const struct seen *s, int64_t id,
    size_t *slot)
{
	size_t i;

	*slot = 0;
	if (s->cap == 0)
		return 0;
	for (i = mix((uint64_t)id) % s->cap; s->slots[i] != 0;
	    i = (i + 1) % s->cap) {
		if (item_id(l, s->slots[i] - 1) == id) {
			*slot = i;
			return s->slots[i];
		}
	}
	*slot = i;
	return 0;
}

/* Adds kept item k (already in the listing's array) under its id. */
static int
seen_add(struct listing *l, struct seen *s, size_t k)
{
	size_t slot;

	if ((s->n + 1) * 4 > s->cap * 3) {
		size_t ncap = s->cap ? s->cap * 2 : 256, j;
		uint32_t *ns;
		if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
			return -ENOMEM;
		for (size_t o = 0; o < s->cap; o++) {
			uint32_t it = s->slots[o];
			if (it == 0)
				continue;
			j = mix((uint64_t)item_id(l, it - 1)) % ncap;
			while (ns[j] != 0)
				j = (j + 1) % ncap;
			ns[j] = it;
		}
		free(s->slots);
		s->slots = ns;
		s->cap = ncap;
	}
	(void)seen_find(l, s, item_id(l, k), &slot);
	s->slots[slot] = (uint32_t)(k + 1);
	s->n++;
	return 0;
}

/* The kept items' strings are in l->strings: the arrays go as they are. */
static void
listing_free(struct listing *l)
{
	free(l->projects);
	free(l->deployments);
	strpool_free(&l->strings);
	strmap_free(&l->cursors);
	arena_free(&l->cursor_bytes);
	seen_free(&l->by_id);
	free(l);
}

static void
listing_finish(struct listing *l, int rc, const struct api_error *err)
{
	if (rc == 0 && l->repeats > 0)
		log_warnx("api: the server listed %zu %s twice (same id, same "
		    "fields): each is counted once", l->repeats,
		    lists_projects(l) ? "projects" : "deployments");
	/* What only the listing needed goes before the callback, which may
	 * plan on the whole observation (SPEC section 12). */
	seen_free(&l->by_id);
	strmap_free(&l->cursors);
	arena_free(&l->cursor_bytes);
	/* The arrays grew by doubling: handed out at their size (SPEC
	 * section 12), they stay that way for the whole reconcile. */
	if (rc == 0 && l->n > 0 && l->n < l->cap) {
		size_t size = lists_projects(l) ? sizeof(*l->projects) :
		    sizeof(*l->deployments);
		void **arr = lists_projects(l) ? (void **)&l->projects :
		    (void **)&l->deployments;
		void *p = realloc(*arr, l->n * size);
		if (p != NULL) {
			*arr = p;
			l->cap = l->n;
		}
	}
	if (rc != 0)
		strpool_free(&l->strings);   /* never a partial result */
	if (lists_projects(l)) {
		struct observed_project *items = rc == 0 ? l->projects : NULL;
		size_t n = rc == 0 ? l->n : 0;
		if (rc == 0)
			l->projects = NULL;
		l->cb.projects(l->arg, rc, err, items, n, &l->strings);
	} else {
		struct observed_deployment *items = rc == 0 ? l->deployments : NULL;
		size_t n = rc == 0 ? l->n : 0;
		if (rc == 0)
			l->deployments = NULL;
		l->cb.deployments(l->arg, rc, err, items, n, &l->strings);
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

static size_t
slen(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* What one kept item costs: the struct, its strings, its hash slots. */
static size_t
project_bytes(const struct observed_project *p)
{
	return sizeof(*p) + slen(p->name) + slen(p->slug) + 2 * sizeof(uint32_t);
}

static size_t
deployment_bytes(const struct observed_deployment *d)
{
	return sizeof(*d) + slen(d->name) + slen(d->reference) +
	    slen(d->region) + slen(d->class_name) + slen(d->url) +
	    4 * sizeof(uint32_t);
}

/* Appends item p to the listing, its strings moved into l->strings (the
 * decoder's copies freed: one pool instead of a malloc per string). On
 * -ENOMEM p is left as it was. */
static int
keep_project(struct listing *l, struct observed_project *p)
{
	struct observed_project *k = &l->projects[l->n];

	*k = *p;
	if ((k->name = strpool_add(&l->strings, p->name)) == NULL)
		return -ENOMEM;
	/* The slug is often the name itself: then one copy serves both. */
	if (p->slug != NULL && strcmp(p->slug, p->name) == 0)
		k->slug = k->name;
	else if (p->slug != NULL &&
	    (k->slug = strpool_add(&l->strings, p->slug)) == NULL)
		return -ENOMEM;
	observed_project_free(p);
	return 0;
}

/* Region and class take a handful of values, references mostly a few
 * ("production", "development" in every project): interned (bounded:
 * strpool.h). */
static int
keep_deployment(struct listing *l, struct observed_deployment *d)
{
	struct observed_deployment *k = &l->deployments[l->n];
	struct strpool *sp = &l->strings;

	*k = *d;
	if ((k->name = strpool_add(sp, d->name)) == NULL ||
	    (d->reference != NULL && (k->reference = strpool_intern(sp, d->reference)) == NULL) ||
	    (d->region != NULL && (k->region = strpool_intern(sp, d->region)) == NULL) ||
	    (d->class_name != NULL && (k->class_name = strpool_intern(sp, d->class_name)) == NULL) ||
	    (d->url != NULL && (k->url = strpool_add(sp, d->url)) == NULL))
		return -ENOMEM;
	observed_deployment_free(d);
	return 0;
}

/*
 * Takes one page's items into the listing: new ones are appended (moved),
 * repeats of a kept item are dropped when identical. Every item of pv/dv
 * is consumed and the arrays freed, whatever happens. Returns 0 and *fresh
 * (how many were new), or fills e: -EBADMSG for an item listed twice with
 * different fields (or, for deployments, one name under two ids), -EFBIG
 * past the bounds, -ENOMEM.
 */
static int
absorb(struct listing *l, const struct api_call *call,
    struct observed_project *pv, struct observed_deployment *dv, size_t n,
    size_t *fresh, struct api_error *e)
{
	size_t i, slot, at;
	int rc = 0;

	*fresh = 0;
	if (n == 0 || (pv == NULL && dv == NULL)) {
		free(pv);
		free(dv);
		return 0;
	}
	if (grow(lists_projects(l) ? (void **)&l->projects :
	    (void **)&l->deployments, &l->cap, l->n + n, lists_projects(l) ?
	    sizeof(*pv) : sizeof(*dv)) != 0) {
		rc = -ENOMEM;
		call_set_err(e, call, 0, "RequestError", "out of memory");
		i = 0;
		goto drop_rest;
	}
	for (i = 0; i < n; i++) {
		bool proj = pv != NULL;
		int64_t id = proj ? pv[i].id : dv[i].id;

		if ((at = seen_find(l, &l->by_id, id, &slot)) != 0) {
			bool same = proj ?
			    observed_project_same(&l->projects[at - 1], &pv[i]) :
			    observed_deployment_same(&l->deployments[at - 1], &dv[i]);
			if (!same) {
				rc = -EBADMSG;
				call_set_err(e, call, 200, "InconsistentListing",
				    "%s %lld is listed twice with different fields "
				    "(the second time on page %zu): the listing is "
				    "not consistent", proj ? "project" : "deployment",
				    (long long)id, l->pages + 1);
				goto drop_rest;
			}
			l->repeats++;
			if (proj)
				observed_project_free(&pv[i]);
			else
				observed_deployment_free(&dv[i]);
			continue;
		}
		l->bytes += proj ? project_bytes(&pv[i]) : deployment_bytes(&dv[i]);
		if (l->bytes > LIST_MAX_BYTES) {
			rc = -EFBIG;
			call_set_err(e, call, 200, "ListingTooLarge", "the listing "
			    "holds more than %u MiB: refused", LIST_MAX_BYTES >> 20);
			goto drop_rest;
		}
		if ((proj ? keep_project(l, &pv[i]) : keep_deployment(l, &dv[i])) != 0) {
			rc = -ENOMEM;
			call_set_err(e, call, 0, "RequestError", "out of memory");
			goto drop_rest;
		}
		l->n++;
		if (seen_add(l, &l->by_id, l->n - 1) != 0) {
			rc = -ENOMEM;
			call_set_err(e, call, 0, "RequestError", "out of memory");
			i++;
			goto drop_rest;
		}
		(*fresh)++;
	}
	free(pv);
	free(dv);
	return 0;
drop_rest:
	for (; i < n; i++) {
		if (pv != NULL)
			observed_project_free(&pv[i]);
		else
			observed_deployment_free(&dv[i]);
	}
	free(pv);
	free(dv);
	return rc;
}

static void on_page(struct api_call *call, int rc, const struct api_error *err,
    const char *body, size_t len);

static void
key_name(const void *ctx, size_t pos, const char **str, int64_t *num)
{
	*str = ((const struct listing *)ctx)->deployments[pos].name;
	*num = 0;
}

/* A complete deployment listing: one name under two ids (repeats of an id
 * are already dropped) makes it inconsistent. 0, or fills e. */
static int
names_unique(struct listing *l, const struct api_call *call,
    struct api_error *e)
{
	struct pindex ix;
	size_t a, b;
	int rc;

	if (lists_projects(l) || l->n < 2)
		return 0;
	if ((rc = pindex_build(&ix, l->n, key_name, l)) != 0) {
		call_set_err(e, call, 0, "RequestError", "out of memory");
		return rc;
	}
	for (size_t i = 1; i < ix.n; i++) {
		a = pindex_pos(&ix, i - 1);
		b = pindex_pos(&ix, i);
		if (strcmp(l->deployments[a].name, l->deployments[b].name) == 0) {
			call_set_err(e, call, 200, "InconsistentListing",
			    "deployment ids %lld and %lld are listed under one "
			    "name: the listing is not consistent",
			    (long long)l->deployments[a].id,
			    (long long)l->deployments[b].id);
			pindex_free(&ix);
			return -EBADMSG;
		}
	}
	pindex_free(&ix);
	return 0;
}

/* 1: a cursor not seen before (kept), 0: sent before, -ENOMEM. */
static int
cursor_add(struct listing *l, const char *cursor)
{
	size_t len = strlen(cursor);
	char *copy;
	int rc;

	if (strmap_get(&l->cursors, cursor, len, NULL) == 1)
		return 0;
	if ((copy = arena_strndup(&l->cursor_bytes, cursor, len)) == NULL)
		return -ENOMEM;
	if ((rc = strmap_put(&l->cursors, copy, len, 0, NULL)) < 0)
		return rc;
	return 1;
}

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
	size_t n = 0, fresh = 0;
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
		call_decode_err(&e, call, rc, why);
		listing_finish(l, rc, &e);
		return;
	}
	if (l->kind == LIST_PROJECTS_LEGACY && !c->legacy_projects) {
		c->legacy_projects = true;
		log_info("api: GET /teams/{team}/projects does not exist on this "
		    "API (404); using GET /teams/{team}/list_projects from now on");
	}

	/* Take this page's items: repeats dropped or refused, bounds kept. */
	l->raw_items += page.n_items > n ? page.n_items : n;
	if (l->raw_items > LIST_MAX_ITEMS) {
		api_projects_free(pv, n);
		api_deployments_free(dv, n);
		api_page_free(&page);
		call_set_err(&e, call, 200, "ListingTooLarge", "the listing "
		    "holds more than %d items: refused", LIST_MAX_ITEMS);
		listing_finish(l, -EFBIG, &e);
		return;
	}
	if ((rc = absorb(l, call, pv, dv, n, &fresh, &e)) != 0) {
		api_page_free(&page);
		listing_finish(l, rc, &e);
		return;
	}
	l->pages++;

	if (!page.has_more) {
		api_page_free(&page);
		/* Checked with the table of ids gone (less memory at once). */
		seen_free(&l->by_id);
		if ((rc = names_unique(l, call, &e)) != 0)
			listing_finish(l, rc, &e);
		else
			listing_finish(l, 0, NULL);
		return;
	}
	if (page.next_cursor == NULL || page.next_cursor[0] == '\0') {
		api_page_free(&page);
		call_decode_err(&e, call, 0, "pagination: hasMore is true but nextCursor "
		    "is missing");
		listing_finish(l, -EBADMSG, &e);
		return;
	}
	/* A page that adds nothing (all seen, or empty) while another is
	 * announced makes no progress: the next one could do the same for
	 * ever. Local deployments carry no id, so a page of them counts as
	 * progress; the item bound ends a server that sends only those. */
	if (fresh == 0 && page.n_items <= n) {
		api_page_free(&page);
		call_set_err(&e, call, 200, "PaginationLoop", "page %zu brings "
		    "no new item (%zu listed, all seen before) yet says hasMore: "
		    "the listing makes no progress", l->pages, n);
		listing_finish(l, -ELOOP, &e);
		return;
	}
	l->bytes += strlen(page.next_cursor) + 1 + 2 * sizeof(char *);
	if (l->bytes > LIST_MAX_BYTES) {
		api_page_free(&page);
		call_set_err(&e, call, 200, "ListingTooLarge", "the listing "
		    "holds more than %u MiB: refused", LIST_MAX_BYTES >> 20);
		listing_finish(l, -EFBIG, &e);
		return;
	}
	if ((added = cursor_add(l, page.next_cursor)) <= 0 ||
	    l->pages >= MAX_PAGES) {
		api_page_free(&page);
		if (added < 0)
			goto nomem;
		call_set_err(&e, call, 200, "PaginationLoop", added == 0 ?
		    "the server sent cursor it had already sent (after %zu pages)" :
		    "more than %zu pages", l->pages);
		listing_finish(l, -ELOOP, &e);
		return;
	}
	continue_or_fail(l, call, page.next_cursor);
	api_page_free(&page);
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
