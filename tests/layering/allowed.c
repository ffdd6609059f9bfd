/* allowed.c: the control case of the layering test. The reconcile area may
 * include the core, the api and util headers: this must build, so that the
 * failures of the other files here are failures of the rule, not of the
 * build itself. */
#include "api.h"
#include "index.h"
#include "ledger.h"
#include "plan.h"

int layering_allowed(void);

int
layering_allowed(void)
{
	return PRUNE_NONE;
}
