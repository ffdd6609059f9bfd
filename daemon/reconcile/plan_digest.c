/* plan_digest.c: keyed digests of the desired files, the observation and
 * the plan (plan_digest.h). Each field is fed with its length in front, so
 * no two different inputs are fed as the same bytes. */
#include "plan_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "plan_print.h"

static const char key_label[] = "convex-provisioner saved plan v1";

void
plan_digest_key(const char *token, struct plan_digest_key *key)
{
	hmac_sha256(token, strlen(token), key_label, sizeof(key_label) - 1, key->k);
}

void
plan_digest_key_wipe(struct plan_digest_key *key)
{
	explicit_bzero(key->k, sizeof(key->k));
}

static void
start(struct hmac_sha256 *h, const struct plan_digest_key *key, const char *what)
{
	hmac_sha256_init(h, key->k, sizeof(key->k));
	hmac_sha256_update(h, what, strlen(what) + 1);
}

static void
put_u64(struct hmac_sha256 *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	hmac_sha256_update(h, b, sizeof(b));
}

static void
put_bytes(struct hmac_sha256 *h, const void *p, size_t n)
{
	put_u64(h, n);
	hmac_sha256_update(h, p, n);
}

/* NULL and "" differ. */
static void
put_str(struct hmac_sha256 *h, const char *s)
{
	if (s == NULL) {
		put_u64(h, UINT64_MAX);
		return;
	}
	put_bytes(h, s, strlen(s));
}

static void
finish_hex(struct hmac_sha256 *h, char out[SHA256_HEX_LEN])
{
	unsigned char d[SHA256_LEN];

	hmac_sha256_final(h, d);
	sha256_to_hex(d, sizeof(d), out);
}

int
plan_digest_equal(const char *a, const char *b)
{
	unsigned char diff = 0;
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return 0;
	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* ---- the desired state ---------------------------------------------------- */

static const char *
relative(const char *desired_path, const char *file)
{
	size_t n = strlen(desired_path);
	const char *slash;

	while (n > 1 && desired_path[n - 1] == '/')
		n--;
	if (strncmp(file, desired_path, n) == 0 && file[n] == '/')
		return file + n + 1;
	slash = strrchr(file, '/');
	return slash != NULL ? slash + 1 : file;
}

/* The bytes of one file, as the loader opens it (following a link). */
static int
digest_file(const char *path, const char *rel, const struct plan_digest_key *key,
    char out[SHA256_HEX_LEN], char *err, size_t errlen)
{
	struct hmac_sha256 h;
	unsigned char chunk[65536];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
	}
	if (rc != 0) {
		close(fd);
		return rc;
	}
	start(&h, key, "file");
	put_str(&h, rel);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			break;
		}
		hmac_sha256_update(&h, chunk, (size_t)n);
	}
	close(fd);
	if (rc == 0)
		finish_hex(&h, out);
	else
		hmac_sha256_final(&h, chunk);   /* wipes */
	return rc;
}

static void
digest_values(const struct desired_state *ds, const struct plan_digest_key *key,
    char out[SHA256_HEX_LEN])
{
	struct hmac_sha256 h;

	start(&h, key, "values");
	for (size_t i = 0; i < ds->n_projects; i++) {
		const struct desired_project *p = &ds->projects[i];

		if (p->env == NULL)
			continue;
		for (int t = DEP_DEV; t <= DEP_CUSTOM; t++) {
			const struct desired_env *e = &p->env[t];

			if (!e->declared)
				continue;
			for (uint32_t v = 0; v < e->n_vars; v++) {
				put_str(&h, p->name);
				put_u64(&h, (uint64_t)t);
				put_str(&h, e->vars[v].name);
				put_str(&h, e->vars[v].value);
			}
		}
	}
	finish_hex(&h, out);
}

void
plan_digest_desired_all(const struct plan_digest_desired *d,
    const struct plan_digest_key *key, char out[SHA256_HEX_LEN])
{
	struct hmac_sha256 h;

	start(&h, key, "desired");
	put_u64(&h, d->n_files);
	for (size_t i = 0; i < d->n_files; i++) {
		put_str(&h, d->files[i].path);
		put_str(&h, d->files[i].hex);
	}
	put_str(&h, d->values);
	finish_hex(&h, out);
}

void
plan_digest_desired_free(struct plan_digest_desired *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_files; i++)
		free(d->files[i].path);
	free(d->files);
	memset(d, 0, sizeof(*d));
}

int
plan_digest_desired(const char *desired_path, const struct desired_state *ds,
    const struct plan_digest_key *key, struct plan_digest_desired *out,
    char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (ds->n_files > 0 &&
	    (out->files = calloc(ds->n_files, sizeof(*out->files))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < ds->n_files; i++) {
		struct plan_digest_file *f = &out->files[i];
		const char *rel = relative(desired_path, ds->files[i]);

		if ((f->path = strdup(rel)) == NULL) {
			plan_digest_desired_free(out);
			return -ENOMEM;
		}
		out->n_files++;
		if ((rc = digest_file(ds->files[i], rel, key, f->hex, err, errlen)) != 0) {
			plan_digest_desired_free(out);
			return rc;
		}
	}
	digest_values(ds, key, out->values);
	plan_digest_desired_all(out, key, out->all);
	return 0;
}

/* ---- the observation -------------------------------------------------- */

struct items {
	unsigned char (*d)[SHA256_LEN];
	size_t n;
};

static void
item_done(struct items *it, struct hmac_sha256 *h)
{
	hmac_sha256_final(h, it->d[it->n++]);
}

static int
cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, SHA256_LEN);
}

