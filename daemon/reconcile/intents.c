/* intents.c: create intents: the file (append, atomic rewrite, tolerant
 * read), the batch of a plan, and their resolution against an observation.
 * The rules are in intents.h. */
#include "intents.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "index.h"
#include "jsonint.h"
#include "ledger.h"
#include "readfile.h"

#define INTENTS_VERSION 1

static const char *const kind_names[] = { "project", "deployment", "domain",
	"deploy_key" };

const char *
intent_kind_name(enum intent_kind k)
{
	if ((unsigned)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "?";
	return kind_names[k];
}

static int
kind_parse(const char *s, enum intent_kind *out)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*out = (enum intent_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void
intent_clear(struct intent *it)
{
	free(it->project);
	free(it->reference);
	free(it->deployment);
	free(it->name);
	memset(it, 0, sizeof(*it));
}

void
intents_free(struct intents *in)
{
	if (in == NULL)
		return;
	for (size_t i = 0; i < in->n; i++)
		intent_clear(&in->items[i]);
	free(in->items);
	memset(in, 0, sizeof(*in));
}

/* Takes ownership of *it's strings (also on failure: they are freed). */
static int
push(struct intents *in, struct intent *it)
{
	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 16;
		struct intent *p = cap > SIZE_MAX / sizeof(*p) ? NULL :
		    realloc(in->items, cap * sizeof(*p));

		if (p == NULL) {
			intent_clear(it);
			return -ENOMEM;
		}
		in->items = p;
		in->cap = cap;
	}
	in->items[in->n++] = *it;
	return 0;
}

int
intents_add_named(struct intents *in, enum intent_kind kind,
    const char *project, int64_t project_id, const char *reference,
    const char *deployment, const char *name, int64_t time_ms)
{
	struct intent it = {
		.kind = kind,
		.project = strdup(project != NULL ? project : ""),
		.project_id = project_id,
		.reference = xstrdup_null(reference),
		.deployment = xstrdup_null(deployment),
		.name = xstrdup_null(name),
		.time_ms = time_ms,
		.action = INTENT_NO_ACTION,
	};

	if (it.project == NULL || (reference != NULL && it.reference == NULL) ||
	    (deployment != NULL && it.deployment == NULL) ||
	    (name != NULL && it.name == NULL)) {
		intent_clear(&it);
		return -ENOMEM;
	}
	return push(in, &it);
}

int
intents_add(struct intents *in, enum intent_kind kind, const char *project,
    int64_t project_id, const char *reference, int64_t time_ms)
{
	return intents_add_named(in, kind, project, project_id, reference, NULL,
	    NULL, time_ms);
}

/* ---- lines ------------------------------------------------------------- */

/* {"version":1,"kind":"deployment","project":"shop","projectId":12,
 *  "reference":"staging","time":1712345678901,"conflict":true}
 * {"version":1,"kind":"deploy_key","project":"shop","projectId":12,
 *  "reference":"production","deployment":"happy-otter-123","name":"ci",
 *  "time":1712345678901}
 * Numbers exact (jsonint.h); strings as cJSON escapes them, byte for byte
 * otherwise (no scrubbing: a name must read back as itself). */
static char *
to_line(const struct intent *it)
{
	cJSON *o = cJSON_CreateObject();
	char *line = NULL;

	if (o != NULL && jsonint_add(o, "version", INTENTS_VERSION) &&
	    cJSON_AddStringToObject(o, "kind", intent_kind_name(it->kind)) &&
	    cJSON_AddStringToObject(o, "project", it->project) &&
	    (it->project_id == 0 || jsonint_add(o, "projectId", it->project_id)) &&
	    (it->reference == NULL ||
	    cJSON_AddStringToObject(o, "reference", it->reference)) &&
	    (it->deployment == NULL ||
	    cJSON_AddStringToObject(o, "deployment", it->deployment)) &&
	    (it->name == NULL || cJSON_AddStringToObject(o, "name", it->name)) &&
	    jsonint_add(o, "time", it->time_ms) &&
	    (!it->conflict || cJSON_AddTrueToObject(o, "conflict")))
		line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

static const char *
get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One line: 0, -EBADMSG (not an intent this version reads), -ENOMEM. */
static int
from_line(const char *text, size_t len, struct intents *out)
{
	char why[200];
	cJSON *o = jsonint_parse(text, len, why, sizeof(why));
	const cJSON *v;
	const char *kind, *project, *reference, *deployment, *name;
	int64_t version, time_ms, pid = 0;
	enum intent_kind k;
	int rc = -EBADMSG;

	if (!cJSON_IsObject(o))
		goto out;
	kind = get_str(o, "kind");
	project = get_str(o, "project");
	reference = get_str(o, "reference");
	deployment = get_str(o, "deployment");
	name = get_str(o, "name");
	if (jsonint_get(cJSON_GetObjectItemCaseSensitive(o, "version"), &version) != 0 ||
	    version != INTENTS_VERSION || kind == NULL || kind_parse(kind, &k) != 0 ||
	    project == NULL || *project == '\0' ||
	    jsonint_get(cJSON_GetObjectItemCaseSensitive(o, "time"), &time_ms) != 0 ||
	    time_ms <= 0)
		goto out;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "projectId")) != NULL &&
	    (jsonint_get(v, &pid) != 0 || pid <= 0))
		goto out;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "conflict")) != NULL &&
	    !cJSON_IsBool(v))
		goto out;
	/* Each kind with exactly its fields: a project has a name alone; a
	 * deployment a reference; a domain or a key a reference and a name,
	 * and its deployment's name or not. Any other key is present only as
	 * the wrong type when it is one of these. */
	if (k == INTENT_PROJECT ? (reference != NULL || pid != 0) :
	    (reference == NULL || *reference == '\0'))
		goto out;
	if ((cJSON_GetObjectItemCaseSensitive(o, "deployment") != NULL &&
	    deployment == NULL) ||
	    (cJSON_GetObjectItemCaseSensitive(o, "name") != NULL && name == NULL))
		goto out;
	if (k == INTENT_PROJECT || k == INTENT_DEPLOYMENT ?
	    (deployment != NULL || name != NULL) :
	    (name == NULL || *name == '\0' ||
	    (deployment != NULL && *deployment == '\0')))
		goto out;
	if ((rc = intents_add_named(out, k, project, pid, reference, deployment,
	    name, time_ms)) == 0)
		out->items[out->n - 1].conflict = cJSON_IsTrue(v);
