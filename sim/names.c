/* names.c: the API's value rules: types, regions, classes, references, deployment names, slugs. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

static const char *const types[] = { "dev", "prod", "preview", "custom" };
static const char *const regions[] = { "aws-us-east-1", "aws-eu-west-1" };
static const char *const region_names[] = {
	"US East (N. Virginia)", "EU West (Ireland)"
};
static const char *const classes[] = { "s16", "s256", "d1024", "d2048" };
static const char *const dests[] = { "convexCloud", "convexSite" };

/* PlatformCreateDeployKeyArgs.allowedActions, in the d.ts order. */
static const char *const actions[SIM_NACTIONS] = {
	"deployment:deploy", "deployment:env:view", "deployment:env:write",
	"deployment:pause", "deployment:unpause", "deployment:logs:view",
	"deployment:metrics:view", "deployment:integrations:view",
	"deployment:integrations:write", "deployment:data:view",
	"deployment:data:write", "deployment:backups:view",
	"deployment:backups:create", "deployment:backups:download",
	"deployment:backups:delete", "deployment:backups:import",
	"deployment:functions:actAsUser",
	"deployment:functions:runInternalQueries",
	"deployment:functions:runInternalMutations",
	"deployment:functions:runInternalActions",
	"deployment:functions:runTestQuery", "deployment:auditLog:view",
	"deployment:usageLimits:view", "deployment:usageLimits:write",
	"deployment:usage:view",
};

static const char *const reserved[] = {
	"prod", "dev", "cloud", "local", "default", "name", "new", "existing",
	"deployment", "preview",
};

static const char *const adjectives[] = {
	"happy", "brave", "calm", "clever", "eager", "fair", "gentle", "jolly",
	"kind", "lively", "merry", "nimble", "proud", "quick", "quiet", "shiny",
	"silly", "tidy", "witty", "zealous", "ardent", "bold", "bright", "cheery",
	"curious", "dapper", "elegant", "famous", "fearless", "fiery", "fleet",
	"friendly", "giddy", "glad", "graceful", "hardy", "hearty", "honest",
	"joyful", "keen", "lucky", "mellow", "mighty", "modest", "neat", "noble",
	"patient", "perfect", "playful", "polite", "precious", "quirky", "rapid",
	"robust", "rosy", "sleek", "smart", "steady", "sunny", "superb", "swift",
	"tame", "vivid", "warmhearted",
};

static const char *const animals[] = {
	"otter", "badger", "beaver", "bison", "camel", "capybara", "cat",
	"cheetah", "chicken", "cobra", "cod", "corgi", "cow", "coyote", "crab",
	"crane", "deer", "dingo", "dog", "dolphin", "donkey", "dove", "duck",
	"eagle", "eel", "elephant", "emu", "falcon", "ferret", "finch", "fish",
	"flamingo", "fox", "frog", "gazelle", "gecko", "giraffe", "goat", "goose",
	"gopher", "hamster", "hare", "hawk", "hedgehog", "heron", "hippo",
	"horse", "hound", "husky", "ibex", "iguana", "jaguar", "kangaroo",
	"kiwi", "koala", "lemur", "leopard", "lion", "llama", "lobster", "lynx",
	"magpie", "mink", "mole",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
parse(const char *const *table, size_t n, const char *s)
{
	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

int
names_type_parse(const char *s, enum dep_type *out)
{
	int i = parse(types, NELEM(types), s);

	if (i < 0)
		return i;
	*out = (enum dep_type)i;
	return 0;
}

const char *
names_type_str(enum dep_type t)
{
	return types[t];
}

int
names_region_parse(const char *s, enum dep_region *out)
{
	int i = parse(regions, NELEM(regions), s);

	if (i < 0)
		return i;
	*out = (enum dep_region)i;
	return 0;
}

const char *
names_region_str(enum dep_region r)
{
	return regions[r];
}

const char *
names_region_display(enum dep_region r)
{
	return region_names[r];
}

int
names_class_parse(const char *s, enum dep_class *out)
{
	int i = parse(classes, NELEM(classes), s);

	if (i < 0)
		return i;
	*out = (enum dep_class)i;
	return 0;
}

const char *
names_class_str(enum dep_class c)
{
	return classes[c];
}

int
names_dest_parse(const char *s, enum domain_dest *out)
{
	int i = parse(dests, NELEM(dests), s);

	if (i < 0)
		return i;
	*out = (enum domain_dest)i;
	return 0;
}

const char *
names_dest_str(enum domain_dest d)
{
	return dests[d];
}

int
names_action_parse(const char *s)
{
	return parse(actions, NELEM(actions), s);
}

const char *
names_action_str(int i)
{
	return actions[i];
}

/* "If not set, defaults to true for prod deployments and false for dev and
 * preview deployments" (PlatformDeploymentResponse); custom as non-prod. */
bool
names_default_edit_confirmation(enum dep_type t)
{
	return t == DT_PROD;
}

/* "the deployment-type default (true for dev/preview, false for prod)" */
bool
names_default_logs_to_client(enum dep_type t)
{
	return t != DT_PROD;
}

bool
names_is_deployment_shape(const char *s)
{
	const char *p = s;

	/* [a-z]+-[a-z]+-[0-9]+, anchored at both ends */
	for (int part = 0; part < 2; part++) {
		const char *start = p;

		while (*p >= 'a' && *p <= 'z')
			p++;
		if (p == start || *p != '-')
			return false;
		p++;
	}
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0';
}

const char *
names_reference_problem(const char *ref)
{
	size_t n = strlen(ref);

	if (n < 3 || n > 100)
		return "must be 3 to 100 characters long";
	for (const char *p = ref; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '/'))
			return "may only contain lowercase letters, numbers, \"-\" and \"/\"";
	}
	if (names_is_deployment_shape(ref))
		return "must not look like a deployment name ([a-z]+-[a-z]+-[0-9]+)";
	if (strncmp(ref, "local-", 6) == 0)
		return "must not start with \"local-\"";
	for (size_t i = 0; i < NELEM(reserved); i++)
		if (strcmp(ref, reserved[i]) == 0)
			return "is a reserved keyword";
	return NULL;
}

