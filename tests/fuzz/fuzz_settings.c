/* fuzz_settings.c: libFuzzer target for the settings loader. The input is
 * a settings file, optionally followed by a NUL and NUL-separated
 * command-line words; the load must succeed with values inside the table's
 * bounds or fail with its errors reported, and a reload of the unchanged
 * file must give the same settings. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <strings.h>

#include <curl/curl.h>

#include "diag.h"
#include "fuzz.h"
#include "settings.h"

#define MAX_WORDS 12

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Only the input decides: no environment may add values. */
	static const char *const env[] = {
		"CONVEX_PROVISION_HOST", "CONVEX_TEAM_ID", "CONVEX_ACCESS_TOKEN",
		"CREDENTIALS_DIRECTORY", "POSIXLY_CORRECT",
	};

	(void)argc;
	(void)argv;
	fuzz_quiet();
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		unsetenv(env[i]);
	return 0;
}

static bool
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The token crosses no network in clear: an accepted http:// base must
 * name a loopback host as libcurl itself reads the URL (an independent
 * parser, so a disagreement between the two is caught). */
static void
check_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	struct in_addr a4;
	struct in6_addr a6;
	size_t n;

	if (u == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		n = strlen(host);
		if (strcasecmp(host, "localhost") == 0)
			;
		else if (inet_pton(AF_INET, host, &a4) == 1)
			FUZZ_CHECK((ntohl(a4.s_addr) >> 24) == 127);
		else {
			FUZZ_CHECK(n > 2 && host[0] == '[' && host[n - 1] == ']');
			host[n - 1] = '\0';
			FUZZ_CHECK(inet_pton(AF_INET6, host + 1, &a6) == 1);
			FUZZ_CHECK(memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0);
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
}

static void
check_valid(const struct settings *s)
{
	size_t len;

	FUZZ_CHECK(s->api_url != NULL && s->desired != NULL);
	FUZZ_CHECK(s->state_dir != NULL && s->listen != NULL);
	len = strlen(s->api_url);
	FUZZ_CHECK(len >= 3 && s->api_url[len - 1] != '/');
	FUZZ_CHECK(strncmp(s->api_url, "https://", 8) == 0 ||
	    strncmp(s->api_url, "http://", 7) == 0);
	FUZZ_CHECK(strpbrk(s->api_url, " @?#\t\r\n") == NULL);
	if (strncmp(s->api_url, "http://", 7) == 0)
		check_loopback(s->api_url);
	FUZZ_CHECK(s->concurrency >= 1 && s->concurrency <= 256);
	FUZZ_CHECK(s->jitter_pct <= 100);
	FUZZ_CHECK(s->interval_ms >= 1000 && s->interval_ms <= 24ull * 3600 * 1000);
	FUZZ_CHECK(s->request_timeout_ms >= 1000 &&
	    s->request_timeout_ms <= 3600ull * 1000);
	FUZZ_CHECK(s->max_deletes <= 100000);
	FUZZ_CHECK(s->prune == PRUNE_NONE || s->prune == PRUNE_OWNED ||
	    s->prune == PRUNE_ALL);
	FUZZ_CHECK(s->team_id >= 0);
}

static void
check_same(const struct settings *a, const struct settings *b)
{
	FUZZ_CHECK(same_str(a->api_url, b->api_url));
	FUZZ_CHECK(a->team_id == b->team_id);
	FUZZ_CHECK(same_str(a->token_file, b->token_file));
	FUZZ_CHECK(same_str(a->desired, b->desired));
	FUZZ_CHECK(a->interval_ms == b->interval_ms);
	FUZZ_CHECK(a->jitter_pct == b->jitter_pct);
	FUZZ_CHECK(a->concurrency == b->concurrency);
	FUZZ_CHECK(a->request_timeout_ms == b->request_timeout_ms);
	FUZZ_CHECK(a->prune == b->prune);
	FUZZ_CHECK(a->max_deletes == b->max_deletes);
	FUZZ_CHECK(a->allow_empty == b->allow_empty);
	FUZZ_CHECK(same_str(a->state_dir, b->state_dir));
	FUZZ_CHECK(same_str(a->listen, b->listen));
	FUZZ_CHECK(a->log_level == b->log_level);
	FUZZ_CHECK(a->log_format == b->log_format);
	FUZZ_CHECK(same_str(a->ca_file, b->ca_file));
}

/* The strict value parsers, on the file's text as one string. */
static void
parsers(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);
	enum prune_mode pm;
	uint64_t ms;
	unsigned pct;

	if (s == NULL)
		return;
	memcpy(s, data, n);
	s[n] = '\0';
	/* Whole seconds, from digits and at most one unit letter. */
	if (settings_parse_duration(s, &ms) == 0) {
		FUZZ_CHECK(ms % 1000 == 0 && n >= 1 && s[0] >= '0' && s[0] <= '9');
		FUZZ_CHECK(strspn(s, "0123456789") + 1 >= n);
	}
	/* The range is the row's business (jitter: 0..100), not the parser's. */
	if (settings_parse_percent(s, &pct) == 0) {
		FUZZ_CHECK(n >= 2 && s[n - 1] == '%' && strspn(s, "0123456789") == n - 1);
		FUZZ_CHECK(pct == strtoul(s, NULL, 10));
	}
	if (prune_mode_parse(s, &pm) == 0)
		FUZZ_CHECK(strcmp(prune_mode_name(pm), s) == 0);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t flen = nul ? (size_t)(nul - data) : size;
	char path[64], *words = NULL, *argv[MAX_WORDS + 5];
	struct settings s, again;
	struct diag d;
	int argc = 0, cmd, fd, rc;

	parsers(data, flen);
	if ((fd = fuzz_memfd("settings", data, flen)) < 0)
		return 0;
	fuzz_fd_path(path, sizeof(path), fd);
	argv[argc++] = "convex-provisioner";
	argv[argc++] = "-c";
	argv[argc++] = path;
	if (nul != NULL) {
		size_t rest = size - flen - 1;
		char *w;

		if ((words = malloc(rest + 1)) == NULL) {
			close(fd);
			return 0;
		}
		memcpy(words, nul + 1, rest);
		words[rest] = '\0';
		for (w = words; argc < MAX_WORDS + 3 && w <= words + rest;
		    w += strlen(w) + 1)
			argv[argc++] = w;
	}
	argv[argc++] = "validate";
	argv[argc] = NULL;

	diag_init(&d);
	rc = settings_load_from(argc, argv, "/nonexistent/config.yaml", &s,
	    &cmd, &d);
	FUZZ_CHECK(cmd >= 1 && cmd <= argc);
	if (rc == 0) {
		FUZZ_CHECK(diag_errors(&d) == 0);
		if (!s.help && !s.version) {
			check_valid(&s);
			rc = settings_reload(&s, &again, &d);
			FUZZ_CHECK(rc == 0 || rc == -ENOMEM);
			if (rc == 0)
				check_same(&s, &again);
			settings_free(&again);
		}
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_CHECK(rc == -ENOMEM || diag_errors(&d) > 0);
	}
	settings_free(&s);
	diag_free(&d);
	free(words);
	close(fd);
	return 0;
}
