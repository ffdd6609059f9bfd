/* watch.c: one inotify instance per watch, read by a uv_poll_t; a watch per
 * folder of the desired tree, one on the parent for the path itself, and a
 * debounce timer. The tree is rescanned when the timer fires, before the
 * callback, so whatever changed in a new folder before its watch existed
 * is still read by the reload that the callback starts. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdefs.h"
#include "log.h"

#define WATCH_MAX_DEPTH 64
#define MAX_WAIT_FACTOR 10

/* What a folder's watch reports: its entries created, deleted, written,
 * touched or moved, and itself deleted or moved. */
#define DIR_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | \
    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* The parent's: the same for its entries (only the path's name counts). */
#define PARENT_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | \
    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

struct watch_dir {
	char *path;
	dev_t dev;
	ino_t ino;
	int wd;                      /* -1: not watched */
	bool seen;                   /* found by the current scan */
	bool failed;                 /* could not be watched: reported */
	struct watch_dir *next;
};

struct watch {
	uv_loop_t *loop;
	char *root;                  /* absolute, no trailing slash */
	const char *base;            /* last component of root */
	int fd;                      /* the inotify instance */
	uv_poll_t poll;
	uv_timer_t timer;
	int parent_wd;               /* -1: none ("/" has no parent) */
	struct watch_dir *dirs;      /* folders under root, watched or not */
	size_t ndirs;
	struct watch_params p;
	uint64_t first_ms;           /* when the current burst began */
	int handles;                 /* not yet closed */
	bool stopping;
	bool warned_full;
	bool fault_done;             /* the injected overflow has happened */
};

static void
release(struct watch *w)
{
	if (--w->handles > 0 || !w->stopping)
		return;
	/* the poll handle is closed: now the descriptor may go, and with it
	 * every watch it holds */
	if (w->fd >= 0)
		close(w->fd);
	free(w->root);
	free(w);
}

static void
on_closed(uv_handle_t *h)
{
	release(h->data);
}

static void
report(struct watch *w, enum watch_problem pb, const char *path, int err)
{
	if (w->p.problem != NULL && !w->stopping)
		w->p.problem(w->p.arg, pb, path, err);
}

static void on_fire(uv_timer_t *t);
static void rescan(struct watch *w);

static void
arm_in(struct watch *w, uint64_t delay)
{
	uint64_t now = uv_now(w->loop), max = w->p.debounce_ms * MAX_WAIT_FACTOR;
	uint64_t spent;

	if (w->stopping)
		return;
	if (!uv_is_active((uv_handle_t *)&w->timer))
		w->first_ms = now;
	/* a tree that never stops changing still gets reloaded now and then */
	spent = now - w->first_ms;
	if (spent + delay > max)
		delay = spent >= max ? 0 : max - spent;
	uv_timer_start(&w->timer, on_fire, delay, 0);
}

static void
arm(struct watch *w)
{
	arm_in(w, w->p.debounce_ms);
}

static void
on_fire(uv_timer_t *t)
{
	struct watch *w = t->data;

	rescan(w);
	if (!w->stopping)
		w->p.changed(w->p.arg);
}

/* ---- the folder watches ------------------------------------------------ */

static int
add_watch(struct watch *w, const char *path, uint32_t mask, bool under_root)
{
	int wd;

	if (under_root && w->p.fault == WATCH_FAULT_LIMIT)
		return -ENOSPC;
	if (under_root && w->p.fault == WATCH_FAULT_ERROR)
		return -EACCES;
	wd = inotify_add_watch(w->fd, path, mask);
	return wd >= 0 ? wd : -errno;
}

/* inotify gives one watch per inode: a folder reached under two names
 * (through a symbolic link) shares it, so it is removed with the last. */
static bool
wd_shared(const struct watch *w, const struct watch_dir *d)
{
	if (d->wd == w->parent_wd)
		return true;
	for (const struct watch_dir *o = w->dirs; o != NULL; o = o->next)
		if (o != d && o->wd == d->wd)
			return true;
	return false;
}

