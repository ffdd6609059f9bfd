/* settings.c: the settings table and its loader. Every value, whatever its
 * source, goes through the row's parser: defaults first, then the file,
 * the environment and the flags, each overriding the one before, so the
 * precedence is the order of the passes and nothing else. */
#include "settings.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cdefs.h"
#include "diag.h"
#include "loopback.h"
#include "nametab.h"
#include "secrets.h"
#include "ytree.h"

#define MS_SEC ((uint64_t)1000)
#define MS_MIN (60 * MS_SEC)
#define MS_HOUR (60 * MS_MIN)

#define FIELD(s, r, type) ((type *)(void *)((char *)(s) + (r)->off))

/* ---- strict parsers ----------------------------------------------------- */

/* Decimal digits only: no sign, no space, no 0x; -ERANGE past max. */
static int
parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
settings_parse_duration(const char *s, uint64_t *ms)
{
	size_t n = strlen(s);
	uint64_t unit = MS_SEC, v;
	int rc;

	if (n > 0 && s[n - 1] == 's')
		n--;
	else if (n > 0 && s[n - 1] == 'm') {
		unit = MS_MIN;
		n--;
	} else if (n > 0 && s[n - 1] == 'h') {
		unit = MS_HOUR;
		n--;
	}
	if ((rc = parse_u64(s, n, UINT64_MAX / unit, &v)) != 0)
		return rc;
	*ms = v * unit;
	return 0;
}

int
settings_parse_percent(const char *s, unsigned *pct)
{
	size_t n = strlen(s);
	uint64_t v;
	int rc;

	if (n < 2 || s[n - 1] != '%')
		return -EINVAL;
	if ((rc = parse_u64(s, n - 1, UINT_MAX, &v)) != 0)
		return rc;
	*pct = (unsigned)v;
	return 0;
}

/* "1h", "90s", "1500ms": the largest unit that divides exactly. */
static void
fmt_duration(char *buf, size_t len, uint64_t ms)
{
	if (ms != 0 && ms % MS_HOUR == 0)
		snprintf(buf, len, "%" PRIu64 "h", ms / MS_HOUR);
	else if (ms != 0 && ms % MS_MIN == 0)
		snprintf(buf, len, "%" PRIu64 "m", ms / MS_MIN);
	else if (ms % MS_SEC == 0)
		snprintf(buf, len, "%" PRIu64 "s", ms / MS_SEC);
	else
		snprintf(buf, len, "%" PRIu64 "ms", ms);
}

static const char *
q(char *buf, size_t len, const char *s)
{
	return diag_quote(buf, len, s, strlen(s));
}

/* ---- row parsers -------------------------------------------------------- */

static int
set_string(const struct settings_row *r, struct settings *s, const char *v)
{
	char **f = FIELD(s, r, char *), *copy;

	if ((copy = strdup(v)) == NULL)
		return -ENOMEM;
	free(*f);
	*f = copy;
	return 0;
}

/* A URL quoted for a message, without the password of its userinfo:
 * "http://admin:SECRET@host" is shown as "http://admin:***@host". */
static const char *
qurl(char *buf, size_t len, const char *url)
{
	char red[1024];

	return q(buf, len, secrets_url_redact(url, red, sizeof(red)));
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int
p_path(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];

	if (*v == '\0') {
		snprintf(err, len, "an empty path");
		return -EINVAL;
	}
	if (has_control(v)) {
		snprintf(err, len, "invalid path %s (control characters)",
		    q(b, sizeof(b), v));
		return -EINVAL;
	}
	return set_string(r, s, v);
}

/* A plain http:// base is refused unless the host is loopback, so the
 * token never crosses a network in clear text. */
