/* test_desired.c: every rule of the desired-state format (SPEC section 2),
 * one table row each with the exact FILE:LINE:COL and message; the files
 * found and their order; the limits; the model built from valid files. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfgtest.h"
#include "desired.h"
#include "diag.h"
#include "ytree.h"

/* One project "shop" whose deployments follow; a deployment mapping then
 * starts on line 4, column 9, its reference value at column 20. */
#define SHOP "projects:\n  - name: shop\n    deployments:\n"
/* The keys each level takes, as "unknown key" errors list them. */
#define PROJECT_KEYS "name, state, deployments, protect, slug, renamed_from, " \
	"env"
#define DEPLOYMENT_KEYS "reference, type, region, class, default, state, " \
	"protect, dashboard_edit_confirmation, send_logs_to_client, " \
	"expires_at, renamed_from, domains, deploy_keys"
#define X16 "xxxxxxxxxxxxxxxx"
#define X64 X16 X16 X16 X16
#define X1K X64 X64 X64 X64 X64 X64 X64 X64 X64 X64 X64 X64 X64 X64 X64 X64
#define X8K X1K X1K X1K X1K X1K X1K X1K X1K

struct file {
	const char *rel;
	const char *text;
};

struct row {
	const char *name;
	struct file files[3];
	int rc;
	const char *want;      /* every diagnostic, folder prefix cut */
};

