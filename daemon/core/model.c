/* model.c: names of enums and the free functions of the shared model. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdefs.h"
#include "nametab.h"

static const char *const dep_type_names[] = { "dev", "prod", "preview", "custom" };

const char *
dep_type_name(enum dep_type t)
{
	return nametab_name(dep_type_names, CP_NELEM(dep_type_names), (unsigned)t);
}

int
dep_type_parse(const char *s, enum dep_type *out)
{
	int i = nametab_find(dep_type_names, CP_NELEM(dep_type_names), s);

	if (i < 0)
		return -EINVAL;
	*out = (enum dep_type)i;
	return 0;
}

char *
xstrdup_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void
desired_state_free(struct desired_state *ds)
{
	if (ds == NULL)
		return;
	free(ds->projects);
	arena_free(&ds->arena);
	memset(ds, 0, sizeof(*ds));
}

const char *
desired_destination_name(enum desired_destination d)
{
	return d == DESIRED_DEST_CONVEX_SITE ? "convexSite" : "convexCloud";
}

int
desired_state_secrets(const struct desired_state *ds,
    int (*fn)(const char *value, void *ctx), void *ctx)
{
	int rc;

	for (size_t i = 0; i < ds->n_projects; i++) {
		const struct desired_env *env = ds->projects[i].env;

		for (size_t t = 0; env != NULL && t < 4; t++)
			for (uint32_t j = 0; j < env[t].n_vars; j++)
				if (env[t].vars[j].value != NULL &&
				    (rc = fn(env[t].vars[j].value, ctx)) != 0)
					return rc;
	}
	return 0;
}

void
observed_project_free(struct observed_project *p)
{
	free(p->name);
	free(p->slug);
	memset(p, 0, sizeof(*p));
}

void
observed_deployment_free(struct observed_deployment *d)
{
	free(d->name);
	free(d->reference);
	free(d->region);
	free(d->class_name);
	free(d->url);
	memset(d, 0, sizeof(*d));
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL &&
	    strcmp(a, b) == 0);
}

bool
observed_project_same(const struct observed_project *a,
    const struct observed_project *b)
{
	return a->id == b->id && a->create_time == b->create_time &&
	    same_str(a->name, b->name) && same_str(a->slug, b->slug);
}

bool
observed_deployment_same(const struct observed_deployment *a,
    const struct observed_deployment *b)
{
	return a->id == b->id && a->project_id == b->project_id &&
	    a->type == b->type && a->is_default == b->is_default &&
	    a->create_time == b->create_time && same_str(a->name, b->name) &&
	    same_str(a->reference, b->reference) &&
	    same_str(a->region, b->region) &&
	    same_str(a->class_name, b->class_name) &&
	    a->dashboard_edit_confirmation == b->dashboard_edit_confirmation &&
	    a->send_logs_to_client == b->send_logs_to_client &&
	    a->expires_at == b->expires_at && same_str(a->url, b->url);
}

const char *
observed_deployment_url(const struct observed_deployment *d, char *buf,
    size_t n)
{
	if (n == 0)
		return buf;
	if (d->url != NULL)
		snprintf(buf, n, "%s", d->url);
	else if (d->name != NULL && d->name[0] != '\0')
		snprintf(buf, n, "https://%s.convex.cloud", d->name);
	else
		buf[0] = '\0';
	return buf;
}

void
observed_env_var_free(struct observed_env_var *v)
{
	if (v->value != NULL)
		explicit_bzero(v->value, strlen(v->value));
	free(v->name);
	free(v->value);
	memset(v, 0, sizeof(*v));
}

void
observed_domain_free(struct observed_domain *d)
{
	free(d->deployment);
	free(d->domain);
	memset(d, 0, sizeof(*d));
}

void
observed_deploy_key_free(struct observed_deploy_key *k)
{
	free(k->deployment);
	free(k->name);
	memset(k, 0, sizeof(*k));
}

void
observed_listed_free(struct observed_listed *l)
{
	free(l->deployment);
	memset(l, 0, sizeof(*l));
}

void
observed_state_free(struct observed_state *os)
{
	if (os == NULL)
		return;
	/* The projects' and deployments' strings are in the pool. */
	free(os->projects);
	free(os->deployments);
	strpool_free(&os->strings);
	for (size_t i = 0; i < os->n_env_vars; i++)
		observed_env_var_free(&os->env_vars[i]);
	free(os->env_vars);
	for (size_t i = 0; i < os->n_domains; i++)
		observed_domain_free(&os->domains[i]);
	free(os->domains);
	for (size_t i = 0; i < os->n_deploy_keys; i++)
		observed_deploy_key_free(&os->deploy_keys[i]);
	free(os->deploy_keys);
	for (size_t i = 0; i < os->n_listed; i++)
		observed_listed_free(&os->listed[i]);
	free(os->listed);
	memset(os, 0, sizeof(*os));
}

void
ledger_free(struct ledger *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n_projects; i++)
		free(l->projects[i].name);
	free(l->projects);
	for (size_t i = 0; i < l->n_deployments; i++) {
		free(l->deployments[i].name);
		free(l->deployments[i].project);
		free(l->deployments[i].reference);
	}
	free(l->deployments);
	for (size_t i = 0; i < l->n_deploy_keys; i++) {
		free(l->deploy_keys[i].deployment);
		free(l->deploy_keys[i].name);
	}
	free(l->deploy_keys);
	for (size_t i = 0; i < l->n_conflicts; i++) {
		free(l->conflicts[i].project);
		free(l->conflicts[i].reference);
	}
	free(l->conflicts);
	memset(l, 0, sizeof(*l));
}

void
desired_deployment_init(struct desired_deployment *d)
{
	*d = (struct desired_deployment){ DESIRED_DEPLOYMENT_UNSET };
}
