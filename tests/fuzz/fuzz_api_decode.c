/* fuzz_api_decode.c: libFuzzer target for every Management API response
 * decoder (api_decode.h). Each input goes through all of them, since the
 * same JSON shapes matter to each; a decoder must either succeed with every
 * field the program uses present, or fail with a message and leave nothing
 * allocated. Issue 18 adds: no body holding a NUL in a string (or data
 * after its document) is ever accepted, so no name is ever cut; and every
 * name decoded, C1 controls and bytes that are not UTF-8 included, comes
 * out of the text and JSON escapes unable to drive a terminal. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "api_decode.h"
#include "fuzz.h"
#include "jsonscan.h"
#include "textesc.h"

#define ERRLEN 256

static void
check_err(int rc, const char *err)
{
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
	if (rc == -EBADMSG)
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', ERRLEN) != NULL);
}

/* Set per input: whether the body holds a NUL in a string, or anything
 * after one JSON document. Such a body must never decode. */
static bool refusable;

static void
check_accept(int rc)
{
	if (rc == 0)
		FUZZ_CHECK(!refusable);
}

/* No byte that drives a terminal: C0 but for tab, DEL, C1 as UTF-8, a raw
 * byte that is not UTF-8. */
static void
check_terminal_safe(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	unsigned cp;

	while (i < n) {
		FUZZ_CHECK(p[i] >= 0x20 && p[i] != 0x7f);
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = textesc_utf8_len(p + i, n - i, &cp);
		FUZZ_CHECK(k > 0 && cp > 0x9f);
		i += k;
	}
}

/* A decoded name as plan text, log text and JSON: safe every time, and
 * the JSON parses back. */
static void
check_shown(const char *name)
{
	struct buf b;
	cJSON *o, *back;
	char *printed, *clean;

	FUZZ_CHECK(name != NULL);
	buf_init(&b, 1 << 20);
	if (textesc_buf(&b, name, strlen(name), TEXTESC_QUOTES) == 0 &&
	    b.data != NULL)
		check_terminal_safe(b.data, b.len);
	buf_free(&b);
	if ((o = cJSON_CreateObject()) == NULL)
		return;
	if (cJSON_AddStringToObject(o, "name", name) != NULL &&
	    (printed = cJSON_PrintUnformatted(o)) != NULL) {
		if ((clean = textesc_json_clean(printed)) != NULL) {
			check_terminal_safe(clean, strlen(clean));
			back = cJSON_Parse(clean);
			FUZZ_CHECK(back != NULL);
			cJSON_Delete(back);
			free(clean);
		}
		cJSON_free(printed);
	}
	cJSON_Delete(o);
}

static void
check_projects(int rc, const struct observed_project *items, size_t n)
{
	check_accept(rc);
	if (rc != 0) {
		FUZZ_CHECK(items == NULL && n == 0);
		return;
	}
	FUZZ_CHECK(n == 0 || items != NULL);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(items[i].name != NULL && items[i].slug != NULL);
		check_shown(items[i].name);
	}
}

static void
check_deployment(const struct observed_deployment *d)
{
	FUZZ_CHECK(d->name != NULL && d->reference != NULL);
	FUZZ_CHECK(d->region != NULL && d->class_name != NULL);
	FUZZ_CHECK((unsigned)d->type <= DEP_CUSTOM);
	check_shown(d->name);
	check_shown(d->reference);
}

static void
check_deployments(int rc, const struct observed_deployment *items, size_t n)
{
	check_accept(rc);
	if (rc != 0) {
		FUZZ_CHECK(items == NULL && n == 0);
		return;
	}
	FUZZ_CHECK(n == 0 || items != NULL);
	for (size_t i = 0; i < n; i++)
		check_deployment(&items[i]);
}

static void
check_page(int rc, const struct api_page *pg)
{
	if (rc != 0)
		FUZZ_CHECK(!pg->has_more && pg->next_cursor == NULL);
}

/* SPEC section 9: env pages (each entry a known type, a name, a value; at
 * most 4 per item, no type twice for one name in one item), domains (a
 * known destination, the deployment given), deploy keys (a name) and a
 * created key's secret (non-empty). */
