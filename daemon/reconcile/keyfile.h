/* keyfile.h: the secret file of a deploy key (SPEC section 9):
 * keys_dir/ENC(project)/ENC(reference)/ENC(key) (keypath.h), folders 0700,
 * the file 0600, written atomically: a temporary file in the same folder,
 * fsync, rename, fsync of the folder. Every folder below keys_dir is
 * opened without following a symbolic link, so nothing placed in keys_dir
 * can send a secret elsewhere. The file holds the secret alone (no
 * newline): `export CONVEX_DEPLOY_KEY=$(cat FILE)`. */
#ifndef CP_KEYFILE_H
#define CP_KEYFILE_H

#include <stddef.h>

#include "model.h"

/* Makes keys_dir (and its parents, 0700) and the folders of the key's
 * path; 0 or a negative errno with `err` saying where. Called before a
 * key is created, so a folder that cannot be made costs no key. */
int keyfile_prepare(const char *keys_dir, const char *project,
    const char *reference, const char *key, char *err, size_t errlen);
/* Writes the secret (after keyfile_prepare's folders); 0 or a negative
 * errno with `err`. The secret never appears in `err`. */
int keyfile_write(const char *keys_dir, const char *project,
    const char *reference, const char *key, const char *secret, char *err,
    size_t errlen);
/* Removes the file of a deleted key (absent: 0). */
int keyfile_remove(const char *keys_dir, const char *project,
    const char *reference, const char *key, char *err, size_t errlen);
/* Renames (SPEC section 8): the path follows the DECLARED project name
 * and reference, so when either is renamed in the files the secret file
 * must follow, or the key would read as one whose secret is lost.
 *
 * Where the file of declared key `key` of dd (in dp) is: 0 at its path,
 * 1 at the path of earlier names (a renamed_from of the project and/or of
 * the deployment; *project and *reference say which), -ENOENT nowhere
 * (or keys_dir NULL). Looks only: observation uses it, so `plan` reports
 * a key that a rename left at its old path as held. */
int keyfile_locate(const char *keys_dir, const struct desired_project *dp,
    const struct desired_deployment *dd, const char *key,
    const char **project, const char **reference);
/* Moves one key's file from the old names' path to the new one: folders
 * made as keyfile_prepare does (no link followed), then a hard link at the
 * new path (never over an existing file: -EEXIST), fsync, the old name
 * removed, fsync. 0 or a negative errno with err. */
int keyfile_move(const char *keys_dir, const char *from_project,
    const char *from_reference, const char *to_project, const char *to_reference,
    const char *key, char *err, size_t errlen);
/* For `apply`, before any action: every declared key of a renamed project
 * or deployment whose file is only at an earlier names' path is moved to
 * its path (*moved counts them). 0, or the first failure (the others are
 * still tried) with err; a key whose file could not be moved is still
 * found where it is next time. */
int keyfile_follow_renames(const char *keys_dir, const struct desired_state *ds,
    size_t *moved, char *err, size_t errlen);

/* keys_dir/RELATIVE into out; 0 or -ENAMETOOLONG. */
int keyfile_path(char *out, size_t n, const char *keys_dir, const char *project,
    const char *reference, const char *key);

#endif
