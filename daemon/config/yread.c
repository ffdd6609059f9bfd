/* yread.c: libyaml events -> a walk over nodes, with ytree's limits and
 * errors. Three pieces:
 *
 * - The live side turns each event into an item, checks the limits before
 *   anything is kept for it, and keeps per open collection only what the
 *   checks need: its size and height (an anchor's cost), and for a mapping
 *   its keys so far (duplicates) and the errors found in it, reported when
 *   it ends, as ytree reports them.
 * - Recording: while an anchored collection is open (or for an anchored
 *   scalar) the items also go to a log, one small entry each, so an alias
 *   is replayed from the log instead of expanded anywhere. A pair that a
 *   mapping drops (duplicate or non-scalar key) stays in the log, flagged,
 *   so an anchor inside it still works, and a replay jumps over it.
 * - The walk API (yread.h) on top, over live items and replays alike. */
#include "yread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "arena.h"
#include "diag.h"
#include "strmap.h"

#define NONE UINT32_MAX
#define LINEAR_KEYS 8            /* mappings this small need no hash map */

/* Items and log entries: a node's start, a collection's end, an alias. */
enum { I_NONE = 0, I_SCALAR, I_SEQ, I_MAP, I_END, I_ALIAS, I_DOC_START,
    I_DOC_END, I_STREAM_END };

#define F_DROPPED 1u             /* a dropped pair's key: replays jump */

struct rec {
	unsigned char type;
	unsigned char stype;
	unsigned char flags;
	bool bval;
	int line;
	int col;
	const char *value;       /* I_SCALAR: in the document arena */
	uint32_t len;
	uint32_t a, b;           /* I_ALIAS: the range [a, b) it replays */
	uint32_t jump;           /* F_DROPPED: where the pair ends */
};

struct anchor {
	uint32_t start, end;     /* its entries in the log */
	size_t weight;           /* nodes, aliases expanded */
	unsigned height;
	bool open;
};

/* A key a live mapping kept, and an error it will report when it ends. */
struct keyrec {
	struct keyrec *next;
	int line, col;
	size_t len;
	char text[];
};

struct pending_err {
	struct pending_err *next;
	int line, col;
	char msg[];
};

struct frame {
	unsigned char kind;      /* YTREE_SEQ or YTREE_MAP */
	bool live;
	/* live frames only: */
	bool recording;          /* its items go to the log */
	bool anchored;
	size_t anchor;
	size_t weight;
	unsigned height;
	struct arena_mark mark;  /* scratch at its start */
	struct keyrec *keys;
	size_t n_keys;
	struct strmap *index;    /* past LINEAR_KEYS keys */
	struct pending_err *errs, *errs_last;   /* in order */
};

struct source {
	uint32_t pos, end;
};

struct item {
	unsigned char type;
	unsigned char stype;
	bool bval;
	int line, col;
	const char *value;
	size_t len;
	uint32_t entry;          /* live: its log entry (an alias: the alias's) */
};

enum { S_START = 0, S_BETWEEN, S_ROOT, S_IN_DOC, S_END };

struct yread {
	const char *file;
	const struct ytree_limits *lim;
	size_t *used;
	size_t local_used;
	struct diag *d;
	yaml_parser_t parser;
	bool parser_ok;
	/* input: a file descriptor (the BOM already looked at) or memory */
	int fd;
	const char *mem;
	size_t mem_len;
	size_t skip;             /* bytes of a UTF-8 byte order mark */
	unsigned char prefix[3];
	size_t prefix_len, prefix_pos;
	size_t total;            /* bytes read so far, the mark included */
	int io_err;
	bool too_big;

	int err;                 /* sticky: the input cannot be read further */
	int state;
	bool expect_value;       /* the next call must read a node */
	struct frame *frames;
	size_t depth, live_depth, frames_cap;
	struct source *src;
	size_t n_src, src_cap;
	struct item pending;     /* an item yread_next_item looked at */
	bool has_pending;
	char *sbuf;              /* the live scalar's text */
	size_t sbuf_cap;
	/* the document's recording */
	struct rec *log;
	size_t n_log, log_cap;
	struct arena doc;
	struct strmap anchors;   /* name -> index in cur */
	size_t *cur;             /* per name: its latest anchor, in anch */
	size_t n_names, names_cap;
	struct anchor *anch;     /* every anchor of the document */
	size_t n_anch, anch_cap;
	struct arena scratch;    /* keys and errors of open live mappings */
};

