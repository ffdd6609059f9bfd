/* cmd_reconcile.c: `plan`, `apply` and `show`: one reconcile on a fresh
 * loop, then the plan (and for apply, each action's result) on stdout, as
 * text, as the JSON object of SPEC section 4 or (plan) as Markdown, and
 * the exit code of that section; `show` prints the inventory instead
 * (SPEC section 13). plan --out FILE and apply FILE: cmd_saved_plan.c. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
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
#include "inventory.h"
#include "lock.h"
#include "log.h"
#include "plan_markdown.h"
#include "plan_print.h"
#include "reconcile.h"
#include "secrets.h"
#include "settings.h"
#include "textesc.h"
#include "token.h"

#define OUTPUT_MAX (256u << 20)

enum job_kind { JOB_PLAN, JOB_APPLY, JOB_SHOW };

struct job {
	enum job_kind kind;
	enum output_format format;
	const char *apply_file;   /* apply FILE */
	const char *keys_dir;     /* show: where deploy key files are */
	const struct desired_state *ds;
};

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

/* As `run` does (cmd_run.c): on SIGTERM or SIGINT nothing new starts,
 * requests in flight get this long to finish (and be recorded in the
 * ledger and the audit trail), then they are cancelled. */
#define INTERRUPT_GRACE_MS 10000

struct once {
	struct api_client *client;
	struct reconciler *rec;
	struct reconcile_outcome *outcome;
	uv_signal_t sigterm;
	uv_signal_t sigint;
	uv_timer_t grace;
	bool handles;           /* the three above are open */
	int interrupted;        /* the first signal, or 0 */
};

static void
on_closed(void *arg)
{
	(void)arg;
}

static void
close_handles(struct once *o)
{
	if (!o->handles)
		return;
	o->handles = false;
	uv_close((uv_handle_t *)&o->sigterm, NULL);
	uv_close((uv_handle_t *)&o->sigint, NULL);
	uv_close((uv_handle_t *)&o->grace, NULL);
}

static void
on_done(void *arg, struct reconcile_outcome *out)
{
	struct once *o = arg;

	o->outcome = out;
	/* Nothing else to do: release the client and the signal handlers so
	 * the loop can end. */
	api_client_close(o->client, on_closed, NULL);
	o->client = NULL;
	close_handles(o);
}

static void
on_grace(uv_timer_t *t)
{
	struct once *o = t->data;

	if (o->client == NULL)
		return;
	log_warnx("requests still in flight after %d s: cancelling them (a create "
	    "cancelled now is decided by the next observation)",
	    INTERRUPT_GRACE_MS / 1000);
	api_cancel_all(o->client);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct once *o = h->data;
	const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";

	if (o->client == NULL)
		return;                 /* done already: only printing is left */
	if (o->interrupted != 0) {
		log_warnx("%s again: cancelling the requests in flight now", name);
		api_cancel_all(o->client);
		return;
	}
	o->interrupted = signum;
	reconcile_stop_starting(o->rec);
	if (o->rec->exec == NULL) {
		/* Still observing (or discovering the team): nothing has been
		 * changed and nothing needs recording; stop at once. */
		log_warnx("%s: interrupted while observing: stopping, nothing was "
		    "changed", name);
		api_cancel_all(o->client);
		return;
	}
	log_warnx("%s: interrupted: starting nothing new; the requests in flight "
	    "get up to %d s to finish and are recorded", name,
	    INTERRUPT_GRACE_MS / 1000);
	uv_timer_start(&o->grace, on_grace, INTERRUPT_GRACE_MS, 0);
}

static int
open_handles(struct once *o, uv_loop_t *loop)
{
	if (uv_signal_init(loop, &o->sigterm) != 0)
		return -1;
	if (uv_signal_init(loop, &o->sigint) != 0) {
		uv_close((uv_handle_t *)&o->sigterm, NULL);
		return -1;
	}
	if (uv_timer_init(loop, &o->grace) != 0) {
		uv_close((uv_handle_t *)&o->sigterm, NULL);
		uv_close((uv_handle_t *)&o->sigint, NULL);
		return -1;
	}
	o->sigterm.data = o->sigint.data = o->grace.data = o;
	o->handles = true;
	uv_signal_start(&o->sigterm, on_signal, SIGTERM);
	uv_signal_start(&o->sigint, on_signal, SIGINT);
	return 0;
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
	cfg->plan.drift = s->drift;
	cfg->state_dir = s->state_dir;
	cfg->concurrency = s->concurrency;
	cfg->keys_dir = s->keys_dir;
}

