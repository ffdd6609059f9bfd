/* atomicfile.h: replacing a small file so that a crash leaves the old one
 * or the new one, never a mix: a fresh temporary file PATH.tmp beside it
 * (whatever is there removed first, then created 0600 with O_EXCL |
 * O_NOFOLLOW, so never a FIFO, a link or someone else's file), write,
 * fsync, rename over the target, fsync of the folder. The ledger, the
 * intents and the saved plan are written this way (one writer each: the
 * state folder's lock; a saved plan's path is its one command's). The key
 * files are written relative to their opened folder instead (keyfile.c),
 * so that no link on the way is ever followed. */
#ifndef CP_ATOMICFILE_H
#define CP_ATOMICFILE_H

#include <stddef.h>

/* Writes data[0..len) to path. 0, or a negative errno with err naming the
 * file and the reason ("cannot write PATH: No space left on device"); on
 * failure the temporary file is removed and path is as it was. */
int atomicfile_write(const char *path, const void *data, size_t len, char *err,
    size_t errlen);

/* write(2) until all of p is written (EINTR retried): 0 or -errno. */
int atomicfile_write_all(int fd, const void *p, size_t len);
/* Makes a rename or a creation in path's folder durable: fsync of the
 * folder. 0 or -errno. */
int atomicfile_sync_dir(const char *path);

#endif