static const struct ytree_limits default_limits = {
	YTREE_MAX_BYTES, YTREE_MAX_DEPTH, YTREE_MAX_NODES,
};

/* ---- small helpers ------------------------------------------------------ */

static int
fail(struct yread *r, int rc)
{
	if (rc == -ENOMEM)
		diag_error(r->d, r->file, 0, 0, "out of memory");
	r->err = rc;
	return rc;
}

/* Room for need elements; the array is left alone when that fails. */
static int
reserve(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / elem || (np = realloc(*p, ncap * elem)) == NULL)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
count_nodes(struct yread *r, size_t add, int line, int col)
{
	size_t cur = *r->used;

	if (add > r->lim->max_nodes || cur > r->lim->max_nodes - add) {
		*r->used = r->lim->max_nodes + 1;
		ytree_too_many_nodes(r->d, r->file, line, col, r->lim);
		return fail(r, -E2BIG);
	}
	*r->used = cur + add;
	return 0;
}

static struct frame *
top(struct yread *r)
{
	return r->depth > 0 ? &r->frames[r->depth - 1] : NULL;
}

/* The innermost live collection (live items only arrive with no replay
 * running, so it is the top one), or NULL at the root. */
static struct frame *
live_parent(struct yread *r)
{
	return r->live_depth > 0 ? &r->frames[r->live_depth - 1] : NULL;
}

static void
add_child(struct yread *r, size_t weight, unsigned height)
{
	struct frame *p = live_parent(r);

	if (p == NULL)
		return;
	p->weight += weight;
	if (height + 1 > p->height)
		p->height = height + 1;
}

static int
append(struct yread *r, const struct rec *e, uint32_t *idx)
{
	if (r->n_log >= UINT32_MAX - 1 ||
	    reserve((void **)&r->log, &r->log_cap, r->n_log + 1, sizeof(*r->log)))
		return fail(r, -ENOMEM);
	r->log[r->n_log] = *e;
	*idx = (uint32_t)r->n_log++;
	return 0;
}

