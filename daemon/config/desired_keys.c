/* desired_keys.c: the parsers of the key table's rows (desired.c), one per
 * key: each reads its value from the walk, checks it and sets the model
 * field; problems are reported at the value and leave the field unset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "desired_int.h"

int
dl_key_name(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct proj_ctx *pc = res->pc;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	int rc;

	(void)k;
	pc->name_seen = true;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "name", &v) == NULL)
		return rc;
	if (v.len == 0) {
		dl_err(l, dl_at(&v), "\"name\" may not be empty");
	} else if (v.len > DESIRED_NAME_MAX) {
		dl_err(l, dl_at(&v), "project name %s is longer than %d bytes",
		    dl_quote(q, sizeof(q), &v), DESIRED_NAME_MAX);
	} else if (desired_has_control(v.value, v.len)) {
		dl_err(l, dl_at(&v), "project name %s may not contain control "
		    "characters", dl_quote(q, sizeof(q), &v));
	} else {
		if ((pc->p.name = dl_copy(l, v.value, v.len)) == NULL)
			return -ENOMEM;
		pc->p.loc.line = v.line;
		pc->p.loc.col = v.col;
	}
	return 0;
}

int
dl_key_reference(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct dep_ctx *dc = res->dc;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	const char *why;
	int rc;

	(void)k;
	dc->ref_seen = true;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "reference", &v) == NULL)
		return rc;
	if ((why = desired_reference_problem(v.value, v.len)) != NULL) {
		dl_err(l, dl_at(&v), "reference %s %s", dl_quote(q, sizeof(q), &v),
		    why);
		return 0;
	}
	if ((dc->dd.reference = dl_intern(l, v.value, v.len)) == NULL)
		return -ENOMEM;
	dc->dd.loc.line = v.line;
	dc->dd.loc.col = v.col;
	dc->ref_ok = true;
	return 0;
}

int
dl_key_type(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct dep_ctx *dc = res->dc;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	enum dep_type t;
	int rc;

	(void)k;
	dc->type_seen = true;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "type", &v) == NULL)
		return rc;
	if (strlen(v.value) != v.len || dep_type_parse(v.value, &t) != 0) {
		dl_err(l, dl_at(&v), "invalid type %s (expected one of: dev, prod, "
		    "preview, custom)", dl_quote(q, sizeof(q), &v));
		return 0;
	}
	dc->dd.type = (unsigned char)t;
	dc->type_ok = true;
	return 0;
}

/* region and class: names the API hands out (aws-us-east-1, s16), so a
 * stray space or capital is caught here rather than by the API. */
int
dl_key_attr(struct loader *l, struct res *res, const struct yread_node *k)
{
	const char *key = k->value;
	char q[DIAG_QUOTE_MAX], **field;
	struct yread_node v;
	bool ok;
	int rc;

	field = strcmp(key, "region") == 0 ? &res->dc->dd.region :
	    &res->dc->dd.class_name;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, key, &v) == NULL)
		return rc;
	ok = v.len > 0 && v.len <= DESIRED_ATTR_MAX;
	for (size_t i = 0; ok && i < v.len; i++) {
		char c = v.value[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
	}
	if (!ok) {
		dl_err(l, dl_at(&v), "invalid %s %s (expected 1 to %d characters "
		    "of a-z, 0-9 and \"-\")", key, dl_quote(q, sizeof(q), &v),
		    DESIRED_ATTR_MAX);
		return 0;
	}
	return (*field = dl_intern(l, v.value, v.len)) == NULL ? -ENOMEM : 0;
}

int
dl_key_default(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct dep_ctx *dc = res->dc;
	struct yread_node v;
	bool b;
	int rc;

	(void)k;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    !dl_want_bool(l, "default", &v, &b))
		return rc;
	dc->dd.is_default = b ? TRI_TRUE : TRI_FALSE;
	dc->def_seen = true;
	dc->def = dl_at(&v);
	return 0;
}

int
dl_key_state(struct loader *l, struct res *res, const struct yread_node *k)
{
	bool *absent = res->at == AT_PROJECT ? &res->pc->p.absent :
	    &res->dc->dd.absent;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	int rc;

	(void)k;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "state", &v) == NULL)
		return rc;
	if (dl_is_text(&v, "present"))
		*absent = false;
	else if (dl_is_text(&v, "absent"))
		*absent = true;
	else
		dl_err(l, dl_at(&v), "invalid state %s (expected present or "
		    "absent)", dl_quote(q, sizeof(q), &v));
	return 0;
}

