/* desired.c: desired-state files -> struct desired_state. Files are found
 * and sorted first (desired_files.c), then each is parsed into a ytree and checked node by
 * node, so errors come out in file order and in position order within a
 * file; cross-file rules (unique project names) use one map for the run. */
#include "desired.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desired_files.h"
#include "diag.h"
#include "strmap.h"
#include "ytree.h"

/* ---- checking one document ---------------------------------------------- */

struct loader {
	struct desired_state *ds;
	struct diag *d;
	const char *file;              /* the current file, in ds->files */
	struct strmap names;           /* project name -> index in ds */
	size_t proj_cap;
};

static const char *const project_keys[] = {
	"name", "state", "deployments", "protect", NULL
};
static const char *const deployment_keys[] = {
	"reference", "type", "region", "class", "default", "state", "protect",
	NULL
};
static const char *const reserved_refs[] = {
	"prod", "dev", "cloud", "local", "default", "name", "new", "existing",
	"deployment", "preview", NULL
};

static void
err(struct loader *l, const struct ytree_node *n, const char *fmt, ...)
    CP_PRINTF(3, 4);

static void
err(struct loader *l, const struct ytree_node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(l->d, DIAG_ERROR, l->file, n->line, n->col, fmt, ap);
	va_end(ap);
}

/* The analyzer reports n == NULL here from load_project's duplicate-name
 * message: p->name is only set together with name_v, a link it loses. */
static const char *
quote(char *buf, size_t len, const struct ytree_node *n)
{
	return diag_quote(buf, len, n->value, n->len); /* NOLINT(clang-analyzer-core.NullDereference) */
}

static bool
key_is(const struct ytree_node *k, const char *s)
{
	return k->len == strlen(s) && memcmp(k->value, s, k->len) == 0;
}

static void
unknown_key(struct loader *l, const struct ytree_node *k, const char *where,
    const char *const *keys)
{
	char list[160], q[DIAG_QUOTE_MAX];
	size_t o = 0;

	list[0] = '\0';
	for (const char *const *p = keys; *p; p++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    p == keys ? "" : ", ", *p);
	if (key_is(k, "<<"))
		err(l, k, "merge keys (<<) are not supported %s", where);
	else
		err(l, k, "unknown key %s %s (expected %s%s)",
		    quote(q, sizeof(q), k), where, keys[1] ? "one of: " : "",
		    list);
}

/* Text of a scalar that a string field accepts (numbers are taken as
 * written); NULL, with the error reported, for anything else. */
static const char *
want_string(struct loader *l, const char *key, const struct ytree_node *v)
{
	if (v->kind == YTREE_SCALAR && (v->stype == YTREE_STR ||
	    v->stype == YTREE_INT || v->stype == YTREE_FLOAT))
		return v->value;
	err(l, v, "\"%s\" must be a string, got %s", key, ytree_describe(v));
	return NULL;
}

static int
want_bool(struct loader *l, const char *key, const struct ytree_node *v,
    bool *out)
{
	if (v->kind == YTREE_SCALAR && v->stype == YTREE_BOOL) {
		*out = v->bval;
		return 0;
	}
	err(l, v, "\"%s\" must be true or false, got %s", key,
	    ytree_describe(v));
	return -EINVAL;
}

/* A list, or null (an empty list); false, with the error reported, for
 * anything else. */
static bool
want_list(struct loader *l, const char *key, const struct ytree_node *v)
{
	if (v->kind == YTREE_SEQ ||
	    (v->kind == YTREE_SCALAR && v->stype == YTREE_NULL))
		return true;
	err(l, v, "\"%s\" must be a list, got %s", key, ytree_describe(v));
	return false;
}

static int
want_state(struct loader *l, const struct ytree_node *v, bool *absent)
{
	char q[DIAG_QUOTE_MAX];
	const char *s = want_string(l, "state", v);

	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "present") == 0 && strlen(s) == v->len)
		*absent = false;
	else if (strcmp(s, "absent") == 0 && strlen(s) == v->len)
		*absent = true;
	else {
		err(l, v, "invalid state %s (expected present or absent)",
		    quote(q, sizeof(q), v));
		return -EINVAL;
	}
	return 0;
}