static int
push_frame(struct yread *r, unsigned char kind, bool live)
{
	struct frame *f;

	if (reserve((void **)&r->frames, &r->frames_cap, r->depth + 1,
	    sizeof(*r->frames)))
		return fail(r, -ENOMEM);
	f = &r->frames[r->depth++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->live = live;
	if (live)
		r->live_depth++;
	return 0;
}

/* ---- mapping keys and their errors -------------------------------------- */

static int
queue_error(struct yread *r, struct frame *f, int line, int col,
    const char *msg)
{
	size_t n = strlen(msg);
	struct pending_err *e;

	e = arena_alloc(&r->scratch, sizeof(*e) + n + 1, _Alignof(struct pending_err));
	if (e == NULL)
		return fail(r, -ENOMEM);
	e->next = NULL;
	e->line = line;
	e->col = col;
	memcpy(e->msg, msg, n + 1);
	/* Not a pointer into the frame: the frames array moves. */
	if (f->errs_last != NULL)
		f->errs_last->next = e;
	else
		f->errs = e;
	f->errs_last = e;
	return 0;
}

static const struct keyrec *
find_key(const struct frame *f, const char *s, size_t len)
{
	size_t v;

	if (f->index != NULL)
		return strmap_get(f->index, s, len, &v) ?
		    (const struct keyrec *)(uintptr_t)v : NULL;
	for (const struct keyrec *k = f->keys; k != NULL; k = k->next)
		if (k->len == len && memcmp(k->text, s, len) == 0)
			return k;
	return NULL;
}

static int
index_key(struct strmap *m, const struct keyrec *k)
{
	return strmap_put(m, k->text, k->len, (size_t)(uintptr_t)k, NULL) < 0 ?
	    -ENOMEM : 0;
}

static int
keep_key(struct yread *r, struct frame *f, const struct item *it,
    const struct keyrec **out)
{
	struct keyrec *k;

	k = arena_alloc(&r->scratch, sizeof(*k) + it->len + 1,
	    _Alignof(struct keyrec));
	if (k == NULL)
		return fail(r, -ENOMEM);
	k->line = it->line;
	k->col = it->col;
	k->len = it->len;
	memcpy(k->text, it->value, it->len);
	k->text[it->len] = '\0';
	k->next = f->keys;
	f->keys = k;
	f->n_keys++;
	if (f->index == NULL && f->n_keys > LINEAR_KEYS) {
		if ((f->index = calloc(1, sizeof(*f->index))) == NULL)
			return fail(r, -ENOMEM);
		strmap_init(f->index);
		for (const struct keyrec *e = f->keys; e != NULL; e = e->next)
			if (index_key(f->index, e) != 0)
				return fail(r, -ENOMEM);
	} else if (f->index != NULL && index_key(f->index, k) != 0) {
		return fail(r, -ENOMEM);
	}
	*out = k;
	return 0;
}

/* ---- the live side ------------------------------------------------------ */

static void
fill_pos(struct item *it, const yaml_mark_t *m)
{
	it->line = ytree_pos1(m->line);
	it->col = ytree_pos1(m->column);
}

/* A new anchor; a name used before now leads to it (YAML lets a later
 * anchor of the same name replace the earlier one, which may still be
 * open around it). *idx: its index in anch. */
static int
add_anchor(struct yread *r, const char *name, struct anchor a, size_t *idx)
{
	size_t len = strlen(name), found;
	char *copy;
	int rc;

	if (reserve((void **)&r->anch, &r->anch_cap, r->n_anch + 1,
	    sizeof(*r->anch)) ||
	    reserve((void **)&r->cur, &r->names_cap, r->n_names + 1,
	    sizeof(*r->cur)) ||
	    (copy = arena_strndup(&r->doc, name, len)) == NULL)
		return fail(r, -ENOMEM);
	*idx = r->n_anch;
	r->anch[r->n_anch++] = a;
	rc = strmap_put(&r->anchors, copy, len, r->n_names, &found);
	if (rc < 0)
		return fail(r, -ENOMEM);
	if (rc == 1)
		r->cur[found] = *idx;
	else
		r->cur[r->n_names++] = *idx;
	return 0;
}

static int
on_scalar(struct yread *r, const yaml_event_t *ev, struct item *it)
{
	const struct frame *p = live_parent(r);
	const char *anchor = (const char *)ev->data.scalar.anchor;
	size_t len = ev->data.scalar.length;
	int rc;

	fill_pos(it, &ev->start_mark);
	if ((rc = count_nodes(r, 1, it->line, it->col)) != 0)
		return rc;
	if (len == SIZE_MAX ||
	    reserve((void **)&r->sbuf, &r->sbuf_cap, len + 1, 1))
		return fail(r, -ENOMEM);
	memcpy(r->sbuf, ev->data.scalar.value, len);
	r->sbuf[len] = '\0';
	it->type = I_SCALAR;
	it->value = r->sbuf;
	it->len = len;
	it->bval = false;
	if (ev->data.scalar.tag != NULL) {
		/* A bad tag is reported; the value is still read as text. */
		ytree_check_tag(r->d, r->file, (const char *)ev->data.scalar.tag,
		    "tag:yaml.org,2002:str", it->line, it->col);
		it->stype = YTREE_STR;
	} else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		it->stype = (unsigned char)ytree_resolve_plain(r->sbuf, len,
		    &it->bval);
	} else {
		it->stype = YTREE_STR;
	}
	add_child(r, 1, 0);
	it->entry = NONE;
	if ((p != NULL && p->recording) || anchor != NULL) {
		struct rec e = { I_SCALAR, it->stype, 0, it->bval, it->line,
		    it->col, NULL, (uint32_t)len, 0, 0, 0 };

		if (len > UINT32_MAX - 1 ||
		    (e.value = arena_strndup(&r->doc, r->sbuf, len)) == NULL)
			return fail(r, -ENOMEM);
		if ((rc = append(r, &e, &it->entry)) != 0)
			return rc;
	}
	if (anchor != NULL) {
		struct anchor a = { it->entry, it->entry + 1, 1, 0, false };
		size_t idx;

		return add_anchor(r, anchor, a, &idx);
	}
	return 0;
}

static int
on_start(struct yread *r, const yaml_event_t *ev, unsigned char kind,
    struct item *it)
{
	const struct frame *p = live_parent(r);
	const char *anchor, *tag;
	struct frame *f;
	bool recording;
	int rc;

