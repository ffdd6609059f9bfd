/* promcheck.h: a strict reader of the Prometheus text exposition format
 * 0.0.4 for tests: it rejects what a scraper would reject and more (HELP and
 * TYPE must precede every family's samples), and lets a test read values. */
#ifndef CP_PROMCHECK_H
#define CP_PROMCHECK_H

#include <stddef.h>

struct prom_label {
	char *name;
	char *value;             /* unescaped */
};

struct prom_sample {
	char *name;              /* as written: x_bucket, x_sum, ... */
	struct prom_label *labels;
	size_t nlabels;
	double value;
	int line;
};

struct prom_family {
	char *name;
	char *type;              /* counter, gauge, histogram, summary, untyped */
	char *help;              /* unescaped */
	struct prom_sample *samples;
	size_t n;
};

struct prom_doc {
	struct prom_family *fam;
	size_t n;
};

/* 0 when `text` is well formed; -1 with "line N: why" in err otherwise (the
 * document is then empty). Checks: lines end in \n; HELP at most once and
 * TYPE exactly once per family, both before its first sample; a family's
 * lines are contiguous; metric and label names valid, label values quoted
 * with only \\ \" \n escapes, no duplicate label or series; values parse;
 * counters are not negative; histograms: _bucket with le, le increasing,
 * counts cumulative, a last +Inf bucket equal to _count, and a _sum. */
int promcheck_parse(const char *text, struct prom_doc *doc, char *err,
    size_t errlen);
void promcheck_free(struct prom_doc *doc);

const struct prom_family *promcheck_family(const struct prom_doc *doc,
    const char *name);
/* The value of one series, written as in the format: `name` or
 * `name{a="x",b="y"}` (labels in any order). 0, or -1 if absent. */
int promcheck_value(const struct prom_doc *doc, const char *series,
    double *out);

#endif
