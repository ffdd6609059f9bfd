/* cprun.c: runs a command and reports what it cost (wall time, user and
 * system CPU, peak RSS from wait4's rusage), for the benchmarks; the same
 * figures as /usr/bin/time -v without needing the `time` package.
 *
 *   cprun OUTFILE COMMAND [ARG...]
 *
 * Writes one line "wall_ms=N user_ms=N sys_ms=N maxrss_kb=N exit=N" to
 * OUTFILE and exits with the command's exit code (128+N after a signal). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
	pid_t pid;
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
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("cprun: wait4");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if ((out = fopen(argv[1], "w")) == NULL) {
		perror(argv[1]);
		return 2;
	}
	fprintf(out, "wall_ms=%lld user_ms=%lld sys_ms=%lld maxrss_kb=%ld exit=%d\n",
	    (long long)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000,
	    ms_of(ru.ru_utime), ms_of(ru.ru_stime), ru.ru_maxrss, code);
	fclose(out);
	return code;
}
