/* notify_listen.c: a stand-in for systemd's notify socket in tests: binds a
 * unix datagram socket at PATH and prints each datagram as one line.
 *
 * Usage: notify_listen [-t] PATH
 *   Each datagram becomes one line on stdout, flushed at once; a newline
 *   inside it (sd_notify separates assignments with them) is written as the
 *   two characters \n, other control bytes as \xNN. With -t each line starts
 *   with CLOCK_MONOTONIC in milliseconds and a space, so a test can measure
 *   the gaps between watchdog pings. SIGTERM or SIGINT: unlink PATH, exit 0.
 *   PATH exists (as a socket) once datagrams are being queued, so a script
 *   waits for `[ -S PATH ]` before starting the sender. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* sd_notify datagrams are small; anything longer is cut, not lost. */
#define MAX_DATAGRAM 65536

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
print_datagram(const unsigned char *p, size_t n, int stamp)
{
	if (stamp) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("%lld ", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	}
	/* a trailing newline is only a terminator */
	while (n > 0 && p[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n')
			fputs("\\n", stdout);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
	putchar('\n');
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sun;
	struct sigaction sa;
	static unsigned char buf[MAX_DATAGRAM];
	const char *path;
	int fd, stamp = 0, argi = 1;

	if (argi < argc && strcmp(argv[argi], "-t") == 0) {
		stamp = 1;
		argi++;
	}
	if (argi + 1 != argc) {
		fprintf(stderr, "usage: notify_listen [-t] PATH\n");
		return 2;
	}
	path = argv[argi];
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "notify_listen: %s: path too long\n", path);
		return 2;
	}
	memcpy(sun.sun_path, path, strlen(path));

	/* no SA_RESTART: the signal must end the blocking recv */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		perror("notify_listen: socket");
		return 1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "notify_listen: bind %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("notify_listen: recv");
			break;
		}
		print_datagram(buf, (size_t)n, stamp);
	}
	close(fd);
	unlink(path);
	return stop ? 0 : 1;
}
