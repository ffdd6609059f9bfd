/* saved_plan.c: the saved plan file (saved_plan.h): building its JSON,
 * sealing and writing it atomically, reading it back with every check a
 * hostile or damaged file calls for, and explaining how a new plan
 * differs from it. */
#include "saved_plan.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "atomicfile.h"
#include "jsonint.h"
#include "plan_print.h"
#include "readfile.h"
#include "secrets.h"
#include "textesc.h"

/* The file ends: MARKER, 64 hex digits, TAIL. */
#define MARKER SAVED_PLAN_SEAL_HEAD
#define TAIL SAVED_PLAN_SEAL_TAIL
#define SEAL_LABEL "convex-provisioner saved plan seal v1"

/* Lines of a difference shown at most, each way. */
#define EXPLAIN_MAX_LINES 40

void
saved_plan_seal(const char *text, size_t len, const struct plan_digest_key *key,
    char out[SHA256_HEX_LEN])
{
	struct hmac_sha256 h;
	unsigned char d[SHA256_LEN];

	hmac_sha256_init(&h, key->k, sizeof(key->k));
	hmac_sha256_update(&h, SEAL_LABEL, sizeof(SEAL_LABEL));
	hmac_sha256_update(&h, text, len);
	hmac_sha256_final(&h, d);
	sha256_to_hex(d, sizeof(d), out);
}

/* ---- lines of the text plan --------------------------------------------- */

static void
free_lines(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/* The item lines of plan_print_text (no colour, no summary). */
static int
plan_lines(const struct plan *p, char ***out, size_t *n)
{
	struct buf b;
	char **lines = NULL;
	size_t count = 0, k = 0;
	int rc;

	*out = NULL;
	*n = 0;
	buf_init(&b, 256u << 20);
	if ((rc = plan_print_text(p, NULL, PLAN_PRINT_ITEMS, &b)) != 0) {
		buf_free(&b);
		return rc;
	}
	for (size_t i = 0; i < b.len; i++)
		count += b.data[i] == '\n';
	if (count > 0 && (lines = calloc(count, sizeof(*lines))) == NULL)
		rc = -ENOMEM;
	for (size_t i = 0, s = 0; rc == 0 && i < b.len; i++) {
		if (b.data[i] != '\n')
			continue;
		if ((lines[k] = strndup(b.data + s, i - s)) == NULL)
			rc = -ENOMEM;
		else
			k++;
		s = i + 1;
	}
	buf_free(&b);
	if (rc != 0) {
		free_lines(lines, k);
		return rc;
	}
	*out = lines;
	*n = k;
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

static bool
add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v != NULL ? v : "") != NULL;
}

