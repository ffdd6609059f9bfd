/* desired_files.c: the walk of a desired-state folder. Relative paths are
 * collected, sorted bytewise and only then joined to the root, so the
 * order does not depend on how the root was spelt. */
#include "desired_files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"

struct list {
	char **v;
	size_t n;
	size_t cap;
};

struct dir_id {
	dev_t dev;
	ino_t ino;
};

static void
list_free(struct list *fl)
{
	for (size_t i = 0; i < fl->n; i++)
		free(fl->v[i]);
	free(fl->v);
	memset(fl, 0, sizeof(*fl));
}

static int
list_add(struct list *fl, const char *s)
{
	char *copy;

	if (fl->n == fl->cap) {
		size_t ncap = fl->cap ? fl->cap * 2 : 16;
		char **p = realloc(fl->v, ncap * sizeof(*p));

		if (p == NULL)
			return -ENOMEM;
		fl->v = p;
		fl->cap = ncap;
	}
	if ((copy = strdup(s)) == NULL)
		return -ENOMEM;
	fl->v[fl->n++] = copy;
	return 0;
}

static bool
has_yaml_ext(const char *name)
{
	size_t n = strlen(name);

	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

/* root + "/" + rel, without doubling a slash the user wrote. */
static char *
join(const char *root, const char *rel)
{
	size_t n = strlen(root);
	char *s;

	if (rel == NULL || *rel == '\0')
		return strdup(root);
	if (n > 0 && root[n - 1] == '/')
		return asprintf(&s, "%s%s", root, rel) < 0 ? NULL : s;
	return asprintf(&s, "%s/%s", root, rel) < 0 ? NULL : s;
}

static int
cmp_rel(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One entry of a folder: a sub-folder is walked, a YAML name listed. */
static int walk(const char *root, const char *rel, struct dir_id *seen,
    size_t depth, struct list *fl, struct diag *d);

static int
visit(const char *root, const char *name, const char *child_rel,
    struct dir_id *seen, size_t depth, struct list *fl, struct diag *d)
{
	char *child_path;
	struct stat st;
	size_t i;
	int rc = 0;

	if ((child_path = join(root, child_rel)) == NULL)
		return -ENOMEM;
	if (stat(child_path, &st) != 0) {
		/* A dangling link named *.yaml is an error when loaded;
		 * anything else that cannot be looked at is not ours. */
		if (has_yaml_ext(name))
			rc = list_add(fl, child_rel);
	} else if (S_ISDIR(st.st_mode)) {
		for (i = 0; i <= depth; i++)
			if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino)
				break;
		if (i <= depth)
			diag_error(d, child_path, 0, 0,
			    "folder loop: this folder contains itself "
			    "through a symbolic link");
		else if (depth + 1 > DESIRED_FILES_MAX_DEPTH)
			diag_error(d, child_path, 0, 0,
			    "folders nested deeper than %d levels",
			    DESIRED_FILES_MAX_DEPTH);
		else {
			seen[depth + 1].dev = st.st_dev;
			seen[depth + 1].ino = st.st_ino;
			rc = walk(root, child_rel, seen, depth + 1, fl, d);
		}
	} else if (has_yaml_ext(name)) {
		/* Not a regular file: loading it reports that. */
		rc = list_add(fl, child_rel);
	}
	free(child_path);
	return rc;
}

/* `seen` holds the folders from the root down to here, so a symbolic link
 * back up the tree is reported instead of followed. */
static int
walk(const char *root, const char *rel, struct dir_id *seen, size_t depth,
    struct list *fl, struct diag *d)
{
	char *dir_path, *child_rel;
	struct dirent *de;
	DIR *dir;
	int rc = 0;

	if ((dir_path = join(root, rel)) == NULL)
		return -ENOMEM;
	if ((dir = opendir(dir_path)) == NULL) {
		diag_error(d, dir_path, 0, 0, "cannot read folder: %s",
		    strerror(errno));
		free(dir_path);
		return 0;      /* reported; the other folders are still read */
	}
	while (rc == 0 && (errno = 0, de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (rel == NULL)
			child_rel = strdup(de->d_name);
		else if (asprintf(&child_rel, "%s/%s", rel, de->d_name) < 0)
			child_rel = NULL;
		if (child_rel == NULL) {
			rc = -ENOMEM;
			break;
		}
		rc = visit(root, de->d_name, child_rel, seen, depth, fl, d);
		free(child_rel);
	}
	if (rc == 0 && errno != 0)
		diag_error(d, dir_path, 0, 0, "cannot read folder: %s",
		    strerror(errno));
	closedir(dir);
	free(dir_path);
	return rc;
}

int
desired_files_list(const char *path, struct desired_files *out,
    struct diag *d)
{
	struct dir_id seen[DESIRED_FILES_MAX_DEPTH + 1];
	struct list fl = { NULL, 0, 0 };
	struct stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) != 0) {
		rc = -errno;
		diag_error(d, path, 0, 0, "cannot read: %s", strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		if ((out->paths = calloc(1, sizeof(*out->paths))) == NULL ||
		    (out->paths[0] = strdup(path)) == NULL) {
			free(out->paths);
			out->paths = NULL;
			return -ENOMEM;
		}
		out->n = 1;
		return 0;
	}
	out->is_dir = true;
	seen[0].dev = st.st_dev;
	seen[0].ino = st.st_ino;
	rc = walk(path, NULL, seen, 0, &fl, d);
	if (rc == 0 && fl.n > 1)
		qsort(fl.v, fl.n, sizeof(*fl.v), cmp_rel);
	/* The relative names become the paths, in place. */
	for (size_t i = 0; rc == 0 && i < fl.n; i++) {
		char *full = join(path, fl.v[i]);

		if (full == NULL)
			rc = -ENOMEM;
		else {
			free(fl.v[i]);
			fl.v[i] = full;
		}
	}
	if (rc != 0) {
		list_free(&fl);
		return rc;
	}
	out->paths = fl.v;
	out->n = fl.n;
	return 0;
}

void
desired_files_free(struct desired_files *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	memset(f, 0, sizeof(*f));
}
