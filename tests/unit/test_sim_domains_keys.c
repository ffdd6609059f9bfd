/* test_sim_domains_keys.c: convex-api-sim's custom domains and deploy keys: shapes, validation, verification, secrets, cascades, state and seed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "unit/test_sim_common.h"

static struct sim sim;
static long pid;
static char dep[64], dep2[64];

static int
group_setup(void **state)
{
	(void)state;
	return start_sim(&sim, NULL);
}

static int
group_teardown(void **state)
{
	(void)state;
	return sim_stop(&sim) == 0 ? 0 : -1;
}

static void
make_team(const struct sim *s)
{
	char path[96];
	cJSON *j;

	j = post_json(s, "/teams/1/create_project",
	    "{\"projectName\":\"shop\",\"deploymentType\":\"prod\"}", 200);
	pid = (long)num(j, "id", NULL);
	snprintf(dep, sizeof(dep), "%s", str(j, "deploymentName"));
	cJSON_Delete(j);
	snprintf(path, sizeof(path), "/projects/%ld/create_deployment", pid);
	j = post_json(s, path, "{\"type\":\"dev\"}", 200);
	snprintf(dep2, sizeof(dep2), "%s", str(j, "name"));
	cJSON_Delete(j);
}

static int
reset(void **state)
{
	(void)state;
	sim_reset(&sim);
	make_team(&sim);
	return 0;
}

static void
dpath(char *out, size_t n, const char *d, const char *tail)
{
	snprintf(out, n, "/deployments/%s/%s", d, tail);
}

static void
domain_create(const char *d, const char *body, long status, const char *code)
{
	char path[128];

	dpath(path, sizeof(path), d, "create_custom_domain");
	if (status == 200) {
		cJSON *j = post_json(&sim, path, body, 200);

		assert_true(cJSON_IsNull(j));   /* an empty body */
		cJSON_Delete(j);
	} else {
		post_expect(&sim, path, body, status, code);
	}
}

static cJSON *
domains(const char *d)
{
	char path[128];
	cJSON *j, *a;

	dpath(path, sizeof(path), d, "custom_domains");
	j = get_json(&sim, path, 200);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	a = cJSON_DetachItemFromObject(j, "domains");
	assert_true(cJSON_IsArray(a));
	cJSON_Delete(j);
	return a;
}

