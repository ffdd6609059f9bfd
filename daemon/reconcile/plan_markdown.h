/* plan_markdown.h: a plan as GitHub-flavoured Markdown, fit to paste into a
 * pull-request comment (SPEC section 13): a heading, the summary line, a
 * table of the changes (creates, updates, renames, deletes, env changes,
 * domains and keys), drift, blocked guards and pending domains, folded in
 * a <details> block when long, and bounded in size with an "N more" line.
 *
 * The rows are the lines of the text plan (plan_print.c, no colour), so
 * both say the same and nothing new can leak: no value of a secret ever
 * reaches them (env changes are names only; every output edge masks
 * registered secrets). Every character Markdown or HTML gives a meaning to
 * is backslash-escaped, so a project named "a|b", "<img src=x>" or
 * "`code`" cannot break the table, inject markup or close the block. */
#ifndef CP_PLAN_MARKDOWN_H
#define CP_PLAN_MARKDOWN_H

#include <stddef.h>

#include "buf.h"
#include "plan.h"

struct plan_markdown_opts {
	size_t max_rows;        /* rows shown at most; the rest are counted */
	size_t max_bytes;       /* the whole output stays within this */
	size_t fold_over;       /* more rows than this: in a <details> block */
};

/* The defaults: 200 rows, 60,000 bytes (a GitHub comment holds 65,536
 * characters), folded above 15 rows. */
#define PLAN_MARKDOWN_MAX_ROWS 200
#define PLAN_MARKDOWN_MAX_BYTES 60000
#define PLAN_MARKDOWN_FOLD_OVER 15
/* The smallest max_bytes accepted: room for the heading, the summary and
 * the closing lines. */
#define PLAN_MARKDOWN_MIN_BYTES 2048

/* Appends the Markdown of p (opts NULL: the defaults). 0, -ENOMEM, -E2BIG
 * (out's own maximum), or -EINVAL (max_bytes below the minimum). */
int plan_print_markdown(const struct plan *p, const struct plan_markdown_opts *opts,
    struct buf *out);

/* s[0..len) with every Markdown and HTML metacharacter backslash-escaped,
 * appended to out (tests; plan_print_markdown uses it for every cell). */
int plan_markdown_escape(struct buf *out, const char *s, size_t len);

#endif
