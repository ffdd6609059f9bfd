/* buf.h: a growable byte buffer with a hard maximum (as curl's dynbuf). */
#ifndef CP_BUF_H
#define CP_BUF_H

#include <stddef.h>

#include "cdefs.h"

struct buf {
	char *data;     /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;     /* appending beyond this fails with -E2BIG */
};

void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_appendf(struct buf *b, const char *fmt, ...)
    CP_PRINTF(2, 3);
void buf_reset(struct buf *b);   /* empties, keeps the allocation */
void buf_free(struct buf *b);
/* Hands the data over to the caller (who frees it); the buffer is empty. */
char *buf_steal(struct buf *b);

#endif