int
dl_key_protect(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct yread_node v;
	bool b;
	int rc;

	(void)k;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    !dl_want_bool(l, "protect", &v, &b))
		return rc;
	if (res->at == AT_PROJECT) {
		res->pc->p.protect = b;
		res->pc->protect_seen = true;
		res->pc->protect = dl_at(&v);
	} else {
		res->dc->dd.protect = b;
		res->dc->protect_seen = true;
		res->dc->protect = dl_at(&v);
	}
	return 0;
}

/* ---- SPEC section 8 ----------------------------------------------------- */

int
dl_key_slug(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct proj_ctx *pc = res->pc;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	const char *why;
	int rc;

	dl_absent_key(res, "slug", dl_at(k));
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "slug", &v) == NULL)
		return rc;
	if ((why = desired_slug_problem(v.value, v.len)) != NULL) {
		dl_err(l, dl_at(&v), "slug %s %s", dl_quote(q, sizeof(q), &v), why);
		return 0;
	}
	if ((pc->p.slug = dl_copy(l, v.value, v.len)) == NULL)
		return -ENOMEM;
	return dl_mark(&l->file_marks, MARK_SLUG, pc->p.slug, dl_at(&v),
	    pc->index);
}

/* dashboard_edit_confirmation, send_logs_to_client. */
int
dl_key_tribool(struct loader *l, struct res *res, const struct yread_node *k)
{
	const char *key = k->value;
	struct yread_node v;
	signed char *field;
	bool b;
	int rc;

	field = strcmp(key, "send_logs_to_client") == 0 ?
	    &res->dc->dd.send_logs_to_client :
	    &res->dc->dd.dashboard_edit_confirmation;
	dl_absent_key(res, strcmp(key, "send_logs_to_client") == 0 ?
	    "send_logs_to_client" : "dashboard_edit_confirmation", dl_at(k));
	if ((rc = dl_read_scalar(l, &v)) != 0 || !dl_want_bool(l, key, &v, &b))
		return rc;
	*field = b ? TRI_TRUE : TRI_FALSE;
	return 0;
}

int
dl_key_expires(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct desired_deployment *dd = &res->dc->dd;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	const char *why;
	int64_t ms;
	int rc;

	dl_absent_key(res, "expires_at", dl_at(k));
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "expires_at", &v) == NULL)
		return rc;
	if (dl_is_text(&v, "never")) {
		dd->expires = DESIRED_EXPIRES_NEVER;
	} else if (desired_parse_time(v.value, v.len, &ms, &why) == 0) {
		dd->expires = DESIRED_EXPIRES_AT;
		dd->expires_at_ms = ms;
	} else {
		dl_err(l, dl_at(&v), "invalid expires_at %s: %s (expected an RFC "
		    "3339 time such as 2027-01-31T00:00:00Z, or never)",
		    dl_quote(q, sizeof(q), &v), why);
	}
	return 0;
}

/* One entry of renamed_from: a name (project) or a reference (deployment)
 * by the rules of the current one; kept with its place for the checks
 * against the other names, which run when all of them are known. */
static int
renamed_entry(struct loader *l, struct res *res, const struct yread_node *v)
{
	bool project = res->at == AT_PROJECT;
	char q[DIAG_QUOTE_MAX], *copy;
	const char *why;

	if (v->kind != YTREE_SCALAR || (v->stype != YTREE_STR &&
	    v->stype != YTREE_INT && v->stype != YTREE_FLOAT)) {
		dl_err(l, dl_at(v), "\"renamed_from\" must be %s or a list of "
		    "them, got %s", project ? "a name" : "a reference",
		    yread_describe(v));
		return 0;
	}
	why = project ? desired_name_problem(v->value, v->len) :
	    desired_reference_problem(v->value, v->len);
	if (why != NULL) {
		dl_err(l, dl_at(v), "renamed_from %s %s", dl_quote(q, sizeof(q), v),
		    why);
		return 0;
	}
	if (l->list.n == DESIRED_LIST_MAX) {
		dl_err(l, dl_at(v), "\"renamed_from\" lists more than %d names",
		    DESIRED_LIST_MAX);
		return 0;
	}
	copy = project ? dl_copy(l, v->value, v->len) :
	    dl_intern(l, v->value, v->len);
	if (copy == NULL || dl_strv_add(&l->list, copy) != 0)
		return -ENOMEM;
	if (project)
		return dl_mark(&l->file_marks, MARK_RENAMED, copy, dl_at(v),
		    res->pc->index);
	return dl_mark(&l->dep_marks, MARK_RENAMED, copy, dl_at(v),
	    l->n_deps);
}

