/* ytree.c: libyaml events -> ytree nodes. Limits are checked as events
 * arrive, before anything is allocated for them: an alias adds the size of
 * the subtree it names to the node count (the "billion laughs" file fails
 * within its first lines, without expanding anything), and aliases
 * share the node they name instead of copying it. */
#include "ytree.h"

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "diag.h"
#include "readfile.h"
#include "strmap.h"

const struct ytree_limits ytree_default_limits = {
	YTREE_MAX_BYTES, YTREE_MAX_DEPTH, YTREE_MAX_NODES,
};

/* ---- arena: nodes and strings, freed all at once ------------------------ */

#define CHUNK_SIZE ((size_t)64 << 10)

struct ytree_chunk {
	struct ytree_chunk *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

static void *
arena_alloc(struct ytree *t, size_t size)
{
	struct ytree_chunk *c = t->chunks;
	size_t a = alignof(max_align_t);
	void *p;

	size = (size + a - 1) / a * a;
	if (size > CHUNK_SIZE / 4) {
		/* A big block gets a chunk of its own, behind the current one,
		 * so the current chunk keeps serving small requests. */
		c = malloc(sizeof(*c) + size);
		if (c == NULL)
			return NULL;
		c->used = c->cap = size;
		if (t->chunks != NULL) {
			c->next = t->chunks->next;
			t->chunks->next = c;
		} else {
			c->next = NULL;
			t->chunks = c;
		}
		return c->data;
	}
	if (c == NULL || c->cap - c->used < size) {
		c = malloc(sizeof(*c) + CHUNK_SIZE);
		if (c == NULL)
			return NULL;
		c->used = 0;
		c->cap = CHUNK_SIZE;
		c->next = t->chunks;
		t->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

void
ytree_free(struct ytree *t)
{
	struct ytree_chunk *c, *next;

	if (t == NULL)
		return;
	for (c = t->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(t->docs);
	memset(t, 0, sizeof(*t));
}

/* ---- scalar resolution (YAML 1.2 core schema) -------------------------- */

static int
all_in(const char *s, const char *set)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (strchr(set, *s) == NULL)
			return 0;
	return 1;
}

static int
is_float(const char *s)
{
	int digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (strcmp(s, ".inf") == 0 || strcmp(s, ".Inf") == 0 ||
	    strcmp(s, ".INF") == 0)
		return 1;
	while (*s >= '0' && *s <= '9') {
		s++;
		digits++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			s++;
			digits++;
		}
	}
	if (digits == 0)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

enum ytree_stype
ytree_resolve_plain(const char *s, size_t len, bool *bval)
{
	*bval = false;
	if (strlen(s) != len)
		return YTREE_STR;
	if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return YTREE_NULL;
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0) {
		*bval = true;
		return YTREE_BOOL;
	}
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return YTREE_BOOL;
	if (all_in(s + (*s == '+' || *s == '-'), "0123456789") ||
	    (strncmp(s, "0o", 2) == 0 && all_in(s + 2, "01234567")) ||
	    (strncmp(s, "0x", 2) == 0 && all_in(s + 2, "0123456789abcdefABCDEF")))
		return YTREE_INT;
	if (is_float(s) || strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 ||
	    strcmp(s, ".NAN") == 0)
		return YTREE_FLOAT;
	return YTREE_STR;
}

static void
resolve_plain(struct ytree_node *n)
{
	n->stype = (unsigned char)ytree_resolve_plain(n->value, n->len, &n->bval);
}

/* ---- the builder -------------------------------------------------------- */

struct open_coll {
	struct ytree_node *node;
	size_t base;
};

struct builder {
	struct ytree *t;
	const struct ytree_limits *lim;
	size_t *used;            /* the caller's counter, or local_used */
	size_t local_used;
	struct diag *d;
	/* Open collections and, for each, where its children start in kids. */
	struct open_coll *open;
	size_t depth;
	size_t open_cap;
	struct ytree_node **kids;
	size_t n_kids;
	size_t kids_cap;
	struct ytree_node *root;
	/* Anchors of the current document: name -> index in anchor_nodes. */
	struct strmap anchors;
	struct ytree_node **anchor_nodes;
	size_t n_anchors;
	size_t anchors_cap;
	size_t docs_cap;
};

/* Returns the (maybe moved) array with room for `need` elements, or NULL
 * with the old array untouched. */
static void *
grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;

	if (need <= *cap)
		return p;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	if ((p = realloc(p, ncap * elem)) != NULL)
		*cap = ncap;
	return p;
}

static void
builder_free(struct builder *b)
{
	free(b->open);
	free(b->kids);
	free(b->anchor_nodes);
	strmap_free(&b->anchors);
}

int
ytree_pos1(size_t v)
{
	return v >= INT_MAX ? INT_MAX : (int)v + 1;
}

static int
mark_line(const yaml_mark_t *m)
{
	return ytree_pos1(m->line);
}

static int
mark_col(const yaml_mark_t *m)
{
	return ytree_pos1(m->column);
}

void
ytree_too_many_nodes(struct diag *d, const char *file, int line, int col,
    const struct ytree_limits *lim)
{
	diag_error(d, file, line, col,
	    "more than %zu YAML nodes (aliases counted as expanded)",
	    lim->max_nodes);
}

/* Counts nodes against the budget; the error names the limit. */
static int
count_nodes(struct builder *b, size_t add, const yaml_mark_t *m)
{
	size_t cur = *b->used;

	if (add > b->lim->max_nodes || cur > b->lim->max_nodes - add) {
		*b->used = b->lim->max_nodes + 1;
		ytree_too_many_nodes(b->d, b->t->file, mark_line(m), mark_col(m),
		    b->lim);
		return -E2BIG;
	}
	*b->used = cur + add;
	return 0;
}

static struct ytree_node *
new_node(struct builder *b, enum ytree_kind kind, const yaml_mark_t *m)
{
	struct ytree_node *n = arena_alloc(b->t, sizeof(*n));

	if (n == NULL)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->kind = (unsigned char)kind;
	n->line = mark_line(m);
	n->col = mark_col(m);
	n->weight = 1;
	return n;
}

static int
add_anchor(struct builder *b, const char *anchor, struct ytree_node *n)
{
	size_t len = strlen(anchor), found;
	char *name;
	void *np;
	int rc;

	if ((np = grow(b->anchor_nodes, &b->anchors_cap, b->n_anchors + 1,
	    sizeof(*b->anchor_nodes))) == NULL)
		return -ENOMEM;
	b->anchor_nodes = np;
	if ((name = arena_alloc(b->t, len + 1)) == NULL)
		return -ENOMEM;
	memcpy(name, anchor, len + 1);
	rc = strmap_put(&b->anchors, name, len, b->n_anchors, &found);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		/* YAML lets a later anchor of the same name replace it. */
		b->anchor_nodes[found] = n;
		return 0;
	}
	b->anchor_nodes[b->n_anchors++] = n;
	return 0;
}

