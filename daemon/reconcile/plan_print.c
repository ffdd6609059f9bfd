/* plan_print.c: the plan as text lines for people and as the JSON object of
 * SPEC section 4 (docs/reconcile.md shows both). */
#include "plan_print.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execute.h"
#include "jsonint.h"
#include "textesc.h"

#define GREEN  "\033[32m"
#define RED    "\033[31m"
#define YELLOW "\033[33m"
#define RESET  "\033[0m"

/* Appends a string literal (its length known at compile time). */
#define PUT(b, lit) buf_append((b), (lit), sizeof(lit) - 1)

static const char *
nz(const char *s)
{
	return s ? s : "";
}

static const char *
error_of(const struct action_result *r)
{
	return r->error != NULL && r->error[0] != '\0' ? r->error : "failed";
}

/* Why an action did not run (pending, running or skipped: the printer is
 * called once apply is over, so all three mean "not done"), when the
 * executor did not say. */
static const char *
skip_reason(const struct plan *p, const struct action_result *r, size_t i,
    char *tmp, size_t n)
{
	const struct plan_action *a = &p->actions[i];

	if (r[i].error != NULL && r[i].error[0] != '\0')
		return r[i].error;
	if (a->parent != PLAN_NO_PARENT && a->parent < p->n_actions &&
	    r[a->parent].state != ACTION_OK) {
		const struct plan_action *par = &p->actions[a->parent];

		if (par->op == PLAN_CREATE && par->kind == PLAN_PROJECT)
			snprintf(tmp, n, "project \"%s\" was not created", nz(a->project));
		else if (par->op == PLAN_CREATE)
			snprintf(tmp, n, "deployment \"%s/%s\" was not created",
			    nz(par->project), nz(par->reference));
		else
			snprintf(tmp, n, "the default of \"%s/%s\" was not unset first",
			    nz(par->project), nz(par->reference));
		return tmp;
	}
	return "not run";
}

/* ---- text ------------------------------------------------------------- */

/* Names come from files and from the API, errors from the API: escape
 * what would let them break the line, the quoting or the terminal (C0, C1,
 * DEL and bytes that are not UTF-8; textesc.h). */
static int
put_escaped(struct buf *out, const char *s, bool quotes)
{
	s = nz(s);
	return textesc_buf(out, s, strlen(s), quotes ? TEXTESC_QUOTES : 0);
}

static int
put_quoted(struct buf *out, const char *project, const char *reference)
{
	int rc;

	if ((rc = PUT(out, "\"")) || (rc = put_escaped(out, project, true)))
		return rc;
	if (reference != NULL &&
	    ((rc = PUT(out, "/")) || (rc = put_escaped(out, reference, true))))
		return rc;
	return PUT(out, "\"");
}

static int
put_sign(struct buf *out, char sign, const char *colour, unsigned flags)
{
	if (flags & PLAN_PRINT_COLOUR)
		return buf_appendf(out, "%s%c%s ", colour, sign, RESET);
	return buf_appendf(out, "%c ", sign);
}

static int
put_create_details(struct buf *out, const struct desired_deployment *w)
{
	int rc;

	if (w == NULL)
		return 0;
	if ((rc = buf_appendf(out, " (%s", dep_type_name(w->type))))
		return rc;
	if (w->region && ((rc = PUT(out, ", region ")) ||
	    (rc = put_escaped(out, w->region, false))))
		return rc;
	if (w->class_name && ((rc = PUT(out, ", class ")) ||
	    (rc = put_escaped(out, w->class_name, false))))
		return rc;
	if (w->is_default != TRI_UNSET &&
	    (rc = buf_appendf(out, ", %s", w->is_default == TRI_TRUE ? "default" : "not default")))
		return rc;
	return PUT(out, ")");
}

/* ---- updates and renames (SPEC section 8) ---- */

static const struct plan_change *
change_of(const struct plan_action *a, enum plan_field f)
{
	for (size_t i = 0; i < a->n_changes; i++)
		if (a->changes[i].field == f)
			return &a->changes[i];
	return NULL;
}

static int
put_value(struct buf *out, const struct plan_change *c, bool to)
{
	char tmp[40];
	const char *v = plan_change_text(c, to, tmp, sizeof(tmp));

	return put_escaped(out, v != NULL ? v : "unset", false);
}

