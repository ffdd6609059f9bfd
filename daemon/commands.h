/* commands.h: the commands of the command line, one file each. A command
 * gets the loaded settings and its own arguments (argv[0] is its name)
 * and returns the process exit code (SPEC section 4). */
#ifndef CP_COMMANDS_H
#define CP_COMMANDS_H

struct settings;

/* cmd_validate.c: validate [PATH]: 0 valid, 1 invalid. */
int cmd_validate(const struct settings *s, int argc, char **argv);

/* cmd_reconcile.c: plan (0 no changes, 2 changes pending, 1 error) and
 * apply (0 converged, 1 a failure, 3 a guard held something back). */
int cmd_plan(const struct settings *s, int argc, char **argv);
int cmd_apply(const struct settings *s, int argc, char **argv);

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

#endif
