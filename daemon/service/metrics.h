/* metrics.h: the daemon's Prometheus registry (counters, gauges, histograms
 * with fixed buckets) and its text exposition format 0.0.4. One loop owns
 * it: no locking. Every metric of SPEC section 6 is declared up front. */
#ifndef CP_METRICS_H
#define CP_METRICS_H

#include <stddef.h>

#include "buf.h"

#define METRICS_PREFIX "convex_provisioner_"
#define METRICS_MAX_LABELS 3
/* Series per metric: beyond this a new label set is refused (-ENOSPC), so
 * a bug that puts an id into a label cannot eat the memory. */
#define METRICS_MAX_SERIES 512
/* A rendered page never grows past this. */
#define METRICS_MAX_TEXT (4u << 20)

enum metric_id {
	METRIC_RECONCILE_TOTAL = 0,        /* counter {result} */
	METRIC_RECONCILE_DURATION,         /* histogram, seconds */
	METRIC_ACTIONS_TOTAL,              /* counter {op,kind,result} */
	METRIC_API_REQUESTS_TOTAL,         /* counter {route,code} */
	METRIC_API_REQUEST_DURATION,       /* histogram, seconds */
	METRIC_DRIFT_RESOURCES,            /* gauge */
	METRIC_DESIRED_PROJECTS,           /* gauge */
	METRIC_OBSERVED_PROJECTS,          /* gauge */
	METRIC_GUARD_BLOCKED_TOTAL,        /* counter {guard} */
	METRIC_DESIRED_STATE_ERRORS,       /* gauge */
	METRIC_LAST_SUCCESS_TIMESTAMP,     /* gauge, unix seconds */
	/* SPEC section 9, from the last complete observation: */
	METRIC_MANAGED_ENV_VARS,           /* gauge */
	METRIC_MANAGED_DOMAINS,            /* gauge */
	METRIC_MANAGED_DEPLOY_KEYS,        /* gauge */
	METRIC_DOMAINS_PENDING,            /* gauge */
	METRIC_DESIRED_RELOADS_TOTAL,      /* counter {trigger} */
	METRIC_WATCH_FAILURES_TOTAL,       /* counter {reason} */
	METRIC_COUNT
};

/* Values of reconcile_total{result}, present (at 0) from the start. */
#define METRICS_RESULT_OK "ok"             /* converged, nothing failed */
#define METRICS_RESULT_ERROR "error"       /* observation or an action failed */
#define METRICS_RESULT_BLOCKED "blocked"   /* a guard held deletes back */

/* Values of desired_reloads_total{trigger}: what found the files changed
 * (SIGHUP reloads whether they changed or not). Present from the start. */
#define METRICS_TRIGGER_WATCH "watch"      /* the file watch */
#define METRICS_TRIGGER_TIMER "timer"      /* the check before a timer reconcile */
#define METRICS_TRIGGER_SIGHUP "sighup"
#define METRICS_TRIGGER_API "api"          /* POST /reconcile */
/* Values of watch_failures_total{reason} (watch.h), present from the start. */
#define METRICS_WATCH_OVERFLOW "overflow"
#define METRICS_WATCH_LIMIT "limit"
#define METRICS_WATCH_ERROR "error"

struct metrics;

/* A registry with every metric declared: label-less gauges and histograms
 * at 0, reconcile_total{result} for the three results,
 * guard_blocked_total{guard} for the four guards,
 * desired_reloads_total{trigger} for the four triggers and
 * watch_failures_total{reason} for the three reasons at 0. NULL on ENOMEM. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Generic access. `labels` holds as many values as the metric has label
 * names (NULL for none), in the order of the table in metrics.c. 0,
 * -EINVAL (wrong metric type, NULL value, negative counter increment),
 * -ENOSPC (too many series) or -ENOMEM. */
int metrics_counter_add(struct metrics *m, enum metric_id id,
    const char *const *labels, double delta);
int metrics_gauge_set(struct metrics *m, enum metric_id id,
    const char *const *labels, double value);
int metrics_histogram_observe(struct metrics *m, enum metric_id id,
    const char *const *labels, double value);
/* The current value of a counter or gauge series; 0 when it has none. For a
 * histogram, its _count. Mostly for tests and the status page. */
double metrics_value(const struct metrics *m, enum metric_id id,
    const char *const *labels);
const char *metrics_name(enum metric_id id);   /* full name, with prefix */

/* What the daemon calls. Each returns 0 or a negative errno (see above). */
/* One reconcile finished: result is METRICS_RESULT_*; `now` (unix seconds)
 * becomes last_success_timestamp_seconds when the result is ok. */
int metrics_reconcile(struct metrics *m, const char *result, double seconds,
    double now);
/* One API request: `route` is a template ("/teams/{team}/projects"), never
 * a concrete path; status <= 0 (no HTTP answer) is counted as "error". */
int metrics_api_request(struct metrics *m, const char *route, long status,
    double seconds);
/* One action: op "create"/"delete"/"update", kind "project"/"deployment"/
 * "env"/"domain"/"deploy_key", result "ok"/"error". */
int metrics_action(struct metrics *m, const char *op, const char *kind,
    const char *result);
/* A guard held something back ("empty_desired", "max_deletes", ...). */
int metrics_guard(struct metrics *m, const char *guard);
/* The desired state was reloaded: trigger is METRICS_TRIGGER_*. */
int metrics_reload(struct metrics *m, const char *trigger);
/* The file watch missed or could not watch something: METRICS_WATCH_*. */
int metrics_watch_failure(struct metrics *m, const char *reason);
/* One of the label-less gauges. */
int metrics_set(struct metrics *m, enum metric_id id, double value);

/* The exposition text, appended to `out` (whose maximum bounds it). */
int metrics_render(const struct metrics *m, struct buf *out);
/* The same, malloc'd and NUL-terminated; NULL on ENOMEM. */
char *metrics_render_text(const struct metrics *m, size_t *len);

/* Content-Type of the rendered text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
