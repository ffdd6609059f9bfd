/* desired.c: desired-state files -> struct desired_state (SPEC sections 2,
 * 8 and 9).
 *
 * The files come from desired_files.c; each is read as a stream of YAML
 * nodes (yread.h), never as a whole tree. A project is built while its
 * mapping is read: its keys go through one table (a row per key: the
 * name, where it applies, its parser in desired_keys.c or desired_env.c),
 * its deployments are collected and sized once when the mapping ends, and
 * every string goes to the state's arena (region, class and reference
 * texts shared). Checks that need a whole project (one default per type,
 * unique references, renames between its deployments) run when its
 * mapping ends; checks across projects (unique names, slugs and domains,
 * renames) when its file ends (desired_checks.c), so a file that turns
 * out not to be YAML halfway leaves nothing behind. Until then a file's
 * errors are held apart; in the end they come out sorted by position
 * within the file, the files in load order. */
#include "desired.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdefs.h"
#include "desired_files.h"
#include "desired_int.h"

#define INTERN_MAX 512           /* distinct texts shared at most */

/* ---- helpers of the parsers --------------------------------------------- */

void
dl_err(struct loader *l, struct pos p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(&l->local, DIAG_ERROR, l->file, p.line, p.col, fmt, ap);
	va_end(ap);
}

void
dl_warn(struct loader *l, struct pos p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(&l->local, DIAG_WARNING, l->file, p.line, p.col, fmt, ap);
	va_end(ap);
}

struct pos
dl_at(const struct yread_node *n)
{
	struct pos p = { n->line, n->col };

	return p;
}

const char *
dl_quote(char *buf, size_t len, const struct yread_node *n)
{
	return diag_quote(buf, len, n->value, n->len);
}

const char *
dl_quote_s(char *buf, size_t len, const char *s, const char *none)
{
	return s != NULL ? diag_quote(buf, len, s, strlen(s)) : none;
}

int
dl_read_scalar(struct loader *l, struct yread_node *v)
{
	int rc = yread_value(l->r, v);

	if (rc == 0 && v->kind != YTREE_SCALAR)
		rc = yread_leave(l->r);
	return rc;
}

const char *
dl_want_string(struct loader *l, const char *key, const struct yread_node *v)
{
	if (v->kind == YTREE_SCALAR && (v->stype == YTREE_STR ||
	    v->stype == YTREE_INT || v->stype == YTREE_FLOAT))
		return v->value;
	dl_err(l, dl_at(v), "\"%s\" must be a string, got %s", key,
	    yread_describe(v));
	return NULL;
}

bool
dl_want_bool(struct loader *l, const char *key, const struct yread_node *v,
    bool *out)
{
	if (v->kind == YTREE_SCALAR && v->stype == YTREE_BOOL) {
		*out = v->bval;
		return true;
	}
	dl_err(l, dl_at(v), "\"%s\" must be true or false, got %s", key,
	    yread_describe(v));
	return false;
}

int
dl_read_list(struct loader *l, const char *key, struct yread_node *v, bool *ok)
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
	dl_err(l, dl_at(v), "\"%s\" must be a list, got %s", key,
	    yread_describe(v));
	return v->kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
}

bool
dl_is_text(const struct yread_node *v, const char *s)
{
	return v->len == strlen(s) && memcmp(v->value, s, v->len) == 0;
}

char *
dl_copy(struct loader *l, const char *s, size_t len)
{
	return arena_strndup(&l->ds->arena, s, len);
}

/* Past INTERN_MAX distinct texts new ones are simply copied. */
char *
dl_intern(struct loader *l, const char *s, size_t len)
{
	size_t v;
	char *copy;

	if (strmap_get(&l->intern, s, len, &v))
		return (char *)(uintptr_t)v;
	if ((copy = dl_copy(l, s, len)) != NULL && l->intern.n < INTERN_MAX)
		(void)strmap_put(&l->intern, copy, len, (size_t)(uintptr_t)copy,
		    NULL);
	return copy;
}

