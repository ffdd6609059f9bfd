/* desired_env.c: a project's `env` (SPEC section 9): per deployment type,
 * the default environment variables, each a string, {file: PATH} or
 * {env: VAR}. Values are secrets: no message here ever shows one (only
 * names, paths and variable names are quoted). A file is read at most
 * 8 KiB and 2 bytes deep, opened without blocking and refused unless it is
 * a regular file; symbolic links are followed, as secrets are often links
 * into a mounted volume. A file or variable that cannot be read is an
 * error, or a warning and no value under DESIRED_SECRETS_WARN. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "desired_int.h"
#include "desired_sources.h"

/* Enough to tell a value of 8 KiB and its trailing newline from one byte
 * more. */
#define READ_MAX (DESIRED_ENV_VALUE_MAX + 2)

static bool
valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned long cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t j = 1; j <= n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3fu);
		}
		/* Overlong forms, surrogates, past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += n + 1;
	}
	return true;
}

/* The rules every value keeps, wherever it came from: 0 (*out set), or
 * reported. `from` says where it came from, for the message. */
static int
keep_value(struct loader *l, struct pos p, const char *name, const char *from,
    const char *s, size_t len, char **out)
{
	char q[DIAG_QUOTE_MAX];

	if (len > DESIRED_ENV_VALUE_MAX) {
		dl_err(l, p, "the value of %s%s is longer than 8 KiB",
		    dl_quote_s(q, sizeof(q), name, ""), from);
		return 0;
	}
	if (memchr(s, '\0', len) != NULL) {
		dl_err(l, p, "the value of %s%s contains a NUL character",
		    dl_quote_s(q, sizeof(q), name, ""), from);
		return 0;
	}
	if (!valid_utf8((const unsigned char *)s, len)) {
		dl_err(l, p, "the value of %s%s is not valid UTF-8",
		    dl_quote_s(q, sizeof(q), name, ""), from);
		return 0;
	}
	return (*out = dl_copy(l, s, len)) == NULL ? -ENOMEM : 0;
}

/* Cannot be read: an error, or a warning for validate. */
static void
unreadable(struct loader *l, struct pos p, const char *fmt, ...)
    CP_PRINTF(3, 4);

static void
unreadable(struct loader *l, struct pos p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(&l->local, (l->flags & DESIRED_SECRETS_WARN) ? DIAG_WARNING :
	    DIAG_ERROR, l->file, p.line, p.col, fmt, ap);
	va_end(ap);
}

/* A relative path is relative to the folder of the YAML file naming it. */
static char *
resolve(const char *yaml_file, const char *path)
{
	const char *slash = strrchr(yaml_file, '/');
	char *s;

	if (path[0] == '/' || slash == NULL)
		return strdup(path);
	if (asprintf(&s, "%.*s/%s", (int)(slash - yaml_file), yaml_file, path) < 0)
		return NULL;
	return s;
}

int
dl_key_file(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct value_ctx *val = res->val;
	char q[DIAG_QUOTE_MAX], q2[DIAG_QUOTE_MAX], from[DIAG_QUOTE_MAX + 16];
	char buf[READ_MAX], *path;
	struct yread_node v;
	size_t len;
	int rc;

	(void)k;
	val->sources++;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "file", &v) == NULL)
		return rc;
	if (v.len == 0 || strlen(v.value) != v.len) {
		dl_err(l, dl_at(&v), "\"file\" must be a path, got %s",
		    dl_quote(q, sizeof(q), &v));
		return 0;
	}
	if ((path = resolve(l->file, v.value)) == NULL)
		return -ENOMEM;
	rc = desired_source_read(path, buf, READ_MAX, &len);
	if (l->sources != NULL &&
	    desired_sources_add(l->sources, path, rc, buf, len) != 0) {
		free(path);
		return -ENOMEM;
	}
	free(path);
	if (rc != 0) {
		unreadable(l, dl_at(&v), "cannot read the value of %s from file %s: "
		    "%s", dl_quote_s(q, sizeof(q), val->name, ""),
		    dl_quote(q2, sizeof(q2), &v),
		    rc == -EINVAL ? "not a regular file" : strerror(-rc));
		return 0;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;           /* one trailing newline, as editors leave it */
	snprintf(from, sizeof(from), " (file %s)", dl_quote(q2, sizeof(q2), &v));
	return keep_value(l, dl_at(&v), val->name, from, buf, len, &val->value);
}

int
dl_key_envvar(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct value_ctx *val = res->val;
	char q[DIAG_QUOTE_MAX], q2[DIAG_QUOTE_MAX], from[DIAG_QUOTE_MAX + 16];
	struct yread_node v;
	const char *s;
	int rc;

	(void)k;
	val->sources++;
	if ((rc = dl_read_scalar(l, &v)) != 0 ||
	    dl_want_string(l, "env", &v) == NULL)
		return rc;
	if (v.len == 0 || strlen(v.value) != v.len ||
	    strchr(v.value, '=') != NULL) {
		dl_err(l, dl_at(&v), "\"env\" must name an environment variable, "
		    "got %s", dl_quote(q, sizeof(q), &v));
		return 0;
	}
	if ((s = getenv(v.value)) == NULL) {
		unreadable(l, dl_at(&v), "cannot read the value of %s from the "
		    "environment: %s is not set",
		    dl_quote_s(q, sizeof(q), val->name, ""),
		    dl_quote(q2, sizeof(q2), &v));
		return 0;
	}
	snprintf(from, sizeof(from), " (variable %s)",
	    dl_quote(q2, sizeof(q2), &v));
	return keep_value(l, dl_at(&v), val->name, from, s, strlen(s),
	    &val->value);
}

/* A value: a string (numbers taken as written), or a mapping with one of
 * file and env. *out stays NULL when it could not be had. */