static int
p_url(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX], *copy;
	const char *host, *end;
	size_t n;
	bool https;

	if (strncmp(v, "https://", 8) == 0) {
		https = true;
		host = v + 8;
	} else if (strncmp(v, "http://", 7) == 0) {
		https = false;
		host = v + 7;
	} else {
		snprintf(err, len, "invalid URL %s (expected https://HOST[:PORT]"
		    "[/PATH])", qurl(b, sizeof(b), v));
		return -EINVAL;
	}
	for (const char *p = v; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '@' ||
		    *p == '?' || *p == '#') {
			snprintf(err, len, "invalid URL %s (no spaces, user names, "
			    "queries or fragments)", qurl(b, sizeof(b), v));
			return -EINVAL;
		}
	}
	end = strchr(host, '/');
	n = end ? (size_t)(end - host) : strlen(host);
	/* Drop the port: the last ':' after any IPv6 brackets. */
	{
		const char *close = memchr(host, ']', n);
		const char *from = close ? close : host;
		const char *colon = memchr(from, ':', n - (size_t)(from - host));
		size_t hn = colon ? (size_t)(colon - host) : n;

		if (hn == 0) {
			snprintf(err, len, "invalid URL %s (no host)",
			    qurl(b, sizeof(b), v));
			return -EINVAL;
		}
		if (!https && !loopback_host(host, hn)) {
			snprintf(err, len, "plain http:// is only allowed to a "
			    "loopback host (127.0.0.0/8, ::1, localhost), not %s; "
			    "use https://", qurl(b, sizeof(b), v));
			return -EINVAL;
		}
	}
	if ((copy = strdup(v)) == NULL)
		return -ENOMEM;
	n = strlen(copy);
	while (n > 0 && copy[n - 1] == '/')
		copy[--n] = '\0';
	free(*FIELD(s, r, char *));
	*FIELD(s, r, char *) = copy;
	return 0;
}

static int
p_team(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];
	uint64_t id;

	if (parse_u64(v, strlen(v), INT64_MAX, &id) != 0 || id == 0) {
		snprintf(err, len, "invalid team id %s (expected a positive "
		    "integer)", q(b, sizeof(b), v));
		return -EINVAL;
	}
	*FIELD(s, r, int64_t) = (int64_t)id;
	return 0;
}

static int
p_duration(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX], lo[32], hi[32];
	uint64_t ms;
	int rc;

	rc = settings_parse_duration(v, &ms);
	if (rc == 0 && ms >= (uint64_t)r->min && ms <= (uint64_t)r->max) {
		*FIELD(s, r, uint64_t) = ms;
		return 0;
	}
	fmt_duration(lo, sizeof(lo), (uint64_t)r->min);
	fmt_duration(hi, sizeof(hi), (uint64_t)r->max);
	if (rc == -EINVAL)
		snprintf(err, len, "invalid duration %s (expected seconds, or a "
		    "number followed by s, m or h: 90, 30s, 5m, 1h)",
		    q(b, sizeof(b), v));
	else
		snprintf(err, len, "duration %s is out of range (%s to %s)",
		    q(b, sizeof(b), v), lo, hi);
	return -EINVAL;
}

static int
p_percent(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];
	unsigned pct;
	int rc;

	rc = settings_parse_percent(v, &pct);
	if (rc == 0 && pct >= r->min && pct <= r->max) {
		*FIELD(s, r, unsigned) = pct;
		return 0;
	}
	if (rc == -EINVAL)
		snprintf(err, len, "invalid percentage %s (expected a whole "
		    "number followed by %%, such as 10%%)", q(b, sizeof(b), v));
	else
		snprintf(err, len, "percentage %s is out of range (%" PRId64
		    "%% to %" PRId64 "%%)", q(b, sizeof(b), v), r->min, r->max);
	return -EINVAL;
}

static int
p_uint(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];
	uint64_t n;
	int rc;

	rc = parse_u64(v, strlen(v), UINT_MAX, &n);
	if (rc == 0 && n >= (uint64_t)r->min && n <= (uint64_t)r->max) {
		*FIELD(s, r, unsigned) = (unsigned)n;
		return 0;
	}
	if (rc == -EINVAL)
		snprintf(err, len, "invalid number %s (expected a whole number "
		    "from %" PRId64 " to %" PRId64 ")", q(b, sizeof(b), v),
		    r->min, r->max);
	else
		snprintf(err, len, "%s is out of range (%" PRId64 " to %" PRId64
		    ")", q(b, sizeof(b), v), r->min, r->max);
	return -EINVAL;
}

static int
p_bool(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];

	if (strcmp(v, "true") == 0)
		*FIELD(s, r, bool) = true;
	else if (strcmp(v, "false") == 0)
		*FIELD(s, r, bool) = false;
	else {
		snprintf(err, len, "invalid value %s (expected true or false)",
		    q(b, sizeof(b), v));
		return -EINVAL;
	}
	return 0;
}