	fill_pos(it, &ev->start_mark);
	if (r->live_depth + 1 > r->lim->max_depth) {
		diag_error(r->d, r->file, it->line, it->col,
		    "nesting deeper than %u levels", r->lim->max_depth);
		return fail(r, -EBADMSG);
	}
	if ((rc = count_nodes(r, 1, it->line, it->col)) != 0)
		return rc;
	if (kind == YTREE_SEQ) {
		anchor = (const char *)ev->data.sequence_start.anchor;
		tag = (const char *)ev->data.sequence_start.tag;
		ytree_check_tag(r->d, r->file, tag, "tag:yaml.org,2002:seq",
		    it->line, it->col);
	} else {
		anchor = (const char *)ev->data.mapping_start.anchor;
		tag = (const char *)ev->data.mapping_start.tag;
		ytree_check_tag(r->d, r->file, tag, "tag:yaml.org,2002:map",
		    it->line, it->col);
	}
	it->type = kind == YTREE_SEQ ? I_SEQ : I_MAP;
	it->value = NULL;
	it->len = 0;
	it->stype = YTREE_STR;
	it->bval = false;
	it->entry = NONE;
	recording = anchor != NULL || (p != NULL && p->recording);
	if (recording) {
		struct rec e = { it->type, 0, 0, false, it->line, it->col, NULL,
		    0, 0, 0, 0 };

		if ((rc = append(r, &e, &it->entry)) != 0)
			return rc;
	}
	if ((rc = push_frame(r, kind, true)) != 0)
		return rc;
	f = top(r);
	f->recording = recording;
	f->weight = 1;
	f->height = 1;           /* a collection is one level, even empty */
	f->mark = arena_mark(&r->scratch);
	if (anchor != NULL) {
		struct anchor a = { it->entry, NONE, 0, 0, true };

		f->anchored = true;
		if ((rc = add_anchor(r, anchor, a, &f->anchor)) != 0)
			return rc;
	}
	return 0;
}

static int
on_end(struct yread *r, struct item *it)
{
	struct frame *f = top(r);
	size_t weight;
	unsigned height;
	int rc;

	if (f == NULL || !f->live)
		return fail(r, -EPROTO);
	it->type = I_END;
	it->value = NULL;
	it->len = 0;
	it->entry = NONE;
	for (const struct pending_err *e = f->errs; e != NULL; e = e->next)
		diag_error(r->d, r->file, e->line, e->col, "%s", e->msg);
	if (f->index != NULL) {
		strmap_free(f->index);
		free(f->index);
	}
	arena_release(&r->scratch, f->mark);
	if (f->recording) {
		struct rec e = { I_END, 0, 0, false, 0, 0, NULL, 0, 0, 0, 0 };

		if ((rc = append(r, &e, &it->entry)) != 0)
			return rc;
	}
	if (f->anchored) {
		struct anchor *a = &r->anch[f->anchor];

		a->end = (uint32_t)r->n_log;
		a->weight = f->weight;
		a->height = f->height;
		a->open = false;
	}
	weight = f->weight;
	height = f->height;
	r->depth--;
	r->live_depth--;
	add_child(r, weight, height);
	return 0;
}

static int replay_item(struct yread *r, struct item *it);

static int
on_alias(struct yread *r, const yaml_event_t *ev, struct item *it)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct frame *p = live_parent(r);
	char q[DIAG_QUOTE_MAX];
	const struct anchor *a;
	struct source *s;
	uint32_t entry = NONE;
	size_t idx;
	int line, col, rc;

	line = ytree_pos1(ev->start_mark.line);
	col = ytree_pos1(ev->start_mark.column);
	if (!strmap_get(&r->anchors, name, strlen(name), &idx)) {
		diag_error(r->d, r->file, line, col, "unknown anchor %s",
		    diag_quote(q, sizeof(q), name, strlen(name)));
		return fail(r, -EBADMSG);
	}
	a = &r->anch[r->cur[idx]];
	if (a->open) {
		diag_error(r->d, r->file, line, col,
		    "alias %s refers to a node that contains it",
		    diag_quote(q, sizeof(q), name, strlen(name)));
		return fail(r, -EBADMSG);
	}
	if (r->live_depth + a->height > r->lim->max_depth) {
		diag_error(r->d, r->file, line, col,
		    "nesting deeper than %u levels", r->lim->max_depth);
		return fail(r, -EBADMSG);
	}
	if ((rc = count_nodes(r, a->weight, line, col)) != 0)
		return rc;
	add_child(r, a->weight, a->height);
	if (p != NULL && p->recording) {
		struct rec e = { I_ALIAS, 0, 0, false, line, col, NULL, 0,
		    a->start, a->end, 0 };

		if ((rc = append(r, &e, &entry)) != 0)
			return rc;
	}
	if (reserve((void **)&r->src, &r->src_cap, r->n_src + 1,
	    sizeof(*r->src)))
		return fail(r, -ENOMEM);
	s = &r->src[r->n_src++];
	s->pos = a->start;
	s->end = a->end;
	if ((rc = replay_item(r, it)) != 0)
		return rc;
	it->entry = entry;
	return 0;
}

