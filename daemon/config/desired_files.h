/* desired_files.h: which files a desired-state path names, in the order
 * they are loaded (SPEC section 2): the path itself when it is not a
 * folder; else every file ending .yaml or .yml under it, in byte order of
 * its path relative to the folder, names starting with "." skipped (files
 * and folders), symbolic links followed but a link back up the tree
 * reported as a loop, at most DESIRED_FILES_MAX_DEPTH folders deep. The
 * loader reads this list; a change detector can fingerprint the same one. */
#ifndef CP_DESIRED_FILES_H
#define CP_DESIRED_FILES_H

#include <stdbool.h>
#include <stddef.h>

struct diag;

#define DESIRED_FILES_MAX_DEPTH 64     /* folder levels under the root */

struct desired_files {
	char **paths;            /* path to open and to show, in load order */
	size_t n;
	bool is_dir;             /* the path was a folder */
};

/* Fills *out (empty on failure). Returns 0 (folders that could not be read,
 * loops and depth are then reported in d but do not stop the listing);
 * -errno when path itself cannot be looked at (reported as "PATH: error:
 * cannot read: ..."), or -ENOMEM. A name ending .yaml that is not a regular
 * file (a FIFO, a dangling link) is listed: reading it reports why. */
int desired_files_list(const char *path, struct desired_files *out,
    struct diag *d);
void desired_files_free(struct desired_files *f);   /* accepts NULL */

#endif
