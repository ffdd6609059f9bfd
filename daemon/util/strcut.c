/* strcut.c: snprintf that shows where it cut (strcut.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strcut.h"

void
strcut_printf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (n == 0)
		return;
	va_start(ap, fmt);
	r = vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	if (r < 0)
		dst[0] = '\0';
	else if ((size_t)r >= n && n > 4)
		memcpy(dst + n - 4, "...", 4);
}