out:
	cJSON_Delete(o);
	return rc;
}

int
intents_parse(const char *text, size_t len, struct intents *out, size_t *bad,
    size_t *first_bad)
{
	size_t pos = 0, line = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	*bad = 0;
	*first_bad = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		size_t a = pos, b = end;

		line++;
		while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
			b--;
		if (a < b) {
			rc = from_line(text + a, b - a, out);
			if (rc == -ENOMEM) {
				intents_free(out);
				return rc;
			}
			if (rc != 0 && (*bad)++ == 0)
				*first_bad = line;
		}
		pos = end + 1;
	}
	return 0;
}

char *
intents_to_text(const struct intents *in, size_t from)
{
	size_t len = 0, cap = 256;
	char *text = malloc(cap), *line;

	if (text == NULL)
		return NULL;
	text[0] = '\0';
	for (size_t i = from; i < in->n; i++) {
		size_t n;

		if ((line = to_line(&in->items[i])) == NULL) {
			free(text);
			return NULL;
		}
		n = strlen(line);
		if (len + n + 2 > cap) {
			char *p;

			while (len + n + 2 > cap)
				cap *= 2;
			if ((p = realloc(text, cap)) == NULL) {
				cJSON_free(line);
				free(text);
				return NULL;
			}
			text = p;
		}
		memcpy(text + len, line, n);
		len += n;
		text[len++] = '\n';
		text[len] = '\0';
		cJSON_free(line);
	}
	return text;
}