static void
dir_close(struct watch *w, struct watch_dir *d)
{
	struct watch_dir **pp;

	for (pp = &w->dirs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	w->ndirs--;
	if (d->wd >= 0 && !wd_shared(w, d))
		inotify_rm_watch(w->fd, d->wd);
	free(d->path);
	free(d);
}

static void
dir_add(struct watch *w, const char *path, const struct stat *st)
{
	struct watch_dir *d;
	int wd;

	if ((d = calloc(1, sizeof(*d))) == NULL || (d->path = strdup(path)) == NULL) {
		free(d);
		log_warnx("watch %s: out of memory", path);
		return;
	}
	d->dev = st->st_dev;
	d->ino = st->st_ino;
	d->seen = true;
	d->wd = -1;
	d->next = w->dirs;
	w->dirs = d;
	w->ndirs++;
	wd = add_watch(w, path, DIR_MASK, true);
	if (wd >= 0) {
		d->wd = wd;
	} else if (wd == -ENOENT || wd == -ENOTDIR) {
		/* gone already: its removal is an event of the folder above */
		dir_close(w, d);
	} else {
		/* kept as not watched, so it is reported once, not at every
		 * scan; its sub-folders are still tried */
		d->failed = true;
		report(w, wd == -ENOSPC ? WATCH_LIMIT : WATCH_ERROR, path, -wd);
	}
}

static struct watch_dir *
dir_find_path(struct watch *w, const char *path)
{
	for (struct watch_dir *d = w->dirs; d != NULL; d = d->next)
		if (strcmp(d->path, path) == 0)
			return d;
	return NULL;
}

/* A folder reached twice in one scan (a symlink loop) is walked once. */
static bool
seen_inode(struct watch *w, const struct stat *st)
{
	for (struct watch_dir *d = w->dirs; d != NULL; d = d->next)
		if (d->seen && d->dev == st->st_dev && d->ino == st->st_ino)
			return true;
	return false;
}

static void
walk(struct watch *w, const char *path, const struct stat *st, int depth)
{
	struct watch_dir *d = dir_find_path(w, path);
	size_t max = w->p.max_dirs ? w->p.max_dirs : WATCH_MAX_DIRS;
	struct dirent *de;
	DIR *dir;

	if (d != NULL && (d->dev != st->st_dev || d->ino != st->st_ino)) {
		/* the folder was replaced under the same name */
		dir_close(w, d);
		d = NULL;
	}
	if (d == NULL) {
		if (seen_inode(w, st))
			return;
		if (w->ndirs >= max) {
			/* nor walk further: a symlink to / must not cost a full scan */
			if (!w->warned_full)
				report(w, WATCH_LIMIT, path, 0);
			w->warned_full = true;
			return;
		}
		dir_add(w, path, st);
	} else {
		if (d->seen)
			return;
		d->seen = true;
	}
	if (depth >= WATCH_MAX_DEPTH || (dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		char *child;
		struct stat cst;

		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_LNK &&
		    de->d_type != DT_UNKNOWN)
			continue;
		if (asprintf(&child, "%s/%s", path, de->d_name) < 0)
			break;
		if (stat(child, &cst) == 0 && S_ISDIR(cst.st_mode))
			walk(w, child, &cst, depth + 1);
		free(child);
	}
	closedir(dir);
}

static void
rescan(struct watch *w)
{
	struct watch_dir *d, *next;
	struct stat st;

	for (d = w->dirs; d != NULL; d = d->next)
		d->seen = false;
	if (stat(w->root, &st) == 0 && S_ISDIR(st.st_mode))
		walk(w, w->root, &st, 0);
	for (d = w->dirs; d != NULL; d = next) {
		next = d->next;
		if (!d->seen)
			dir_close(w, d);
	}
}

/* ---- reading events ---------------------------------------------------- */

/* Whether an event is about the path or what lies under it. */
static bool
relevant(const struct watch *w, const struct inotify_event *e)
{
	const char *name = e->len > 0 ? e->name : NULL;

	if (e->mask & (IN_Q_OVERFLOW | IN_IGNORED))
		return false;
	if (e->wd == w->parent_wd) {
		/* among the parent's entries only the path itself matters,
		 * unless the parent is also a folder of the tree (a link) */
		if (name == NULL || strcmp(name, w->base) == 0)
			return true;
		for (const struct watch_dir *d = w->dirs; d != NULL; d = d->next)
			if (d->wd == e->wd)
				return name[0] != '.';
		return false;
	}
	return name == NULL || name[0] != '.';
}

static void
on_event(struct watch *w, const struct inotify_event *e)
{
	if (e->mask & IN_Q_OVERFLOW) {
		report(w, WATCH_OVERFLOW, NULL, 0);
		/* what was lost is unknown: look at once */
		arm_in(w, 0);
		return;
	}
	if (e->mask & IN_IGNORED) {
		/* the kernel dropped the watch (its folder is gone: the event
		 * that said so came first), or we removed it */
		for (struct watch_dir *d = w->dirs; d != NULL; d = d->next)
			if (d->wd == e->wd)
				d->wd = -1;
		if (e->wd == w->parent_wd)
			w->parent_wd = -1;
		return;
	}
	if (relevant(w, e))
		arm(w);
}

/* The test hook: the first batch that holds an event about the path is
 * lost, as in a full queue, and the overflow is all that is read. */
static bool
inject_overflow(struct watch *w, const char *buf, ssize_t n)
{
	struct inotify_event ov = { .wd = -1, .mask = IN_Q_OVERFLOW };
	bool hit = false;

	for (const char *p = buf; p < buf + n && !hit;) {
		const struct inotify_event *e = (const struct inotify_event *)(const void *)p;

		hit = relevant(w, e);
		p += sizeof(*e) + e->len;
	}
	if (!hit)
		return false;
	w->fault_done = true;
	on_event(w, &ov);
	return true;
}

static void
on_readable(uv_poll_t *h, int status, int events)
{
	struct watch *w = h->data;
	/* room for a few events with the longest name each */
	char buf[4 * (sizeof(struct inotify_event) + NAME_MAX + 1)]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events;
	if (status < 0) {
		log_warnx("watch %s: %s", w->root, uv_strerror(status));
		return;
	}
	while (!w->stopping) {
		n = read(w->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN)
				log_warnx("watch %s: reading events: %s", w->root,
				    strerror(errno));
			return;
		}
		if (w->p.fault == WATCH_FAULT_OVERFLOW && !w->fault_done &&
		    inject_overflow(w, buf, n))
			continue;
		for (char *p = buf; p < buf + n && !w->stopping;) {
			const struct inotify_event *e = (const struct inotify_event *)(void *)p;

			on_event(w, e);
			p += sizeof(*e) + e->len;
		}
	}
}

