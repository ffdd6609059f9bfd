/* nametab.h: enums written as names and read back, through one table of
 * names indexed by the enum's value. */
#ifndef CP_NAMETAB_H
#define CP_NAMETAB_H

#include <stddef.h>

/* names[v], or "?" when v is out of the table. */
const char *nametab_name(const char *const *names, size_t n, unsigned v);
/* The index of s in names (exact match), or -1. */
int nametab_find(const char *const *names, size_t n, const char *s);

#endif