static void
check_extras(const char *body, size_t size)
{
	struct observed_env_var *env = NULL;
	struct observed_domain *dom = NULL;
	struct observed_deploy_key *keys = NULL;
	struct api_page page;
	char err[ERRLEN], *secret = NULL;
	size_t n = 0;
	int rc;

	err[0] = '\0';
	rc = api_decode_env_page(body, size, 7, &env, &n, &page, err, sizeof(err));
	check_err(rc, err);
	check_accept(rc);
	check_page(rc, &page);
	FUZZ_CHECK(rc == 0 || (env == NULL && n == 0));
	FUZZ_CHECK(rc != 0 || n <= 4 * page.n_items);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		FUZZ_CHECK(env[i].project_id == 7 && (unsigned)env[i].type <= DEP_CUSTOM);
		FUZZ_CHECK(env[i].name != NULL && env[i].name[0] != '\0' && env[i].value != NULL);
		check_shown(env[i].name);
	}
	for (size_t i = 0; i < n; i++)
		observed_env_var_free(&env[i]);
	free(env);
	api_page_free(&page);

	err[0] = '\0';
	n = 0;
	rc = api_decode_domains(body, size, "happy-otter-1", &dom, &n, err, sizeof(err));
	check_err(rc, err);
	check_accept(rc);
	FUZZ_CHECK(rc == 0 || (dom == NULL && n == 0));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		FUZZ_CHECK(dom[i].domain != NULL && strcmp(dom[i].deployment, "happy-otter-1") == 0);
		FUZZ_CHECK(dom[i].destination == DESIRED_DEST_CONVEX_CLOUD ||
		    dom[i].destination == DESIRED_DEST_CONVEX_SITE);
		check_shown(dom[i].domain);
	}
	for (size_t i = 0; i < n; i++)
		observed_domain_free(&dom[i]);
	free(dom);

	err[0] = '\0';
	n = 0;
	rc = api_decode_deploy_keys(body, size, "happy-otter-1", &keys, &n, err, sizeof(err));
	check_err(rc, err);
	check_accept(rc);
	FUZZ_CHECK(rc == 0 || (keys == NULL && n == 0));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		FUZZ_CHECK(keys[i].name != NULL && !keys[i].secret_file);
		check_shown(keys[i].name);
	}
	for (size_t i = 0; i < n; i++)
		observed_deploy_key_free(&keys[i]);
	free(keys);

	err[0] = '\0';
	rc = api_decode_created_deploy_key(body, size, &secret, err, sizeof(err));
	check_err(rc, err);
	check_accept(rc);
	FUZZ_CHECK(rc == 0 ? (secret != NULL && secret[0] != '\0') : secret == NULL);
	free(secret);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct observed_project *projects;
	struct observed_deployment *deps, one;
	struct api_page page;
	struct api_token_info tok;
	char err[ERRLEN], code[64], message[256], *slug;
	size_t n;
	int64_t id;
	bool local;
	int rc;

	/* What the decoders must refuse, found on the raw text: a NUL in a
	 * string, or one document and then more. */
	refusable = jsonscan_find_nul(body, size) < size;
	if (!refusable) {
		char why[200];
		cJSON *whole = jsonscan_parse(body, size, why, sizeof(why));
		cJSON *first = cJSON_ParseWithLength(body, size);
		refusable = whole == NULL && first != NULL;
		cJSON_Delete(whole);
		cJSON_Delete(first);
	}

	err[0] = '\0';
	projects = NULL;
	n = 0;
	rc = api_decode_projects_page(body, size, &projects, &n, &page, err, sizeof(err));
	check_err(rc, err);
	check_projects(rc, projects, n);
	check_page(rc, &page);
	api_projects_free(projects, n);
	api_page_free(&page);

	err[0] = '\0';
	projects = NULL;
	n = 0;
	rc = api_decode_projects_array(body, size, &projects, &n, err, sizeof(err));
	check_err(rc, err);
	check_projects(rc, projects, n);
	api_projects_free(projects, n);

	err[0] = '\0';
	deps = NULL;
	n = 0;
	rc = api_decode_deployments_page(body, size, &deps, &n, &page, err, sizeof(err));
	check_err(rc, err);
	check_deployments(rc, deps, n);
	check_page(rc, &page);
	/* Local deployments are dropped, never invented. */
	FUZZ_CHECK(rc != 0 || page.n_items >= n);
	api_deployments_free(deps, n);
	api_page_free(&page);

	err[0] = '\0';
	deps = NULL;
	n = 0;
	rc = api_decode_deployments_array(body, size, &deps, &n, err, sizeof(err));
	check_err(rc, err);
	check_deployments(rc, deps, n);
	api_deployments_free(deps, n);

	err[0] = '\0';
	local = false;
	rc = api_decode_deployment(body, size, &one, &local, err, sizeof(err));
	check_err(rc, err);
	check_accept(rc);
	if (rc == 0 && !local)
		check_deployment(&one);
	if (rc == 0)
		observed_deployment_free(&one);

	err[0] = '\0';
	slug = NULL;
	rc = api_decode_created_project(body, size, &id, &slug, err, sizeof(err));
	check_err(rc, err);
	check_accept(rc);
	if (rc != 0)
		FUZZ_CHECK(slug == NULL);
	free(slug);

	err[0] = '\0';
	memset(&tok, 0, sizeof(tok));
	rc = api_decode_token_details(body, size, &tok, err, sizeof(err));
	check_err(rc, err);
	check_accept(rc);
	if (rc != 0)
		FUZZ_CHECK(tok.name == NULL);
	api_token_info_free(&tok);

	/* The error body is copied into fixed buffers: always terminated. */
	memset(code, 'x', sizeof(code));
	memset(message, 'x', sizeof(message));
	rc = api_decode_error_body(body, size, code, sizeof(code), message,
	    sizeof(message));
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG);
	check_accept(rc);
	FUZZ_CHECK(memchr(code, '\0', sizeof(code)) != NULL);
	FUZZ_CHECK(memchr(message, '\0', sizeof(message)) != NULL);
	check_extras(body, size);
	return 0;
}