static const struct row rows[] = {
	/* ---- valid ---- */
	{ "a full example", { { "a.yaml",
	  "# yaml-language-server: $schema=x.json\n"
	  "projects:\n"
	  "  - name: shop\n"
	  "    protect: true\n"
	  "    deployments:\n"
	  "      - reference: production\n"
	  "        type: prod\n"
	  "        region: aws-us-east-1\n"
	  "        class: s16\n"
	  "        default: true\n"
	  "        protect: true\n"
	  "      - reference: staging\n"
	  "        type: dev\n"
	  "        default: true\n"
	  "      - reference: pr/42\n"
	  "        type: preview\n"
	  "        default: false\n"
	  "      - reference: old-thing\n"
	  "        type: custom\n"
	  "        state: absent\n"
	  "  - name: legacy-tool\n"
	  "    state: absent\n" } }, 0, "" },
	{ "a name that looks like a number is taken as written",
	  { { "a.yaml", "projects:\n  - name: 2024\n" } }, 0, "" },
	{ "state: absent with an empty list of deployments",
	  { { "a.yaml", "projects:\n  - name: x\n    state: absent\n"
	  "    deployments: []\n" } }, 0, "" },
	{ "null lists declare nothing",
	  { { "a.yaml", "projects:\n  - name: x\n    deployments:\n" },
	    { "b.yaml", "projects:\n" } }, 0, "" },
	{ "an empty file and an empty document",
	  { { "a.yaml", "" }, { "b.yaml", "---\n# nothing\n" } }, 0, "" },
	{ "several documents in one file",
	  { { "a.yaml", "projects:\n  - name: a\n---\nprojects:\n  - name: b\n" } },
	  0, "" },
	{ "one reference in two projects",
	  { { "a.yaml", "projects:\n  - name: a\n    deployments:\n"
	  "      - {reference: main, type: dev}\n"
	  "  - name: b\n    deployments:\n"
	  "      - {reference: main, type: dev}\n" } }, 0, "" },
	{ "one default dev and one default prod",
	  { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, default: true}\n"
	  "      - {reference: two, type: prod, default: true}\n" } }, 0, "" },
	{ "an absent default does not count",
	  { { "a.yaml", SHOP
	  "      - {reference: old, type: dev, default: true, state: absent}\n"
	  "      - {reference: fresh, type: dev, default: true}\n" } }, 0, "" },
	{ "a name of 128 bytes", { { "a.yaml", "projects:\n  - name: "
	  X64 X64 "\n" } }, 0, "" },
	{ "warnings do not make it invalid",
	  { { "a.yaml", "projects:\n  - name: x\n    state: absent\n"
	  "    protect: true\n" } }, 0,
	  "a.yaml:4:14: warning: project \"x\" has state: absent and protect: "
	  "true; the protected guard will hold back its deletion\n" },
	{ "warning for an absent protected deployment",
	  { { "a.yaml", SHOP
	  "      - {reference: old, type: dev, state: absent, protect: true}\n" } },
	  0, "a.yaml:4:61: warning: deployment \"old\" has state: absent and "
	  "protect: true; the protected guard will hold back its deletion\n" },

	/* ---- the top level ---- */
	{ "unknown top-level key", { { "a.yaml", "projcts: []\n" } }, -EINVAL,
	  "a.yaml:1:1: error: unknown key \"projcts\" at the top level "
	  "(expected projects)\n" },
	{ "top level is a list", { { "a.yaml", "- name: x\n" } }, -EINVAL,
	  "a.yaml:1:1: error: expected a mapping with the key \"projects\" at "
	  "the top level, got a list\n" },
	{ "top level is a string", { { "a.yaml", "hello\n" } }, -EINVAL,
	  "a.yaml:1:1: error: expected a mapping with the key \"projects\" at "
	  "the top level, got a string\n" },
	{ "projects is a mapping", { { "a.yaml", "projects:\n  name: x\n" } },
	  -EINVAL, "a.yaml:2:3: error: \"projects\" must be a list, got a "
	  "mapping\n" },

	/* ---- projects ---- */
	{ "project is not a mapping", { { "a.yaml", "projects:\n  - shop\n" } },
	  -EINVAL, "a.yaml:2:5: error: a project must be a mapping, got a "
	  "string\n" },
	{ "unknown project key", { { "a.yaml",
	  "projects:\n  - name: shop\n    protected: true\n" } }, -EINVAL,
	  "a.yaml:3:5: error: unknown key \"protected\" in project (expected one "
	  "of: " PROJECT_KEYS ")\n" },
	{ "missing name", { { "a.yaml", "projects:\n  - state: present\n" } },
	  -EINVAL, "a.yaml:2:5: error: project has no \"name\"\n" },
	{ "name is a boolean", { { "a.yaml", "projects:\n  - name: true\n" } },
	  -EINVAL, "a.yaml:2:11: error: \"name\" must be a string, got a "
	  "boolean\n" },
	{ "name is null", { { "a.yaml", "projects:\n  - name: ~\n" } },
	  -EINVAL, "a.yaml:2:11: error: \"name\" must be a string, got null\n" },
	{ "name is a list", { { "a.yaml", "projects:\n  - name: [a]\n" } },
	  -EINVAL, "a.yaml:2:11: error: \"name\" must be a string, got a list\n" },
	{ "empty name", { { "a.yaml", "projects:\n  - name: \"\"\n" } },
	  -EINVAL, "a.yaml:2:11: error: \"name\" may not be empty\n" },
	{ "name of 129 bytes", { { "a.yaml", "projects:\n  - name: "
	  X64 X64 "y\n" } }, -EINVAL, "a.yaml:2:11: error: project name "
	  "\"" X64 "\"... is longer than 128 bytes\n" },
	{ "name with a control character", { { "a.yaml",
	  "projects:\n  - name: \"a\\tb\"\n" } }, -EINVAL,
	  "a.yaml:2:11: error: project name \"a\\tb\" may not contain control "
	  "characters\n" },
	{ "duplicate name in one file", { { "a.yaml",
	  "projects:\n  - name: shop\n  - name: shop\n" } }, -EINVAL,
	  "a.yaml:3:11: error: duplicate project name \"shop\" (first declared "
	  "at a.yaml:2:11)\n" },
	{ "duplicate name across files", {
	  { "a.yaml", "projects:\n  - name: shop\n" },
	  { "b.yaml", "projects:\n  - name: other\n  - name: shop\n" } },
	  -EINVAL, "b.yaml:3:11: error: duplicate project name \"shop\" (first "
	  "declared at a.yaml:2:11)\n" },
	{ "duplicate name across documents", { { "a.yaml",
	  "projects:\n  - name: shop\n---\nprojects:\n  - name: shop\n" } },
	  -EINVAL, "a.yaml:5:11: error: duplicate project name \"shop\" (first "
	  "declared at a.yaml:2:11)\n" },
	{ "invalid state", { { "a.yaml",
	  "projects:\n  - name: x\n    state: gone\n" } }, -EINVAL,
	  "a.yaml:3:12: error: invalid state \"gone\" (expected present or "
	  "absent)\n" },
	{ "state is a boolean", { { "a.yaml",
	  "projects:\n  - name: x\n    state: false\n" } }, -EINVAL,
	  "a.yaml:3:12: error: \"state\" must be a string, got a boolean\n" },
	{ "protect is a string", { { "a.yaml",
	  "projects:\n  - name: x\n    protect: \"true\"\n" } }, -EINVAL,
	  "a.yaml:3:14: error: \"protect\" must be true or false, got a "
	  "string\n" },
	{ "protect: yes is not a boolean", { { "a.yaml",
	  "projects:\n  - name: x\n    protect: yes\n" } }, -EINVAL,
	  "a.yaml:3:14: error: \"protect\" must be true or false, got a "
	  "string\n" },
	{ "deployments is a mapping", { { "a.yaml",
	  "projects:\n  - name: x\n    deployments: {}\n" } }, -EINVAL,
	  "a.yaml:3:18: error: \"deployments\" must be a list, got a mapping\n" },
	{ "state: absent with deployments", { { "a.yaml",
	  "projects:\n  - name: old\n    state: absent\n    deployments:\n"
	  "      - reference: main\n        type: dev\n" } }, -EINVAL,
	  "a.yaml:4:5: error: project \"old\" has state: absent and may not "
	  "list deployments\n" },
	{ "merge keys", { { "a.yaml", "projects:\n  - name: x\n    <<: {}\n" } },
	  -EINVAL, "a.yaml:3:5: error: merge keys (<<) are not supported in "
	  "project\n" },

	/* ---- deployments ---- */
	{ "deployment is not a mapping", { { "a.yaml", SHOP
	  "      - staging\n" } }, -EINVAL,
	  "a.yaml:4:9: error: a deployment must be a mapping, got a string\n" },
	{ "unknown deployment key", { { "a.yaml", SHOP
	  "      - reference: staging\n        type: dev\n        referense: x\n" } },
	  -EINVAL, "a.yaml:6:9: error: unknown key \"referense\" in deployment "
	  "(expected one of: " DEPLOYMENT_KEYS ")\n" },
	{ "missing reference", { { "a.yaml", SHOP "      - type: dev\n" } },
	  -EINVAL, "a.yaml:4:9: error: deployment has no \"reference\"\n" },
	{ "missing type", { { "a.yaml", SHOP "      - reference: staging\n" } },
	  -EINVAL, "a.yaml:4:9: error: deployment \"staging\" has no \"type\" "
	  "(expected one of: dev, prod, preview, custom)\n" },
	{ "missing reference and type", { { "a.yaml", SHOP "      - region: x\n" } },
	  -EINVAL, "a.yaml:4:9: error: deployment has no \"reference\"\n"
	  "a.yaml:4:9: error: deployment has no \"type\" (expected one of: dev, "
	  "prod, preview, custom)\n" },
	{ "invalid type", { { "a.yaml", SHOP
	  "      - reference: staging\n        type: production\n" } }, -EINVAL,
	  "a.yaml:5:15: error: invalid type \"production\" (expected one of: "
	  "dev, prod, preview, custom)\n" },
	{ "reference too short", { { "a.yaml", SHOP
	  "      - reference: ab\n        type: dev\n" } }, -EINVAL,
	  "a.yaml:4:20: error: reference \"ab\" must be 3 to 100 characters "
	  "long\n" },
	{ "reference with capitals", { { "a.yaml", SHOP
	  "      - reference: Staging\n        type: dev\n" } }, -EINVAL,
	  "a.yaml:4:20: error: reference \"Staging\" may only contain a-z, 0-9, "
	  "\"-\" and \"/\"\n" },
	{ "reference shaped like a deployment name", { { "a.yaml", SHOP
	  "      - reference: happy-otter-123\n        type: dev\n" } }, -EINVAL,
	  "a.yaml:4:20: error: reference \"happy-otter-123\" has the shape of a "
	  "deployment name (letters-letters-digits)\n" },
	{ "reference starting with local-", { { "a.yaml", SHOP
	  "      - reference: local-dev\n        type: dev\n" } }, -EINVAL,
	  "a.yaml:4:20: error: reference \"local-dev\" may not start with "
	  "\"local-\"\n" },
	{ "reserved reference", { { "a.yaml", SHOP
	  "      - reference: default\n        type: dev\n" } }, -EINVAL,
	  "a.yaml:4:20: error: reference \"default\" is reserved\n" },
	{ "reference is a boolean", { { "a.yaml", SHOP
	  "      - reference: false\n        type: dev\n" } }, -EINVAL,
	  "a.yaml:4:20: error: \"reference\" must be a string, got a boolean\n" },
	{ "duplicate reference", { { "a.yaml", SHOP
	  "      - reference: staging\n        type: dev\n"
	  "      - reference: staging\n        type: preview\n" } }, -EINVAL,
	  "a.yaml:6:20: error: duplicate reference \"staging\" in project "
	  "\"shop\" (first declared at a.yaml:4:20)\n" },
	{ "default with type preview", { { "a.yaml", SHOP
	  "      - reference: review\n        type: preview\n"
	  "        default: true\n" } }, -EINVAL,
	  "a.yaml:6:18: error: \"default: true\" is only allowed with type dev "
	  "or prod, not preview\n" },
	{ "default with type custom", { { "a.yaml", SHOP
	  "      - {reference: mine, type: custom, default: true}\n" } }, -EINVAL,
	  "a.yaml:4:50: error: \"default: true\" is only allowed with type dev "
	  "or prod, not custom\n" },
	{ "two default dev deployments", { { "a.yaml", SHOP
	  "      - reference: one\n        type: dev\n        default: true\n"
	  "      - reference: two\n        type: dev\n        default: true\n" } },
	  -EINVAL, "a.yaml:9:18: error: more than one default dev deployment in "
	  "project \"shop\" (the first is \"one\" at a.yaml:6:18)\n" },
	{ "default is a number", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, default: 1}\n" } }, -EINVAL,
	  "a.yaml:4:46: error: \"default\" must be true or false, got a "
	  "number\n" },
	{ "invalid region", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, region: US East}\n" } }, -EINVAL,
	  "a.yaml:4:45: error: invalid region \"US East\" (expected 1 to 64 "
	  "characters of a-z, 0-9 and \"-\")\n" },
	{ "empty class", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, class: \"\"}\n" } }, -EINVAL,
	  "a.yaml:4:44: error: invalid class \"\" (expected 1 to 64 characters "
	  "of a-z, 0-9 and \"-\")\n" },
	{ "region is a list", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, region: [a]}\n" } }, -EINVAL,
	  "a.yaml:4:45: error: \"region\" must be a string, got a list\n" },
	{ "deployment state", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, state: deleted}\n" } }, -EINVAL,
	  "a.yaml:4:44: error: invalid state \"deleted\" (expected present or "
	  "absent)\n" },
	{ "deployment protect", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, protect: on}\n" } }, -EINVAL,
	  "a.yaml:4:46: error: \"protect\" must be true or false, got a "
	  "string\n" },

	/* ---- every error of a run ---- */
	{ "all errors, in file and position order", {
	  { "a.yaml", SHOP
	  "      - reference: Bad\n        type: dev\n        colour: red\n"
	  "  - name: shop\n" },
	  { "b.yaml", "projects:\n  - name: a\n    state: gone\n  - nmae: b\n" },
	  { "c.yaml", "projects: [\n" } }, -EINVAL,
	  "a.yaml:4:20: error: reference \"Bad\" may only contain a-z, 0-9, "
	  "\"-\" and \"/\"\n"
	  "a.yaml:6:9: error: unknown key \"colour\" in deployment (expected one "
	  "of: " DEPLOYMENT_KEYS ")\n"
	  "a.yaml:7:11: error: duplicate project name \"shop\" (first declared "
	  "at a.yaml:2:11)\n"
	  "b.yaml:3:12: error: invalid state \"gone\" (expected present or "
	  "absent)\n"
	  "b.yaml:4:5: error: unknown key \"nmae\" in project (expected one of: "
	  PROJECT_KEYS ")\n"
	  "b.yaml:4:5: error: project has no \"name\"\n"
	  "c.yaml:2:1: error: invalid YAML: did not find expected node content "
	  "(while parsing a flow node at 2:1)\n" },
	{ "a broken file does not hide the next one", {
	  { "a.yaml", "projects:\n  - name: a\n   - name: b\n" },
	  { "b.yaml", "projects:\n  - name: c\n    typo: 1\n" } }, -EINVAL,
	  "a.yaml:3:4: error: invalid YAML: did not find expected '-' indicator "
	  "(while parsing a block collection at 2:3)\n"
	  "b.yaml:3:5: error: unknown key \"typo\" in project (expected one of: "
	  PROJECT_KEYS ")\n" },
	{ "duplicate key inside a project", { { "a.yaml",
	  "projects:\n  - name: a\n    name: b\n" } }, -EINVAL,
	  "a.yaml:3:5: error: duplicate key \"name\" (first at 2:5)\n" },
	/* ---- in-place updates and renames (SPEC section 8) ---- */
	{ "the keys of section 8", { { "a.yaml",
	  "projects:\n"
	  "  - name: shop\n"
	  "    slug: shop-eu\n"
	  "    renamed_from: [old-shop, \"Shop (2023)\"]\n"
	  "    deployments:\n"
	  "      - reference: production\n"
	  "        type: prod\n"
	  "        dashboard_edit_confirmation: true\n"
	  "        send_logs_to_client: false\n"
	  "        expires_at: never\n"
	  "        renamed_from: prod-main\n"
	  "      - reference: pr/7\n"
	  "        type: preview\n"
	  "        expires_at: 2027-01-31T00:00:00.25+02:00\n"
	  "        renamed_from: [pr-7, pr/seven]\n" },
	  { "b.yaml", "projects:\n  - name: tools\n    renamed_from: utilities\n"
	  "    deployments:\n      - {reference: main, type: dev, "
	  "renamed_from: prod-main}\n" } }, 0, "" },
	{ "expires_at: a month out of range", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, expires_at: 2027-13-01T00:00:00Z}\n" } },
	  -EINVAL, "a.yaml:4:49: error: invalid expires_at \"2027-13-01T00:00:00Z\": "
	  "the month is out of range (expected an RFC 3339 time such as "
	  "2027-01-31T00:00:00Z, or never)\n" },
	{ "expires_at: no time zone", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, expires_at: \"2027-01-31T00:00:00\"}\n" } },
	  -EINVAL, "a.yaml:4:49: error: invalid expires_at \"2027-01-31T00:00:00\": "
	  "no time zone: end it with Z or an offset such as +02:00 (expected an "
	  "RFC 3339 time such as 2027-01-31T00:00:00Z, or never)\n" },
	{ "expires_at: 29 February of a common year", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, expires_at: 2027-02-29T10:00:00Z}\n" } },
	  -EINVAL, "a.yaml:4:49: error: invalid expires_at \"2027-02-29T10:00:00Z\": "
	  "the day is out of range for its month (expected an RFC 3339 time such "
	  "as 2027-01-31T00:00:00Z, or never)\n" },
	{ "expires_at: a date only", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, expires_at: 2027-02-01}\n" } },
	  -EINVAL, "a.yaml:4:49: error: invalid expires_at \"2027-02-01\": not of "
	  "the form YYYY-MM-DDTHH:MM:SS followed by Z or an offset (expected an "
	  "RFC 3339 time such as 2027-01-31T00:00:00Z, or never)\n" },
	{ "expires_at: null is not never", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, expires_at: ~}\n" } },
	  -EINVAL, "a.yaml:4:49: error: \"expires_at\" must be a string, got "
	  "null\n" },
	{ "dashboard_edit_confirmation: yes", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, dashboard_edit_confirmation: yes}\n" } },
	  -EINVAL, "a.yaml:4:66: error: \"dashboard_edit_confirmation\" must be "
	  "true or false, got a string\n" },
	{ "send_logs_to_client: 1", { { "a.yaml", SHOP
	  "      - {reference: one, type: dev, send_logs_to_client: 1}\n" } },
	  -EINVAL, "a.yaml:4:58: error: \"send_logs_to_client\" must be true or "
	  "false, got a number\n" },
	{ "slug with capitals", { { "a.yaml",
	  "projects:\n  - name: shop\n    slug: My-Shop\n" } }, -EINVAL,
	  "a.yaml:3:11: error: slug \"My-Shop\" may only contain a-z, 0-9 and "
	  "\"-\"\n" },
	{ "slug ending with a dash", { { "a.yaml",
	  "projects:\n  - name: shop\n    slug: shop-\n" } }, -EINVAL,
	  "a.yaml:3:11: error: slug \"shop-\" may not start or end with \"-\"\n" },
	{ "slug with two dashes", { { "a.yaml",
	  "projects:\n  - name: shop\n    slug: my--shop\n" } }, -EINVAL,
	  "a.yaml:3:11: error: slug \"my--shop\" may not contain \"--\"\n" },
	{ "slug of 61 characters", { { "a.yaml",
	  "projects:\n  - name: shop\n    slug: " X16 X16 X16 "xxxxxxxxxxxxx\n" } },
	  -EINVAL, "a.yaml:3:11: error: slug \"" X16 X16 X16 "xxxxxxxxxxxxx\" must "
	  "be 1 to 60 characters long\n" },
	{ "the same slug in two files", {
	  { "a.yaml", "projects:\n  - name: shop\n    slug: shop\n" },
	  { "b.yaml", "projects:\n  - name: Shop\n    slug: shop\n" } }, -EINVAL,
	  "b.yaml:3:11: error: duplicate slug \"shop\" (first declared at "
	  "a.yaml:3:11 for project \"shop\")\n" },
	{ "a project renamed from its own name", { { "a.yaml",
	  "projects:\n  - name: shop\n    renamed_from: shop\n" } }, -EINVAL,
	  "a.yaml:3:19: error: renamed_from \"shop\" is the project's own name\n" },
	{ "an earlier name claimed by two projects", {
	  { "a.yaml", "projects:\n  - name: shop\n    renamed_from: old\n" },
	  { "b.yaml", "projects:\n  - name: store\n    renamed_from: [x, old]\n" } },
	  -EINVAL, "b.yaml:3:23: error: renamed_from \"old\" is also claimed by "
	  "project \"shop\" (at a.yaml:3:19)\n" },
	{ "renamed from a project that is declared (it comes first)", {
	  { "a.yaml", "projects:\n  - name: old\n" },
	  { "b.yaml", "projects:\n  - name: new\n    renamed_from: old\n" } },
	  -EINVAL, "b.yaml:3:19: error: renamed_from \"old\" names a project "
	  "declared at a.yaml:2:11 (a declared name cannot also be an earlier "
	  "one)\n" },
	{ "renamed from a project that is declared (it comes later)", {
	  { "a.yaml", "projects:\n  - name: new\n    renamed_from: old\n" },
	  { "b.yaml", "projects:\n  - name: old\n    state: absent\n" } },
	  -EINVAL, "b.yaml:2:11: error: project \"old\" is also an earlier name of "
	  "project \"new\" (renamed_from at a.yaml:3:19)\n" },
	{ "an earlier name listed twice", { { "a.yaml",
	  "projects:\n  - name: shop\n    renamed_from: [old, old]\n" } }, -EINVAL,
	  "a.yaml:3:25: error: renamed_from \"old\" is listed twice (first at "
	  "3:20)\n" },
	{ "bad earlier project names", { { "a.yaml",
	  "projects:\n  - name: shop\n    renamed_from: [\"\", \"a\\tb\", [x], "
	  "{a: b}]\n" } }, -EINVAL,
	  "a.yaml:3:20: error: renamed_from \"\" may not be empty\n"
	  "a.yaml:3:24: error: renamed_from \"a\\tb\" may not contain control "
	  "characters\n"
	  "a.yaml:3:32: error: \"renamed_from\" must be a name or a list of them, "
	  "got a list\n"
	  "a.yaml:3:37: error: \"renamed_from\" must be a name or a list of them, "
	  "got a mapping\n" },
	{ "renamed_from: null", { { "a.yaml",
	  "projects:\n  - name: shop\n    renamed_from:\n" } }, -EINVAL,
	  "a.yaml:3:18: error: \"renamed_from\" must be a name or a list of them, "
	  "got null\n" },
	{ "an absent project is not renamed, nor given a slug", { { "a.yaml",
	  "projects:\n  - name: old\n    state: absent\n    slug: old\n"
	  "    renamed_from: older\n" } }, -EINVAL,
	  "a.yaml:4:5: error: project \"old\" has state: absent and may not set "
	  "\"slug\"\n"
	  "a.yaml:5:5: error: project \"old\" has state: absent and may not set "
	  "\"renamed_from\"\n" },
	{ "a deployment renamed from its own reference", { { "a.yaml", SHOP
	  "      - {reference: staging, type: dev, renamed_from: staging}\n" } },
	  -EINVAL, "a.yaml:4:55: error: renamed_from \"staging\" is the "
	  "deployment's own reference\n" },
	{ "renamed from references that break the rules", { { "a.yaml", SHOP
	  "      - reference: staging\n        type: dev\n"
	  "        renamed_from: [Staging, happy-otter-12, ab, local-x, dev]\n" } },
	  -EINVAL,
	  "a.yaml:6:24: error: renamed_from \"Staging\" may only contain a-z, 0-9, "
	  "\"-\" and \"/\"\n"
	  "a.yaml:6:33: error: renamed_from \"happy-otter-12\" has the shape of a "
	  "deployment name (letters-letters-digits)\n"
	  "a.yaml:6:49: error: renamed_from \"ab\" must be 3 to 100 characters "
	  "long\n"
	  "a.yaml:6:53: error: renamed_from \"local-x\" may not start with "
	  "\"local-\"\n"
	  "a.yaml:6:62: error: renamed_from \"dev\" is reserved\n" },
	{ "renamed from a deployment that is declared", { { "a.yaml", SHOP
	  "      - {reference: staging, type: dev, renamed_from: main}\n"
	  "      - {reference: main, type: prod}\n" } },
	  -EINVAL, "a.yaml:4:55: error: renamed_from \"main\" names a deployment "
	  "declared in project \"shop\" at a.yaml:5:21 (a declared reference "
	  "cannot also be an earlier one)\n" },
	{ "an earlier reference claimed by two deployments", { { "a.yaml", SHOP
	  "      - {reference: staging, type: dev, renamed_from: old}\n"
	  "      - {reference: qa-env, type: dev, renamed_from: [x-1, old]}\n" } },
	  -EINVAL, "a.yaml:5:60: error: renamed_from \"old\" is also claimed by "
	  "deployment \"staging\" (at a.yaml:4:55)\n" },
	{ "an earlier reference listed twice", { { "a.yaml", SHOP
	  "      - {reference: staging, type: dev, renamed_from: [old, old]}\n" } },
	  -EINVAL, "a.yaml:4:61: error: renamed_from \"old\" is listed twice "
	  "(first at 4:56)\n" },
	{ "an absent deployment is not renamed nor changed", { { "a.yaml", SHOP
	  "      - reference: staging\n        type: dev\n        state: absent\n"
	  "        renamed_from: stage\n        expires_at: never\n"
	  "        send_logs_to_client: true\n" } },
	  -EINVAL,
	  "a.yaml:7:9: error: deployment \"staging\" has state: absent and may not "
	  "set \"renamed_from\"\n"
	  "a.yaml:8:9: error: deployment \"staging\" has state: absent and may not "
	  "set \"expires_at\"\n"
	  "a.yaml:9:9: error: deployment \"staging\" has state: absent and may not "
	  "set \"send_logs_to_client\"\n" },
	/* ---- env, domains, deploy keys (SPEC section 9) ---- */
	{ "the keys of section 9", { { "a.yaml",
	  "projects:\n"
	  "  - name: shop\n"
	  "    env:\n"
	  "      prod:\n"
	  "        SITE_URL: https://shop.example.com\n"
	  "        STRIPE_KEY: {file: secrets/stripe}\n"
	  "        PORT: 3000\n"
	  "      dev:\n"
	  "        TOKEN: {env: CP_TEST_ENV_VALUE}\n"
	  "        SITE_URL: http://localhost:3000\n"
	  "      preview: {}\n"
	  "    deployments:\n"
	  "      - reference: production\n"
	  "        type: prod\n"
	  "        domains:\n"
	  "          - domain: api.shop.example.com\n"
	  "            destination: convexCloud\n"
	  "          - {domain: shop.example.com, destination: convexSite}\n"
	  "        deploy_keys: [github-actions, ci.nightly_1]\n"
	  "      - {reference: staging, type: dev, domains: [], deploy_keys: ~}\n" },
	  { "secrets/stripe", "sk_test_123\n" } }, 0, "" },
	{ "a value of 8 KiB and its newline", { { "a.yaml",
	  "projects:\n  - name: shop\n    env: {prod: {BIG: {file: big}}}\n" },
	  { "big", X8K "\n" } }, 0, "" },
	{ "env is a list", { { "a.yaml",
	  "projects:\n  - name: shop\n    env: [prod]\n" } }, -EINVAL,
	  "a.yaml:3:10: error: \"env\" must be a mapping of deployment types (dev, "
	  "prod, preview, custom) to variables, got a list\n" },
	{ "an unknown deployment type", { { "a.yaml",
	  "projects:\n  - name: shop\n    env: {staging: {A: b}, prod: [A]}\n" } },
	  -EINVAL,
	  "a.yaml:3:11: error: unknown deployment type \"staging\" in env (expected "
	  "one of: dev, prod, preview, custom)\n"
	  "a.yaml:3:34: error: env prod must be a mapping of names to values, got "
	  "a list\n" },
	{ "bad variable names", { { "a.yaml",
	  "projects:\n  - name: shop\n    env:\n      dev:\n        1A: x\n"
	  "        A-B: y\n        \"\": z\n        " X16 X16 "xxxxxxxxx: w\n" } },
	  -EINVAL,
	  "a.yaml:5:9: error: environment variable name \"1A\" must start with a "
	  "letter or \"_\"\n"
	  "a.yaml:6:9: error: environment variable name \"A-B\" may only contain "
	  "letters, digits and \"_\"\n"
	  "a.yaml:7:9: error: environment variable name \"\" must be 1 to 40 "
	  "characters long\n"
	  "a.yaml:8:9: error: environment variable name \"" X16 X16 "xxxxxxxxx\" "
	  "must be 1 to 40 characters long\n" },
	{ "a variable named twice", { { "a.yaml",
	  "projects:\n  - name: shop\n    env: {dev: {A: x, A: y}}\n" } }, -EINVAL,
	  "a.yaml:3:23: error: duplicate key \"A\" (first at 3:17)\n" },
	{ "values of the wrong kind", { { "a.yaml",
	  "projects:\n  - name: shop\n    env:\n      dev:\n        A: true\n"
	  "        B: ~\n        C: [x]\n        D: {}\n        E: {path: x}\n"
	  "        F: \"a\\0b\"\n" } }, -EINVAL,
	  "a.yaml:5:12: error: the value of \"A\" must be a string, {file: PATH} or "
	  "{env: VAR}, got a boolean\n"
	  "a.yaml:6:12: error: the value of \"B\" must be a string, {file: PATH} or "
	  "{env: VAR}, got null\n"
	  "a.yaml:7:12: error: the value of \"C\" must be a string, {file: PATH} or "
	  "{env: VAR}, got a list\n"
	  "a.yaml:8:12: error: the value of \"D\" has neither file nor env\n"
	  "a.yaml:9:12: error: the value of \"E\" has neither file nor env\n"
	  "a.yaml:9:13: error: unknown key \"path\" in an env value (expected one "
	  "of: file, env)\n"
	  "a.yaml:10:12: error: the value of \"F\" contains a NUL character\n" },
	{ "both file and env", { { "a.yaml",
	  "projects:\n  - name: shop\n    env:\n      dev:\n"
	  "        A: {file: s, env: CP_TEST_ENV_VALUE}\n" }, { "s", "x" } }, -EINVAL,
	  "a.yaml:5:12: error: the value of \"A\" has both file and env (expected "
	  "one of them)\n" },
	{ "a file or variable that cannot be read", { { "a.yaml",
	  "projects:\n  - name: shop\n    env:\n      dev:\n"
	  "        A: {file: missing.txt}\n        B: {env: CP_TEST_UNSET_VAR}\n"
	  "        C: {file: ''}\n        D: {env: A=B}\n        E: {file: sub}\n" },
	  { "sub/x", "" } }, -EINVAL,
	  "a.yaml:5:19: error: cannot read the value of \"A\" from file "
	  "\"missing.txt\": No such file or directory\n"
	  "a.yaml:6:18: error: cannot read the value of \"B\" from the environment: "
	  "\"CP_TEST_UNSET_VAR\" is not set\n"
	  "a.yaml:7:19: error: \"file\" must be a path, got \"\"\n"
	  "a.yaml:8:18: error: \"env\" must name an environment variable, got "
	  "\"A=B\"\n"
	  "a.yaml:9:19: error: cannot read the value of \"E\" from file \"sub\": "
	  "not a regular file\n" },
	{ "values that break the rules after reading", { { "a.yaml",
	  "projects:\n  - name: shop\n    env:\n      dev:\n"
	  "        A: {file: big}\n        B: {file: bin}\n        C: " X8K "y\n" },
	  { "big", X8K "x\n" }, { "bin", "\xff\xfe" } }, -EINVAL,
	  "a.yaml:5:19: error: the value of \"A\" (file \"big\") is longer than "
	  "8 KiB\n"
	  "a.yaml:6:19: error: the value of \"B\" (file \"bin\") is not valid "
	  "UTF-8\n"
	  "a.yaml:7:12: error: the value of \"C\" is longer than 8 KiB\n" },
	{ "env on an absent project", { { "a.yaml",
	  "projects:\n  - name: old\n    state: absent\n    env: {dev: {}}\n" } },
	  -EINVAL, "a.yaml:4:5: error: project \"old\" has state: absent and may "
	  "not set \"env\"\n" },
	{ "domains of the wrong kind", { { "a.yaml", SHOP
	  "      - reference: one\n        type: dev\n        domains: x.com\n"
	  "      - reference: two\n        type: dev\n"
	  "        domains: [x.example.com, {destination: convexSite}, "
	  "{domain: y.example.com}]\n" } }, -EINVAL,
	  "a.yaml:6:18: error: \"domains\" must be a list, got a string\n"
	  "a.yaml:9:19: error: a domains entry must be a mapping with domain and "
	  "destination, got a string\n"
	  "a.yaml:9:34: error: domains entry has no \"domain\"\n"
	  "a.yaml:9:61: error: domain \"y.example.com\" has no \"destination\" "
	  "(expected convexCloud or convexSite)\n" },
	{ "bad domains and destinations", { { "a.yaml", SHOP
	  "      - reference: one\n        type: dev\n        domains:\n"
	  "          - {domain: API.example.com, destination: convexCloud}\n"
	  "          - {domain: example, destination: convexCloud}\n"
	  "          - {domain: -a.example.com, destination: convexCloud}\n"
	  "          - {domain: a..example.com, destination: convexCloud}\n"
	  "          - {domain: 10.0.0.1, destination: convexCloud}\n"
	  "          - {domain: a.example.com., destination: convexCloud}\n"
	  "          - {domain: b.example.com, destination: cloud, tls: true}\n" } },
	  -EINVAL,
	  "a.yaml:7:22: error: domain \"API.example.com\" may only contain a-z, 0-9, "
	  "\"-\" and \".\" (lower case; an internationalized name in its xn-- "
	  "form)\n"
	  "a.yaml:8:22: error: domain \"example\" needs at least two labels (such as "
	  "api.example.com)\n"
	  "a.yaml:9:22: error: domain \"-a.example.com\" has a label that starts or "
	  "ends with \"-\"\n"
	  "a.yaml:10:22: error: domain \"a..example.com\" has an empty label (\"..\" "
	  "or a leading \".\")\n"
	  "a.yaml:11:22: error: domain \"10.0.0.1\" looks like an IP address, not a "
	  "host name\n"
	  "a.yaml:12:22: error: domain \"a.example.com.\" may not end with \".\"\n"
	  "a.yaml:13:50: error: invalid destination \"cloud\" (expected convexCloud "
	  "or convexSite)\n"
	  "a.yaml:13:57: error: unknown key \"tls\" in a domains entry (expected one "
	  "of: domain, destination)\n" },
	{ "a domain declared twice", {
	  { "a.yaml", SHOP
	  "      - reference: one\n        type: dev\n        domains:\n"
	  "          - {domain: a.example.com, destination: convexCloud}\n"
	  "          - {domain: a.example.com, destination: convexSite}\n" },
	  { "b.yaml", "projects:\n  - name: other\n    deployments:\n"
	  "      - {reference: two, type: dev, domains: [{domain: a.example.com, "
	  "destination: convexCloud}]}\n" } }, -EINVAL,
	  "a.yaml:8:22: error: duplicate domain \"a.example.com\" (first declared "
	  "at a.yaml:7:22)\n"
	  "b.yaml:4:56: error: duplicate domain \"a.example.com\" (first declared "
	  "at a.yaml:7:22)\n" },
	{ "bad deploy keys", { { "a.yaml", SHOP
	  "      - reference: one\n        type: dev\n"
	  "        deploy_keys: [GitHub, -ci, a/b, \"\", true, ci, ci]\n"
	  "      - {reference: two, type: dev, deploy_keys: ci}\n" } }, -EINVAL,
	  "a.yaml:6:23: error: deploy key name \"GitHub\" must start with a-z or "
	  "0-9\n"
	  "a.yaml:6:31: error: deploy key name \"-ci\" must start with a-z or 0-9\n"
	  "a.yaml:6:36: error: deploy key name \"a/b\" may only contain a-z, 0-9, "
	  "\"-\", \"_\" and \".\"\n"
	  "a.yaml:6:41: error: deploy key name \"\" must be 1 to 64 characters "
	  "long\n"
	  "a.yaml:6:45: error: a deploy key name must be a string, got a boolean\n"
	  "a.yaml:6:55: error: duplicate deploy key name \"ci\" (first at 6:51)\n"
	  "a.yaml:7:50: error: \"deploy_keys\" must be a list, got a string\n" },
	{ "domains and keys on an absent deployment", { { "a.yaml", SHOP
	  "      - reference: old\n        type: dev\n        state: absent\n"
	  "        domains: []\n        deploy_keys: [ci]\n" } }, -EINVAL,
	  "a.yaml:7:9: error: deployment \"old\" has state: absent and may not set "
	  "\"domains\"\n"
	  "a.yaml:8:9: error: deployment \"old\" has state: absent and may not set "
	  "\"deploy_keys\"\n" },
};

