/* cmd_validate.c: `validate [PATH]`, the offline check for CI: loads the
 * desired state (PATH, else --desired), prints every error gcc style on
 * stderr and a one-line summary on stdout when it is valid. The settings
 * file was already checked by settings_load before any command runs. An
 * env value whose {file:} or {env:} cannot be read is only a warning (the
 * secrets are often not there in CI), unless --strict. */
#include <stdio.h>

#include "commands.h"
#include "desired.h"
#include "diag.h"
#include "settings.h"

static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int
cmd_validate(const struct settings *s, int argc, char **argv)
{
	struct desired_state ds;
	struct diag d;
	const char *path = s->desired;
	size_t n_deps;
	int rc;

	if (argc > 2) {
		fprintf(stderr, "error: validate takes at most one PATH\n");
		return 1;
	}
	if (argc == 2)
		path = argv[1];
	diag_init(&d);
	rc = desired_load_opts(path, NULL, s->strict ? 0 : DESIRED_SECRETS_WARN,
	    &ds, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	if (rc != 0)
		return 1;
	n_deps = desired_count_deployments(&ds);
	if (s->config_file != NULL)
		printf("%s: settings: valid\n", s->config_file);
	printf("%s: %zu %s, %zu %s in %zu %s: valid\n", path, ds.n_projects,
	    plural(ds.n_projects, "project", "projects"), n_deps,
	    plural(n_deps, "deployment", "deployments"), ds.n_files,
	    plural(ds.n_files, "file", "files"));
	desired_state_free(&ds);
	return 0;
}