static int
p_prune(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];

	if (prune_mode_parse(v, FIELD(s, r, enum prune_mode)) != 0) {
		snprintf(err, len, "invalid prune mode %s (expected none, owned or "
		    "all)", q(b, sizeof(b), v));
		return -EINVAL;
	}
	return 0;
}

const char *
settings_follow_name(enum desired_follow f)
{
	return f == FOLLOW_POLL ? "poll" : "watch";
}

static int
p_follow(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];

	if (strcmp(v, "watch") == 0)
		*FIELD(s, r, enum desired_follow) = FOLLOW_WATCH;
	else if (strcmp(v, "poll") == 0)
		*FIELD(s, r, enum desired_follow) = FOLLOW_POLL;
	else {
		snprintf(err, len, "invalid follow mode %s (expected watch or "
		    "poll)", q(b, sizeof(b), v));
		return -EINVAL;
	}
	return 0;
}

static int
p_drift(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];

	if (drift_mode_parse(v, FIELD(s, r, enum drift_mode)) != 0) {
		snprintf(err, len, "invalid drift mode %s (expected correct or "
		    "report)", q(b, sizeof(b), v));
		return -EINVAL;
	}
	return 0;
}

static int
p_log_level(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];

	if (log_level_parse(v, FIELD(s, r, enum log_level)) != 0) {
		snprintf(err, len, "invalid log level %s (expected error, warn, "
		    "info or debug)", q(b, sizeof(b), v));
		return -EINVAL;
	}
	return 0;
}

static int
p_log_format(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];

	if (log_format_parse(v, FIELD(s, r, enum log_format)) != 0) {
		snprintf(err, len, "invalid log format %s (expected text or json)",
		    q(b, sizeof(b), v));
		return -EINVAL;
	}
	return 0;
}

static const char *const format_names[] = {
	[FORMAT_DEFAULT] = "default", [FORMAT_TEXT] = "text",
	[FORMAT_JSON] = "json", [FORMAT_MARKDOWN] = "markdown",
};

const char *
settings_format_name(enum output_format f)
{
	return nametab_name(format_names, CP_NELEM(format_names), (unsigned)f);
}

static int
p_format(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];
	int f = nametab_find(format_names, CP_NELEM(format_names), v);

	if (f <= FORMAT_DEFAULT) {   /* "default" is not a format to ask for */
		snprintf(err, len, "invalid format %s (expected text, json or "
		    "markdown)", q(b, sizeof(b), v));
		return -EINVAL;
	}
	*FIELD(s, r, enum output_format) = (enum output_format)f;
	return 0;
}

int
settings_output_format(const struct settings *s, enum output_format *out)
{
	if (s->format == FORMAT_DEFAULT) {
		*out = s->json ? FORMAT_JSON : FORMAT_TEXT;
		return 0;
	}
	if (s->json && s->format != FORMAT_JSON)
		return -EINVAL;
	*out = s->format;
	return 0;
}

/* HOST:PORT, [V6]:PORT, or "" (disabled). */
static int
p_listen(const struct settings_row *r, const char *v, struct settings *s,
    char *err, size_t len)
{
	char b[DIAG_QUOTE_MAX];
	const char *colon = strrchr(v, ':');
	uint64_t port;
	bool ok;

	if (*v == '\0')
		return set_string(r, s, v);
	ok = colon != NULL && colon != v && !has_control(v) &&
	    strchr(v, ' ') == NULL &&
	    parse_u64(colon + 1, strlen(colon + 1), 65535, &port) == 0;
	if (ok && v[0] == '[')
		ok = colon[-1] == ']' && colon - v > 2;
	else if (ok)
		ok = memchr(v, ':', (size_t)(colon - v)) == NULL;
	if (!ok) {
		snprintf(err, len, "invalid address %s (expected HOST:PORT, "
		    "[IPV6]:PORT, or \"\" to disable)", q(b, sizeof(b), v));
		return -EINVAL;
	}
	return set_string(r, s, v);
}

/* ---- the table ---------------------------------------------------------- */

#define OFF(f) offsetof(struct settings, f)

