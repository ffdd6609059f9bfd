/* cmd_saved_plan.c: what `plan --out FILE` and `apply FILE` add to one
 * reconcile (SPEC section 13; saved_plan.h has the file, plan_digest.h the
 * digests). plan --out: digest the files as loaded, then save the plan with
 * the digests of the observation and of the plan. apply FILE: read and
 * check the file before anything is sent (seal, version, settings, team),
 * then, once the team is observed and the plan made again, go on only when
 * the new plan's digest is the saved one; otherwise say what changed and
 * do nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "commands.h"
#include "log.h"
#include "reconcile.h"
#include "saved_plan.h"
#include "settings.h"

int
cmd_saved_begin(struct cmd_saved *cs, const struct settings *s,
    const struct desired_state *ds, const char *token, const char *apply_file)
{
	char err[1024];
	int rc;

	memset(cs, 0, sizeof(*cs));
	cs->apply_file = apply_file;
	cs->out_file = apply_file == NULL ? s->out : NULL;
	if (cs->apply_file == NULL && cs->out_file == NULL)
		return 0;
	plan_digest_key(token, &cs->key);
	cs->active = true;
	if ((rc = plan_digest_desired(s->desired, ds, &cs->key, &cs->desired, err,
	    sizeof(err))) != 0) {
		log_errorx("cannot digest the desired state: %s: nothing was done", err);
		return rc;
	}
	if (apply_file == NULL)
		return 0;
	if ((rc = saved_plan_read(apply_file, &cs->key, &cs->saved, err, sizeof(err))) != 0) {
		log_errorx("saved plan %s: %s: nothing was done", apply_file, err);
		return rc;
	}
	cs->have_saved = true;
	return 0;
}

int
cmd_saved_check_settings(const struct cmd_saved *cs, const struct settings *s,
    const struct reconcile_config *rcfg)
{
	char err[2048];

	if (!cs->have_saved)
		return 0;
	if (saved_plan_check_settings(&cs->saved, s->api_url, rcfg->team_id,
	    &rcfg->plan, err, sizeof(err)) != 0) {
		log_errorx("saved plan %s cannot be applied with these settings: %s; "
		    "nothing was done (apply with the settings it was made with, or "
		    "plan again)", cs->apply_file, err);
		return -EINVAL;
	}
	return 0;
}

/* reconcile.h's gate: the new plan must be the saved one. */
int
cmd_saved_gate(void *arg, const struct reconcile_outcome *out, char *msg,
    size_t len)
{
	struct cmd_saved *cs = arg;
	char plan_hex[SHA256_HEX_LEN], obs_hex[SHA256_HEX_LEN];
	struct buf why;
	int rc;

	if ((rc = plan_digest_plan(&out->plan, &cs->key, plan_hex)) != 0 ||
	    (rc = plan_digest_observed(&out->observed, &cs->key, obs_hex)) != 0) {
		snprintf(msg, len, "out of memory: nothing was done");
		return rc;
	}
	if (plan_digest_equal(plan_hex, cs->saved.plan_digest)) {
		if (!plan_digest_equal(cs->desired.all, cs->saved.desired.all))
			log_info("saved plan %s: the files changed since it was made, "
			    "but not in a way that changes the plan", cs->apply_file);
		if (!plan_digest_equal(obs_hex, cs->saved.observed))
			log_info("saved plan %s: the team changed since it was made, "
			    "but not in a way that changes the plan", cs->apply_file);
		log_info("saved plan %s (made %s): the plan is unchanged: applying it",
		    cs->apply_file, cs->saved.created);
		return 0;
	}
	buf_init(&why, 1u << 20);
	if (saved_plan_explain(&cs->saved, &cs->desired, obs_hex, &out->plan,
	    &why) != 0 || why.len == 0) {
		buf_reset(&why);
		buf_appendf(&why, "  a detail not shown in the plan changed\n");
	}
	/* One log line each (text or JSON logs alike); the names in them are
	 * escaped already, the log escapes the rest. */
	log_errorx("saved plan %s (made %s) is no longer what apply would do:",
	    cs->apply_file, cs->saved.created);
	for (size_t i = 0, st = 0; i < why.len; i++) {
		if (why.data[i] != '\n')
			continue;
		log_errorx("%.*s", (int)(i - st), why.data + st);
		st = i + 1;
	}
	buf_free(&why);
	snprintf(msg, len, "the saved plan %s is stale (what changed is listed "
	    "above): nothing was done; run plan again and review the new plan",
	    cs->apply_file);
	return -ESTALE;
}

int
cmd_saved_finish(struct cmd_saved *cs, const struct settings *s,
    const struct reconcile_config *rcfg, const struct reconcile_outcome *out)
{
	struct saved_plan_input in;
	char plan_hex[SHA256_HEX_LEN], obs_hex[SHA256_HEX_LEN], err[1024];
	struct timespec now;
	int rc;

	if (cs->out_file == NULL || out->rc != 0)
		return 0;
	if ((rc = plan_digest_plan(&out->plan, &cs->key, plan_hex)) != 0 ||
	    (rc = plan_digest_observed(&out->observed, &cs->key, obs_hex)) != 0) {
		log_errorx("cannot save the plan: out of memory");
		return rc;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	memset(&in, 0, sizeof(in));
	in.api_url = s->api_url;
	in.team_id = out->team_id;
	in.settings = &rcfg->plan;
	in.desired_path = s->desired;
	in.desired = &cs->desired;
	in.observed = obs_hex;
	in.plan_digest = plan_hex;
	in.plan = &out->plan;
	in.now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if ((rc = saved_plan_write(cs->out_file, &in, &cs->key, err, sizeof(err))) != 0) {
		log_errorx("cannot save the plan: %s", err);
		return rc;
	}
	log_info("plan saved to %s: apply it with `convex-provisioner apply %s`",
	    cs->out_file, cs->out_file);
	return 0;
}

void
cmd_saved_end(struct cmd_saved *cs)
{
	plan_digest_key_wipe(&cs->key);
	plan_digest_desired_free(&cs->desired);
	saved_plan_free(&cs->saved);
	memset(cs, 0, sizeof(*cs));
}