static void
test_domains(void **state)
{
	static const char *const bad[] = {
		"localhost", "API.shop.example.com", "-a.example.com",
		"a-.example.com", "a..example.com", ".example.com", "example.com.",
		"a.123", "x.convex.cloud", "convex.site", "a_b.example.com",
		"*.example.com", "a b.example.com", "",
	};
	char body[512], label[70], path[128];
	cJSON *a, *it;
	struct sim_response r;

	(void)state;
	domain_create(dep, "{\"domain\":\"api.shop.example.com\",\"requestDestination\":\"convexCloud\"}", 200, NULL);
	domain_create(dep, "{\"domain\":\"shop.example.com\",\"requestDestination\":\"convexSite\"}", 200, NULL);
	a = domains(dep);
	assert_int_equal(cJSON_GetArraySize(a), 2);
	it = cJSON_GetArrayItem(a, 0);
	/* PlatformCustomDomainResponse, exactly */
	assert_int_equal(cJSON_GetArraySize(it), 5);
	assert_string_equal(str(it, "domain"), "api.shop.example.com");
	assert_string_equal(str(it, "deploymentName"), dep);
	assert_string_equal(str(it, "requestDestination"), "convexCloud");
	assert_true(num(it, "creationTime", NULL) > 1.5e12);
	assert_true(is_null(it, "verificationTime"));   /* new: unverified */
	assert_string_equal(str(cJSON_GetArrayItem(a, 1), "requestDestination"), "convexSite");
	cJSON_Delete(a);

	/* a domain is unique, also across deployments and destinations */
	domain_create(dep, "{\"domain\":\"api.shop.example.com\",\"requestDestination\":\"convexCloud\"}",
	    400, "CustomDomainAlreadyExists");
	domain_create(dep2, "{\"domain\":\"api.shop.example.com\",\"requestDestination\":\"convexSite\"}",
	    400, "CustomDomainAlreadyExists");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body),
		    "{\"domain\":\"%s\",\"requestDestination\":\"convexCloud\"}", bad[i]);
		domain_create(dep2, body, 400, "InvalidDomain");
	}
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(body, sizeof(body), "{\"domain\":\"%s.example.com\",\"requestDestination\":\"convexCloud\"}", label);
	domain_create(dep2, body, 400, "InvalidDomain");
	domain_create(dep2, "{\"domain\":\"x.example.com\",\"requestDestination\":\"convexHttp\"}", 400, "BadRequest");
	domain_create(dep2, "{\"domain\":\"x.example.com\"}", 400, "BadRequest");
	domain_create(dep2, "{\"requestDestination\":\"convexSite\"}", 400, "BadRequest");
	domain_create(dep2, "{\"domain\":7,\"requestDestination\":\"convexSite\"}", 400, "BadRequest");
	domain_create(dep2, "{\"domain\":\"x.example.com\",\"requestDestination\":\"convexSite\",\"verified\":true}",
	    400, "BadRequest");
	domain_create("no-such-dep-1", "{\"domain\":\"x.example.com\",\"requestDestination\":\"convexSite\"}",
	    404, "DeploymentNotFound");
	a = domains(dep2);
	assert_int_equal(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);

	/* verification is an admin act */
	cJSON_Delete(admin_json(&sim, "/_sim/verify_domain", "{\"domain\":\"shop.example.com\"}", 200));
	cJSON_Delete(admin_json(&sim, "/_sim/verify_domain",
	    "{\"domain\":\"api.shop.example.com\",\"verificationTime\":1700000000000}", 200));
	cJSON_Delete(admin_json(&sim, "/_sim/verify_domain", "{\"domain\":\"nope.example.com\"}", 404));
	cJSON_Delete(admin_json(&sim, "/_sim/verify_domain", "{\"domain\":5}", 400));
	a = domains(dep);
	assert_true(num(cJSON_GetArrayItem(a, 0), "verificationTime", NULL) == 1700000000000.0);
	assert_true(num(cJSON_GetArrayItem(a, 1), "verificationTime", NULL) > 1.5e12);
	cJSON_Delete(a);
	cJSON_Delete(admin_json(&sim, "/_sim/verify_domain",
	    "{\"domain\":\"shop.example.com\",\"verified\":false}", 200));
	a = domains(dep);
	assert_true(is_null(cJSON_GetArrayItem(a, 1), "verificationTime"));
	cJSON_Delete(a);

	/* delete: domain and destination must both match */
	dpath(path, sizeof(path), dep, "delete_custom_domain");
	post_expect(&sim, path, "{\"domain\":\"shop.example.com\",\"requestDestination\":\"convexCloud\"}",
	    404, "CustomDomainNotFound");
	cJSON_Delete(post_json(&sim, path,
	    "{\"domain\":\"shop.example.com\",\"requestDestination\":\"convexSite\"}", 200));
	post_expect(&sim, path, "{\"domain\":\"shop.example.com\",\"requestDestination\":\"convexSite\"}",
	    404, "CustomDomainNotFound");
	post_expect(&sim, path, "{\"domain\":\"shop.example.com\"}", 400, "BadRequest");
	a = domains(dep);
	assert_int_equal(cJSON_GetArraySize(a), 1);
	cJSON_Delete(a);
	/* free again: another deployment can take it */
	domain_create(dep2, "{\"domain\":\"shop.example.com\",\"requestDestination\":\"convexCloud\"}", 200, NULL);
	dpath(path, sizeof(path), dep, "custom_domains");
	assert_int_equal(sim_post(&sim, path, "{}", &r), 0);
	expect_error(&r, 405, "MethodNotAllowed");
	sim_response_free(&r);
}

static char *
key_create(const char *d, const char *body)
{
	char path[128], *secret;
	cJSON *j;

	dpath(path, sizeof(path), d, "create_deploy_key");
	j = post_json(&sim, path, body, 200);
	assert_int_equal(cJSON_GetArraySize(j), 1);   /* {"deployKey"} only */
	secret = strdup(str(j, "deployKey"));
	cJSON_Delete(j);
	return secret;
}

static void
key_refused(const char *d, const char *body, long status, const char *code)
{
	char path[128];

	dpath(path, sizeof(path), d, "create_deploy_key");
	post_expect(&sim, path, body, status, code);
}

static cJSON *
keys(const char *d)
{
	char path[128];

	dpath(path, sizeof(path), d, "list_deploy_keys");
	return get_json(&sim, path, 200);
}

