/* ledger.c: load, save (atomically) and edit the ledger of created and
 * protected resources. */
#include "ledger.h"
#include "atomicfile.h"
#include "index.h"
#include "jsonget.h"
#include "jsonint.h"
#include "jsonscan.h"
#include "jsonspan.h"
#include "pindex.h"
#include "readfile.h"
#include "strcut.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LEDGER_VERSION 1
#define LEDGER_MAX_BYTES (64u << 20)

/* cJSON prints a number with 15 significant digits whenever that reads
 * back "close enough", which rounds ids of 10^15 and more (the ledger
 * fuzzer: 9007199254740992 came back as 9007199254740990, and the entry
 * then named another project). Ids are written as exact integers, and read
 * back from their text (jsonint.h). */
static cJSON *
add_id(cJSON *o, const char *key, int64_t v)
{
	return jsonint_add(o, key, v);
}

static bool keys_to_json(cJSON *root, const struct ledger *l);
static int keys_from_json(const cJSON *root, struct ledger *out, char *err,
    size_t errlen);

char *
ledger_to_json(const struct ledger *l)
{
	cJSON *root = cJSON_CreateObject(), *ps, *ds;
	char *text = NULL;

	if (root == NULL)
		return NULL;
	if (!cJSON_AddNumberToObject(root, "version", LEDGER_VERSION) ||
	    (ps = cJSON_AddArrayToObject(root, "projects")) == NULL ||
	    (ds = cJSON_AddArrayToObject(root, "deployments")) == NULL)
		goto out;
	for (size_t i = 0; i < l->n_projects; i++) {
		const struct ledger_project *p = &l->projects[i];
		cJSON *o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddItemToArray(ps, o))
			goto out;
		if (!add_id(o, "id", p->id) ||
		    !cJSON_AddStringToObject(o, "name", p->name ? p->name : "") ||
		    !cJSON_AddBoolToObject(o, "created", p->created) ||
		    !cJSON_AddBoolToObject(o, "protect", p->protect))
			goto out;
	}
	for (size_t i = 0; i < l->n_deployments; i++) {
		const struct ledger_deployment *d = &l->deployments[i];
		cJSON *o = cJSON_CreateObject();
		if (o == NULL || !cJSON_AddItemToArray(ds, o))
			goto out;
		if (!cJSON_AddStringToObject(o, "name", d->name) ||
		    !add_id(o, "projectId", d->project_id) ||
		    !cJSON_AddStringToObject(o, "project", d->project ? d->project : "") ||
		    !cJSON_AddStringToObject(o, "reference", d->reference ? d->reference : "") ||
		    !cJSON_AddBoolToObject(o, "created", d->created) ||
		    !cJSON_AddBoolToObject(o, "protect", d->protect))
			goto out;
	}
	if (!keys_to_json(root, l))
		goto out;
	text = cJSON_Print(root);
out:
	cJSON_Delete(root);
	return text;
}

/* An id: a whole, positive number, read exactly (2^53 + 1 and INT64_MAX
 * included: jsonget.h). */
static int
get_id(const cJSON *o, const char *key, int64_t *out)
{
	return jsonget_int(o, key, out) != 0 || *out < 1 ? -1 : 0;
}

/* A string member, or NULL (absent, null or not a string). */
static const char *
get_str(const cJSON *o, const char *key)
{
	const char *s;

	return jsonget_str(o, key, &s) == 0 ? s : NULL;
}

/* One project entry (an element of "projects"). */
static int
project_from_json(const cJSON *it, struct ledger *out, char *err, size_t errlen)
{
	int64_t id;
	const char *name = get_str(it, "name");
	bool created, protect;
	struct ledger_project *p;

	if (get_id(it, "id", &id) || name == NULL ||
	    jsonget_bool(it, "created", &created) || jsonget_bool(it, "protect", &protect)) {
		strcut_printf(err, errlen, "%s", "a project entry lacks id, name, created or protect");
		return -EBADMSG;
	}
	if (ledger_add_project(out, id, name) != 0)
		return -ENOMEM;
	p = ledger_find_project(out, id);
	p->created = created;
	p->protect = protect;
	return 0;
}

/* One deployment entry (an element of "deployments"). */
static int
deployment_from_json(const cJSON *it, struct ledger *out, char *err,
    size_t errlen)
{
	int64_t pid;
	const char *name = get_str(it, "name");
	const char *project = get_str(it, "project");
	const char *ref = get_str(it, "reference");
	bool created, protect;
	struct ledger_deployment *d;

	if (name == NULL || *name == '\0' || project == NULL || ref == NULL ||
	    get_id(it, "projectId", &pid) || jsonget_bool(it, "created", &created) ||
	    jsonget_bool(it, "protect", &protect)) {
		strcut_printf(err, errlen, "%s", "a deployment entry lacks name, projectId, project, reference, created or protect");
		return -EBADMSG;
	}
	if (ledger_add_deployment(out, name, pid, project, ref) != 0)
		return -ENOMEM;
	d = ledger_find_deployment(out, name);
	d->created = created;
	d->protect = protect;
	return 0;
}

