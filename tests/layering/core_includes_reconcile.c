/* core_includes_reconcile.c: must NOT build. The core (model, plan) is the
 * pure bottom of the program; a reconcile header is out of its reach. */
#include "reconcile.h"
