/* names.c: the API's value rules: types, regions, classes, references, deployment names, slugs. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

static const char *const types[] = { "dev", "prod", "preview", "custom" };
static const char *const regions[] = { "aws-us-east-1", "aws-eu-west-1" };
static const char *const region_names[] = {
	"US East (N. Virginia)", "EU West (Ireland)"
};
static const char *const classes[] = { "s16", "s256", "d1024", "d2048" };

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
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i], s) == 0)
			return (int)i;
	return -1;
}

int
names_type_parse(const char *s, enum dep_type *out)
{
	int i = parse(types, NELEM(types), s);

	if (i < 0)
		return -1;
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
		return -1;
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
		return -1;
	*out = (enum dep_class)i;
	return 0;
}

const char *
names_class_str(enum dep_class c)
{
	return classes[c];
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
