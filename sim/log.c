/* log.c: one line per message on stderr, prefixed so test logs show who spoke. */
#include <stdarg.h>
#include <stdio.h>

#include "sim.h"

void
sim_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "convex-api-sim: %s\n", line);
}