static const struct settings_row rows[] = {
	{ "api_url", "api-url", "CONVEX_PROVISION_HOST",
	  "https://api.convex.dev/v1", NULL, "URL",
	  "Management API base (the environment variable gives a host; /v1 is "
	  "appended)", p_url, OFF(api_url), 0, 0, SETTINGS_ENV_HOST },
	{ "team_id", "team", "CONVEX_TEAM_ID", NULL,
	  "discovered with GET /token_details", "ID", "team to manage",
	  p_team, OFF(team_id), 0, 0, SETTINGS_PLAIN },
	{ "token_file", "token-file", NULL, NULL,
	  "$CREDENTIALS_DIRECTORY/convex-token, then $CONVEX_ACCESS_TOKEN",
	  "FILE", "file holding the API token (mode 0600 or stricter)",
	  p_path, OFF(token_file), 0, 0, SETTINGS_PLAIN },
	{ "desired", "desired", NULL, "/etc/convex-provisioner/desired", NULL,
	  "PATH", "desired-state file or directory", p_path, OFF(desired), 0, 0,
	  SETTINGS_PLAIN },
	{ "follow", "follow", NULL, "watch", NULL, "MODE",
	  "how run sees changes to the desired files: watch (inotify, and a "
	  "check before every reconcile) or poll (the check only)", p_follow,
	  OFF(follow), 0, 0, SETTINGS_PLAIN },
	{ "interval", "interval", NULL, "60s", NULL, "DURATION",
	  "time between reconciles (90, 30s, 5m, 1h)", p_duration,
	  OFF(interval_ms), (int64_t)MS_SEC, (int64_t)(24 * MS_HOUR), SETTINGS_PLAIN },
	{ "jitter", NULL, NULL, "10%", NULL, "PERCENT",
	  "random spread added to each interval", p_percent, OFF(jitter_pct),
	  0, 100, SETTINGS_PLAIN },
	{ "concurrency", "concurrency", NULL, "8", NULL, "N",
	  "API requests in flight at most", p_uint, OFF(concurrency), 1, 256,
	  SETTINGS_PLAIN },
	{ "request_timeout", NULL, NULL, "30s", NULL, "DURATION",
	  "time limit of one API request (connecting: 10s)", p_duration,
	  OFF(request_timeout_ms), (int64_t)MS_SEC, (int64_t)MS_HOUR, SETTINGS_PLAIN },
	{ "prune", "prune", NULL, "none", NULL, "MODE",
	  "undeclared resources: none (keep), owned (delete what this tool "
	  "created) or all", p_prune, OFF(prune), 0, 0, SETTINGS_PLAIN },
	{ "max_deletes", "max-deletes", NULL, "10", NULL, "N",
	  "deletes allowed in one reconcile", p_uint, OFF(max_deletes), 0,
	  100000, SETTINGS_PLAIN },
	{ "allow_empty", "allow-empty", NULL, "false", NULL, NULL,
	  "allow pruning when nothing is declared", p_bool, OFF(allow_empty),
	  0, 0, SETTINGS_BOOL },
	{ "drift", "drift", NULL, "correct", NULL, "MODE",
	  "attribute differences: correct (update in place, rename) or report "
	  "(only show them)", p_drift, OFF(drift), 0, 0, SETTINGS_PLAIN },
	{ "state_dir", "state-dir", NULL, "/var/lib/convex-provisioner", NULL,
	  "DIR", "ledger, lock and journal of actions", p_path, OFF(state_dir),
	  0, 0, SETTINGS_PLAIN },
	{ "keys_dir", "keys-dir", NULL, NULL, "state_dir/keys", "DIR",
	  "secret files of the deploy keys this tool creates (0600, in folders "
	  "0700)", p_path, OFF(keys_dir), 0, 0, SETTINGS_PLAIN },
	{ "listen", "listen", NULL, "127.0.0.1:9464", NULL, "ADDR",
	  "status and metrics endpoint of run (\"\" disables)", p_listen,
	  OFF(listen), 0, 0, SETTINGS_PLAIN },
	{ "log_level", "log-level", NULL, "info", NULL, "LEVEL",
	  "error, warn, info or debug", p_log_level, OFF(log_level), 0, 0,
	  SETTINGS_PLAIN },
	{ "log_format", "log-format", NULL, "text", NULL, "FORMAT",
	  "text or json", p_log_format, OFF(log_format), 0, 0, SETTINGS_PLAIN },
	{ "ca_file", "ca-file", NULL, NULL, "the system store", "FILE",
	  "extra CA bundle for TLS", p_path, OFF(ca_file), 0, 0,
	  SETTINGS_PLAIN },
	{ NULL, "json", NULL, "false", NULL, NULL,
	  "plan and apply print one JSON object on stdout", p_bool, OFF(json),
	  0, 0, SETTINGS_BOOL },
	{ NULL, "format", NULL, NULL, "text (json with --json)", "FORMAT",
	  "how plan, apply and show print: text, json, or markdown (plan only: "
	  "a pull-request comment)", p_format, OFF(format), 0, 0, SETTINGS_PLAIN },
	{ NULL, "out", NULL, NULL, "not saved", "FILE",
	  "plan: also save the plan to FILE (0600, no secrets) for a later "
	  "`apply FILE`", p_path, OFF(out), 0, 0, SETTINGS_PLAIN },
	{ NULL, "strict", NULL, "false", NULL, NULL,
	  "validate: an env value whose {file:} or {env:} cannot be read is an "
	  "error, not a warning", p_bool, OFF(strict), 0, 0, SETTINGS_BOOL },
};