static int
register_secret(const char *value, void *ctx)
{
	(void)ctx;
	return secrets_register(value);
}

int
cmd_register_secrets(const struct desired_state *ds)
{
	int rc = desired_state_secrets(ds, register_secret, NULL);

	if (rc != 0)
		log_errorx("out of memory registering the env values as secrets");
	return rc;
}

/* The JSON object of SPEC section 4 with "interrupted": "SIGTERM" added. */
static int
print_json_interrupted(const struct reconcile_outcome *out, const char *sig,
    struct buf *b)
{
	cJSON *root = plan_to_cjson(&out->plan, out->results);
	char *text = NULL, *clean = NULL;
	int rc = -ENOMEM;

	if (root != NULL && cJSON_AddStringToObject(root, "interrupted", sig) &&
	    (text = cJSON_Print(root)) != NULL &&
	    (clean = textesc_json_clean(text)) != NULL &&
	    (rc = buf_append(b, clean, strlen(clean))) == 0)
		rc = buf_append(b, "\n", 1);
	free(clean);
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}

static int
print_error_json(const struct reconcile_outcome *out, int interrupted)
{
	const char *sig = interrupted == SIGTERM ? "SIGTERM" : "SIGINT";
	cJSON *o = cJSON_CreateObject();
	char *text, *clean;

	if (o == NULL || !cJSON_AddStringToObject(o, "error", out->error) ||
	    (interrupted != 0 &&
	    !cJSON_AddStringToObject(o, "interrupted", sig)) ||
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
	return 0;
}

static int
print_outcome(const struct job *job, const struct reconcile_outcome *out,
    int interrupted)
{
	const char *sig = interrupted == SIGTERM ? "SIGTERM" : "SIGINT";
	bool json = job->format == FORMAT_JSON;
	struct buf b;
	int rc;

	buf_init(&b, OUTPUT_MAX);
	if (out->rc != 0) {
		log_errorx("%s", out->error);
		return json ? print_error_json(out, interrupted) : 0;
	}
	if (job->kind == JOB_SHOW) {
		struct inventory inv = { job->ds, &out->observed, job->keys_dir,
		    out->team_id };

		rc = json ? inventory_print_json(&inv, &b) :
		    inventory_print_text(&inv, &b);
	} else if (json && interrupted != 0)
		rc = print_json_interrupted(out, sig, &b);
	else if (json)
		rc = plan_print_json(&out->plan, out->results, 1, &b);
	else if (job->format == FORMAT_MARKDOWN)
		rc = plan_print_markdown(&out->plan, NULL, &b);
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

/* The arguments and the format each command accepts; 0, or 1 (said). */
static int
check_usage(const struct settings *s, int argc, char **argv, struct job *job)
{
	if (settings_output_format(s, &job->format) != 0) {
		fprintf(stderr, "error: --json and --format %s contradict each other\n",
		    settings_format_name(s->format));
		return 1;
	}
	if (job->format == FORMAT_MARKDOWN && job->kind != JOB_PLAN) {
		fprintf(stderr, "error: --format markdown is for plan only\n");
		return 1;
	}
	if (s->out != NULL && job->kind != JOB_PLAN) {
		fprintf(stderr, "error: --out FILE is for plan only (then: apply FILE)\n");
		return 1;
	}
	if (job->kind == JOB_APPLY && argc == 2) {
		job->apply_file = argv[1];
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "error: %s takes no argument%s (use --desired PATH)\n",
		    argv[0], job->kind == JOB_APPLY ? " but a saved plan FILE" : "");
		return 1;
	}
	return 0;
}

static int
reconcile_once(const struct settings *s, int argc, char **argv, enum job_kind kind)
{
	enum reconcile_mode mode = kind == JOB_APPLY ? RECONCILE_APPLY : RECONCILE_PLAN;
	struct job job = { .kind = kind };
	struct cmd_saved saved;
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

	memset(&saved, 0, sizeof(saved));
	if (check_usage(s, argc, argv, &job) != 0)
		return 1;
	job.ds = &ds;
	diag_init(&d);
	rc = desired_load(s->desired, &ds, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (rc != 0) {
		log_errorx("%s: the desired state is invalid, nothing was done", s->desired);
		desired_state_free(&ds);
		return 1;
	}
	/* Every env value is masked in every output from here on. */
	if (cmd_register_secrets(&ds) != 0) {
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
	/* plan --out, apply FILE: the files' digests, the saved plan checked,
	 * before any request. */
	if (cmd_saved_begin(&saved, s, &ds, tok.value, job.apply_file) != 0 ||
	    uv_loop_init(&loop) != 0) {
		cmd_saved_end(&saved);
		token_free(&tok);
		lock_release(lock_fd);
		desired_state_free(&ds);
		return 1;
	}
	cmd_reconcile_config(s, &rcfg);
	if (saved.have_saved) {
		if (cmd_saved_check_settings(&saved, s, &rcfg) != 0)
			goto out_loop;
		rcfg.team_id = saved.saved.team_id;
	}
	cmd_api_config(s, tok.value, &acfg);
	if (api_client_new(&loop, &acfg, &o.client, &aerr) != 0) {
		api_error_format(&aerr, err, sizeof(err));
		log_errorx("API client: %s", err);
		goto out_loop;
	}
	if (reconciler_init(&r, &loop, o.client, &rcfg) != 0) {
		log_errorx("out of memory");
		api_client_close(o.client, on_closed, NULL);
		goto out_loop;
	}
	if (saved.have_saved) {
		r.gate = cmd_saved_gate;
		r.gate_arg = &saved;
	}
	job.keys_dir = r.keys_dir;
	o.rec = &r;
	if (open_handles(&o, &loop) != 0) {
		log_errorx("cannot watch for SIGTERM and SIGINT: nothing was done");
		api_client_close(o.client, on_closed, NULL);
		o.client = NULL;
	} else if (reconcile_start(&r, &ds, mode, on_done, &o) != 0) {
		/* reconcile_start said why. */
		log_errorx("%s did not start: nothing was done", argv[0]);
		api_client_close(o.client, on_closed, NULL);
		o.client = NULL;
		close_handles(&o);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	if (o.outcome != NULL) {
		if ((rc = print_outcome(&job, o.outcome, o.interrupted)) != 0)
			log_errorx("cannot print the result: %s", rc == -EPIPE ?
			    "stdout cannot be written" : "out of memory");
		else if (kind == JOB_SHOW)
			code = o.outcome->rc != 0 ? 1 : 0;
		else
			code = reconcile_exit_code(o.outcome);
		/* plan --out: saved once printed; a plan that cannot be
		 * saved is an error (exit 1), whatever it says. */
		if (kind == JOB_PLAN && o.interrupted == 0 &&
		    cmd_saved_finish(&saved, s, &rcfg, o.outcome) != 0)
			code = 1;
		if (o.interrupted != 0) {
			/* Exit 1: what was asked was not all done. */
			const char *sig = o.interrupted == SIGTERM ? "SIGTERM" :
			    "SIGINT";
			if (kind != JOB_APPLY || o.outcome->rc != 0 ||
			    o.outcome->results == NULL)
				log_errorx("%s was interrupted by %s: nothing was "
				    "changed", argv[0], sig);
			else
				log_errorx("%s was interrupted by %s: %zu actions "
				    "done, %zu failed, %zu not started; the ledger "
				    "and the audit trail record what was done",
				    argv[0], sig, o.outcome->n_ok,
				    o.outcome->n_failed, o.outcome->n_skipped);
			code = 1;
		}
		reconcile_outcome_free(o.outcome);
	}
	reconciler_cleanup(&r);
out_loop:
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		log_errorx("internal error: a libuv handle was left open");
	cmd_saved_end(&saved);
	token_free(&tok);
	lock_release(lock_fd);
	desired_state_free(&ds);
	return code;
}

int
cmd_plan(const struct settings *s, int argc, char **argv)
{
	return reconcile_once(s, argc, argv, JOB_PLAN);
}

int
cmd_apply(const struct settings *s, int argc, char **argv)
{
	return reconcile_once(s, argc, argv, JOB_APPLY);
}

int
cmd_show(const struct settings *s, int argc, char **argv)
{
	return reconcile_once(s, argc, argv, JOB_SHOW);
}
