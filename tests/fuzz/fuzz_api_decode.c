/* fuzz_api_decode.c: libFuzzer target for every Management API response
 * decoder (api_decode.h). Each input goes through all of them, since the
 * same JSON shapes matter to each; a decoder must either succeed with every
 * field the program uses present, or fail with a message and leave nothing
 * allocated. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "api_decode.h"
#include "fuzz.h"

#define ERRLEN 256

static void
check_err(int rc, const char *err)
{
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
	if (rc == -EBADMSG)
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', ERRLEN) != NULL);
}

static void
check_projects(int rc, const struct observed_project *items, size_t n)
{
	if (rc != 0) {
		FUZZ_CHECK(items == NULL && n == 0);
		return;
	}
	FUZZ_CHECK(n == 0 || items != NULL);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(items[i].name != NULL && items[i].slug != NULL);
}

static void
check_deployment(const struct observed_deployment *d)
{
	FUZZ_CHECK(d->name != NULL && d->reference != NULL);
	FUZZ_CHECK(d->region != NULL && d->class_name != NULL);
	FUZZ_CHECK((unsigned)d->type <= DEP_CUSTOM);
}

static void
check_deployments(int rc, const struct observed_deployment *items, size_t n)
{
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

	err[0] = '\0';
	projects = NULL;
	n = 0;
	rc = api_decode_projects_page(body, size, &projects, &n, &page, err, sizeof(err));
	check_err(rc, err);
	check_projects(rc, projects, n);
	check_page(rc, &page);
	api_projects_free(projects, n);
	api_page_clear(&page);

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
	api_deployments_free(deps, n);
	api_page_clear(&page);

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
	if (rc == 0 && !local)
		check_deployment(&one);
	if (rc == 0)
		observed_deployment_clear(&one);

	err[0] = '\0';
	slug = NULL;
	rc = api_decode_created_project(body, size, &id, &slug, err, sizeof(err));
	check_err(rc, err);
	if (rc != 0)
		FUZZ_CHECK(slug == NULL);
	free(slug);

	err[0] = '\0';
	memset(&tok, 0, sizeof(tok));
	rc = api_decode_token_details(body, size, &tok, err, sizeof(err));
	check_err(rc, err);
	if (rc != 0)
		FUZZ_CHECK(tok.name == NULL);
	api_token_info_clear(&tok);

	/* The error body is copied into fixed buffers: always terminated. */
	memset(code, 'x', sizeof(code));
	memset(message, 'x', sizeof(message));
	rc = api_decode_error_body(body, size, code, sizeof(code), message,
	    sizeof(message));
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG);
	FUZZ_CHECK(memchr(code, '\0', sizeof(code)) != NULL);
	FUZZ_CHECK(memchr(message, '\0', sizeof(message)) != NULL);
	return 0;
}
