/* readfile.h: reading a whole small file that something else may have put
 * in our way (a FIFO, a symbolic link, a device, a file that grows while it
 * is read) without ever blocking or mistaking an error for its end. The one
 * reader of the state files, the desired state, the settings, the token and
 * the files env values come from.
 *
 * The file is opened with O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY (so
 * opening a FIFO never waits for a writer) and O_NOFOLLOW unless
 * READFILE_FOLLOW, must be a regular file by fstat, and is read to its end.
 * EINTR is retried; EAGAIN is retried a bounded number of times; any other
 * read error is returned as that error, never taken for the end of the
 * file. */
#ifndef CP_READFILE_H
#define CP_READFILE_H

#include <stddef.h>
#include <sys/stat.h>

/* Follow a symbolic link: for the files a person points us at (desired
 * state, settings, token, env values); never for our own state files. */
#define READFILE_FOLLOW 0x1u

/*
 * On success 0, *out the contents (NUL-terminated, free()) and *len their
 * length. Otherwise *out is NULL, err (if errlen > 0) says what in words
 * (without the path: the caller names the file), and the result is
 *   -ENOENT  the file does not exist
 *   -ELOOP   it is a symbolic link (never followed without READFILE_FOLLOW)
 *   -EINVAL  it is not a regular file (a FIFO, a folder, a socket, ...)
 *   -EFBIG   it is larger than max bytes
 *   -ENOMEM
 *   another negative errno: open, fstat or read failed (-EIO, -EACCES...).
 */
int readfile(const char *path, size_t max, char **out, size_t *len,
    char *err, size_t errlen);
int readfile_flags(const char *path, unsigned flags, size_t max, char **out,
    size_t *len, char *err, size_t errlen);

/*
 * The first cap bytes at most, into the caller's buf (nothing allocated:
 * for secrets kept on the stack and wiped by the caller). *len == cap means
 * the file may hold more. st (if not NULL) gets the open file's fstat, for
 * checks on the very file read (the token's mode). Errors as readfile's,
 * but never -EFBIG or -ENOMEM.
 */
int readfile_into(const char *path, unsigned flags, char *buf, size_t cap,
    size_t *len, struct stat *st, char *err, size_t errlen);

/* What kind of file st_mode is, in words ("a FIFO", "a folder", ...). */
const char *readfile_kind(unsigned mode);

#endif