/* Attaches a finished node (or an alias target) to the open collection. */
static int
attach(struct builder *b, struct ytree_node *n)
{
	struct ytree_node *parent;
	void *np;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	parent = b->open[b->depth - 1].node;
	if ((np = grow(b->kids, &b->kids_cap, b->n_kids + 1,
	    sizeof(*b->kids))) == NULL)
		return -ENOMEM;
	b->kids = np;
	b->kids[b->n_kids++] = n;
	parent->weight += n->weight;
	if (n->height + 1 > parent->height)
		parent->height = n->height + 1;
	return 0;
}

int
ytree_check_tag(struct diag *d, const char *file, const char *tag,
    const char *ok, int line, int col)
{
	static const char prefix[] = "tag:yaml.org,2002:";
	char q[DIAG_QUOTE_MAX], buf[160];

	if (tag == NULL || strcmp(tag, "!") == 0 || strcmp(tag, ok) == 0)
		return 0;
	/* Shown as written (!!int) rather than expanded. */
	if (strncmp(tag, prefix, sizeof(prefix) - 1) == 0)
		snprintf(buf, sizeof(buf), "!!%s", tag + sizeof(prefix) - 1);
	else
		snprintf(buf, sizeof(buf), "%s", tag);
	diag_error(d, file, line, col,
	    "unsupported tag %s (only !!str is understood)",
	    diag_quote(q, sizeof(q), buf, strlen(buf)));
	return -EINVAL;
}

