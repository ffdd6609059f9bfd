/* store_key.c: deploy keys of a deployment: seeded secrets shown once, kept only as SHA-256, names unique per deployment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define TOKEN_CHARS 56

void
store_key_free(struct sim_key *k)
{
	if (k == NULL)
		return;
	free(k->name);
	free(k);
}

void
store_keys_clear(struct sim_deployment *d)
{
	for (size_t i = 0; i < d->nkeys; i++)
		store_key_free(d->keys[i]);
	d->nkeys = 0;
}

static struct sim_key *
by_name(const struct sim_deployment *d, const char *name)
{
	for (size_t i = 0; i < d->nkeys; i++)
		if (strcmp(d->keys[i]->name, name) == 0)
			return d->keys[i];
	return NULL;
}

int
store_key_insert(struct sim_store *st, struct sim_deployment *d,
    struct sim_key *k, struct sim_err *err)
{
	int rc = -EEXIST;

	if (by_name(d, k->name) != NULL) {
		/* "the token's unique name" (PlatformDeleteDeployKeyArgs) */
		sim_err_set(err, 400, "DeployKeyAlreadyExists",
		    "Deployment %s already has a deploy key named \"%.100s\"",
		    d->name, k->name);
		goto fail;
	}
	rc = -ENOSPC;
	if (d->nkeys >= SIM_KEYS_MAX) {
		sim_err_set(err, 400, "TooManyDeployKeys",
		    "Deployment %s already has %d deploy keys", d->name,
		    SIM_KEYS_MAX);
		goto fail;
	}
	rc = -ENOMEM;
	if (sim_grow((void **)&d->keys, &d->capkeys, d->nkeys + 1,
	    sizeof(*d->keys)) != 0) {
		sim_err_set(err, 500, "InternalServerError", "out of memory");
		goto fail;
	}
	d->keys[d->nkeys++] = k;
	if (k->id >= st->next_key_id)
		st->next_key_id = k->id + 1;
	return 0;
fail:
	store_key_free(k);
	return rc;
}

/* "prod:happy-otter-123|eyJ2MiI6..." like the admin keys Convex prints:
 * the deployment's type and name, "|", then the token. */
static int
make_secret(struct sim_store *st, const struct sim_deployment *d,
    char **secret, char hash[SIM_SHA256_HEX])
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char token[16 + TOKEN_CHARS];
	size_t n, len;

	n = (size_t)snprintf(token, sizeof(token), "eyJ2MiI6I");
	for (int i = 0; i < TOKEN_CHARS; i++)
		token[n++] = alphabet[rng_below(&st->key_rng, sizeof(alphabet) - 1)];
	token[n] = '\0';
	len = strlen(names_type_str(d->type)) + strlen(d->name) + n + 3;
	if ((*secret = malloc(len)) == NULL)
		return -ENOMEM;
	snprintf(*secret, len, "%s:%s|%s", names_type_str(d->type), d->name,
	    token);
	sha256_hex(token, n, hash);
	return 0;
}

int
store_key_create(struct sim_store *st, struct sim_deployment *d,
    const struct key_spec *spec, char **secret, struct sim_err *err)
{
	struct sim_key *k;
	const char *why;
	int rc;

	*secret = NULL;
	if ((why = names_key_name_problem(spec->name)) != NULL) {
		sim_err_set(err, 400, "InvalidDeployKeyName",
		    "Invalid deploy key name: it %s", why);
		return -EINVAL;
	}
	if (spec->has_expires &&
	    spec->expires_at < sim_now_ms() + SIM_MIN_EXPIRY_MS) {
		sim_err_set(err, 400, "BadRequest",
		    "expiresAt must be at least 30 minutes in the future");
		return -EINVAL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->name = strdup(spec->name)) == NULL) {
		free(k);
		sim_err_set(err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	k->id = st->next_key_id;
	k->actions = spec->actions;
	k->creation_time = sim_now_ms();
	k->creator = SIM_MEMBER_ID;
	k->has_expires = spec->has_expires;
	k->expires_at = spec->expires_at;
	/* Checked before the secret is drawn, so a refused create leaves
	 * the generator where it was. */
	if (by_name(d, k->name) != NULL || d->nkeys >= SIM_KEYS_MAX)
		return store_key_insert(st, d, k, err);
	if (make_secret(st, d, secret, k->secret_hash) != 0) {
		store_key_free(k);
		sim_err_set(err, 500, "InternalServerError", "out of memory");
		return -ENOMEM;
	}
	if ((rc = store_key_insert(st, d, k, err)) != 0) {
		free(*secret);
		*secret = NULL;
	}
	return rc;
}

int
store_key_delete(struct sim_deployment *d, const char *id, char *name,
    size_t namelen, struct sim_err *err)
{
	struct sim_key *k = by_name(d, id);
	char hash[SIM_SHA256_HEX];
	const char *token = strrchr(id, '|');

	if (k == NULL) {
		/* The full key ("prod:name|token") or the token alone. */
		token = token != NULL ? token + 1 : id;
		sha256_hex(token, strlen(token), hash);
		for (size_t i = 0; i < d->nkeys && k == NULL; i++)
			if (strcmp(d->keys[i]->secret_hash, hash) == 0)
				k = d->keys[i];
	}
	if (k == NULL) {
		sim_err_set(err, 404, "DeployKeyNotFound",
		    "Deployment %s has no such deploy key", d->name);
		return -ENOENT;
	}
	if (name != NULL)
		snprintf(name, namelen, "%s", k->name);
	for (size_t i = 0; i < d->nkeys; i++) {
		if (d->keys[i] == k) {
			memmove(&d->keys[i], &d->keys[i + 1],
			    (d->nkeys - i - 1) * sizeof(*d->keys));
			d->nkeys--;
			break;
		}
	}
	store_key_free(k);
	return 0;
}
