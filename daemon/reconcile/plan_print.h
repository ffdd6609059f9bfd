/* plan_print.h: a plan (and, after apply, each action's result) as text for
 * people or as the JSON object of SPEC section 4. Pure: it only appends to
 * the buffer it is given. */
#ifndef CP_PLAN_PRINT_H
#define CP_PLAN_PRINT_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "plan.h"

struct action_result;   /* execute.h: what apply did with each action */

/* plan_print_text flags. */
#define PLAN_PRINT_COLOUR 0x1   /* ANSI colours: the caller checks isatty */
#define PLAN_PRINT_ITEMS  0x2   /* only the item lines (actions, drift,
                                 * blocked, pending domains): no summary,
                                 * no "No changes" (plan_markdown.c) */

/* `results` is NULL for a plan, or the executor's array parallel to
 * p->actions after apply.
 * 0, -ENOMEM, or -E2BIG when the buffer's maximum is reached. */
int plan_print_text(const struct plan *p, const struct action_result *results,
    unsigned flags, struct buf *out);
/* The summary line alone ("Plan: 1 to create, ... 0 blocked." or "No
 * changes. ..."), with its newline. */
int plan_print_summary(const struct plan *p, const struct action_result *results,
    struct buf *out);
/* One JSON object and a newline; pretty: indented, else on one line. */
int plan_print_json(const struct plan *p, const struct action_result *results,
    int pretty, struct buf *out);
/* item printed (compact, or indented when pretty), deleted, made valid
 * UTF-8 with every control character escaped and registered secrets
 * masked (textesc.h), and appended to out. 0, -ENOMEM (item NULL too). */
int plan_print_cjson(struct buf *out, cJSON *item, int pretty);
/* The same object for callers that embed it (the status endpoint); NULL on
 * ENOMEM. The strings are copied: it outlives the plan. Ids in it are raw
 * items holding their exact digits (jsonint.h): print it, do not read them
 * as numbers from the tree. */
cJSON *plan_to_cjson(const struct plan *p, const struct action_result *results);
/* An update's or rename's changes as {field: {from, to}}: names, classes
 * and times as strings ("never": no expiry), the flags as booleans, null
 * for a value the API did not give; NULL on ENOMEM. */
cJSON *plan_changes_cjson(const struct plan_action *a);

#endif