static int
check_tag(struct builder *b, const yaml_char_t *utag, const char *ok,
    const yaml_mark_t *m)
{
	return ytree_check_tag(b->d, b->t->file, (const char *)utag, ok,
	    mark_line(m), mark_col(m));
}

static int
on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct ytree_node *n;
	int rc;

	if ((rc = count_nodes(b, 1, m)) != 0)
		return rc;
	if ((n = new_node(b, YTREE_SCALAR, m)) == NULL)
		return -ENOMEM;
	n->len = ev->data.scalar.length;
	if ((n->value = arena_alloc(b->t, n->len + 1)) == NULL)
		return -ENOMEM;
	memcpy(n->value, ev->data.scalar.value, n->len);
	n->value[n->len] = '\0';
	if (ev->data.scalar.tag != NULL) {
		/* A bad tag is reported; the value is still read as text. */
		check_tag(b, ev->data.scalar.tag, "tag:yaml.org,2002:str", m);
		n->stype = YTREE_STR;
	} else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		resolve_plain(n);
	} else {
		n->stype = YTREE_STR;
	}
	if (ev->data.scalar.anchor != NULL &&
	    (rc = add_anchor(b, (const char *)ev->data.scalar.anchor, n)) != 0)
		return rc;
	return attach(b, n);
}

static int
on_start(struct builder *b, const yaml_event_t *ev, enum ytree_kind kind)
{
	const yaml_mark_t *m = &ev->start_mark;
	const yaml_char_t *anchor, *tag;
	struct ytree_node *n;
	void *np;
	int rc;

	if (b->depth + 1 > b->lim->max_depth) {
		diag_error(b->d, b->t->file, mark_line(m), mark_col(m),
		    "nesting deeper than %u levels", b->lim->max_depth);
		return -EBADMSG;
	}
	if ((rc = count_nodes(b, 1, m)) != 0)
		return rc;
	if ((n = new_node(b, kind, m)) == NULL)
		return -ENOMEM;
	n->open = true;
	n->height = 1;          /* a collection is one level, even empty */
	if (kind == YTREE_SEQ) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		check_tag(b, tag, "tag:yaml.org,2002:seq", m);
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		check_tag(b, tag, "tag:yaml.org,2002:map", m);
	}
	if (anchor != NULL && (rc = add_anchor(b, (const char *)anchor, n)) != 0)
		return rc;
	if ((np = grow(b->open, &b->open_cap, b->depth + 1,
	    sizeof(*b->open))) == NULL)
		return -ENOMEM;
	b->open = np;
	b->open[b->depth].node = n;
	b->open[b->depth].base = b->n_kids;
	b->depth++;
	return 0;
}

static int
same_key(const struct ytree_node *a, const struct ytree_node *c)
{
	return a->len == c->len && memcmp(a->value, c->value, a->len) == 0;
}

/* Mapping checks: keys must be scalars and unique; offending pairs are
 * reported and left out, so the caller sees a clean mapping. */
