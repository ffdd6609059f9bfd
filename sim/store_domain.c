/* store_domain.c: custom domains of a deployment: unique across the simulator, unverified until an admin says so. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

int
store_domain_create(struct sim_store *st, struct sim_deployment *d,
    const char *domain, enum domain_dest dest, int64_t creation_time,
    struct sim_err *err)
{
	struct sim_domain *dm, *other;
	const char *why;

	if ((why = names_domain_problem(domain)) != NULL) {
		sim_err_set(err, 400, "InvalidDomain",
		    "Invalid custom domain \"%.100s\": it %s", domain, why);
		return -EINVAL;
	}
	if ((other = hmap_get(&st->by_domain, domain)) != NULL) {
		sim_err_set(err, 400, "CustomDomainAlreadyExists",
		    "The domain %.100s is already in use (deployment %s)",
		    domain, other->dep->name);
		return -EEXIST;
	}
	if (d->ndomains >= SIM_DOMAINS_MAX) {
		sim_err_set(err, 400, "TooManyCustomDomains",
		    "Deployment %s already has %d custom domains", d->name,
		    SIM_DOMAINS_MAX);
		return -ENOSPC;
	}
	if (sim_grow((void **)&d->domains, &d->capdomains, d->ndomains + 1,
	    sizeof(*d->domains)) != 0 ||
	    (dm = calloc(1, sizeof(*dm))) == NULL)
		goto oom;
	if ((dm->domain = strdup(domain)) == NULL ||
	    hmap_put(&st->by_domain, dm->domain, dm) != 0) {
		free(dm->domain);
		free(dm);
		goto oom;
	}
	dm->dest = dest;
	dm->creation_time = creation_time;
	dm->dep = d;
	d->domains[d->ndomains++] = dm;
	return 0;
oom:
	sim_err_set(err, 500, "InternalServerError", "out of memory");
	return -ENOMEM;
}

int
store_domain_delete(struct sim_store *st, struct sim_deployment *d,
    const char *domain, enum domain_dest dest, struct sim_err *err)
{
	for (size_t i = 0; i < d->ndomains; i++) {
		struct sim_domain *dm = d->domains[i];

		if (strcmp(dm->domain, domain) != 0 || dm->dest != dest)
			continue;
		hmap_del(&st->by_domain, dm->domain);
		free(dm->domain);
		free(dm);
		memmove(&d->domains[i], &d->domains[i + 1],
		    (d->ndomains - i - 1) * sizeof(*d->domains));
		d->ndomains--;
		return 0;
	}
	sim_err_set(err, 404, "CustomDomainNotFound",
	    "Deployment %s has no custom domain %.100s for %s", d->name,
	    domain, names_dest_str(dest));
	return -ENOENT;
}

int
store_domain_verify(struct sim_store *st, const char *domain, bool verified,
    int64_t when)
{
	struct sim_domain *dm = hmap_get(&st->by_domain, domain);

	if (dm == NULL)
		return -ENOENT;
	dm->verified = verified;
	dm->verification_time = verified ? when : 0;
	return 0;
}

void
store_domains_clear(struct sim_store *st, struct sim_deployment *d)
{
	for (size_t i = 0; i < d->ndomains; i++) {
		hmap_del(&st->by_domain, d->domains[i]->domain);
		free(d->domains[i]->domain);
		free(d->domains[i]);
	}
	d->ndomains = 0;
}
