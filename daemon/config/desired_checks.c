/* desired_checks.c: the rules between resources, run once all of them
 * are known: between the deployments of a project when its mapping ends
 * (one default per type, unique references, renames), between projects
 * when their file ends (unique names, slugs and domains; an earlier name
 * claimed once and not declared). Each resource is checked against those
 * before it, in load order, so an error names the earlier place. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desired_int.h"

#define LINEAR_MAX 8             /* lists this short are searched in turn */

static struct pos
loc_pos(const struct src_loc *loc)
{
	struct pos p = { loc->line, loc->col };

	return p;
}

/* A deployment's position (in the current file: its project's). */
static struct pos
dep_pos(const struct src_pos *at)
{
	struct pos p = { at->line, at->col };

	return p;
}

/* ---- between the deployments of a project ------------------------------- */

/* The deployment of the project with this reference, or NULL. */
static const struct dep_ctx *
find_ref(struct loader *l, const struct strmap *refs, const char *ref)
{
	size_t i;

	if (l->n_deps > LINEAR_MAX)
		return strmap_get(refs, ref, strlen(ref), &i) ? &l->deps[i] : NULL;
	for (i = 0; i < l->n_deps; i++)
		if (l->deps[i].ref_ok && strcmp(l->deps[i].dd.reference, ref) == 0)
			return &l->deps[i];
	return NULL;
}

/* renamed_from between the deployments of a project: not the deployment's
 * own reference, not another declared one, not claimed twice. */
static int
check_renames(struct loader *l, const struct proj_ctx *pc,
    const struct strmap *refs)
{
	char q[DIAG_QUOTE_MAX], q2[DIAG_QUOTE_MAX];
	const char *pname = pc->p.name;
	struct strmap seen;
	size_t first;
	int rc = 0;

	strmap_init(&seen);
	for (size_t i = 0; i < l->dep_marks.n && rc >= 0; i++) {
		const struct mark *mk = &l->dep_marks.v[i];
		const struct dep_ctx *dc = &l->deps[mk->owner], *other;

		if (dc->ref_ok && strcmp(mk->text, dc->dd.reference) == 0) {
			dl_err(l, mk->at, "renamed_from %s is the deployment's own "
			    "reference", dl_quote_s(q, sizeof(q), mk->text, ""));
			continue;
		}
		if ((other = find_ref(l, refs, mk->text)) != NULL) {
			dl_err(l, mk->at, "renamed_from %s names a deployment declared "
			    "in project %s at %s:%d:%d (a declared reference cannot "
			    "also be an earlier one)",
			    dl_quote_s(q, sizeof(q), mk->text, ""),
			    dl_quote_s(q2, sizeof(q2), pname, "without a name"),
			    l->file, other->dd.loc.line, other->dd.loc.col);
			continue;
		}
		rc = strmap_put(&seen, mk->text, strlen(mk->text), i, &first);
		if (rc != 1)
			continue;
		if (l->dep_marks.v[first].owner == mk->owner)
			dl_err(l, mk->at, "renamed_from %s is listed twice (first at "
			    "%d:%d)", dl_quote_s(q, sizeof(q), mk->text, ""),
			    l->dep_marks.v[first].at.line,
			    l->dep_marks.v[first].at.col);
		else
			dl_err(l, mk->at, "renamed_from %s is also claimed by "
			    "deployment %s (at %s:%d:%d)",
			    dl_quote_s(q, sizeof(q), mk->text, ""),
			    dl_quote_s(q2, sizeof(q2),
			    l->deps[l->dep_marks.v[first].owner].dd.reference,
			    "without a reference"), l->file,
			    l->dep_marks.v[first].at.line,
			    l->dep_marks.v[first].at.col);
	}
	strmap_free(&seen);
	return rc < 0 ? rc : 0;
}

/* The rules between the deployments of a project, in their order: one
 * default per type (the API would move the flag), unique references, then
 * the renames. */