/* Where a reader error's byte offset is, counted again from the input. */
static void
offset_pos(struct yread *r, size_t off, int *line, int *col)
{
	struct ytree_pos pos = { 1, 1 };
	char buf[16384];

	if (r->mem != NULL) {
		size_t avail = r->mem_len - r->skip;

		ytree_pos_advance(&pos, r->mem + r->skip, off > avail ? avail : off);
	} else {
		off_t at = (off_t)r->skip;

		while (off > 0) {
			ssize_t n = pread(r->fd, buf, off < sizeof(buf) ?
			    off : sizeof(buf), at);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			ytree_pos_advance(&pos, buf, (size_t)n);
			off -= (size_t)n;
			at += n;
		}
	}
	*line = pos.line;
	*col = pos.col;
}

static int
parse_error(struct yread *r)
{
	int line = 0, col = 0;

	if (r->too_big) {
		ytree_too_large(r->d, r->file, r->lim);
		return fail(r, -EFBIG);
	}
	if (r->io_err != 0) {
		diag_error(r->d, r->file, 0, 0, "cannot read: %s",
		    strerror(r->io_err));
		return fail(r, -r->io_err);
	}
	if (r->parser.error == YAML_READER_ERROR)
		offset_pos(r, r->parser.problem_offset, &line, &col);
	if (r->parser.error == YAML_MEMORY_ERROR)
		return fail(r, -ENOMEM);
	ytree_parser_error(r->d, r->file, &r->parser, line, col);
	return fail(r, -EBADMSG);
}

static int
live_item(struct yread *r, struct item *it)
{
	yaml_event_t ev;
	int rc = 0;

	for (;;) {
		/* Defined on every path, the error ones too. */
		memset(it, 0, sizeof(*it));
		it->entry = NONE;
		if (!yaml_parser_parse(&r->parser, &ev))
			return parse_error(r);
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
			rc = on_scalar(r, &ev, it);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = on_start(r, &ev, YTREE_SEQ, it);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = on_start(r, &ev, YTREE_MAP, it);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(r, it);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(r, &ev, it);
			break;
		case YAML_DOCUMENT_START_EVENT:
			it->type = I_DOC_START;
			break;
		case YAML_DOCUMENT_END_EVENT:
			it->type = I_DOC_END;
			fill_pos(it, &ev.start_mark);
			break;
		case YAML_STREAM_END_EVENT:
			it->type = I_STREAM_END;
			break;
		default:
			yaml_event_delete(&ev);
			continue;
		}
		yaml_event_delete(&ev);
		return rc;
	}
}

/* ---- replays ------------------------------------------------------------ */

static int
replay_item(struct yread *r, struct item *it)
{
	for (;;) {
		struct source *s = &r->src[r->n_src - 1];
		const struct rec *e = &r->log[s->pos++];
		int rc;

		if (s->pos >= s->end)
			r->n_src--;      /* its last entry: done with it */
		if (e->type == I_ALIAS) {
			uint32_t a = e->a, b = e->b;

			if (reserve((void **)&r->src, &r->src_cap, r->n_src + 1,
			    sizeof(*r->src)))
				return fail(r, -ENOMEM);
			r->src[r->n_src].pos = a;
			r->src[r->n_src].end = b;
			r->n_src++;
			continue;
		}
		memset(it, 0, sizeof(*it));
		it->type = e->type;
		it->stype = e->stype;
		it->bval = e->bval;
		it->line = e->line;
		it->col = e->col;
		it->value = e->value;
		it->len = e->len;
		it->entry = NONE;
		if (e->type == I_SEQ || e->type == I_MAP) {
			rc = push_frame(r, e->type == I_SEQ ? YTREE_SEQ : YTREE_MAP,
			    false);
			if (rc != 0)
				return rc;
		} else if (e->type == I_END) {
			if (r->depth == 0 || r->frames[r->depth - 1].live)
				return fail(r, -EPROTO);
			r->depth--;
		}
		return 0;
	}
}

