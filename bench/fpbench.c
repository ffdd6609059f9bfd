/* fpbench.c: what the desired-state fingerprint costs, for `make bench`:
 * CPU time (user + system, CLOCK_PROCESS_CPUTIME_ID) of the check the
 * daemon runs before every reconcile, on files that have settled and on
 * files all changed within the last 2 s (their bytes hashed too), and for
 * scale of one load of the same tree.
 *
 *   bench-fingerprint PATH [ITERATIONS]
 *
 * Prints one line: files=N projects=N iterations=N check_us=F
 * check_recent_us=F take_us=F load_us=F (microseconds per tree). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "desired.h"
#include "desired_files.h"
#include "desired_fingerprint.h"
#include "diag.h"

static double
cpu_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench-fingerprint: %s\n", what);
	exit(1);
}

/* Stamps every file of the list now, so that all of them are recent. */
static void
touch_all(const struct desired_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (utimensat(AT_FDCWD, f->paths[i], NULL, 0) != 0)
			die("cannot touch a file");
}

int
main(int argc, char **argv)
{
	struct desired_fingerprint fp;
	struct desired_state ds;
	struct desired_files files;
	struct timespec now, later;
	struct diag dg;
	double t0, check, recent, take, load;
	size_t projects;
	bool changed;
	long n;

	if (argc < 2 || argc > 3)
		die("usage: bench-fingerprint PATH [ITERATIONS]");
	n = argc == 3 ? strtol(argv[2], NULL, 10) : 200;
	if (n < 1)
		die("ITERATIONS must be positive");
	diag_init(&dg);
	if (desired_files_list(argv[1], &files, &dg) != 0 || dg.n_errors > 0)
		die("cannot list the files");

	/* Settled files (an hour later, as far as the fingerprint knows):
	 * what every reconcile of an idle daemon pays. */
	clock_gettime(CLOCK_REALTIME, &later);
	later.tv_sec += 3600;
	if (desired_fingerprint_take_at(argv[1], &later, &fp) != 0)
		die("fingerprint failed");
	t0 = cpu_us();
	for (long i = 0; i < n; i++)
		if (desired_fingerprint_check_at(argv[1], &later, &fp, &changed) != 0 || changed)
			die("check failed");
	check = (cpu_us() - t0) / (double)n;
	t0 = cpu_us();
	for (long i = 0; i < n; i++)
		if (desired_fingerprint_take_at(argv[1], &later, &fp) != 0)
			die("fingerprint failed");
	take = (cpu_us() - t0) / (double)n;

	/* Every file changed within 2 s (a checkout just now): their bytes
	 * are read and hashed at each check until they settle. */
	touch_all(&files);
	clock_gettime(CLOCK_REALTIME, &now);
	if (desired_fingerprint_take_at(argv[1], &now, &fp) != 0 || fp.n_recent != files.n)
		die("the touched files are not recent");
	t0 = cpu_us();
	for (long i = 0; i < n; i++)
		if (desired_fingerprint_check_at(argv[1], &now, &fp, &changed) != 0 || changed)
			die("check failed");
	recent = (cpu_us() - t0) / (double)n;

	/* For scale: loading the same files. */
	t0 = cpu_us();
	if (desired_load(argv[1], &ds, &dg) != 0)
		die("the desired state does not load");
	load = cpu_us() - t0;
	projects = ds.n_projects;
	desired_state_free(&ds);

	printf("files=%zu projects=%zu iterations=%ld check_us=%.1f "
	    "check_recent_us=%.1f take_us=%.1f load_us=%.0f\n", files.n, projects,
	    n, check, recent, take, load);
	desired_files_free(&files);
	diag_free(&dg);
	return 0;
}
