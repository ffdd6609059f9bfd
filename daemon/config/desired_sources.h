/* desired_sources.h: the files a desired state reads besides its YAML
 * files: env values given as {file: PATH}. The folder fingerprint
 * (desired_fingerprint.h) cannot see them, as only a load finds their
 * paths, and they may live anywhere (a secrets mount). So every load lists
 * them with a digest of what it read (or of the error it met), valid state
 * or not, and the daemon's level check reads them again and compares: a
 * secret changed in place, appearing or going away is a change. */
#ifndef CP_DESIRED_SOURCES_H
#define CP_DESIRED_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct desired_source {
	char *path;               /* as opened (relative ones resolved) */
	uint64_t digest;          /* of the bytes read, or of the error */
};

struct desired_sources {
	struct desired_source *items;
	size_t n, cap;
};

/* At most cap bytes of a regular file, opened without blocking (a FIFO is
 * refused, not waited on) and following links (secrets mounts are links):
 * 0 and *len, or -errno (-EINVAL: not a regular file). */
int desired_source_read(const char *path, char *buf, size_t cap, size_t *len);

/* Records that path gave these bytes (rc 0) or this error (rc < 0).
 * 0 or -ENOMEM. */
int desired_sources_add(struct desired_sources *s, const char *path, int rc,
    const char *buf, size_t len);
/* Reads every source again: *changed when any gives other bytes or
 * another error than when it was recorded. 0, or -ENOMEM. */
int desired_sources_changed(const struct desired_sources *s, bool *changed);
void desired_sources_free(struct desired_sources *s);   /* leaves it empty */

#endif
