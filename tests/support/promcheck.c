/* promcheck.c: strict parser of the Prometheus text format for the tests. */
#include "promcheck.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_FAMILY ((size_t)-1)

struct parser {
	struct prom_doc *doc;
	size_t cur;                  /* index of the family whose lines we are in */
	bool *closed;                /* per family: its lines have ended */
	int line;
	char *err;
	size_t errlen;
};

static int
fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "line %d: ", p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void
xfree_sample(struct prom_sample *s)
{
	for (size_t i = 0; i < s->nlabels; i++) {
		free(s->labels[i].name);
		free(s->labels[i].value);
	}
	free(s->labels);
	free(s->name);
}

void
promcheck_free(struct prom_doc *doc)
{
	if (doc == NULL)
		return;
	for (size_t i = 0; i < doc->n; i++) {
		struct prom_family *f = &doc->fam[i];

		for (size_t j = 0; j < f->n; j++)
			xfree_sample(&f->samples[j]);
		free(f->samples);
		free(f->name);
		free(f->type);
		free(f->help);
	}
	free(doc->fam);
	doc->fam = NULL;
	doc->n = 0;
}

static bool
name_start(char c, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (colon && c == ':');
}

static bool
name_char(char c, bool colon)
{
	return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* Reads a metric (colon allowed) or label name at *s; a malloc'd copy. */
static char *
read_name(const char **s, bool colon)
{
	const char *b = *s;
	char *out;

	if (!name_start(**s, colon))
		return NULL;
	while (name_char(**s, colon))
		(*s)++;
	if ((out = malloc((size_t)(*s - b) + 1)) == NULL)
		abort();
	memcpy(out, b, (size_t)(*s - b));
	out[*s - b] = '\0';
	return out;
}

static bool
parse_value(const char *s, size_t len, double *out)
{
	char tmp[64], *end;

	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (strcmp(tmp, "+Inf") == 0 || strcmp(tmp, "Inf") == 0) {
		*out = INFINITY;
		return true;
	}
	if (strcmp(tmp, "-Inf") == 0) {
		*out = -INFINITY;
		return true;
	}
	if (strcmp(tmp, "NaN") == 0) {
		*out = NAN;
		return true;
	}
	/* strtod also takes hex, "inf" and "nan(...)": the format does not */
	for (size_t i = 0; i < len; i++)
		if (strchr("0123456789.eE+-", tmp[i]) == NULL)
			return false;
	*out = strtod(tmp, &end);
	return end == tmp + len;
}

static struct prom_family *
family_find(struct prom_doc *doc, const char *name)
{
	for (size_t i = 0; i < doc->n; i++)
		if (strcmp(doc->fam[i].name, name) == 0)
			return &doc->fam[i];
	return NULL;
}

static struct prom_family *
family_add(struct parser *p, const char *name)
{
	struct prom_doc *d = p->doc;
	struct prom_family *f;

	d->fam = realloc(d->fam, (d->n + 1) * sizeof(*d->fam));
	p->closed = realloc(p->closed, (d->n + 1) * sizeof(*p->closed));
	if (d->fam == NULL || p->closed == NULL)
		abort();
	f = &d->fam[d->n];
	memset(f, 0, sizeof(*f));
	if ((f->name = strdup(name)) == NULL)
		abort();
	p->closed[d->n] = false;
	d->n++;
	return f;
}

/* Enters family `name` (creating it): the family must not have ended. */
static int
enter(struct parser *p, const char *name, struct prom_family **out)
{
	struct prom_family *f = family_find(p->doc, name);
	size_t i;

	if (f == NULL)
		f = family_add(p, name);      /* may move doc->fam */
	i = (size_t)(f - p->doc->fam);
	if (p->cur != i) {
		if (p->closed[i])
			return fail(p, "lines of %s are not contiguous", name);
		if (p->cur != NO_FAMILY)
			p->closed[p->cur] = true;
		p->cur = i;
	}
	*out = f;
	return 0;
}

static int
unescape(struct parser *p, const char *b, size_t len, bool quote, char **out)
{
	char *o = malloc(len + 1), *w = o;

	if (o == NULL)
		abort();
	for (size_t i = 0; i < len; i++) {
		if (b[i] != '\\') {
			*w++ = b[i];
			continue;
		}
		if (++i == len) {
			free(o);
			return fail(p, "backslash at end of text");
		}
		if (b[i] == '\\')
			*w++ = '\\';
		else if (b[i] == 'n')
			*w++ = '\n';
		else if (quote && b[i] == '"')
			*w++ = '"';
		else {
			free(o);
			return fail(p, "invalid escape \\%c", b[i]);
		}
	}
	*w = '\0';
	*out = o;
	return 0;
}

static int
parse_comment(struct parser *p, const char *s, const char *end)
{
	struct prom_family *f;
	bool help;
	char *name;
	int rc;

	if (end - s >= 7 && strncmp(s, "# HELP ", 7) == 0)
		help = true;
	else if (end - s >= 7 && strncmp(s, "# TYPE ", 7) == 0)
		help = false;
	else
		return 0;                 /* a plain comment */
	s += 7;
	if ((name = read_name(&s, true)) == NULL)
		return fail(p, "invalid metric name in %s", help ? "HELP" : "TYPE");
	rc = enter(p, name, &f);
	free(name);
	if (rc != 0)
		return rc;
	if (f->n > 0)
		return fail(p, "%s of %s after its samples", help ? "HELP" : "TYPE",
		    f->name);
	if (help) {
		if (f->help != NULL)
			return fail(p, "second HELP for %s", f->name);
		if (s < end && *s++ != ' ')
			return fail(p, "HELP name not followed by a space");
		return unescape(p, s, (size_t)(end - s), false, &f->help);
	}
	if (f->type != NULL)
		return fail(p, "second TYPE for %s", f->name);
	if (s >= end || *s++ != ' ')
		return fail(p, "TYPE without a type");
	{
		static const char *types[] = { "counter", "gauge", "histogram",
		    "summary", "untyped" };
		size_t len = (size_t)(end - s);

		for (size_t i = 0; i < 5; i++) {
			if (strlen(types[i]) == len && strncmp(types[i], s, len) == 0) {
				if ((f->type = strdup(types[i])) == NULL)
					abort();
				return 0;
			}
		}
	}
	return fail(p, "unknown TYPE \"%.*s\"", (int)(end - s), s);
}

static const char *
suffix_of(const char *name, const char *base)
{
	size_t bl = strlen(base);

	if (strncmp(name, base, bl) != 0)
		return NULL;
	return name + bl;
}

/* The family a sample belongs to: histogram and summary samples carry a
 * suffix; the family is the one already declared under the base name. */
static struct prom_family *
owner(struct prom_doc *doc, const char *name)
{
	static const char *sfx[] = { "_bucket", "_sum", "_count" };
	size_t nl = strlen(name);

	for (size_t i = 0; i < 3; i++) {
		size_t sl = strlen(sfx[i]);
		char base[256];
		struct prom_family *f;

		if (nl <= sl || nl - sl >= sizeof(base) ||
		    strcmp(name + nl - sl, sfx[i]) != 0)
			continue;
		memcpy(base, name, nl - sl);
		base[nl - sl] = '\0';
		f = family_find(doc, base);
		if (f != NULL && f->type != NULL &&
		    (strcmp(f->type, "histogram") == 0 || strcmp(f->type, "summary") == 0))
			return f;
	}
	return family_find(doc, name);
}

static const char *
label_get(const struct prom_sample *s, const char *name)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return NULL;
}