/* PlatformCreateProjectArgs.projectName: "Spaces and punctuations allowed". */
const char *
names_project_name_problem(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 128)
		return "must be 1 to 128 bytes long";
	if (strspn(name, " \t\r\n") == n)
		return "must not be blank";
	return NULL;
}

/* The d.ts says only `ProjectSlug: string`. The rule is the shape of the
 * slugs the API itself makes from names (names_slugify): lowercase ASCII
 * letters, digits and "-", no "-" at either end, at most 64 characters. */
const char *
names_slug_problem(const char *slug)
{
	size_t n = strlen(slug);

	if (n == 0 || n > 64)
		return "must be 1 to 64 characters long";
	for (const char *p = slug; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-'))
			return "may only contain lowercase letters, digits and \"-\"";
	if (slug[0] == '-' || slug[n - 1] == '-')
		return "must not start or end with \"-\"";
	return NULL;
}

/* SPEC section 9: a letter or "_", then letters, digits and "_", at most
 * 40 characters. */
const char *
names_env_name_problem(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > SIM_ENV_NAME_MAX)
		return "must be 1 to 40 characters long";
	if (!(isalpha((unsigned char)name[0]) && (unsigned char)name[0] < 128) &&
	    name[0] != '_')
		return "must start with a letter or \"_\"";
	for (const char *p = name; *p; p++)
		if (!(((unsigned char)*p < 128 && isalnum((unsigned char)*p)) ||
		    *p == '_'))
			return "may only contain letters, digits and \"_\"";
	return NULL;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A lowercase DNS name of two labels or more: labels of 1 to 63 of a-z,
 * 0-9 and "-" (not at either end), 253 characters at most, a top-level
 * label with a letter; not a name under Convex's own domains. */
const char *
names_domain_problem(const char *domain)
{
	size_t n = strlen(domain), label = 0, labels = 1;
	bool tld_alpha = false;

	if (n < 4 || n > 253)
		return "must be 4 to 253 characters long";
	for (size_t i = 0; i < n; i++) {
		char c = domain[i];

		if (c == '.') {
			if (label == 0 || domain[i - 1] == '-')
				return "has an empty label or one ending in \"-\"";
			label = 0;
			labels++;
			tld_alpha = false;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			return "must be lowercase";
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return "may only contain a-z, 0-9, \"-\" and dots";
		if (c == '-' && label == 0)
			return "has a label starting with \"-\"";
		if (++label > 63)
			return "has a label longer than 63 characters";
		if (c >= 'a' && c <= 'z')
			tld_alpha = true;
	}
	if (label == 0 || domain[n - 1] == '-')
		return "has an empty label or one ending in \"-\"";
	if (labels < 2 || !tld_alpha)
		return "needs a name and a top-level domain (such as example.com)";
	if (strcmp(domain, "convex.cloud") == 0 || strcmp(domain, "convex.site") == 0 ||
	    ends_with(domain, ".convex.cloud") || ends_with(domain, ".convex.site"))
		return "is under a Convex domain";
	return NULL;
}

/* Deploy key names: 1 to 100 bytes, not blank, no control characters
 * (C0, DEL, or C1 as UTF-8 U+0080..U+009F). */
const char *
names_key_name_problem(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 100)
		return "must be 1 to 100 bytes long";
	if (strspn(name, " ") == n)
		return "must not be blank";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f ||
		    (c == 0xc2 && (unsigned char)name[i + 1] >= 0x80 &&
		    (unsigned char)name[i + 1] <= 0x9f))
			return "must not contain control characters";
	}
	return NULL;
}

void
names_deployment(struct rng *r, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s-%s-%u",
	    adjectives[rng_below(r, NELEM(adjectives))],
	    animals[rng_below(r, NELEM(animals))],
	    (unsigned)(100 + rng_below(r, 900)));
}

void
names_slugify(const char *name, char *out, size_t outlen)
{
	size_t n = 0;
	bool dash = false;

	for (const char *p = name; *p && n + 2 < outlen && n < 60; p++) {
		unsigned char c = (unsigned char)*p;

		if (isalnum(c) && c < 128) {
			if (dash && n > 0)
				out[n++] = '-';
			dash = false;
			out[n++] = (char)tolower(c);
		} else {
			dash = true;
		}
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, outlen, "project");
}

void
names_deployment_url(const char *name, enum dep_region region, char *out,
    size_t outlen)
{
	if (region == REGION_US_EAST_1)
		snprintf(out, outlen, "https://%s.convex.cloud", name);
	else
		snprintf(out, outlen, "https://%s.eu-west-1.convex.cloud", name);
}