/* 0 when the row holds; otherwise says why on stderr. */
static int
check_row(const struct row *r)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *got;
	int rc, bad = 0;

	for (size_t i = 0; i < 3 && r->files[i].rel != NULL; i++)
		cfgtest_write(dir, r->files[i].rel, r->files[i].text);
	diag_init(&d);
	rc = desired_load(dir, &ds, &d);
	got = cfgtest_diags(&d, dir);
	if (rc != r->rc || strcmp(got, r->want) != 0) {
		fprintf(stderr, "row \"%s\": rc %d (want %d)\ngot:\n%swant:\n%s",
		    r->name, rc, r->rc, got, r->want);
		bad = 1;
	}
	/* Nothing half-built is handed out. */
	if (rc != 0 && (ds.n_projects != 0 || ds.projects != NULL ||
	    ds.n_files != 0)) {
		fprintf(stderr, "row \"%s\": failed but left a model\n", r->name);
		bad = 1;
	}
	free(got);
	diag_free(&d);
	desired_state_free(&ds);
	cfgtest_rmtree(dir);
	return bad;
}

static void
test_rows(void **state)
{
	int bad = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		bad += check_row(&rows[i]);
	assert_int_equal(bad, 0);
}

/* ---- the reference rules, directly -------------------------------------- */

