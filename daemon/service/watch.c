/* watch.c: uv_fs_event per folder of the desired tree, a watcher on the
 * parent for the path itself, and a debounce timer. The tree is rescanned
 * when the timer fires, before the callback, so whatever changed in a new
 * folder before its watcher existed is still read by the reload that the
 * callback starts. */
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define WATCH_MAX_DEPTH 64
#define MAX_WAIT_FACTOR 10

struct watch_dir {
	uv_fs_event_t ev;
	struct watch *w;
	char *path;
	dev_t dev;
	ino_t ino;
	bool seen;                   /* found by the current scan */
	struct watch_dir *next;
};

struct watch {
	uv_loop_t *loop;
	char *root;                  /* absolute, no trailing slash */
	const char *base;            /* last component of root */
	uv_timer_t timer;
	uv_fs_event_t parent;        /* the folder holding root */
	bool have_parent;
	struct watch_dir *dirs;      /* live watchers under root */
	size_t ndirs;
	uint64_t debounce_ms;
	uint64_t first_ms;           /* when the current burst began */
	watch_cb cb;
	void *arg;
	int handles;                 /* not yet closed */
	bool stopping;
	bool warned_full;
};

static void
release(struct watch *w)
{
	if (--w->handles > 0 || !w->stopping)
		return;
	free(w->root);
	free(w);
}

static void
on_timer_closed(uv_handle_t *h)
{
	release(h->data);
}

static void
on_parent_closed(uv_handle_t *h)
{
	release(h->data);
}

static void
on_dir_closed(uv_handle_t *h)
{
	struct watch_dir *d = h->data;
	struct watch *w = d->w;

	free(d->path);
	free(d);
	release(w);
}

static void on_fire(uv_timer_t *t);
static void rescan(struct watch *w);

static void
arm(struct watch *w)
{
	uint64_t now = uv_now(w->loop), max = w->debounce_ms * MAX_WAIT_FACTOR;
	uint64_t delay = w->debounce_ms, spent;

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
on_fire(uv_timer_t *t)
{
	struct watch *w = t->data;

	rescan(w);
	w->cb(w->arg);
}

static void
on_dir_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct watch_dir *d = h->data;

	(void)events;
	if (status == 0 && name != NULL && name[0] == '.')
		return;
	if (status < 0)
		log_warnx("watch %s: %s", d->path, uv_strerror(status));
	arm(d->w);
}

static void
on_parent_event(uv_fs_event_t *h, const char *name, int events, int status)
{
	struct watch *w = h->data;

	(void)events;
	/* only the root's own name matters among its siblings */
	if (status == 0 && name != NULL && strcmp(name, w->base) != 0)
		return;
	arm(w);
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
	uv_close((uv_handle_t *)&d->ev, on_dir_closed);
}

static void
dir_add(struct watch *w, const char *path, const struct stat *st)
{
	struct watch_dir *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL || (d->path = strdup(path)) == NULL) {
		free(d);
		log_warnx("watch %s: out of memory", path);
		return;
	}
	d->w = w;
	d->dev = st->st_dev;
	d->ino = st->st_ino;
	d->seen = true;
	if ((rc = uv_fs_event_init(w->loop, &d->ev)) != 0) {
		log_warnx("watch %s: %s", path, uv_strerror(rc));
		free(d->path);
		free(d);
		return;
	}
	d->ev.data = d;
	w->handles++;
	d->next = w->dirs;
	w->dirs = d;
	w->ndirs++;
	if ((rc = uv_fs_event_start(&d->ev, on_dir_event, path, 0)) != 0) {
		/* gone already, or out of inotify watches: the next scan retries */
		log_warnx("watch %s: %s", path, uv_strerror(rc));
		dir_close(w, d);
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
		if (w->ndirs >= WATCH_MAX_DIRS) {
			/* nor walk further: a symlink to / must not cost a full scan */
			if (!w->warned_full)
				log_warnx("watch: more than %d folders under %s; changes "
				    "beyond them wait for the next interval",
				    WATCH_MAX_DIRS, w->root);
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

int
watch_start(uv_loop_t *loop, const char *path, uint64_t debounce_ms,
    watch_cb cb, void *arg, struct watch **out)
{
	struct watch *w;
	char *parent;
	int rc;

	*out = NULL;
	if (path == NULL || *path == '\0' || cb == NULL)
		return -EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	if ((w->root = normalize(path)) == NULL) {
		free(w);
		return -ENOMEM;
	}
	w->base = strrchr(w->root, '/') + 1;
	w->loop = loop;
	w->debounce_ms = debounce_ms;
	w->cb = cb;
	w->arg = arg;
	if ((rc = uv_timer_init(loop, &w->timer)) != 0) {
		free(w->root);
		free(w);
		return rc;
	}
	w->timer.data = w;
	w->handles = 1;
	if (*w->base != '\0') {
		/* "/" has no parent to watch */
		if ((parent = strndup(w->root, (size_t)(w->base - 1 - w->root))) == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
		rc = uv_fs_event_init(loop, &w->parent);
		if (rc == 0) {
			w->parent.data = w;
			w->handles++;
			w->have_parent = true;
			rc = uv_fs_event_start(&w->parent, on_parent_event,
			    *parent ? parent : "/", 0);
		}
		free(parent);
		if (rc != 0)
			goto fail;
	}
	rescan(w);
	*out = w;
	return 0;
fail:
	watch_stop(w);
	return rc;
}

void
watch_stop(struct watch *w)
{
	if (w == NULL || w->stopping)
		return;
	w->stopping = true;
	while (w->dirs != NULL)
		dir_close(w, w->dirs);
	if (w->have_parent)
		uv_close((uv_handle_t *)&w->parent, on_parent_closed);
	uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

size_t
watch_dirs(const struct watch *w)
{
	return w ? w->ndirs : 0;
}