/* A name or a reference, or a list of them. */
int
dl_key_renamed_from(struct loader *l, struct res *res,
    const struct yread_node *k)
{
	struct yread_node v;
	int rc;

	dl_absent_key(res, "renamed_from", dl_at(k));
	l->list.n = 0;
	if ((rc = yread_value(l->r, &v)) != 0)
		return rc;
	if (v.kind == YTREE_SCALAR) {
		rc = renamed_entry(l, res, &v);
	} else if (v.kind == YTREE_SEQ) {
		while ((rc = yread_next_item(l->r)) > 0) {
			if ((rc = dl_read_scalar(l, &v)) != 0 ||
			    (rc = renamed_entry(l, res, &v)) != 0)
				break;
		}
	} else {
		rc = renamed_entry(l, res, &v);
		if (rc == 0)
			rc = yread_leave(l->r);
	}
	if (rc != 0)
		return rc;
	if (res->at == AT_PROJECT)
		return dl_strv_keep(l, &res->pc->p.renamed_from,
		    &res->pc->p.n_renamed_from);
	return dl_strv_keep(l, &res->dc->dd.renamed_from,
	    &res->dc->dd.n_renamed_from);
}

/* ---- SPEC section 9: domains and deploy keys ---------------------------- */

int
dl_key_domain(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct domain_ctx *dom = res->dom;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	const char *why;
	int rc;

	(void)k;
	dom->domain_seen = true;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "domain", &v) == NULL)
		return rc;
	if ((why = desired_domain_problem(v.value, v.len)) != NULL) {
		dl_err(l, dl_at(&v), "domain %s %s", dl_quote(q, sizeof(q), &v), why);
		return 0;
	}
	dom->domain_at = dl_at(&v);
	return (dom->v.domain = dl_copy(l, v.value, v.len)) == NULL ? -ENOMEM : 0;
}

int
dl_key_destination(struct loader *l, struct res *res,
    const struct yread_node *k)
{
	struct domain_ctx *dom = res->dom;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	int rc;

	(void)k;
	dom->dest_seen = true;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "destination", &v) == NULL)
		return rc;
	if (dl_is_text(&v, "convexCloud")) {
		dom->v.destination = DESIRED_DEST_CONVEX_CLOUD;
	} else if (dl_is_text(&v, "convexSite")) {
		dom->v.destination = DESIRED_DEST_CONVEX_SITE;
	} else {
		dl_err(l, dl_at(&v), "invalid destination %s (expected convexCloud "
		    "or convexSite)", dl_quote(q, sizeof(q), &v));
		return 0;
	}
	dom->dest_ok = true;
	return 0;
}

