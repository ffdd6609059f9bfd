/* desired.c: desired-state files -> struct desired_state (SPEC section 2).
 *
 * The files come from desired_files.c; each is read as a stream of YAML
 * nodes (yread.h), never as a whole tree. A project is built while its
 * mapping is read: its keys go through one table (a row per key: the
 * name, where it applies, its parser), its deployments are collected and
 * sized once when the mapping ends, and every string goes to the state's
 * arena (region, class and reference texts shared). Checks that need a
 * whole project (one default per type, unique references) run when its
 * mapping ends; unique project names when its file ends, so a file that
 * turns out not to be YAML halfway leaves nothing behind. Until then a
 * file's errors are held apart; in the end they come out sorted by
 * position within the file, the files in load order. */
#include "desired.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desired_files.h"
#include "diag.h"
#include "strmap.h"
#include "yread.h"

#define INTERN_MAX 512           /* distinct texts shared at most */
#define LINEAR_MAX 8             /* lists this short are searched in turn */

struct pos {
	int line;
	int col;
};

/* A deployment being read, with what its checks need besides the model. */
struct dep_ctx {
	struct desired_deployment dd;
	struct pos m;            /* its mapping */
	bool ref_seen, ref_ok;
	bool type_seen, type_ok;
	bool def_seen;           /* a valid `default:`, at def */
	struct pos def;
	bool protect_seen;       /* a valid `protect:`, at protect */
	struct pos protect;
};

struct proj_ctx {
	struct desired_project p;
	struct pos m;
	bool name_seen;
	bool deps_seen;          /* a `deployments:` list (or null) at deps_key */
	struct pos deps_key;
	size_t n_items;          /* items in that list */
	bool protect_seen;
	struct pos protect;
};

/* Hash set of projects by name: slots hold an index + 1 (0: empty). */
struct name_set {
	uint32_t *slots;
	size_t cap;
	size_t n;
};

struct loader {
	struct desired_state *ds;
	struct diag *d;          /* the run's diagnostics */
	struct diag local;       /* the current file's, until it is read */
	struct yread *r;
	const char *file;        /* the current file, in ds->files */
	size_t proj_cap;
	struct name_set names;   /* every project of the files read */
	struct strmap intern;    /* text -> its copy in the arena */
	struct dep_ctx *deps;    /* the current project's deployments */
	size_t n_deps, deps_cap;
};

enum { AT_TOP = 1, AT_PROJECT = 2, AT_DEPLOYMENT = 4 };

/* The thing the keys of a mapping describe. */
struct res {
	unsigned at;
	struct proj_ctx *pc;     /* AT_PROJECT and AT_DEPLOYMENT */
	struct dep_ctx *dc;      /* AT_DEPLOYMENT */
};

static const char *const reserved_refs[] = {
	"prod", "dev", "cloud", "local", "default", "name", "new", "existing",
	"deployment", "preview", NULL
};

/* ---- diagnostics -------------------------------------------------------- */

static void err(struct loader *l, struct pos at, const char *fmt, ...)
    CP_PRINTF(3, 4);
static void warn(struct loader *l, struct pos at, const char *fmt, ...)
    CP_PRINTF(3, 4);

static void
err(struct loader *l, struct pos at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(&l->local, DIAG_ERROR, l->file, at.line, at.col, fmt, ap);
	va_end(ap);
}

static void
warn(struct loader *l, struct pos at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(&l->local, DIAG_WARNING, l->file, at.line, at.col, fmt, ap);
	va_end(ap);
}

static struct pos
at(const struct yread_node *n)
{
	struct pos p = { n->line, n->col };

	return p;
}

static const char *
quote(char *buf, size_t len, const struct yread_node *n)
{
	return diag_quote(buf, len, n->value, n->len);
}

static const char *
quote_s(char *buf, size_t len, const char *s, const char *none)
{
	return s != NULL ? diag_quote(buf, len, s, strlen(s)) : none;
}

/* ---- values ------------------------------------------------------------- */

/* Reads a value meant to be a scalar; a collection is stepped over (its
 * kind stays in *v for the message). */
static int
read_scalar(struct loader *l, struct yread_node *v)
{
	int rc = yread_value(l->r, v);

	if (rc == 0 && v->kind != YTREE_SCALAR)
		rc = yread_leave(l->r);
	return rc;
}

