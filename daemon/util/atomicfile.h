/* atomicfile.h: replacing a small file so that a crash leaves the old one
 * or the new one, never a mix: a fresh temporary file beside it (created
 * 0600 with O_EXCL | O_NOFOLLOW, so never a FIFO, a link or someone else's
 * file), write, fsync, rename over the target, fsync of the folder.
 * (The saved plan uses it; the ledger, the intents and the key files keep
 * their own copies of the same steps until they move to it.) */
#ifndef CP_ATOMICFILE_H
#define CP_ATOMICFILE_H

#include <stddef.h>

/* Writes data[0..len) to path. 0, or a negative errno with err naming the
 * file and the reason ("cannot write PATH: No space left on device"); on
 * failure the temporary file is removed and path is as it was. */
int atomicfile_write(const char *path, const void *data, size_t len, char *err,
    size_t errlen);

#endif
