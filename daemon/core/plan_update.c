/* plan_update.c: the fields of SPEC section 8 that differ between a
 * declared project or deployment and the live one, and their names and
 * values as text for every printer. Pure: no I/O, no clock, no logging. */
#include "plan_update.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cdefs.h"
#include "nametab.h"

static const char *const op_names[] = { "create", "delete", "update", "rename" };
static const char *const kind_names[] = {
	"project", "deployment", "env", "domain", "deploy_key"
};
static const char *const field_names[] = {
	"name", "slug", "reference", "class", "default",
	"dashboard_edit_confirmation", "send_logs_to_client", "expires_at",
};

const char *
plan_op_name(enum plan_op op)
{
	return nametab_name(op_names, CP_NELEM(op_names), (unsigned)op);
}

const char *
plan_kind_name(enum plan_kind kind)
{
	return nametab_name(kind_names, CP_NELEM(kind_names), (unsigned)kind);
}

const char *
plan_field_name(enum plan_field f)
{
	return nametab_name(field_names, CP_NELEM(field_names), (unsigned)f);
}

static bool
is_string_field(enum plan_field f)
{
	return f == PLAN_FIELD_NAME || f == PLAN_FIELD_SLUG ||
	    f == PLAN_FIELD_REFERENCE || f == PLAN_FIELD_CLASS;
}

/* RFC 3339 in UTC; milliseconds only when there are any. */
static const char *
time_text(int64_t ms, char *buf, size_t n)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];

	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(buf, n, "%lld ms", (long long)ms);
		return buf;
	}
	if (ms % 1000 != 0)
		snprintf(buf, n, "%s.%03dZ", base, (int)(ms % 1000));
	else
		snprintf(buf, n, "%sZ", base);
	return buf;
}

const char *
plan_change_text(const struct plan_change *c, bool to, char *buf, size_t n)
{
	int64_t v = to ? c->to_num : c->from_num;

	if (is_string_field(c->field))
		return to ? c->to_str : c->from_str;
	if (c->field == PLAN_FIELD_EXPIRES_AT)
		return v == 0 ? "never" : time_text(v, buf, n);
	if (v < 0)
		return NULL;
	return v ? "true" : "false";
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

static void
put_str(struct plan_change *out, size_t *n, enum plan_field f,
    const char *from, const char *to)
{
	struct plan_change *c = &out[(*n)++];

	memset(c, 0, sizeof(*c));
	c->field = f;
	c->from_str = from;
	c->to_str = to;
}

static void
put_num(struct plan_change *out, size_t *n, enum plan_field f, int64_t from,
    int64_t to)
{
	struct plan_change *c = &out[(*n)++];

	memset(c, 0, sizeof(*c));
	c->field = f;
	c->from_num = from;
	c->to_num = to;
}

/* A declared setting (enum tristate in a byte) that differs from the
 * live one (-1 when the API did not say: then it is set). */
static void
put_setting(struct plan_change *out, size_t *n, enum plan_field f,
    signed char want, signed char have)
{
	if (want != TRI_UNSET && want != have)
		put_num(out, n, f, have < 0 ? -1 : have, want);
}

size_t
plan_deployment_changes(const struct desired_deployment *dd,
    const struct observed_deployment *od, struct plan_change *out)
{
	size_t n = 0;

	if (strcmp(nz(dd->reference), nz(od->reference)) != 0)
		put_str(out, &n, PLAN_FIELD_REFERENCE, od->reference, dd->reference);
	if (dd->class_name != NULL && strcmp(dd->class_name, nz(od->class_name)) != 0)
		put_str(out, &n, PLAN_FIELD_CLASS, od->class_name, dd->class_name);
	if (dd->is_default != TRI_UNSET && (dd->is_default == TRI_TRUE) != od->is_default)
		put_num(out, &n, PLAN_FIELD_DEFAULT, od->is_default ? 1 : 0,
		    dd->is_default == TRI_TRUE ? 1 : 0);
	put_setting(out, &n, PLAN_FIELD_DASHBOARD_EDIT_CONFIRMATION,
	    dd->dashboard_edit_confirmation, od->dashboard_edit_confirmation);
	put_setting(out, &n, PLAN_FIELD_SEND_LOGS_TO_CLIENT,
	    dd->send_logs_to_client, od->send_logs_to_client);
	if (dd->expires != DESIRED_EXPIRES_UNSET) {
		int64_t want = dd->expires == DESIRED_EXPIRES_AT ? dd->expires_at_ms : 0;

		if (want != od->expires_at)
			put_num(out, &n, PLAN_FIELD_EXPIRES_AT, od->expires_at, want);
	}
	return n;
}

size_t
plan_project_changes(const struct desired_project *dp,
    const struct observed_project *op, struct plan_change *out)
{
	size_t n = 0;

	if (strcmp(nz(dp->name), nz(op->name)) != 0)
		put_str(out, &n, PLAN_FIELD_NAME, op->name, dp->name);
	if (dp->slug != NULL && strcmp(dp->slug, nz(op->slug)) != 0)
		put_str(out, &n, PLAN_FIELD_SLUG, op->slug, dp->slug);
	return n;
}

size_t
plan_deployment_create_changes(const struct desired_deployment *dd,
    struct plan_change *out)
{
	size_t n = 0;

	put_setting(out, &n, PLAN_FIELD_DASHBOARD_EDIT_CONFIRMATION,
	    dd->dashboard_edit_confirmation, -1);
	put_setting(out, &n, PLAN_FIELD_SEND_LOGS_TO_CLIENT,
	    dd->send_logs_to_client, -1);
	return n;
}

size_t
plan_project_create_changes(const struct desired_project *dp,
    struct plan_change *out)
{
	size_t n = 0;

	if (dp->slug != NULL)
		put_str(out, &n, PLAN_FIELD_SLUG, NULL, dp->slug);
	return n;
}