static void
key_delete(const char *d, const char *id, long status)
{
	char path[128], body[512];
	struct sim_response r;

	dpath(path, sizeof(path), d, "delete_deploy_key");
	snprintf(body, sizeof(body), "{\"id\":\"%s\"}", id);
	assert_int_equal(sim_post(&sim, path, body, &r), 0);
	if (status == 200) {
		assert_int_equal(r.status, 200);
		assert_int_equal(r.len, 0);
	} else {
		expect_error(&r, status, "DeployKeyNotFound");
		assert_null(strstr(r.body, id));   /* the id may be a secret */
	}
	sim_response_free(&r);
}

/* Neither the whole secret nor its token part anywhere in text. */
static void
assert_no_secret(const char *text, const char *secret)
{
	const char *token = strchr(secret, '|') + 1;

	assert_null(strstr(text, secret));
	assert_null(strstr(text, token));
}

static void
test_deploy_keys(void **state)
{
	static const char *const key_fields[] = {
		"allowedActions", "creationTime", "creator", "expiresAt", "id",
		"lastUsedTime", "managedBy", "name",
	};
	char *s1, *s2, *s3, *s4, prefix[96], body[256], big[128], *text;
	struct sim_response r;
	cJSON *a, *k;
	double now = now_ms_wall();

	(void)state;
	s1 = key_create(dep, "{\"name\":\"github-actions\"}");
	snprintf(prefix, sizeof(prefix), "prod:%s|", dep);
	assert_memory_equal(s1, prefix, strlen(prefix));
	assert_true(strlen(s1) > strlen(prefix) + 40);
	s2 = key_create(dep, "{\"name\":\"ci-readonly\",\"allowedActions\":[\"deployment:deploy\","
	    "\"deployment:env:view\"]}");
	snprintf(body, sizeof(body), "{\"name\":\"expiring\",\"expiresAt\":%.0f}", now + 3600000);
	s3 = key_create(dep, body);
	s4 = key_create(dep2, "{\"name\":\"github-actions\"}");   /* per deployment */
	snprintf(prefix, sizeof(prefix), "dev:%s|", dep2);
	assert_memory_equal(s4, prefix, strlen(prefix));
	assert_string_not_equal(s1, s2);

	a = keys(dep);
	assert_true(cJSON_IsArray(a));   /* a plain array */
	assert_int_equal(cJSON_GetArraySize(a), 3);
	k = cJSON_GetArrayItem(a, 0);
	assert_int_equal(cJSON_GetArraySize(k), 8);
	for (size_t i = 0; i < sizeof(key_fields) / sizeof(key_fields[0]); i++)
		assert_true(cJSON_HasObjectItem(k, key_fields[i]));
	assert_string_equal(str(k, "name"), "github-actions");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(k, "allowedActions")), 25);
	assert_true(num(k, "creator", NULL) == 7001);
	assert_true(num(k, "id", NULL) > 0);
	assert_true(is_null(k, "expiresAt") && is_null(k, "lastUsedTime") && is_null(k, "managedBy"));
	k = cJSON_GetArrayItem(a, 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(k, "allowedActions")), 2);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(k, "allowedActions"), 1)->valuestring,
	    "deployment:env:view");
	assert_true(num(cJSON_GetArrayItem(a, 2), "expiresAt", NULL) == (double)(long long)(now + 3600000));
	assert_true(num(cJSON_GetArrayItem(a, 0), "id", NULL) != num(cJSON_GetArrayItem(a, 1), "id", NULL));
	text = cJSON_PrintUnformatted(a);
	assert_no_secret(text, s1);
	assert_no_secret(text, s2);
	free(text);
	cJSON_Delete(a);
	/* never in the state, nor in the log */
	assert_int_equal(sim_admin_get(&sim, "/_sim/state", &r), 0);
	assert_no_secret(r.body, s1);
	assert_no_secret(r.body, s3);
	assert_no_secret(r.body, s4);
	sim_response_free(&r);
	assert_int_equal(sim_admin_get(&sim, "/_sim/log", &r), 0);
	assert_no_secret(r.body, s1);
	sim_response_free(&r);

	/* refusals */
	key_refused(dep, "{\"name\":\"github-actions\"}", 400, "DeployKeyAlreadyExists");
	key_refused(dep, "{}", 400, "BadRequest");
	key_refused(dep, "{\"name\":\"\"}", 400, "InvalidDeployKeyName");
	key_refused(dep, "{\"name\":\"   \"}", 400, "InvalidDeployKeyName");
	key_refused(dep, "{\"name\":\"tab\\there\"}", 400, "InvalidDeployKeyName");
	key_refused(dep, "{\"name\":\"c1\\u0085x\"}", 400, "InvalidDeployKeyName");
	memset(big, 'k', 101);
	big[101] = '\0';
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", big);
	key_refused(dep, body, 400, "InvalidDeployKeyName");
	key_refused(dep, "{\"name\":\"x\",\"allowedActions\":[\"deployment:everything\"]}", 400, "BadRequest");
	key_refused(dep, "{\"name\":\"x\",\"allowedActions\":\"deployment:deploy\"}", 400, "BadRequest");
	key_refused(dep, "{\"name\":\"x\",\"role\":\"admin\"}", 400, "BadRequest");
	snprintf(body, sizeof(body), "{\"name\":\"soon\",\"expiresAt\":%.0f}", now + 60000);
	key_refused(dep, body, 400, "BadRequest");
	key_refused("no-such-dep-1", "{\"name\":\"x\"}", 404, "DeploymentNotFound");
	/* a name with spaces and UTF-8 is fine */
	free(key_create(dep, "{\"name\":\"Anna's laptop \\u00e9\"}"));

	/* delete by name, by the whole key, by the token alone */
	key_delete(dep, "github-actions", 200);
	key_delete(dep, s2, 200);
	key_delete(dep, strchr(s3, '|') + 1, 200);
	key_delete(dep, "github-actions", 404);
	key_delete(dep, s2, 404);
	key_delete(dep, s4, 404);   /* another deployment's key */
	a = keys(dep);
	assert_int_equal(cJSON_GetArraySize(a), 1);
	cJSON_Delete(a);
	a = keys(dep2);
	assert_int_equal(cJSON_GetArraySize(a), 1);
	cJSON_Delete(a);
	/* a name freed by a delete can be used again */
	free(key_create(dep, "{\"name\":\"github-actions\"}"));
	free(s1);
	free(s2);
	free(s3);
	free(s4);
}

