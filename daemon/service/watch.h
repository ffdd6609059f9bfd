/* watch.h: notice changes under the desired path (a file or a folder tree)
 * and report them, debounced, as one callback. Linux has no recursive
 * inotify: one watch per folder, added and removed as folders come and go,
 * plus one on the parent folder so that the path itself being replaced (a
 * rename, a symlink swap) is seen too.
 *
 * The watch has an inotify instance of its own, read through a uv_poll_t
 * (libuv's uv_fs_event shares one per loop and drops IN_Q_OVERFLOW), so
 * that what inotify could not do is reported instead of silently missed:
 * the kernel's event queue overflowing, a folder that could not be watched.
 * Events only ever make a reload come sooner: the daemon compares the
 * files' fingerprint at every reconcile whatever the watch says. */
#ifndef CP_WATCH_H
#define CP_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define WATCH_DEBOUNCE_MS 1000
/* Folders watched at most; beyond that a WATCH_LIMIT problem, and changes
 * in the rest are seen by the fingerprint check of the next reconcile. */
#define WATCH_MAX_DIRS 4096

enum watch_problem {
	/* The kernel's event queue overflowed (fs.inotify.max_queued_events):
	 * events were lost. The change callback follows at once. */
	WATCH_OVERFLOW = 0,
	/* A folder could not be watched: the user's inotify watches are used
	 * up (ENOSPC, fs.inotify.max_user_watches), or err 0: more than
	 * max_dirs folders. */
	WATCH_LIMIT,
	/* A folder could not be watched for another reason (err). */
	WATCH_ERROR,
};
#define WATCH_PROBLEMS 3

/* Test hooks: what the kernel does when it runs short, on demand. */
enum watch_fault {
	WATCH_FAULT_NONE = 0,
	/* the first events read that concern the path are dropped and
	 * IN_Q_OVERFLOW read in their place, as the kernel does when its
	 * queue is full */
	WATCH_FAULT_OVERFLOW,
	/* every watch of a folder under the path fails with ENOSPC (the
	 * parent folder's watch still works) */
	WATCH_FAULT_LIMIT,
	/* ... with EACCES */
	WATCH_FAULT_ERROR,
};

struct watch_params {
	/* Every change under the path (names starting with '.' aside, as the
	 * loader skips them) arms a timer of debounce_ms, restarted by each
	 * further change but never pushed past 10 x debounce_ms after the
	 * first one; when it fires, the folder watches are brought up to date
	 * and then changed(arg) is called once. */
	uint64_t debounce_ms;
	void (*changed)(void *arg);
	/* Something inotify could not do: the folder concerned (NULL for an
	 * overflow) and an errno value. A folder is reported once and not
	 * tried again until it is replaced or the watch started anew. Called
	 * from watch_start too, and in the middle of a scan: it must not stop
	 * the watch. May be NULL. */
	void (*problem)(void *arg, enum watch_problem p, const char *path, int err);
	void *arg;
	size_t max_dirs;           /* 0: WATCH_MAX_DIRS */
	enum watch_fault fault;    /* tests; WATCH_FAULT_NONE */
};

struct watch;

/* Starts watching `path` on `loop` (`p` is copied). The path need not
 * exist yet, but its parent folder must. 0, or a negative errno (then *out
 * is NULL): -EMFILE when the user's inotify instances are used up
 * (fs.inotify.max_user_instances), -ENOSPC when the parent folder cannot
 * be watched for want of watches. */
int watch_start(uv_loop_t *loop, const char *path, const struct watch_params *p,
    struct watch **out);
/* Closes every handle; the struct is freed when the last close callback
 * has run, so the loop must run once more. Safe inside the change
 * callback. NULL is ignored. */
void watch_stop(struct watch *w);
/* Folders under the path being watched now (0 when the path is a file). */
size_t watch_dirs(const struct watch *w);

/* "overflow", "limit", "error": the reason label of the metric. */
const char *watch_problem_name(enum watch_problem p);
/* "overflow", "limit", "error" (and "" or "none") -> the fault. 0 or
 * -EINVAL. */
int watch_fault_parse(const char *s, enum watch_fault *out);

#endif
