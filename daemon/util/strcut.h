/* strcut.h: formatting into a fixed buffer that marks a cut. */
#ifndef CP_STRCUT_H
#define CP_STRCUT_H

#include <stddef.h>

#include "cdefs.h"

/* snprintf into dst (n bytes), but a message too long for it ends with
 * "..." instead of being cut silently; an encoding error leaves "". */
void strcut_printf(char *dst, size_t n, const char *fmt, ...) CP_PRINTF(3, 4);

#endif