/* Same name and same labels (in any order), optionally ignoring `skip`. */
static bool
same_series(const struct prom_sample *a, const struct prom_sample *b,
    bool names, const char *skip)
{
	size_t na = 0, nb = 0;

	if (names && strcmp(a->name, b->name) != 0)
		return false;
	for (size_t i = 0; i < a->nlabels; i++) {
		const char *v;

		if (skip && strcmp(a->labels[i].name, skip) == 0)
			continue;
		na++;
		if ((v = label_get(b, a->labels[i].name)) == NULL ||
		    strcmp(v, a->labels[i].value) != 0)
			return false;
	}
	for (size_t i = 0; i < b->nlabels; i++)
		if (!(skip && strcmp(b->labels[i].name, skip) == 0))
			nb++;
	return na == nb;
}

/* name{labels} value [timestamp] into *s; the caller frees it. */
static int
parse_sample_text(struct parser *p, const char *s, const char *end,
    struct prom_sample *out)
{
	const char *v;

	memset(out, 0, sizeof(*out));
	out->line = p->line;
	if ((out->name = read_name(&s, true)) == NULL)
		return fail(p, "invalid metric name");
	if (s < end && *s == '{') {
		s++;
		while (s < end && *s != '}') {
			struct prom_label l;
			const char *b;

			if ((l.name = read_name(&s, false)) == NULL)
				return fail(p, "invalid label name");
			if (strncmp(l.name, "__", 2) == 0 || label_get(out, l.name)) {
				fail(p, "reserved or repeated label %s", l.name);
				free(l.name);
				return -1;
			}
			if (s + 1 >= end || s[0] != '=' || s[1] != '"') {
				free(l.name);
				return fail(p, "label without =\"value\"");
			}
			s += 2;
			for (b = s; s < end && *s != '"'; s++)
				if (*s == '\\')
					s++;
			if (s >= end) {
				free(l.name);
				return fail(p, "unterminated label value");
			}
			if (unescape(p, b, (size_t)(s - b), true, &l.value) != 0) {
				free(l.name);
				return -1;
			}
			s++;
			out->labels = realloc(out->labels,
			    (out->nlabels + 1) * sizeof(*out->labels));
			if (out->labels == NULL)
				abort();
			out->labels[out->nlabels++] = l;
			if (s < end && *s == ',')
				s++;
			else if (s < end && *s != '}')
				return fail(p, "expected , or } after a label");
		}
		if (s >= end)
			return fail(p, "unterminated label set");
		s++;
	}
	if (s >= end || *s != ' ')
		return fail(p, "expected a space before the value");
	while (s < end && *s == ' ')
		s++;
	for (v = s; s < end && *s != ' '; s++)
		;
	if (!parse_value(v, (size_t)(s - v), &out->value))
		return fail(p, "invalid value \"%.*s\"", (int)(s - v), v);
	while (s < end && *s == ' ')
		s++;
	if (s < end) {                /* a timestamp: an integer, in ms */
		const char *t = s;

		if (*s == '-')
			s++;
		while (s < end && *s >= '0' && *s <= '9')
			s++;
		if (s == t || s != end)
			return fail(p, "invalid timestamp");
	}
	return 0;
}

