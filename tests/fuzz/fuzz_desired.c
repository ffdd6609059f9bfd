/* fuzz_desired.c: libFuzzer target for the desired-state loader. The input
 * is one YAML file, or, split at NUL bytes (which YAML never holds), up to
 * four files of one folder; every load must either succeed with a state
 * that keeps each rule of SPEC sections 2, 8 and 9, or fail with its errors
 * reported and nothing left allocated. Each file is also read by the streaming
 * reader the loader uses and by the YAML tree, which must agree on every
 * node and every diagnostic (tests/unit/yparity.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../unit/yparity.h"
#include "desired.h"
#include "diag.h"
#include "fuzz.h"
#include "ytree.h"

#define MAX_FILES 4

static const char *const names[MAX_FILES] = {
	"a.yaml", "b.yml", "sub/c.yaml", "sub/deeper/d.yaml",
};
static const char *tmp_root;

/* libFuzzer may end with _exit(), so nothing outlives one input: each
 * folder is made and removed around its own load. */
static void
remove_tree(const char *dir)
{
	char p[160];

	for (int i = 0; i < MAX_FILES; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/sub/deeper", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/sub", dir);
	rmdir(p);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	tmp_root = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	return 0;
}

/* No earlier name is a declared name, and each is claimed once. */
static void
check_project_renames(const struct desired_state *ds, size_t i)
{
	const struct desired_project *p = &ds->projects[i];

	for (size_t r = 0; r < p->n_renamed_from; r++) {
		const char *old = p->renamed_from[r];

		FUZZ_CHECK(desired_name_problem(old, strlen(old)) == NULL);
		FUZZ_CHECK(!p->absent);
		for (size_t j = 0; j < ds->n_projects; j++) {
			const struct desired_project *q = &ds->projects[j];

			FUZZ_CHECK(strcmp(q->name, old) != 0);
			for (size_t s = 0; s < q->n_renamed_from; s++)
				FUZZ_CHECK((j == i && s == r) ||
				    strcmp(q->renamed_from[s], old) != 0);
		}
	}
}

static void
check_deployment_keys(const struct desired_project *p,
    const struct desired_deployment *d)
{
	for (size_t r = 0; r < d->n_renamed_from; r++) {
		const char *old = d->renamed_from[r];

		FUZZ_CHECK(desired_reference_problem(old, strlen(old)) == NULL);
		for (size_t m = 0; m < p->n_deployments; m++) {
			const struct desired_deployment *o = &p->deployments[m];

			FUZZ_CHECK(strcmp(o->reference, old) != 0);
			for (size_t s = 0; s < o->n_renamed_from; s++)
				FUZZ_CHECK((o == d && s == r) ||
				    strcmp(o->renamed_from[s], old) != 0);
		}
	}
	FUZZ_CHECK(d->expires <= DESIRED_EXPIRES_AT);
	FUZZ_CHECK(d->dashboard_edit_confirmation >= TRI_UNSET &&
	    d->dashboard_edit_confirmation <= TRI_TRUE);
	FUZZ_CHECK(d->send_logs_to_client >= TRI_UNSET &&
	    d->send_logs_to_client <= TRI_TRUE);
	FUZZ_CHECK(d->n_domains <= DESIRED_LIST_MAX);
	FUZZ_CHECK(d->n_domains == 0 || d->domains_declared);
	for (size_t k = 0; k < d->n_domains; k++) {
		const char *dom = d->domains[k].domain;

		FUZZ_CHECK(desired_domain_problem(dom, strlen(dom)) == NULL);
		FUZZ_CHECK(d->domains[k].destination <= DESIRED_DEST_CONVEX_SITE);
	}
	FUZZ_CHECK(d->n_deploy_keys <= DESIRED_LIST_MAX);
	FUZZ_CHECK(d->n_deploy_keys == 0 || d->deploy_keys_declared);
	for (size_t k = 0; k < d->n_deploy_keys; k++) {
		const char *key = d->deploy_keys[k];

		FUZZ_CHECK(desired_key_name_problem(key, strlen(key)) == NULL);
		for (size_t m = 0; m < k; m++)
			FUZZ_CHECK(strcmp(d->deploy_keys[m], key) != 0);
	}
	if (d->absent)
		FUZZ_CHECK(d->n_renamed_from == 0 && !d->domains_declared &&
		    !d->deploy_keys_declared && d->expires == DESIRED_EXPIRES_UNSET);
}

/* env: declared types only, sorted unique valid names, readable values of
 * the rules' size (a {file:} or {env:} that loaded was readable). */
static void
check_env(const struct desired_project *p)
{
	if (p->env == NULL)
		return;
	FUZZ_CHECK(!p->absent);
	for (size_t t = 0; t < 4; t++) {
		const struct desired_env *e = &p->env[t];

		FUZZ_CHECK(e->declared || e->n_vars == 0);
		FUZZ_CHECK(e->n_vars <= DESIRED_ENV_PER_TYPE);
		for (uint32_t v = 0; v < e->n_vars; v++) {
			const char *name = e->vars[v].name;

			FUZZ_CHECK(desired_env_name_problem(name, strlen(name)) == NULL);
			FUZZ_CHECK(v == 0 || strcmp(e->vars[v - 1].name, name) < 0);
			FUZZ_CHECK(e->vars[v].value != NULL);
			FUZZ_CHECK(strlen(e->vars[v].value) <= DESIRED_ENV_VALUE_MAX);
		}
	}
}