static void
test_reference_rules(void **state)
{
	static const char *const reserved[] = {
		"prod", "dev", "cloud", "local", "default", "name", "new",
		"existing", "deployment", "preview",
	};
	static const struct {
		const char *ref;
		const char *problem;
	} refs[] = {
		{ "abc", NULL }, { "a/b", NULL }, { "pr-42", NULL },
		{ "my-app-1a", NULL }, { "happy-otter", NULL }, { "a-b-c-1", NULL },
		{ "1-2-3", NULL }, { "locals", NULL }, { "prod2", NULL },
		{ "feature/login-page", NULL }, { "---", NULL },
		{ "ab", "must be 3 to 100 characters long" },
		{ "", "must be 3 to 100 characters long" },
		{ "Abc", "may only contain a-z, 0-9, \"-\" and \"/\"" },
		{ "a b", "may only contain a-z, 0-9, \"-\" and \"/\"" },
		{ "a_b", "may only contain a-z, 0-9, \"-\" and \"/\"" },
		{ "a.b", "may only contain a-z, 0-9, \"-\" and \"/\"" },
		{ "caf\xc3\xa9", "may only contain a-z, 0-9, \"-\" and \"/\"" },
		{ "happy-otter-123", "has the shape of a deployment name "
		  "(letters-letters-digits)" },
		{ "a-b-1", "has the shape of a deployment name "
		  "(letters-letters-digits)" },
		{ "local-x", "may not start with \"local-\"" },
	};
	char ref[128];
	(void)state;

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		const char *got = desired_reference_problem(refs[i].ref,
		    strlen(refs[i].ref));

		if (refs[i].problem == NULL && got != NULL)
			fail_msg("%s: unexpected \"%s\"", refs[i].ref, got);
		if (refs[i].problem != NULL &&
		    (got == NULL || strcmp(got, refs[i].problem) != 0))
			fail_msg("%s: got \"%s\", want \"%s\"", refs[i].ref,
			    got ? got : "(valid)", refs[i].problem);
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		assert_string_equal(desired_reference_problem(reserved[i],
		    strlen(reserved[i])), "is reserved");
	memset(ref, 'a', sizeof(ref));
	assert_null(desired_reference_problem(ref, 3));
	assert_null(desired_reference_problem(ref, 100));
	assert_string_equal(desired_reference_problem(ref, 101),
	    "must be 3 to 100 characters long");
	/* A NUL inside is a character like any other: not allowed. */
	assert_non_null(desired_reference_problem("ab\0c", 4));
}