#define N_ROWS CP_NELEM(rows)

const struct settings_row *
settings_rows(size_t *n)
{
	*n = N_ROWS;
	return rows;
}

/* ---- applying values ---------------------------------------------------- */

static void
free_values(struct settings *s)
{
	free(s->api_url);
	free(s->token_file);
	free(s->desired);
	free(s->state_dir);
	free(s->keys_dir);
	free(s->listen);
	free(s->ca_file);
	free(s->config_file);
	free(s->out);
	s->out = NULL;
	s->api_url = s->token_file = s->desired = s->state_dir = s->keys_dir = NULL;
	s->listen = s->ca_file = s->config_file = NULL;
}

void
settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	free_values(s);
	free(s->config_path);
	for (size_t i = 0; i < s->n_flags; i++)
		free(s->flags[i].value);
	free(s->flags);
	memset(s, 0, sizeof(*s));
}

static int
apply_defaults(struct settings *s)
{
	char err[256];
	int rc;

	for (size_t i = 0; i < N_ROWS; i++) {
		if (rows[i].defval == NULL)
			continue;
		/* The table's own defaults always parse (the tests say so). */
		if ((rc = rows[i].parse(&rows[i], rows[i].defval, s, err,
		    sizeof(err))) != 0)
			return rc;
	}
	return 0;
}

/* Runs the row's parser; a parse error becomes a diagnostic with the
 * context in front ("interval: ...", "--interval: ..."). */
static int
apply(const struct settings_row *r, const char *v, struct settings *s,
    struct diag *d, const char *file, int line, int col, const char *ctx)
{
	char err[512];
	int rc;

	err[0] = '\0';
	rc = r->parse(r, v, s, err, sizeof(err));
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0)
		diag_error(d, file, line, col, "%s: %s", ctx, err);
	return 0;
}

static const char token_advice[] =
    "use token_file (--token-file), $CREDENTIALS_DIRECTORY/convex-token or "
    "the CONVEX_ACCESS_TOKEN environment variable";

static void
unknown_file_key(struct diag *d, const char *file, const struct ytree_node *k)
{
	char list[512], b[DIAG_QUOTE_MAX];
	size_t o = 0;

	list[0] = '\0';
	for (size_t i = 0; i < N_ROWS; i++) {
		if (rows[i].key == NULL)
			continue;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
		    o ? ", " : "", rows[i].key);
	}
	diag_error(d, file, k->line, k->col,
	    "unknown key %s (expected one of: %s)",
	    diag_quote(b, sizeof(b), k->value, k->len), list);
}

