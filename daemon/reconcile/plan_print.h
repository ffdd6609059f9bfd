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

/* `results` is NULL for a plan, or the executor's array parallel to
 * p->actions after apply.
 * 0, -ENOMEM, or -E2BIG when the buffer's maximum is reached. */
int plan_print_text(const struct plan *p, const struct action_result *results,
    unsigned flags, struct buf *out);
/* One JSON object and a newline; pretty: indented, else on one line. */
int plan_print_json(const struct plan *p, const struct action_result *results,
    int pretty, struct buf *out);
/* The same object for callers that embed it (the status endpoint); NULL on
 * ENOMEM. The strings are copied: it outlives the plan. Ids in it are raw
 * items holding their exact digits (jsonint.h): print it, do not read them
 * as numbers from the tree. */
cJSON *plan_to_cjson(const struct plan *p, const struct action_result *results);

#endif