/* ---- the rules of single values, directly -------------------------------- */

static void
test_time_rule(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;          /* INT64_MIN: refused */
	} times[] = {
		{ "2027-01-31T00:00:00Z", 1801353600000 },
		{ "2027-01-31t00:00:00z", 1801353600000 },
		{ "2027-01-31T00:00:00.25+02:00", 1801346400250 },
		{ "2000-02-29T23:59:59.9999-05:30", 951888599999 },
		{ "1969-12-31T23:59:59Z", -1000 },
		{ "2027-01-31T00:00:00", INT64_MIN },
		{ "2027-01-31 00:00:00Z", INT64_MIN },
		{ "2027-1-31T00:00:00Z", INT64_MIN },
		{ "2027-01-31T24:00:00Z", INT64_MIN },
		{ "2027-01-31T23:59:60Z", INT64_MIN },
		{ "2027-04-31T00:00:00Z", INT64_MIN },
		{ "2100-02-29T00:00:00Z", INT64_MIN },
		{ "2027-01-31T00:00:00.Z", INT64_MIN },
		{ "2027-01-31T00:00:00+0200", INT64_MIN },
		{ "2027-01-31T00:00:00+24:00", INT64_MIN },
		{ "2027-01-31T00:00:00Z ", INT64_MIN },
		{ "", INT64_MIN },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		const char *why = "unset";
		int64_t ms = 0;
		int rc = desired_parse_time(times[i].text, strlen(times[i].text), &ms,
		    &why);

		if (times[i].ms == INT64_MIN) {
			if (rc != -EINVAL || why == NULL)
				fail_msg("%s: accepted", times[i].text);
		} else if (rc != 0 || ms != times[i].ms) {
			fail_msg("%s: rc %d, %lld ms (want %lld)", times[i].text, rc,
			    (long long)ms, (long long)times[i].ms);
		}
	}
}