static int
check_sample(struct parser *p, struct prom_family *f, const struct prom_sample *s)
{
	const char *sfx = suffix_of(s->name, f->name);

	if (f->help == NULL)
		return fail(p, "sample of %s before its HELP", f->name);
	if (f->type == NULL)
		return fail(p, "sample of %s before its TYPE", f->name);
	for (size_t i = 0; i < f->n; i++)
		if (same_series(&f->samples[i], s, true, NULL))
			return fail(p, "repeated series of %s", s->name);
	if (strcmp(f->type, "histogram") == 0) {
		if (strcmp(sfx, "_bucket") == 0) {
			double le;
			const char *v = label_get(s, "le");

			if (v == NULL || !parse_value(v, strlen(v), &le) || isnan(le))
				return fail(p, "bucket without a valid le");
		} else if (strcmp(sfx, "_sum") == 0 || strcmp(sfx, "_count") == 0) {
			if (label_get(s, "le") != NULL)
				return fail(p, "le on %s", s->name);
		} else
			return fail(p, "histogram sample %s without _bucket, _sum or _count",
			    s->name);
		if (strcmp(sfx, "_sum") != 0 && !(s->value >= 0))
			return fail(p, "negative or NaN count in %s", s->name);
		return 0;
	}
	if (strcmp(f->type, "summary") == 0)
		return 0;
	if (*sfx != '\0')
		return fail(p, "sample %s in family %s", s->name, f->name);
	if (strcmp(f->type, "counter") == 0 && !(s->value >= 0))
		return fail(p, "counter %s negative or NaN", s->name);
	return 0;
}

static int
parse_sample(struct parser *p, const char *s, const char *end)
{
	struct prom_sample smp;
	struct prom_family *f, *cur;

	if (parse_sample_text(p, s, end, &smp) != 0) {
		xfree_sample(&smp);
		return -1;
	}
	if ((f = owner(p->doc, smp.name)) == NULL) {
		fail(p, "sample %s without HELP and TYPE", smp.name);
		xfree_sample(&smp);
		return -1;
	}
	if (enter(p, f->name, &cur) != 0 || check_sample(p, cur, &smp) != 0) {
		xfree_sample(&smp);
		return -1;
	}
	cur->samples = realloc(cur->samples, (cur->n + 1) * sizeof(*cur->samples));
	if (cur->samples == NULL)
		abort();
	cur->samples[cur->n++] = smp;
	return 0;
}