/* Text of a scalar that a string field accepts (numbers are taken as
 * written); NULL, with the error reported, for anything else. */
static const char *
want_string(struct loader *l, const char *key, const struct yread_node *v)
{
	if (v->kind == YTREE_SCALAR && (v->stype == YTREE_STR ||
	    v->stype == YTREE_INT || v->stype == YTREE_FLOAT))
		return v->value;
	err(l, at(v), "\"%s\" must be a string, got %s", key, yread_describe(v));
	return NULL;
}

static bool
want_bool(struct loader *l, const char *key, const struct yread_node *v,
    bool *out)
{
	if (v->kind == YTREE_SCALAR && v->stype == YTREE_BOOL) {
		*out = v->bval;
		return true;
	}
	err(l, at(v), "\"%s\" must be true or false, got %s", key,
	    yread_describe(v));
	return false;
}

/* A list (entered: the caller walks it) or null: true. Anything else is
 * reported and stepped over: false. */
static int
read_list(struct loader *l, const char *key, struct yread_node *v, bool *ok)
{
	int rc = yread_value(l->r, v);

	*ok = false;
	if (rc != 0)
		return rc;
	if (v->kind == YTREE_SEQ ||
	    (v->kind == YTREE_SCALAR && v->stype == YTREE_NULL)) {
		*ok = true;
		return 0;
	}
	err(l, at(v), "\"%s\" must be a list, got %s", key, yread_describe(v));
	return v->kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
}