/* What a successful load promises (SPEC sections 2, 8 and 9). */
static void
check_valid(const struct desired_state *ds)
{
	FUZZ_CHECK(ds->n_files >= 1);
	for (size_t i = 0; i < ds->n_projects; i++) {
		const struct desired_project *p = &ds->projects[i];
		int defaults[4] = { 0, 0, 0, 0 };
		size_t len;

		FUZZ_CHECK(p->name != NULL);
		check_project_renames(ds, i);
		check_env(p);
		FUZZ_CHECK(p->slug == NULL ||
		    desired_slug_problem(p->slug, strlen(p->slug)) == NULL);
		for (size_t j = 0; p->slug != NULL && j < i; j++)
			FUZZ_CHECK(ds->projects[j].slug == NULL ||
			    strcmp(ds->projects[j].slug, p->slug) != 0);
		len = strlen(p->name);
		FUZZ_CHECK(len >= 1 && len <= DESIRED_NAME_MAX);
		FUZZ_CHECK(p->loc.file != NULL && p->loc.line >= 1 && p->loc.col >= 1);
		FUZZ_CHECK(!p->absent || p->n_deployments == 0);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(ds->projects[j].name, p->name) != 0);
		for (size_t k = 0; k < p->n_deployments; k++) {
			const struct desired_deployment *d = &p->deployments[k];

			FUZZ_CHECK(d->reference != NULL);
			FUZZ_CHECK(desired_reference_problem(d->reference,
			    strlen(d->reference)) == NULL);
			FUZZ_CHECK((unsigned)d->type <= DEP_CUSTOM);
			FUZZ_CHECK(d->loc.line >= 1 && d->loc.col >= 1);
			for (size_t m = 0; m < k; m++)
				FUZZ_CHECK(strcmp(p->deployments[m].reference,
				    d->reference) != 0);
			if (d->is_default == TRI_TRUE) {
				FUZZ_CHECK(d->type == DEP_DEV || d->type == DEP_PROD);
				if (!d->absent)
					defaults[d->type]++;
			}
			FUZZ_CHECK(d->region == NULL ||
			    strlen(d->region) <= DESIRED_ATTR_MAX);
			FUZZ_CHECK(d->class_name == NULL ||
			    strlen(d->class_name) <= DESIRED_ATTR_MAX);
			check_deployment_keys(p, d);
		}
		FUZZ_CHECK(defaults[DEP_DEV] <= 1 && defaults[DEP_PROD] <= 1);
	}
}

/* One load; returns the number of projects, or -1 when it failed. */
static long
load(const char *path, const struct ytree_limits *lim)
{
	struct desired_state ds;
	struct diag d;
	char line[4096];
	long n;
	int rc;

	diag_init(&d);
	rc = desired_load_limits(path, lim, &ds, &d);
	for (size_t i = 0; i < d.n; i++) {
		FUZZ_CHECK(d.items[i].message != NULL);
		diag_format(&d.items[i], line, sizeof(line));
	}
	if (rc == 0) {
		FUZZ_CHECK(diag_errors(&d) == 0);
		check_valid(&ds);
		n = (long)ds.n_projects;
		desired_state_free(&ds);
	} else {
		/* Every failure says why, and leaves nothing behind. */
		FUZZ_CHECK(rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM ||
		    rc == -EFBIG || rc == -EBADMSG);
		FUZZ_CHECK(rc == -ENOMEM || diag_errors(&d) > 0);
		FUZZ_CHECK(ds.projects == NULL && ds.n_projects == 0);
		FUZZ_CHECK(ds.files == NULL && ds.n_files == 0);
		n = -1;
	}
	diag_free(&d);
	return n;
}

/* Tight limits, so depth and node budgets are crossed often. */
static const struct ytree_limits tight = { 4096, 6, 200 };

/* The reader and the tree agree on one file's text. */
static void
check_parity(const uint8_t *p, size_t n)
{
	char *diff = yparity_check((const char *)p, n, &tight);

	if (diff != NULL) {
		fprintf(stderr, "yread and ytree differ:\n%s\n", diff);
		free(diff);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[128];
	long full, small;

	if (memchr(data, '\0', size) == NULL) {
		int fd = fuzz_memfd("desired", data, size);

		if (fd < 0)
			return 0;
		fuzz_fd_path(path, sizeof(path), fd);
		full = load(path, NULL);
		small = load(path, &tight);
		close(fd);
		check_parity(data, size);
	} else {
		const uint8_t *p = data, *end = data + size;
		char dir[64];

		snprintf(dir, sizeof(dir), "%s/cp-fuzz-desired.XXXXXX", tmp_root);
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/sub", dir);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/sub/deeper", dir);
		mkdir(path, 0700);
		for (int i = 0; i < MAX_FILES; i++) {
			const uint8_t *nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
			size_t n = p < end ? (nul ? (size_t)(nul - p) : (size_t)(end - p)) : 0;
			FILE *f;

			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if (p >= end)
				continue;
			if ((f = fopen(path, "w")) == NULL)
				abort();
			fwrite(p, 1, n, f);
			fclose(f);
			check_parity(p, n);
			p += n + 1;
		}
		full = load(dir, NULL);
		small = load(dir, &tight);
		remove_tree(dir);
	}
	/* Tighter limits can only refuse more, never read something else. */
	if (small >= 0)
		FUZZ_CHECK(full == small);
	return 0;
}
