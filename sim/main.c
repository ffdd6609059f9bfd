/* main.c: convex-api-sim's command line, signals, and the start and stop of the server. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

static int stop_pipe[2] = { -1, -1 };

/* Only says which signal came; main() does the stopping. */
static void
on_stop_signal(int sig)
{
	unsigned char b = (unsigned char)sig;
	int saved = errno;

	(void)!write(stop_pipe[1], &b, 1);
	errno = saved;
}

int
main(int argc, char **argv)
{
	struct sim_options opt;
	struct sim_ctx ctx;
	struct MHD_Daemon *d;
	struct sigaction sa;
	sigset_t set;
	unsigned port;
	unsigned char sig = 0;
	int rc = 0;

	if (options_parse(argc, argv, &opt) != 0)
		return 2;
	if (opt.help) {
		options_usage(stdout);
		return 0;
	}
	if (opt.version) {
		printf("convex-api-sim %s\n", CP_VERSION);
		return 0;
	}

	/* The stop signals only write their number to a pipe that the main
	 * thread reads. They are blocked while MHD starts its threads (which
	 * inherit the mask), so the main thread is the one that takes them. */
	if (pipe2(stop_pipe, O_CLOEXEC) != 0) {
		sim_log("pipe: %s", strerror(errno));
		return 1;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&ctx, 0, sizeof(ctx));
	ctx.opt = &opt;
	ctx.start_ms = sim_now_ms();
	if (store_init(&ctx.store, opt.team_id, opt.team_slug, opt.seed) != 0)
		return 1;
	faults_init(&ctx.faults, &opt.faults, opt.seed);
	stats_init();
	reqlog_init(opt.log_limit);
	if (opt.state_file != NULL && admin_load_file(&ctx, opt.state_file) != 0) {
		rc = 1;
		goto out;
	}
	port = opt.port;
	if ((d = server_start(&ctx, &port)) == NULL) {
		sim_log("cannot listen on 127.0.0.1:%u", opt.port);
		rc = 1;
		goto out;
	}
	printf("%u\n", port);
	fflush(stdout);
	sim_log("listening on http://127.0.0.1:%u/v1 (team %lld, seed %llu)",
	    port, (long long)opt.team_id, (unsigned long long)opt.seed);

	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (read(stop_pipe[0], &sig, 1) != 1 && errno == EINTR)
		;
	sim_log("signal %d: stopping", sig);
	server_stop(d);
	if (opt.state_file != NULL && admin_save_file(&ctx, opt.state_file) != 0)
		rc = 1;
out:
	script_clear();
	reqlog_free();
	faults_free(&ctx.faults);
	store_free(&ctx.store);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	return rc;
}