int
dl_mark(struct marks *m, unsigned kind, const char *text, struct pos p,
    size_t owner)
{
	if (m->n == m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 8;
		struct mark *nv = realloc(m->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		m->v = nv;
		m->cap = ncap;
	}
	m->v[m->n].kind = (unsigned char)kind;
	m->v[m->n].text = text;
	m->v[m->n].at = p;
	m->v[m->n].owner = owner;
	m->n++;
	return 0;
}

int
dl_strv_add(struct strv *sv, char *s)
{
	if (sv->n == sv->cap) {
		size_t ncap = sv->cap ? sv->cap * 2 : 8;
		char **nv = realloc(sv->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		sv->v = nv;
		sv->cap = ncap;
	}
	sv->v[sv->n++] = s;
	return 0;
}

int
dl_strv_keep(struct loader *l, char ***out, uint16_t *n)
{
	*out = NULL;
	*n = 0;
	if (l->list.n == 0)
		return 0;
	*out = arena_memdup(&l->ds->arena, l->list.v,
	    l->list.n * sizeof(*l->list.v), _Alignof(char *));
	if (*out == NULL)
		return -ENOMEM;
	*n = (uint16_t)l->list.n;
	l->list.n = 0;
	return 0;
}

void
dl_absent_key(struct res *res, const char *key, struct pos p)
{
	struct absent_key *v = res->at == AT_PROJECT ? res->pc->absent_keys :
	    res->dc->absent_keys;
	size_t *n = res->at == AT_PROJECT ? &res->pc->n_absent_keys :
	    &res->dc->n_absent_keys;

	if (*n < ABSENT_KEYS_MAX) {
		v[*n].key = key;
		v[*n].at = p;
		(*n)++;
	}
}

static void
absent_keys_report(struct loader *l, const char *what, const char *name,
    const struct absent_key *v, size_t n)
{
	char q[DIAG_QUOTE_MAX];

	for (size_t i = 0; i < n; i++)
		dl_err(l, v[i].at, "%s %s has state: absent and may not set \"%s\"",
		    what, name != NULL ? diag_quote(q, sizeof(q), name,
		    strlen(name)) : (*what == 'p' ? "without a name" :
		    "without a reference"), v[i].key);
}

/* ---- the key table ------------------------------------------------------ */

struct key_row {
	const char *name;
	unsigned where;          /* AT_* where the key applies */
	key_fn *parse;           /* reads the value */
};

/* In this order in the "expected one of" lists. */
static const struct key_row key_rows[] = {
	{ "projects", AT_TOP, dl_key_projects },
	{ "name", AT_PROJECT, dl_key_name },
	{ "reference", AT_DEPLOYMENT, dl_key_reference },
	{ "type", AT_DEPLOYMENT, dl_key_type },
	{ "region", AT_DEPLOYMENT, dl_key_attr },
	{ "class", AT_DEPLOYMENT, dl_key_attr },
	{ "default", AT_DEPLOYMENT, dl_key_default },
	{ "state", AT_PROJECT | AT_DEPLOYMENT, dl_key_state },
	{ "deployments", AT_PROJECT, dl_key_deployments },
	{ "protect", AT_PROJECT | AT_DEPLOYMENT, dl_key_protect },
	{ "slug", AT_PROJECT, dl_key_slug },
	{ "dashboard_edit_confirmation", AT_DEPLOYMENT, dl_key_tribool },
	{ "send_logs_to_client", AT_DEPLOYMENT, dl_key_tribool },
	{ "expires_at", AT_DEPLOYMENT, dl_key_expires },
	{ "renamed_from", AT_PROJECT | AT_DEPLOYMENT, dl_key_renamed_from },
	{ "env", AT_PROJECT, dl_key_env },
	{ "domains", AT_DEPLOYMENT, dl_key_domains },
	{ "deploy_keys", AT_DEPLOYMENT, dl_key_deploy_keys },
	{ "domain", AT_DOMAIN, dl_key_domain },
	{ "destination", AT_DOMAIN, dl_key_destination },
	{ "file", AT_VALUE, dl_key_file },
	{ "env", AT_VALUE, dl_key_envvar },
};

#define N_KEY_ROWS CP_NELEM(key_rows)

static const char *
where_text(unsigned where)
{
	switch (where) {
	case AT_TOP: return "at the top level";
	case AT_PROJECT: return "in project";
	case AT_DOMAIN: return "in a domains entry";
	case AT_VALUE: return "in an env value";
	default: return "in deployment";
	}
}

static void
unknown_key(struct loader *l, const struct yread_node *k, unsigned where)
{
	char list[768], q[DIAG_QUOTE_MAX];
	size_t o = 0, n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < N_KEY_ROWS; i++) {
		if (!(key_rows[i].where & where))
			continue;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    n++ ? ", " : "", key_rows[i].name);
	}
	if (dl_is_text(k, "<<"))
		dl_err(l, dl_at(k), "merge keys (<<) are not supported %s",
		    where_text(where));
	else
		dl_err(l, dl_at(k), "unknown key %s %s (expected %s%s)",
		    dl_quote(q, sizeof(q), k), where_text(where),
		    n > 1 ? "one of: " : "", list);
}