int
plan_digest_observed(const struct observed_state *os,
    const struct plan_digest_key *key, char out[SHA256_HEX_LEN])
{
	size_t total = os->n_projects + os->n_deployments + os->n_env_vars +
	    os->n_domains + os->n_deploy_keys + os->n_listed;
	struct items it = { calloc(total + 1, SHA256_LEN), 0 };
	struct hmac_sha256 h;
	char url[512];
	size_t i;

	if (it.d == NULL)
		return -ENOMEM;
	for (i = 0; i < os->n_projects; i++) {
		const struct observed_project *p = &os->projects[i];

		start(&h, key, "project");
		put_u64(&h, (uint64_t)p->id);
		put_str(&h, p->name);
		put_str(&h, p->slug);
		item_done(&it, &h);
	}
	for (i = 0; i < os->n_deployments; i++) {
		const struct observed_deployment *d = &os->deployments[i];

		start(&h, key, "deployment");
		put_u64(&h, (uint64_t)d->id);
		put_str(&h, d->name);
		put_u64(&h, (uint64_t)d->project_id);
		put_u64(&h, (uint64_t)d->type);
		put_str(&h, d->reference);
		put_str(&h, d->region);
		put_str(&h, d->class_name);
		put_u64(&h, (uint64_t)d->is_default);
		put_u64(&h, (uint64_t)(int64_t)d->dashboard_edit_confirmation);
		put_u64(&h, (uint64_t)(int64_t)d->send_logs_to_client);
		put_u64(&h, (uint64_t)d->expires_at);
		put_str(&h, observed_deployment_url(d, url, sizeof(url)));
		item_done(&it, &h);
	}
	for (i = 0; i < os->n_env_vars; i++) {
		const struct observed_env_var *v = &os->env_vars[i];

		start(&h, key, "env");
		put_u64(&h, (uint64_t)v->project_id);
		put_u64(&h, (uint64_t)v->type);
		put_str(&h, v->name);
		put_str(&h, v->value);
		item_done(&it, &h);
	}
	for (i = 0; i < os->n_domains; i++) {
		const struct observed_domain *d = &os->domains[i];

		start(&h, key, "domain");
		put_str(&h, d->deployment);
		put_str(&h, d->domain);
		put_u64(&h, d->verification_time != 0);
		put_u64(&h, (uint64_t)d->destination);
		item_done(&it, &h);
	}
	for (i = 0; i < os->n_deploy_keys; i++) {
		const struct observed_deploy_key *k = &os->deploy_keys[i];

		start(&h, key, "deploy_key");
		put_str(&h, k->deployment);
		put_str(&h, k->name);
		put_u64(&h, k->secret_file);
		item_done(&it, &h);
	}
	for (i = 0; i < os->n_listed; i++) {
		const struct observed_listed *l = &os->listed[i];

		start(&h, key, "listed");
		put_u64(&h, (uint64_t)l->kind);
		put_u64(&h, (uint64_t)l->project_id);
		put_str(&h, l->deployment);
		item_done(&it, &h);
	}
	qsort(it.d, it.n, SHA256_LEN, cmp_digest);
	start(&h, key, "observed");
	put_u64(&h, it.n);
	hmac_sha256_update(&h, it.d, it.n * SHA256_LEN);
	finish_hex(&h, out);
	free(it.d);
	return 0;
}

/* ---- the plan ---------------------------------------------------------- */

int
plan_digest_plan(const struct plan *p, const struct plan_digest_key *key,
    char out[SHA256_HEX_LEN])
{
	cJSON *root = plan_to_cjson(p, NULL), *sel = cJSON_CreateObject();
	struct hmac_sha256 h;
	char *text = NULL;

	/* Only what apply acts on: moved from the full object. */
	if (root == NULL || sel == NULL ||
	    !cJSON_AddItemToObject(sel, "actions",
	    cJSON_DetachItemFromObject(root, "actions")) ||
	    !cJSON_AddItemToObject(sel, "blocked",
	    cJSON_DetachItemFromObject(root, "blocked")) ||
	    (text = cJSON_PrintUnformatted(sel)) == NULL) {
		cJSON_Delete(root);
		cJSON_Delete(sel);
		return -ENOMEM;
	}
	start(&h, key, "plan");
	put_str(&h, text);
	/* The values the env changes set: not in the JSON (secrets), so
	 * here, or a changed secret would go through unseen. */
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		for (size_t k = 0; a->kind == PLAN_ENV && k < a->n_env; k++) {
			put_u64(&h, i);
			put_str(&h, a->env[k].name);
			put_u64(&h, (uint64_t)a->env[k].type);
			put_str(&h, a->env[k].value);
		}
	}
	finish_hex(&h, out);
	cJSON_free(text);
	cJSON_Delete(root);
	cJSON_Delete(sel);
	return 0;
}