static bool
has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

const char *
desired_reference_problem(const char *s, size_t len)
{
	size_t i, a, b;

	if (len < DESIRED_REF_MIN || len > DESIRED_REF_MAX)
		return "must be 3 to 100 characters long";
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '/'))
			return "may only contain a-z, 0-9, \"-\" and \"/\"";
	}
	/* The shape of generated deployment names: ^[a-z]+-[a-z]+-[0-9]+$ */
	for (a = 0; a < len && s[a] >= 'a' && s[a] <= 'z'; a++)
		;
	if (a > 0 && a < len && s[a] == '-') {
		for (b = a + 1; b < len && s[b] >= 'a' && s[b] <= 'z'; b++)
			;
		if (b > a + 1 && b < len && s[b] == '-') {
			for (i = b + 1; i < len && s[i] >= '0' && s[i] <= '9'; i++)
				;
			if (i > b + 1 && i == len)
				return "has the shape of a deployment name "
				    "(letters-letters-digits)";
		}
	}
	if (len >= 6 && memcmp(s, "local-", 6) == 0)
		return "may not start with \"local-\"";
	for (const char *const *r = reserved_refs; *r; r++)
		if (strlen(*r) == len && memcmp(*r, s, len) == 0)
			return "is reserved";
	return NULL;
}

/* region and class: names the API hands out (aws-us-east-1, s16), so a
 * stray space or capital is caught here rather than by the API. */
