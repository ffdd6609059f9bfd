/* test_inventory.c: what `show` prints (SPEC section 13), from a desired
 * and an observed state built by hand: a live project with a declared, an
 * undeclared and a missing deployment, a pending and a verified domain,
 * key files (present, missing, not created), a project not live, a name
 * two live projects carry; ids exact; text and JSON say the same. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "inventory.h"
#include "jsonint.h"

static char *keys_prod[] = { "ci", "gone", "later" };
static struct desired_deployment shop_deps[] = {
	{ .reference = "production", .type = DEP_PROD, DESIRED_DEPLOYMENT_UNSET,
	  .deploy_keys = keys_prod, .n_deploy_keys = 3, .deploy_keys_declared = true },
	{ .reference = "staging", .type = DEP_DEV, DESIRED_DEPLOYMENT_UNSET },
	{ .reference = "old", .type = DEP_DEV, DESIRED_DEPLOYMENT_UNSET, .absent = true },
};
static struct desired_project projects[] = {
	{ .name = "shop", .deployments = shop_deps, .n_deployments = 3 },
	{ .name = "blog" },
	{ .name = "twice" },
};
static struct desired_state ds = { .projects = projects, .n_projects = 3 };

static struct observed_project live_projects[] = {
	{ .id = 9007199254740993, .name = "shop", .slug = "shop-1" },
	{ .id = 5, .name = "twice", .slug = "twice" },
	{ .id = 6, .name = "twice", .slug = "twice-2" },
	{ .id = 7, .name = "other", .slug = "other" },
};
static struct observed_deployment live_deps[] = {
	{ .id = 11, .name = "happy-otter-123", .project_id = 9007199254740993,
	  .type = DEP_PROD, .reference = "production", .region = "aws-us-east-1",
	  .class_name = "s16", .is_default = true, .expires_at = 0 },
	{ .id = 12, .name = "calm-fish-456", .project_id = 9007199254740993,
	  .type = DEP_PREVIEW, .reference = "pr-7", .region = "aws-eu-west-1",
	  .expires_at = 1801440000000, .url = "https://calm-fish-456.eu-west-1.convex.cloud" },
	{ .id = 13, .name = "busy-bee-789", .project_id = 7, .type = DEP_DEV,
	  .reference = "dev" },
};
static struct observed_domain live_domains[] = {
	{ .deployment = "happy-otter-123", .domain = "api.shop.example.com",
	  .verification_time = 0, .destination = DESIRED_DEST_CONVEX_CLOUD },
	{ .deployment = "happy-otter-123", .domain = "www.shop.example.com",
	  .verification_time = 1700000000000, .destination = DESIRED_DEST_CONVEX_SITE },
};
static struct observed_deploy_key live_keys[] = {
	{ .deployment = "happy-otter-123", .name = "ci", .secret_file = true },
	{ .deployment = "happy-otter-123", .name = "gone", .secret_file = false },
};
static struct observed_state os = {
	.projects = live_projects, .n_projects = 4,
	.deployments = live_deps, .n_deployments = 3,
	.domains = live_domains, .n_domains = 2,
	.deploy_keys = live_keys, .n_deploy_keys = 2,
};
static const struct inventory inv = { &ds, &os, "/var/lib/cp/keys", 1 };

static void
test_text(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(inventory_print_text(&inv, &b), 0);
	assert_string_equal(b.data,
	    "project \"shop\" (id 9007199254740993, slug shop-1)\n"
	    "  deployment \"production\": happy-otter-123 (prod, aws-us-east-1, s16, default)\n"
	    "    url: https://happy-otter-123.convex.cloud\n"
	    "    expires: never\n"
	    "    pending domain: api.shop.example.com (convexCloud): not verified yet\n"
	    "    deploy key \"ci\": /var/lib/cp/keys/shop/production/ci\n"
	    "    deploy key \"gone\": /var/lib/cp/keys/shop/production/gone (the file is missing)\n"
	    "    deploy key \"later\": /var/lib/cp/keys/shop/production/later (not created yet)\n"
	    "  deployment \"pr-7\": calm-fish-456 (preview, aws-eu-west-1, not declared)\n"
	    "    url: https://calm-fish-456.eu-west-1.convex.cloud\n"
	    "    expires: 2027-02-01T00:00:00Z\n"
	    "  deployment \"staging\" (dev): not live\n"
	    "project \"blog\": not live\n"
	    "project \"twice\": 2 live projects carry this name (conflict)\n");
	buf_free(&b);
}

static const cJSON *
get(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	if (it == NULL)
		fail_msg("no %s", k);
	return it;
}

static void
test_json(void **state)
{
	struct buf b;
	cJSON *root;
	const cJSON *shop, *deps, *prod, *keys, *p;
	char err[200];
	int64_t id;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(inventory_print_json(&inv, &b), 0);
	assert_int_equal(b.data[b.len - 1], '\n');
	root = jsonint_parse(b.data, b.len, err, sizeof(err));
	if (root == NULL)
		fail_msg("not JSON: %s: %s", err, b.data);
	assert_int_equal(cJSON_GetArraySize(get(root, "projects")), 3);
	shop = cJSON_GetArrayItem(get(root, "projects"), 0);
	assert_int_equal(jsonint_get(get(shop, "id"), &id), 0);
	assert_true(id == 9007199254740993);
	assert_string_equal(get(shop, "slug")->valuestring, "shop-1");
	deps = get(shop, "deployments");
	assert_int_equal(cJSON_GetArraySize(deps), 3);
	prod = cJSON_GetArrayItem(deps, 0);
	assert_string_equal(get(prod, "name")->valuestring, "happy-otter-123");
	assert_string_equal(get(prod, "url")->valuestring, "https://happy-otter-123.convex.cloud");
	assert_true(cJSON_IsTrue(get(prod, "default")));
	assert_true(cJSON_IsNull(get(prod, "expires_at")));
	assert_int_equal(cJSON_GetArraySize(get(prod, "pending_domains")), 1);
	keys = get(prod, "deploy_keys");
	assert_int_equal(cJSON_GetArraySize(keys), 3);
	assert_true(cJSON_IsTrue(get(cJSON_GetArrayItem(keys, 0), "file_exists")));
	assert_true(cJSON_IsFalse(get(cJSON_GetArrayItem(keys, 1), "file_exists")));
	assert_true(cJSON_IsFalse(get(cJSON_GetArrayItem(keys, 2), "live")));
	p = cJSON_GetArrayItem(deps, 1);
	assert_true(cJSON_IsFalse(get(p, "declared")));
	assert_string_equal(get(p, "expires_at")->valuestring, "2027-02-01T00:00:00Z");
	p = cJSON_GetArrayItem(deps, 2);
	assert_true(cJSON_IsFalse(get(p, "live")));
	assert_string_equal(get(p, "reference")->valuestring, "staging");
	p = cJSON_GetArrayItem(get(root, "projects"), 1);
	assert_true(cJSON_IsFalse(get(p, "live")));
	assert_null(cJSON_GetObjectItemCaseSensitive(p, "id"));
	p = cJSON_GetArrayItem(get(root, "projects"), 2);
	assert_int_equal(jsonint_get(get(p, "conflict"), &id), 0);
	assert_int_equal(id, 2);
	/* The project nobody declared is not shown. */
	assert_null(strstr(b.data, "busy-bee"));
	cJSON_Delete(root);
	buf_free(&b);
}

static void
test_empty(void **state)
{
	struct desired_state none = { 0 };
	struct inventory e = { &none, &os, "/k", 1 };
	struct buf b;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(inventory_print_text(&e, &b), 0);
	assert_string_equal(b.data, "No projects are declared.\n");
	buf_reset(&b);
	assert_int_equal(inventory_print_json(&e, &b), 0);
	assert_string_equal(b.data, "{\"team_id\": 1, \"projects\": []}\n");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
