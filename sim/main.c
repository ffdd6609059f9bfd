/* main.c: convex-api-sim's command line, signals, and the start and stop of the server. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: convex-api-sim [OPTIONS]\n"
	    "A Convex Management API simulator on 127.0.0.1 (see docs/simulator.md).\n"
	    "\n"
	    "  --port N               port to listen on (default 8050; 0 picks a free one,\n"
	    "                         printed as the first line of stdout)\n"
	    "  --token TOKEN          bearer token accepted (default sim-token)\n"
	    "  --team-id N            id of the one team (default 1)\n"
	    "  --team-slug S          slug of the team (default sim-team)\n"
	    "  --project-token ID     act as a project token for project ID\n"
	    "  --legacy               no paginated routes (an older API)\n"
	    "  --deprecation MSG      send x-convex-deprecation-* headers on /v1\n"
	    "  --state FILE           load the state at start, save it on exit\n"
	    "  --seed N               seed of every random choice (default 1)\n"
	    "  --latency MS           fixed delay of every /v1 request\n"
	    "  --latency-jitter MS    plus a random delay in [0, MS]\n"
	    "  --error-rate P         answer 500/502/503 with probability P\n"
	    "  --drop-rate P          close the connection without an answer\n"
	    "  --stall-rate P         hold a request --stall-ms before answering\n"
	    "  --stall-ms MS          length of a stall (default 60000)\n"
	    "  --bad-json-rate P      answer 200 with a body that is not JSON\n"
	    "  --rate-limit N         above N requests per second answer 429\n"
	    "  --verbose              log every request on stderr\n"
	    "  --help, --version\n");
}

static int
parse_u(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_PORT = 256, OPT_TOKEN, OPT_TEAM_ID, OPT_TEAM_SLUG, OPT_PROJECT_TOKEN,
	OPT_LEGACY, OPT_DEPRECATION, OPT_STATE, OPT_SEED, OPT_LATENCY,
	OPT_JITTER, OPT_ERROR, OPT_DROP, OPT_STALL, OPT_STALL_MS, OPT_BAD_JSON,
	OPT_RATE_LIMIT, OPT_VERBOSE, OPT_HELP, OPT_VERSION,
};

static const struct option longopts[] = {
	{ "port", required_argument, NULL, OPT_PORT },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "team-id", required_argument, NULL, OPT_TEAM_ID },
	{ "team-slug", required_argument, NULL, OPT_TEAM_SLUG },
	{ "project-token", required_argument, NULL, OPT_PROJECT_TOKEN },
	{ "legacy", no_argument, NULL, OPT_LEGACY },
	{ "deprecation", required_argument, NULL, OPT_DEPRECATION },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "latency-jitter", required_argument, NULL, OPT_JITTER },
	{ "error-rate", required_argument, NULL, OPT_ERROR },
	{ "drop-rate", required_argument, NULL, OPT_DROP },
	{ "stall-rate", required_argument, NULL, OPT_STALL },
	{ "stall-ms", required_argument, NULL, OPT_STALL_MS },
	{ "bad-json-rate", required_argument, NULL, OPT_BAD_JSON },
	{ "rate-limit", required_argument, NULL, OPT_RATE_LIMIT },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int
parse_args(int argc, char **argv, struct sim_options *o)
{
	unsigned long u;
	double d;
	int ch;

	memset(o, 0, sizeof(*o));
	o->port = 8050;
	o->token = "sim-token";
	o->team_id = 1;
	o->team_slug = "sim-team";
	o->seed = 1;
	o->faults.stall_ms = 60000;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *a = optarg;

		switch (ch) {
		case OPT_PORT:
			if (parse_u(a, 65535, &u) != 0)
				goto bad;
			o->port = (unsigned)u;
			break;
		case OPT_TOKEN:
			if (*a == '\0' || strlen(a) > 512)
				goto bad;
			o->token = a;
			break;
		case OPT_TEAM_ID:
			if (parse_u(a, 1UL << 52, &u) != 0 || u == 0)
				goto bad;
			o->team_id = (int64_t)u;
			break;
		case OPT_TEAM_SLUG:
			if (*a == '\0' || strlen(a) > 64)
				goto bad;
			o->team_slug = a;
			break;
		case OPT_PROJECT_TOKEN:
			if (parse_u(a, 1UL << 52, &u) != 0 || u == 0)
				goto bad;
			o->project_token = (int64_t)u;
			break;
		case OPT_LEGACY:
			o->faults.legacy = true;
			break;
		case OPT_DEPRECATION:
			o->deprecation = a;
			break;
		case OPT_STATE:
			o->state_file = a;
			break;
		case OPT_SEED:
			if (parse_u(a, ~0UL, &u) != 0)
				goto bad;
			o->seed = u;
			break;
		case OPT_LATENCY:
		case OPT_JITTER:
		case OPT_STALL_MS:
			if (parse_u(a, 3600000, &u) != 0)
				goto bad;
			if (ch == OPT_LATENCY)
				o->faults.latency_ms = (unsigned)u;
			else if (ch == OPT_JITTER)
				o->faults.latency_jitter_ms = (unsigned)u;
			else
				o->faults.stall_ms = (unsigned)u;
			break;
		case OPT_RATE_LIMIT:
			if (parse_u(a, 1000000, &u) != 0)
				goto bad;
			o->faults.rate_limit = (unsigned)u;
			break;
		case OPT_ERROR:
		case OPT_DROP:
		case OPT_STALL:
		case OPT_BAD_JSON:
			if (parse_rate(a, &d) != 0)
				goto bad;
			if (ch == OPT_ERROR)
				o->faults.error_rate = d;
			else if (ch == OPT_DROP)
				o->faults.drop_rate = d;
			else if (ch == OPT_STALL)
				o->faults.stall_rate = d;
			else
				o->faults.bad_json_rate = d;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("convex-api-sim %s\n", CP_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "convex-api-sim: bad value for --%s: \"%s\"\n",
		    longopts[ch - OPT_PORT].name, a);
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "convex-api-sim: unexpected argument \"%s\"\n",
		    argv[optind]);
		return -1;
	}
	return 0;
}

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

	if (parse_args(argc, argv, &opt) != 0)
		return 2;

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
	faults_free(&ctx.faults);
	store_free(&ctx.store);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	return rc;
}