static int
next_item(struct yread *r, struct item *it)
{
	/* An error leaves an item no caller takes for a node. */
	memset(it, 0, sizeof(*it));
	if (r->n_src > 0)
		return replay_item(r, it);
	return live_item(r, it);
}

/* ---- opening and closing ------------------------------------------------ */

static int
read_handler(void *data, unsigned char *buf, size_t size, size_t *got)
{
	struct yread *r = data;
	ssize_t n;

	*got = 0;
	if (r->prefix_pos < r->prefix_len) {
		size_t k = r->prefix_len - r->prefix_pos;

		if (k > size)
			k = size;
		memcpy(buf, r->prefix + r->prefix_pos, k);
		r->prefix_pos += k;
		*got = k;
		return 1;
	}
	do
		n = read(r->fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->io_err = errno;
		return 0;
	}
	r->total += (size_t)n;
	/* Checked again while reading: the file may have grown. */
	if (r->total > r->lim->max_bytes) {
		r->too_big = true;
		return 0;
	}
	*got = (size_t)n;
	return 1;
}

static struct yread *
alloc_reader(const char *file, const struct ytree_limits *lim,
    size_t *nodes_used, struct diag *d)
{
	struct yread *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->file = file;
	r->lim = lim ? lim : &default_limits;
	r->used = nodes_used ? nodes_used : &r->local_used;
	r->d = d;
	r->fd = -1;
	strmap_init(&r->anchors);
	return r;
}

static int
start_parser(struct yread *r)
{
	if (!yaml_parser_initialize(&r->parser))
		return -ENOMEM;
	r->parser_ok = true;
	if (r->mem != NULL)
		yaml_parser_set_input_string(&r->parser,
		    (const unsigned char *)r->mem + r->skip, r->mem_len - r->skip);
	else
		yaml_parser_set_input(&r->parser, read_handler, r);
	yaml_parser_set_encoding(&r->parser, YAML_UTF8_ENCODING);
	return 0;
}

int
yread_open_mem(struct yread **out, const char *file, const char *data,
    size_t len, const struct ytree_limits *lim, size_t *nodes_used,
    struct diag *d)
{
	struct yread *r;
	int rc;

