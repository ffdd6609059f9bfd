/* metrics.c: counters, gauges and histograms kept per label set, rendered in
 * the Prometheus text exposition format 0.0.4. */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mtype { MT_COUNTER = 0, MT_GAUGE, MT_HISTOGRAM };

struct mdef {
	const char *name;            /* full name, with prefix */
	enum mtype type;
	const char *help;
	int nlabels;
	const char *labels[METRICS_MAX_LABELS];
	const double *bounds;        /* histograms: upper bounds, +Inf implied */
	size_t nbounds;
};

/* A reconcile takes from a fraction of a second (nothing to do) to minutes
 * (a large team, slow API); one request from milliseconds to the 30 s
 * request timeout. */
static const double reconcile_bounds[] = {
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600
};
static const double request_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
};

#define NB(a) (sizeof(a) / sizeof((a)[0]))

static const struct mdef defs[METRIC_COUNT] = {
	[METRIC_RECONCILE_TOTAL] = { METRICS_PREFIX "reconcile_total", MT_COUNTER,
	    "Reconciles finished, by result (ok, error, blocked).",
	    1, { "result" }, NULL, 0 },
	[METRIC_RECONCILE_DURATION] = { METRICS_PREFIX "reconcile_duration_seconds",
	    MT_HISTOGRAM, "Wall time of one reconcile (observe, plan, act).",
	    0, { NULL }, reconcile_bounds, NB(reconcile_bounds) },
	[METRIC_ACTIONS_TOTAL] = { METRICS_PREFIX "actions_total", MT_COUNTER,
	    "Actions taken against the Management API, by operation, kind and result.",
	    3, { "op", "kind", "result" }, NULL, 0 },
	[METRIC_API_REQUESTS_TOTAL] = { METRICS_PREFIX "api_requests_total",
	    MT_COUNTER,
	    "Management API requests, by route template and HTTP status (error: no answer).",
	    2, { "route", "code" }, NULL, 0 },
	[METRIC_API_REQUEST_DURATION] = { METRICS_PREFIX "api_request_duration_seconds",
	    MT_HISTOGRAM, "Time from sending a Management API request to its answer.",
	    0, { NULL }, request_bounds, NB(request_bounds) },
	[METRIC_DRIFT_RESOURCES] = { METRICS_PREFIX "drift_resources", MT_GAUGE,
	    "Attribute differences between desired and live deployments at the last reconcile.",
	    0, { NULL }, NULL, 0 },
	[METRIC_DESIRED_PROJECTS] = { METRICS_PREFIX "desired_projects", MT_GAUGE,
	    "Projects declared in the desired state in use.",
	    0, { NULL }, NULL, 0 },
	[METRIC_OBSERVED_PROJECTS] = { METRICS_PREFIX "observed_projects", MT_GAUGE,
	    "Projects seen in the team at the last complete observation.",
	    0, { NULL }, NULL, 0 },
	[METRIC_GUARD_BLOCKED_TOTAL] = { METRICS_PREFIX "guard_blocked_total",
	    MT_COUNTER, "Reconciles in which a guard held something back, by guard.",
	    1, { "guard" }, NULL, 0 },
	[METRIC_DESIRED_STATE_ERRORS] = { METRICS_PREFIX "desired_state_errors",
	    MT_GAUGE,
	    "Errors in the desired-state files at the last load (the last valid state stays in use).",
	    0, { NULL }, NULL, 0 },
	[METRIC_LAST_SUCCESS_TIMESTAMP] = { METRICS_PREFIX "last_success_timestamp_seconds",
	    MT_GAUGE, "Unix time of the last reconcile that ended ok (0: none yet).",
	    0, { NULL }, NULL, 0 },
	[METRIC_MANAGED_ENV_VARS] = { METRICS_PREFIX "managed_env_vars", MT_GAUGE,
	    "Default environment variables the files declare on projects found live or created, at the last complete observation.",
	    0, { NULL }, NULL, 0 },
	[METRIC_MANAGED_DOMAINS] = { METRICS_PREFIX "managed_domains", MT_GAUGE,
	    "Custom domains the files declare on deployments found live or created, at the last complete observation.",
	    0, { NULL }, NULL, 0 },
	[METRIC_MANAGED_DEPLOY_KEYS] = { METRICS_PREFIX "managed_deploy_keys", MT_GAUGE,
	    "Deploy keys the files declare on deployments found live or created, at the last complete observation.",
	    0, { NULL }, NULL, 0 },
	[METRIC_DOMAINS_PENDING] = { METRICS_PREFIX "domains_pending_verification", MT_GAUGE,
	    "Declared custom domains that are live but not verified yet, at the last complete observation.",
	    0, { NULL }, NULL, 0 },
	[METRIC_DESIRED_RELOADS_TOTAL] = { METRICS_PREFIX "desired_reloads_total",
	    MT_COUNTER,
	    "Reloads of the desired state, by what found the files changed (watch, timer, sighup, api).",
	    1, { "trigger" }, NULL, 0 },
	[METRIC_WATCH_FAILURES_TOTAL] = { METRICS_PREFIX "watch_failures_total",
	    MT_COUNTER,
	    "Things the file watch missed or could not watch, by reason (overflow, limit, error); the timer's check covers them.",
	    1, { "reason" }, NULL, 0 },
};

