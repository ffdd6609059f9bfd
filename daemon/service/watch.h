/* watch.h: notice changes under the desired path (a file or a folder tree)
 * and report them, debounced, as one callback. Linux has no recursive
 * uv_fs_event: one watcher per folder, added and removed as folders come
 * and go, plus one on the parent folder so that the path itself being
 * replaced (a rename, a symlink swap) is seen too. */
#ifndef CP_WATCH_H
#define CP_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define WATCH_DEBOUNCE_MS 1000
/* Folders watched at most; beyond that a warning, and changes in the rest
 * are seen at the next periodic reconcile. */
#define WATCH_MAX_DIRS 4096

typedef void (*watch_cb)(void *arg);

struct watch;

/* Starts watching `path` on `loop`. Every change under it (names starting
 * with '.' aside, as the loader skips them) arms a timer of `debounce_ms`,
 * restarted by each further change but never pushed past 10 × debounce_ms
 * after the first one; when it fires, the folder watchers are brought up to
 * date and then `cb(arg)` is called once. The path need not exist yet, but
 * its parent folder must. 0, or a negative errno (then *out is NULL). */
int watch_start(uv_loop_t *loop, const char *path, uint64_t debounce_ms,
    watch_cb cb, void *arg, struct watch **out);
/* Closes every handle; the struct is freed when the last close callback
 * has run, so the loop must run once more. Safe inside the callback. NULL
 * is ignored. */
void watch_stop(struct watch *w);
/* Folders under the path being watched now (0 when the path is a file). */
size_t watch_dirs(const struct watch *w);

#endif
