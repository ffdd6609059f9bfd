/* yparity.h: the same text through ytree (a tree) and yread (a walk): both
 * must report the same diagnostics in the same order, end with the same
 * result and, when the text is usable, show the same nodes (kinds, types,
 * positions, values, aliases expanded). Used by test_yread and by the
 * fuzz_desired target, so the streaming reader is held to the tree's
 * behaviour on every input either of them tries. Header only. */
#ifndef CP_YPARITY_H
#define CP_YPARITY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "yread.h"
#include "ytree.h"

#define YPARITY_MAX ((size_t)64 << 20)

static inline void
yparity_scalar(struct buf *b, unsigned kind, unsigned stype, int bval,
    int line, int col, const char *v, size_t len)
{
	buf_appendf(b, "%u.%u.%d@%d:%d", kind, stype, bval, line, col);
	if (v != NULL) {
		buf_appendf(b, "=%zu:", len);
		buf_append(b, v, len);
	}
	buf_append(b, "\n", 1);
}

static inline void
yparity_tree(struct buf *b, const struct ytree_node *n)
{
	yparity_scalar(b, n->kind, n->kind == YTREE_SCALAR ? n->stype : 0,
	    n->kind == YTREE_SCALAR ? n->bval : 0, n->line, n->col,
	    n->kind == YTREE_SCALAR ? n->value : NULL, n->len);
	if (n->kind == YTREE_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			yparity_tree(b, n->items[i]);
	} else if (n->kind == YTREE_MAP) {
		for (size_t i = 0; i < n->n; i++) {
			yparity_tree(b, YTREE_KEY(n, i));
			yparity_tree(b, YTREE_VALUE(n, i));
		}
	}
	if (n->kind != YTREE_SCALAR)
		buf_append(b, "end\n", 4);
}

static inline int
yparity_walk(struct yread *r, struct buf *b)
{
	struct yread_node n, k;
	int rc;

	if ((rc = yread_value(r, &n)) != 0)
		return rc;
	yparity_scalar(b, n.kind, n.kind == YTREE_SCALAR ? n.stype : 0,
	    n.kind == YTREE_SCALAR ? n.bval : 0, n.line, n.col,
	    n.kind == YTREE_SCALAR ? n.value : NULL, n.len);
	if (n.kind == YTREE_SEQ) {
		while ((rc = yread_next_item(r)) > 0)
			if ((rc = yparity_walk(r, b)) != 0)
				return rc;
	} else if (n.kind == YTREE_MAP) {
		while ((rc = yread_next_key(r, &k)) > 0) {
			yparity_scalar(b, k.kind, k.stype, k.bval, k.line, k.col,
			    k.value, k.len);
			if ((rc = yparity_walk(r, b)) != 0)
				return rc;
		}
	}
	if (rc == 0 && n.kind != YTREE_SCALAR)
		buf_append(b, "end\n", 4);
	return rc;
}

static inline void
yparity_diags(struct buf *b, const struct diag *d)
{
	char line[4096];

	for (size_t i = 0; i < d->n; i++) {
		diag_format(&d->items[i], line, sizeof(line));
		buf_appendf(b, "%s\n", line);
	}
}

/* NULL when both agree, else a description of the difference (freed by
 * the caller). */
static inline char *
yparity_check(const char *text, size_t len, const struct ytree_limits *lim)
{
	struct buf tb, wb, td, wd;
	struct diag d1, d2;
	struct ytree t;
	struct yread *r;
	char *out = NULL;
	int rc1, rc2;

	buf_init(&tb, YPARITY_MAX);
	buf_init(&wb, YPARITY_MAX);
	buf_init(&td, YPARITY_MAX);
	buf_init(&wd, YPARITY_MAX);
	diag_init(&d1);
	diag_init(&d2);
	rc1 = ytree_parse(&t, "t.yaml", text, len, lim, NULL, &d1);
	if (rc1 == 0)
		for (size_t i = 0; i < t.n_docs; i++)
			yparity_tree(&tb, t.docs[i]);
	ytree_free(&t);
	rc2 = yread_open_mem(&r, "t.yaml", text, len, lim, NULL, &d2);
	while (rc2 == 0) {
		rc2 = yread_document(r);
		if (rc2 <= 0)
			break;
		rc2 = yparity_walk(r, &wb);
	}
	yread_close(r);
	yparity_diags(&td, &d1);
	yparity_diags(&wd, &d2);
	/* A failed parse leaves no tree, while the walk got somewhere. */
	if (rc1 != rc2 || strcmp(td.data ? td.data : "", wd.data ? wd.data : "")
	    != 0 || (rc1 == 0 && strcmp(tb.data ? tb.data : "",
	    wb.data ? wb.data : "") != 0)) {
		if (asprintf(&out, "ytree rc %d, yread rc %d\n-- ytree diags:\n%s"
		    "-- yread diags:\n%s-- ytree nodes:\n%.2000s\n-- yread nodes:\n"
		    "%.2000s\n", rc1, rc2, td.data ? td.data : "",
		    wd.data ? wd.data : "", tb.data ? tb.data : "",
		    wb.data ? wb.data : "") < 0)
			out = strdup("difference (and no memory to say more)");
	}
	buf_free(&tb);
	buf_free(&wb);
	buf_free(&td);
	buf_free(&wd);
	diag_free(&d1);
	diag_free(&d2);
	return out;
}

#endif