static bool
is_text(const struct yread_node *v, const char *s)
{
	return v->len == strlen(s) && memcmp(v->value, s, v->len) == 0;
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

/* ---- the state's memory ------------------------------------------------- */

static char *
copy_text(struct loader *l, const char *s, size_t len)
{
	return arena_strndup(&l->ds->arena, s, len);
}

/* A text many deployments repeat (region, class, reference) is kept once;
 * past INTERN_MAX distinct texts new ones are simply copied. */
static char *
intern(struct loader *l, const char *s, size_t len)
{
	size_t v;
	char *copy;

	if (strmap_get(&l->intern, s, len, &v))
		return (char *)(uintptr_t)v;
	if ((copy = copy_text(l, s, len)) != NULL && l->intern.n < INTERN_MAX)
		(void)strmap_put(&l->intern, copy, len, (size_t)(uintptr_t)copy,
		    NULL);
	return copy;
}

static uint64_t
hash_text(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t
name_slot(const struct name_set *s, const struct desired_project *v,
    const char *name)
{
	size_t mask = s->cap - 1, i = (size_t)hash_text(name, strlen(name)) & mask;

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

	if ((s->n + 1) * 2 > s->cap) {
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

/* ---- keys --------------------------------------------------------------- */

typedef int key_fn(struct loader *l, struct res *res, const struct yread_node *k);

struct key_row {
	const char *name;
	unsigned where;          /* AT_* where the key applies */
	key_fn *parse;           /* reads the value */
};

static key_fn k_projects, k_name, k_reference, k_type, k_attr, k_default,
    k_state, k_deployments, k_protect;

/* In this order in the "expected one of" lists. */
static const struct key_row key_rows[] = {
	{ "projects", AT_TOP, k_projects },
	{ "name", AT_PROJECT, k_name },
	{ "reference", AT_DEPLOYMENT, k_reference },
	{ "type", AT_DEPLOYMENT, k_type },
	{ "region", AT_DEPLOYMENT, k_attr },
	{ "class", AT_DEPLOYMENT, k_attr },
	{ "default", AT_DEPLOYMENT, k_default },
	{ "state", AT_PROJECT | AT_DEPLOYMENT, k_state },
	{ "deployments", AT_PROJECT, k_deployments },
	{ "protect", AT_PROJECT | AT_DEPLOYMENT, k_protect },
};

#define N_KEY_ROWS (sizeof(key_rows) / sizeof(key_rows[0]))

static const char *
where_text(unsigned where)
{
	return where == AT_TOP ? "at the top level" :
	    where == AT_PROJECT ? "in project" : "in deployment";
}

static void
unknown_key(struct loader *l, const struct yread_node *k, unsigned where)
{
	char list[512], q[DIAG_QUOTE_MAX];
	size_t o = 0, n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < N_KEY_ROWS; i++) {
		if (!(key_rows[i].where & where))
			continue;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    n++ ? ", " : "", key_rows[i].name);
	}
	if (is_text(k, "<<"))
		err(l, at(k), "merge keys (<<) are not supported %s",
		    where_text(where));
	else
		err(l, at(k), "unknown key %s %s (expected %s%s)",
		    quote(q, sizeof(q), k), where_text(where),
		    n > 1 ? "one of: " : "", list);
}

/* The keys of the mapping just entered, each through its row. */
static int
read_keys(struct loader *l, struct res *res)
{
	struct yread_node k;
	int rc;

	while ((rc = yread_next_key(l->r, &k)) > 0) {
		const struct key_row *row = NULL;

		for (size_t i = 0; i < N_KEY_ROWS && row == NULL; i++)
			if ((key_rows[i].where & res->at) &&
			    is_text(&k, key_rows[i].name))
				row = &key_rows[i];
		if (row != NULL) {
			rc = row->parse(l, res, &k);
		} else {
			unknown_key(l, &k, res->at);
			rc = yread_skip(l->r);
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

static int
k_name(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct proj_ctx *pc = res->pc;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	int rc;

	(void)k;
	pc->name_seen = true;
	if ((rc = read_scalar(l, &v)) != 0 || want_string(l, "name", &v) == NULL)
		return rc;
	if (v.len == 0) {
		err(l, at(&v), "\"name\" may not be empty");
	} else if (v.len > DESIRED_NAME_MAX) {
		err(l, at(&v), "project name %s is longer than %d bytes",
		    quote(q, sizeof(q), &v), DESIRED_NAME_MAX);
	} else if (has_control(v.value, v.len)) {
		err(l, at(&v), "project name %s may not contain control "
		    "characters", quote(q, sizeof(q), &v));
	} else {
		if ((pc->p.name = copy_text(l, v.value, v.len)) == NULL)
			return -ENOMEM;
		pc->p.loc.line = v.line;
		pc->p.loc.col = v.col;
	}
	return 0;
}

static int
k_reference(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct dep_ctx *dc = res->dc;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	const char *why;
	int rc;

	(void)k;
	dc->ref_seen = true;
	if ((rc = read_scalar(l, &v)) != 0 ||
	    want_string(l, "reference", &v) == NULL)
		return rc;
	if ((why = desired_reference_problem(v.value, v.len)) != NULL) {
		err(l, at(&v), "reference %s %s", quote(q, sizeof(q), &v), why);
		return 0;
	}
	if ((dc->dd.reference = intern(l, v.value, v.len)) == NULL)
		return -ENOMEM;
	dc->dd.loc.line = v.line;
	dc->dd.loc.col = v.col;
	dc->ref_ok = true;
	return 0;
}

static int
k_type(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct dep_ctx *dc = res->dc;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	int rc;

	(void)k;
	dc->type_seen = true;
	if ((rc = read_scalar(l, &v)) != 0 || want_string(l, "type", &v) == NULL)
		return rc;
	if (strlen(v.value) != v.len || dep_type_parse(v.value, &dc->dd.type) != 0) {
		err(l, at(&v), "invalid type %s (expected one of: dev, prod, "
		    "preview, custom)", quote(q, sizeof(q), &v));
		return 0;
	}
	dc->type_ok = true;
	return 0;
}

/* region and class: names the API hands out (aws-us-east-1, s16), so a
 * stray space or capital is caught here rather than by the API. */
static int
k_attr(struct loader *l, struct res *res, const struct yread_node *k)
{
	const char *key = k->value;
	char q[DIAG_QUOTE_MAX], **field;
	struct yread_node v;
	bool ok;
	int rc;

	field = strcmp(key, "region") == 0 ? &res->dc->dd.region :
	    &res->dc->dd.class_name;
	if ((rc = read_scalar(l, &v)) != 0 || want_string(l, key, &v) == NULL)
		return rc;
	ok = v.len > 0 && v.len <= DESIRED_ATTR_MAX;
	for (size_t i = 0; ok && i < v.len; i++) {
		char c = v.value[i];

		ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
	}
	if (!ok) {
		err(l, at(&v), "invalid %s %s (expected 1 to %d characters of "
		    "a-z, 0-9 and \"-\")", key, quote(q, sizeof(q), &v),
		    DESIRED_ATTR_MAX);
		return 0;
	}
	return (*field = intern(l, v.value, v.len)) == NULL ? -ENOMEM : 0;
}

static int
k_default(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct dep_ctx *dc = res->dc;
	struct yread_node v;
	bool b;
	int rc;

	(void)k;
	if ((rc = read_scalar(l, &v)) != 0 || !want_bool(l, "default", &v, &b))
		return rc;
	dc->dd.is_default = b ? TRI_TRUE : TRI_FALSE;
	dc->def_seen = true;
	dc->def = at(&v);
	return 0;
}

static int
k_state(struct loader *l, struct res *res, const struct yread_node *k)
{
	bool *absent = res->at == AT_PROJECT ? &res->pc->p.absent :
	    &res->dc->dd.absent;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	int rc;

	(void)k;
	if ((rc = read_scalar(l, &v)) != 0 || want_string(l, "state", &v) == NULL)
		return rc;
	if (is_text(&v, "present"))
		*absent = false;
	else if (is_text(&v, "absent"))
		*absent = true;
	else
		err(l, at(&v), "invalid state %s (expected present or absent)",
		    quote(q, sizeof(q), &v));
	return 0;
}

static int
k_protect(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct yread_node v;
	bool b;
	int rc;

	(void)k;
	if ((rc = read_scalar(l, &v)) != 0 || !want_bool(l, "protect", &v, &b))
		return rc;
	if (res->at == AT_PROJECT) {
		res->pc->p.protect = b;
		res->pc->protect_seen = true;
		res->pc->protect = at(&v);
	} else {
		res->dc->dd.protect = b;
		res->dc->protect_seen = true;
		res->dc->protect = at(&v);
	}
	return 0;
}

/* ---- deployments -------------------------------------------------------- */

/* What a deployment's own keys say about it, once its mapping ended. */
static void
check_deployment(struct loader *l, const struct dep_ctx *dc)
{
	const struct desired_deployment *dd = &dc->dd;
	char q[DIAG_QUOTE_MAX];

	if (!dc->ref_seen)
		err(l, dc->m, "deployment has no \"reference\"");
	if (!dc->type_seen)
		err(l, dc->m, "deployment %s%shas no \"type\" (expected one of: "
		    "dev, prod, preview, custom)",
		    dc->ref_ok ? quote_s(q, sizeof(q), dd->reference, "") : "",
		    dc->ref_ok ? " " : "");
	if (dd->is_default == TRI_TRUE && dc->type_ok && dd->type != DEP_DEV &&
	    dd->type != DEP_PROD)
		err(l, dc->def, "\"default: true\" is only allowed with type dev "
		    "or prod, not %s", dep_type_name(dd->type));
}

static int
load_deployment(struct loader *l, struct proj_ctx *pc)
{
	struct res res = { AT_DEPLOYMENT, pc, NULL };
	struct yread_node m;
	struct dep_ctx *dc;
	int rc;

	if ((rc = yread_value(l->r, &m)) != 0)
		return rc;
	if (m.kind != YTREE_MAP) {
		err(l, at(&m), "a deployment must be a mapping, got %s",
		    yread_describe(&m));
		return m.kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
	}
	if (l->n_deps == l->deps_cap) {
		size_t ncap = l->deps_cap ? l->deps_cap * 2 : 8;
		struct dep_ctx *np = realloc(l->deps, ncap * sizeof(*np));

		if (np == NULL)
			return -ENOMEM;
		l->deps = np;
		l->deps_cap = ncap;
	}
	dc = &l->deps[l->n_deps];
	memset(dc, 0, sizeof(*dc));
	dc->dd.is_default = TRI_UNSET;
	dc->dd.loc.file = l->file;
	dc->dd.loc.line = m.line;
	dc->dd.loc.col = m.col;
	dc->m = at(&m);
	res.dc = dc;
	if ((rc = read_keys(l, &res)) < 0)
		return rc;
	check_deployment(l, dc);
	l->n_deps++;
	return 0;
}

static int
k_deployments(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct proj_ctx *pc = res->pc;
	struct yread_node v;
	bool ok;
	int rc;

	if ((rc = read_list(l, "deployments", &v, &ok)) != 0 || !ok)
		return rc;
	pc->deps_seen = true;
	pc->deps_key = at(k);
	if (v.kind != YTREE_SEQ)
		return 0;
	/* Errors inside are reported even under state: absent: one run
	 * shows everything there is to fix. */
	while ((rc = yread_next_item(l->r)) > 0) {
		pc->n_items++;
		if ((rc = load_deployment(l, pc)) != 0)
			return rc;
	}
	return rc;
}

/* The rules between the deployments of a project, in their order: one
 * default per type (the API would move the flag), unique references. */
static int
check_deployments(struct loader *l, const struct proj_ctx *pc)
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
				err(l, dc->def, "more than one default %s deployment "
				    "in project %s (the first is %s at %s:%d:%d)",
				    dep_type_name(dd->type),
				    quote_s(q, sizeof(q), pname, "without a name"),
				    quote_s(q2, sizeof(q2),
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
			err(l, (struct pos){ dd->loc.line, dd->loc.col },
			    "duplicate reference %s in project %s (first declared "
			    "at %s:%d:%d)", quote_s(q, sizeof(q), dd->reference, ""),
			    quote_s(q2, sizeof(q2), pname, "without a name"),
			    first->dd.loc.file, first->dd.loc.line,
			    first->dd.loc.col);
		if (dd->absent && dc->protect_seen && dd->protect)
			warn(l, dc->protect, "deployment %s has state: absent and "
			    "protect: true; the protected guard will hold back its "
			    "deletion", quote_s(q3, sizeof(q3), dd->reference,
			    "without a reference"));
	}
	strmap_free(&refs);
	return rc < 0 ? rc : 0;
}

/* ---- projects ----------------------------------------------------------- */

static int
add_project(struct loader *l, const struct desired_project *p)
{
	struct desired_state *ds = l->ds;

	if (ds->n_projects == l->proj_cap) {
		size_t ncap = l->proj_cap < 16 ? 16 : l->proj_cap + l->proj_cap / 2;
		struct desired_project *np;

		np = realloc(ds->projects, ncap * sizeof(*np));
		if (np == NULL)
			return -ENOMEM;
		ds->projects = np;
		l->proj_cap = ncap;
	}
	ds->projects[ds->n_projects++] = *p;
	return 0;
}

/* The deployments collected for the project, sized once. */
static int
keep_deployments(struct loader *l, struct desired_project *p)
{
	struct desired_deployment *v;

	if (l->n_deps == 0)
		return 0;
	v = arena_alloc(&l->ds->arena, l->n_deps * sizeof(*v),
	    _Alignof(struct desired_deployment));
	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < l->n_deps; i++)
		v[i] = l->deps[i].dd;
	p->deployments = v;
	p->n_deployments = l->n_deps;
	return 0;
}

static int
load_project(struct loader *l)
{
	struct yread_node m;
	struct proj_ctx pc;
	struct res res = { AT_PROJECT, &pc, NULL };
	char q[DIAG_QUOTE_MAX];
	int rc;

	if ((rc = yread_value(l->r, &m)) != 0)
		return rc;
	if (m.kind != YTREE_MAP) {
		err(l, at(&m), "a project must be a mapping, got %s",
		    yread_describe(&m));
		return m.kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
	}
	memset(&pc, 0, sizeof(pc));
	pc.p.loc.file = l->file;
	pc.p.loc.line = m.line;
	pc.p.loc.col = m.col;
	pc.m = at(&m);
	l->n_deps = 0;
	if ((rc = read_keys(l, &res)) < 0)
		return rc;
	if (!pc.name_seen)
		err(l, pc.m, "project has no \"name\"");
	if (pc.p.absent && pc.n_items > 0)
		err(l, pc.deps_key, "project %s has state: absent and may not list "
		    "deployments", quote_s(q, sizeof(q), pc.p.name,
		    "without a name"));
	if (pc.p.absent && pc.p.protect)
		warn(l, pc.protect, "project %s has state: absent and protect: "
		    "true; the protected guard will hold back its deletion",
		    quote_s(q, sizeof(q), pc.p.name, "without a name"));
	if ((rc = check_deployments(l, &pc)) != 0 ||
	    (rc = keep_deployments(l, &pc.p)) != 0)
		return rc;
	return add_project(l, &pc.p);
}

static int
k_projects(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct yread_node v;
	bool ok;
	int rc;

	(void)res;
	(void)k;
	if ((rc = read_list(l, "projects", &v, &ok)) != 0 || !ok ||
	    v.kind != YTREE_SEQ)
		return rc;
	while ((rc = yread_next_item(l->r)) > 0)
		if ((rc = load_project(l)) != 0)
			return rc;
	return rc;
}

static int
load_documents(struct loader *l)
{
	struct res res = { AT_TOP, NULL, NULL };
	struct yread_node root;
	int rc;

	while ((rc = yread_document(l->r)) > 0) {
		if ((rc = yread_value(l->r, &root)) != 0)
			return rc;
		if (root.kind == YTREE_SCALAR && root.stype == YTREE_NULL)
			continue;      /* an empty document declares nothing */
		if (root.kind != YTREE_MAP) {
			err(l, at(&root), "expected a mapping with the key "
			    "\"projects\" at the top level, got %s",
			    yread_describe(&root));
			if (root.kind == YTREE_SEQ && (rc = yread_leave(l->r)) != 0)
				return rc;
			continue;
		}
		if ((rc = read_keys(l, &res)) < 0)
			return rc;
	}
	return rc;
}

/* ---- the run ------------------------------------------------------------ */

/* Names are unique across files and documents: each project of the file
 * just read against every one before it. */
static int
check_names(struct loader *l, size_t from)
{
	const struct desired_project *v = l->ds->projects;
	char q[DIAG_QUOTE_MAX];
	size_t first;
	int rc;

	for (size_t i = from; i < l->ds->n_projects; i++) {
		if (v[i].name == NULL)
			continue;
		if ((rc = name_set_add(&l->names, v, i, &first)) < 0)
			return rc;
		if (rc == 1)
			err(l, (struct pos){ v[i].loc.line, v[i].loc.col },
			    "duplicate project name %s (first declared at "
			    "%s:%d:%d)", quote_s(q, sizeof(q), v[i].name, ""),
			    v[first].loc.file, v[first].loc.line, v[first].loc.col);
	}
	return 0;
}

static int
load_file(struct loader *l, const char *path, const struct ytree_limits *lim,
    size_t *nodes)
{
	size_t first = l->d->n, from = l->ds->n_projects;
	int rc;

	rc = yread_open(&l->r, path, l->file, lim, nodes, l->d);
	if (rc == 0)
		rc = load_documents(l);
	yread_close(l->r);
	l->r = NULL;
	if (rc == 0)
		rc = check_names(l, from);
	if (rc == 0) {
		diag_merge(l->d, &l->local);
	} else {
		/* Not read to its end: as if it declared nothing. */
		diag_free(&l->local);
		l->ds->n_projects = from;
	}
	diag_sort(l->d, first);
	if (rc == -ENOMEM || rc == -E2BIG || rc == -EPROTO)
		return rc;
	return 0;              /* reported; go on with the next file */
}

static void
loader_free(struct loader *l)
{
	diag_free(&l->local);
	free(l->names.slots);
	strmap_free(&l->intern);
	free(l->deps);
}

int
desired_load_limits(const char *path, const struct ytree_limits *lim,
    struct desired_state *out, struct diag *d)
{
	struct desired_files files;
	struct loader l;
	size_t errors = d->n_errors, nodes = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	l.ds = out;
	l.d = d;
	strmap_init(&l.intern);
	rc = desired_files_list(path, &files, d);
	if (rc == 0 && files.n > 0 &&
	    (out->files = arena_alloc(&out->arena, files.n * sizeof(char *),
	    _Alignof(char *))) == NULL)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < files.n; i++) {
		if ((l.file = arena_strdup(&out->arena, files.paths[i])) == NULL) {
			rc = -ENOMEM;
			break;
		}
		out->files[out->n_files++] = (char *)l.file;
		rc = load_file(&l, files.paths[i], lim, &nodes);
	}
	desired_files_free(&files);
	loader_free(&l);
	if (rc == -ENOMEM)
		diag_error(d, path, 0, 0, "out of memory");
	else if (rc == -EPROTO)
		diag_error(d, path, 0, 0, "internal error: the YAML reader was "
		    "misused");
	if (rc == 0 && d->n_errors > errors)
		rc = -EINVAL;
	if (rc != 0) {
		desired_state_free(out);
		return rc;
	}
	/* Sized once: the room the growth left over goes back. */
	if (out->n_projects > 0 && out->n_projects < l.proj_cap) {
		struct desired_project *np = realloc(out->projects,
		    out->n_projects * sizeof(*np));

		if (np != NULL)
			out->projects = np;
	}
	return 0;
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