/* ---- start and stop ---------------------------------------------------- */

/* An absolute path without "." components, doubled or trailing slashes;
 * symlinks are kept (a swapped symlink must stay visible as such). */
static char *
normalize(const char *path)
{
	char cwd[4096], *full, *out, *o;
	const char *s;

	if (path[0] == '/')
		full = strdup(path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL || asprintf(&full, "%s/%s", cwd, path) < 0)
		full = NULL;
	if (full == NULL)
		return NULL;
	if ((out = malloc(strlen(full) + 2)) == NULL) {
		free(full);
		return NULL;
	}
	o = out;
	for (s = full; *s != '\0';) {
		size_t n;

		while (*s == '/')
			s++;
		n = strcspn(s, "/");
		if (n == 0)
			break;
		if (!(n == 1 && s[0] == '.')) {
			*o++ = '/';
			memcpy(o, s, n);
			o += n;
		}
		s += n;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	free(full);
	return out;
}

static int
watch_parent(struct watch *w)
{
	char *parent;
	int wd;

	if (*w->base == '\0')
		return 0;       /* "/" has no parent to watch */
	if ((parent = strndup(w->root, (size_t)(w->base - 1 - w->root))) == NULL)
		return -ENOMEM;
	wd = add_watch(w, *parent ? parent : "/", PARENT_MASK, false);
	free(parent);
	if (wd < 0)
		return wd;
	w->parent_wd = wd;
	return 0;
}

int
watch_start(uv_loop_t *loop, const char *path, const struct watch_params *p,
    struct watch **out)
{
	struct watch *w;
	int rc;

	*out = NULL;
	if (path == NULL || *path == '\0' || p == NULL || p->changed == NULL)
		return -EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->fd = -1;
	w->parent_wd = -1;
	w->p = *p;
	w->loop = loop;
	if ((w->root = normalize(path)) == NULL) {
		free(w);
		return -ENOMEM;
	}
	w->base = strrchr(w->root, '/') + 1;
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		rc = -errno;
		free(w->root);
		free(w);
		return rc;
	}
	if ((rc = uv_timer_init(loop, &w->timer)) != 0) {
		close(w->fd);
		free(w->root);
		free(w);
		return rc;
	}
	w->timer.data = w;
	w->handles = 1;
	if ((rc = uv_poll_init(loop, &w->poll, w->fd)) != 0) {
		w->stopping = true;
		uv_close((uv_handle_t *)&w->timer, on_closed);
		return rc;
	}
	w->poll.data = w;
	w->handles = 2;
	if ((rc = uv_poll_start(&w->poll, UV_READABLE, on_readable)) != 0 ||
	    (rc = watch_parent(w)) != 0) {
		watch_stop(w);
		return rc;
	}
	rescan(w);
	*out = w;
	return 0;
}

void
watch_stop(struct watch *w)
{
	if (w == NULL || w->stopping)
		return;
	w->stopping = true;
	/* closing the descriptor (once the poll handle is closed) drops
	 * every watch: no inotify_rm_watch one by one */
	while (w->dirs != NULL) {
		struct watch_dir *d = w->dirs;

		w->dirs = d->next;
		free(d->path);
		free(d);
	}
	w->ndirs = 0;
	uv_close((uv_handle_t *)&w->poll, on_closed);
	uv_close((uv_handle_t *)&w->timer, on_closed);
}

size_t
watch_dirs(const struct watch *w)
{
	size_t n = 0;

	if (w == NULL)
		return 0;
	for (const struct watch_dir *d = w->dirs; d != NULL; d = d->next)
		n += d->wd >= 0;
	return n;
}

const char *
watch_problem_name(enum watch_problem p)
{
	switch (p) {
	case WATCH_OVERFLOW: return "overflow";
	case WATCH_LIMIT: return "limit";
	default: return "error";
	}
}

int
watch_fault_parse(const char *s, enum watch_fault *out)
{
	static const struct { const char *name; enum watch_fault f; } names[] = {
		{ "", WATCH_FAULT_NONE }, { "none", WATCH_FAULT_NONE },
		{ "overflow", WATCH_FAULT_OVERFLOW }, { "limit", WATCH_FAULT_LIMIT },
		{ "error", WATCH_FAULT_ERROR },
	};

	for (size_t i = 0; i < CP_NELEM(names); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return -EINVAL;
}