static int
finish_map(struct builder *b, struct ytree_node **kv, size_t pairs,
    size_t *kept)
{
	struct strmap seen;
	char q[DIAG_QUOTE_MAX];
	size_t out = 0, found;
	int rc = 0;

	strmap_init(&seen);
	for (size_t i = 0; i < pairs; i++) {
		/* kv is NULL only with no pairs: b->kids is allocated before
		 * b->n_kids grows (attach), a link the analyzer does not keep. */
		struct ytree_node *k = kv[2 * i], *dup = NULL; /* NOLINT(clang-analyzer-core.NullDereference) */

		if (k->kind != YTREE_SCALAR) {
			diag_error(b->d, b->t->file, k->line, k->col,
			    "a mapping key must be a scalar, not %s",
			    ytree_describe(k));
			continue;
		}
		if (pairs <= 8) {
			for (size_t j = 0; j < out; j++)
				if (same_key(kv[2 * j], k))
					dup = kv[2 * j];
		} else {
			rc = strmap_put(&seen, k->value, k->len, out, &found);
			if (rc < 0)
				break;
			if (rc == 1)
				dup = kv[2 * found];
			rc = 0;
		}
		if (dup != NULL) {
			diag_error(b->d, b->t->file, k->line, k->col,
			    "duplicate key %s (first at %d:%d)",
			    diag_quote(q, sizeof(q), k->value, k->len),
			    dup->line, dup->col);
			continue;
		}
		kv[2 * out] = k;
		kv[2 * out + 1] = kv[2 * i + 1];
		out++;
	}
	strmap_free(&seen);
	*kept = out;
	return rc;
}

static int
on_end(struct builder *b)
{
	struct ytree_node *n = b->open[b->depth - 1].node;
	size_t base = b->open[b->depth - 1].base;
	size_t count = b->n_kids - base;
	/* No kids yet means no array at all: NULL + 0 is undefined in C. */
	struct ytree_node **kv = b->kids != NULL ? b->kids + base : NULL;
	int rc;

	if (n->kind == YTREE_MAP) {
		size_t kept;

		if ((rc = finish_map(b, kv, count / 2, &kept)) != 0)
			return rc;
		n->n = kept;
		count = kept * 2;
	} else {
		n->n = count;
	}
	if (count > 0) {
		n->items = arena_alloc(b->t, count * sizeof(*n->items));
		if (n->items == NULL)
			return -ENOMEM;
		/* count > 0, so kv is not NULL (see finish_map). */
		memcpy(n->items, kv, count * sizeof(*n->items)); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
	}
	n->open = false;
	b->n_kids = base;
	b->depth--;
	return attach(b, n);
}

static int
on_alias(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	const char *name = (const char *)ev->data.alias.anchor;
	char q[DIAG_QUOTE_MAX];
	struct ytree_node *n;
	size_t idx;
	int rc;

	if (!strmap_get(&b->anchors, name, strlen(name), &idx)) {
		diag_error(b->d, b->t->file, mark_line(m), mark_col(m),
		    "unknown anchor %s", diag_quote(q, sizeof(q), name, strlen(name)));
		return -EBADMSG;
	}
	n = b->anchor_nodes[idx];
	if (n->open) {
		diag_error(b->d, b->t->file, mark_line(m), mark_col(m),
		    "alias %s refers to a node that contains it",
		    diag_quote(q, sizeof(q), name, strlen(name)));
		return -EBADMSG;
	}
	if (b->depth + n->height > b->lim->max_depth) {
		diag_error(b->d, b->t->file, mark_line(m), mark_col(m),
		    "nesting deeper than %u levels", b->lim->max_depth);
		return -EBADMSG;
	}
	if ((rc = count_nodes(b, n->weight, m)) != 0)
		return rc;
	return attach(b, n);
}