/* The settings file: one mapping of keys from the table. */
static int
apply_file(struct settings *s, struct diag *d)
{
	const char *file = s->config_path;
	struct ytree t;
	struct stat st;
	int rc;

	/* A missing default file is fine; a missing -c FILE is not. */
	if (!s->config_explicit && stat(file, &st) != 0 && errno == ENOENT)
		return 0;
	rc = ytree_load_file(&t, file, file, NULL, NULL, d);
	if (rc == -ENOMEM)
		return rc;
	if (rc != 0)
		return 0;          /* reported */
	if ((s->config_file = strdup(file)) == NULL) {
		ytree_free(&t);
		return -ENOMEM;
	}
	for (size_t di = 0; di < t.n_docs && rc == 0; di++) {
		const struct ytree_node *root = t.docs[di];

		if (root->kind == YTREE_SCALAR && root->stype == YTREE_NULL)
			continue;
		if (root->kind != YTREE_MAP) {
			diag_error(d, file, root->line, root->col,
			    "expected a mapping of settings, got %s",
			    ytree_describe(root));
			continue;
		}
		for (size_t i = 0; i < root->n && rc == 0; i++) {
			const struct ytree_node *k = YTREE_KEY(root, i);
			const struct ytree_node *v = YTREE_VALUE(root, i);
			const struct settings_row *r = NULL;

			for (size_t j = 0; j < N_ROWS && r == NULL; j++)
				if (rows[j].key != NULL &&
				    strlen(rows[j].key) == k->len &&
				    memcmp(rows[j].key, k->value, k->len) == 0)
					r = &rows[j];
			if (r == NULL) {
				if (k->len == 5 && memcmp(k->value, "token", 5) == 0)
					diag_error(d, file, k->line, k->col,
					    "the API token may not be in the settings "
					    "file; %s", token_advice);
				else
					unknown_file_key(d, file, k);
				continue;
			}
			if (v->kind != YTREE_SCALAR || v->stype == YTREE_NULL) {
				diag_error(d, file, v->line, v->col, "%s: expected a "
				    "value, got %s", r->key, ytree_describe(v));
				continue;
			}
			if (r->kind == SETTINGS_BOOL && v->stype != YTREE_BOOL) {
				diag_error(d, file, v->line, v->col, "%s: expected "
				    "true or false, got %s", r->key, ytree_describe(v));
				continue;
			}
			if (strlen(v->value) != v->len) {
				diag_error(d, file, v->line, v->col,
				    "%s: the value holds a NUL character", r->key);
				continue;
			}
			/* Booleans as written (True, FALSE) reach the parser
			 * in one spelling. */
			rc = apply(r, r->kind == SETTINGS_BOOL ?
			    (v->bval ? "true" : "false") : v->value, s, d, file,
			    v->line, v->col, r->key);
		}
	}
	ytree_free(&t);
	return rc;
}

static int
apply_env(struct settings *s, struct diag *d)
{
	int rc = 0;

	for (size_t i = 0; i < N_ROWS && rc == 0; i++) {
		const struct settings_row *r = &rows[i];
		const char *v;
		char *url = NULL;
		size_t n;

		/* An empty variable counts as unset, as most tools treat it. */
		if (r->env == NULL || (v = getenv(r->env)) == NULL || *v == '\0')
			continue;
		if (r->kind == SETTINGS_ENV_HOST) {
			/* A host such as http://127.0.0.1:8050, as the Convex
			 * CLI reads it: the API lives under /v1. */
			if (strncmp(v, "https://", 8) != 0 &&
			    strncmp(v, "http://", 7) != 0) {
				char b[DIAG_QUOTE_MAX];

				diag_error(d, NULL, 0, 0, "%s: invalid host %s (expected "
				    "https://HOST[:PORT], or http:// for a loopback "
				    "host)", r->env, qurl(b, sizeof(b), v));
				continue;
			}
			n = strlen(v);
			while (n > 0 && v[n - 1] == '/')
				n--;
			if (asprintf(&url, "%.*s/v1", (int)n, v) < 0)
				return -ENOMEM;
			v = url;
		}
		rc = apply(r, v, s, d, NULL, 0, 0, r->env);
		free(url);
	}
	return rc;
}

static int
apply_flags(struct settings *s, const struct settings_flag *flags, size_t n,
    struct diag *d)
{
	char ctx[64];
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct settings_row *r = &rows[flags[i].row];

		snprintf(ctx, sizeof(ctx), "--%s", r->flag);
		rc = apply(r, flags[i].value, s, d, NULL, 0, 0, ctx);
	}
	return rc;
}

/* Everything after the command line: the passes in precedence order. */
static int
build(struct settings *s, const struct settings_flag *flags, size_t n_flags,
    struct diag *d)
{
	int rc;

	if ((rc = apply_defaults(s)) != 0)
		return rc;
	if ((rc = apply_file(s, d)) != 0)
		return rc;
	if ((rc = apply_env(s, d)) != 0)
		return rc;
	return apply_flags(s, flags, n_flags, d);
}

/* ---- the command line --------------------------------------------------- */

enum { OPT_HELP = 'h', OPT_CONFIG = 'c', OPT_VERSION = 1000, OPT_ROW = 2000 };