static char *
want_attr(struct loader *l, const char *key, const struct ytree_node *v)
{
	char q[DIAG_QUOTE_MAX], *copy;
	bool ok;

	if (want_string(l, key, v) == NULL)
		return NULL;
	ok = v->len > 0 && v->len <= DESIRED_ATTR_MAX;
	for (size_t i = 0; ok && i < v->len; i++) {
		char c = v->value[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
	}
	if (!ok) {
		err(l, v, "invalid %s %s (expected 1 to %d characters of a-z, "
		    "0-9 and \"-\")", key, quote(q, sizeof(q), v),
		    DESIRED_ATTR_MAX);
		return NULL;
	}
	if ((copy = strdup(v->value)) == NULL)
		err(l, v, "out of memory");
	return copy;
}

struct project_ctx {
	struct strmap refs;            /* reference -> deployment index */
	struct {
		bool set;
		const char *reference;
		int line, col;
	} def[4];                      /* the first default of each type */
};

static int
add_deployment(struct desired_project *p, const struct desired_deployment *dd,
    size_t *cap)
{
	if (p->n_deployments == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct desired_deployment *np;

		np = realloc(p->deployments, ncap * sizeof(*np));
		if (np == NULL)
			return -ENOMEM;
		p->deployments = np;
		*cap = ncap;
	}
	p->deployments[p->n_deployments++] = *dd;
	return 0;
}

static int
load_deployment(struct loader *l, struct desired_project *p,
    struct project_ctx *pc, const struct ytree_node *m, size_t *cap)
{
	const struct ytree_node *ref_v = NULL, *type_v = NULL, *def_v = NULL;
	const struct ytree_node *protect_v = NULL;
	struct desired_deployment dd;
	char q[DIAG_QUOTE_MAX], q2[DIAG_QUOTE_MAX];
	bool type_ok = false, ref_ok = false;
	const char *why;
	size_t found;
	int rc;

	memset(&dd, 0, sizeof(dd));
	dd.is_default = TRI_UNSET;
	dd.loc.file = l->file;
	dd.loc.line = m->line;
	dd.loc.col = m->col;
	if (m->kind != YTREE_MAP) {
		err(l, m, "a deployment must be a mapping, got %s",
		    ytree_describe(m));
		return 0;
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct ytree_node *k = YTREE_KEY(m, i), *v = YTREE_VALUE(m, i);

		if (key_is(k, "reference")) {
			ref_v = v;
			if (want_string(l, "reference", v) == NULL)
				continue;
			if ((why = desired_reference_problem(v->value, v->len))) {
				err(l, v, "reference %s %s", quote(q, sizeof(q), v), why);
				continue;
			}
			if ((dd.reference = strdup(v->value)) == NULL) {
				rc = -ENOMEM;
				goto fail;
			}
			dd.loc.line = v->line;
			dd.loc.col = v->col;
			ref_ok = true;
		} else if (key_is(k, "type")) {
			type_v = v;
			if (want_string(l, "type", v) == NULL)
				continue;
			if (strlen(v->value) != v->len ||
			    dep_type_parse(v->value, &dd.type) != 0) {
				err(l, v, "invalid type %s (expected one of: dev, prod, "
				    "preview, custom)", quote(q, sizeof(q), v));
				continue;
			}
			type_ok = true;
		} else if (key_is(k, "region")) {
			free(dd.region);
			dd.region = want_attr(l, "region", v);
		} else if (key_is(k, "class")) {
			free(dd.class_name);
			dd.class_name = want_attr(l, "class", v);
		} else if (key_is(k, "default")) {
			bool b;

			if (want_bool(l, "default", v, &b) == 0) {
				dd.is_default = b ? TRI_TRUE : TRI_FALSE;
				def_v = v;
			}
		} else if (key_is(k, "state")) {
			want_state(l, v, &dd.absent);
		} else if (key_is(k, "protect")) {
			if (want_bool(l, "protect", v, &dd.protect) == 0)
				protect_v = v;
		} else {
			unknown_key(l, k, "in deployment", deployment_keys);
		}
	}
	if (ref_v == NULL)
		err(l, m, "deployment has no \"reference\"");
	if (type_v == NULL)
		err(l, m, "deployment %s%shas no \"type\" (expected one of: dev, "
		    "prod, preview, custom)",
		    ref_ok ? diag_quote(q, sizeof(q), dd.reference,
		    strlen(dd.reference)) : "", ref_ok ? " " : "");
	if (dd.is_default == TRI_TRUE && type_ok && dd.type != DEP_DEV &&
	    dd.type != DEP_PROD) {
		err(l, def_v, "\"default: true\" is only allowed with type dev or "
		    "prod, not %s", dep_type_name(dd.type));
	} else if (dd.is_default == TRI_TRUE && type_ok && !dd.absent) {
		/* One default per type: the API would move the flag. */
		if (pc->def[dd.type].set) {
			err(l, def_v, "more than one default %s deployment in "
			    "project %s (the first is %s at %s:%d:%d)",
			    dep_type_name(dd.type),
			    p->name ? diag_quote(q, sizeof(q), p->name,
			    strlen(p->name)) : "without a name",
			    pc->def[dd.type].reference ? diag_quote(q2, sizeof(q2),
			    pc->def[dd.type].reference,
			    strlen(pc->def[dd.type].reference)) : "a deployment",
			    l->file, pc->def[dd.type].line, pc->def[dd.type].col);
		} else {
			/* is_default is TRI_TRUE only where def_v was set with it;
			 * the analyzer cannot follow that through the key loop. */
			pc->def[dd.type].set = true;
			pc->def[dd.type].reference = dd.reference;
			pc->def[dd.type].line = def_v->line; /* NOLINT(clang-analyzer-core.NullDereference) */
			pc->def[dd.type].col = def_v->col;
		}
	}
	if (ref_ok) {
		rc = strmap_put(&pc->refs, dd.reference, strlen(dd.reference),
		    p->n_deployments, &found);
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			const struct src_loc *f = &p->deployments[found].loc;

			err(l, ref_v, "duplicate reference %s in project %s (first "
			    "declared at %s:%d:%d)", quote(q, sizeof(q), ref_v),
			    p->name ? diag_quote(q2, sizeof(q2), p->name,
			    strlen(p->name)) : "without a name",
			    f->file, f->line, f->col);
		}
	}
	if (dd.absent && protect_v != NULL && dd.protect)
		diag_warning(l->d, l->file, protect_v->line, protect_v->col,
		    "deployment %s has state: absent and protect: true; the "
		    "protected guard will hold back its deletion",
		    ref_ok ? diag_quote(q, sizeof(q), dd.reference,
		    strlen(dd.reference)) : "without a reference");
	if ((rc = add_deployment(p, &dd, cap)) != 0)
		goto fail;
	return 0;
fail:
	free(dd.reference);
	free(dd.region);
	free(dd.class_name);
	return rc;
}

