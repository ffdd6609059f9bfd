/* desired_int.h: what the files of the desired-state loader share (not a
 * public interface): the loader's state while it reads, the context of
 * the project or deployment being read, the key table's parsers, and the
 * small helpers every parser uses.
 *
 *   desired.c       the run: files, documents, projects, deployments, the
 *                   key table, the helpers of the parsers
 *   desired_checks.c the rules between deployments and between projects
 *   desired_keys.c  the parsers of single keys
 *   desired_env.c   `env` and reading its {file:} and {env:} values
 *   desired_rules.c the rules of single values (desired.h) */
#ifndef CP_DESIRED_INT_H
#define CP_DESIRED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desired.h"
#include "diag.h"
#include "strmap.h"
#include "yread.h"

struct pos {
	int line;
	int col;
};

/* A new key on a resource with state: absent, reported when it ends. */
struct absent_key {
	const char *key;
	struct pos at;
};

#define ABSENT_KEYS_MAX 8

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
	struct absent_key absent_keys[ABSENT_KEYS_MAX];
	size_t n_absent_keys;
};

struct proj_ctx {
	struct desired_project p;
	size_t index;            /* where it will be in ds->projects */
	struct pos m;
	bool name_seen;
	bool deps_seen;          /* a `deployments:` list (or null) at deps_key */
	struct pos deps_key;
	size_t n_items;          /* items in that list */
	bool protect_seen;
	struct pos protect;
	struct absent_key absent_keys[ABSENT_KEYS_MAX];
	size_t n_absent_keys;
};

/* A text with where it was written, kept for a check that runs later:
 * renamed_from entries (against the names they must not meet), slugs and
 * domains (unique in the team). */
enum mark_kind { MARK_RENAMED = 0, MARK_SLUG, MARK_DOMAIN };

struct mark {
	unsigned char kind;
	const char *text;        /* in the state's arena */
	struct pos at;
	size_t owner;            /* a project (in ds) or a deployment (in deps) */
};

struct marks {
	struct mark *v;
	size_t n, cap;
};

/* A mark that passed its check, for the files after it. */
struct claim {
	const char *file;
	struct pos at;
	size_t project;
};

/* Hash set of projects by name: slots hold an index + 1 (0: empty). */
struct name_set {
	uint32_t *slots;
	size_t cap;
	size_t n;
};

/* A list of arena strings being collected, sized once when it ends. */
struct strv {
	char **v;
	size_t n, cap;
};

struct desired_sources;

struct loader {
	struct desired_state *ds;
	struct diag *d;          /* the run's diagnostics */
	struct diag local;       /* the current file's, until it is read */
	unsigned flags;          /* DESIRED_* */
	struct desired_sources *sources;  /* files env values come from, or NULL */
	struct yread *r;
	const char *file;        /* the current file, in ds->files */
	size_t proj_cap;
	struct name_set names;   /* every project of the files read */
	struct strmap intern;    /* text -> its copy in the arena */
	struct dep_ctx *deps;    /* the current project's deployments */
	size_t n_deps, deps_cap;
	struct marks dep_marks;  /* the current project's deployments' marks */
	struct marks file_marks; /* the current file's projects' marks */
	struct claim *claims;    /* every mark of the files read, by kind: */
	size_t n_claims, claims_cap;
	struct strmap claimed[3];/* text -> index in claims, per enum mark_kind */
	struct strv list;        /* renamed_from or deploy_keys being read */
	struct pos *list_at;     /* deploy_keys: where each entry is */
	size_t list_at_cap;
	struct desired_domain *domains;   /* the domains list being read */
	size_t n_domains, domains_cap;
	struct desired_env_var *vars;     /* one env type being read */
	size_t n_vars, vars_cap;
};

enum { AT_TOP = 1, AT_PROJECT = 2, AT_DEPLOYMENT = 4, AT_DOMAIN = 8,
    AT_VALUE = 16 };