/* `~ update deployment "shop/production": class s16 -> s256, ...`;
 * `~ rename project "old" -> "new"` (and its other changes after ": "). */
static int
put_update(struct buf *out, const struct plan_action *a, unsigned flags)
{
	bool dep = a->kind == PLAN_DEPLOYMENT, rename = a->op == PLAN_RENAME;
	const struct plan_change *ren = change_of(a, dep ? PLAN_FIELD_REFERENCE :
	    PLAN_FIELD_NAME);
	size_t shown = 0;
	int rc;

	if ((rc = put_sign(out, '~', YELLOW, flags)) ||
	    (rc = buf_appendf(out, "%s %s ", plan_op_name(a->op), plan_kind_name(a->kind))))
		return rc;
	if (rename && ren != NULL) {
		if (dep)
			rc = put_quoted(out, a->project, nz(ren->from_str));
		else
			rc = put_quoted(out, ren->from_str, NULL);
		if (rc || (rc = PUT(out, " -> ")))
			return rc;
	}
	if ((rc = put_quoted(out, a->project, dep ? nz(a->reference) : NULL)))
		return rc;
	for (size_t i = 0; i < a->n_changes; i++) {
		const struct plan_change *c = &a->changes[i];

		if (c == ren)
			continue;
		if ((rc = buf_appendf(out, "%s%s ", shown++ ? ", " : ": ",
		    plan_field_name(c->field))) ||
		    (rc = put_value(out, c, false)) || (rc = PUT(out, " -> ")) ||
		    (rc = put_value(out, c, true)))
			return rc;
	}
	return 0;
}

static int put_extras_action(struct buf *out, const struct plan *p,
    const struct action_result *res, size_t i, unsigned flags);
static int put_result(struct buf *out, const struct plan *p,
    const struct action_result *res, size_t i);

static int
put_action(struct buf *out, const struct plan *p, const struct action_result *res,
    size_t i, unsigned flags)
{
	const struct plan_action *a = &p->actions[i];
	bool create = a->op == PLAN_CREATE, dep = a->kind == PLAN_DEPLOYMENT;
	char tmp[200];
	int rc;

	if (a->kind != PLAN_PROJECT && a->kind != PLAN_DEPLOYMENT)
		return put_extras_action(out, p, res, i, flags);
	if (a->op == PLAN_UPDATE || a->op == PLAN_RENAME)
		rc = put_update(out, a, flags);
	else if ((rc = put_sign(out, create ? '+' : '-', create ? GREEN : RED, flags)) ||
	    (rc = buf_appendf(out, "%s %s ", create ? "create" : "delete",
	    dep ? "deployment" : "project")) ||
	    (rc = put_quoted(out, a->project, dep ? nz(a->reference) : NULL)))
		return rc;
	else if (create && dep)
		rc = put_create_details(out, a->want);
	else if (!create && dep) {
		if (!(rc = PUT(out, " (")) &&
		    !(rc = put_escaped(out, a->deployment_name, false)))
			rc = PUT(out, ")");
	} else if (!create)
		rc = buf_appendf(out, " (%lld)", (long long)a->project_id);
	if (rc)
		return rc;
	if (res != NULL) {
		switch (res[i].state) {
		case ACTION_OK:
			rc = PUT(out, ": ok");
			break;
		case ACTION_FAILED:
			if (!(rc = PUT(out, ": error: ")))
				rc = put_escaped(out, error_of(&res[i]), false);
			break;
		default:
			if (!(rc = PUT(out, ": skipped: ")))
				rc = put_escaped(out, skip_reason(p, res, i, tmp, sizeof(tmp)), false);
			break;
		}
		if (rc)
			return rc;
	}
	return PUT(out, "\n");
}

