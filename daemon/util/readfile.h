/* readfile.h: reading a whole small file that something else may have put
 * in our way (a FIFO, a symbolic link, a device, a file that grows while it
 * is read) without ever blocking or mistaking an error for its end.
 *
 * The file is opened with O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC |
 * O_NOCTTY (so opening a FIFO never waits for a writer), must be a regular
 * file by fstat, and is read to its end, at most `max` bytes. EINTR is
 * retried; EAGAIN is retried a bounded number of times; any other read
 * error is returned as that error, never taken for the end of the file. */
#ifndef CP_READFILE_H
#define CP_READFILE_H

#include <stddef.h>

/*
 * On success 0, *out the contents (NUL-terminated, free()) and *len their
 * length. Otherwise *out is NULL, err says what in words (without the
 * path: the caller names the file), and the result is
 *   -ENOENT  the file does not exist
 *   -ELOOP   it is a symbolic link (never followed)
 *   -EINVAL  it is not a regular file (a FIFO, a folder, a socket, ...)
 *   -EFBIG   it is larger than max bytes
 *   -ENOMEM
 *   another negative errno: open, fstat or read failed (-EIO, -EACCES...).
 */
int readfile(const char *path, size_t max, char **out, size_t *len,
    char *err, size_t errlen);

/* What kind of file st_mode is, in words ("a FIFO", "a folder", ...). */
const char *readfile_kind(unsigned mode);

#endif
