/* util_includes_core.c: must NOT build. util is the lowest area. */
#include "model.h"