static const char *const known_results[] = {
	METRICS_RESULT_OK, METRICS_RESULT_ERROR, METRICS_RESULT_BLOCKED
};
static const char *const known_guards[] = {
	"empty_desired", "max_deletes", "protected", "conflict", "key_file_missing"
};
static const char *const known_triggers[] = {
	METRICS_TRIGGER_WATCH, METRICS_TRIGGER_TIMER, METRICS_TRIGGER_SIGHUP,
	METRICS_TRIGGER_API
};
static const char *const known_watch_failures[] = {
	METRICS_WATCH_OVERFLOW, METRICS_WATCH_LIMIT, METRICS_WATCH_ERROR
};

struct series {
	char *labels[METRICS_MAX_LABELS];
	double value;                /* counters and gauges */
	double sum;                  /* histograms */
	uint64_t count;
	uint64_t *per_bucket;        /* nbounds + 1 (the last is +Inf), not cumulative */
};

struct family {
	struct series *s;
	size_t n, cap;
};

struct metrics {
	struct family f[METRIC_COUNT];
};

static void
series_free(struct series *s, int nlabels)
{
	for (int i = 0; i < nlabels; i++)
		free(s->labels[i]);
	free(s->per_bucket);
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (int id = 0; id < METRIC_COUNT; id++) {
		for (size_t i = 0; i < m->f[id].n; i++)
			series_free(&m->f[id].s[i], defs[id].nlabels);
		free(m->f[id].s);
	}
	free(m);
}

static struct series *
find(const struct metrics *m, enum metric_id id, const char *const *labels)
{
	const struct family *f = &m->f[id];

	for (size_t i = 0; i < f->n; i++) {
		int j;

		for (j = 0; j < defs[id].nlabels; j++)
			if (strcmp(f->s[i].labels[j], labels[j]) != 0)
				break;
		if (j == defs[id].nlabels)
			return &f->s[i];
	}
	return NULL;
}

/* The series for `labels`, created at zero when new. */
static int
lookup(struct metrics *m, enum metric_id id, const char *const *labels,
    struct series **out)
{
	const struct mdef *d;
	struct family *f;
	struct series *s;

	if (m == NULL || (int)id < 0 || id >= METRIC_COUNT)
		return -EINVAL;
	d = &defs[id];
	/* Callers pass d->nlabels labels (metrics_guard: one for
	 * guard_blocked_total's one); the analyzer does not read nlabels from
	 * the const table and walks past the caller's array. */
	for (int i = 0; i < d->nlabels; i++)
		if (labels == NULL || labels[i] == NULL) /* NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult) */
			return -EINVAL;
	if ((*out = find(m, id, labels)) != NULL)
		return 0;
	f = &m->f[id];
	if (f->n >= METRICS_MAX_SERIES)
		return -ENOSPC;
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 4;
		struct series *p = realloc(f->s, ncap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		f->s = p;
		f->cap = ncap;
	}
	/* f->n < f->cap here, and f->s is allocated whenever f->cap > 0: the
	 * analyzer does not know the two go together and takes f->s NULL. */
	s = &f->s[f->n];
	memset(s, 0, sizeof(*s)); /* NOLINT(clang-analyzer-core.NonNullParamChecker) */
	if (d->type == MT_HISTOGRAM &&
	    (s->per_bucket = calloc(d->nbounds + 1, sizeof(uint64_t))) == NULL)
		return -ENOMEM;
	for (int i = 0; i < d->nlabels; i++) {
		if ((s->labels[i] = strdup(labels[i])) == NULL) {
			series_free(s, i);
			return -ENOMEM;
		}
	}
	f->n++;
	*out = s;
	return 0;
}