/* Per label set (le aside): buckets in increasing le, cumulative, the last
 * at +Inf, equal to _count; a _sum. */
static int
check_histogram(struct parser *p, const struct prom_family *f)
{
	const char *name = f->name;

	for (size_t i = 0; i < f->n; i++) {
		const struct prom_sample *first = &f->samples[i];
		double prev_le = -INFINITY, prev_v = 0, last_le = NAN, last_v = 0;
		bool seen_group = false, has_sum = false, has_count = false;
		double count = 0;
		size_t nb = 0;

		for (size_t j = 0; j < i; j++)
			if (same_series(&f->samples[j], first, false, "le"))
				seen_group = true;
		if (seen_group)
			continue;
		p->line = first->line;
		for (size_t j = i; j < f->n; j++) {
			const struct prom_sample *s = &f->samples[j];
			const char *sfx = suffix_of(s->name, f->name);

			if (!same_series(s, first, false, "le"))
				continue;
			if (strcmp(sfx, "_bucket") == 0) {
				double le;
				const char *v = label_get(s, "le");

				parse_value(v, strlen(v), &le);
				if (!(le > prev_le) || s->value < prev_v) {
					p->line = s->line;
					return fail(p, "%s buckets not increasing", f->name);
				}
				prev_le = last_le = le;
				prev_v = last_v = s->value;
				nb++;
			} else if (strcmp(sfx, "_sum") == 0)
				has_sum = true;
			else {
				has_count = true;
				count = s->value;
			}
		}
		if (nb == 0 || !isinf(last_le) || last_le < 0)
			return fail(p, "%s: no +Inf bucket", name);
		if (!has_sum || !has_count)
			return fail(p, "%s: _sum or _count missing", name);
		if (count != last_v)
			return fail(p, "%s: +Inf bucket %g differs from _count %g", name,
			    last_v, count);
	}
	return 0;
}

int
promcheck_parse(const char *text, struct prom_doc *doc, char *err,
    size_t errlen)
{
	struct parser p = { doc, NO_FAMILY, NULL, 0, err, errlen };
	const char *s = text;
	int rc = 0;

	doc->fam = NULL;
	doc->n = 0;
	while (*s != '\0' && rc == 0) {
		const char *end = strchr(s, '\n');

		p.line++;
		if (end == NULL) {
			rc = fail(&p, "last line does not end in a newline");
			break;
		}
		if (memchr(s, '\r', (size_t)(end - s)) != NULL)
			rc = fail(&p, "carriage return");
		else if (end == s)
			;                     /* empty lines are allowed */
		else if (*s == '#')
			rc = parse_comment(&p, s, end);
		else
			rc = parse_sample(&p, s, end);
		s = end + 1;
	}
	for (size_t i = 0; i < doc->n && rc == 0; i++)
		if (doc->fam[i].type && strcmp(doc->fam[i].type, "histogram") == 0)
			rc = check_histogram(&p, &doc->fam[i]);
	free(p.closed);
	if (rc != 0)
		promcheck_free(doc);
	return rc;
}

const struct prom_family *
promcheck_family(const struct prom_doc *doc, const char *name)
{
	for (size_t i = 0; i < doc->n; i++)
		if (strcmp(doc->fam[i].name, name) == 0)
			return &doc->fam[i];
	return NULL;
}

int
promcheck_value(const struct prom_doc *doc, const char *series, double *out)
{
	struct parser p = { NULL, NO_FAMILY, NULL, 0, NULL, 0 };
	char errbuf[128], *line;
	struct prom_sample q;
	int rc = -1;

	p.err = errbuf;
	p.errlen = sizeof(errbuf);
	/* parse "series 0" with the sample reader */
	if (asprintf(&line, "%s 0", series) < 0)
		abort();
	if (parse_sample_text(&p, line, line + strlen(line), &q) == 0) {
		for (size_t i = 0; i < doc->n && rc != 0; i++)
			for (size_t j = 0; j < doc->fam[i].n && rc != 0; j++)
				if (same_series(&doc->fam[i].samples[j], &q, true, NULL)) {
					*out = doc->fam[i].samples[j].value;
					rc = 0;
				}
	}
	xfree_sample(&q);
	free(line);
	return rc;
}
