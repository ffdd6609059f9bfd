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
/* keys_dir/RELATIVE into out; 0 or -ENAMETOOLONG. */
int keyfile_path(char *out, size_t n, const char *keys_dir, const char *project,
    const char *reference, const char *key);

#endif
