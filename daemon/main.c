/* main.c: the command line: settings first (flags, environment, file),
 * then one command from the table. Options may stand before or after the
 * command (GNU order); see settings_load. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cdefs.h"
#include "commands.h"
#include "daemon.h"
#include "diag.h"
#include "log.h"
#include "settings.h"

struct command {
	const char *name;
	int (*fn)(const struct settings *, int argc, char **argv);
	const char *args;        /* shown after the name in --help */
	const char *summary;
};

static const struct command commands[] = {
	{ "validate", cmd_validate, "[PATH]",
	  "check the desired state offline (PATH overrides --desired)" },
	{ "plan", cmd_plan, "",
	  "observe, diff and print; change nothing (exit 2: changes pending);\n"
	  "--out FILE saves it for apply FILE, --format markdown for a review" },
	{ "apply", cmd_apply, "[FILE]",
	  "one reconcile, then exit (exit 3: a guard held deletes back);\n"
	  "FILE: exactly that saved plan, or nothing (exit 1) if it changed" },
	{ "show", cmd_show, "",
	  "the declared projects as observed: ids, deployment names, URLs, ..." },
	{ "run", cmd_run, "",
	  "the daemon: reconcile on a timer and when the files change" },
};

#define N_COMMANDS CP_NELEM(commands)

static void
usage(FILE *f)
{
	char left[64];

	fprintf(f, "Usage: convex-provisioner [OPTIONS] COMMAND [ARGS]\n\n"
	    "Keeps a Convex team's projects and deployments equal to what a "
	    "directory of\nYAML files declares.\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		snprintf(left, sizeof(left), "%s %s", commands[i].name,
		    commands[i].args);
		/* A summary's second line lines up under its first. */
		fprintf(f, "  %-24s ", left);
		for (const char *c = commands[i].summary; *c != '\0'; c++) {
			if (*c == '\n')
				fprintf(f, "\n  %-24s ", "");
			else
				fputc(*c, f);
		}
		fputc('\n', f);
	}
	fputc('\n', f);
	settings_usage(f);
}

int
main(int argc, char **argv)
{
	struct settings s;
	struct diag d;
	const struct command *cmd = NULL;
	int cmd_index, rc;

	/* A write to a pipe whose reader is gone (`2>&1 | logger` after logger
	 * exits, a log driver restarting) must fail with EPIPE, not kill the
	 * process: a log line that cannot be written is dropped, and the
	 * daemon goes on. Every command, before anything is written. */
	signal(SIGPIPE, SIG_IGN);
	diag_init(&d);
	rc = settings_load(argc, argv, &s, &cmd_index, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (rc == 0 && s.help) {
		usage(stdout);
		settings_free(&s);
		return 0;
	}
	if (rc == 0 && s.version) {
		printf("convex-provisioner %s\n", CP_VERSION);
		settings_free(&s);
		return 0;
	}
	if (rc != 0) {
		settings_free(&s);
		return 1;
	}
	log_init(s.log_level, s.log_format);
	if (cmd_index >= argc) {
		fprintf(stderr, "error: no command given\n\n");
		usage(stderr);
		settings_free(&s);
		return 1;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[cmd_index], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		char q[DIAG_QUOTE_MAX];

		fprintf(stderr, "error: unknown command %s (see --help)\n",
		    diag_quote(q, sizeof(q), argv[cmd_index],
		    strlen(argv[cmd_index])));
		settings_free(&s);
		return 1;
	}
	rc = cmd->fn(&s, argc - cmd_index, argv + cmd_index);
	settings_free(&s);
	return rc;
}
