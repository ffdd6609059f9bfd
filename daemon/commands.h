/* commands.h: the commands of the command line, one file each. A command
 * gets the loaded settings and its own arguments (argv[0] is its name)
 * and returns the process exit code (SPEC section 4). */
#ifndef CP_COMMANDS_H
#define CP_COMMANDS_H

struct settings;

/* cmd_validate.c: validate [PATH]: 0 valid, 1 invalid. */
int cmd_validate(const struct settings *s, int argc, char **argv);

#endif