	*out = NULL;
	if ((r = alloc_reader(file, lim, nodes_used, d)) == NULL) {
		diag_error(d, file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (*r->used > r->lim->max_nodes)
		rc = -E2BIG;     /* already reported when it ran out */
	else if (len > r->lim->max_bytes) {
		ytree_too_large(d, file, r->lim);
		rc = -EFBIG;
	} else if ((rc = ytree_check_bom(d, file, data, len, &r->skip)) == 0) {
		r->mem = data;
		r->mem_len = len;
		rc = start_parser(r);
	}
	if (rc != 0) {
		if (rc == -ENOMEM)
			diag_error(d, file, 0, 0, "out of memory");
		yread_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int
open_file(struct yread *r, const char *path)
{
	struct stat st;
	ssize_t n;

	/* O_NONBLOCK: a FIFO named like a YAML file must not hang us. */
	r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (r->fd < 0 || fstat(r->fd, &st) != 0) {
		diag_error(r->d, r->file, 0, 0, "cannot read: %s", strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(r->d, r->file, 0, 0, "not a regular file");
		return -EINVAL;
	}
	if ((uintmax_t)st.st_size > r->lim->max_bytes) {
		ytree_too_large(r->d, r->file, r->lim);
		return -EFBIG;
	}
	if (*r->used > r->lim->max_nodes)
		return -E2BIG;   /* already reported when it ran out */
	/* The first bytes, for the byte order mark. */
	while (r->prefix_len < sizeof(r->prefix)) {
		n = read(r->fd, r->prefix + r->prefix_len,
		    sizeof(r->prefix) - r->prefix_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error(r->d, r->file, 0, 0, "cannot read: %s",
			    strerror(errno));
			return -errno;
		}
		if (n == 0)
			break;
		r->prefix_len += (size_t)n;
	}
	r->total = r->prefix_len;
	if (ytree_check_bom(r->d, r->file, (const char *)r->prefix,
	    r->prefix_len, &r->skip) != 0)
		return -EBADMSG;
	r->prefix_pos = r->skip;
	return start_parser(r);
}

int
yread_open(struct yread **out, const char *path, const char *file,
    const struct ytree_limits *lim, size_t *nodes_used, struct diag *d)
{
	struct yread *r;
	int rc;

	*out = NULL;
	if ((r = alloc_reader(file, lim, nodes_used, d)) == NULL) {
		diag_error(d, file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if ((rc = open_file(r, path)) != 0) {
		if (rc == -ENOMEM)
			diag_error(d, file, 0, 0, "out of memory");
		yread_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

static void
end_document(struct yread *r)
{
	free(r->log);
	r->log = NULL;
	r->n_log = r->log_cap = 0;
	arena_free(&r->doc);
	strmap_free(&r->anchors);
	strmap_init(&r->anchors);
	r->n_anch = 0;
	r->n_names = 0;
}

void
yread_close(struct yread *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->depth; i++) {
		if (r->frames[i].index != NULL) {
			strmap_free(r->frames[i].index);
			free(r->frames[i].index);
		}
	}
	free(r->frames);
	free(r->src);
	free(r->sbuf);
	end_document(r);
	free(r->anch);
	free(r->cur);
	arena_free(&r->scratch);
	if (r->parser_ok)
		yaml_parser_delete(&r->parser);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

/* ---- the walk ----------------------------------------------------------- */

static int
protocol(struct yread *r)
{
	return fail(r, -EPROTO);
}

int
yread_document(struct yread *r)
{
	struct item it;
	int rc;

	if (r->err != 0)
		return r->err;
	if (r->state == S_ROOT || (r->state == S_IN_DOC &&
	    (r->depth != 0 || r->expect_value || r->has_pending)))
		return protocol(r);
	if (r->state == S_IN_DOC) {
		if ((rc = live_item(r, &it)) != 0)
			return rc;
		if (it.type != I_DOC_END)
			return protocol(r);
		end_document(r);
		r->state = S_BETWEEN;
	}
	while (r->state != S_END) {
		if ((rc = live_item(r, &it)) != 0)
			return rc;
		if (it.type == I_DOC_START) {
			r->state = S_ROOT;
			r->expect_value = true;
			return 1;
		}
		if (it.type == I_STREAM_END)
			r->state = S_END;
		else
			return protocol(r);
	}
	return 0;
}

int
yread_value(struct yread *r, struct yread_node *n)
{
	struct item it;
	int rc;

	if (r->err != 0)
		return r->err;
	if (!r->expect_value)
		return protocol(r);
	if (r->has_pending) {
		it = r->pending;
		r->has_pending = false;
	} else if ((rc = next_item(r, &it)) != 0) {
		return rc;
	}
	r->expect_value = false;
	if (r->state == S_ROOT && it.type == I_DOC_END) {
		/* libyaml always gives a document a node; be safe anyway. */
		if ((rc = count_nodes(r, 1, it.line, it.col)) != 0)
			return rc;
		end_document(r);
		r->state = S_BETWEEN;
		memset(n, 0, sizeof(*n));
		n->kind = YTREE_SCALAR;
		n->stype = YTREE_NULL;
		n->line = it.line;
		n->col = it.col;
		n->value = "";
		return 0;
	}
	if (it.type != I_SCALAR && it.type != I_SEQ && it.type != I_MAP)
		return protocol(r);
	if (r->state == S_ROOT)
		r->state = S_IN_DOC;
	n->kind = it.type == I_SEQ ? YTREE_SEQ : it.type == I_MAP ? YTREE_MAP :
	    YTREE_SCALAR;
	n->stype = it.stype;
	n->bval = it.bval;
	n->line = it.line;
	n->col = it.col;
	n->value = it.type == I_SCALAR ? it.value : NULL;
	n->len = it.len;
	return 0;
}

int
yread_next_item(struct yread *r)
{
	const struct frame *f = top(r);
	struct item it;
	int rc;

	if (r->err != 0)
		return r->err;
	if (f == NULL || f->kind != YTREE_SEQ || r->expect_value)
		return protocol(r);
	if ((rc = next_item(r, &it)) != 0)
		return rc;
	if (it.type == I_END)
		return 0;
	r->pending = it;
	r->has_pending = true;
	r->expect_value = true;
	return 1;
}

/* A pair the mapping leaves out: its key was read (and, for a collection,
 * entered); the rest of the key and the value are read and checked, and a
 * recording jumps over them. */
static int
drop_pair(struct yread *r, size_t map_depth, const struct item *key)
{
	bool recorded = r->frames[map_depth - 1].recording &&
	    key->entry != NONE;
	int rc;

	if (recorded)
		r->log[key->entry].flags |= F_DROPPED;
	if ((key->type == I_SEQ || key->type == I_MAP) &&
	    (rc = yread_leave(r)) != 0)
		return rc;
	r->expect_value = true;
	if ((rc = yread_skip(r)) != 0)
		return rc;
	if (recorded)
		r->log[key->entry].jump = (uint32_t)r->n_log;
	return 0;
}

static void
set_key(struct yread_node *k, const struct item *it, const char *text)
{
	memset(k, 0, sizeof(*k));
	k->kind = YTREE_SCALAR;
	k->stype = it->stype;
	k->bval = it->bval;
	k->line = it->line;
	k->col = it->col;
	k->value = text;
	k->len = it->len;
}

int
yread_next_key(struct yread *r, struct yread_node *k)
{
	size_t map_depth = r->depth;
	char q[DIAG_QUOTE_MAX], msg[DIAG_QUOTE_MAX + 64];
	const struct keyrec *dup, *kept;
	struct frame *f = top(r);
	struct item it;
	int rc;

	if (r->err != 0)
		return r->err;
	if (f == NULL || f->kind != YTREE_MAP || r->expect_value)
		return protocol(r);
	if (!f->live) {
		/* A replayed mapping is clean: jump over what it dropped. */
		struct source *s = &r->src[r->n_src - 1];

		while (r->log[s->pos].flags & F_DROPPED)
			s->pos = r->log[s->pos].jump;
		if ((rc = next_item(r, &it)) != 0)
			return rc;
		if (it.type == I_END)
			return 0;
		if (it.type != I_SCALAR)
			return protocol(r);
		set_key(k, &it, it.value);
		r->expect_value = true;
		return 1;
	}
	for (;;) {
		if ((rc = next_item(r, &it)) != 0)
			return rc;
		if (it.type == I_END)
			return 0;
		f = &r->frames[map_depth - 1];
		if (it.type != I_SCALAR) {
			snprintf(msg, sizeof(msg), "a mapping key must be a scalar, "
			    "not %s", ytree_describe_kind(it.type == I_SEQ ?
			    YTREE_SEQ : YTREE_MAP, 0));
		} else if ((dup = find_key(f, it.value, it.len)) != NULL) {
			snprintf(msg, sizeof(msg), "duplicate key %s (first at "
			    "%d:%d)", diag_quote(q, sizeof(q), it.value, it.len),
			    dup->line, dup->col);
		} else {
			if ((rc = keep_key(r, f, &it, &kept)) != 0)
				return rc;
			set_key(k, &it, kept->text);
			r->expect_value = true;
			return 1;
		}
		/* Queued after the drop: a collection key's own scratch is
		 * released when it ends. */
		if ((rc = drop_pair(r, map_depth, &it)) != 0 ||
		    (rc = queue_error(r, &r->frames[map_depth - 1], it.line,
		    it.col, msg)) != 0)
			return rc;
	}
}

int
yread_skip(struct yread *r)
{
	struct yread_node n;
	int rc;

	if ((rc = yread_value(r, &n)) != 0)
		return rc;
	return n.kind == YTREE_SCALAR ? 0 : yread_leave(r);
}

int
yread_leave(struct yread *r)
{
	const struct frame *f = top(r);
	struct yread_node k;
	size_t depth = r->depth;
	int rc;

	if (r->err != 0)
		return r->err;
	if (f == NULL || r->expect_value)
		return protocol(r);
	if (f->kind == YTREE_SEQ) {
		while ((rc = yread_next_item(r)) > 0)
			if ((rc = yread_skip(r)) != 0)
				return rc;
	} else {
		while ((rc = yread_next_key(r, &k)) > 0)
			if ((rc = yread_skip(r)) != 0)
				return rc;
	}
	if (rc == 0 && r->depth != depth - 1)
		return protocol(r);
	return rc;
}

const char *
yread_describe(const struct yread_node *n)
{
	return ytree_describe_kind(n->kind, n->stype);
}