static int
add_flag(struct settings *s, int row, const char *value)
{
	struct settings_flag *nf;
	char *v;

	if ((v = strdup(value)) == NULL)
		return -ENOMEM;
	nf = realloc(s->flags, (s->n_flags + 1) * sizeof(*nf));
	if (nf == NULL) {
		free(v);
		return -ENOMEM;
	}
	s->flags = nf;
	s->flags[s->n_flags].row = row;
	s->flags[s->n_flags].value = v;
	s->n_flags++;
	return 0;
}

/* "--token" and "--token=..." get their own message, which never repeats
 * what followed the flag. */
static bool
is_token_flag(const char *a)
{
	return strcmp(a, "--token") == 0 || strncmp(a, "--token=", 8) == 0;
}

int
settings_load(int argc, char **argv, struct settings *out, int *cmd_index,
    struct diag *d)
{
	return settings_load_from(argc, argv, SETTINGS_DEFAULT_CONFIG, out,
	    cmd_index, d);
}

/* The long options: one per row with a flag, then -c, --help, --version. */
static void
build_options(struct option *opts)
{
	size_t no = 0;

	for (size_t i = 0; i < N_ROWS; i++) {
		if (rows[i].flag == NULL)
			continue;
		opts[no].name = rows[i].flag;
		opts[no].has_arg = rows[i].arg ? required_argument : no_argument;
		opts[no].flag = NULL;
		opts[no].val = OPT_ROW + (int)i;
		no++;
	}
	opts[no++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	opts[no++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	opts[no++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	opts[no] = (struct option){ NULL, 0, NULL, 0 };
}

/* Before getopt, which would take "--token" as an abbreviation of
 * --token-file and then quote the token as a file name. */
static int
refuse_token_flag(int argc, char **argv, struct diag *d)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (is_token_flag(argv[i])) {
			diag_error(d, NULL, 0, 0, "the API token is never given as a "
			    "flag; %s", token_advice);
			return -EINVAL;
		}
	}
	return 0;
}

static void
bad_option(const char *arg, struct diag *d)
{
	char b[DIAG_QUOTE_MAX];
	const char *eq;

	if (optopt >= OPT_ROW) {
		diag_error(d, NULL, 0, 0, "option --%s takes no value",
		    rows[optopt - OPT_ROW].flag);
	} else if (optopt != 0 && optopt < OPT_VERSION) {
		diag_error(d, NULL, 0, 0, "unknown option \"-%c\" (see --help)",
		    optopt);
	} else {
		eq = strchr(arg, '=');
		diag_error(d, NULL, 0, 0, "unknown option %s (see --help)",
		    diag_quote(b, sizeof(b), arg,
		    eq ? (size_t)(eq - arg) : strlen(arg)));
	}
}

/* getopt over argv: options go to *out (flags kept for their row, to be
 * applied last), non-options are marked in is_pos and counted. */
static int
read_options(int argc, char **argv, const struct option *opts,
    struct settings *out, bool *is_pos, size_t *npos, struct diag *d)
{
	int c, rc = 0;

	/* "-": non-options come back in order (as 1) whatever
	 * POSIXLY_CORRECT says, so options may stand after the command.
	 * ":": a missing value is ':' rather than a message from getopt. */
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "-:c:h", opts, NULL)) != -1) {
		const char *arg = argv[optind - 1];

		switch (c) {
		case 1:
			is_pos[optind - 1] = true;
			(*npos)++;
			break;
		case OPT_HELP:
			out->help = true;
			break;
		case OPT_VERSION:
			out->version = true;
			break;
		case OPT_CONFIG:
			free(out->config_path);
			if ((out->config_path = strdup(optarg)) == NULL)
				rc = -ENOMEM;
			out->config_explicit = true;
			break;
		case ':':
			diag_error(d, NULL, 0, 0, "option %s needs a value", arg);
			break;
		case '?':
			bad_option(arg, d);
			break;
		default:
			if (c >= OPT_ROW && c < OPT_ROW + (int)N_ROWS)
				rc = add_flag(out, c - OPT_ROW,
				    rows[c - OPT_ROW].arg ? optarg : "true");
			break;
		}
	}
	/* After "--" everything is an argument. */
	for (int i = optind; rc == 0 && i < argc; i++) {
		is_pos[i] = true;
		(*npos)++;
	}
	return rc;
}

/* A stable permutation, as GNU getopt makes: options (and their values)
 * first, then the arguments in their order. */
