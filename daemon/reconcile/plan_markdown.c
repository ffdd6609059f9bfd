/* plan_markdown.c: the plan as a pull-request comment (plan_markdown.h):
 * the text plan's lines (plan_print_text, items only) put in a table, one
 * row each, with the sign in its own column. */
#include "plan_markdown.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "plan_print.h"

#define PUT(b, lit) buf_append((b), (lit), sizeof(lit) - 1)

/* Room kept for what follows the last row: the "N more" row, the end of
 * the details block, the hint. */
#define TAIL_RESERVE 512

/* CommonMark lets any ASCII punctuation be escaped with a backslash; these
 * are the ones that mean something in a table cell: emphasis, code, links,
 * HTML, the cell separator, strikethrough, math, mentions, references. */
static const char special[] = "\\`*_{}[]<>()#+!|~@&$:";

int
plan_markdown_escape(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;
	int rc;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0' || strchr(special, s[i]) == NULL)
			continue;
		if ((rc = buf_append(out, s + start, i - start)) ||
		    (rc = buf_append(out, "\\", 1)) ||
		    (rc = buf_append(out, s + i, 1)))
			return rc;
		start = i + 1;
	}
	return buf_append(out, s + start, len - start);
}

static size_t
count_lines(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

/* One row: "| `+` | create project \"shop\" |". The text line starts with
 * its sign and a space ("+ ", "- ", "~ ", "! ", "? "). */
static int
put_row(struct buf *out, const char *line, size_t len)
{
	int rc;

	if (len >= 2 && line[1] == ' ') {
		if ((rc = buf_appendf(out, "| `%c` | ", line[0])))
			return rc;
		line += 2;
		len -= 2;
	} else if ((rc = PUT(out, "| | "))) {
		return rc;
	}
	if ((rc = plan_markdown_escape(out, line, len)))
		return rc;
	return PUT(out, " |\n");
}

static int
put_summary(struct buf *out, const struct plan *p)
{
	struct buf s;
	int rc;

	buf_init(&s, 4096);
	if ((rc = plan_print_summary(p, NULL, &s)) == 0) {
		while (s.len > 0 && s.data[s.len - 1] == '\n')
			s.len--;
		if (!(rc = PUT(out, "**")) &&
		    !(rc = plan_markdown_escape(out, s.data, s.len)))
			rc = PUT(out, "**\n");
	}
	buf_free(&s);
	return rc;
}

/* The rows from the item lines, within the limits; *shown rows written. */
static int
put_rows(struct buf *out, const char *items, size_t len, size_t limit_bytes,
    size_t max_rows, size_t *shown)
{
	struct buf row;
	const char *p = items, *end = items + len;
	int rc = 0;

	buf_init(&row, 1u << 20);
	*shown = 0;
	while (p < end && *shown < max_rows) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		buf_reset(&row);
		if ((rc = put_row(&row, p, n)))
			break;
		if (out->len + row.len > limit_bytes)
			break;
		if ((rc = buf_append(out, row.data, row.len)))
			break;
		(*shown)++;
		p += n + (nl != NULL);
	}
	buf_free(&row);
	return rc;
}

int
plan_print_markdown(const struct plan *p, const struct plan_markdown_opts *opts,
    struct buf *out)
{
	struct plan_markdown_opts o = {
		PLAN_MARKDOWN_MAX_ROWS, PLAN_MARKDOWN_MAX_BYTES, PLAN_MARKDOWN_FOLD_OVER,
	};
	struct buf items;
	size_t start = out->len, total, shown = 0;
	bool fold;
	int rc;

	if (opts != NULL)
		o = *opts;
	if (o.max_bytes < PLAN_MARKDOWN_MIN_BYTES)
		return -EINVAL;
	buf_init(&items, 256u << 20);
	if ((rc = plan_print_text(p, NULL, PLAN_PRINT_ITEMS, &items)) != 0) {
		buf_free(&items);
		return rc;
	}
	total = count_lines(items.data, items.len);
	fold = total > o.fold_over;
	if ((rc = PUT(out, "#### convex-provisioner plan\n\n")) ||
	    (rc = put_summary(out, p)))
		goto out;
	if (p->n_blocked > 0 && (rc = buf_appendf(out, "\n> [!WARNING]\n> %zu "
	    "item%s blocked by a guard: what it holds back will not be done "
	    "(docs/safety.md).\n", p->n_blocked, p->n_blocked == 1 ? " is" : "s are")))
		goto out;
	if (total == 0)
		goto out;
	if (fold && (rc = buf_appendf(out, "\n<details><summary>%zu line%s of "
	    "changes, drift and guards</summary>\n", total, total == 1 ? "" : "s")))
		goto out;
	if ((rc = PUT(out, "\n| | Change |\n|:-:|---|\n")))
		goto out;
	if ((rc = put_rows(out, items.data, items.len,
	    start + o.max_bytes - TAIL_RESERVE, o.max_rows, &shown)))
		goto out;
	if (shown < total && (rc = buf_appendf(out, "| | *... and %zu more: run "
	    "convex-provisioner plan for the whole plan* |\n", total - shown)))
		goto out;
	if (fold)
		rc = PUT(out, "\n</details>\n");
out:
	buf_free(&items);
	return rc;
}