static int
put_drift(struct buf *out, const struct plan_drift *d, unsigned flags)
{
	int rc;

	if (d->of_project) {
		if ((rc = put_sign(out, '~', YELLOW, flags)) ||
		    (rc = PUT(out, "drift project ")) ||
		    (rc = put_quoted(out, d->project, NULL)) ||
		    (rc = buf_appendf(out, " (%lld)", (long long)d->project_id)))
			return rc;
	} else if ((rc = put_sign(out, '~', YELLOW, flags)) ||
	    (rc = PUT(out, "drift deployment ")) ||
	    (rc = put_quoted(out, d->project, nz(d->reference))) ||
	    (rc = PUT(out, " (")) ||
	    (rc = put_escaped(out, d->deployment_name, false)) ||
	    (rc = PUT(out, ")"))) {
		return rc;
	}
	if ((rc = buf_appendf(out, ": %s is ", d->field)) ||
	    (rc = put_escaped(out, d->have[0] ? d->have : "unset", false)) ||
	    (rc = PUT(out, ", files say ")) ||
	    (rc = put_escaped(out, d->want, false)))
		return rc;
	if (d->reason != NULL && ((rc = PUT(out, " (not changed: ")) ||
	    (rc = put_escaped(out, d->reason, false)) || (rc = PUT(out, ")"))))
		return rc;
	return PUT(out, "\n");
}

static int put_pending(struct buf *out, const struct plan_pending_domain *d,
    unsigned flags);

static int
put_blocked(struct buf *out, const struct plan_blocked *b, unsigned flags)
{
	int rc;

	if ((rc = put_sign(out, '!', YELLOW, flags)) ||
	    (rc = buf_appendf(out, "blocked %s: ", guard_name(b->guard))) ||
	    (rc = put_escaped(out, b->message, false)))
		return rc;
	return PUT(out, "\n");
}


int
plan_print_text(const struct plan *p, const struct action_result *results,
    unsigned flags, struct buf *out)
{
	size_t i;
	int rc;

	for (i = 0; i < p->n_actions; i++)
		if ((rc = put_action(out, p, results, i, flags)))
			return rc;
	for (i = 0; i < p->n_drift; i++)
		if ((rc = put_drift(out, &p->drift[i], flags)))
			return rc;
	for (i = 0; i < p->n_blocked; i++)
		if ((rc = put_blocked(out, &p->blocked[i], flags)))
			return rc;
	for (i = 0; i < p->n_pending_domains; i++)
		if ((rc = put_pending(out, &p->pending_domains[i], flags)))
			return rc;
	if (flags & PLAN_PRINT_ITEMS)
		return 0;
	return plan_print_summary(p, results, out);
}

int
plan_print_summary(const struct plan *p, const struct action_result *results,
    struct buf *out)
{
	size_t i, ok = 0, failed = 0, skipped = 0;
	int rc;

	if (p->n_actions == 0 && p->n_drift == 0 && p->n_blocked == 0)
		return buf_appendf(out, "No changes. The team matches the files.\n");
	if (results != NULL) {
		for (i = 0; i < p->n_actions; i++) {
			if (results[i].state == ACTION_OK)
				ok++;
			else if (results[i].state == ACTION_FAILED)
				failed++;
			else
				skipped++;
		}
		rc = buf_appendf(out, "Apply: %zu ok, %zu failed, %zu skipped, ",
		    ok, failed, skipped);
	} else {
		rc = buf_appendf(out, "Plan: %zu to create, ", plan_count(p, PLAN_CREATE));
		if (rc == 0 && plan_count_updates(p) > 0)
			rc = buf_appendf(out, "%zu to update, ", plan_count_updates(p));
		if (rc == 0)
			rc = buf_appendf(out, "%zu to delete, ", plan_count(p, PLAN_DELETE));
	}
	if (rc || (rc = buf_appendf(out, "%zu drifted, %zu blocked", p->n_drift, p->n_blocked)))
		return rc;
	if (p->n_held > 0 && (rc = buf_appendf(out, " (%zu delete%s held back)",
	    p->n_held, p->n_held == 1 ? "" : "s")))
		return rc;
	return PUT(out, ".\n");
}

/* ---- JSON -------------------------------------------------------------- */

/* Each adder returns false on ENOMEM; the caller gives up on the object. */
static bool
add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, nz(v)) != NULL;
}

static bool
add_num(cJSON *o, const char *k, double v)
{
	return cJSON_AddNumberToObject(o, k, v) != NULL;
}