static void
test_secrets_repeat_from_seed(void **state)
{
	char *a, *b, *c;

	(void)state;
	a = key_create(dep, "{\"name\":\"one\"}");
	b = key_create(dep, "{\"name\":\"two\"}");
	assert_string_not_equal(a, b);
	/* a reset reseeds: the same requests give the same secrets */
	sim_reset(&sim);
	make_team(&sim);
	c = key_create(dep, "{\"name\":\"one\"}");
	assert_string_equal(strchr(a, '|'), strchr(c, '|'));
	free(a);
	free(b);
	free(c);
}

static void
test_deletes_cascade(void **state)
{
	char path[128];
	cJSON *st, *it;

	(void)state;
	domain_create(dep, "{\"domain\":\"a.example.com\",\"requestDestination\":\"convexCloud\"}", 200, NULL);
	domain_create(dep2, "{\"domain\":\"b.example.com\",\"requestDestination\":\"convexCloud\"}", 200, NULL);
	free(key_create(dep, "{\"name\":\"k\"}"));
	free(key_create(dep2, "{\"name\":\"k\"}"));
	snprintf(path, sizeof(path), "/deployments/%s/delete", dep2);
	cJSON_Delete(post_json(&sim, path, NULL, 200));
	dpath(path, sizeof(path), dep2, "custom_domains");
	get_expect(&sim, path, 404, "DeploymentNotFound");
	dpath(path, sizeof(path), dep2, "list_deploy_keys");
	get_expect(&sim, path, 404, "DeploymentNotFound");
	/* its domain is free for another deployment */
	domain_create(dep, "{\"domain\":\"b.example.com\",\"requestDestination\":\"convexSite\"}", 200, NULL);
	/* a project delete takes its deployments' domains and keys */
	snprintf(path, sizeof(path), "/projects/%ld/delete", pid);
	cJSON_Delete(post_json(&sim, path, NULL, 200));
	st = sim_state(&sim);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(st, "deployments")), 0);
	cJSON_Delete(st);
	make_team(&sim);
	domain_create(dep, "{\"domain\":\"a.example.com\",\"requestDestination\":\"convexCloud\"}", 200, NULL);
	domain_create(dep, "{\"domain\":\"b.example.com\",\"requestDestination\":\"convexCloud\"}", 200, NULL);
	st = sim_state(&sim);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(st, "deployments"))
		if (strcmp(str(it, "name"), dep) == 0)
			assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(it, "customDomains")), 2);
	cJSON_Delete(st);
}

