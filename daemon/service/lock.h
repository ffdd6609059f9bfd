/* lock.h: one daemon per state_dir: an exclusive flock on state_dir/lock,
 * held by an fd that stays open for the life of the process. */
#ifndef CP_LOCK_H
#define CP_LOCK_H

#include <stddef.h>

/* Opens (creating, mode 0644) state_dir/lock with O_CLOEXEC, takes an
 * exclusive non-blocking flock and writes our pid into it. Returns the fd
 * (>= 0), which the caller keeps open while it runs. When another process
 * holds it: -EWOULDBLOCK, and `err` says "another convex-provisioner (pid
 * 1234) holds /var/lib/convex-provisioner/lock". Other failures: a negative
 * errno and `err` naming the file and the cause. The folder must exist. */
int lock_acquire(const char *state_dir, char *err, size_t errlen);
/* Closes the fd, which releases the lock; a negative fd is ignored. The file
 * stays: removing it would let a third process lock a new inode while a
 * second still waits on the old one. */
void lock_release(int fd);

#endif
