/* commands.h: the commands of the command line, one file each. A command
 * gets the loaded settings and its own arguments (argv[0] is its name)
 * and returns the process exit code (SPEC section 4). */
#ifndef CP_COMMANDS_H
#define CP_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "plan_digest.h"
#include "saved_plan.h"

struct settings;

/* cmd_validate.c: validate [PATH]: 0 valid, 1 invalid. */
int cmd_validate(const struct settings *s, int argc, char **argv);

/* cmd_reconcile.c: plan [--out FILE] (0 no changes, 2 changes pending,
 * 1 error), apply [FILE] (0 converged, 1 a failure or a stale saved plan,
 * 3 a guard held something back) and show (0, or 1: the observation
 * failed). */
int cmd_plan(const struct settings *s, int argc, char **argv);
int cmd_apply(const struct settings *s, int argc, char **argv);
int cmd_show(const struct settings *s, int argc, char **argv);

struct api_config;
struct reconcile_config;
/* Shared with `run`: settings -> client and reconciler configuration (the
 * token is borrowed, not copied). */
void cmd_api_config(const struct settings *s, const char *token, struct api_config *cfg);
void cmd_reconcile_config(const struct settings *s, struct reconcile_config *cfg);

struct desired_state;
/* Registers every env value of a desired state with the secret scrubber
 * (secrets.h), before anything is logged or printed; 0 or -ENOMEM (said). */
int cmd_register_secrets(const struct desired_state *ds);

struct reconcile_config;
struct reconcile_outcome;
/* cmd_saved_plan.c: plan --out FILE and apply FILE (SPEC section 13). */
struct cmd_saved {
	bool active;              /* one of the two was asked for */
	const char *out_file;     /* plan --out */
	const char *apply_file;   /* apply FILE */
	struct plan_digest_key key;
	struct plan_digest_desired desired;   /* of the files as loaded */
	struct saved_plan saved;  /* apply FILE: the file, checked */
	bool have_saved;
};
/* After the desired state is loaded, before anything is sent: digests the
 * files; for apply FILE reads and checks the file. 0 or a negative errno
 * (logged). cmd_saved_end in every case. */
int cmd_saved_begin(struct cmd_saved *cs, const struct settings *s,
    const struct desired_state *ds, const char *token, const char *apply_file);
/* apply FILE: the same API URL, team and plan settings (logged). */
int cmd_saved_check_settings(const struct cmd_saved *cs, const struct settings *s,
    const struct reconcile_config *rcfg);
/* The reconciler's gate (reconcile.h) for apply FILE. */
int cmd_saved_gate(void *arg, const struct reconcile_outcome *out, char *msg,
    size_t len);
/* plan --out: saves the plan of a successful outcome (logged). */
int cmd_saved_finish(struct cmd_saved *cs, const struct settings *s,
    const struct reconcile_config *rcfg, const struct reconcile_outcome *out);
void cmd_saved_end(struct cmd_saved *cs);

#endif