static void
test_state_file_keeps_them(void **state)
{
	char file[] = "/tmp/sim-dk-XXXXXX", *secret, *text;
	const char *args[] = { "--state", file, NULL };
	struct sim s2;
	struct sim saved = sim;
	cJSON *a;
	FILE *f;
	long n;
	int fd;

	(void)state;
	fd = mkstemp(file);
	assert_true(fd >= 0);
	close(fd);
	unlink(file);   /* a first run */
	assert_int_equal(start_sim(&s2, args), 0);
	sim = s2;       /* the helpers talk to the global */
	make_team(&sim);
	domain_create(dep, "{\"domain\":\"keep.example.com\",\"requestDestination\":\"convexSite\"}", 200, NULL);
	cJSON_Delete(admin_json(&sim, "/_sim/verify_domain",
	    "{\"domain\":\"keep.example.com\",\"verificationTime\":1700000000001}", 200));
	secret = key_create(dep, "{\"name\":\"kept\",\"allowedActions\":[\"deployment:deploy\"]}");
	assert_int_equal(sim_stop(&sim), 0);
	/* the file holds no secret */
	f = fopen(file, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_no_secret(text, secret);
	assert_non_null(strstr(text, "keep.example.com"));
	free(text);

	assert_int_equal(start_sim(&s2, args), 0);
	sim = s2;
	a = domains(dep);
	assert_int_equal(cJSON_GetArraySize(a), 1);
	assert_true(num(cJSON_GetArrayItem(a, 0), "verificationTime", NULL) == 1700000000001.0);
	assert_string_equal(str(cJSON_GetArrayItem(a, 0), "requestDestination"), "convexSite");
	cJSON_Delete(a);
	a = keys(dep);
	assert_int_equal(cJSON_GetArraySize(a), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0),
	    "allowedActions")), 1);
	cJSON_Delete(a);
	/* the hash survived: the secret still deletes it */
	key_delete(dep, secret, 200);
	assert_int_equal(sim_stop(&sim), 0);
	sim = saved;
	unlink(file);
	free(secret);
}

static void
test_seed_covers_them(void **state)
{
	cJSON *j, *st, *it;
	char path[128];
	long n = 0;

	(void)state;
	sim_reset(&sim);
	j = admin_json(&sim, "/_sim/seed", "{\"projects\":3,\"deploymentsPerProject\":2,"
	    "\"envPerProject\":4,\"domainsPerDeployment\":2,\"deployKeysPerDeployment\":1,"
	    "\"prefix\":\"s\"}", 200);
	assert_true(num(j, "projects", NULL) == 3);
	assert_true(num(j, "deployments", NULL) == 6);
	assert_true(num(j, "envVars", NULL) == 24);
	assert_true(num(j, "domains", NULL) == 12);
	assert_true(num(j, "deployKeys", NULL) == 6);
	snprintf(path, sizeof(path), "/projects/%ld/list_default_environment_variables",
	    (long)num(j, "firstProjectId", NULL));
	cJSON_Delete(j);
	j = get_json(&sim, path, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 4);   /* grouped */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(j, "items"), 0), "deploymentTypes")), 2);
	cJSON_Delete(j);
	st = sim_state(&sim);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(st, "deployments")) {
		n += cJSON_GetArraySize(cJSON_GetObjectItem(it, "customDomains"));
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(it, "deployKeys")), 1);
	}
	assert_int_equal(n, 12);
	cJSON_Delete(st);
	cJSON_Delete(admin_json(&sim, "/_sim/seed", "{\"projects\":1,\"envPerProject\":101}", 400));
	cJSON_Delete(admin_json(&sim, "/_sim/seed", "{\"projects\":1,\"domainsPerDeployment\":11}", 400));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_domains, reset),
		cmocka_unit_test_setup(test_deploy_keys, reset),
		cmocka_unit_test_setup(test_secrets_repeat_from_seed, reset),
		cmocka_unit_test_setup(test_deletes_cascade, reset),
		cmocka_unit_test(test_state_file_keeps_them),
		cmocka_unit_test(test_seed_covers_them),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