static int
add_doc(struct builder *b, const yaml_mark_t *m)
{
	struct ytree *t = b->t;
	struct ytree_node *root = b->root;
	void *np;
	int rc;

	if (root == NULL) {
		/* libyaml always gives a document a node; be safe anyway. */
		if ((rc = count_nodes(b, 1, m)) != 0)
			return rc;
		if ((root = new_node(b, YTREE_SCALAR, m)) == NULL ||
		    (root->value = arena_alloc(t, 1)) == NULL)
			return -ENOMEM;
		root->value[0] = '\0';
		root->stype = YTREE_NULL;
	}
	if ((np = grow(t->docs, &b->docs_cap, t->n_docs + 1,
	    sizeof(*t->docs))) == NULL)
		return -ENOMEM;
	t->docs = np;
	t->docs[t->n_docs++] = root;
	b->root = NULL;
	/* Anchors do not cross documents. */
	strmap_free(&b->anchors);
	strmap_init(&b->anchors);
	b->n_anchors = 0;
	return 0;
}

void
ytree_pos_advance(struct ytree_pos *p, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\n') {
			p->line++;
			p->col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			p->col++;
		}
	}
}

void
ytree_parser_error(struct diag *d, const char *file,
    const struct yaml_parser_s *p, int off_line, int off_col)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	int line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		diag_error(d, file, 0, 0, "out of memory");
		break;
	case YAML_READER_ERROR:
		line = off_line;
		col = off_col;
		if (strstr(problem, "control characters") != NULL)
			diag_error(d, file, line, col,
			    "control character 0x%02x is not allowed",
			    (unsigned)p->problem_value);
		else if (strstr(problem, "UTF-8") != NULL && p->problem_value >= 0)
			diag_error(d, file, line, col,
			    "not valid UTF-8: %s 0x%02x", problem,
			    (unsigned)p->problem_value);
		else if (strstr(problem, "UTF-8") != NULL)
			diag_error(d, file, line, col, "not valid UTF-8: %s",
			    problem);
		else
			diag_error(d, file, line, col, "unreadable input: %s",
			    problem);
		break;
	default:
		line = mark_line(&p->problem_mark);
		col = mark_col(&p->problem_mark);
		if (p->context != NULL)
			diag_error(d, file, line, col,
			    "invalid YAML: %s (%s at %d:%d)", problem, p->context,
			    mark_line(&p->context_mark), mark_col(&p->context_mark));
		else
			diag_error(d, file, line, col, "invalid YAML: %s",
			    problem);
		break;
	}
}

static void
report_parser_error(struct builder *b, const yaml_parser_t *p,
    const char *data, size_t len)
{
	struct ytree_pos pos = { 1, 1 };
	size_t off = p->problem_offset;

	/* libyaml's reader reports a byte offset: turn it into line and
	 * column (in characters, as the scanner counts them). */
	if (p->error == YAML_READER_ERROR)
		ytree_pos_advance(&pos, data, off > len ? len : off);
	ytree_parser_error(b->d, b->t->file, p, pos.line, pos.col);
}