static void
test_slug_and_name_rules(void **state)
{
	char long_s[80];
	(void)state;

	assert_null(desired_slug_problem("shop", 4));
	assert_null(desired_slug_problem("a", 1));
	assert_null(desired_slug_problem("shop-2-eu", 9));
	assert_string_equal(desired_slug_problem("", 0),
	    "must be 1 to 60 characters long");
	assert_string_equal(desired_slug_problem("Shop", 4),
	    "may only contain a-z, 0-9 and \"-\"");
	assert_string_equal(desired_slug_problem("sh_op", 5),
	    "may only contain a-z, 0-9 and \"-\"");
	assert_string_equal(desired_slug_problem("-a", 2),
	    "may not start or end with \"-\"");
	assert_string_equal(desired_slug_problem("a--b", 4),
	    "may not contain \"--\"");
	memset(long_s, 'a', sizeof(long_s));
	assert_null(desired_slug_problem(long_s, 60));
	assert_non_null(desired_slug_problem(long_s, 61));
	assert_null(desired_name_problem("Shop \xe2\x80\x93 Europe", 15));
	assert_string_equal(desired_name_problem("", 0), "may not be empty");
	assert_string_equal(desired_name_problem("a\0b", 3),
	    "may not contain control characters");
	assert_string_equal(desired_name_problem("a\xc2\x9b", 3),
	    "may not contain control characters");
}

/* ---- the model ---------------------------------------------------------- */

static void
test_model(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *path;
	const struct desired_project *p;
	const struct desired_deployment *dd;
	(void)state;

	cfgtest_write(dir, "a.yaml", rows[0].files[0].text);
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(ds.n_files, 1);
	assert_true(asprintf(&path, "%s/a.yaml", dir) > 0);
	assert_string_equal(ds.files[0], path);
	assert_int_equal(ds.n_projects, 2);
	assert_int_equal(desired_count_deployments(&ds), 4);

	p = &ds.projects[0];
	assert_string_equal(p->name, "shop");
	assert_false(p->absent);
	assert_true(p->protect);
	assert_ptr_equal(p->loc.file, ds.files[0]);
	assert_int_equal(p->loc.line, 3);
	assert_int_equal(p->loc.col, 11);
	assert_int_equal(p->n_deployments, 4);
	dd = &p->deployments[0];
	assert_string_equal(dd->reference, "production");
	assert_int_equal(dd->type, DEP_PROD);
	assert_string_equal(dd->region, "aws-us-east-1");
	assert_string_equal(dd->class_name, "s16");
	assert_int_equal(dd->is_default, TRI_TRUE);
	assert_true(dd->protect);
	assert_false(dd->absent);
	assert_int_equal(dd->loc.line, 6);
	assert_int_equal(dd->loc.col, 20);
	dd = &p->deployments[1];
	assert_string_equal(dd->reference, "staging");
	assert_int_equal(dd->type, DEP_DEV);
	assert_null(dd->region);
	assert_null(dd->class_name);
	assert_int_equal(dd->is_default, TRI_TRUE);
	assert_false(dd->protect);
	dd = &p->deployments[2];
	assert_string_equal(dd->reference, "pr/42");
	assert_int_equal(dd->type, DEP_PREVIEW);
	assert_int_equal(dd->is_default, TRI_FALSE);
	dd = &p->deployments[3];
	assert_string_equal(dd->reference, "old-thing");
	assert_int_equal(dd->type, DEP_CUSTOM);
	assert_int_equal(dd->is_default, TRI_UNSET);
	assert_true(dd->absent);

	p = &ds.projects[1];
	assert_string_equal(p->name, "legacy-tool");
	assert_true(p->absent);
	assert_false(p->protect);
	assert_int_equal(p->n_deployments, 0);
	free(path);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* The keys of section 8 as the model holds them. */
static void
test_model_updates(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp();
	const struct desired_project *p;
	const struct desired_deployment *dd;
	size_t row = 0;
	(void)state;

	while (strcmp(rows[row].name, "the keys of section 8") != 0)
		row++;
	cfgtest_write(dir, "a.yaml", rows[row].files[0].text);
	cfgtest_write(dir, "b.yaml", rows[row].files[1].text);
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), 0);
	assert_int_equal(d.n, 0);
	p = &ds.projects[0];
	assert_string_equal(p->slug, "shop-eu");
	assert_int_equal(p->n_renamed_from, 2);
	assert_string_equal(p->renamed_from[0], "old-shop");
	assert_string_equal(p->renamed_from[1], "Shop (2023)");
	dd = &p->deployments[0];
	assert_int_equal(dd->dashboard_edit_confirmation, TRI_TRUE);
	assert_int_equal(dd->send_logs_to_client, TRI_FALSE);
	assert_int_equal(dd->expires, DESIRED_EXPIRES_NEVER);
	assert_int_equal(dd->n_renamed_from, 1);
	assert_string_equal(dd->renamed_from[0], "prod-main");
	dd = &p->deployments[1];
	assert_int_equal(dd->dashboard_edit_confirmation, TRI_UNSET);
	assert_int_equal(dd->send_logs_to_client, TRI_UNSET);
	assert_int_equal(dd->expires, DESIRED_EXPIRES_AT);
	assert_true(dd->expires_at_ms == 1801346400250);
	assert_int_equal(dd->n_renamed_from, 2);
	assert_string_equal(dd->renamed_from[1], "pr/seven");
	p = &ds.projects[1];
	assert_null(p->slug);
	assert_int_equal(p->n_renamed_from, 1);
	assert_string_equal(p->renamed_from[0], "utilities");
	assert_int_equal(p->deployments[0].expires, DESIRED_EXPIRES_UNSET);
	/* One text for the same earlier reference in two projects. */
	assert_ptr_equal(p->deployments[0].renamed_from[0],
	    ds.projects[0].deployments[0].renamed_from[0]);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* The keys of section 9 as the model holds them. */
static int
collect_secret(const char *value, void *ctx)
{
	char *all = ctx;

	strcat(all, value);
	strcat(all, "|");
	return 0;
}

static void
test_model_env_domains_keys(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), secrets[512] = "";
	const struct desired_project *p;
	const struct desired_env *e;
	const struct desired_deployment *dd;
	size_t row = 0;
	(void)state;

	while (strcmp(rows[row].name, "the keys of section 9") != 0)
		row++;
	cfgtest_write(dir, "a.yaml", rows[row].files[0].text);
	cfgtest_write(dir, rows[row].files[1].rel, rows[row].files[1].text);
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), 0);
	assert_int_equal(d.n, 0);
	p = &ds.projects[0];
	assert_non_null(p->env);
	e = &p->env[DEP_PROD];
	assert_true(e->declared);
	assert_int_equal(e->n_vars, 3);
	/* Sorted by name. */
	assert_string_equal(e->vars[0].name, "PORT");
	assert_string_equal(e->vars[0].value, "3000");
	assert_string_equal(e->vars[1].name, "SITE_URL");
	assert_string_equal(e->vars[1].value, "https://shop.example.com");
	assert_string_equal(e->vars[2].name, "STRIPE_KEY");
	assert_string_equal(e->vars[2].value, "sk_test_123");   /* newline cut */
	e = &p->env[DEP_DEV];
	assert_true(e->declared);
	assert_int_equal(e->n_vars, 2);
	assert_string_equal(e->vars[0].name, "SITE_URL");
	assert_string_equal(e->vars[1].name, "TOKEN");
	assert_string_equal(e->vars[1].value, "from-the-environment");
	assert_true(p->env[DEP_PREVIEW].declared);      /* exact: nothing */
	assert_int_equal(p->env[DEP_PREVIEW].n_vars, 0);
	assert_false(p->env[DEP_CUSTOM].declared);     /* left alone */
	dd = &p->deployments[0];
	assert_true(dd->domains_declared);
	assert_int_equal(dd->n_domains, 2);
	assert_string_equal(dd->domains[0].domain, "api.shop.example.com");
	assert_int_equal(dd->domains[0].destination, DESIRED_DEST_CONVEX_CLOUD);
	assert_string_equal(dd->domains[1].domain, "shop.example.com");
	assert_int_equal(dd->domains[1].destination, DESIRED_DEST_CONVEX_SITE);
	assert_string_equal(desired_destination_name(dd->domains[1].destination),
	    "convexSite");
	assert_true(dd->deploy_keys_declared);
	assert_int_equal(dd->n_deploy_keys, 2);
	assert_string_equal(dd->deploy_keys[0], "github-actions");
	assert_string_equal(dd->deploy_keys[1], "ci.nightly_1");
	dd = &p->deployments[1];
	assert_true(dd->domains_declared);       /* [] : exact, none */
	assert_int_equal(dd->n_domains, 0);
	assert_true(dd->deploy_keys_declared);   /* ~ : none */
	assert_int_equal(dd->n_deploy_keys, 0);
	/* Every value is reachable for a secret scrubber. */
	assert_int_equal(desired_state_secrets(&ds, collect_secret, secrets), 0);
	/* By type (dev, prod, preview, custom), then name. */
	assert_string_equal(secrets, "http://localhost:3000|from-the-environment|"
	    "3000|https://shop.example.com|sk_test_123|");
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* validate without --strict: a value that cannot be read is a warning, and
 * the state is valid (the value NULL); plan, apply and run refuse it. */
