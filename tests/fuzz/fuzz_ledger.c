/* fuzz_ledger.c: libFuzzer target for the ledger parser. A ledger either
 * parses or is refused with a reason and nothing allocated; one that parses
 * serialises to a text that parses back to the very same ledger (so a
 * save/load cycle never loses or invents an entry; ids compared exactly,
 * which since issue 14 reach INT64_MAX), and survives the edits
 * the executor makes. Issue 18 adds: a ledger holding a NUL in a string,
 * or more than one document, never parses; one whose version is a whole
 * number above 1 is refused as newer (-EPROTONOSUPPORT, not damage), and
 * only such a one. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "jsonscan.h"
#include "ledger.h"

/* The version a ledger text claims, when it is one JSON object with a
 * numeric "version"; NAN otherwise. */
static double
claimed_version(const char *text, size_t len)
{
	char why[200];
	cJSON *root = jsonscan_parse(text, len, why, sizeof(why));
	const cJSON *v = cJSON_IsObject(root) ?
	    cJSON_GetObjectItemCaseSensitive(root, "version") : NULL;
	double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;

	cJSON_Delete(root);
	return d;
}

static void
check_same(const struct ledger *a, const struct ledger *b)
{
	FUZZ_CHECK(a->n_projects == b->n_projects);
	FUZZ_CHECK(a->n_deployments == b->n_deployments);
	for (size_t i = 0; i < a->n_projects; i++) {
		const struct ledger_project *p = &a->projects[i];
		const struct ledger_project *q = ledger_find_project(b, p->id);

		FUZZ_CHECK(q != NULL);
		FUZZ_CHECK(strcmp(p->name ? p->name : "", q->name ? q->name : "") == 0);
		FUZZ_CHECK(p->created == q->created && p->protect == q->protect);
	}
	for (size_t i = 0; i < a->n_deployments; i++) {
		const struct ledger_deployment *d = &a->deployments[i];
		const struct ledger_deployment *e;

		FUZZ_CHECK(d->name != NULL);
		e = ledger_find_deployment(b, d->name);
		FUZZ_CHECK(e != NULL);
		FUZZ_CHECK(d->project_id == e->project_id);
		FUZZ_CHECK(d->created == e->created && d->protect == e->protect);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger l, back;
	char err[256], *text, *text2;
	int rc;

	double version = claimed_version((const char *)data, size);
	bool newer = version > 1 && version == floor(version);

	err[0] = '\0';
	rc = ledger_from_json((const char *)data, size, &l, err, sizeof(err));
	/* Newer is refused as newer, and nothing else is. */
	FUZZ_CHECK((rc == -EPROTONOSUPPORT) == newer);
	if (rc != 0) {
		FUZZ_CHECK(rc == -EBADMSG || rc == -ENOMEM || rc == -EPROTONOSUPPORT);
		FUZZ_CHECK(rc == -ENOMEM || err[0] != '\0');
		if (rc == -EPROTONOSUPPORT)
			FUZZ_CHECK(strstr(err, "written by a newer version") != NULL);
		FUZZ_CHECK(l.n_projects == 0 && l.n_deployments == 0);
		FUZZ_CHECK(l.projects == NULL && l.deployments == NULL);
		return 0;
	}
	/* Accepted: one document, no NUL anywhere in it. */
	FUZZ_CHECK(jsonscan_find_nul((const char *)data, size) == size);
	FUZZ_CHECK(version == 1);
	/* Every entry can be found by its key. */
	for (size_t i = 0; i < l.n_projects; i++)
		FUZZ_CHECK(ledger_find_project(&l, l.projects[i].id) != NULL);
	for (size_t i = 0; i < l.n_deployments; i++)
		FUZZ_CHECK(ledger_find_deployment(&l, l.deployments[i].name) != NULL);

	/* Round trip: to JSON and back gives the same ledger and text. */
	if ((text = ledger_to_json(&l)) != NULL) {
		err[0] = '\0';
		rc = ledger_from_json(text, strlen(text), &back, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == -ENOMEM);
		if (rc == 0) {
			check_same(&l, &back);
			check_same(&back, &l);
			if ((text2 = ledger_to_json(&back)) != NULL) {
				FUZZ_CHECK(strcmp(text, text2) == 0);
				free(text2);
			}
			ledger_free(&back);
		}
		free(text);
	}

	/* The executor's edits: remove the first project (and its
	 * deployments), a deployment, add both back. */
	if (l.n_projects > 0) {
		int64_t id = l.projects[0].id;

		ledger_remove_project(&l, id);
		FUZZ_CHECK(ledger_find_project(&l, id) == NULL);
		for (size_t i = 0; i < l.n_deployments; i++)
			FUZZ_CHECK(l.deployments[i].project_id != id);
		if (ledger_add_project(&l, id, "again") == 0)
			FUZZ_CHECK(ledger_find_project(&l, id) != NULL);
	}
	if (l.n_deployments > 0) {
		char *name = strdup(l.deployments[l.n_deployments - 1].name);

		if (name != NULL) {
			ledger_remove_deployment(&l, name);
			FUZZ_CHECK(ledger_find_deployment(&l, name) == NULL);
			if (ledger_add_deployment(&l, name, 1, "p", "ref") == 0)
				FUZZ_CHECK(ledger_find_deployment(&l, name) != NULL);
			free(name);
		}
	}
	ledger_free(&l);
	return 0;
}