static void
permute(int argc, char **argv, const bool *is_pos, size_t npos, char **tmp)
{
	size_t o = 1, a = (size_t)argc - npos;

	for (int i = 1; i < argc; i++) {
		if (is_pos[i])
			tmp[a++] = argv[i];
		else
			tmp[o++] = argv[i];
	}
	for (int i = 1; i < argc; i++)
		argv[i] = tmp[i];
}

int
settings_load_from(int argc, char **argv, const char *default_config,
    struct settings *out, int *cmd_index, struct diag *d)
{
	struct option opts[N_ROWS + 4];
	size_t errors = d->n_errors, npos = 0;
	char **tmp;
	bool *is_pos;
	int rc;

	memset(out, 0, sizeof(*out));
	*cmd_index = argc;
	build_options(opts);
	if ((rc = refuse_token_flag(argc, argv, d)) != 0)
		return rc;
	tmp = calloc((size_t)argc + 1, sizeof(*tmp));
	is_pos = calloc((size_t)argc + 1, sizeof(*is_pos));
	if (tmp == NULL || is_pos == NULL) {
		free(tmp);
		free(is_pos);
		return -ENOMEM;
	}
	rc = read_options(argc, argv, opts, out, is_pos, &npos, d);
	if (rc == 0) {
		permute(argc, argv, is_pos, npos, tmp);
		*cmd_index = argc - (int)npos;
	}
	free(tmp);
	free(is_pos);
	if (rc == 0 && out->config_path == NULL &&
	    (out->config_path = strdup(default_config)) == NULL)
		rc = -ENOMEM;
	if (rc != 0)
		return rc;
	if (d->n_errors > errors)
		return -EINVAL;
	if (out->help || out->version)
		return apply_defaults(out);
	if ((rc = build(out, out->flags, out->n_flags, d)) != 0)
		return rc;
	return d->n_errors > errors ? -EINVAL : 0;
}

int
settings_reload(const struct settings *cur, struct settings *out,
    struct diag *d)
{
	size_t errors = d->n_errors;
	int rc;

	memset(out, 0, sizeof(*out));
	out->config_explicit = cur->config_explicit;
	if ((out->config_path = strdup(cur->config_path ? cur->config_path :
	    SETTINGS_DEFAULT_CONFIG)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cur->n_flags; i++)
		if ((rc = add_flag(out, cur->flags[i].row, cur->flags[i].value)) != 0)
			return rc;
	if ((rc = build(out, out->flags, out->n_flags, d)) != 0)
		return rc;
	return d->n_errors > errors ? -EINVAL : 0;
}

/* ---- --help ------------------------------------------------------------- */

void
settings_usage(FILE *f)
{
	char left[64], notes[256];
	bool first = true;

	fprintf(f, "Options (a flag beats the environment, which beats the "
	    "settings file):\n");
	fprintf(f, "  %-24s %s\n", "-c, --config FILE",
	    "settings file (default: " SETTINGS_DEFAULT_CONFIG ")");
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct settings_row *r = &rows[i];
		const char *def = r->defval;
		size_t o = 0;

		if (r->flag == NULL)
			continue;
		snprintf(left, sizeof(left), "    --%s%s%s", r->flag,
		    r->arg ? " " : "", r->arg ? r->arg : "");
		if (def == NULL || strcmp(def, "false") == 0)
			def = r->defdoc;
		notes[0] = '\0';
		if (def != NULL)
			o += (size_t)snprintf(notes + o, sizeof(notes) - o,
			    "default: %s", *def ? def : "\"\"");
		if (r->env != NULL)
			o += (size_t)snprintf(notes + o, sizeof(notes) - o,
			    "%senv %s", o ? "; " : "", r->env);
		fprintf(f, "  %-24s %s%s%s%s\n", left, r->help, o ? " (" : "",
		    notes, o ? ")" : "");
	}
	fprintf(f, "  %-24s %s\n", "-h, --help", "show this help and exit");
	fprintf(f, "  %-24s %s\n", "    --version", "show the version and exit");
	fprintf(f, "\nOnly in the settings file: ");
	for (size_t i = 0; i < N_ROWS; i++) {
		if (rows[i].flag != NULL || rows[i].key == NULL)
			continue;
		fprintf(f, "%s%s (default %s)", first ? "" : ", ", rows[i].key,
		    rows[i].defval);
		first = false;
	}
	fprintf(f, ".\n");
}
