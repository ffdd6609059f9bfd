/* faults.c: decides, from the seeded PRNG, the latency and the fault (if any) of each /v1 request. */
#include <string.h>
#include <time.h>

#include "sim.h"

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

void
faults_plan(struct faults *f, bool is_create, struct fault_plan *out)
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
		out->error_status = r_status == 0 ? 500 : r_status == 1 ? 502 : 503;
	} else if (r_drop < f->cfg.drop_rate) {
		out->kind = FAULT_DROP;
	} else if (r_bad < f->cfg.bad_json_rate) {
		out->kind = FAULT_BAD_JSON;
	}
	out->after = is_create && r_after < 0.5;
	pthread_mutex_unlock(&f->lock);
}