static void
test_env_unreadable_is_a_warning_for_validate(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *got;
	(void)state;

	cfgtest_write(dir, "a.yaml", "projects:\n  - name: shop\n    env:\n"
	    "      prod: {A: {file: /nonexistent/secret}, B: {env: "
	    "CP_TEST_UNSET_VAR}, C: plain}\n");
	diag_init(&d);
	assert_int_equal(desired_load_opts(dir, NULL, DESIRED_SECRETS_WARN, &ds,
	    &d), 0);
	got = cfgtest_diags(&d, dir);
	assert_string_equal(got,
	    "a.yaml:4:24: warning: cannot read the value of \"A\" from file "
	    "\"/nonexistent/secret\": No such file or directory\n"
	    "a.yaml:4:55: warning: cannot read the value of \"B\" from the "
	    "environment: \"CP_TEST_UNSET_VAR\" is not set\n");
	free(got);
	assert_null(ds.projects[0].env[DEP_PROD].vars[0].value);
	assert_null(ds.projects[0].env[DEP_PROD].vars[1].value);
	assert_string_equal(ds.projects[0].env[DEP_PROD].vars[2].value, "plain");
	desired_state_free(&ds);
	diag_free(&d);
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), -EINVAL);
	assert_int_equal(diag_errors(&d), 2);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* A FIFO is refused at once (no block), a symbolic link (a mounted secret)
 * is followed, a relative path starts at the YAML file's folder, and only
 * one trailing newline goes. */
static void
test_env_files(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *p, *got;
	const struct desired_env_var *v;
	(void)state;

	cfgtest_write(dir, "team/shop/a.yaml", "projects:\n  - name: shop\n"
	    "    env:\n      prod:\n        A: {file: ../../secrets/link}\n"
	    "        B: {file: two-newlines}\n        C: {file: pipe}\n");
	cfgtest_write(dir, "secrets/real", "linked\n");
	cfgtest_write(dir, "team/shop/two-newlines", "x\n\n");
	assert_true(asprintf(&p, "%s/secrets/link", dir) > 0);
	assert_int_equal(symlink("real", p), 0);
	free(p);
	assert_true(asprintf(&p, "%s/team/shop/pipe", dir) > 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	diag_init(&d);
	assert_int_equal(desired_load_opts(dir, NULL, DESIRED_SECRETS_WARN, &ds,
	    &d), 0);
	got = cfgtest_diags(&d, dir);
	assert_string_equal(got, "team/shop/a.yaml:7:19: warning: cannot read the "
	    "value of \"C\" from file \"pipe\": not a regular file\n");
	free(got);
	v = ds.projects[0].env[DEP_PROD].vars;
	assert_string_equal(v[0].value, "linked");
	assert_string_equal(v[1].value, "x\n");
	assert_null(v[2].value);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

static void
test_env_names_per_type(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *text, *got;
	size_t o = 0;
	(void)state;

	text = malloc(101 * 32 + 128);
	assert_non_null(text);
	o += (size_t)sprintf(text + o, "projects:\n  - name: shop\n    env:\n"
	    "      dev:\n");
	for (int i = 0; i < 102; i++)
		o += (size_t)sprintf(text + o, "        V%d: x\n", i);
	free(cfgtest_write_len(dir, "a.yaml", text, o));
	free(text);
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), -EINVAL);
	got = cfgtest_diags(&d, dir);
	/* Once, at the 101st. */
	assert_string_equal(got, "a.yaml:105:9: error: more than 100 environment "
	    "variables for type dev\n");
	free(got);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* No diagnostic ever shows a value, whatever is wrong with it or around
 * it (the markers below are the "secrets"). */
static void
test_values_stay_out_of_messages(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp();
	(void)state;

	cfgtest_write(dir, "a.yaml", "projects:\n  - name: shop\n    env:\n"
	    "      dev:\n"
	    "        A: \"SECRET-A\\0\"\n"
	    "        B: SECRET-B" X8K "\n"
	    "        C: {file: c}\n"
	    "        D: {file: d}\n"
	    "        E: {env: CP_TEST_HIDDEN_ENV}\n"
	    "        F: {file: c, env: CP_TEST_HIDDEN_ENV}\n"
	    "        G: SECRET-G\n"
	    "        G: SECRET-G2\n"
	    "        H: !!binary SECRET-H\n"
	    "        1I: SECRET-I\n"
	    "      staging: {J: SECRET-J}\n"
	    "    deployments: [{reference: bad ref, type: dev}]\n"
	    "  - name: shop\n");
	cfgtest_write(dir, "c", "SECRET-C" X8K);
	cfgtest_write(dir, "d", "SECRET-D\xc0\xaf");
	setenv("CP_TEST_HIDDEN_ENV", "SECRET-E" X8K, 1);
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), -EINVAL);
	assert_true(d.n >= 10);
	for (size_t i = 0; i < d.n; i++)
		if (strstr(d.items[i].message, "SECRET") != NULL)
			fail_msg("a value in: %s", d.items[i].message);
	unsetenv("CP_TEST_HIDDEN_ENV");
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* ---- finding files ------------------------------------------------------ */

static void
test_byte_order(void **state)
{
	static const char *const order[] = {
		"B.yaml", "a-b.yaml", "a.yaml", "a/z.yml", "a0.yml", "b.yaml",
	};
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), text[64], *want;
	(void)state;

	/* Written in another order than the expected one. */
	for (size_t i = sizeof(order) / sizeof(order[0]); i-- > 0;) {
		snprintf(text, sizeof(text), "projects:\n  - name: p%zu\n", i);
		cfgtest_write(dir, order[i], text);
	}
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), 0);
	assert_int_equal(ds.n_files, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_true(asprintf(&want, "%s/%s", dir, order[i]) > 0);
		assert_string_equal(ds.files[i], want);
		free(want);
		snprintf(text, sizeof(text), "p%zu", i);
		assert_string_equal(ds.projects[i].name, text);
	}
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