/* ---- the file ---------------------------------------------------------- */

int
intents_load(const char *path, struct intents *out, size_t *bad, bool *clean,
    char *err, size_t errlen)
{
	char *text;
	size_t len, first_bad;
	int rc;

	memset(out, 0, sizeof(*out));
	*bad = 0;
	*clean = true;
	rc = readfile(path, INTENTS_MAX_BYTES, &text, &len, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	rc = intents_parse(text, len, out, bad, &first_bad);
	if (rc == 0 && *bad > 0)
		snprintf(err, errlen, "%zu line%s not understood (the first: line "
		    "%zu), skipped", *bad, *bad == 1 ? "" : "s", first_bad);
	*clean = *bad == 0 && (len == 0 || text[len - 1] == '\n');
	free(text);
	return rc;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc = 0;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Opens path for writing without following a link or blocking on a FIFO;
 * it must be a regular file. *created: it did not exist. */
static int
open_regular(const char *path, int flags, bool *created)
{
	int common = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat st;
	int fd;

	*created = false;
	fd = open(path, common | flags | O_CREAT | O_EXCL, 0600);
	if (fd >= 0)
		*created = true;
	else if (errno == EEXIST)
		fd = open(path, common | flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int
intents_append(const char *path, const struct intents *in, size_t from,
    char *err, size_t errlen)
{
	char *text;
	struct stat st = { .st_size = -1 };
	bool created;
	int fd, rc;

	if (from >= in->n)
		return 0;
	if ((text = intents_to_text(in, from)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if ((fd = open_regular(path, O_APPEND, &created)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-fd));
		free(text);
		return fd;
	}
	rc = fstat(fd, &st) == 0 ? 0 : -errno;
	if (rc == 0)
		rc = write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		/* Best effort: no torn line left behind (one would be skipped
		 * when read, and the next write rewrites the file). */
		if (st.st_size >= 0 && ftruncate(fd, st.st_size) != 0)
			errno = 0;
	}
	if (close(fd) != 0 && rc == 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
	}
	free(text);
	if (rc == 0 && created && (rc = fsync_dir_of(path)) != 0)
		snprintf(err, errlen, "cannot sync the folder of %s: %s", path,
		    strerror(-rc));
	return rc;
}

static int
truncate_file(const char *path, char *err, size_t errlen)
{
	bool created;
	int fd, rc = 0;

	if ((fd = open_regular(path, O_TRUNC, &created)) < 0) {
		snprintf(err, errlen, "cannot empty %s: %s", path, strerror(-fd));
		return fd;
	}
	if (fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && created)
		rc = fsync_dir_of(path);
	if (rc != 0)
		snprintf(err, errlen, "cannot empty %s: %s", path, strerror(-rc));
	return rc;
}

int
intents_save(const char *path, const struct intents *in, char *err, size_t errlen)
{
	char tmp[PATH_MAX], *text;
	bool created;
	int fd, rc;

	if (in->n == 0) {
		struct stat st;

		if (lstat(path, &st) != 0 && errno == ENOENT)
			return 0;
		return truncate_file(path, err, errlen);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((text = intents_to_text(in, 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* A fresh temporary file, as ledger_save makes one. */
	if (unlink(tmp) != 0 && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "cannot remove %s: %s", tmp, strerror(-rc));
		free(text);
		return rc;
	}
	if ((fd = open_regular(tmp, 0, &created)) < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(-fd));
		free(text);
		return fd;
	}
	rc = write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	free(text);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	if ((rc = fsync_dir_of(path)) != 0)
		snprintf(err, errlen, "cannot sync the folder of %s: %s", path,
		    strerror(-rc));
	return rc;
}

/* ---- the batch ---------------------------------------------------------- */

static bool
eq_null(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The kept intent of a key whose secret was lost stands for the key's new
 * create as well: it is settled when that create is. */
static void
tie_lost_secret(struct intents *in, const struct plan_action *a, size_t index)
{
	if (a->deployment_name == NULL)
		return;
	for (size_t k = 0; k < in->n; k++) {
		struct intent *it = &in->items[k];

		if (it->kind == INTENT_DEPLOY_KEY && it->lost_secret &&
		    it->action == INTENT_NO_ACTION &&
		    eq_null(it->deployment, a->deployment_name) &&
		    eq_null(it->name, a->key_name))
			it->action = index;
	}
}

int
intents_from_plan(struct intents *in, const struct plan *p, int64_t now_ms)
{
	int n = 0, rc;

	for (size_t i = 0; i < p->n_actions; i++) {
		const struct plan_action *a = &p->actions[i];

		if (a->op != PLAN_CREATE)
			continue;
		/* Every kind of create that can be lost gets its intent here;
		 * a kind without a case gets none (intents.h, adding a kind). */
		switch (a->kind) {
		case PLAN_PROJECT:
			rc = intents_add(in, INTENT_PROJECT, a->project, 0, NULL, now_ms);
			break;
		case PLAN_DEPLOYMENT:
			rc = intents_add(in, INTENT_DEPLOYMENT, a->project,
			    a->project_id, a->reference, now_ms);
			break;
		case PLAN_DOMAIN:
			rc = intents_add_named(in, INTENT_DOMAIN, a->project,
			    a->project_id, a->reference, a->deployment_name,
			    a->domain, now_ms);
			break;
		case PLAN_DEPLOY_KEY:
			tie_lost_secret(in, a, i);
			rc = intents_add_named(in, INTENT_DEPLOY_KEY, a->project,
			    a->project_id, a->reference, a->deployment_name,
			    a->key_name, now_ms);
			break;
		default:
			continue;
		}
		if (rc != 0)
			return rc;
		in->items[in->n - 1].action = i;
		n++;
	}
	return n;
}

bool
intents_settle(struct intents *in, const struct plan *p,
    const struct action_result *results, bool ledger_saved)
{
	size_t w = 0, n = in->n;

	for (size_t r = 0; r < n; r++) {
		struct intent *it = &in->items[r];
		bool settled = false;

		if (it->action != INTENT_NO_ACTION && it->action < p->n_actions) {
			enum action_state st = results[it->action].state;

			bool named = it->kind == INTENT_DOMAIN ||
			    it->kind == INTENT_DEPLOY_KEY;

			/* A lost secret's intent goes only with its new
			 * key: the old one may still be live. A domain or
			 * key create the API definitely refused (a 4xx:
			 * say, a person made that name just before) made
			 * nothing: its intent must not later match what a
			 * person made, least of all a key it would delete. */
			settled = (!it->lost_secret && (st == ACTION_SKIPPED ||
			    st == ACTION_PENDING || (named && st == ACTION_FAILED &&
			    !results[it->action].ambiguous))) ||
			    (st == ACTION_OK && ledger_saved);
		}
		it->action = INTENT_NO_ACTION;
		if (settled)
			intent_clear(it);
		else
			in->items[w++] = *it;
	}
	in->n = w;
	return w != n;
}

/* ---- resolution -------------------------------------------------------- */

struct lookups {
	struct index proj_name;   /* live projects by (name, id) */
	struct index proj_id;     /* live projects by id */
	struct index dep_ref;     /* live deployments by (reference, project id) */
	struct index dep_name;    /* live deployments by name */
	struct index declared;    /* declared projects by name */
	struct index domains;     /* listed domains by deployment name */
	struct index keys;        /* listed deploy keys by deployment name */
	struct index listed;      /* listings made: (deployment name, kind) */
};

static void
lookups_free(struct lookups *x)
{
	index_free(&x->proj_name);
	index_free(&x->proj_id);
	index_free(&x->dep_ref);
	index_free(&x->dep_name);
	index_free(&x->declared);
	index_free(&x->domains);
	index_free(&x->keys);
	index_free(&x->listed);
}

static int
lookups_build(struct lookups *x, const struct desired_state *ds,
    const struct observed_state *os)
{
	size_t nd = ds != NULL ? ds->n_projects : 0;

	memset(x, 0, sizeof(*x));
	if (index_init(&x->proj_name, os->n_projects) != 0 ||
	    index_init(&x->proj_id, os->n_projects) != 0 ||
	    index_init(&x->dep_ref, os->n_deployments) != 0 ||
	    index_init(&x->dep_name, os->n_deployments) != 0 ||
	    index_init(&x->declared, nd) != 0 ||
	    index_init(&x->domains, os->n_domains) != 0 ||
	    index_init(&x->keys, os->n_deploy_keys) != 0 ||
	    index_init(&x->listed, os->n_listed) != 0) {
		lookups_free(x);
		return -ENOMEM;
	}
	for (size_t i = 0; i < os->n_domains; i++)
		index_set(&x->domains, i, os->domains[i].deployment, 0, i);
	for (size_t i = 0; i < os->n_deploy_keys; i++)
		index_set(&x->keys, i, os->deploy_keys[i].deployment, 0, i);
	for (size_t i = 0; i < os->n_listed; i++)
		index_set(&x->listed, i, os->listed[i].deployment,
		    (int64_t)os->listed[i].kind, i);
	index_sort(&x->domains);
	index_sort(&x->keys);
	index_sort(&x->listed);
	for (size_t i = 0; i < os->n_projects; i++) {
		index_set(&x->proj_name, i, os->projects[i].name, os->projects[i].id, i);
		index_set(&x->proj_id, i, NULL, os->projects[i].id, i);
	}
	for (size_t i = 0; i < os->n_deployments; i++)
		index_set(&x->dep_ref, i, os->deployments[i].reference != NULL ?
		    os->deployments[i].reference : "", os->deployments[i].project_id, i);
	for (size_t i = 0; i < os->n_deployments; i++)
		index_set(&x->dep_name, i, os->deployments[i].name, 0, i);
	for (size_t i = 0; i < nd; i++)
		index_set(&x->declared, i, ds->projects[i].name, 0, i);
	index_sort(&x->proj_name);
	index_sort(&x->proj_id);
	index_sort(&x->dep_ref);
	index_sort(&x->dep_name);
	index_sort(&x->declared);
	return 0;
}

/* Items of ix with exactly (str, num): how many, *first the first. */
static size_t
range_exact(const struct index *ix, const char *str, int64_t num, size_t *first)
{
	size_t lo, hi, n = index_range_str(ix, str, &lo), end;

	hi = lo + n;
	end = hi;
	while (lo < hi) {            /* the first with num >= `num` */
		size_t mid = lo + (hi - lo) / 2;

		if (ix->items[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (hi = lo; hi < end && ix->items[hi].num == num; hi++)
		;
	return hi - lo;
}

/* The candidates of one intent. */
struct match {
	size_t n;                 /* created at or after the intent (less the skew) */
	bool ours;                /* one of them is recorded as created by us
	                           * (a key: its secret file exists) */
	size_t pos;               /* the first one's position in the observation */
	size_t ours_pos;          /* a key: the one whose secret file exists */
	bool unlisted;            /* a domain or key: a deployment it may be
	                           * in is live, its listing was not made */
};

static bool
in_time(int64_t create_time, const struct intent *it)
{
	/* 0: the API did not say; it cannot be ruled out. */
	return create_time == 0 || create_time >= it->time_ms - INTENTS_SKEW_MS;
}

static void
match_projects(const struct lookups *x, const struct observed_state *os,
    const struct ledger *l, const struct intent *it, struct match *m)
{
	size_t first, n = index_range_str(&x->proj_name, it->project, &first);

	for (size_t k = first; k < first + n; k++) {
		size_t pos = x->proj_name.items[k].pos;
		const struct observed_project *op = &os->projects[pos];
		const struct ledger_project *lp;

		if (!in_time(op->create_time, it))
			continue;
		if (m->n++ == 0)
			m->pos = pos;
		if ((lp = ledger_find_project(l, op->id)) != NULL && lp->created)
			m->ours = true;
	}
}

static void
match_deployments_in(const struct lookups *x, const struct observed_state *os,
    const struct ledger *l, const struct intent *it, int64_t project_id,
    struct match *m)
{
	size_t first, n = range_exact(&x->dep_ref, it->reference, project_id, &first);

	for (size_t k = first; k < first + n; k++) {
		size_t pos = x->dep_ref.items[k].pos;
		const struct observed_deployment *od = &os->deployments[pos];
		const struct ledger_deployment *ld;

		if (!in_time(od->create_time, it))
			continue;
		if (m->n++ == 0)
			m->pos = pos;
		if ((ld = ledger_find_deployment(l, od->name)) != NULL && ld->created)
			m->ours = true;
	}
}

static void
match_deployments(const struct lookups *x, const struct observed_state *os,
    const struct ledger *l, const struct intent *it, struct match *m)
{
	size_t first, n;

	if (it->project_id != 0) {
		match_deployments_in(x, os, l, it, it->project_id, m);
		return;
	}
	/* The project was made by the same plan: by its name. */
	n = index_range_str(&x->proj_name, it->project, &first);
	for (size_t k = first; k < first + n; k++)
		match_deployments_in(x, os, l, it, x->proj_name.items[k].num, m);
}

/* The candidates of a domain or key intent in the live deployment `dep`. */
static void
match_named_in(const struct lookups *x, const struct observed_state *os,
    const struct intent *it, const char *dep, struct match *m)
{
	bool domain = it->kind == INTENT_DOMAIN;
	enum observed_listing kind = domain ? LISTED_DOMAINS : LISTED_DEPLOY_KEYS;
	const struct index *ix = domain ? &x->domains : &x->keys;
	size_t first, n;

	if (index_find(&x->listed, dep, (int64_t)kind) == NULL) {
		m->unlisted = true;
		return;
	}
	n = index_range_str(ix, dep, &first);
	for (size_t k = first; k < first + n; k++) {
		size_t pos = ix->items[k].pos;
		const char *name = domain ? os->domains[pos].domain :
		    os->deploy_keys[pos].name;
		int64_t t = domain ? os->domains[pos].create_time :
		    os->deploy_keys[pos].create_time;

		if (name == NULL || strcmp(name, it->name) != 0 || !in_time(t, it))
			continue;
		if (m->n++ == 0)
			m->pos = pos;
		if (!domain && os->deploy_keys[pos].secret_file) {
			m->ours = true;
			m->ours_pos = pos;
		}
	}
}

static void
match_named_by_ref(const struct lookups *x, const struct observed_state *os,
    const struct intent *it, int64_t project_id, struct match *m)
{
	size_t first, n = range_exact(&x->dep_ref, it->reference, project_id, &first);

	for (size_t k = first; k < first + n; k++)
		match_named_in(x, os, it, os->deployments[x->dep_ref.items[k].pos].name, m);
}

/* A domain or key: in its deployment by name when it was live when
 * planned (a live deployment keeps its name through renames), else in
 * the deployments with its project and reference. */
static void
match_named(const struct lookups *x, const struct observed_state *os,
    const struct intent *it, struct match *m)
{
	size_t first, n;

	if (it->name == NULL || it->reference == NULL)
		return;
	if (it->deployment != NULL) {
		/* Not live: deleted, so the domain or key is gone too. */
		if (index_range_str(&x->dep_name, it->deployment, &first) > 0)
			match_named_in(x, os, it, it->deployment, m);
		return;
	}
	if (it->project_id != 0) {
		match_named_by_ref(x, os, it, it->project_id, m);
		return;
	}
	n = index_range_str(&x->proj_name, it->project, &first);
	for (size_t k = first; k < first + n; k++)
		match_named_by_ref(x, os, it, x->proj_name.items[k].num, m);
}

/* A deployment intent with no candidate is kept when its project is live
 * but not declared: an older API lists only declared projects'
 * deployments, so "none" may only mean "not listed". */
static bool
maybe_unlisted(const struct lookups *x, const struct observed_state *os,
    const struct intent *it)
{
	size_t first, n;

	if (it->kind != INTENT_DEPLOYMENT)
		return false;
	if (it->project_id != 0) {
		const struct index_item *p = index_find(&x->proj_id, NULL, it->project_id);

		return p != NULL && index_range_str(&x->declared,
		    os->projects[p->pos].name, &first) == 0;
	}
	n = index_range_str(&x->proj_name, it->project, &first);
	return n > 0 && index_range_str(&x->declared, it->project, &first) == 0;
}

static int
adopt(struct ledger *l, const struct lookups *x, const struct observed_state *os,
    const struct intent *it, size_t pos, int64_t *id, const char **name)
{
	const struct observed_deployment *od;
	const struct index_item *p;

	*id = 0;
	if (it->kind == INTENT_PROJECT) {
		*id = os->projects[pos].id;
		*name = NULL;
		return ledger_add_project(l, os->projects[pos].id, os->projects[pos].name);
	}
	if (it->kind == INTENT_DOMAIN) {
		/* No ledger record: a declared domain list is exact whoever
		 * made an entry (SPEC section 9). */
		*name = os->domains[pos].deployment;
		return 0;
	}
	if (it->kind == INTENT_DEPLOY_KEY) {
		*name = os->deploy_keys[pos].deployment;
		return ledger_add_deploy_key(l, os->deploy_keys[pos].deployment,
		    os->deploy_keys[pos].name);
	}
	od = &os->deployments[pos];
	p = index_find(&x->proj_id, NULL, od->project_id);
	*id = od->project_id;
	*name = od->name;
	return ledger_add_deployment(l, od->name, od->project_id,
	    p != NULL ? os->projects[p->pos].name : it->project, od->reference);
}

/* A key adopted whose secret was lost: marked for the plan (replaced),
 * its intent kept (with the deployment's name, for tie_lost_secret). */
static int
mark_lost_secret(struct intent *it, struct observed_state *os, size_t pos,
    struct intents_report *rep)
{
	struct observed_deploy_key *k = &os->deploy_keys[pos];

	k->lost_secret = true;
	it->lost_secret = true;
	rep->lost_secrets++;
	if (it->deployment == NULL) {
		if ((it->deployment = strdup(k->deployment)) == NULL)
			return -ENOMEM;
		rep->changed = true;
	}
	return 0;
}

static int
add_conflict(struct ledger *l, const struct intent *it, size_t candidates)
{
	struct ledger_conflict *p, *c;

	for (size_t i = 0; i < l->n_conflicts; i++) {
		c = &l->conflicts[i];
		if (c->kind == it->kind && strcmp(c->project, it->project) == 0 &&
		    (c->reference == NULL) == (it->reference == NULL) &&
		    (c->reference == NULL || strcmp(c->reference, it->reference) == 0))
			return 0;          /* two intents, one identity */
	}
	p = realloc(l->conflicts, (l->n_conflicts + 1) * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	l->conflicts = p;
	c = &p[l->n_conflicts];
	memset(c, 0, sizeof(*c));
	c->kind = it->kind;
	c->candidates = candidates;
	c->project = strdup(it->project);
	c->reference = it->reference != NULL ? strdup(it->reference) : NULL;
	if (c->project == NULL || (it->reference != NULL && c->reference == NULL)) {
		free(c->project);
		free(c->reference);
		return -ENOMEM;
	}
	l->n_conflicts++;
	return 0;
}

static void
clear_conflicts(struct ledger *l)
{
	for (size_t i = 0; i < l->n_conflicts; i++) {
		free(l->conflicts[i].project);
		free(l->conflicts[i].reference);
	}
	free(l->conflicts);
	l->conflicts = NULL;
	l->n_conflicts = 0;
}

enum verdict { KEEP, DROP };

static int
resolve_one(struct intent *it, const struct lookups *x,
    struct observed_state *os, struct ledger *l, int64_t now_ms,
    struct intents_report *rep, intent_event_cb cb, void *arg, enum verdict *v)
{
	struct match m = { 0 };
	const char *name;
	int64_t id;
	int rc;

	*v = DROP;
	it->lost_secret = false;
	if (now_ms - it->time_ms > INTENTS_MAX_AGE_MS) {
		rep->expired++;
		if (cb)
			cb(arg, INTENT_EXPIRED, it, 0, NULL);
		return 0;
	}
	if (it->kind == INTENT_PROJECT)
		match_projects(x, os, l, it, &m);
	else if (it->kind == INTENT_DEPLOYMENT)
		match_deployments(x, os, l, it, &m);
	else
		match_named(x, os, it, &m);

	if (m.ours) {
		rep->completed++;
		/* A key's secret was written, its ledger save perhaps not. */
		if (it->kind == INTENT_DEPLOY_KEY && (rc = ledger_add_deploy_key(l,
		    os->deploy_keys[m.ours_pos].deployment,
		    os->deploy_keys[m.ours_pos].name)) != 0)
			return rc;
	} else if (m.n >= 2) {
		if (!it->conflict)
			rep->changed = true;       /* the mark is written */
		it->conflict = true;
		rep->conflicts++;
		if (cb)
			cb(arg, INTENT_CONFLICT, it, (int64_t)m.n, NULL);
		*v = KEEP;
		return add_conflict(l, it, m.n);
	} else if (it->conflict) {
		if (cb)
			cb(arg, INTENT_CONFLICT_GONE, it, (int64_t)m.n, NULL);
	} else if (m.n == 1) {
		/* A key kept for its replacement was adopted already. */
		bool known = it->kind == INTENT_DEPLOY_KEY &&
		    ledger_find_deploy_key(l, os->deploy_keys[m.pos].deployment,
		    os->deploy_keys[m.pos].name) != NULL;

		if ((rc = adopt(l, x, os, it, m.pos, &id, &name)) != 0)
			return rc;
		if (!known) {
			rep->adopted++;
			if (cb)
				cb(arg, INTENT_ADOPTED, it, id, name);
		}
		if (it->kind == INTENT_DEPLOY_KEY) {
			/* Ours, and nobody holds its secret: replaced by the
			 * plan; the intent stays until the new one is made. */
			*v = KEEP;
			if ((rc = mark_lost_secret(it, os, m.pos, rep)) != 0)
				return rc;
			if (cb)
				cb(arg, INTENT_LOST_SECRET, it, 0, name);
		}
	} else if (m.unlisted || maybe_unlisted(x, os, it)) {
		*v = KEEP;
	} else {
		rep->unmatched++;
	}
	return 0;
}

int
intents_resolve(struct intents *in, const struct desired_state *ds,
    struct observed_state *os, struct ledger *l, int64_t now_ms,
    struct intents_report *rep, intent_event_cb cb, void *arg)
{
	struct lookups x;
	size_t w = 0, n = in->n;
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	clear_conflicts(l);
	if (n == 0)
		return 0;
	if (lookups_build(&x, ds, os) != 0)
		return -ENOMEM;
	for (size_t r = 0; r < n; r++) {
		struct intent *it = &in->items[r];
		enum verdict v = KEEP;

		if (rc == 0)
			rc = resolve_one(it, &x, os, l, now_ms, rep, cb, arg, &v);
		if (v == DROP && rc == 0) {
			intent_clear(it);
			rep->changed = true;
		} else {
			in->items[w++] = *it;
		}
	}
	in->n = w;
	rep->kept = w;
	lookups_free(&x);
	return rc;
}