/* A domains entry being read. */
struct domain_ctx {
	struct pos m;
	bool domain_seen, dest_seen;
	struct pos domain_at;
	struct desired_domain v;     /* v.domain NULL until valid */
	bool dest_ok;
};

/* An env value written as a mapping ({file: PATH} or {env: VAR}). */
struct value_ctx {
	const char *name;        /* the variable it is the value of */
	unsigned sources;        /* file and env keys seen */
	char *value;             /* what was read, in the arena */
};

/* The thing the keys of a mapping describe. */
struct res {
	unsigned at;
	struct proj_ctx *pc;     /* AT_PROJECT, AT_DEPLOYMENT, AT_DOMAIN */
	struct dep_ctx *dc;      /* AT_DEPLOYMENT, AT_DOMAIN */
	struct domain_ctx *dom;  /* AT_DOMAIN */
	struct value_ctx *val;   /* AT_VALUE */
};

typedef int key_fn(struct loader *l, struct res *res,
    const struct yread_node *k);

/* desired.c: helpers of every parser (dl_: the desired loader's) */
void dl_err(struct loader *l, struct pos at, const char *fmt, ...)
    CP_PRINTF(3, 4);
void dl_warn(struct loader *l, struct pos at, const char *fmt, ...)
    CP_PRINTF(3, 4);
struct pos dl_at(const struct yread_node *n);
const char *dl_quote(char *buf, size_t len, const struct yread_node *n);
const char *dl_quote_s(char *buf, size_t len, const char *s, const char *none);
/* Reads a value meant to be a scalar; a collection is stepped over (its
 * kind stays in *v for the message). */
int dl_read_scalar(struct loader *l, struct yread_node *v);
/* Text of a scalar that a string field accepts (numbers are taken as
 * written); NULL, with the error reported, for anything else. */
const char *dl_want_string(struct loader *l, const char *key,
    const struct yread_node *v);
bool dl_want_bool(struct loader *l, const char *key,
    const struct yread_node *v, bool *out);
/* A list (entered: the caller walks it) or null: *ok. Anything else is
 * reported and stepped over. */
int dl_read_list(struct loader *l, const char *key, struct yread_node *v,
    bool *ok);
bool dl_is_text(const struct yread_node *v, const char *s);
char *dl_copy(struct loader *l, const char *s, size_t len);
/* A text many resources repeat, kept once (region, class, reference). */
char *dl_intern(struct loader *l, const char *s, size_t len);
/* The keys of the mapping just entered, each through its table row. */
int dl_read_keys(struct loader *l, struct res *res);
int dl_mark(struct marks *m, unsigned kind, const char *text, struct pos at,
    size_t owner);
int dl_strv_add(struct strv *sv, char *s);
/* The list collected in l->list, sized once in the arena, then emptied. */
int dl_strv_keep(struct loader *l, char ***out, uint16_t *n);
/* A key that a resource with state: absent may not have. */
void dl_absent_key(struct res *res, const char *key, struct pos at);

/* desired_checks.c: the rules between the deployments of the project just
 * read (l->deps), and between the projects of the file just read (from
 * `from` on) and all before them. 0 or -ENOMEM; problems are reported. */
int dl_check_deployments(struct loader *l, const struct proj_ctx *pc);
int dl_check_file(struct loader *l, size_t from);

/* desired_keys.c: one parser per row of the key table */
key_fn dl_key_projects, dl_key_name, dl_key_reference, dl_key_type,
    dl_key_attr, dl_key_default, dl_key_state, dl_key_deployments,
    dl_key_protect, dl_key_slug, dl_key_renamed_from, dl_key_tribool,
    dl_key_expires, dl_key_domains, dl_key_domain, dl_key_destination,
    dl_key_deploy_keys;

/* desired_env.c */
key_fn dl_key_env, dl_key_file, dl_key_envvar;

#endif