static struct desired_project *
new_project(struct loader *l)
{
	struct desired_state *ds = l->ds;
	struct desired_project *p;

	if (ds->n_projects == l->proj_cap) {
		size_t ncap = l->proj_cap ? l->proj_cap * 2 : 8;
		struct desired_project *np;

		np = realloc(ds->projects, ncap * sizeof(*np));
		if (np == NULL)
			return NULL;
		ds->projects = np;
		l->proj_cap = ncap;
	}
	p = &ds->projects[ds->n_projects++];
	memset(p, 0, sizeof(*p));
	return p;
}

static int
load_project(struct loader *l, const struct ytree_node *m)
{
	const struct ytree_node *name_v = NULL, *deps_k = NULL, *deps_v = NULL;
	const struct ytree_node *protect_v = NULL;
	struct desired_project *p;
	struct project_ctx pc;
	char q[DIAG_QUOTE_MAX];
	size_t idx, found, cap = 0;
	int rc = 0;

	if (m->kind != YTREE_MAP) {
		err(l, m, "a project must be a mapping, got %s", ytree_describe(m));
		return 0;
	}
	if ((p = new_project(l)) == NULL)
		return -ENOMEM;
	idx = l->ds->n_projects - 1;
	p->loc.file = l->file;
	p->loc.line = m->line;
	p->loc.col = m->col;
	for (size_t i = 0; i < m->n; i++) {
		const struct ytree_node *k = YTREE_KEY(m, i), *v = YTREE_VALUE(m, i);

		if (key_is(k, "name")) {
			name_v = v;
			if (want_string(l, "name", v) == NULL)
				continue;
			if (v->len == 0) {
				err(l, v, "\"name\" may not be empty");
			} else if (v->len > DESIRED_NAME_MAX) {
				err(l, v, "project name %s is longer than %d bytes",
				    quote(q, sizeof(q), v), DESIRED_NAME_MAX);
			} else if (has_control(v->value, v->len)) {
				err(l, v, "project name %s may not contain control "
				    "characters", quote(q, sizeof(q), v));
			} else {
				if ((p->name = strdup(v->value)) == NULL)
					return -ENOMEM;
				p->loc.line = v->line;
				p->loc.col = v->col;
			}
		} else if (key_is(k, "state")) {
			want_state(l, v, &p->absent);
		} else if (key_is(k, "protect")) {
			if (want_bool(l, "protect", v, &p->protect) == 0)
				protect_v = v;
		} else if (key_is(k, "deployments")) {
			if (want_list(l, "deployments", v)) {
				deps_k = k;
				deps_v = v;
			}
		} else {
			unknown_key(l, k, "in project", project_keys);
		}
	}
	if (name_v == NULL)
		err(l, m, "project has no \"name\"");
	if (p->name != NULL) {
		rc = strmap_put(&l->names, p->name, strlen(p->name), idx, &found);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			const struct src_loc *f = &l->ds->projects[found].loc;

			err(l, name_v, "duplicate project name %s (first declared at "
			    "%s:%d:%d)", quote(q, sizeof(q), name_v), f->file,
			    f->line, f->col);
		}
	}
	if (p->absent && deps_v != NULL && deps_v->n > 0)
		err(l, deps_k, "project %s has state: absent and may not list "
		    "deployments", p->name ? diag_quote(q, sizeof(q), p->name,
		    strlen(p->name)) : "without a name");
	/* p->protect is true only where protect_v was set with it (p starts
	 * zeroed); the analyzer loses the zeroing of the new element. */
	if (p->absent && p->protect)
		diag_warning(l->d, l->file, protect_v->line, protect_v->col, /* NOLINT(clang-analyzer-core.NullDereference) */
		    "project %s has state: absent and protect: true; the "
		    "protected guard will hold back its deletion",
		    p->name ? diag_quote(q, sizeof(q), p->name, strlen(p->name)) :
		    "without a name");
	if (deps_v == NULL || deps_v->kind != YTREE_SEQ)
		return 0;
	/* Errors inside are reported even under state: absent: one run
	 * shows everything there is to fix. */
	memset(&pc, 0, sizeof(pc));
	strmap_init(&pc.refs);
	for (size_t i = 0; i < deps_v->n && rc >= 0; i++) {
		/* p stays valid: only ds->projects moves, and not meanwhile. */
		rc = load_deployment(l, p, &pc, deps_v->items[i], &cap);
	}
	strmap_free(&pc.refs);
	return rc < 0 ? rc : 0;
}

