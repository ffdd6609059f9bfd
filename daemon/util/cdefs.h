/* cdefs.h: the two macros every area uses (as OpenBSD's sys/cdefs.h): the
 * number of elements of an array, and printf-format checking. */
#ifndef CP_CDEFS_H
#define CP_CDEFS_H

#define CP_NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define CP_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))

#endif
