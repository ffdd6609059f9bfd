/* diag.h: a list of diagnostics (file, line, column, message) collected by
 * the loaders and printed gcc style, so one run reports every error. */
#ifndef CP_DIAG_H
#define CP_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "log.h"

enum diag_level { DIAG_ERROR = 0, DIAG_WARNING };

struct diag_entry {
	enum diag_level level;
	char *file;       /* NULL: no file (printed as "error: ...") */
	int line;         /* 0: the whole file, no position */
	int col;
	char *message;
};

/* Past DIAG_MAX entries only the counters grow, so a pathological input
 * cannot make the list itself unbounded. */
#define DIAG_MAX 10000

struct diag {
	struct diag_entry *items;
	size_t n;
	size_t cap;
	size_t n_errors;     /* all errors, kept or dropped */
	size_t n_warnings;
	size_t dropped;      /* entries not kept (DIAG_MAX reached or ENOMEM) */
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);          /* accepts NULL; leaves it empty */

/* Both count the entry even when it cannot be stored. 0 or -ENOMEM. */
int diag_error(struct diag *d, const char *file, int line, int col,
    const char *fmt, ...) CP_PRINTF(5, 6);
int diag_warning(struct diag *d, const char *file, int line, int col,
    const char *fmt, ...) CP_PRINTF(5, 6);
int diag_addv(struct diag *d, enum diag_level level, const char *file,
    int line, int col, const char *fmt, va_list ap) CP_PRINTF(6, 0);

size_t diag_errors(const struct diag *d);
/* Moves every entry of `from` to the end of `into` (past DIAG_MAX only
 * counted, as if added there) and adds its counters; `from` is left
 * empty. For diagnostics held back until their input proved readable. */
void diag_merge(struct diag *into, struct diag *from);
/* Stable sort of the entries from index `from` on by line and column, so
 * the errors of one file read top to bottom whatever check found them. */
void diag_sort(struct diag *d, size_t from);

/* "FILE:LINE:COL: error: MESSAGE" (or "FILE: error: ..." without a
 * position); returns what snprintf returns. */
int diag_format(const struct diag_entry *e, char *buf, size_t len);
/* Every entry, one per line, then a note about dropped ones. */
void diag_print(const struct diag *d, FILE *f);

/* Writes s (len bytes) double-quoted into buf, escaping quotes, backslashes,
 * control and non-ASCII-unsafe bytes, and cutting it short with "..." past
 * 64 bytes, so a message never carries raw terminal escapes. Returns buf. */
char *diag_quote(char *buf, size_t buflen, const char *s, size_t len);
#define DIAG_QUOTE_MAX 300   /* enough room for any quoted value */

#endif