/* Parses text[start..end) as one JSON value (numbers keep their text:
 * jsonint.h); NULL with err. */
static cJSON *
parse_span(const char *text, size_t start, size_t end, char *err, size_t errlen)
{
	char why[200];
	cJSON *v = jsonint_parse(text + start, end - start, why, sizeof(why));

	if (v == NULL)
		strcut_printf(err, errlen, "at byte %zu: %s", start, why);
	return v;
}

/* Reads each element of the array at text[start..) with fn, parsing one
 * element at a time: a ledger of 30,000 entries never becomes one tree
 * (SPEC section 12). */
static int
entries_from_json(const char *text, size_t len, size_t start,
    int (*fn)(const cJSON *, struct ledger *, char *, size_t),
    struct ledger *out, char *err, size_t errlen)
{
	size_t at = start, s, e;
	cJSON *it;
	int rc;

	while (jsonspan_element(text, len, &at, &s, &e) == 1) {
		if ((it = parse_span(text, s, e, err, errlen)) == NULL)
			return -EBADMSG;
		rc = fn(it, out, err, errlen);
		cJSON_Delete(it);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * The document is checked whole first (one JSON value, no NUL, nothing
 * after it: jsonscan.h's rules) without building anything; then every
 * top-level member but "projects" and "deployments" goes into a small tree
 * (version, deployKeys, what a later version adds), and the entries of
 * those two are read one at a time. Only the first of a repeated member
 * counts, as with cJSON's lookups.
 */
int
ledger_from_json(const char *text, size_t len, struct ledger *out, char *err,
    size_t errlen)
{
	cJSON *root = NULL, *key, *v;
	const cJSON *ver;
	size_t at = 0, top, k, ke, s, e, ps = 0, ds = 0;
	bool have_ps = false, have_ds = false;
	int rc = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (text == NULL || len == 0) {
		strcut_printf(err, errlen, "%s", "empty, expected JSON");
		goto out;
	}
	if ((at = jsonscan_find_nul(text, len)) < len) {
		strcut_printf(err, errlen, "a string holds a NUL character (\\u0000) "
		    "at byte %zu: such a name cannot be matched exactly, refused", at);
		goto out;
	}
	/* As jsonscan_parse did: a UTF-8 byte order mark may open the text,
	 * only the four JSON white space characters may follow the value. */
	at = len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	top = jsonspan_space(text, len, at);
	if (jsonspan_skip(text, len, &at) != 0) {
		strcut_printf(err, errlen, "invalid JSON near byte %zu", at);
		goto out;
	}
	while (at < len && strchr(" \t\n\r", text[at]) != NULL)
		at++;
	if (at < len) {
		strcut_printf(err, errlen, "data after the JSON document at byte %zu "
		    "(a second document?)", at);
		goto out;
	}
	if (text[top] != '{') {
		strcut_printf(err, errlen, "%s", "not a JSON object");
		goto out;
	}
	if ((root = cJSON_CreateObject()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (at = top; jsonspan_member(text, len, &at, &k, &ke, &s, &e) == 1;) {
		if ((key = parse_span(text, k, ke, err, errlen)) == NULL)
			goto out;
		if ((strcmp(key->valuestring, "projects") == 0 && !have_ps) ||
		    (strcmp(key->valuestring, "deployments") == 0 && !have_ds)) {
			bool p = key->valuestring[0] == 'p';
			*(p ? &ps : &ds) = s;
			*(p ? &have_ps : &have_ds) = true;
		} else {
			/* Every other value is parsed, kept or not: what cJSON
			 * refused in it (a lone \u surrogate) is still refused. */
			if ((v = parse_span(text, s, e, err, errlen)) == NULL) {
				cJSON_Delete(key);
				goto out;
			}
			if (strcmp(key->valuestring, "projects") == 0 ||
			    strcmp(key->valuestring, "deployments") == 0 ||
			    cJSON_GetObjectItemCaseSensitive(root, key->valuestring) != NULL) {
				cJSON_Delete(v);       /* a repeat: the first counts */
			} else if (!cJSON_AddItemToObject(root, key->valuestring, v)) {
				cJSON_Delete(v);
				cJSON_Delete(key);
				rc = -ENOMEM;
				goto out;
			}
		}
		cJSON_Delete(key);
	}
	/* A version from the future is not damage: its protect marks may be
	 * in a shape this build cannot read, and moving it aside would lose
	 * them. Only a version that cannot be one is damage. */
	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(ver) || !(ver->valuedouble >= 1) ||
	    ver->valuedouble != floor(ver->valuedouble)) {
		strcut_printf(err, errlen, "%s", "missing or invalid \"version\"");
		goto out;
	}
	if (ver->valuedouble > LEDGER_VERSION) {
		strcut_printf(err, errlen, "written by a newer version of "
		    "convex-provisioner (ledger version %.0f; this one reads "
		    "version %d)", ver->valuedouble < 1e15 ? ver->valuedouble :
		    1e15, LEDGER_VERSION);
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	if (!have_ps || !have_ds || text[ps] != '[' || text[ds] != '[') {
		strcut_printf(err, errlen, "%s", "\"projects\" and \"deployments\" must be arrays");
		goto out;
	}
	if ((rc = entries_from_json(text, len, ps, project_from_json, out, err,
	    errlen)) != 0 ||
	    (rc = entries_from_json(text, len, ds, deployment_from_json, out, err,
	    errlen)) != 0 ||
	    (rc = keys_from_json(root, out, err, errlen)) != 0)
		goto fail;
	goto out;
fail:
	ledger_free(out);
out:
	cJSON_Delete(root);
	return rc;
}

int
ledger_load(const char *path, struct ledger *out, char *err, size_t errlen)
{
	char *text, why[200];
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	/* Never blocks on a FIFO, never follows a link, never takes a read
	 * error for the end of the file (readfile.h). */
	rc = readfile(path, LEDGER_MAX_BYTES, &text, &len, why, sizeof(why));
	if (rc == -ENOENT)
		return 0;
	if (rc == -EFBIG) {
		strcut_printf(err, errlen, "%s", why);
		return -EBADMSG;        /* no ledger is that large: damage */
	}
	if (rc != 0) {
		strcut_printf(err, errlen, "%s", why);
		return rc;
	}
	rc = ledger_from_json(text, len, out, err, errlen);
	free(text);
	return rc;
}

int
ledger_save(const char *path, const struct ledger *l, char *err, size_t errlen)
{
	char *text, *nl;
	size_t len;
	int rc;

	if ((text = ledger_to_json(l)) == NULL)
		return -ENOMEM;
	len = strlen(text);
	if ((nl = realloc(text, len + 2)) == NULL) {
		free(text);
		return -ENOMEM;
	}
	text = nl;
	memcpy(text + len, "\n", 2);
	rc = atomicfile_write(path, text, len + 1, err, errlen);
	free(text);
	return rc;
}

/* Moves path to target unless something is there already (a copy moved
 * aside in the same second, a FIFO someone left): -EEXIST then. */
static int
move_noreplace(const char *path, const char *target)
{
	if (renameat2(AT_FDCWD, path, AT_FDCWD, target, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* A file system without RENAME_NOREPLACE: a hard link refuses an
	 * existing target too. */
	if (link(path, target) != 0)
		return -errno;
	return unlink(path) == 0 ? 0 : -errno;
}

int
ledger_quarantine(const char *path, char *moved_to, size_t len)
{
	long long now = (long long)time(NULL);
	int rc = -EEXIST;

	/* Never over an earlier copy: each one may be what a person needs. */
	for (int k = 0; k < 100 && rc == -EEXIST; k++) {
		if ((k == 0 ? snprintf(moved_to, len, "%s.corrupt-%lld", path, now) :
		    snprintf(moved_to, len, "%s.corrupt-%lld.%d", path, now, k)) >=
		    (int)len)
			return -ENAMETOOLONG;
		rc = move_noreplace(path, moved_to);
	}
	return rc;
}

/* Both arrays are kept sorted (projects by id, deployments by name) so that
 * lookups are binary searches; *at is where the key is or would go. */
static struct ledger_project *
bsearch_project(const struct ledger *l, int64_t id, size_t *at)
{
	size_t lo = 0, hi = l->n_projects;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->projects[mid].id == id) {
			*at = mid;
			return &l->projects[mid];
		}
		if (l->projects[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return NULL;
}

static struct ledger_deployment *
bsearch_deployment(const struct ledger *l, const char *name, size_t *at)
{
	size_t lo = 0, hi = l->n_deployments;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->deployments[mid].name, name);
		if (c == 0) {
			*at = mid;
			return &l->deployments[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return NULL;
}

struct ledger_project *
ledger_find_project(const struct ledger *l, int64_t id)
{
	size_t at;

	return bsearch_project(l, id, &at);
}

struct ledger_deployment *
ledger_find_deployment(const struct ledger *l, const char *name)
{
	size_t at;

	return bsearch_deployment(l, name, &at);
}

/* Adds or finds; the caller sets the flags. */
static struct ledger_project *
project_entry(struct ledger *l, int64_t id, const char *name)
{
	size_t at;
	struct ledger_project *p = bsearch_project(l, id, &at), *np;
	char *nm;

	if (p != NULL)
		return p;
	if ((nm = strdup(name)) == NULL)
		return NULL;
	np = realloc(l->projects, (l->n_projects + 1) * sizeof(*np));
	if (np == NULL) {
		free(nm);
		return NULL;
	}
	l->projects = np;
	memmove(&np[at + 1], &np[at], (l->n_projects - at) * sizeof(*np));
	l->n_projects++;
	p = &np[at];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->name = nm;
	return p;
}

static struct ledger_deployment *
deployment_entry(struct ledger *l, const char *name, int64_t project_id,
    const char *project, const char *reference)
{
	size_t at;
	struct ledger_deployment *d = bsearch_deployment(l, name, &at), *nd;
	struct ledger_deployment e = { 0 };

	if (d != NULL)
		return d;
	e.name = strdup(name);
	e.project = strdup(project);
	e.reference = strdup(reference);
	e.project_id = project_id;
	nd = (e.name && e.project && e.reference) ?
	    realloc(l->deployments, (l->n_deployments + 1) * sizeof(*nd)) : NULL;
	if (nd == NULL) {
		free(e.name);
		free(e.project);
		free(e.reference);
		return NULL;
	}
	l->deployments = nd;
	memmove(&nd[at + 1], &nd[at], (l->n_deployments - at) * sizeof(*nd));
	l->n_deployments++;
	nd[at] = e;
	return &nd[at];
}

int
ledger_add_project(struct ledger *l, int64_t id, const char *name)
{
	struct ledger_project *p = project_entry(l, id, name);

	if (p == NULL)
		return -ENOMEM;
	p->created = true;
	return 0;
}

int
ledger_add_deployment(struct ledger *l, const char *name, int64_t project_id,
    const char *project, const char *reference)
{
	struct ledger_deployment *d = deployment_entry(l, name, project_id, project, reference);

	if (d == NULL)
		return -ENOMEM;
	d->created = true;
	return 0;
}

/* Replaces *slot with a copy of s; 1 when it changed, 0, -ENOMEM. */
static int
set_name(char **slot, const char *s)
{
	char *copy;

	if (s == NULL || (*slot != NULL && strcmp(*slot, s) == 0))
		return 0;
	if ((copy = strdup(s)) == NULL)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 1;
}

int
ledger_rename_project(struct ledger *l, int64_t id, const char *name)
{
	struct ledger_project *p = ledger_find_project(l, id);
	int changed = 0, rc;

	if (p != NULL && (changed = set_name(&p->name, name)) < 0)
		return changed;
	for (size_t i = 0; i < l->n_deployments; i++) {
		if (l->deployments[i].project_id != id)
			continue;
		if ((rc = set_name(&l->deployments[i].project, name)) < 0)
			return rc;
		changed |= rc;
	}
	return changed;
}

int
ledger_rename_deployment(struct ledger *l, const char *name, const char *reference)
{
	struct ledger_deployment *d = ledger_find_deployment(l, name);

	return d != NULL ? set_name(&d->reference, reference) : 0;
}

static void
free_deployment(struct ledger_deployment *d)
{
	free(d->name);
	free(d->project);
	free(d->reference);
}

/* Removal keeps the arrays sorted: one compaction pass, O(n). */
static size_t
compact_deployments(struct ledger *l, bool (*drop)(const struct ledger_deployment *, const void *),
    const void *arg)
{
	size_t w = 0, n = l->n_deployments;

	for (size_t r = 0; r < n; r++) {
		if (drop(&l->deployments[r], arg))
			free_deployment(&l->deployments[r]);
		else
			l->deployments[w++] = l->deployments[r];
	}
	l->n_deployments = w;
	return n - w;
}

static size_t
compact_projects(struct ledger *l, bool (*drop)(const struct ledger_project *, const void *),
    const void *arg)
{
	size_t w = 0, n = l->n_projects;

	for (size_t r = 0; r < n; r++) {
		if (drop(&l->projects[r], arg))
			free(l->projects[r].name);
		else
			l->projects[w++] = l->projects[r];
	}
	l->n_projects = w;
	return n - w;
}

static bool
dep_named(const struct ledger_deployment *d, const void *name)
{
	return strcmp(d->name, name) == 0;
}

static bool
dep_of_project(const struct ledger_deployment *d, const void *id)
{
	return d->project_id == *(const int64_t *)id;
}

static bool
project_with_id(const struct ledger_project *p, const void *id)
{
	return p->id == *(const int64_t *)id;
}

void
ledger_remove_deployment(struct ledger *l, const char *name)
{
	compact_deployments(l, dep_named, name);
	ledger_forget_deploy_keys_of(l, name);
}

void
ledger_remove_project(struct ledger *l, int64_t id)
{
	compact_deployments(l, dep_of_project, &id);
	compact_projects(l, project_with_id, &id);
}

/* Lookups over one complete observation and the desired state, built once
 * per sync so that large teams stay O(n log n); positions only where they
 * cover every resource (pindex.h, SPEC section 12). */
struct sync_index {
	struct pindex projects_by_id;      /* observed projects */
	struct pindex deployments_by_name; /* observed deployments */
	struct pindex declared_by_name;    /* desired projects */
	struct index declared_by_old;      /* their renamed_from names */
};

static void
key_project_id(const void *ctx, size_t pos, const char **str, int64_t *num)
{
	*str = NULL;
	*num = ((const struct observed_state *)ctx)->projects[pos].id;
}

static void
key_deployment_name(const void *ctx, size_t pos, const char **str, int64_t *num)
{
	*str = ((const struct observed_state *)ctx)->deployments[pos].name;
	*num = 0;
}

static void
key_declared_name(const void *ctx, size_t pos, const char **str, int64_t *num)
{
	*str = ((const struct desired_state *)ctx)->projects[pos].name;
	*num = 0;
}

static void
sync_index_free(struct sync_index *x)
{
	pindex_free(&x->projects_by_id);
	pindex_free(&x->deployments_by_name);
	pindex_free(&x->declared_by_name);
	index_free(&x->declared_by_old);
}

static int
sync_index_build(struct sync_index *x, const struct desired_state *ds,
    const struct observed_state *os)
{
	size_t n_old = 0, k = 0;

	memset(x, 0, sizeof(*x));
	for (size_t i = 0; i < ds->n_projects; i++)
		n_old += ds->projects[i].n_renamed_from;
	if (index_init(&x->declared_by_old, n_old) != 0 ||
	    pindex_build(&x->projects_by_id, os->n_projects, key_project_id, os) != 0 ||
	    pindex_build(&x->deployments_by_name, os->n_deployments,
	    key_deployment_name, os) != 0 ||
	    pindex_build(&x->declared_by_name, ds->n_projects, key_declared_name, ds) != 0) {
		sync_index_free(x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ds->n_projects; i++)
		for (size_t j = 0; j < ds->projects[i].n_renamed_from; j++)
			index_set(&x->declared_by_old, k++, ds->projects[i].renamed_from[j], 0, i);
	index_sort(&x->declared_by_old);
	return 0;
}

static const struct desired_project *
find_declared(const struct sync_index *x, const struct desired_state *ds,
    const char *name)
{
	size_t at = pindex_find(&x->declared_by_name, name, 0);
	const struct index_item *it;

	if (at != SIZE_MAX)
		return &ds->projects[at];
	/* Not declared by this name: perhaps an earlier one (a rename). */
	it = index_find(&x->declared_by_old, name, 0);
	return it ? &ds->projects[it->pos] : NULL;
}

static const struct desired_deployment *
find_declared_dep(const struct desired_project *dp, const char *reference)
{
	for (size_t i = 0; i < dp->n_deployments; i++)
		if (strcmp(dp->deployments[i].reference, reference) == 0)
			return &dp->deployments[i];
	for (size_t i = 0; i < dp->n_deployments; i++)
		for (size_t j = 0; j < dp->deployments[i].n_renamed_from; j++)
			if (strcmp(dp->deployments[i].renamed_from[j], reference) == 0)
				return &dp->deployments[i];
	return NULL;
}

/* Entries take the live names of their resources (SPEC section 8). */
static int
follow_names(struct ledger *l, const struct sync_index *x,
    const struct observed_state *os)
{
	size_t at;
	int changed = 0, rc;

	for (size_t i = 0; i < l->n_projects; i++) {
		at = pindex_find(&x->projects_by_id, NULL, l->projects[i].id);
		if (at != SIZE_MAX &&
		    (rc = set_name(&l->projects[i].name, os->projects[at].name)) != 0) {
			if (rc < 0)
				return rc;
			changed = 1;
		}
	}
	for (size_t i = 0; i < l->n_deployments; i++) {
		struct ledger_deployment *d = &l->deployments[i];
		const struct observed_deployment *od;
		size_t p;

		if ((at = pindex_find(&x->deployments_by_name, d->name, 0)) == SIZE_MAX)
			continue;
		od = &os->deployments[at];
		if ((rc = set_name(&d->reference, od->reference)) < 0)
			return rc;
		changed |= rc;
		p = pindex_find(&x->projects_by_id, NULL, od->project_id);
		if (p != SIZE_MAX &&
		    (rc = set_name(&d->project, os->projects[p].name)) != 0) {
			if (rc < 0)
				return rc;
			changed = 1;
		}
	}
	return changed;
}

static const struct observed_project *
find_live_project(const struct sync_index *x, const struct observed_state *os,
    int64_t id)
{
	size_t at = pindex_find(&x->projects_by_id, NULL, id);

	return at != SIZE_MAX ? &os->projects[at] : NULL;
}

/* Sets `protect` on an entry to what the files declare; returns 1 if that
 * changed anything. */
static int
set_protect(bool *flag, bool want)
{
	if (*flag == want)
		return 0;
	*flag = want;
	return 1;
}

/* Whether a live name is one the declaration stands for: its own or one of
 * its renamed_from names. */
static bool
names_it(const char *live, const char *name, char *const *renamed_from,
    size_t n_renamed_from)
{
	if (live == NULL)
		return false;
	if (strcmp(live, name) == 0)
		return true;
	for (size_t i = 0; i < n_renamed_from; i++)
		if (strcmp(live, renamed_from[i]) == 0)
			return true;
	return false;
}

/* More than one live project the declaration could stand for (two of its
 * name, or its name and an earlier one: a conflict, SPEC 8), or deployment
 * of the project likewise: which one the files mean cannot be told, so no
 * mark is lifted (random schedules, seeds 5874 and 42326). A linear scan,
 * made only when a mark would be lifted. */
static bool
project_ambiguous(const struct observed_state *os, const struct desired_project *dp)
{
	size_t n = 0;

	for (size_t i = 0; i < os->n_projects && n < 2; i++)
		n += names_it(os->projects[i].name, dp->name, dp->renamed_from,
		    dp->n_renamed_from);
	return n >= 2;
}

static bool
reference_ambiguous(const struct observed_state *os, int64_t project_id,
    const struct desired_deployment *dd)
{
	size_t n = 0;

	for (size_t i = 0; i < os->n_deployments && n < 2; i++)
		n += os->deployments[i].project_id == project_id &&
		    names_it(os->deployments[i].reference, dd->reference,
		    dd->renamed_from, dd->n_renamed_from);
	return n >= 2;
}

/* A declared `protect: true` also marks what this tool recorded under
 * that name (before follow_names takes the live names), whatever the live
 * resource is called now: a person may rename it before any observation
 * saw the mark (random schedules, seed 30203: the observation that would
 * have recorded it failed, a person renamed the project, and prune deleted
 * it as undeclared). Only adds marks; needs no observation. 1: changed. */
static int
mark_recorded(struct ledger *l, const struct sync_index *x,
    const struct desired_state *ds)
{
	int changed = 0;

	for (size_t i = 0; i < l->n_projects; i++) {
		struct ledger_project *lp = &l->projects[i];
		const struct desired_project *dp;

		if (lp->protect || lp->name == NULL ||
		    (dp = find_declared(x, ds, lp->name)) == NULL || !dp->protect)
			continue;
		lp->protect = true;
		changed = 1;
	}
	for (size_t i = 0; i < l->n_deployments; i++) {
		struct ledger_deployment *ld = &l->deployments[i];
		const struct desired_project *dp;
		const struct desired_deployment *dd;

		if (ld->protect || ld->project == NULL || ld->reference == NULL ||
		    (dp = find_declared(x, ds, ld->project)) == NULL ||
		    (dd = find_declared_dep(dp, ld->reference)) == NULL || !dd->protect)
			continue;
		ld->protect = true;
		changed = 1;
	}
	return changed;
}

static int
record_protect(struct ledger *l, const struct sync_index *x,
    const struct desired_state *ds, const struct observed_state *os)
{
	int changed = 0;

	for (size_t i = 0; i < os->n_projects; i++) {
		const struct observed_project *op = &os->projects[i];
		const struct desired_project *dp = find_declared(x, ds, op->name);
		struct ledger_project *lp;

		if (dp == NULL)
			continue;
		lp = ledger_find_project(l, op->id);
		if (lp == NULL && dp->protect) {
			if ((lp = project_entry(l, op->id, op->name)) == NULL)
				return -ENOMEM;
		}
		/* `state: absent` asks for a delete; it never lifts a mark. The
		 * mark must be removed first, in an edit of its own (SPEC 5).
		 * Nor does a declaration two live projects could stand for. */
		if (lp == NULL || (dp->absent && !dp->protect))
			continue;
		if (lp->protect && !dp->protect && project_ambiguous(os, dp))
			continue;
		changed |= set_protect(&lp->protect, dp->protect);
	}
	for (size_t i = 0; i < os->n_deployments; i++) {
		const struct observed_deployment *od = &os->deployments[i];
		const struct observed_project *op = find_live_project(x, os, od->project_id);
		const struct desired_project *dp;
		const struct desired_deployment *dd;
		struct ledger_deployment *ld;

		if (op == NULL || od->reference == NULL ||
		    (dp = find_declared(x, ds, op->name)) == NULL ||
		    (dd = find_declared_dep(dp, od->reference)) == NULL)
			continue;
		ld = ledger_find_deployment(l, od->name);
		if (ld == NULL && dd->protect) {
			ld = deployment_entry(l, od->name, op->id, op->name, od->reference);
			if (ld == NULL)
				return -ENOMEM;
		}
		if (ld == NULL || (dd->absent && !dd->protect))
			continue;
		if (ld->protect && !dd->protect && (project_ambiguous(os, dp) ||
		    reference_ambiguous(os, op->id, dd)))
			continue;
		changed |= set_protect(&ld->protect, dd->protect);
	}
	return changed | mark_recorded(l, x, ds);
}

static bool
project_gone(const struct ledger_project *p, const void *x)
{
	return pindex_find(&((const struct sync_index *)x)->projects_by_id, NULL,
	    p->id) == SIZE_MAX;
}

static bool
deployment_gone(const struct ledger_deployment *d, const void *x)
{
	return pindex_find(&((const struct sync_index *)x)->deployments_by_name,
	    d->name, 0) == SIZE_MAX;
}

static bool
project_unmarked(const struct ledger_project *p, const void *unused)
{
	(void)unused;
	return !p->created && !p->protect;
}

static bool
deployment_unmarked(const struct ledger_deployment *d, const void *unused)
{
	(void)unused;
	return !d->created && !d->protect;
}

int
ledger_mark_declared(struct ledger *l, const struct desired_state *ds)
{
	static const struct observed_state none;
	struct sync_index x;
	int changed;

	if (sync_index_build(&x, ds, &none) != 0)
		return -ENOMEM;
	changed = mark_recorded(l, &x, ds);
	sync_index_free(&x);
	return changed;
}

int
ledger_sync(struct ledger *l, const struct desired_state *ds,
    const struct observed_state *os)
{
	struct sync_index x;
	int changed = 0, rc;

	if (sync_index_build(&x, ds, os) != 0)
		return -ENOMEM;

	/* Forget what no longer exists. */
	changed |= compact_projects(l, project_gone, &x) > 0;
	changed |= compact_deployments(l, deployment_gone, &x) > 0;

	rc = record_protect(l, &x, ds, os);
	if (rc >= 0) {
		int r2 = follow_names(l, &x, os);

		rc = r2 < 0 ? r2 : (rc | r2);
	}
	sync_index_free(&x);
	if (rc < 0)
		return rc;
	changed |= rc;

	/* Entries that record nothing any more are dropped. */
	changed |= compact_projects(l, project_unmarked, NULL) > 0;
	changed |= compact_deployments(l, deployment_unmarked, NULL) > 0;
	if ((rc = ledger_sync_deploy_keys(l, os)) < 0)
		return rc;
	changed |= rc;
	return changed;
}

/* ---- deploy keys (SPEC section 9) ----------------------------------------- */

/* "deployKeys": [{"deployment": NAME, "name": KEY}] — names only, never a
 * secret. Absent in a ledger written before keys existed: none. */
static bool
keys_to_json(cJSON *root, const struct ledger *l)
{
	cJSON *ks = cJSON_AddArrayToObject(root, "deployKeys");

	if (ks == NULL)
		return false;
	for (size_t i = 0; i < l->n_deploy_keys; i++) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(ks, o)) {
			cJSON_Delete(o);
			return false;
		}
		if (!cJSON_AddStringToObject(o, "deployment", l->deploy_keys[i].deployment) ||
		    !cJSON_AddStringToObject(o, "name", l->deploy_keys[i].name))
			return false;
	}
	return true;
}

static int
keys_from_json(const cJSON *root, struct ledger *out, char *err, size_t errlen)
{
	const cJSON *ks = cJSON_GetObjectItemCaseSensitive(root, "deployKeys"), *it;

	if (ks == NULL)
		return 0;
	if (!cJSON_IsArray(ks)) {
		strcut_printf(err, errlen, "%s", "\"deployKeys\" must be an array");
		return -EBADMSG;
	}
	cJSON_ArrayForEach(it, ks) {
		const char *dep = get_str(it, "deployment"), *name = get_str(it, "name");

		if (dep == NULL || *dep == '\0' || name == NULL || *name == '\0') {
			strcut_printf(err, errlen, "%s", "a deploy key entry lacks deployment or name");
			return -EBADMSG;
		}
		if (ledger_add_deploy_key(out, dep, name) != 0)
			return -ENOMEM;
	}
	return 0;
}

static int
cmp_key_at(const struct ledger_deploy_key *k, const char *deployment, const char *name)
{
	int c = strcmp(k->deployment, deployment);

	return c ? c : strcmp(k->name, name);
}

/* Kept sorted by (deployment, name); *at is where the key is or would go. */
static struct ledger_deploy_key *
bsearch_key(const struct ledger *l, const char *deployment, const char *name,
    size_t *at)
{
	size_t lo = 0, hi = l->n_deploy_keys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_key_at(&l->deploy_keys[mid], deployment, name);

		if (c == 0) {
			*at = mid;
			return &l->deploy_keys[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return NULL;
}

struct ledger_deploy_key *
ledger_find_deploy_key(const struct ledger *l, const char *deployment,
    const char *name)
{
	size_t at;

	return bsearch_key(l, deployment, name, &at);
}

int
ledger_add_deploy_key(struct ledger *l, const char *deployment, const char *name)
{
	struct ledger_deploy_key e, *nk;
	size_t at;

	if (bsearch_key(l, deployment, name, &at) != NULL)
		return 0;
	e.deployment = strdup(deployment);
	e.name = strdup(name);
	nk = (e.deployment && e.name) ? realloc(l->deploy_keys,
	    (l->n_deploy_keys + 1) * sizeof(*nk)) : NULL;
	if (nk == NULL) {
		free(e.deployment);
		free(e.name);
		return -ENOMEM;
	}
	l->deploy_keys = nk;
	memmove(&nk[at + 1], &nk[at], (l->n_deploy_keys - at) * sizeof(*nk));
	nk[at] = e;
	l->n_deploy_keys++;
	return 0;
}

/* Drops the keys drop() names; returns how many. */
static size_t
compact_keys(struct ledger *l, bool (*drop)(const struct ledger_deploy_key *,
    const void *), const void *arg)
{
	size_t w = 0, n = l->n_deploy_keys;

	for (size_t r = 0; r < n; r++) {
		if (drop(&l->deploy_keys[r], arg)) {
			free(l->deploy_keys[r].deployment);
			free(l->deploy_keys[r].name);
		} else {
			l->deploy_keys[w++] = l->deploy_keys[r];
		}
	}
	l->n_deploy_keys = w;
	return n - w;
}

struct key_id {
	const char *deployment;
	const char *name;
};

static bool
key_is(const struct ledger_deploy_key *k, const void *arg)
{
	const struct key_id *id = arg;

	return strcmp(k->deployment, id->deployment) == 0 &&
	    (id->name == NULL || strcmp(k->name, id->name) == 0);
}

void
ledger_remove_deploy_key(struct ledger *l, const char *deployment, const char *name)
{
	struct key_id id = { deployment, name };

	compact_keys(l, key_is, &id);
}

void
ledger_forget_deploy_keys_of(struct ledger *l, const char *deployment)
{
	struct key_id id = { deployment, NULL };

	compact_keys(l, key_is, &id);
}

/* A key is gone when its deployment is, or when its deployment's keys
 * were listed and it was not among them. */
struct key_sync {
	const struct observed_state *os;
	struct index deployments;    /* live deployments by name */
	struct index listed;         /* key listings by deployment name */
	struct index keys;           /* listed keys by deployment name */
};

static bool
key_gone(const struct ledger_deploy_key *k, const void *arg)
{
	const struct key_sync *ks = arg;
	size_t first, n;

	if (index_find(&ks->deployments, k->deployment, 0) == NULL)
		return true;
	if (index_find(&ks->listed, k->deployment, 0) == NULL)
		return false;
	n = index_range_str(&ks->keys, k->deployment, &first);
	for (size_t i = first; i < first + n; i++)
		if (strcmp(ks->os->deploy_keys[ks->keys.items[i].pos].name, k->name) == 0)
			return false;
	return true;
}

int
ledger_sync_deploy_keys(struct ledger *l, const struct observed_state *os)
{
	struct key_sync ks = { .os = os };
	size_t n_listed = 0, changed = 0;

	if (l->n_deploy_keys == 0)
		return 0;
	for (size_t i = 0; i < os->n_listed; i++)
		n_listed += os->listed[i].kind == LISTED_DEPLOY_KEYS;
	if (index_init(&ks.deployments, os->n_deployments) != 0 ||
	    index_init(&ks.listed, n_listed) != 0 ||
	    index_init(&ks.keys, os->n_deploy_keys) != 0) {
		index_free(&ks.deployments);
		index_free(&ks.listed);
		return -ENOMEM;
	}
	for (size_t i = 0; i < os->n_deployments; i++)
		index_set(&ks.deployments, i, os->deployments[i].name, 0, i);
	for (size_t i = 0, k = 0; i < os->n_listed; i++)
		if (os->listed[i].kind == LISTED_DEPLOY_KEYS)
			index_set(&ks.listed, k++, os->listed[i].deployment, 0, i);
	for (size_t i = 0; i < os->n_deploy_keys; i++)
		index_set(&ks.keys, i, os->deploy_keys[i].deployment, 0, i);
	index_sort(&ks.deployments);
	index_sort(&ks.listed);
	index_sort(&ks.keys);
	changed = compact_keys(l, key_gone, &ks);
	index_free(&ks.deployments);
	index_free(&ks.listed);
	index_free(&ks.keys);
	return changed > 0;
}