static int
load_document(struct loader *l, const struct ytree_node *root)
{
	static const char *const top_keys[] = { "projects", NULL };
	const struct ytree_node *v;
	int rc = 0;

	if (root->kind == YTREE_SCALAR && root->stype == YTREE_NULL)
		return 0;      /* an empty document declares nothing */
	if (root->kind != YTREE_MAP) {
		err(l, root, "expected a mapping with the key \"projects\" at the "
		    "top level, got %s", ytree_describe(root));
		return 0;
	}
	for (size_t i = 0; i < root->n; i++) {
		if (!key_is(YTREE_KEY(root, i), "projects")) {
			unknown_key(l, YTREE_KEY(root, i), "at the top level",
			    top_keys);
			continue;
		}
		v = YTREE_VALUE(root, i);
		if (!want_list(l, "projects", v) || v->kind != YTREE_SEQ)
			continue;
		for (size_t j = 0; j < v->n && rc == 0; j++)
			rc = load_project(l, v->items[j]);
	}
	return rc;
}

/* ---- the run ------------------------------------------------------------ */

static int
add_file_name(struct desired_state *ds, const char *name)
{
	char **np, *s;

	if ((s = strdup(name)) == NULL)
		return -ENOMEM;
	np = realloc(ds->files, (ds->n_files + 1) * sizeof(*np));
	if (np == NULL) {
		free(s);
		return -ENOMEM;
	}
	ds->files = np;
	ds->files[ds->n_files++] = s;
	return 0;
}

static int
load_one(struct loader *l, const char *path, const char *display,
    const struct ytree_limits *lim, size_t *nodes)
{
	struct ytree t;
	size_t first = l->d->n;
	int rc;

	if ((rc = add_file_name(l->ds, display)) != 0)
		return rc;
	l->file = l->ds->files[l->ds->n_files - 1];
	rc = ytree_load_file(&t, path, l->file, lim, nodes, l->d);
	if (rc == 0) {
		for (size_t i = 0; i < t.n_docs && rc == 0; i++)
			rc = load_document(l, t.docs[i]);
	} else if (rc != -ENOMEM && rc != -E2BIG) {
		rc = 0;        /* reported; go on with the next file */
	}
	ytree_free(&t);
	diag_sort(l->d, first);
	return rc;
}

int
desired_load_limits(const char *path, const struct ytree_limits *lim,
    struct desired_state *out, struct diag *d)
{
	struct loader l;
	struct desired_files files;
	size_t errors = d->n_errors, nodes = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	l.ds = out;
	l.d = d;
	strmap_init(&l.names);
	rc = desired_files_list(path, &files, d);
	for (size_t i = 0; i < files.n && rc == 0; i++)
		rc = load_one(&l, files.paths[i], files.paths[i], lim, &nodes);
	desired_files_free(&files);
	strmap_free(&l.names);
	if (rc == -ENOMEM)
		diag_error(d, path, 0, 0, "out of memory");
	if (rc == 0 && d->n_errors > errors)
		rc = -EINVAL;
	if (rc != 0)
		desired_state_free(out);
	return rc;
}

int
desired_load(const char *path, struct desired_state *out, struct diag *d)
{
	return desired_load_limits(path, NULL, out, d);
}

size_t
desired_count_deployments(const struct desired_state *ds)
{
	size_t n = 0;

	for (size_t i = 0; i < ds->n_projects; i++)
		n += ds->projects[i].n_deployments;
	return n;
}
