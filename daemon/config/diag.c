/* diag.c: collect diagnostics and print them as gcc does. */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textesc.h"

void
diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void
diag_free(struct diag *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].message);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

int
diag_addv(struct diag *d, enum diag_level level, const char *file, int line,
    int col, const char *fmt, va_list ap)
{
	struct diag_entry *e;
	char *msg = NULL;

	if (level == DIAG_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n >= DIAG_MAX)
		goto drop;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		struct diag_entry *p;

		if (ncap > DIAG_MAX)
			ncap = DIAG_MAX;
		p = realloc(d->items, ncap * sizeof(*p));
		if (p == NULL)
			goto nomem;
		d->items = p;
		d->cap = ncap;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		goto nomem;
	e = &d->items[d->n];
	e->level = level;
	e->line = line;
	e->col = col;
	e->message = msg;
	e->file = NULL;
	if (file != NULL && (e->file = strdup(file)) == NULL) {
		free(msg);
		goto nomem;
	}
	d->n++;
	return 0;
nomem:
	d->dropped++;
	return -ENOMEM;
drop:
	d->dropped++;
	return 0;
}

int
diag_error(struct diag *d, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = diag_addv(d, DIAG_ERROR, file, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

int
diag_warning(struct diag *d, const char *file, int line, int col,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = diag_addv(d, DIAG_WARNING, file, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

size_t
diag_errors(const struct diag *d)
{
	return d->n_errors;
}

void
diag_merge(struct diag *into, struct diag *from)
{
	size_t i = 0;

	if (from->n > 0 && into->n < DIAG_MAX) {
		size_t room = DIAG_MAX - into->n, take = from->n < room ? from->n : room;

		if (into->n + take > into->cap) {
			struct diag_entry *p = realloc(into->items,
			    (into->n + take) * sizeof(*p));

			if (p != NULL) {
				into->items = p;
				into->cap = into->n + take;
			} else {
				take = 0;
			}
		}
		memcpy(into->items + into->n, from->items, take * sizeof(*from->items));
		into->n += take;
		i = take;
	}
	/* What did not fit is dropped, as diag_addv drops past DIAG_MAX. */
	for (; i < from->n; i++) {
		free(from->items[i].file);
		free(from->items[i].message);
		into->dropped++;
	}
	into->n_errors += from->n_errors;
	into->n_warnings += from->n_warnings;
	into->dropped += from->dropped;
	free(from->items);
	memset(from, 0, sizeof(*from));
}

static int
before(const struct diag_entry *a, const struct diag_entry *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

void
diag_sort(struct diag *d, size_t from)
{
	/* Insertion sort: the entries arrive nearly in order, so this is
	 * close to linear, and it keeps equal positions in arrival order. */
	for (size_t i = from + 1; i < d->n; i++) {
		struct diag_entry e = d->items[i];
		size_t j = i;

		while (j > from && before(&e, &d->items[j - 1])) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = e;
	}
}

int
diag_format(const struct diag_entry *e, char *buf, size_t len)
{
	const char *lvl = e->level == DIAG_ERROR ? "error" : "warning";

	if (e->file == NULL)
		return snprintf(buf, len, "%s: %s", lvl, e->message);
	if (e->line <= 0)
		return snprintf(buf, len, "%s: %s: %s", e->file, lvl, e->message);
	return snprintf(buf, len, "%s:%d:%d: %s: %s", e->file, e->line, e->col,
	    lvl, e->message);
}

void
diag_print(const struct diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_entry *e = &d->items[i];
		const char *lvl = e->level == DIAG_ERROR ? "error" : "warning";

		/* Printed directly: a message has no length limit here. A file
		 * name (or anything a message quotes unquoted) may hold control
		 * characters: escaped, as every output is (textesc.h). */
		if (e->file != NULL) {
			textesc_file(f, e->file, strlen(e->file), 0);
			if (e->line > 0)
				fprintf(f, ":%d:%d", e->line, e->col);
			fputs(": ", f);
		}
		fprintf(f, "%s: ", lvl);
		textesc_file(f, e->message, strlen(e->message), 0);
		fputc('\n', f);
	}
	if (d->dropped > 0)
		fprintf(f, "note: %zu more diagnostics not shown\n", d->dropped);
}

#define QUOTE_CUT 64

char *
diag_quote(char *buf, size_t buflen, const char *s, size_t len)
{
	size_t o = 0, i, n = len, k;
	unsigned cp;
	int cut = 0;

	if (buflen < 16) {
		if (buflen > 0)
			buf[0] = '\0';
		return buf;
	}
	if (n > QUOTE_CUT) {
		n = QUOTE_CUT;
		/* Never end in the middle of a UTF-8 sequence. */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		cut = 1;
	}
	buf[o++] = '"';
	for (i = 0; i < n && o + 12 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c == '\t') {
			buf[o++] = '\\';
			buf[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
		} else if (c < 0x80) {
			buf[o++] = (char)c;
		} else if ((k = textesc_utf8_len((const unsigned char *)s + i,
		    n - i, &cp)) == 0) {
			/* Not UTF-8: a stray 0x9b is a CSI to many terminals. */
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
		} else if (cp <= 0x9f) {
			/* C1 controls (U+0080..U+009F) drive terminals too. */
			o += (size_t)snprintf(buf + o, buflen - o, "\\u%04x", cp);
			i += k - 1;
		} else {
			memcpy(buf + o, s + i, k);
			o += k;
			i += k - 1;
		}
	}
	if (i < n)
		cut = 1;
	buf[o++] = '"';
	if (cut && o + 4 <= buflen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
