/* options.c: convex-api-sim's command line from one table: parsing, bounds, defaults and --help read the same rows. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

enum opt_kind { K_UINT, K_I64, K_U64, K_RATE, K_STR, K_FLAG };

struct opt_row {
	const char *name;
	const char *arg;          /* shown in --help; NULL: a flag */
	enum opt_kind kind;
	unsigned long long min, max;   /* bounds; for strings, of the length */
	size_t off;               /* field of struct sim_options */
	const char *help;
};

#define O(f) offsetof(struct sim_options, f)
#define F(f) offsetof(struct sim_options, faults.f)

static const struct opt_row rows[] = {
	{ "port", "N", K_UINT, 0, 65535, O(port),
	    "port to listen on (default 8050; 0 picks a free one,\n"
	    "printed as the first line of stdout)" },
	{ "token", "TOKEN", K_STR, 1, 512, O(token),
	    "bearer token accepted (default sim-token)" },
	{ "team-id", "N", K_I64, 1, 1ULL << 52, O(team_id),
	    "id of the one team (default 1)" },
	{ "team-slug", "S", K_STR, 1, 64, O(team_slug),
	    "slug of the team (default sim-team)" },
	{ "project-token", "ID", K_I64, 1, 1ULL << 52, O(project_token),
	    "act as a project token for project ID" },
	{ "legacy", NULL, K_FLAG, 0, 0, F(legacy),
	    "no paginated routes (an older API)" },
	{ "deprecation", "MSG", K_STR, 0, 4096, O(deprecation),
	    "send x-convex-deprecation-* headers on /v1" },
	{ "state", "FILE", K_STR, 1, 4096, O(state_file),
	    "load the state at start, save it on exit" },
	{ "seed", "N", K_U64, 0, ~0ULL, O(seed),
	    "seed of every random choice (default 1)" },
	{ "latency", "MS", K_UINT, 0, 3600000, F(latency_ms),
	    "fixed delay of every /v1 request" },
	{ "latency-jitter", "MS", K_UINT, 0, 3600000, F(latency_jitter_ms),
	    "plus a random delay in [0, MS]" },
	{ "error-rate", "P", K_RATE, 0, 1, F(error_rate),
	    "answer 500/502/503 with probability P" },
	{ "drop-rate", "P", K_RATE, 0, 1, F(drop_rate),
	    "close the connection without an answer" },
	{ "stall-rate", "P", K_RATE, 0, 1, F(stall_rate),
	    "hold a request --stall-ms before answering" },
	{ "stall-ms", "MS", K_UINT, 0, 3600000, F(stall_ms),
	    "length of a stall (default 60000)" },
	{ "bad-json-rate", "P", K_RATE, 0, 1, F(bad_json_rate),
	    "answer 200 with a body that is not JSON" },
	{ "rate-limit", "N", K_UINT, 0, 1000000, F(rate_limit),
	    "above N requests per second answer 429" },
	{ "log-limit", "N", K_UINT, 0, 10000000, O(log_limit),
	    "request log entries kept for GET /_sim/log\n"
	    "(default 100000; 0 turns the log off)" },
	{ "verbose", NULL, K_FLAG, 0, 0, O(verbose),
	    "log every request on stderr" },
	{ "help", NULL, K_FLAG, 0, 0, O(help), "this text" },
	{ "version", NULL, K_FLAG, 0, 0, O(version), "the version" },
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

void
options_usage(FILE *f)
{
	fprintf(f, "usage: convex-api-sim [OPTIONS]\n"
	    "A Convex Management API simulator on 127.0.0.1 (see docs/simulator.md).\n\n");
	for (size_t i = 0; i < NROWS; i++) {
		char left[40];
		const char *h = rows[i].help, *nl;

		snprintf(left, sizeof(left), "--%s%s%s", rows[i].name,
		    rows[i].arg ? " " : "", rows[i].arg ? rows[i].arg : "");
		/* Continuation lines of the help line up under the first. */
		for (bool first = true; h != NULL; first = false) {
			nl = strchr(h, '\n');
			fprintf(f, "  %-22s %.*s\n", first ? left : "",
			    nl ? (int)(nl - h) : (int)strlen(h), h);
			h = nl ? nl + 1 : NULL;
		}
	}
}

static int
parse_ull(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Stores the value of row r into o; -EINVAL when it is out of bounds.
 * Fields are written with memcpy at their offset, in their own type. */
static int
set_value(struct sim_options *o, const struct opt_row *r, const char *a)
{
	char *field = (char *)o + r->off;
	unsigned long long u;
	unsigned uv;
	int64_t iv;
	uint64_t qv;
	bool b = true;
	double d;
	char *end;

	switch (r->kind) {
	case K_FLAG:
		memcpy(field, &b, sizeof(b));
		return 0;
	case K_STR:
		if (strlen(a) < r->min || strlen(a) > r->max)
			return -EINVAL;
		memcpy(field, &a, sizeof(a));
		return 0;
	case K_RATE:
		errno = 0;
		d = strtod(a, &end);
		if (errno != 0 || end == a || *end != '\0' || !(d >= 0 && d <= 1))
			return -EINVAL;
		memcpy(field, &d, sizeof(d));
		return 0;
	case K_UINT:
	case K_I64:
	case K_U64:
		if (parse_ull(a, r->min, r->max, &u) != 0)
			return -EINVAL;
		if (r->kind == K_UINT) {
			uv = (unsigned)u;
			memcpy(field, &uv, sizeof(uv));
		} else if (r->kind == K_I64) {
			iv = (int64_t)u;
			memcpy(field, &iv, sizeof(iv));
		} else {
			qv = (uint64_t)u;
			memcpy(field, &qv, sizeof(qv));
		}
		return 0;
	}
	return -EINVAL;
}

static void
defaults(struct sim_options *o)
{
	memset(o, 0, sizeof(*o));
	o->port = 8050;
	o->token = "sim-token";
	o->team_id = 1;
	o->team_slug = "sim-team";
	o->seed = 1;
	o->log_limit = 100000;
	o->faults.stall_ms = 60000;
}

int
options_parse(int argc, char **argv, struct sim_options *o)
{
	struct option longopts[NROWS + 1];
	int ch;

	defaults(o);
	for (size_t i = 0; i < NROWS; i++)
		longopts[i] = (struct option){ rows[i].name,
		    rows[i].arg ? required_argument : no_argument, NULL, 256 + (int)i };
	longopts[NROWS] = (struct option){ NULL, 0, NULL, 0 };
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const struct opt_row *r;

		if (ch == 'h') {
			o->help = true;
			continue;
		}
		if (ch < 256 || ch >= 256 + (int)NROWS) {
			options_usage(stderr);
			return -EINVAL;
		}
		r = &rows[ch - 256];
		if (set_value(o, r, optarg) != 0) {
			fprintf(stderr, "convex-api-sim: bad value for --%s: \"%s\"\n",
			    r->name, optarg);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "convex-api-sim: unexpected argument \"%s\"\n",
		    argv[optind]);
		return -EINVAL;
	}
	return 0;
}