static void
format_size(char *buf, size_t len, size_t n)
{
	if (n >= ((size_t)1 << 20) && n % ((size_t)1 << 20) == 0)
		snprintf(buf, len, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%zu KiB", n >> 10);
	else
		snprintf(buf, len, "%zu bytes", n);
}

void
ytree_too_large(struct diag *d, const char *file, const struct ytree_limits *lim)
{
	char lim_s[32];

	format_size(lim_s, sizeof(lim_s), lim->max_bytes);
	diag_error(d, file, 0, 0, "file is larger than %s", lim_s);
}

int
ytree_check_bom(struct diag *d, const char *file, const char *data,
    size_t len, size_t *skip)
{
	*skip = 0;
	/* UTF-8 only (a UTF-8 byte order mark is fine): positions are
	 * counted in UTF-8, and nobody means to write YAML in UTF-16. */
	if (len >= 2 && ((data[0] == '\xff' && data[1] == '\xfe') ||
	    (data[0] == '\xfe' && data[1] == '\xff'))) {
		diag_error(d, file, 1, 1, "UTF-16 text is not supported; save the "
		    "file as UTF-8");
		return -EBADMSG;
	}
	/* The UTF-8 byte order mark is dropped: libyaml would count it as a
	 * column once the encoding is set. */
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		*skip = 3;
	return 0;
}

int
ytree_parse(struct ytree *t, const char *file, const char *data, size_t len,
    const struct ytree_limits *lim, size_t *nodes_used, struct diag *d)
{
	struct builder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	size_t skip;
	int rc = 0, done = 0;

	memset(t, 0, sizeof(*t));
	t->file = file;
	if (lim == NULL)
		lim = &ytree_default_limits;
	memset(&b, 0, sizeof(b));
	b.t = t;
	b.lim = lim;
	b.used = nodes_used ? nodes_used : &b.local_used;
	b.d = d;
	strmap_init(&b.anchors);
	if (*b.used > lim->max_nodes)
		return -E2BIG;      /* already reported when it ran out */
	if (len > lim->max_bytes) {
		ytree_too_large(d, file, lim);
		return -EFBIG;
	}
	if (ytree_check_bom(d, file, data, len, &skip) != 0)
		return -EBADMSG;
	data += skip;
	len -= skip;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			report_parser_error(&b, &parser, data, len);
			rc = parser.error == YAML_MEMORY_ERROR ? -ENOMEM : -EBADMSG;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			b.root = NULL;
			break;
		case YAML_DOCUMENT_END_EVENT:
			rc = add_doc(&b, &ev.start_mark);
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = on_start(&b, &ev, YTREE_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = on_start(&b, &ev, YTREE_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(&b);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(&b, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	builder_free(&b);
	if (rc == -ENOMEM)
		diag_error(d, file, 0, 0, "out of memory");
	if (rc != 0) {
		ytree_free(t);
		t->file = file;
	}
	return rc;
}

/* ---- files -------------------------------------------------------------- */

int
ytree_read_file(const char *path, size_t max, char **out, size_t *lenp)
{
	/* A desired-state or settings file may be a link (a checkout's). */
	return readfile_flags(path, READFILE_FOLLOW, max, out, lenp, NULL, 0);
}

int
ytree_load_file(struct ytree *t, const char *path, const char *file,
    const struct ytree_limits *lim, size_t *nodes_used, struct diag *d)
{
	char *data;
	size_t len;
	int rc;

	memset(t, 0, sizeof(*t));
	t->file = file;
	if (lim == NULL)
		lim = &ytree_default_limits;
	rc = ytree_read_file(path, lim->max_bytes, &data, &len);
	switch (rc) {
	case 0:
		break;
	case -EFBIG:
		ytree_too_large(d, file, lim);
		return rc;
	case -EINVAL:
		diag_error(d, file, 0, 0, "not a regular file");
		return rc;
	default:
		diag_error(d, file, 0, 0, "cannot read: %s", strerror(-rc));
		return rc;
	}
	rc = ytree_parse(t, file, data, len, lim, nodes_used, d);
	free(data);
	return rc;
}

/* ---- access ------------------------------------------------------------- */

const char *
ytree_describe_kind(unsigned kind, unsigned stype)
{
	if (kind == YTREE_SEQ)
		return "a list";
	if (kind == YTREE_MAP)
		return "a mapping";
	switch (stype) {
	case YTREE_NULL: return "null";
	case YTREE_BOOL: return "a boolean";
	case YTREE_INT:
	case YTREE_FLOAT: return "a number";
	default: return "a string";
	}
}

const char *
ytree_describe(const struct ytree_node *n)
{
	return ytree_describe_kind(n->kind, n->stype);
}

struct ytree_node *
ytree_map_get(const struct ytree_node *map, const char *key)
{
	size_t len = strlen(key);

	if (map == NULL || map->kind != YTREE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		const struct ytree_node *k = YTREE_KEY(map, i);

		if (k->len == len && memcmp(k->value, key, len) == 0)
			return YTREE_VALUE(map, i);
	}
	return NULL;
}