struct metrics *
metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct series *s;

	if (m == NULL)
		return NULL;
	/* Series known in advance exist from the start, so rate() and
	 * increase() see the first increment and alerts can say "== 0". */
	for (int id = 0; id < METRIC_COUNT; id++)
		if (defs[id].nlabels == 0 && lookup(m, (enum metric_id)id, NULL, &s) != 0)
			goto fail;
	for (size_t i = 0; i < NB(known_results); i++)
		if (lookup(m, METRIC_RECONCILE_TOTAL, &known_results[i], &s) != 0)
			goto fail;
	for (size_t i = 0; i < NB(known_guards); i++)
		if (lookup(m, METRIC_GUARD_BLOCKED_TOTAL, &known_guards[i], &s) != 0)
			goto fail;
	for (size_t i = 0; i < NB(known_triggers); i++)
		if (lookup(m, METRIC_DESIRED_RELOADS_TOTAL, &known_triggers[i], &s) != 0)
			goto fail;
	for (size_t i = 0; i < NB(known_watch_failures); i++)
		if (lookup(m, METRIC_WATCH_FAILURES_TOTAL, &known_watch_failures[i],
		    &s) != 0)
			goto fail;
	return m;
fail:
	metrics_free(m);
	return NULL;
}

int
metrics_counter_add(struct metrics *m, enum metric_id id,
    const char *const *labels, double delta)
{
	struct series *s;
	int rc;

	if ((int)id < 0 || id >= METRIC_COUNT || defs[id].type != MT_COUNTER ||
	    !(delta >= 0) || isinf(delta))
		return -EINVAL;
	if ((rc = lookup(m, id, labels, &s)) != 0)
		return rc;
	s->value += delta;
	return 0;
}

int
metrics_gauge_set(struct metrics *m, enum metric_id id,
    const char *const *labels, double value)
{
	struct series *s;
	int rc;

	if ((int)id < 0 || id >= METRIC_COUNT || defs[id].type != MT_GAUGE)
		return -EINVAL;
	if ((rc = lookup(m, id, labels, &s)) != 0)
		return rc;
	s->value = value;
	return 0;
}

int
metrics_histogram_observe(struct metrics *m, enum metric_id id,
    const char *const *labels, double value)
{
	const struct mdef *d;
	struct series *s;
	size_t b;
	int rc;

	if ((int)id < 0 || id >= METRIC_COUNT || defs[id].type != MT_HISTOGRAM ||
	    isnan(value))
		return -EINVAL;
	d = &defs[id];
	if ((rc = lookup(m, id, labels, &s)) != 0)
		return rc;
	for (b = 0; b < d->nbounds; b++)
		if (value <= d->bounds[b])
			break;
	s->per_bucket[b]++;
	s->count++;
	s->sum += value;
	return 0;
}

double
metrics_value(const struct metrics *m, enum metric_id id,
    const char *const *labels)
{
	const struct series *s;

	if (m == NULL || (int)id < 0 || id >= METRIC_COUNT)
		return 0;
	for (int i = 0; i < defs[id].nlabels; i++)
		if (labels == NULL || labels[i] == NULL)
			return 0;
	if ((s = find(m, id, labels)) == NULL)
		return 0;
	return defs[id].type == MT_HISTOGRAM ? (double)s->count : s->value;
}

const char *
metrics_name(enum metric_id id)
{
	if ((int)id < 0 || id >= METRIC_COUNT)
		return NULL;
	return defs[id].name;
}

int
metrics_reconcile(struct metrics *m, const char *result, double seconds,
    double now)
{
	const char *l[1] = { result };
	int rc;

	if ((rc = metrics_counter_add(m, METRIC_RECONCILE_TOTAL, l, 1)) != 0)
		return rc;
	if ((rc = metrics_histogram_observe(m, METRIC_RECONCILE_DURATION, NULL,
	    seconds)) != 0)
		return rc;
	if (strcmp(result, METRICS_RESULT_OK) == 0)
		return metrics_gauge_set(m, METRIC_LAST_SUCCESS_TIMESTAMP, NULL, now);
	return 0;
}

int
metrics_api_request(struct metrics *m, const char *route, long status,
    double seconds)
{
	char code[24];
	const char *l[2] = { route, code };
	int rc;

	if (status > 0)
		snprintf(code, sizeof(code), "%ld", status);
	else
		snprintf(code, sizeof(code), "error");
	if ((rc = metrics_counter_add(m, METRIC_API_REQUESTS_TOTAL, l, 1)) != 0)
		return rc;
	return metrics_histogram_observe(m, METRIC_API_REQUEST_DURATION, NULL,
	    seconds);
}

int
metrics_action(struct metrics *m, const char *op, const char *kind,
    const char *result)
{
	const char *l[3] = { op, kind, result };

	return metrics_counter_add(m, METRIC_ACTIONS_TOTAL, l, 1);
}

int
metrics_guard(struct metrics *m, const char *guard)
{
	const char *l[1] = { guard };

	return metrics_counter_add(m, METRIC_GUARD_BLOCKED_TOTAL, l, 1);
}

