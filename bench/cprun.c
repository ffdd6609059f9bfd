/* cprun.c: runs a command and reports what it cost (wall time, user and
 * system CPU, peak RSS from wait4's rusage), for the benchmarks; the same
 * figures as /usr/bin/time -v without needing the `time` package. It also
 * samples RssAnon every 2 ms: the peak of the process's own memory, apart
 * from the shared libraries' pages that peak RSS counts too.
 *
 *   cprun OUTFILE COMMAND [ARG...]
 *
 * Writes one line "wall_ms=N user_ms=N sys_ms=N maxrss_kb=N anon_kb=N
 * exit=N" to OUTFILE and exits with the command's exit code (128+N after a
 * signal). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* RssAnon of pid in KiB, or -1. */
static long
rss_anon(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long long
ms_of(struct timeval tv)
{
	return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	struct timespec nap = { 0, 2 * 1000 * 1000 };
	long anon, anon_max = 0;
	pid_t pid, got;
	int status, code;

	if (argc < 3) {
		fprintf(stderr, "usage: cprun OUTFILE COMMAND [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) < 0) {
		perror("cprun: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "cprun: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	for (;;) {
		got = wait4(pid, &status, WNOHANG, &ru);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR) {
			perror("cprun: wait4");
			return 2;
		}
		if ((anon = rss_anon(pid)) > anon_max)
			anon_max = anon;
		nanosleep(&nap, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if ((out = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	fprintf(out, "wall_ms=%lld user_ms=%lld sys_ms=%lld maxrss_kb=%ld "
	    "anon_kb=%ld exit=%d\n",
	    (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000,
	    ms_of(ru.ru_utime), ms_of(ru.ru_stime), ru.ru_maxrss, anon_max, code);
	fclose(out);
	return code;
}
