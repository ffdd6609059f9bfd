/* desired_fingerprint.h: a cheap fingerprint of the files the desired-state
 * loader reads (desired_files_list: the same list, in the same order), so
 * that the daemon can tell at every reconcile whether they changed since
 * the last load without reading them: each file's path relative to the
 * desired path, and what stat(2) says of the file the loader opens (device,
 * inode, type and mode, size, mtime and ctime with their nanoseconds), plus
 * the folder errors of the walk, folded into one 64-bit SipHash-2-4 digest.
 * A file added, removed or renamed changes the list; an edit changes the
 * size, the times or (written to a new file and renamed over) the inode.
 *
 * 64 bits are enough: a digest is only ever compared with the previous one
 * of the same path, so a change goes unseen only when the two collide, a
 * chance of 2^-64 per change with a hash that mixes as SipHash does (one
 * nanosecond more gives an unrelated digest). Nothing is gained by forging
 * a collision: whoever can write the files can change the state anyway.
 *
 * Time stamps are only as fine as the file system's clock tick (a few ms,
 * one second on some), so a file written twice within one tick, the second
 * time after the fingerprint was taken and at the same size, could keep
 * its stat data. Such files are "recent" (stamped less than
 * DESIRED_FINGERPRINT_RECENT_MS before the fingerprint, or later): their
 * bytes are hashed too, and compared again until they have settled, as git
 * does for its "racily clean" index entries. */
#ifndef CP_DESIRED_FINGERPRINT_H
#define CP_DESIRED_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* A file stamped within this of the fingerprint is "recent"; one second
 * covers file systems that keep whole seconds, the rest clock skew. */
#define DESIRED_FINGERPRINT_RECENT_MS 2000

struct desired_fingerprint {
	uint64_t digest;          /* paths, stat data, folder errors */
	uint64_t content;         /* the bytes of the recent files; 0: none */
	struct timespec since;    /* files stamped at or after it are recent */
	size_t n_files;
	size_t n_recent;          /* files whose bytes are in `content` */
};

/* Fingerprints the files `path` names now. A path or folder that cannot be
 * read gives a fingerprint too (of the error), so that it coming back is a
 * change. 0, or -ENOMEM. */
int desired_fingerprint_take(const char *path, struct desired_fingerprint *out);
/* Whether the files changed since *fp was taken: *changed. When they did
 * not, *fp is brought forward (its recent files' bytes are dropped from it
 * once they have settled), so keep comparing with it; when they did, take
 * a new fingerprint before loading them. 0, or -ENOMEM (then *changed is
 * true: a caller that cannot tell reloads). */
int desired_fingerprint_check(const char *path, struct desired_fingerprint *fp,
    bool *changed);
/* The digest as 16 hex digits and a NUL. */
void desired_fingerprint_hex(const struct desired_fingerprint *fp, char *out,
    size_t len);

/* The same at a given CLOCK_REALTIME time (tests, the benchmark). */
int desired_fingerprint_take_at(const char *path, const struct timespec *now,
    struct desired_fingerprint *out);
int desired_fingerprint_check_at(const char *path, const struct timespec *now,
    struct desired_fingerprint *fp, bool *changed);
/* One file's share of the digest: its relative path and stat data, or the
 * errno of a stat that failed (then st is not read). Tests. */
uint64_t desired_fingerprint_file(const char *rel, const struct stat *st,
    int err);

#endif