/* One entry of a domains list: {domain, destination}. */
static int
domain_entry(struct loader *l, struct res *parent)
{
	struct domain_ctx dom;
	struct res res = { AT_DOMAIN, parent->pc, parent->dc, &dom, NULL };
	char q[DIAG_QUOTE_MAX];
	struct yread_node m;
	int rc;

	if ((rc = yread_value(l->r, &m)) != 0)
		return rc;
	if (m.kind != YTREE_MAP) {
		dl_err(l, dl_at(&m), "a domains entry must be a mapping with domain "
		    "and destination, got %s", yread_describe(&m));
		return m.kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
	}
	memset(&dom, 0, sizeof(dom));
	dom.m = dl_at(&m);
	if ((rc = dl_read_keys(l, &res)) < 0)
		return rc;
	if (!dom.domain_seen)
		dl_err(l, dom.m, "domains entry has no \"domain\"");
	if (!dom.dest_seen)
		dl_err(l, dom.m, "domain %s%shas no \"destination\" (expected "
		    "convexCloud or convexSite)", dom.v.domain ?
		    dl_quote_s(q, sizeof(q), dom.v.domain, "") : "",
		    dom.v.domain ? " " : "");
	if (dom.v.domain == NULL || !dom.dest_ok)
		return 0;
	if (l->n_domains == DESIRED_LIST_MAX) {
		dl_err(l, dom.m, "\"domains\" lists more than %d domains",
		    DESIRED_LIST_MAX);
		return 0;
	}
	if (l->n_domains == l->domains_cap) {
		size_t ncap = l->domains_cap ? l->domains_cap * 2 : 8;
		struct desired_domain *nv = realloc(l->domains, ncap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		l->domains = nv;
		l->domains_cap = ncap;
	}
	l->domains[l->n_domains++] = dom.v;
	/* Unique in the team, checked with the other projects. */
	return dl_mark(&l->file_marks, MARK_DOMAIN, dom.v.domain, dom.domain_at,
	    parent->pc->index);
}

/* The custom domains of a deployment: the list is exact once declared. */
int
dl_key_domains(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct desired_deployment *dd = &res->dc->dd;
	struct yread_node v;
	bool ok;
	int rc;

	dl_absent_key(res, "domains", dl_at(k));
	if ((rc = dl_read_list(l, "domains", &v, &ok)) != 0 || !ok)
		return rc;
	dd->domains_declared = true;
	l->n_domains = 0;
	if (v.kind == YTREE_SEQ)
		while ((rc = yread_next_item(l->r)) > 0)
			if ((rc = domain_entry(l, res)) != 0)
				return rc;
	if (rc != 0 || l->n_domains == 0)
		return rc;
	dd->domains = arena_memdup(&l->ds->arena, l->domains,
	    l->n_domains * sizeof(*l->domains), _Alignof(struct desired_domain));
	if (dd->domains == NULL)
		return -ENOMEM;
	dd->n_domains = (uint16_t)l->n_domains;
	return 0;
}

static int
deploy_key_entry(struct loader *l)
{
	char q[DIAG_QUOTE_MAX], *copy;
	struct yread_node v;
	const char *why;
	size_t i;
	int rc;

	if ((rc = dl_read_scalar(l, &v)) != 0)
		return rc;
	if (v.kind != YTREE_SCALAR || (v.stype != YTREE_STR &&
	    v.stype != YTREE_INT && v.stype != YTREE_FLOAT)) {
		dl_err(l, dl_at(&v), "a deploy key name must be a string, got %s",
		    yread_describe(&v));
		return 0;
	}
	if ((why = desired_key_name_problem(v.value, v.len)) != NULL) {
		dl_err(l, dl_at(&v), "deploy key name %s %s",
		    dl_quote(q, sizeof(q), &v), why);
		return 0;
	}
	for (i = 0; i < l->list.n; i++) {
		if (strlen(l->list.v[i]) == v.len &&
		    memcmp(l->list.v[i], v.value, v.len) == 0) {
			dl_err(l, dl_at(&v), "duplicate deploy key name %s (first at "
			    "%d:%d)", dl_quote(q, sizeof(q), &v), l->list_at[i].line,
			    l->list_at[i].col);
			return 0;
		}
	}
	if (l->list.n == DESIRED_LIST_MAX) {
		dl_err(l, dl_at(&v), "\"deploy_keys\" lists more than %d names",
		    DESIRED_LIST_MAX);
		return 0;
	}
	if (l->list.n == l->list_at_cap) {
		size_t ncap = l->list_at_cap ? l->list_at_cap * 2 : 8;
		struct pos *np = realloc(l->list_at, ncap * sizeof(*np));

		if (np == NULL)
			return -ENOMEM;
		l->list_at = np;
		l->list_at_cap = ncap;
	}
	l->list_at[l->list.n] = dl_at(&v);
	if ((copy = dl_intern(l, v.value, v.len)) == NULL ||
	    dl_strv_add(&l->list, copy) != 0)
		return -ENOMEM;
	return 0;
}

/* The deploy keys this tool creates and keeps for a deployment, by name. */
int
dl_key_deploy_keys(struct loader *l, struct res *res,
    const struct yread_node *k)
{
	struct desired_deployment *dd = &res->dc->dd;
	struct yread_node v;
	bool ok;
	int rc;

	dl_absent_key(res, "deploy_keys", dl_at(k));
	if ((rc = dl_read_list(l, "deploy_keys", &v, &ok)) != 0 || !ok)
		return rc;
	dd->deploy_keys_declared = true;
	l->list.n = 0;
	if (v.kind == YTREE_SEQ)
		while ((rc = yread_next_item(l->r)) > 0)
			if ((rc = deploy_key_entry(l)) != 0)
				return rc;
	if (rc != 0)
		return rc;
	return dl_strv_keep(l, &dd->deploy_keys, &dd->n_deploy_keys);
}
