/* cmd_reconcile.c: `plan` and `apply`: one reconcile on a fresh loop, then
 * the plan (and for apply, each action's result) on stdout, as text or as
 * the JSON object of SPEC section 4, and the exit code of that section. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "api.h"
#include "buf.h"
#include "commands.h"
#include "desired.h"
#include "diag.h"
#include "lock.h"
#include "log.h"
#include "plan_print.h"
#include "reconcile.h"
#include "settings.h"
#include "textesc.h"
#include "token.h"

#define OUTPUT_MAX (256u << 20)

/* apply takes the same lock as `run`: two writers of one ledger would lose
 * each other's records. plan writes nothing and takes no lock. */
static int
lock_state_dir(const char *dir)
{
	char err[512];
	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_errorx("state_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((fd = lock_acquire(dir, err, sizeof(err))) < 0)
		log_errorx("%s", err);
	return fd;
}

struct once {
	struct api_client *client;
	struct reconcile_outcome *outcome;
};

static void
on_closed(void *arg)
{
	(void)arg;
}

static void
on_done(void *arg, struct reconcile_outcome *out)
{
	struct once *o = arg;

	o->outcome = out;
	/* Nothing else to do: release the client so the loop can end. */
	api_client_close(o->client, on_closed, NULL);
	o->client = NULL;
}

/* Settings -> client configuration; the token is borrowed. */
void
cmd_api_config(const struct settings *s, const char *token, struct api_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->base_url = s->api_url;
	cfg->token = token;
	cfg->ca_file = s->ca_file;
	cfg->concurrency = s->concurrency;
	cfg->request_timeout_ms = s->request_timeout_ms;
}

void
cmd_reconcile_config(const struct settings *s, struct reconcile_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->team_id = s->team_id;
	cfg->plan.prune = s->prune;
	cfg->plan.max_deletes = s->max_deletes;
	cfg->plan.allow_empty = s->allow_empty;
	cfg->state_dir = s->state_dir;
	cfg->concurrency = s->concurrency;
}

static int
print_outcome(const struct settings *s, const struct reconcile_outcome *out)
{
	struct buf b;
	int rc;

	buf_init(&b, OUTPUT_MAX);
	if (out->rc != 0) {
		log_errorx("%s", out->error);
		if (s->json) {
			cJSON *o = cJSON_CreateObject();
			char *text, *clean;
			if (o == NULL || !cJSON_AddStringToObject(o, "error", out->error) ||
			    (text = cJSON_PrintUnformatted(o)) == NULL) {
				cJSON_Delete(o);
				return -ENOMEM;
			}
			/* Valid UTF-8, controls escaped, secrets masked. */
			clean = textesc_json_clean(text);
			cJSON_free(text);
			cJSON_Delete(o);
			if (clean == NULL)
				return -ENOMEM;
			printf("%s\n", clean);
			free(clean);
		}
		return 0;
	}
	if (s->json)
		rc = plan_print_json(&out->plan, out->results, 1, &b);
	else
		rc = plan_print_text(&out->plan, out->results,
		    (isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL) ? PLAN_PRINT_COLOUR : 0, &b);
	if (rc == 0 && b.len > 0)
		fwrite(b.data, 1, b.len, stdout);
	buf_free(&b);
	/* A result nobody could read (stdout a closed pipe) is an error,
	 * said on stderr; SIGPIPE is ignored (main.c). */
	if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0)
		rc = -EPIPE;
	return rc;
}

static int
reconcile_once(const struct settings *s, int argc, char **argv, enum reconcile_mode mode)
{
	struct desired_state ds = { 0 };
	struct token tok = { 0 };
	struct api_config acfg;
	struct api_error aerr = { 0 };
	struct reconcile_config rcfg;
	struct reconciler r;
	struct once o = { 0 };
	struct diag d;
	uv_loop_t loop;
	char err[512];
	int rc, code = 1, lock_fd = -1;

	if (argc > 1) {
		fprintf(stderr, "error: %s takes no argument (use --desired PATH)\n", argv[0]);
		return 1;
	}
	diag_init(&d);
	rc = desired_load(s->desired, &ds, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (rc != 0) {
		log_errorx("%s: the desired state is invalid, nothing was done", s->desired);
		desired_state_free(&ds);
		return 1;
	}
	if (mode == RECONCILE_APPLY && (lock_fd = lock_state_dir(s->state_dir)) < 0) {
		desired_state_free(&ds);
		return 1;
	}
	if (token_load(s->token_file, &tok, err, sizeof(err)) != 0) {
		log_errorx("token: %s", err);
		lock_release(lock_fd);
		desired_state_free(&ds);
		return 1;
	}
	if (uv_loop_init(&loop) != 0) {
		token_clear(&tok);
		lock_release(lock_fd);
		desired_state_free(&ds);
		return 1;
	}
	cmd_api_config(s, tok.value, &acfg);
	if (api_client_new(&loop, &acfg, &o.client, &aerr) != 0) {
		api_error_format(&aerr, err, sizeof(err));
		log_errorx("API client: %s", err);
		goto out_loop;
	}
	cmd_reconcile_config(s, &rcfg);
	if (reconciler_init(&r, &loop, o.client, &rcfg) != 0) {
		log_errorx("out of memory");
		api_client_close(o.client, on_closed, NULL);
		goto out_loop;
	}
	rc = reconcile_start(&r, &ds, mode, on_done, &o);
	if (rc != 0) {
		/* reconcile_start said why. */
		log_errorx("%s did not start: nothing was done", argv[0]);
		api_client_close(o.client, on_closed, NULL);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	if (o.outcome != NULL) {
		if ((rc = print_outcome(s, o.outcome)) != 0)
			log_errorx("cannot print the result: %s", rc == -EPIPE ?
			    "stdout cannot be written" : "out of memory");
		else
			code = reconcile_exit_code(o.outcome);
		reconcile_outcome_free(o.outcome);
	}
	reconciler_cleanup(&r);
out_loop:
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		log_errorx("internal error: a libuv handle was left open");
	token_clear(&tok);
	lock_release(lock_fd);
	desired_state_free(&ds);
	return code;
}

int
cmd_plan(const struct settings *s, int argc, char **argv)
{
	return reconcile_once(s, argc, argv, RECONCILE_PLAN);
}

int
cmd_apply(const struct settings *s, int argc, char **argv)
{
	return reconcile_once(s, argc, argv, RECONCILE_APPLY);
}