int
dl_check_deployments(struct loader *l, const struct proj_ctx *pc)
{
	const struct dep_ctx *def[4] = { NULL, NULL, NULL, NULL };
	char q[DIAG_QUOTE_MAX], q2[DIAG_QUOTE_MAX], q3[DIAG_QUOTE_MAX];
	const char *pname = pc->p.name;
	struct strmap refs;
	size_t found;
	int rc = 0;

	strmap_init(&refs);
	for (size_t i = 0; i < l->n_deps && rc >= 0; i++) {
		const struct dep_ctx *dc = &l->deps[i], *first = NULL;
		const struct desired_deployment *dd = &dc->dd;

		if (dd->is_default == TRI_TRUE && dc->type_ok && !dd->absent &&
		    (dd->type == DEP_DEV || dd->type == DEP_PROD)) {
			if (def[dd->type] != NULL)
				dl_err(l, dc->def, "more than one default %s deployment "
				    "in project %s (the first is %s at %s:%d:%d)",
				    dep_type_name(dd->type),
				    dl_quote_s(q, sizeof(q), pname, "without a name"),
				    dl_quote_s(q2, sizeof(q2),
				    def[dd->type]->dd.reference, "a deployment"),
				    l->file, def[dd->type]->def.line,
				    def[dd->type]->def.col);
			else
				def[dd->type] = dc;
		}
		if (dc->ref_ok && l->n_deps <= LINEAR_MAX) {
			for (size_t j = 0; j < i && first == NULL; j++)
				if (l->deps[j].ref_ok && strcmp(l->deps[j].dd.reference,
				    dd->reference) == 0)
					first = &l->deps[j];
		} else if (dc->ref_ok && (rc = strmap_put(&refs, dd->reference,
		    strlen(dd->reference), i, &found)) == 1) {
			first = &l->deps[found];
		}
		if (first != NULL)
			dl_err(l, dep_pos(&dd->loc), "duplicate reference %s in "
			    "project %s (first declared at %s:%d:%d)",
			    dl_quote_s(q, sizeof(q), dd->reference, ""),
			    dl_quote_s(q2, sizeof(q2), pname, "without a name"),
			    l->file, first->dd.loc.line, first->dd.loc.col);
		if (dd->absent && dc->protect_seen && dd->protect)
			dl_warn(l, dc->protect, "deployment %s has state: absent and "
			    "protect: true; the protected guard will hold back its "
			    "deletion", dl_quote_s(q3, sizeof(q3), dd->reference,
			    "without a reference"));
	}
	if (rc >= 0 && l->dep_marks.n > 0)
		rc = check_renames(l, pc, &refs);
	strmap_free(&refs);
	return rc < 0 ? rc : 0;
}

/* ---- between projects -------------------------------------------------- */

