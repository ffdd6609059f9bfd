/* promcheck_main.c: the exposition-format checker (promcheck.c) as a command
 * for end-to-end scripts that scrape /metrics.
 *
 * Usage: promcheck [-f FAMILY[:TYPE]]... [-v SERIES]... [FILE]
 *   Reads FILE (or stdin), fails (exit 1, the reason on stderr) unless it is
 *   well-formed text format 0.0.4; every -f FAMILY must have HELP and TYPE
 *   lines (and that TYPE when given); every -v SERIES (`name` or
 *   `name{label="v",...}`) must exist, and its value is printed on its own
 *   line, in the order given. Bad usage: exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promcheck.h"

/* A /metrics page is bounded by METRICS_MAX_TEXT (4 MiB); leave room. */
#define MAX_INPUT (16u << 20)

static char *
read_all(FILE *f, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *nb;

	if (buf == NULL)
		return NULL;
	for (;;) {
		size_t got;

		if (n + 1 >= cap) {
			if (cap >= MAX_INPUT) {
				fprintf(stderr, "promcheck: input over %u bytes\n", MAX_INPUT);
				free(buf);
				return NULL;
			}
			cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void
usage(void)
{
	fprintf(stderr, "usage: promcheck [-f FAMILY[:TYPE]]... [-v SERIES]... [FILE]\n");
}

static int
check_family(const struct prom_doc *doc, const char *spec)
{
	char name[256], *colon;
	const char *want_type = NULL;
	const struct prom_family *f;

	if (strlen(spec) >= sizeof(name)) {
		fprintf(stderr, "promcheck: family name too long: %s\n", spec);
		return -1;
	}
	strcpy(name, spec);
	if ((colon = strchr(name, ':')) != NULL) {
		*colon = '\0';
		want_type = colon + 1;
	}
	if ((f = promcheck_family(doc, name)) == NULL) {
		fprintf(stderr, "promcheck: no family %s\n", name);
		return -1;
	}
	if (f->help == NULL || f->type == NULL) {
		fprintf(stderr, "promcheck: %s has no %s line\n", name,
		    f->help == NULL ? "HELP" : "TYPE");
		return -1;
	}
	if (want_type != NULL && strcmp(f->type, want_type) != 0) {
		fprintf(stderr, "promcheck: %s is a %s, want a %s\n", name, f->type,
		    want_type);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char **families = calloc((size_t)argc, sizeof(char *));
	const char **series = calloc((size_t)argc, sizeof(char *));
	const char *file = NULL;
	size_t nf = 0, ns = 0, len = 0;
	struct prom_doc doc = { 0 };
	char err[512] = "", *text = NULL;
	FILE *in = stdin;
	int rc = 1;

	if (families == NULL || series == NULL)
		goto out;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "-v") == 0) &&
		    i + 1 < argc) {
			if (argv[i][1] == 'f')
				families[nf++] = argv[++i];
			else
				series[ns++] = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			usage();
			rc = 2;
			goto out;
		} else if (file == NULL) {
			file = argv[i];
		} else {
			usage();
			rc = 2;
			goto out;
		}
	}
	if (file != NULL && strcmp(file, "-") != 0 && (in = fopen(file, "r")) == NULL) {
		perror(file);
		goto out;
	}
	text = read_all(in, &len);
	if (in != stdin)
		fclose(in);
	if (text == NULL)
		goto out;
	if (strlen(text) != len) {
		fprintf(stderr, "promcheck: a NUL byte in the input\n");
		goto out;
	}
	if (promcheck_parse(text, &doc, err, sizeof(err)) != 0) {
		fprintf(stderr, "promcheck: %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < nf; i++)
		if (check_family(&doc, families[i]) != 0)
			goto out;
	for (size_t i = 0; i < ns; i++) {
		double v;

		if (promcheck_value(&doc, series[i], &v) != 0) {
			fprintf(stderr, "promcheck: no series %s\n", series[i]);
			goto out;
		}
		printf("%.15g\n", v);
	}
	rc = 0;
out:
	promcheck_free(&doc);
	free(text);
	free(families);
	free(series);
	return rc;
}
