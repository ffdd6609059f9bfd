/* daemon_report.c: turns a finished reconcile into metrics, one log line,
 * a systemd STATUS= line and the data behind GET /status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "plan.h"
#include "textesc.h"

static const char *
result_name(int code)
{
	switch (code) {
	case 0: return METRICS_RESULT_OK;
	case 3: return METRICS_RESULT_BLOCKED;
	default: return METRICS_RESULT_ERROR;
	}
}

void
daemon_last_free(struct daemon_last *l)
{
	for (size_t i = 0; i < l->n_strings; i++)
		free(l->strings[i]);
	free(l->strings);
	free(l->drift);
	free(l->blocked);
	free(l->pending_domains);
	free(l->error);
	memset(l, 0, sizeof(*l));
}

/* Copies s into the string pool of `l`; NULL stays NULL. */
static const char *
keep(struct daemon_last *l, const char *s, size_t cap)
{
	char *copy;

	if (s == NULL || l->n_strings >= cap || (copy = strdup(s)) == NULL)
		return NULL;
	l->strings[l->n_strings++] = copy;
	return copy;
}

static void
remember(struct daemon_last *l, const struct reconcile_outcome *o, int code)
{
	const struct plan *p = &o->plan;
	size_t cap = p->n_drift * 5 + p->n_blocked * 2 + p->n_pending_domains * 3;

	daemon_last_free(l);
	l->finished = (int64_t)time(NULL);
	l->result = result_name(code);
	l->duration = o->seconds;
	if (o->rc != 0)
		l->error = strdup(o->error);
	l->n_create = (unsigned)plan_count(p, PLAN_CREATE);
	l->n_delete = (unsigned)plan_count(p, PLAN_DELETE);
	l->n_failed = (unsigned)o->n_failed;
	l->n_update = (unsigned)plan_count_updates(p);
	l->managed_env_vars = p->n_managed_env_vars;
	l->managed_domains = p->n_managed_domains;
	l->managed_deploy_keys = p->n_managed_deploy_keys;
	if (cap == 0)
		return;
	l->strings = calloc(cap, sizeof(*l->strings));
	l->drift = calloc(p->n_drift + 1, sizeof(*l->drift));
	l->blocked = calloc(p->n_blocked + 1, sizeof(*l->blocked));
	l->pending_domains = calloc(p->n_pending_domains + 1, sizeof(*l->pending_domains));
	if (l->strings == NULL || l->drift == NULL || l->blocked == NULL ||
	    l->pending_domains == NULL) {
		log_errorx("status: out of memory keeping the last reconcile");
		return;
	}
	for (size_t i = 0; i < p->n_drift; i++) {
		const struct plan_drift *d = &p->drift[i];
		struct status_drift *s = &l->drift[l->n_drift++];
		s->project = keep(l, d->project, cap);
		s->reference = keep(l, d->reference, cap);
		s->field = keep(l, d->field, cap);
		s->want = keep(l, d->want, cap);
		s->have = keep(l, d->have, cap);
	}
	for (size_t i = 0; i < p->n_blocked; i++) {
		struct status_blocked *s = &l->blocked[l->n_blocked++];
		s->guard = guard_name(p->blocked[i].guard);
		s->message = keep(l, p->blocked[i].message, cap);
	}
	for (size_t i = 0; i < p->n_pending_domains; i++) {
		const struct plan_pending_domain *d = &p->pending_domains[i];
		struct status_pending_domain *s = &l->pending_domains[l->n_pending_domains++];
		s->project = keep(l, d->project, cap);
		s->reference = keep(l, d->reference, cap);
		s->domain = keep(l, d->domain, cap);
		s->destination = desired_destination_name(d->destination);
	}
}

void
daemon_report(struct daemon *d, const struct reconcile_outcome *o)
{
	int code = reconcile_exit_code(o);
	const char *result = result_name(code);
	double now = (double)time(NULL);
	char line[NOTIFY_STATUS_MAX], esc[420];
	size_t creates = plan_count(&o->plan, PLAN_CREATE);
	size_t deletes = plan_count(&o->plan, PLAN_DELETE);
	size_t updates = plan_count(&o->plan, PLAN_UPDATE) + plan_count(&o->plan, PLAN_RENAME);

	metrics_reconcile(d->metrics, result, o->seconds, code == 0 ? now : 0);
	if (o->rc == 0) {
		metrics_set(d->metrics, METRIC_DRIFT_RESOURCES, (double)o->plan.n_drift);
		metrics_set(d->metrics, METRIC_OBSERVED_PROJECTS, (double)o->observed.n_projects);
		metrics_set(d->metrics, METRIC_MANAGED_ENV_VARS, (double)o->plan.n_managed_env_vars);
		metrics_set(d->metrics, METRIC_MANAGED_DOMAINS, (double)o->plan.n_managed_domains);
		metrics_set(d->metrics, METRIC_MANAGED_DEPLOY_KEYS,
		    (double)o->plan.n_managed_deploy_keys);
		metrics_set(d->metrics, METRIC_DOMAINS_PENDING,
		    (double)o->plan.n_pending_domains);
		for (size_t i = 0; i < o->plan.n_blocked; i++)
			metrics_guard(d->metrics, guard_name(o->plan.blocked[i].guard));
	}
	remember(&d->last, o, code);

	if (o->rc != 0) {
		log_errorx("reconcile failed after %.1fs: %s", o->seconds, o->error);
		/* The line is cut to what systemd shows; the log has it whole.
		 * It is output like any other: escaped, secrets masked. */
		snprintf(line, sizeof(line), "reconcile failed: %s",
		    textesc_str(esc, sizeof(esc), o->error, strlen(o->error), 0));
	} else {
		for (size_t i = 0; i < o->plan.n_blocked; i++) {
			struct log_field f[] = {
				{ "guard", guard_name(o->plan.blocked[i].guard) },
				{ "project", o->plan.blocked[i].project },
			};
			log_fields(LOG_LVL_WARN, f, 2, "blocked: %s", o->plan.blocked[i].message);
		}
		for (size_t i = 0; i < o->plan.n_drift; i++) {
			const struct plan_drift *dr = &o->plan.drift[i];
			struct log_field f[] = {
				{ "project", dr->project }, { "reference", dr->reference },
				{ "field", dr->field },
			};
			log_fields(LOG_LVL_INFO, f, 3, "drift: %s is %s, the files say %s%s%s%s",
			    dr->field, dr->have[0] ? dr->have : "unset", dr->want,
			    dr->reason ? " (not changed: " : "", dr->reason ? dr->reason : "",
			    dr->reason ? ")" : "");
		}
		/* Quiet when converged: a reconcile that found nothing to do is
		 * only worth a debug line. */
		log_fields(o->plan.n_actions || o->plan.n_drift || o->plan.n_blocked ?
		    LOG_LVL_INFO : LOG_LVL_DEBUG, NULL, 0,
		    "reconcile %s in %.1fs: %zu created, %zu updated, %zu deleted, "
		    "%zu failed, %zu drifted, %zu blocked", result, o->seconds,
		    creates, updates, deletes, o->n_failed, o->plan.n_drift,
		    o->plan.n_blocked);
		snprintf(line, sizeof(line), "%s: %zu projects observed, %zu created, "
		    "%zu updated, %zu deleted, %zu failed, %zu drifted, %zu blocked",
		    result, o->observed.n_projects, creates, updates, deletes,
		    o->n_failed, o->plan.n_drift, o->plan.n_blocked);
	}
	notify_status(line);
}