static int
env_value(struct loader *l, struct res *parent, const char *name, char **out)
{
	struct value_ctx val = { name, 0, NULL };
	struct res res = { AT_VALUE, parent->pc, NULL, NULL, &val };
	char q[DIAG_QUOTE_MAX];
	struct yread_node v;
	int rc;

	if ((rc = yread_value(l->r, &v)) != 0)
		return rc;
	if (v.kind == YTREE_SCALAR && (v.stype == YTREE_STR ||
	    v.stype == YTREE_INT || v.stype == YTREE_FLOAT))
		return keep_value(l, dl_at(&v), name, "", v.value, v.len, out);
	if (v.kind != YTREE_MAP) {
		dl_err(l, dl_at(&v), "the value of %s must be a string, {file: PATH} "
		    "or {env: VAR}, got %s", dl_quote_s(q, sizeof(q), name, ""),
		    yread_describe(&v));
		return v.kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
	}
	if ((rc = dl_read_keys(l, &res)) < 0)
		return rc;
	if (val.sources == 0)
		dl_err(l, dl_at(&v), "the value of %s has neither file nor env",
		    dl_quote_s(q, sizeof(q), name, ""));
	else if (val.sources > 1)
		dl_err(l, dl_at(&v), "the value of %s has both file and env "
		    "(expected one of them)", dl_quote_s(q, sizeof(q), name, ""));
	else
		*out = val.value;
	return 0;
}

static int
cmp_var(const void *a, const void *b)
{
	return strcmp(((const struct desired_env_var *)a)->name,
	    ((const struct desired_env_var *)b)->name);
}

/* One deployment type's variables: declared (so exact) even when empty. */
static int
env_type(struct loader *l, struct res *res, struct desired_env *e,
    enum dep_type type)
{
	char q[DIAG_QUOTE_MAX];
	struct yread_node v, k;
	const char *why;
	bool over = false;
	int rc;

	if ((rc = yread_value(l->r, &v)) != 0)
		return rc;
	if (v.kind == YTREE_SCALAR && v.stype == YTREE_NULL) {
		e->declared = true;
		return 0;
	}
	if (v.kind != YTREE_MAP) {
		dl_err(l, dl_at(&v), "env %s must be a mapping of names to values, "
		    "got %s", dep_type_name(type), yread_describe(&v));
		return v.kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
	}
	e->declared = true;
	l->n_vars = 0;
	while ((rc = yread_next_key(l->r, &k)) > 0) {
		struct desired_env_var var = { NULL, NULL };

		if ((why = desired_env_name_problem(k.value, k.len)) != NULL) {
			dl_err(l, dl_at(&k), "environment variable name %s %s",
			    dl_quote(q, sizeof(q), &k), why);
		} else if (l->n_vars == DESIRED_ENV_PER_TYPE) {
			if (!over)
				dl_err(l, dl_at(&k), "more than %d environment "
				    "variables for type %s", DESIRED_ENV_PER_TYPE,
				    dep_type_name(type));
			over = true;
		} else {
			if ((var.name = dl_copy(l, k.value, k.len)) == NULL ||
			    (rc = env_value(l, res, var.name, &var.value)) != 0)
				return var.name == NULL ? -ENOMEM : rc;
			if (l->n_vars == l->vars_cap) {
				size_t ncap = l->vars_cap ? l->vars_cap * 2 : 16;
				struct desired_env_var *nv = realloc(l->vars,
				    ncap * sizeof(*nv));

				if (nv == NULL)
					return -ENOMEM;
				l->vars = nv;
				l->vars_cap = ncap;
			}
			l->vars[l->n_vars++] = var;
			continue;
		}
		if ((rc = yread_skip(l->r)) != 0)
			return rc;
	}
	if (rc != 0 || l->n_vars == 0)
		return rc;
	qsort(l->vars, l->n_vars, sizeof(*l->vars), cmp_var);
	e->vars = arena_memdup(&l->ds->arena, l->vars,
	    l->n_vars * sizeof(*l->vars), _Alignof(struct desired_env_var));
	if (e->vars == NULL)
		return -ENOMEM;
	e->n_vars = (uint32_t)l->n_vars;
	return 0;
}

/* env: {TYPE: {NAME: value}}; a type left out is left alone. */
int
dl_key_env(struct loader *l, struct res *res, const struct yread_node *k)
{
	struct proj_ctx *pc = res->pc;
	char q[DIAG_QUOTE_MAX];
	struct yread_node v, t;
	enum dep_type type;
	int rc;

	dl_absent_key(res, "env", dl_at(k));
	if ((rc = yread_value(l->r, &v)) != 0)
		return rc;
	if (v.kind == YTREE_SCALAR && v.stype == YTREE_NULL)
		return 0;
	if (v.kind != YTREE_MAP) {
		dl_err(l, dl_at(&v), "\"env\" must be a mapping of deployment types "
		    "(dev, prod, preview, custom) to variables, got %s",
		    yread_describe(&v));
		return v.kind == YTREE_SCALAR ? 0 : yread_leave(l->r);
	}
	if (pc->p.env == NULL && (pc->p.env = arena_calloc(&l->ds->arena, 4,
	    sizeof(*pc->p.env))) == NULL)
		return -ENOMEM;
	while ((rc = yread_next_key(l->r, &t)) > 0) {
		if (strlen(t.value) != t.len || dep_type_parse(t.value, &type) != 0) {
			dl_err(l, dl_at(&t), "unknown deployment type %s in env "
			    "(expected one of: dev, prod, preview, custom)",
			    dl_quote(q, sizeof(q), &t));
			rc = yread_skip(l->r);
		} else {
			rc = env_type(l, res, &pc->p.env[type], type);
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}
