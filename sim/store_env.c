/* store_env.c: a project's default environment variables: all-or-nothing updates under the API's limits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static int
cmp_key(const char *name_a, enum dep_type ta, const char *name_b,
    enum dep_type tb)
{
	int c = strcmp(name_a, name_b);

	if (c != 0)
		return c;
	return (int)ta - (int)tb;
}

static int
cmp_env(const void *a, const void *b)
{
	const struct sim_env *x = a, *y = b;

	return cmp_key(x->name, x->type, y->name, y->type);
}

/* First index below n with (name, type) >= the key. */
static size_t
lower_bound(const struct sim_project *p, size_t n, const char *name,
    enum dep_type t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_key(p->env[mid].name, p->env[mid].type, name, t) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
store_env_pos(const struct sim_project *p, const char *name)
{
	return lower_bound(p, p->nenv, name, DT_DEV);
}

/* Searches the first n (sorted) variables only. */
static struct sim_env *
find(const struct sim_project *p, size_t n, enum dep_type t, const char *name)
{
	size_t i = lower_bound(p, n, name, t);

	if (i < n && p->env[i].type == t && strcmp(p->env[i].name, name) == 0)
		return &p->env[i];
	return NULL;
}

void
store_env_clear(struct sim_project *p)
{
	for (size_t i = 0; i < p->nenv; i++) {
		free(p->env[i].name);
		free(p->env[i].value);
	}
	p->nenv = 0;
}

static int
cmp_change(const void *a, const void *b)
{
	const struct env_change *const *x = a, *const *y = b;

	return cmp_key((*x)->name, (*x)->type, (*y)->name, (*y)->type);
}

/* Each change on its own, then no (type, name) twice; messages name the
 * change and never its value (values are secrets). */
static int
check_changes(const struct env_change *ch, size_t n, struct sim_err *err)
{
	const struct env_change **sorted;
	const char *why;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if ((why = names_env_name_problem(ch[i].name)) != NULL) {
			sim_err_set(err, 400, "InvalidEnvironmentVariableName",
			    "changes[%zu]: the name \"%.48s\" %s", i, ch[i].name, why);
			return -EINVAL;
		}
		if (ch[i].value != NULL && strlen(ch[i].value) > SIM_ENV_VALUE_MAX) {
			sim_err_set(err, 400, "EnvironmentVariableValueTooLarge",
			    "changes[%zu]: the value of %s is over %d bytes", i,
			    ch[i].name, SIM_ENV_VALUE_MAX);
			return -EINVAL;
		}
	}
	if (n < 2)
		return 0;
	if ((sorted = malloc(n * sizeof(*sorted))) == NULL) {
		sim_err_set(err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = &ch[i];
	qsort(sorted, n, sizeof(*sorted), cmp_change);
	for (size_t i = 1; i < n && rc == 0; i++) {
		if (cmp_change(&sorted[i - 1], &sorted[i]) == 0) {
			sim_err_set(err, 400, "DuplicateEnvironmentVariableChange",
			    "%s (%s) is changed twice in one request",
			    sorted[i]->name, names_type_str(sorted[i]->type));
			rc = -EINVAL;
		}
	}
	free(sorted);
	return rc;
}

/* Names per type once the changes are applied: at most SIM_ENV_PER_TYPE. */
static int
check_counts(const struct sim_project *p, const struct env_change *ch,
    size_t n, size_t *adds, struct sim_err *err)
{
	long count[SIM_NTYPES] = { 0 };

	*adds = 0;
	for (size_t i = 0; i < p->nenv; i++)
		count[p->env[i].type]++;
	for (size_t i = 0; i < n; i++) {
		bool exists = find(p, p->nenv, ch[i].type, ch[i].name) != NULL;

		if (ch[i].value != NULL && !exists) {
			count[ch[i].type]++;
			(*adds)++;
		} else if (ch[i].value == NULL && exists) {
			count[ch[i].type]--;
		}
	}
	for (int t = 0; t < SIM_NTYPES; t++) {
		if (count[t] > SIM_ENV_PER_TYPE) {
			sim_err_set(err, 400, "TooManyEnvironmentVariables",
			    "%s would have %ld default environment variables (at most %d per deployment type)",
			    names_type_str((enum dep_type)t), count[t],
			    SIM_ENV_PER_TYPE);
			return -EINVAL;
		}
	}
	return 0;
}

int
store_env_update(struct sim_project *p, const struct env_change *ch,
    size_t n, struct sim_err *err)
{
	char **vals = NULL, **names = NULL;
	size_t adds, j, sorted = p->nenv;
	int rc;

	if ((rc = check_changes(ch, n, err)) != 0 ||
	    (rc = check_counts(p, ch, n, &adds, err)) != 0)
		return rc;
	/* Allocate everything first, so applying cannot fail half-way. */
	if (sim_grow((void **)&p->env, &p->capenv, p->nenv + adds,
	    sizeof(*p->env)) != 0 ||
	    (vals = calloc(n + 1, sizeof(*vals))) == NULL ||
	    (names = calloc(n + 1, sizeof(*names))) == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (ch[i].value == NULL)
			continue;
		if ((vals[i] = strdup(ch[i].value)) == NULL)
			goto oom;
		if (find(p, sorted, ch[i].type, ch[i].name) == NULL &&
		    (names[i] = strdup(ch[i].name)) == NULL)
			goto oom;
	}
	for (size_t i = 0; i < n; i++) {
		/* Changes never repeat a (type, name), so each one finds an
		 * old variable in the sorted part, or none. */
		struct sim_env *e = find(p, sorted, ch[i].type, ch[i].name);

		if (ch[i].value == NULL) {
			if (e != NULL) {   /* marked, removed below */
				free(e->value);
				e->value = NULL;
			}
		} else if (e != NULL) {
			free(e->value);
			e->value = vals[i];
		} else {
			/* Appended past the sorted part; the sort below places it. */
			p->env[p->nenv].type = ch[i].type;
			p->env[p->nenv].name = names[i];
			p->env[p->nenv].value = vals[i];
			p->nenv++;
		}
		vals[i] = names[i] = NULL;
	}
	for (size_t i = j = 0; i < p->nenv; i++) {
		if (p->env[i].value == NULL)
			free(p->env[i].name);
		else
			p->env[j++] = p->env[i];
	}
	p->nenv = j;
	if (p->nenv > 1)      /* env may be NULL: qsort wants an array */
		qsort(p->env, p->nenv, sizeof(*p->env), cmp_env);
	free(vals);
	free(names);
	return 0;
oom:
	for (size_t i = 0; vals != NULL && i < n; i++)
		free(vals[i]);
	for (size_t i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(vals);
	free(names);
	sim_err_set(err, 500, "InternalServerError", "out of memory");
	return -ENOMEM;
}
