/* keypath.h: where a deploy key's secret lives under keys_dir (SPEC section
 * 9): keys_dir/ENC(project)/ENC(reference)/ENC(key name).
 *
 * ENC keeps the bytes a-z, 0-9, '_' and '-' and writes every other byte as
 * %XX (upper-case hex), '%' itself included. So a component is never empty,
 * never "." or "..", holds no '/' and no NUL, and two different names never
 * give the same component (the encoding is injective). A component longer
 * than KEYPATH_SEGMENT_MAX is cut into folders: every piece but the last
 * ends with '+', a byte ENC never writes, so the pieces read back one way
 * only and a file name never passes NAME_MAX. Pure: no I/O. */
#ifndef CP_KEYPATH_H
#define CP_KEYPATH_H

#include <stddef.h>

#define KEYPATH_SEGMENT_MAX 200
/* Room for any path of names within the desired state's limits (project
 * 128 bytes, reference 100, key 64: at most 3 bytes each when encoded). */
#define KEYPATH_MAX 1200

/* ENC(s) of one name into out (n bytes), folders cut as above. 0, or
 * -EINVAL (empty s), -ENAMETOOLONG (out too small). */
int keypath_component(char *out, size_t n, const char *s);
/* "ENC(project)/ENC(reference)/ENC(key)", relative to keys_dir. */
int keypath_relative(char *out, size_t n, const char *project,
    const char *reference, const char *key);

#endif
