/* script.c: the scripted-answer queue of POST /_sim/script: canned answers (any status, headers, raw bytes) served in order before normal handling. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

#define SCRIPT_MAX_ENTRIES  10000
#define SCRIPT_MAX_BYTES    (64L * 1024 * 1024)
#define SCRIPT_MAX_DELAY    3600000

struct script {
	const char *route;        /* static template */
	char *path;               /* NULL: any path of the route */
	struct script_answer a;
	unsigned times;           /* left; with forever unused */
	bool forever;
	bool template_n;          /* "${n}" in the body -> serve count */
	unsigned long served;
	size_t bytes;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct script **queue;
static size_t nqueue, capqueue;
static long queued_bytes;

void
script_answer_free(struct script_answer *a)
{
	if (a == NULL)
		return;
	free(a->headers);
	free(a->body);
	a->headers = a->body = NULL;
}

static void
script_free(struct script *s)
{
	if (s == NULL)
		return;
	free(s->path);
	script_answer_free(&s->a);
	free(s);
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -EINVAL;
}

/* Standard or URL-safe base64, padding optional; -EINVAL when not base64. */
static int
b64decode(const char *in, char **out, size_t *outlen)
{
	size_t n = strlen(in), o = 0;
	unsigned acc = 0;
	int bits = 0;
	char *buf;

	while (n > 0 && in[n - 1] == '=')
		n--;
	if ((buf = malloc(n * 3 / 4 + 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)in[i]);

		if (v < 0) {
			free(buf);
			return -EINVAL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
}

static int
fail(char *why, size_t whylen, const char *msg, size_t index)
{
	snprintf(why, whylen, "responses[%zu]: %s", index, msg);
	return -EINVAL;
}

/* "Name: value\n" lines from a JSON object of strings. */
static int
parse_headers(const cJSON *h, char **out)
{
	const cJSON *it;
	size_t len = 1, off = 0;

	*out = NULL;
	if (h == NULL || cJSON_IsNull(h))
		return 0;
	if (!cJSON_IsObject(h))
		return -EINVAL;
	cJSON_ArrayForEach(it, h) {
		if (!cJSON_IsString(it) || it->string[0] == '\0' ||
		    strspn(it->string, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(it->string))
			return -EINVAL;
		for (const char *p = it->valuestring; *p; p++)
			if (*p == '\r' || *p == '\n')
				return -EINVAL;   /* no header injection */
		len += strlen(it->string) + strlen(it->valuestring) + 3;
	}
	if ((*out = malloc(len)) == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(it, h)
		off += (size_t)snprintf(*out + off, len - off, "%s: %s\n",
		    it->string, it->valuestring);
	(*out)[off] = '\0';
	return 0;
}

static bool
known_key(const char *k)
{
	static const char *const keys[] = {
		"status", "headers", "body", "bodyBase64", "times", "template",
		"drop", "act", "delayMs",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static int
get_uint(const cJSON *o, const char *key, unsigned dflt, unsigned max,
    unsigned *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = dflt;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    v->valuedouble != (double)(unsigned)v->valuedouble)
		return -EINVAL;
	*out = (unsigned)v->valuedouble;
	return 0;
}

static int
get_flag(const cJSON *o, const char *key, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = false;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return -EINVAL;
	*out = cJSON_IsTrue(v);
	return 0;
}

static int
parse_one(const cJSON *o, struct script *s, size_t idx, char *why,
    size_t whylen)
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(o, "body");
	const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(o, "bodyBase64");
	const cJSON *it;
	int rc;

	if (!cJSON_IsObject(o))
		return fail(why, whylen, "must be an object", idx);
	cJSON_ArrayForEach(it, o)
		if (!known_key(it->string))
			return fail(why, whylen, "has an unknown key", idx);
	if (get_uint(o, "status", 0, 599, &s->a.status) != 0 ||
	    get_uint(o, "times", 1, 1000000, &s->times) != 0 ||
	    get_uint(o, "delayMs", 0, SCRIPT_MAX_DELAY, &s->a.delay_ms) != 0 ||
	    get_flag(o, "template", &s->template_n) != 0 ||
	    get_flag(o, "drop", &s->a.drop) != 0 ||
	    get_flag(o, "act", &s->a.act) != 0)
		return fail(why, whylen, "status (100..599), times, delayMs are whole numbers; template, drop, act booleans", idx);
	if (!s->a.drop && s->a.status < 100)
		return fail(why, whylen, "status 100..599 is needed (or drop)", idx);
	s->forever = s->times == 0;
	if ((rc = parse_headers(cJSON_GetObjectItemCaseSensitive(o, "headers"),
	    &s->a.headers)) != 0)
		return rc == -ENOMEM ? rc : fail(why, whylen,
		    "headers: an object of strings, names of letters, digits, - and _, no CR or LF", idx);
	if (body != NULL && b64 != NULL)
		return fail(why, whylen, "give body or bodyBase64, not both", idx);
	if (body != NULL && cJSON_IsString(body)) {
		s->a.body_len = strlen(body->valuestring);
		if ((s->a.body = strdup(body->valuestring)) == NULL)
			return -ENOMEM;
	} else if (b64 != NULL && cJSON_IsString(b64)) {
		if ((rc = b64decode(b64->valuestring, &s->a.body, &s->a.body_len)) != 0)
			return rc == -ENOMEM ? rc : fail(why, whylen,
			    "bodyBase64 is not base64", idx);
	} else if ((body != NULL && !cJSON_IsNull(body)) ||
	    (b64 != NULL && !cJSON_IsNull(b64))) {
		return fail(why, whylen, "body and bodyBase64 are strings", idx);
	}
	s->bytes = sizeof(*s) + s->a.body_len +
	    (s->a.headers ? strlen(s->a.headers) : 0);
	return 0;
}

int
script_add(const cJSON *root, char *why, size_t whylen)
{
	const cJSON *route, *path, *resps, *it;
	struct script **fresh;
	size_t n, i = 0, bytes = 0;
	const char *tmpl;
	int rc = 0;

	route = cJSON_GetObjectItemCaseSensitive(root, "route");
	path = cJSON_GetObjectItemCaseSensitive(root, "path");
	resps = cJSON_GetObjectItemCaseSensitive(root, "responses");
	if (!cJSON_IsObject(root) || !cJSON_IsString(route) ||
	    (path != NULL && !cJSON_IsNull(path) && !cJSON_IsString(path)) ||
	    !cJSON_IsArray(resps) || cJSON_GetArraySize(resps) == 0) {
		snprintf(why, whylen, "needs {\"route\": TEMPLATE, \"path\"?: PATH, \"responses\": [...]}");
		return -EINVAL;
	}
	if ((tmpl = routes_template(route->valuestring)) == NULL) {
		snprintf(why, whylen, "unknown route template \"%.100s\" (as /_sim/stats names them)",
		    route->valuestring);
		return -EINVAL;
	}
	n = (size_t)cJSON_GetArraySize(resps);
	if ((fresh = calloc(n, sizeof(*fresh))) == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(it, resps) {
		if ((fresh[i] = calloc(1, sizeof(**fresh))) == NULL) {
			rc = -ENOMEM;
			break;
		}
		fresh[i]->route = tmpl;
		if (path != NULL && cJSON_IsString(path) &&
		    (fresh[i]->path = strdup(path->valuestring)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		if ((rc = parse_one(it, fresh[i], i, why, whylen)) != 0)
			break;
		bytes += fresh[i]->bytes;
		i++;
	}
	pthread_mutex_lock(&lock);
	if (rc == 0 && (nqueue + n > SCRIPT_MAX_ENTRIES ||
	    queued_bytes + (long)bytes > SCRIPT_MAX_BYTES)) {
		snprintf(why, whylen, "the queue holds at most %d answers and %ld bytes",
		    SCRIPT_MAX_ENTRIES, SCRIPT_MAX_BYTES);
		rc = -ENOSPC;
	}
	if (rc == 0 && sim_grow((void **)&queue, &capqueue, nqueue + n,
	    sizeof(*queue)) != 0)
		rc = -ENOMEM;
	if (rc == 0) {
		memcpy(queue + nqueue, fresh, n * sizeof(*fresh));
		nqueue += n;
		queued_bytes += (long)bytes;
	}
	pthread_mutex_unlock(&lock);
	if (rc != 0)
		for (size_t j = 0; j < n; j++)
			script_free(fresh[j]);
	free(fresh);
	return rc;
}

/* The body with every "${n}" replaced by count. */
static char *
substitute(const struct script_answer *a, unsigned long count, size_t *len)
{
	char num[24], *out;
	size_t nl, o = 0, hits = 0;

	nl = (size_t)snprintf(num, sizeof(num), "%lu", count);
	for (size_t i = 0; i + 4 <= a->body_len; i++)
		if (memcmp(a->body + i, "${n}", 4) == 0)
			hits++;
	if ((out = malloc(a->body_len + hits * nl + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < a->body_len;) {
		if (i + 4 <= a->body_len && memcmp(a->body + i, "${n}", 4) == 0) {
			memcpy(out + o, num, nl);
			o += nl;
			i += 4;
		} else {
			out[o++] = a->body[i++];
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

static char *
dup_bytes(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		if (n > 0)
			memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

bool
script_take(const char *route, const char *path, struct script_answer *out)
{
	bool found = false;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nqueue && !found; i++) {
		struct script *s = queue[i];

		if (strcmp(s->route, route) != 0 ||
		    (s->path != NULL && strcmp(s->path, path) != 0))
			continue;
		found = true;
		s->served++;
		*out = s->a;
		out->headers = s->a.headers ? strdup(s->a.headers) : NULL;
		out->body = NULL;
		if (s->a.body != NULL)
			out->body = s->template_n ?
			    substitute(&s->a, s->served, &out->body_len) :
			    dup_bytes(s->a.body, s->a.body_len);
		if (out->body == NULL)
			out->body_len = 0;   /* out of memory: an empty body */
		if (!s->forever && --s->times == 0) {
			queued_bytes -= (long)s->bytes;
			memmove(&queue[i], &queue[i + 1],
			    (nqueue - i - 1) * sizeof(*queue));
			nqueue--;
			script_free(s);
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

cJSON *
script_json(void)
{
	cJSON *o = cJSON_CreateObject(), *a, *e;

	if (o == NULL)
		return NULL;
	a = cJSON_AddArrayToObject(o, "entries");
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nqueue; i++) {
		const struct script *s = queue[i];

		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "route", s->route);
		if (s->path != NULL)
			cJSON_AddStringToObject(e, "path", s->path);
		else
			cJSON_AddNullToObject(e, "path");
		cJSON_AddNumberToObject(e, "status", s->a.status);
		cJSON_AddNumberToObject(e, "times", s->forever ? 0 : s->times);
		cJSON_AddNumberToObject(e, "served", (double)s->served);
		cJSON_AddBoolToObject(e, "drop", s->a.drop);
		cJSON_AddBoolToObject(e, "act", s->a.act);
		cJSON_AddNumberToObject(e, "bodyBytes", (double)s->a.body_len);
		cJSON_AddItemToArray(a, e);
	}
	cJSON_AddNumberToObject(o, "count", (double)nqueue);
	pthread_mutex_unlock(&lock);
	return o;
}

void
script_clear(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nqueue; i++)
		script_free(queue[i]);
	free(queue);
	queue = NULL;
	nqueue = capqueue = 0;
	queued_bytes = 0;
	pthread_mutex_unlock(&lock);
}
