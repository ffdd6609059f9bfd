/* ytree.h: YAML text -> a tree of nodes that keep their line and column,
 * built from libyaml's event parser under hard limits (file size, nesting
 * depth, node count with aliases counted as expanded), so a hostile file is
 * a clear error and never a crash, a hang or a huge allocation. For small
 * files (settings); the desired state streams through yread.h instead,
 * which shares the limits, the scalar rules and the messages below. */
#ifndef CP_YTREE_H
#define CP_YTREE_H

#include <stdbool.h>
#include <stddef.h>

struct diag;

enum ytree_kind { YTREE_SCALAR = 0, YTREE_SEQ, YTREE_MAP };

/* What a scalar resolves to under the YAML 1.2 core schema: quoted and
 * block scalars (and `!!str`) are strings; plain ones may be null (``, `~`,
 * `null`), booleans (`true`, `false`), integers or floats. */
enum ytree_stype { YTREE_STR = 0, YTREE_NULL, YTREE_BOOL, YTREE_INT, YTREE_FLOAT };

struct ytree_node {
	unsigned char kind;      /* enum ytree_kind */
	unsigned char stype;     /* enum ytree_stype, scalars only */
	bool bval;               /* YTREE_BOOL: its value */
	bool open;               /* collection still being built */
	int line;                /* 1-based, of the node's first character */
	int col;                 /* 1-based, in characters */
	unsigned height;         /* nesting levels: 0 for a scalar, 1 for [] */
	size_t weight;           /* nodes in this subtree, aliases expanded */
	/* Scalar: value (NUL-terminated, may hold NULs: compare len). */
	char *value;
	size_t len;
	/* Sequence: n items. Mapping: n pairs, key i at items[2i], value at
	 * items[2i+1]; keys are scalars and unique. An alias is the very node
	 * it names (shared), so it reports the anchored node's position. */
	struct ytree_node **items;
	size_t n;
};

#define YTREE_KEY(m, i)   ((m)->items[2 * (i)])
#define YTREE_VALUE(m, i) ((m)->items[2 * (i) + 1])

struct ytree_limits {
	size_t max_bytes;        /* per file */
	unsigned max_depth;      /* nested collections */
	size_t max_nodes;        /* over every document the counter has seen */
};

#define YTREE_MAX_BYTES ((size_t)4 << 20)
#define YTREE_MAX_DEPTH 64u
#define YTREE_MAX_NODES ((size_t)1000000)

extern const struct ytree_limits ytree_default_limits;

struct ytree_chunk;

struct ytree {
	const char *file;        /* borrowed: names the input in diagnostics */
	struct ytree_node **docs;   /* one root per document (NULL-free) */
	size_t n_docs;
	struct ytree_chunk *chunks; /* every node and string lives here */
};

/* Parses data (len bytes) as a stream of documents. `nodes_used` carries
 * the node count across calls (several files share one budget); it may be
 * NULL. Every problem goes to `d` as FILE:LINE:COL. Returns:
 *   0         the tree is usable (there may still be errors in `d` that
 *             did not stop the parse: duplicate keys, unsupported tags);
 *   -EBADMSG  not YAML (syntax, encoding, depth, anchors): the tree is empty;
 *   -E2BIG    the node budget is exhausted: the tree is empty;
 *   -ENOMEM. */
int ytree_parse(struct ytree *t, const char *file, const char *data,
    size_t len, const struct ytree_limits *lim, size_t *nodes_used,
    struct diag *d);
/* Reads a regular file (at most lim->max_bytes) and parses it. Adds the
 * errors of ytree_parse, plus -EFBIG (too large) and I/O errors (-errno,
 * reported as "FILE: error: ..."). `file` names it in diagnostics. */
int ytree_load_file(struct ytree *t, const char *path, const char *file,
    const struct ytree_limits *lim, size_t *nodes_used, struct diag *d);
void ytree_free(struct ytree *t);      /* accepts NULL; leaves it empty */

/* "a string", "a number", "a boolean", "null", "a list", "a mapping". */
const char *ytree_describe(const struct ytree_node *n);
/* The value under a scalar key, or NULL. */
struct ytree_node *ytree_map_get(const struct ytree_node *map, const char *key);
/* Reads the whole regular file at path into a NUL-terminated buffer of at
 * most max bytes (the caller frees *out). -EFBIG, -EINVAL (not a regular
 * file) or -errno. Shared by the loaders. */
int ytree_read_file(const char *path, size_t max, char **out, size_t *len);

/* ---- shared with the streaming reader (yread.c) ------------------------ */

struct yaml_parser_s;

/* "a string", ... for a node of that kind and scalar type. */
const char *ytree_describe_kind(unsigned kind, unsigned stype);
/* What a plain scalar resolves to; *bval for YTREE_BOOL. */
enum ytree_stype ytree_resolve_plain(const char *s, size_t len, bool *bval);
/* Reports a tag other than `ok` (and "!"): 0, or -EINVAL when reported. */
int ytree_check_tag(struct diag *d, const char *file, const char *tag,
    const char *ok, int line, int col);
/* The byte order mark: UTF-16 is reported (-EBADMSG); a UTF-8 one is
 * skipped (*skip = 3). data holds the first len bytes of the input. */
int ytree_check_bom(struct diag *d, const char *file, const char *data,
    size_t len, size_t *skip);
/* libyaml's error, at its mark; a reader error's byte offset must be
 * turned into (line, col) by the caller (ytree_pos_advance). */
void ytree_parser_error(struct diag *d, const char *file,
    const struct yaml_parser_s *p, int off_line, int off_col);
void ytree_too_large(struct diag *d, const char *file,
    const struct ytree_limits *lim);
/* The node-limit error and its message, as both readers give it. */
void ytree_too_many_nodes(struct diag *d, const char *file, int line,
    int col, const struct ytree_limits *lim);
/* A libyaml line or column (0-based size_t) as a 1-based int. */
int ytree_pos1(size_t v);

/* Line and column after reading bytes, counting as libyaml's scanner does
 * (columns in characters). Start at { 1, 1 }. */
struct ytree_pos {
	int line;
	int col;
};
void ytree_pos_advance(struct ytree_pos *p, const char *data, size_t len);

#endif