static cJSON *
build(const struct saved_plan_input *in)
{
	cJSON *root = cJSON_CreateObject(), *set, *des, *files, *obs, *lines, *pj;
	char created[32], url[1024];
	time_t secs = (time_t)(in->now_ms / 1000);
	struct tm tm;
	char **text = NULL;
	size_t n_text = 0;
	bool ok;

	gmtime_r(&secs, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (root == NULL || plan_lines(in->plan, &text, &n_text) != 0) {
		cJSON_Delete(root);
		return NULL;
	}
	ok = add_str(root, "format", SAVED_PLAN_FORMAT) &&
	    cJSON_AddNumberToObject(root, "version", SAVED_PLAN_VERSION) &&
	    add_str(root, "tool", "convex-provisioner " CP_VERSION) &&
	    add_str(root, "created", created) &&
	    add_str(root, "api_url", secrets_url_redact(in->api_url, url, sizeof(url))) &&
	    jsonint_add(root, "team_id", in->team_id) &&
	    (set = cJSON_AddObjectToObject(root, "settings")) != NULL &&
	    add_str(set, "prune", prune_mode_name(in->settings->prune)) &&
	    jsonint_add(set, "max_deletes", in->settings->max_deletes) &&
	    cJSON_AddBoolToObject(set, "allow_empty", in->settings->allow_empty) &&
	    add_str(set, "drift", drift_mode_name(in->settings->drift)) &&
	    (des = cJSON_AddObjectToObject(root, "desired")) != NULL &&
	    add_str(des, "path", in->desired_path) &&
	    (files = cJSON_AddArrayToObject(des, "files")) != NULL;
	for (size_t i = 0; ok && i < in->desired->n_files; i++) {
		cJSON *f = cJSON_CreateObject();

		if (f == NULL || !cJSON_AddItemToArray(files, f)) {
			cJSON_Delete(f);
			ok = false;
			break;
		}
		ok = add_str(f, "path", in->desired->files[i].path) &&
		    add_str(f, "digest", in->desired->files[i].hex);
	}
	ok = ok && add_str(des, "values", in->desired->values) &&
	    add_str(des, "digest", in->desired->all) &&
	    (obs = cJSON_AddObjectToObject(root, "observed")) != NULL &&
	    add_str(obs, "digest", in->observed) &&
	    add_str(root, "plan_digest", in->plan_digest) &&
	    (lines = cJSON_AddArrayToObject(root, "lines")) != NULL;
	for (size_t i = 0; ok && i < n_text; i++) {
		cJSON *s = cJSON_CreateString(text[i]);

		ok = s != NULL && cJSON_AddItemToArray(lines, s);
		if (!ok)
			cJSON_Delete(s);
	}
	free_lines(text, n_text);
	if (ok && ((pj = plan_to_cjson(in->plan, NULL)) == NULL ||
	    !cJSON_AddItemToObject(root, "plan", pj))) {
		cJSON_Delete(pj);
		ok = false;
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int
saved_plan_write(const char *path, const struct saved_plan_input *in,
    const struct plan_digest_key *key, char *err, size_t errlen)
{
	cJSON *root = build(in);
	char *text = NULL, *clean = NULL, seal[SHA256_HEX_LEN];
	struct buf b;
	size_t len;
	int rc = -ENOMEM;

	buf_init(&b, SAVED_PLAN_MAX_BYTES);
	if (root == NULL || (text = cJSON_Print(root)) == NULL ||
	    (clean = textesc_json_clean(text)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	/* cJSON_Print ends the object with "\n}": the seal goes before it. */
	len = strlen(clean);
	if (len < 2 || strcmp(clean + len - 2, "\n}") != 0) {
		rc = -EPROTO;
		snprintf(err, errlen, "internal error: unexpected JSON layout");
		goto out;
	}
	len -= 2;
	saved_plan_seal(clean, len, key, seal);
	if ((rc = buf_append(&b, clean, len)) || (rc = buf_append(&b, MARKER, strlen(MARKER))) ||
	    (rc = buf_append(&b, seal, strlen(seal))) || (rc = buf_append(&b, TAIL, strlen(TAIL)))) {
		snprintf(err, errlen, "%s", rc == -E2BIG ? "the plan is too large to save" :
		    "out of memory");
		goto out;
	}
	rc = atomicfile_write(path, b.data, b.len, err, errlen);
out:
	free(clean);
	cJSON_free(text);
	cJSON_Delete(root);
	buf_free(&b);
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

static bool
is_hex64(const char *s)
{
	return s != NULL && strlen(s) == SHA256_HEX_LEN - 1 &&
	    strspn(s, "0123456789abcdef") == SHA256_HEX_LEN - 1;
}

static const char *
get_str(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static char *
dup_str(const cJSON *o, const char *k, bool *ok)
{
	const char *s = get_str(o, k);
	char *d;

	if (s == NULL) {
		*ok = false;
		return NULL;
	}
	if ((d = strdup(s)) == NULL)
		*ok = false;
	return d;
}

static bool
get_hex(const cJSON *o, const char *k, char out[SHA256_HEX_LEN])
{
	const char *s = get_str(o, k);

	if (!is_hex64(s))
		return false;
	memcpy(out, s, SHA256_HEX_LEN);
	return true;
}

static bool
get_int(const cJSON *o, const char *k, int64_t min, int64_t max, int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	return it != NULL && jsonint_get(it, out) == 0 && *out >= min && *out <= max;
}

static bool
read_settings(const cJSON *set, struct plan_settings *ps)
{
	const cJSON *ae = cJSON_GetObjectItemCaseSensitive(set, "allow_empty");
	const char *prune = get_str(set, "prune"), *drift = get_str(set, "drift");
	int64_t md;

	if (!cJSON_IsObject(set) || prune == NULL || drift == NULL ||
	    prune_mode_parse(prune, &ps->prune) != 0 ||
	    drift_mode_parse(drift, &ps->drift) != 0 || !cJSON_IsBool(ae) ||
	    !get_int(set, "max_deletes", 0, UINT32_MAX, &md))
		return false;
	ps->allow_empty = cJSON_IsTrue(ae);
	ps->max_deletes = (unsigned)md;
	return true;
}

static bool
read_desired(const cJSON *des, struct plan_digest_desired *d, char **path)
{
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(des, "files"), *f;
	bool ok = true;
	size_t n;

	if (!cJSON_IsObject(des) || !cJSON_IsArray(files))
		return false;
	*path = dup_str(des, "path", &ok);
	if (!ok || !get_hex(des, "values", d->values) || !get_hex(des, "digest", d->all))
		return false;
	n = (size_t)cJSON_GetArraySize(files);
	if (n > 0 && (d->files = calloc(n, sizeof(*d->files))) == NULL)
		return false;
	cJSON_ArrayForEach(f, files) {
		struct plan_digest_file *df = &d->files[d->n_files];

		if (!cJSON_IsObject(f) || !get_hex(f, "digest", df->hex))
			return false;
		if ((df->path = dup_str(f, "path", &ok)) == NULL || !ok)
			return false;
		d->n_files++;
	}
	return true;
}

static bool
read_lines(const cJSON *arr, struct saved_plan *sp)
{
	const cJSON *it;
	size_t n;

	if (!cJSON_IsArray(arr))
		return false;
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > 0 && (sp->lines = calloc(n, sizeof(*sp->lines))) == NULL)
		return false;
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) ||
		    (sp->lines[sp->n_lines] = strdup(it->valuestring)) == NULL)
			return false;
		sp->n_lines++;
	}
	return true;
}

/* The seal: the file ends MARKER HEX TAIL, and HEX is the HMAC of every
 * byte before MARKER. */
static int
check_seal(const char *text, size_t len, const char *json_seal,
    const struct plan_digest_key *key, char *err, size_t errlen)
{
	size_t ml = strlen(MARKER), tl = strlen(TAIL), hl = SHA256_HEX_LEN - 1;
	char want[SHA256_HEX_LEN], got[SHA256_HEX_LEN];
	size_t at;

	if (len < ml + hl + tl || memcmp(text + len - tl, TAIL, tl) != 0 ||
	    memcmp(text + len - tl - hl - ml, MARKER, ml) != 0) {
		snprintf(err, errlen, "its seal is not where this program puts it "
		    "(the file was reformatted or edited)");
		return -EKEYREJECTED;
	}
	at = len - tl - hl - ml;
	memcpy(got, text + at + ml, hl);
	got[hl] = '\0';
	saved_plan_seal(text, at, key, want);
	if (!is_hex64(got) || json_seal == NULL || strcmp(got, json_seal) != 0 ||
	    !plan_digest_equal(got, want)) {
		snprintf(err, errlen, "its seal does not match: it was edited after "
		    "it was saved, or saved with another API token");
		return -EKEYREJECTED;
	}
	return 0;
}

int
saved_plan_parse(const char *text, size_t len, const struct plan_digest_key *key,
    struct saved_plan *out, char *err, size_t errlen)
{
	char perr[200];
	cJSON *root;
	const char *format;
	int64_t version;
	bool ok = true;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((root = jsonint_parse(text, len, perr, sizeof(perr))) == NULL) {
		snprintf(err, errlen, "not a saved plan: %s (truncated or damaged?)", perr);
		return -EBADMSG;
	}
	format = get_str(root, "format");
	if (!cJSON_IsObject(root) || format == NULL ||
	    strcmp(format, SAVED_PLAN_FORMAT) != 0) {
		snprintf(err, errlen, "not a saved plan (no \"format\": \"%s\")",
		    SAVED_PLAN_FORMAT);
		cJSON_Delete(root);
		return -EBADMSG;
	}
	if (!get_int(root, "version", INT32_MIN, INT32_MAX, &version)) {
		snprintf(err, errlen, "not a saved plan: no version");
		cJSON_Delete(root);
		return -EBADMSG;
	}
	if (version != SAVED_PLAN_VERSION) {
		snprintf(err, errlen, "a saved plan of format version %lld: this "
		    "program (%s) reads version %d; plan again with it",
		    (long long)version, CP_VERSION, SAVED_PLAN_VERSION);
		cJSON_Delete(root);
		return -EPROTONOSUPPORT;
	}
	if ((rc = check_seal(text, len, get_str(root, "seal"), key, err, errlen)) != 0) {
		cJSON_Delete(root);
		return rc;
	}
	out->version = (int)version;
	out->created = dup_str(root, "created", &ok);
	out->tool = dup_str(root, "tool", &ok);
	out->api_url = dup_str(root, "api_url", &ok);
	ok = ok && get_int(root, "team_id", 1, INT64_MAX, &out->team_id) &&
	    read_settings(cJSON_GetObjectItemCaseSensitive(root, "settings"), &out->settings) &&
	    read_desired(cJSON_GetObjectItemCaseSensitive(root, "desired"), &out->desired,
	    &out->desired_path) &&
	    get_hex(cJSON_GetObjectItemCaseSensitive(root, "observed"), "digest",
	    out->observed) &&
	    get_hex(root, "plan_digest", out->plan_digest) &&
	    read_lines(cJSON_GetObjectItemCaseSensitive(root, "lines"), out);
	cJSON_Delete(root);
	if (!ok) {
		/* Sealed, so written by a program of this format version that
		 * would not leave a field out: memory ran out, or a bug. */
		snprintf(err, errlen, "not a saved plan: a field is missing or "
		    "malformed (or out of memory)");
		saved_plan_free(out);
		return -EBADMSG;
	}
	return 0;
}

int
saved_plan_read(const char *path, const struct plan_digest_key *key,
    struct saved_plan *out, char *err, size_t errlen)
{
	char rerr[200];
	char *text;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = readfile(path, SAVED_PLAN_MAX_BYTES, &text, &len, rerr,
	    sizeof(rerr))) != 0) {
		snprintf(err, errlen, "%s", rerr);
		return rc;
	}
	rc = saved_plan_parse(text, len, key, out, err, errlen);
	free(text);
	return rc;
}

void
saved_plan_free(struct saved_plan *sp)
{
	if (sp == NULL)
		return;
	free(sp->created);
	free(sp->tool);
	free(sp->api_url);
	free(sp->desired_path);
	plan_digest_desired_free(&sp->desired);
	free_lines(sp->lines, sp->n_lines);
	memset(sp, 0, sizeof(*sp));
}

/* ---- comparing ----------------------------------------------------------- */

int
saved_plan_check_settings(const struct saved_plan *sp, const char *api_url,
    int64_t team_id, const struct plan_settings *ps, char *err, size_t errlen)
{
	const struct plan_settings *was = &sp->settings;
	char url[1024];
	size_t n = 0;
	int bad = 0;

#define SAY(...) do { \
		if (n < errlen) \
			n += (size_t)snprintf(err + n, errlen - n, __VA_ARGS__); \
		bad++; \
	} while (0)
	err[0] = '\0';
	secrets_url_redact(api_url, url, sizeof(url));
	if (strcmp(url, sp->api_url) != 0)
		SAY("%sthe API URL is %s, the plan was made with %s", bad ? "; " : "",
		    url, sp->api_url);
	if (team_id != 0 && team_id != sp->team_id)
		SAY("%sthe team is %lld, the plan was made for team %lld",
		    bad ? "; " : "", (long long)team_id, (long long)sp->team_id);
	if (ps->prune != was->prune)
		SAY("%sprune is %s, the plan was made with %s", bad ? "; " : "",
		    prune_mode_name(ps->prune), prune_mode_name(was->prune));
	if (ps->max_deletes != was->max_deletes)
		SAY("%smax_deletes is %u, the plan was made with %u", bad ? "; " : "",
		    ps->max_deletes, was->max_deletes);
	if (ps->allow_empty != was->allow_empty)
		SAY("%sallow_empty is %s, the plan was made with %s", bad ? "; " : "",
		    ps->allow_empty ? "true" : "false", was->allow_empty ? "true" : "false");
	if (ps->drift != was->drift)
		SAY("%sdrift is %s, the plan was made with %s", bad ? "; " : "",
		    drift_mode_name(ps->drift), drift_mode_name(was->drift));
#undef SAY
	return bad ? -EINVAL : 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines of `a` not matched one for one in `b` (both sorted), each shown
 * with `label`, at most EXPLAIN_MAX_LINES. */
static int
put_missing(struct buf *out, char **a, size_t na, char **b, size_t nb,
    const char *label)
{
	size_t i = 0, j = 0, shown = 0, more = 0;
	int rc = 0, c;

	while (i < na && rc == 0) {
		c = j < nb ? strcmp(a[i], b[j]) : -1;
		if (c == 0) {
			i++;
			j++;
		} else if (c > 0) {
			j++;
		} else {
			if (shown < EXPLAIN_MAX_LINES) {
				rc = buf_appendf(out, "  %s: %s\n", label, a[i]);
				shown++;
			} else {
				more++;
			}
			i++;
		}
	}
	if (rc == 0 && more > 0)
		rc = buf_appendf(out, "  ... and %zu more %s\n", more, label);
	return rc;
}

static const struct plan_digest_file *
find_file(const struct plan_digest_desired *d, const char *path)
{
	for (size_t i = 0; i < d->n_files; i++)
		if (strcmp(d->files[i].path, path) == 0)
			return &d->files[i];
	return NULL;
}

int
saved_plan_explain(const struct saved_plan *sp,
    const struct plan_digest_desired *desired, const char *observed,
    const struct plan *plan, struct buf *out)
{
	const struct plan_digest_desired *was = &sp->desired;
	char **now = NULL, **then = NULL;
	size_t n_now = 0;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < was->n_files; i++) {
		const struct plan_digest_file *f = find_file(desired, was->files[i].path);

		if (f == NULL)
			rc = buf_appendf(out, "  file removed: %s\n", was->files[i].path);
		else if (strcmp(f->hex, was->files[i].hex) != 0)
			rc = buf_appendf(out, "  file changed: %s\n", f->path);
	}
	for (size_t i = 0; rc == 0 && i < desired->n_files; i++)
		if (find_file(was, desired->files[i].path) == NULL)
			rc = buf_appendf(out, "  file added: %s\n", desired->files[i].path);
	if (rc == 0 && strcmp(was->values, desired->values) != 0)
		rc = buf_appendf(out, "  env values changed (in the files, or read "
		    "from a {file:} or {env:} source)\n");
	if (rc == 0 && strcmp(sp->observed, observed) != 0)
		rc = buf_appendf(out, "  the team changed since the plan was made "
		    "(%s)\n", sp->created);
	if (rc != 0)
		return rc;
	if ((rc = plan_lines(plan, &now, &n_now)) != 0)
		return rc;
	if (sp->n_lines > 0 && (then = malloc(sp->n_lines * sizeof(*then))) == NULL) {
		free_lines(now, n_now);
		return -ENOMEM;
	}
	if (sp->n_lines > 0)
		memcpy(then, sp->lines, sp->n_lines * sizeof(*then));
	if (n_now > 0)
		qsort(now, n_now, sizeof(*now), cmp_str);
	if (sp->n_lines > 0)
		qsort(then, sp->n_lines, sizeof(*then), cmp_str);
	rc = put_missing(out, then, sp->n_lines, now, n_now, "no longer in the plan");
	if (rc == 0)
		rc = put_missing(out, now, n_now, then, sp->n_lines, "new in the plan");
	free(then);
	free_lines(now, n_now);
	return rc;
}