static bool extras_action_json(cJSON *o, const struct plan_action *a);
static bool result_json(cJSON *o, const struct plan *p,
    const struct action_result *res, size_t i);
/* Ids are written exactly, whatever their size (jsonint.h): through a
 * double, 2^53 + 1 would print as another project's id. */
static bool
add_id(cJSON *o, const char *k, int64_t v)
{
	return jsonint_add(o, k, v) != NULL;
}

cJSON *
plan_changes_cjson(const struct plan_action *a)
{
	cJSON *o = cJSON_CreateObject();
	char b1[40], b2[40];

	for (size_t i = 0; o != NULL && i < a->n_changes; i++) {
		const struct plan_change *c = &a->changes[i];
		const char *from = plan_change_text(c, false, b1, sizeof(b1));
		const char *to = plan_change_text(c, true, b2, sizeof(b2));
		bool flag = c->field == PLAN_FIELD_DEFAULT ||
		    c->field == PLAN_FIELD_DASHBOARD_EDIT_CONFIRMATION ||
		    c->field == PLAN_FIELD_SEND_LOGS_TO_CLIENT;
		cJSON *f = cJSON_AddObjectToObject(o, plan_field_name(c->field));
		bool ok = f != NULL;

		if (ok && flag)
			ok = (c->from_num < 0 ? cJSON_AddNullToObject(f, "from") :
			    cJSON_AddBoolToObject(f, "from", c->from_num != 0)) &&
			    (c->to_num < 0 ? cJSON_AddNullToObject(f, "to") :
			    cJSON_AddBoolToObject(f, "to", c->to_num != 0));
		else if (ok)
			ok = (from == NULL ? cJSON_AddNullToObject(f, "from") :
			    cJSON_AddStringToObject(f, "from", from)) &&
			    (to == NULL ? cJSON_AddNullToObject(f, "to") :
			    cJSON_AddStringToObject(f, "to", to));
		if (!ok) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

/* The fields an update adds to its action object: "reference" and "name"
 * of a deployment (the name once known), "id" of a project, "changes". */
static bool
update_json(cJSON *o, const struct plan_action *a, const struct action_result *r)
{
	const char *name = a->deployment_name;
	int64_t id = a->project_id;
	cJSON *ch;

	if (r != NULL && name == NULL)
		name = r->deployment_name;
	if (r != NULL && id == 0)
		id = r->project_id;
	if (a->kind == PLAN_DEPLOYMENT && name != NULL && !add_str(o, "name", name))
		return false;
	if (a->kind == PLAN_PROJECT && id != 0 && !add_id(o, "id", id))
		return false;
	if ((ch = plan_changes_cjson(a)) == NULL)
		return false;
	if (!cJSON_AddItemToObject(o, "changes", ch)) {
		cJSON_Delete(ch);
		return false;
	}
	return true;
}

static bool
action_json(cJSON *arr, const struct plan *p, const struct action_result *res, size_t i)
{
	const struct plan_action *a = &p->actions[i];
	const struct desired_deployment *w = a->want;
	bool dep = a->kind == PLAN_DEPLOYMENT, ok;
	cJSON *o = cJSON_CreateObject();
	char tmp[200];

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	if (a->kind != PLAN_PROJECT && a->kind != PLAN_DEPLOYMENT)
		return extras_action_json(o, a) && result_json(o, p, res, i);
	ok = add_str(o, "op", plan_op_name(a->op)) &&
	    add_str(o, "kind", dep ? "deployment" : "project") &&
	    add_str(o, "project", a->project);
	if (ok && dep)
		ok = add_str(o, "reference", a->reference);
	if (ok && (a->op == PLAN_UPDATE || a->op == PLAN_RENAME))
		ok = update_json(o, a, res != NULL ? &res[i] : NULL);
	if (ok && a->op == PLAN_CREATE && dep && w != NULL) {
		ok = add_str(o, "type", dep_type_name(w->type)) &&
		    (w->region == NULL || add_str(o, "region", w->region)) &&
		    (w->class_name == NULL || add_str(o, "class", w->class_name)) &&
		    (w->is_default == TRI_UNSET ||
		    cJSON_AddBoolToObject(o, "default", w->is_default == TRI_TRUE) != NULL);
	}
	if (ok && a->op == PLAN_DELETE && dep)
		ok = add_str(o, "name", a->deployment_name);
	if (ok && a->op == PLAN_DELETE && !dep)
		ok = add_id(o, "id", a->project_id);
	if (ok)
		ok = add_str(o, "reason", plan_reason_name(a->reason));
	if (ok && res != NULL) {
		switch (res[i].state) {
		case ACTION_OK:
			/* What a create made: the new project's id, the new
			 * deployment's name. */
			ok = add_str(o, "result", "ok") &&
			    (a->op != PLAN_CREATE || dep || res[i].project_id == 0 ||
			    add_id(o, "id", res[i].project_id)) &&
			    (a->op != PLAN_CREATE || !dep || res[i].deployment_name == NULL ||
			    add_str(o, "name", res[i].deployment_name));
			break;
		case ACTION_FAILED:
			ok = add_str(o, "result", "error") &&
			    add_str(o, "error", error_of(&res[i])) &&
			    (!res[i].ambiguous || cJSON_AddBoolToObject(o, "ambiguous", 1) != NULL);
			break;
		default:
			ok = add_str(o, "result", "skipped") &&
			    add_str(o, "error", skip_reason(p, res, i, tmp, sizeof(tmp)));
			break;
		}
	}
	return ok;
}

static bool
drift_json(cJSON *arr, const struct plan_drift *d)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	if (d->of_project)
		return add_str(o, "kind", "project") && add_str(o, "project", d->project) &&
		    add_id(o, "id", d->project_id) &&
		    add_str(o, "field", d->field) && add_str(o, "want", d->want) &&
		    add_str(o, "have", d->have);
	return add_str(o, "kind", "deployment") && add_str(o, "project", d->project) &&
	    add_str(o, "reference", d->reference) && add_str(o, "name", d->deployment_name) &&
	    add_str(o, "field", d->field) && add_str(o, "want", d->want) &&
	    add_str(o, "have", d->have) &&
	    (d->reason == NULL || add_str(o, "reason", d->reason));
}

static bool
blocked_json(cJSON *arr, const struct plan_blocked *b)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	return add_str(o, "guard", guard_name(b->guard)) && add_str(o, "message", b->message) &&
	    (b->project == NULL || add_str(o, "project", b->project)) &&
	    (b->reference == NULL || add_str(o, "reference", b->reference));
}