void
daemon_on_action(void *arg, const struct plan_action *a, const struct action_result *r)
{
	struct daemon *d = arg;
	const char *op = plan_op_name(a->op);
	const char *kind = plan_kind_name(a->kind);
	const char *result = r->state == ACTION_OK ? "ok" :
	    r->state == ACTION_FAILED ? "error" : "skipped";
	const char *name = a->deployment_name ? a->deployment_name : r->deployment_name;
	struct log_field f[] = {
		{ "op", op }, { "kind", kind }, { "project", a->project },
		{ "reference", a->reference }, { "name", name }, { "result", result },
		{ "error", r->error },
	};

	metrics_action(d->metrics, op, kind, result);
	log_fields(r->state == ACTION_OK ? LOG_LVL_INFO : LOG_LVL_ERROR, f, 7,
	    "%s %s %s", op, kind, result);
}

void
daemon_on_request(void *arg, const char *route, int status, double seconds)
{
	struct daemon *d = arg;
	struct log_field f[] = { { "route", route }, { "status", NULL } };
	char code[16];

	metrics_api_request(d->metrics, route, status, seconds);
	if (log_get_level() >= LOG_LVL_DEBUG) {
		snprintf(code, sizeof(code), "%d", status);
		f[1].value = code;
		log_fields(LOG_LVL_DEBUG, f, 2, "api request in %.3fs", seconds);
	}
}

int
daemon_ready(void *arg, char *why, size_t len)
{
	struct daemon *d = arg;

	uv_update_time(d->loop);
	if (status_ready(uv_now(d->loop), d->last_observation_ms, d->settings.interval_ms))
		return 1;
	snprintf(why, len, d->last_observation_ms == 0 ?
	    "no complete observation yet" :
	    "the last complete observation is older than 3 intervals");
	return 0;
}

const char *
daemon_follow(const struct daemon *d)
{
	if (d->settings.follow == FOLLOW_POLL || d->watch == NULL ||
	    d->watch_degraded)
		return "poll";
	return "watch";
}

char *
daemon_status_json(void *arg)
{
	struct daemon *d = arg;
	char fp[32];
	struct status_snapshot s = {
		.version = CP_VERSION,
		.started = d->started,
		.running = d->running,
		.pending = d->pending,
		.next_reconcile = d->next_reconcile,
		.last_reconcile = d->last.finished,
		.last_result = d->last.result,
		.last_duration = d->last.duration,
		.last_error = d->last.error,
		.last_success = d->last_success,
		.last_observation = d->last_observation,
		.n_create = d->last.n_create,
		.n_delete = d->last.n_delete,
		.n_update = d->last.n_update,
		.n_failed = d->last.n_failed,
		.drift = d->last.drift,
		.n_drift = d->last.n_drift,
		.blocked = d->last.blocked,
		.n_blocked = d->last.n_blocked,
		.pending_domains = d->last.pending_domains,
		.n_pending_domains = d->last.n_pending_domains,
		.managed_env_vars = d->last.managed_env_vars,
		.managed_domains = d->last.managed_domains,
		.managed_deploy_keys = d->last.managed_deploy_keys,
		.desired_path = d->settings.desired,
		.desired_follow = daemon_follow(d),
		.desired_fingerprint = d->desired ? fp : NULL,
		.desired_files = d->desired ? d->fp_loaded.n_files : 0,
		.desired_loaded = d->desired_loaded,
		.desired_projects = d->desired ? d->desired->n_projects : 0,
		.desired_errors = (const char *const *)d->desired_errors,
		.n_desired_errors = d->n_desired_errors,
	};
	char why[128];

	desired_fingerprint_hex(&d->fp_loaded, fp, sizeof(fp));
	s.ready = daemon_ready(d, why, sizeof(why)) == 1;
	return status_snapshot_json(&s);
}