int
metrics_reload(struct metrics *m, const char *trigger)
{
	const char *l[1] = { trigger };

	return metrics_counter_add(m, METRIC_DESIRED_RELOADS_TOTAL, l, 1);
}

int
metrics_watch_failure(struct metrics *m, const char *reason)
{
	const char *l[1] = { reason };

	return metrics_counter_add(m, METRIC_WATCH_FAILURES_TOTAL, l, 1);
}

int
metrics_set(struct metrics *m, enum metric_id id, double value)
{
	if ((int)id < 0 || id >= METRIC_COUNT || defs[id].nlabels != 0)
		return -EINVAL;
	return metrics_gauge_set(m, id, NULL, value);
}

/* ---- rendering -------------------------------------------------------- */

/* Go's strconv.ParseFloat reads what we write: the shortest decimal that
 * reads back the same, and the format's spellings of the specials. */
static void
fmt_double(char *out, size_t len, double v)
{
	if (isnan(v)) {
		snprintf(out, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* whole numbers (counts, timestamps) in plain digits, not 3e+01 */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, len, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, len, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static int
append_escaped(struct buf *out, const char *s, int quote)
{
	int rc = 0;

	for (; *s != '\0' && rc == 0; s++) {
		if (*s == '\\')
			rc = buf_append(out, "\\\\", 2);
		else if (*s == '\n')
			rc = buf_append(out, "\\n", 2);
		else if (quote && *s == '"')
			rc = buf_append(out, "\\\"", 2);
		else
			rc = buf_append(out, s, 1);
	}
	return rc;
}

/* NAME{l1="v1",...,extra="ev"} VALUE\n; `extra` adds the histogram's le. */
static int
append_sample(struct buf *out, const char *name, const char *suffix,
    const struct mdef *d, const struct series *s, const char *extra,
    const char *extra_val, double value)
{
	char num[40];
	int rc, n = 0;

	if ((rc = buf_appendf(out, "%s%s", name, suffix)) != 0)
		return rc;
	for (int i = 0; i < d->nlabels; i++, n++) {
		if ((rc = buf_appendf(out, "%s%s=\"", n ? "," : "{", d->labels[i])) != 0 ||
		    (rc = append_escaped(out, s->labels[i], 1)) != 0 ||
		    (rc = buf_append(out, "\"", 1)) != 0)
			return rc;
	}
	if (extra != NULL) {
		if ((rc = buf_appendf(out, "%s%s=\"%s\"", n ? "," : "{", extra,
		    extra_val)) != 0)
			return rc;
		n++;
	}
	fmt_double(num, sizeof(num), value);
	return buf_appendf(out, "%s %s\n", n ? "}" : "", num);
}

static int
render_histogram(struct buf *out, const struct mdef *d, const struct series *s)
{
	char le[40];
	uint64_t cum = 0;
	int rc;

	for (size_t b = 0; b <= d->nbounds; b++) {
		cum += s->per_bucket[b];
		if (b < d->nbounds)
			fmt_double(le, sizeof(le), d->bounds[b]);
		else
			snprintf(le, sizeof(le), "+Inf");
		if ((rc = append_sample(out, d->name, "_bucket", d, s, "le", le,
		    (double)cum)) != 0)
			return rc;
	}
	if ((rc = append_sample(out, d->name, "_sum", d, s, NULL, NULL, s->sum)) != 0)
		return rc;
	return append_sample(out, d->name, "_count", d, s, NULL, NULL,
	    (double)s->count);
}

int
metrics_render(const struct metrics *m, struct buf *out)
{
	static const char *type_names[] = { "counter", "gauge", "histogram" };
	int rc;

	for (int id = 0; id < METRIC_COUNT; id++) {
		const struct mdef *d = &defs[id];
		const struct family *f = &m->f[id];

		if ((rc = buf_appendf(out, "# HELP %s ", d->name)) != 0 ||
		    (rc = append_escaped(out, d->help, 0)) != 0 ||
		    (rc = buf_appendf(out, "\n# TYPE %s %s\n", d->name,
		    type_names[d->type])) != 0)
			return rc;
		for (size_t i = 0; i < f->n; i++) {
			if (d->type == MT_HISTOGRAM)
				rc = render_histogram(out, d, &f->s[i]);
			else
				rc = append_sample(out, d->name, "", d, &f->s[i],
				    NULL, NULL, f->s[i].value);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

char *
metrics_render_text(const struct metrics *m, size_t *len)
{
	struct buf b;

	buf_init(&b, METRICS_MAX_TEXT);
	if (metrics_render(m, &b) != 0) {
		buf_free(&b);
		return NULL;
	}
	if (len != NULL)
		*len = b.len;
	return buf_steal(&b);
}