static size_t
name_slot(const struct name_set *s, const struct desired_project *v,
    const char *name)
{
	size_t mask = s->cap - 1, i = (size_t)strmap_hash(name, strlen(name)) & mask;

	while (s->slots[i] != 0 && strcmp(v[s->slots[i] - 1].name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Adds project idx (its name set) unless a project of that name is in:
 * 0, or 1 and *first, or -ENOMEM. */
static int
name_set_add(struct name_set *s, const struct desired_project *v, size_t idx,
    size_t *first)
{
	size_t i;

	/* Three quarters full at most: 4 bytes a slot, probes stay short. */
	if ((s->n + 1) * 4 > s->cap * 3) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct name_set bigger = { calloc(ncap, sizeof(uint32_t)), ncap, s->n };

		if (bigger.slots == NULL || idx >= UINT32_MAX) {
			free(bigger.slots);
			return -ENOMEM;
		}
		for (size_t j = 0; j < s->cap; j++)
			if (s->slots[j] != 0)
				bigger.slots[name_slot(&bigger, v,
				    v[s->slots[j] - 1].name)] = s->slots[j];
		free(s->slots);
		*s = bigger;
	}
	i = name_slot(s, v, v[idx].name);
	if (s->slots[i] != 0) {
		*first = s->slots[i] - 1;
		return 1;
	}
	s->slots[i] = (uint32_t)idx + 1;
	s->n++;
	return 0;
}

static bool
name_set_get(const struct name_set *s, const struct desired_project *v,
    const char *name, size_t *idx)
{
	size_t i;

	if (s->cap == 0)
		return false;
	i = name_slot(s, v, name);
	if (s->slots[i] == 0)
		return false;
	*idx = s->slots[i] - 1;
	return true;
}

/* A mark that passed is claimed for the files that follow: 0 or -ENOMEM.
 * *first is set (and 1 returned) when the text was claimed before. */
static int
claim(struct loader *l, const struct mark *mk, size_t *first)
{
	struct strmap *m = &l->claimed[mk->kind];
	size_t found;
	int rc;

	if (strmap_get(m, mk->text, strlen(mk->text), &found)) {
		*first = found;
		return 1;
	}
	if (l->n_claims == l->claims_cap) {
		size_t ncap = l->claims_cap ? l->claims_cap * 2 : 16;
		struct claim *nv = realloc(l->claims, ncap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		l->claims = nv;
		l->claims_cap = ncap;
	}
	rc = strmap_put(m, mk->text, strlen(mk->text), l->n_claims, NULL);
	if (rc < 0)
		return rc;
	l->claims[l->n_claims].file = l->file;
	l->claims[l->n_claims].at = mk->at;
	l->claims[l->n_claims].project = mk->owner;
	l->n_claims++;
	return 0;
}

/* One mark of the file against everything declared before it. */
static int
check_mark(struct loader *l, const struct mark *mk)
{
	const struct desired_project *v = l->ds->projects, *p = &v[mk->owner];
	char q[DIAG_QUOTE_MAX], q2[DIAG_QUOTE_MAX];
	const struct claim *c;
	size_t first;
	int rc;

	if (mk->kind == MARK_RENAMED) {
		if (p->name != NULL && strcmp(mk->text, p->name) == 0) {
			dl_err(l, mk->at, "renamed_from %s is the project's own name",
			    dl_quote_s(q, sizeof(q), mk->text, ""));
			return 0;
		}
		if (name_set_get(&l->names, v, mk->text, &first)) {
			dl_err(l, mk->at, "renamed_from %s names a project declared at "
			    "%s:%d:%d (a declared name cannot also be an earlier "
			    "one)", dl_quote_s(q, sizeof(q), mk->text, ""),
			    v[first].loc.file, v[first].loc.line, v[first].loc.col);
			return 0;
		}
	}
	if ((rc = claim(l, mk, &first)) != 1)
		return rc;
	c = &l->claims[first];
	switch (mk->kind) {
	case MARK_RENAMED:
		if (c->project == mk->owner)
			dl_err(l, mk->at, "renamed_from %s is listed twice (first at "
			    "%d:%d)", dl_quote_s(q, sizeof(q), mk->text, ""),
			    c->at.line, c->at.col);
		else
			dl_err(l, mk->at, "renamed_from %s is also claimed by project "
			    "%s (at %s:%d:%d)", dl_quote_s(q, sizeof(q), mk->text, ""),
			    dl_quote_s(q2, sizeof(q2), v[c->project].name,
			    "without a name"), c->file, c->at.line, c->at.col);
		break;
	case MARK_SLUG:
		dl_err(l, mk->at, "duplicate slug %s (first declared at %s:%d:%d "
		    "for project %s)", dl_quote_s(q, sizeof(q), mk->text, ""),
		    c->file, c->at.line, c->at.col,
		    dl_quote_s(q2, sizeof(q2), v[c->project].name, "without a name"));
		break;
	default:
		dl_err(l, mk->at, "duplicate domain %s (first declared at %s:%d:%d)",
		    dl_quote_s(q, sizeof(q), mk->text, ""), c->file, c->at.line,
		    c->at.col);
		break;
	}
	return 0;
}

/* Names and slugs are unique across files and documents, an earlier name
 * (renamed_from) belongs to one project and is not declared, a domain is
 * declared once in the team: each project of the file just read against
 * every one before it, in order, so an error names the earlier place. */
int
dl_check_file(struct loader *l, size_t from)
{
	const struct desired_project *v = l->ds->projects;
	char q[DIAG_QUOTE_MAX], q2[DIAG_QUOTE_MAX];
	size_t first, m = 0;
	int rc;

	for (size_t i = from; i < l->ds->n_projects; i++) {
		if (v[i].name != NULL) {
			if ((rc = name_set_add(&l->names, v, i, &first)) < 0)
				return rc;
			if (rc == 1)
				dl_err(l, loc_pos(&v[i].loc), "duplicate project name "
				    "%s (first declared at %s:%d:%d)",
				    dl_quote_s(q, sizeof(q), v[i].name, ""),
				    v[first].loc.file, v[first].loc.line,
				    v[first].loc.col);
			else if (strmap_get(&l->claimed[MARK_RENAMED], v[i].name,
			    strlen(v[i].name), &first))
				dl_err(l, loc_pos(&v[i].loc), "project %s is also an "
				    "earlier name of project %s (renamed_from at "
				    "%s:%d:%d)", dl_quote_s(q, sizeof(q), v[i].name, ""),
				    dl_quote_s(q2, sizeof(q2),
				    v[l->claims[first].project].name, "without a name"),
				    l->claims[first].file, l->claims[first].at.line,
				    l->claims[first].at.col);
		}
		for (; m < l->file_marks.n && l->file_marks.v[m].owner == i; m++)
			if ((rc = check_mark(l, &l->file_marks.v[m])) != 0)
				return rc;
	}
	return 0;
}
