/* yread.h: a YAML file read as a stream of nodes, under the limits of
 * ytree.h (file size, nesting depth, node count with aliases counted as
 * expanded) and with its errors (duplicate keys, non-scalar keys, tags,
 * anchors, encoding), but without a tree: the caller walks the nodes as
 * libyaml's events arrive and keeps what it needs. Only anchored nodes
 * are recorded (compactly, until their document ends) so that an alias can
 * be replayed; an alias is charged its whole size when it is met, so a
 * "billion laughs" file fails on its first lines.
 *
 * The walk, for each document:
 *
 *	while ((rc = yread_document(r)) > 0) {
 *		yread_value(r, &n);              the root
 *		... a mapping:  while (yread_next_key(r, &k) > 0) yread_value or
 *		                yread_skip for the value;
 *		    a list:     while (yread_next_item(r) > 0) yread_value or
 *		                yread_skip;
 *		    or yread_leave(r) to skip the rest of the collection.
 *	}
 *
 * Every call returns 0 (or 1/0 as above), or a negative errno once the
 * input cannot be read further; that error is already in the diagnostics
 * and every later call returns it again. A mapping's duplicate keys and
 * non-scalar keys are reported (when the mapping ends, as ytree does) and
 * never shown to the caller: the first of two equal keys wins. */
#ifndef CP_YREAD_H
#define CP_YREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "ytree.h"

struct diag;
struct yread;

/* One node as the walk meets it. */
struct yread_node {
	unsigned char kind;      /* enum ytree_kind */
	unsigned char stype;     /* enum ytree_stype, scalars only */
	bool bval;               /* YTREE_BOOL: its value */
	int line;                /* 1-based; through an alias: the anchored node's */
	int col;
	/* Scalars: NUL-terminated (it may hold NULs: compare len). A value
	 * stays valid until the next call; a key until its mapping ends. */
	const char *value;
	size_t len;
};

/* Opens a regular file of at most lim->max_bytes (lim NULL: the defaults);
 * `file` names it in diagnostics, `nodes_used` carries the node budget
 * across files (NULL: this file alone). Returns 0, or with the problem
 * reported: -EFBIG (too large), -EINVAL (not a regular file), -EBADMSG
 * (UTF-16), -errno (cannot read), -E2BIG (the budget ran out before; not
 * reported again), -ENOMEM. *out is NULL on failure. */
int yread_open(struct yread **out, const char *path, const char *file,
    const struct ytree_limits *lim, size_t *nodes_used, struct diag *d);
/* The same over len bytes in memory (kept by the caller until the close). */
int yread_open_mem(struct yread **out, const char *file, const char *data,
    size_t len, const struct ytree_limits *lim, size_t *nodes_used,
    struct diag *d);
void yread_close(struct yread *r);      /* accepts NULL */

/* 1: a document starts (read its root with yread_value); 0: no more. */
int yread_document(struct yread *r);
/* Reads the next node (a root, an item, a value). A collection is entered:
 * walk it with yread_next_item / yread_next_key, or yread_leave it. */
int yread_value(struct yread *r, struct yread_node *n);
/* In a list: 1 when an item follows (read it next), 0 at the end. */
int yread_next_item(struct yread *r);
/* In a mapping: 1 and the next key (a scalar, unique in its mapping) whose
 * value is to be read next, or 0 at the end. */
int yread_next_key(struct yread *r, struct yread_node *key);
/* Skips the next node (a value or an item), checking it all the same. */
int yread_skip(struct yread *r);
/* Skips the rest of the collection last entered, and leaves it. */
int yread_leave(struct yread *r);

/* "a string", "a number", "a boolean", "null", "a list", "a mapping". */
const char *yread_describe(const struct yread_node *n);

#endif