static void
test_skipped_names(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp();
	(void)state;

	cfgtest_write(dir, "ok.yaml", "projects:\n  - name: ok\n");
	/* Each of these would be an error if it were read. */
	cfgtest_write(dir, ".hidden.yaml", "nope: [\n");
	cfgtest_write(dir, ".git/config.yaml", "nope: [\n");
	cfgtest_write(dir, "sub/.dot/a.yaml", "nope: [\n");
	cfgtest_write(dir, "README.md", "nope: [\n");
	cfgtest_write(dir, "x.yaml.bak", "nope: [\n");
	cfgtest_write(dir, "x.YAML", "nope: [\n");
	cfgtest_write(dir, "yaml", "nope: [\n");
	cfgtest_write(dir, "sub/.yml", "nope: [\n");
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(ds.n_files, 1);
	assert_int_equal(ds.n_projects, 1);
	assert_string_equal(ds.projects[0].name, "ok");
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

static void
test_empty_dir(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp();
	(void)state;

	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(ds.n_projects, 0);
	assert_int_equal(ds.n_files, 0);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* A file named directly is read whatever its extension. */
static void
test_single_file(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *path, *got;
	(void)state;

	path = cfgtest_write_len(dir, "desired.txt", "projects:\n  - name: x\n",
	    22);
	diag_init(&d);
	assert_int_equal(desired_load(path, &ds, &d), 0);
	assert_int_equal(ds.n_projects, 1);
	assert_string_equal(ds.files[0], path);
	desired_state_free(&ds);
	free(path);

	assert_true(asprintf(&path, "%s/none", dir) > 0);
	assert_int_equal(desired_load(path, &ds, &d), -ENOENT);
	got = cfgtest_diags(&d, dir);
	assert_string_equal(got, "none: error: cannot read: No such file or "
	    "directory\n");
	free(got);
	free(path);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* A trailing slash on the folder is not doubled in file names. */
static void
test_trailing_slash(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *slashed, *want;
	(void)state;

	cfgtest_write(dir, "a.yaml", "projects: []\n");
	assert_true(asprintf(&slashed, "%s/", dir) > 0);
	assert_true(asprintf(&want, "%s/a.yaml", dir) > 0);
	diag_init(&d);
	assert_int_equal(desired_load(slashed, &ds, &d), 0);
	assert_string_equal(ds.files[0], want);
	free(slashed);
	free(want);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

static void
test_special_files(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *p, *got;
	(void)state;

	cfgtest_write(dir, "a.yaml", "projects: []\n");
	/* A FIFO would block a plain open(): it must be refused at once. */
	assert_true(asprintf(&p, "%s/pipe.yaml", dir) > 0);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	/* A link back up the tree is a loop, reported once. */
	assert_true(asprintf(&p, "%s/sub", dir) > 0);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	assert_true(asprintf(&p, "%s/sub/up", dir) > 0);
	assert_int_equal(symlink("..", p), 0);
	free(p);
	/* A dangling link named like YAML is an error; otherwise ignored. */
	assert_true(asprintf(&p, "%s/gone.yaml", dir) > 0);
	assert_int_equal(symlink("nowhere", p), 0);
	free(p);
	assert_true(asprintf(&p, "%s/gone.txt", dir) > 0);
	assert_int_equal(symlink("nowhere", p), 0);
	free(p);
	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), -EINVAL);
	got = cfgtest_diags(&d, dir);
	assert_string_equal(got,
	    "sub/up: error: folder loop: this folder contains itself through a "
	    "symbolic link\n"
	    "gone.yaml: error: cannot read: No such file or directory\n"
	    "pipe.yaml: error: not a regular file\n");
	free(got);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* ---- limits ------------------------------------------------------------- */

static void
test_limits(void **state)
{
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *big, *got, *deep, *lol;
	size_t max = YTREE_MAX_BYTES, o = 0;
	unsigned char garbage[256];
	(void)state;

	big = malloc(max + 2);
	assert_non_null(big);
	memset(big, '#', max + 1);
	big[max + 1] = '\0';
	free(cfgtest_write_len(dir, "a-big.yaml", big, max + 1));
	free(big);

	deep = malloc(2 * 65 + 32);
	assert_non_null(deep);
	o = (size_t)sprintf(deep, "projects: ");
	for (int i = 0; i < 64; i++)
		deep[o++] = '[';
	for (int i = 0; i < 64; i++)
		deep[o++] = ']';
	deep[o++] = '\n';
	free(cfgtest_write_len(dir, "b-deep.yaml", deep, o));
	free(deep);

	cfgtest_write(dir, "c-utf8.yaml", "projects:\n  - name: caf\xe9\n");
	/* A PNG header, then noise from a fixed generator. */
	memcpy(garbage, "\x89PNG\r\n\x1a\n", 8);
	for (size_t i = 8, x = 7; i < sizeof(garbage); i++) {
		x = x * 1103515245 + 12345;
		garbage[i] = (unsigned char)(x >> 16);
	}
	free(cfgtest_write_len(dir, "d-garbage.yaml", (char *)garbage,
	    sizeof(garbage)));
	cfgtest_write(dir, "e-fine.yaml", "projects:\n  - name: fine\n");

	/* Last in byte order: the run ends here, and "z-after" is not read. */
	lol = malloc(30 * 80 + 64);
	assert_non_null(lol);
	o = (size_t)sprintf(lol, "x: &l0 [lol, lol, lol, lol, lol, lol, lol, "
	    "lol, lol, lol]\n");
	for (int i = 1; i < 30; i++) {
		o += (size_t)sprintf(lol + o, "x%d: &l%d [", i, i);
		for (int j = 0; j < 10; j++)
			o += (size_t)sprintf(lol + o, "%s*l%d", j ? ", " : "", i - 1);
		o += (size_t)sprintf(lol + o, "]\n");
	}
	free(cfgtest_write_len(dir, "y-lol.yaml", lol, o));
	free(lol);
	cfgtest_write(dir, "z-after.yaml", "nope: [\n");

	diag_init(&d);
	assert_int_equal(desired_load(dir, &ds, &d), -E2BIG);
	got = cfgtest_diags(&d, dir);
	assert_string_equal(got,
	    "a-big.yaml: error: file is larger than 4 MiB\n"
	    "b-deep.yaml:1:74: error: nesting deeper than 64 levels\n"
	    "c-utf8.yaml:2:14: error: not valid UTF-8: incomplete UTF-8 octet "
	    "sequence\n"
	    "d-garbage.yaml:1:1: error: not valid UTF-8: invalid leading UTF-8 "
	    "octet 0x89\n"
	    "y-lol.yaml:6:45: error: more than 1000000 YAML nodes (aliases "
	    "counted as expanded)\n");
	free(got);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* The node budget is for the whole run, not per file. */
static void
test_node_budget_across_files(void **state)
{
	struct ytree_limits lim = { YTREE_MAX_BYTES, 64, 12 };
	struct desired_state ds;
	struct diag d;
	char *dir = cfgtest_mkdtemp(), *got;
	(void)state;

	/* 6 nodes each: map, key, list, map, key, value */
	cfgtest_write(dir, "a.yaml", "projects:\n  - name: a\n");
	cfgtest_write(dir, "b.yaml", "projects:\n  - name: b\n");
	diag_init(&d);
	assert_int_equal(desired_load_limits(dir, &lim, &ds, &d), 0);
	assert_int_equal(ds.n_projects, 2);
	desired_state_free(&ds);
	cfgtest_write(dir, "c.yaml", "projects: []\n");
	assert_int_equal(desired_load_limits(dir, &lim, &ds, &d), -E2BIG);
	got = cfgtest_diags(&d, dir);
	assert_string_equal(got, "c.yaml:1:1: error: more than 12 YAML nodes "
	    "(aliases counted as expanded)\n");
	free(got);
	desired_state_free(&ds);
	diag_free(&d);
	cfgtest_rmtree(dir);
}

/* ---- the examples shipped in config/examples ---------------------------- */

static void
test_examples(void **state)
{
	const char *src = getenv("CP_SOURCE_DIR");
	struct desired_state ds;
	struct diag d;
	char *path, *got;
	size_t absent = 0;
	bool sub = false;
	(void)state;

	assert_non_null(src);
	assert_true(asprintf(&path, "%s/config/examples", src) > 0);
	diag_init(&d);
	assert_int_equal(desired_load(path, &ds, &d), 0);
	got = cfgtest_diags(&d, path);
	assert_string_equal(got, "");        /* not even a warning */
	assert_true(ds.n_files >= 2);
	assert_true(ds.n_projects >= 2);
	for (size_t i = 0; i < ds.n_projects; i++)
		absent += ds.projects[i].absent;
	assert_true(absent >= 1);
	/* A sub-folder is part of the example. */
	for (size_t i = 0; i < ds.n_files; i++)
		if (strchr(ds.files[i] + strlen(path) + 1, '/') != NULL)
			sub = true;
	assert_true(sub);
	free(got);
	free(path);
	desired_state_free(&ds);
	diag_free(&d);
}

/* Diagnostics print a file name with control characters escaped (a file
 * in the desired folder may be named anything), C1 and invalid UTF-8 too. */
static void
test_diag_print_escapes(void **state)
{
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	(void)state;

	assert_non_null(f);
	diag_init(&d);
	diag_error(&d, "a\x1b[31m\xc2\x9b\x9b.yaml", 3, 4, "bad \x07 thing");
	diag_print(&d, f);
	fclose(f);
	assert_string_equal(out, "a\\x1b[31m\\u009b\\x9b.yaml:3:4: error: bad "
	    "\\x07 thing\n");
	free(out);
	diag_free(&d);
}

/* config/examples-v2 (the keys of sections 8 and 9): valid, its only
 * warnings the two secrets that are not on this machine. */
static void
test_examples_v2(void **state)
{
	const char *src = getenv("CP_SOURCE_DIR");
	struct desired_state ds;
	struct diag d;
	char *path, *got;
	(void)state;

	assert_non_null(src);
	assert_true(asprintf(&path, "%s/config/examples-v2", src) > 0);
	unsetenv("SHOP_SENTRY_DSN");
	diag_init(&d);
	assert_int_equal(desired_load_opts(path, NULL, DESIRED_SECRETS_WARN, &ds,
	    &d), 0);
	got = cfgtest_diags(&d, path);
	assert_string_equal(got,
	    "shop.yaml:21:35: warning: cannot read the value of "
	    "\"STRIPE_SECRET_KEY\" from file "
	    "\"/etc/convex-provisioner/secrets/stripe-secret-key\": No such file "
	    "or directory\n"
	    "shop.yaml:22:27: warning: cannot read the value of \"SENTRY_DSN\" "
	    "from the environment: \"SHOP_SENTRY_DSN\" is not set\n");
	free(got);
	assert_int_equal(ds.n_files, 2);
	assert_int_equal(ds.n_projects, 2);
	/* internal/tools.yaml comes first in byte order. */
	assert_string_equal(ds.projects[0].name, "analytics");
	assert_string_equal(ds.projects[1].renamed_from[0], "web-shop");
	assert_int_equal(ds.projects[1].deployments[0].n_domains, 2);
	desired_state_free(&ds);
	diag_free(&d);
	/* With the secrets there, plan and apply take it as it is. */
	setenv("SHOP_SENTRY_DSN", "https://key@sentry.example.com/1", 1);
	diag_init(&d);
	assert_int_equal(desired_load(path, &ds, &d), -EINVAL);
	assert_int_equal(diag_errors(&d), 1);      /* the file only */
	unsetenv("SHOP_SENTRY_DSN");
	free(path);
	desired_state_free(&ds);
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_reference_rules),
		cmocka_unit_test(test_time_rule),
		cmocka_unit_test(test_slug_and_name_rules),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_model_updates),
		cmocka_unit_test(test_model_env_domains_keys),
		cmocka_unit_test(test_env_unreadable_is_a_warning_for_validate),
		cmocka_unit_test(test_env_files),
		cmocka_unit_test(test_env_names_per_type),
		cmocka_unit_test(test_values_stay_out_of_messages),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_skipped_names),
		cmocka_unit_test(test_empty_dir),
		cmocka_unit_test(test_single_file),
		cmocka_unit_test(test_trailing_slash),
		cmocka_unit_test(test_special_files),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_node_budget_across_files),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_diag_print_escapes),
		cmocka_unit_test(test_examples_v2),
	};

	/* What the rows' {env: VAR} values read. */
	setenv("CP_TEST_ENV_VALUE", "from-the-environment", 1);
	unsetenv("CP_TEST_UNSET_VAR");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