int
dl_read_keys(struct loader *l, struct res *res)
{
	struct yread_node k;
	int rc;

	while ((rc = yread_next_key(l->r, &k)) > 0) {
		const struct key_row *row = NULL;

		for (size_t i = 0; i < N_KEY_ROWS && row == NULL; i++)
			if ((key_rows[i].where & res->at) &&
			    dl_is_text(&k, key_rows[i].name))
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

/* ---- deployments -------------------------------------------------------- */

/* What a deployment's own keys say about it, once its mapping ended. */
static void
check_deployment(struct loader *l, const struct dep_ctx *dc)
{
	const struct desired_deployment *dd = &dc->dd;
	char q[DIAG_QUOTE_MAX];

	if (!dc->ref_seen)
		dl_err(l, dc->m, "deployment has no \"reference\"");
	if (!dc->type_seen)
		dl_err(l, dc->m, "deployment %s%shas no \"type\" (expected one of: "
		    "dev, prod, preview, custom)",
		    dc->ref_ok ? dl_quote_s(q, sizeof(q), dd->reference, "") : "",
		    dc->ref_ok ? " " : "");
	if (dd->is_default == TRI_TRUE && dc->type_ok && dd->type != DEP_DEV &&
	    dd->type != DEP_PROD)
		dl_err(l, dc->def, "\"default: true\" is only allowed with type "
		    "dev or prod, not %s", dep_type_name(dd->type));
	if (dd->absent)
		absent_keys_report(l, "deployment", dd->reference,
		    dc->absent_keys, dc->n_absent_keys);
}

static int
load_deployment(struct loader *l, struct proj_ctx *pc)
{
	struct res res = { AT_DEPLOYMENT, pc, NULL, NULL, NULL };
	struct yread_node m;
	struct dep_ctx *dc;
	int rc;

	if ((rc = yread_value(l->r, &m)) != 0)
		return rc;
	if (m.kind != YTREE_MAP) {
		dl_err(l, dl_at(&m), "a deployment must be a mapping, got %s",
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
	desired_deployment_init(&dc->dd);
	dc->dd.expires = DESIRED_EXPIRES_UNSET;
	dc->dd.loc.line = m.line;
	dc->dd.loc.col = m.col;
	dc->m = dl_at(&m);
	res.dc = dc;
	if ((rc = dl_read_keys(l, &res)) < 0)
		return rc;
	check_deployment(l, dc);
	l->n_deps++;
	return 0;
}

int
dl_key_deployments(struct loader *l, struct res *res,
    const struct yread_node *k)
{
	struct proj_ctx *pc = res->pc;
	struct yread_node v;
	bool ok;
	int rc;

	if ((rc = dl_read_list(l, "deployments", &v, &ok)) != 0 || !ok)
		return rc;
	pc->deps_seen = true;
	pc->deps_key = dl_at(k);
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

/* ---- projects ----------------------------------------------------------- */

static int
add_project(struct loader *l, const struct desired_project *p)
{
	struct desired_state *ds = l->ds;

	if (ds->n_projects == l->proj_cap) {
		/* A quarter more each time: little room left over at the
		 * peak, and realloc moves large arrays without copying. */
		size_t ncap = l->proj_cap < 16 ? 16 : l->proj_cap + l->proj_cap / 4;
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
	/* Fewer than YTREE_MAX_NODES (1,000,000): fits in 32 bits. */
	p->n_deployments = (uint32_t)l->n_deps;
	return 0;
}

static int
load_project(struct loader *l)
{
	struct yread_node m;
	struct proj_ctx pc;
	struct res res = { AT_PROJECT, &pc, NULL, NULL, NULL };
	char q[DIAG_QUOTE_MAX];
	int rc;

	if ((rc = yread_value(l->r, &m)) != 0)
		return rc;
	if (m.kind != YTREE_MAP) {
		dl_err(l, dl_at(&m), "a project must be a mapping, got %s",
		    yread_describe(&m));
		return m.kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
	}
	memset(&pc, 0, sizeof(pc));
	pc.index = l->ds->n_projects;
	pc.p.loc.file = l->file;
	pc.p.loc.line = m.line;
	pc.p.loc.col = m.col;
	pc.m = dl_at(&m);
	l->n_deps = 0;
	l->dep_marks.n = 0;
	if ((rc = dl_read_keys(l, &res)) < 0)
		return rc;
	if (!pc.name_seen)
		dl_err(l, pc.m, "project has no \"name\"");
	if (pc.p.absent && pc.n_items > 0)
		dl_err(l, pc.deps_key, "project %s has state: absent and may not "
		    "list deployments", dl_quote_s(q, sizeof(q), pc.p.name,
		    "without a name"));
	if (pc.p.absent && pc.p.protect)
		dl_warn(l, pc.protect, "project %s has state: absent and protect: "
		    "true; the protected guard will hold back its deletion",
		    dl_quote_s(q, sizeof(q), pc.p.name, "without a name"));
	if (pc.p.absent)
		absent_keys_report(l, "project", pc.p.name, pc.absent_keys,
		    pc.n_absent_keys);
	if ((rc = dl_check_deployments(l, &pc)) != 0 ||
	    (rc = keep_deployments(l, &pc.p)) != 0)
		return rc;
	return add_project(l, &pc.p);
}

int
dl_key_projects(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct yread_node v;
	bool ok;
	int rc;

	(void)res;
	(void)k;
	if ((rc = dl_read_list(l, "projects", &v, &ok)) != 0 || !ok ||
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
	struct res res = { AT_TOP, NULL, NULL, NULL, NULL };
	struct yread_node root;
	int rc;

	while ((rc = yread_document(l->r)) > 0) {
		if ((rc = yread_value(l->r, &root)) != 0)
			return rc;
		if (root.kind == YTREE_SCALAR && root.stype == YTREE_NULL)
			continue;      /* an empty document declares nothing */
		if (root.kind != YTREE_MAP) {
			dl_err(l, dl_at(&root), "expected a mapping with the key "
			    "\"projects\" at the top level, got %s",
			    yread_describe(&root));
			if (root.kind == YTREE_SEQ && (rc = yread_leave(l->r)) != 0)
				return rc;
			continue;
		}
		if ((rc = dl_read_keys(l, &res)) < 0)
			return rc;
	}
	return rc;
}

/* ---- the run ------------------------------------------------------------ */

/* The room the growth left over goes back, as soon as a file is read:
 * the checks across projects then grow their sets without it. */
static void
trim_projects(struct loader *l)
{
	struct desired_project *np;

	if (l->ds->n_projects == 0 || l->ds->n_projects == l->proj_cap)
		return;
	np = realloc(l->ds->projects, l->ds->n_projects * sizeof(*np));
	if (np != NULL) {
		l->ds->projects = np;
		l->proj_cap = l->ds->n_projects;
	}
}

static int
load_file(struct loader *l, const char *path, const struct ytree_limits *lim,
    size_t *nodes)
{
	size_t first = l->d->n, from = l->ds->n_projects;
	int rc;

	l->file_marks.n = 0;
	rc = yread_open(&l->r, path, l->file, lim, nodes, l->d);
	if (rc == 0)
		rc = load_documents(l);
	yread_close(l->r);
	l->r = NULL;
	if (rc == 0) {
		trim_projects(l);
		rc = dl_check_file(l, from);
	}
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
	free(l->dep_marks.v);
	free(l->file_marks.v);
	free(l->claims);
	for (size_t i = 0; i < sizeof(l->claimed) / sizeof(l->claimed[0]); i++)
		strmap_free(&l->claimed[i]);
	free(l->list.v);
	free(l->list_at);
	free(l->domains);
	free(l->vars);
}

int
desired_load_opts(const char *path, const struct ytree_limits *lim,
    unsigned flags, struct desired_state *out, struct diag *d)
{
	return desired_load_sources(path, lim, flags, NULL, out, d);
}

int
desired_load_sources(const char *path, const struct ytree_limits *lim,
    unsigned flags, struct desired_sources *sources, struct desired_state *out,
    struct diag *d)
{
	struct desired_files files;
	struct loader l;
	size_t errors = d->n_errors, nodes = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	l.ds = out;
	l.d = d;
	l.flags = flags;
	l.sources = sources;
	strmap_init(&l.intern);
	for (size_t i = 0; i < sizeof(l.claimed) / sizeof(l.claimed[0]); i++)
		strmap_init(&l.claimed[i]);
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
	if (rc != 0)
		desired_state_free(out);
	return rc;
}

int
desired_load_limits(const char *path, const struct ytree_limits *lim,
    struct desired_state *out, struct diag *d)
{
	return desired_load_opts(path, lim, 0, out, d);
}

int
desired_load(const char *path, struct desired_state *out, struct diag *d)
{
	return desired_load_opts(path, NULL, 0, out, d);
}

size_t
desired_count_deployments(const struct desired_state *ds)
{
	size_t n = 0;

	for (size_t i = 0; i < ds->n_projects; i++)
		n += ds->projects[i].n_deployments;
	return n;
}
