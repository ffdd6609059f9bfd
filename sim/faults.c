/* faults.c: decides, from the seeded PRNGs, the latency and the fault (if any) of each /v1 request, globally and per route. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define ROUTE_SALT 0x726f75746573ULL   /* the per-route knobs' own stream */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
faults_init(struct faults *f, const struct fault_config *cfg, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->cfg = *cfg;
	f->seed = seed;
	rng_seed(&f->rng, seed);
	rng_seed(&f->route_rng, seed ^ ROUTE_SALT);
	f->window_start_ms = mono_ms();
}

void
faults_free(struct faults *f)
{
	if (f != NULL)
		pthread_mutex_destroy(&f->lock);
}

void
faults_reset(struct faults *f)
{
	pthread_mutex_lock(&f->lock);
	rng_seed(&f->rng, f->seed);
	rng_seed(&f->route_rng, f->seed ^ ROUTE_SALT);
	f->window_start_ms = mono_ms();
	f->window_count = 0;
	pthread_mutex_unlock(&f->lock);
}

void
faults_get_config(struct faults *f, struct fault_config *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->cfg;
	pthread_mutex_unlock(&f->lock);
}

void
faults_set_config(struct faults *f, const struct fault_config *cfg)
{
	pthread_mutex_lock(&f->lock);
	f->cfg = *cfg;
	pthread_mutex_unlock(&f->lock);
}

size_t
faults_get_routes(struct faults *f, struct route_faults *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->nroutes < max ? f->nroutes : max;
	memcpy(out, f->routes, n * sizeof(*out));
	pthread_mutex_unlock(&f->lock);
	return n;
}

static struct route_faults *
find_route(struct faults *f, const char *route)
{
	for (size_t i = 0; i < f->nroutes; i++)
		if (strcmp(f->routes[i].route, route) == 0)
			return &f->routes[i];
	return NULL;
}

int
faults_set_route(struct faults *f, const char *route,
    const struct route_faults *rf)
{
	struct route_faults *cur;
	int rc = 0;

	pthread_mutex_lock(&f->lock);
	cur = find_route(f, route);
	if (rf == NULL) {
		if (cur != NULL) {
			*cur = f->routes[f->nroutes - 1];
			f->nroutes--;
		}
	} else if (cur != NULL) {
		*cur = *rf;
	} else if (f->nroutes < SIM_MAX_ROUTE_FAULTS) {
		f->routes[f->nroutes++] = *rf;
	} else {
		rc = -ENOSPC;
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static unsigned
status_of(uint64_t r)
{
	return r == 0 ? 500 : r == 1 ? 502 : 503;
}

/* The route's own knobs, from its own stream: eight draws per request
 * whatever is set, so setting one route never shifts another's faults.
 * They add to the global plan: a fault it already has stays. */
static void
plan_route(struct faults *f, const char *route, struct fault_plan *out)
{
	double r[7];
	uint64_t r_status;
	const struct route_faults *rf;

	for (int i = 0; i < 7; i++)
		r[i] = rng_double(&f->route_rng);
	r_status = rng_below(&f->route_rng, 3);
	if (route == NULL || (rf = find_route(f, route)) == NULL)
		return;
	if (!out->rate_limited && r[0] < rf->rate_limit_rate) {
		out->rate_limited = true;
		out->retry_after = rf->retry_after;
	}
	if (!out->stall && r[1] < rf->stall_rate) {
		out->stall = true;
		out->stall_ms = rf->stall_ms;
	}
	if (out->kind != FAULT_NONE)
		return;
	out->error_status = status_of(r_status);
	if (r[2] < rf->error_rate) {
		out->kind = FAULT_ERROR;
	} else if (r[3] < rf->error_after_rate) {
		out->kind = FAULT_ERROR;
		out->after = true;
	} else if (r[4] < rf->drop_rate) {
		out->kind = FAULT_DROP;
	} else if (r[5] < rf->drop_after_rate) {
		out->kind = FAULT_DROP;
		out->after = true;
	} else if (r[6] < rf->bad_json_rate) {
		out->kind = FAULT_BAD_JSON;
	}
}

bool
faults_page_fails(struct faults *f, const char *route, unsigned page,
    unsigned *status)
{
	struct route_faults *rf;
	bool fails = false;

	if (page == 0)
		return false;
	pthread_mutex_lock(&f->lock);
	rf = find_route(f, route);
	if (rf != NULL && rf->fail_page == page && rf->fail_page_times != 0) {
		/* The last of its times removes the knob (GET /_sim/config then
		 * shows failPage null). */
		if (rf->fail_page_times > 0 && --rf->fail_page_times == 0)
			rf->fail_page = 0;
		*status = rf->fail_page_status;
		fails = true;
	}
	pthread_mutex_unlock(&f->lock);
	return fails;
}

void
faults_plan(struct faults *f, const char *route, bool is_create,
    struct fault_plan *out)
{
	double r_jitter, r_stall, r_err, r_drop, r_bad, r_after;
	uint64_t r_status;
	int64_t now;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&f->lock);
	/* Every request draws the same numbers in the same order, whatever
	 * is enabled, so a seed replays the same faults for the same
	 * sequence of requests. */
	r_jitter = rng_double(&f->rng);
	r_stall = rng_double(&f->rng);
	r_err = rng_double(&f->rng);
	r_drop = rng_double(&f->rng);
	r_bad = rng_double(&f->rng);
	r_after = rng_double(&f->rng);
	r_status = rng_below(&f->rng, 3);

	out->delay_ms = f->cfg.latency_ms +
	    (unsigned)(r_jitter * (double)(f->cfg.latency_jitter_ms + 1));
	if (out->delay_ms > f->cfg.latency_ms + f->cfg.latency_jitter_ms)
		out->delay_ms = f->cfg.latency_ms + f->cfg.latency_jitter_ms;

	/* A fixed one-second window: the first rate_limit requests pass. */
	if (f->cfg.rate_limit > 0) {
		now = mono_ms();
		if (now - f->window_start_ms >= 1000) {
			f->window_start_ms = now - (now - f->window_start_ms) % 1000;
			f->window_count = 0;
		}
		if (f->window_count >= f->cfg.rate_limit) {
			int64_t left = 1000 - (now - f->window_start_ms);

			out->rate_limited = true;
			out->retry_after = (unsigned)((left + 999) / 1000);
			if (out->retry_after == 0)
				out->retry_after = 1;
		} else {
			f->window_count++;
		}
	}
	if (r_stall < f->cfg.stall_rate) {
		out->stall = true;
		out->stall_ms = f->cfg.stall_ms;
	}
	if (r_err < f->cfg.error_rate) {
		out->kind = FAULT_ERROR;
		out->error_status = status_of(r_status);
	} else if (r_drop < f->cfg.drop_rate) {
		out->kind = FAULT_DROP;
	} else if (r_bad < f->cfg.bad_json_rate) {
		out->kind = FAULT_BAD_JSON;
	}
	/* Global errors and drops hit creates after the fact half the time. */
	out->after = is_create && r_after < 0.5 && out->kind != FAULT_BAD_JSON &&
	    out->kind != FAULT_NONE;
	plan_route(f, route, out);
	pthread_mutex_unlock(&f->lock);
}