static bool pending_json(cJSON *root, const struct plan *p);

cJSON *
plan_to_cjson(const struct plan *p, const struct action_result *results)
{
	cJSON *root = cJSON_CreateObject(), *acts, *drift, *blocked, *sum;
	bool ok;
	size_t i;

	if (root == NULL)
		return NULL;
	acts = cJSON_AddArrayToObject(root, "actions");
	drift = cJSON_AddArrayToObject(root, "drift");
	blocked = cJSON_AddArrayToObject(root, "blocked");
	sum = cJSON_AddObjectToObject(root, "summary");
	ok = acts && drift && blocked && sum;
	for (i = 0; ok && i < p->n_actions; i++)
		ok = action_json(acts, p, results, i);
	for (i = 0; ok && i < p->n_drift; i++)
		ok = drift_json(drift, &p->drift[i]);
	for (i = 0; ok && i < p->n_blocked; i++)
		ok = blocked_json(blocked, &p->blocked[i]);
	ok = ok && add_num(sum, "create", (double)plan_count(p, PLAN_CREATE)) &&
	    add_num(sum, "update", (double)plan_count_updates(p)) &&
	    add_num(sum, "delete", (double)plan_count(p, PLAN_DELETE)) &&
	    add_num(sum, "drift", (double)p->n_drift) &&
	    add_num(sum, "blocked", (double)p->n_blocked) &&
	    add_num(sum, "held", (double)p->n_held) &&
	    add_num(sum, "pending_domains", (double)p->n_pending_domains) &&
	    pending_json(root, p);
	if (ok && results != NULL) {
		size_t n_ok = 0, n_failed = 0;

		for (i = 0; i < p->n_actions; i++) {
			n_ok += results[i].state == ACTION_OK;
			n_failed += results[i].state == ACTION_FAILED;
		}
		ok = add_num(sum, "ok", (double)n_ok) && add_num(sum, "failed", (double)n_failed) &&
		    add_num(sum, "skipped", (double)(p->n_actions - n_ok - n_failed));
	}
	if (!ok) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

int
plan_print_cjson(struct buf *out, cJSON *item, int pretty)
{
	char *s = NULL, *clean;
	int rc;

	if (item != NULL)
		s = pretty ? cJSON_Print(item) : cJSON_PrintUnformatted(item);
	cJSON_Delete(item);
	if (s == NULL)
		return -ENOMEM;
	/* Valid UTF-8, every control character escaped (textesc.h). */
	clean = textesc_json_clean(s);
	cJSON_free(s);
	if (clean == NULL)
		return -ENOMEM;
	rc = buf_append(out, clean, strlen(clean));
	free(clean);
	return rc;
}

int
plan_print_json(const struct plan *p, const struct action_result *results,
    int pretty, struct buf *out)
{
	int rc = plan_print_cjson(out, plan_to_cjson(p, results), pretty);

	return rc == 0 ? PUT(out, "\n") : rc;
}

/* ---- env, domains, deploy keys (SPEC section 9) ------------------------- */

/* ": ok", ": error: ...", ": skipped: ..." after apply; nothing for a plan. */
static int
put_result(struct buf *out, const struct plan *p, const struct action_result *res,
    size_t i)
{
	char tmp[200];
	int rc;

	if (res == NULL)
		return 0;
	switch (res[i].state) {
	case ACTION_OK:
		return PUT(out, ": ok");
	case ACTION_FAILED:
		if (!(rc = PUT(out, ": error: ")))
			rc = put_escaped(out, error_of(&res[i]), false);
		return rc;
	default:
		if (!(rc = PUT(out, ": skipped: ")))
			rc = put_escaped(out, skip_reason(p, res, i, tmp, sizeof(tmp)), false);
		return rc;
	}
}

/* One line per change, never a value: "+ env shop prod NAME",
 * "~ env shop prod NAME (value changed)", "- env shop prod NAME". */
static int
put_env_action(struct buf *out, const struct plan *p, const struct action_result *res,
    size_t i, unsigned flags)
{
	const struct plan_action *a = &p->actions[i];
	int rc;

	for (size_t k = 0; k < a->n_env; k++) {
		const struct plan_env_change *ch = &a->env[k];
		char sign = ch->change == PLAN_ENV_SET ? '+' :
		    ch->change == PLAN_ENV_CHANGED ? '~' : '-';
		const char *colour = ch->change == PLAN_ENV_SET ? GREEN :
		    ch->change == PLAN_ENV_CHANGED ? YELLOW : RED;

		if ((rc = put_sign(out, sign, colour, flags)) ||
		    (rc = PUT(out, "env ")) ||
		    (rc = put_escaped(out, a->project, false)) ||
		    (rc = buf_appendf(out, " %s ", dep_type_name(ch->type))) ||
		    (rc = put_escaped(out, ch->name, false)) ||
		    (ch->change == PLAN_ENV_CHANGED && (rc = PUT(out, " (value changed)"))) ||
		    (rc = put_result(out, p, res, i)) ||
		    (rc = PUT(out, "\n")))
			return rc;
	}
	return 0;
}

/* "+ create domain "shop/production" api.example.com (convexCloud)",
 * "- delete deploy key "shop/production" ci (happy-otter-123)". */
static int
put_extras_action(struct buf *out, const struct plan *p,
    const struct action_result *res, size_t i, unsigned flags)
{
	const struct plan_action *a = &p->actions[i];
	bool create = a->op == PLAN_CREATE, domain = a->kind == PLAN_DOMAIN;
	int rc;

	if (a->kind == PLAN_ENV)
		return put_env_action(out, p, res, i, flags);
	if ((rc = put_sign(out, create ? '+' : '-', create ? GREEN : RED, flags)) ||
	    (rc = buf_appendf(out, "%s %s ", create ? "create" : "delete",
	    domain ? "domain" : "deploy key")) ||
	    (rc = put_quoted(out, a->project, nz(a->reference))) ||
	    (rc = PUT(out, " ")) ||
	    (rc = put_escaped(out, domain ? a->domain : a->key_name, false)))
		return rc;
	if (domain && (rc = buf_appendf(out, " (%s",
	    desired_destination_name(a->destination))))
		return rc;
	if (a->deployment_name != NULL && !create &&
	    ((rc = buf_appendf(out, "%s", domain ? ", " : " (")) ||
	    (rc = put_escaped(out, a->deployment_name, false)) ||
	    (!domain && (rc = PUT(out, ")")))))
		return rc;
	if (domain && (rc = PUT(out, ")")))
		return rc;
	if ((rc = put_result(out, p, res, i)))
		return rc;
	return PUT(out, "\n");
}

/* "? pending domain "shop/production" api.example.com (convexCloud):
 * not verified yet". */
static int
put_pending(struct buf *out, const struct plan_pending_domain *d, unsigned flags)
{
	int rc;

	if ((rc = put_sign(out, '?', YELLOW, flags)) ||
	    (rc = PUT(out, "pending domain ")) ||
	    (rc = put_quoted(out, d->project, nz(d->reference))) ||
	    (rc = PUT(out, " ")) ||
	    (rc = put_escaped(out, d->domain, false)) ||
	    (rc = buf_appendf(out, " (%s): not verified yet\n",
	    desired_destination_name(d->destination))))
		return rc;
	return 0;
}

static bool
result_json(cJSON *o, const struct plan *p, const struct action_result *res, size_t i)
{
	char tmp[200];

	if (res == NULL)
		return true;
	switch (res[i].state) {
	case ACTION_OK:
		return add_str(o, "result", "ok");
	case ACTION_FAILED:
		return add_str(o, "result", "error") &&
		    add_str(o, "error", error_of(&res[i])) &&
		    (!res[i].ambiguous || cJSON_AddBoolToObject(o, "ambiguous", 1) != NULL);
	default:
		return add_str(o, "result", "skipped") &&
		    add_str(o, "error", skip_reason(p, res, i, tmp, sizeof(tmp)));
	}
}

/* Names, types and kinds of change: never a value (SPEC section 9). */
static bool
extras_action_json(cJSON *o, const struct plan_action *a)
{
	bool ok = add_str(o, "op", plan_op_name(a->op)) &&
	    add_str(o, "kind", plan_kind_name(a->kind)) &&
	    add_str(o, "project", a->project);
	cJSON *changes;

	if (ok && a->kind == PLAN_ENV) {
		ok = (a->project_id == 0 || add_id(o, "id", a->project_id)) &&
		    (changes = cJSON_AddArrayToObject(o, "changes")) != NULL;
		for (size_t k = 0; ok && k < a->n_env; k++) {
			cJSON *c = cJSON_CreateObject();

			if (c == NULL || !cJSON_AddItemToArray(changes, c)) {
				cJSON_Delete(c);
				return false;
			}
			ok = add_str(c, "type", dep_type_name(a->env[k].type)) &&
			    add_str(c, "name", a->env[k].name) &&
			    add_str(c, "change", plan_env_op_name(a->env[k].change));
		}
	} else if (ok) {
		ok = add_str(o, "reference", a->reference) &&
		    (a->deployment_name == NULL || add_str(o, "name", a->deployment_name));
		if (ok && a->kind == PLAN_DOMAIN)
			ok = add_str(o, "domain", a->domain) &&
			    add_str(o, "destination", desired_destination_name(a->destination));
		else if (ok)
			ok = add_str(o, "key", a->key_name);
	}
	return ok && add_str(o, "reason", plan_reason_name(a->reason));
}

static bool
pending_json(cJSON *root, const struct plan *p)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "pending_domains");
	bool ok = arr != NULL;

	for (size_t i = 0; ok && i < p->n_pending_domains; i++) {
		const struct plan_pending_domain *d = &p->pending_domains[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			return false;
		}
		ok = add_str(o, "project", d->project) &&
		    add_str(o, "reference", d->reference) &&
		    add_str(o, "name", d->deployment_name) &&
		    add_str(o, "domain", d->domain) &&
		    add_str(o, "destination", desired_destination_name(d->destination));
	}
	return ok;
}
