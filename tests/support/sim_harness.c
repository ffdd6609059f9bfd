/* sim_harness.c: starts convex-api-sim as a child of a test, stops it, and calls it with libcurl. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sim_harness.h"

#define MAX_ARGS      64
#define MAX_RESPONSE  (256L * 1024 * 1024)

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the first line of the child's stdout, 30 s at most. */
static int
read_port(int fd, int *port)
{
	char line[32];
	size_t n = 0;
	long deadline = now_ms() + 30000;

	while (n + 1 < sizeof(line)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((r = read(fd, line + n, 1)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EPIPE;   /* it exited before saying a port */
		if (line[n] == '\n') {
			line[n] = '\0';
			*port = atoi(line);
			return *port > 0 && *port < 65536 ? 0 : -EPROTO;
		}
		n++;
	}
	return -EPROTO;
}

int
sim_start(struct sim *s, const char *const *args)
{
	const char *dir = getenv("CP_BUILD_DIR");
	const char *argv[MAX_ARGS + 4];
	char bin[4096];
	int fds[2], n = 0, rc, status;

	memset(s, 0, sizeof(*s));
	s->out_fd = -1;
	s->timeout_ms = 30000;
	snprintf(s->token, sizeof(s->token), "sim-token");
	if (dir == NULL)
		return -ENOENT;
	if (snprintf(bin, sizeof(bin), "%s/convex-api-sim", dir) >= (int)sizeof(bin))
		return -ENAMETOOLONG;
	argv[n++] = bin;
	argv[n++] = "--port";
	argv[n++] = "0";
	for (int i = 0; args != NULL && args[i] != NULL; i++) {
		if (n >= MAX_ARGS + 3)
			return -E2BIG;
		if (strcmp(args[i], "--token") == 0 && args[i + 1] != NULL)
			snprintf(s->token, sizeof(s->token), "%s", args[i + 1]);
		argv[n++] = args[i];
	}
	argv[n] = NULL;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	s->pid = fork();
	if (s->pid < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		s->pid = 0;
		return rc;
	}
	if (s->pid == 0) {
		/* An orphaned simulator must not outlive a crashed test. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], STDOUT_FILENO);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	s->out_fd = fds[0];
	if ((rc = read_port(s->out_fd, &s->port)) != 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
		close(s->out_fd);
		s->out_fd = -1;
		s->pid = 0;
		return rc;
	}
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d/v1", s->port);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

int
sim_stop(struct sim *s)
{
	long deadline = now_ms() + 30000;
	int status = 0, rc;
	pid_t r;

	if (s->pid <= 0)
		return 0;
	kill(s->pid, SIGTERM);
	while ((r = waitpid(s->pid, &status, WNOHANG)) == 0 &&
	    now_ms() < deadline) {
		struct timespec ts = { 0, 10 * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (r == 0) {
		kill(s->pid, SIGKILL);
		r = waitpid(s->pid, &status, 0);
	}
	if (r < 0)
		rc = -errno;
	else if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		rc = 128 + WTERMSIG(status);
	if (s->out_fd >= 0)
		close(s->out_fd);
	s->out_fd = -1;
	s->pid = 0;
	curl_global_cleanup();
	return rc;
}

struct growbuf {
	char *data;
	size_t len, cap;
};

static int
grow_append(struct growbuf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > MAX_RESPONSE)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *nd;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((nd = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = nd;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	return grow_append(ud, p, size * nmemb) == 0 ? size * nmemb : 0;
}

static char *
take(struct growbuf *b)
{
	if (b->data == NULL)
		return strdup("");
	return b->data;
}

int
sim_request_ex(const struct sim *s, const char *method, const char *path,
    const char *tok, const char *const *headers, const char *body,
    size_t body_len, struct sim_response *out)
{
	struct growbuf rbody = { 0 }, hdrs = { 0 };
	struct curl_slist *h = NULL;
	char url[4096], auth[256];
	CURLcode cc;
	CURL *e;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if ((e = curl_easy_init()) == NULL)
		return -ENOMEM;
	snprintf(url, sizeof(url), "%s%s", s->base, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->timeout_ms > 0 ? s->timeout_ms : 30000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &rbody);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &hdrs);
	if (tok != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		h = curl_slist_append(h, auth);
	}
	for (int i = 0; headers != NULL && headers[i] != NULL; i++)
		h = curl_slist_append(h, headers[i]);
	if (body != NULL || strcmp(method, "GET") != 0) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body ? body_len : 0));
	}
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);

	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME, &out->seconds);
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		rc = -ECONNRESET;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		rc = -ETIMEDOUT;
		break;
	default:
		rc = -EIO;
		break;
	}
	if (rc != 0)
		out->status = 0;
	out->body = take(&rbody);
	out->len = rbody.len;
	out->headers = take(&hdrs);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return rc;
}

int
sim_request(const struct sim *s, const char *method, const char *path,
    const char *tok, const char *json, struct sim_response *out)
{
	return sim_request_ex(s, method, path, tok, NULL, json,
	    json ? strlen(json) : 0, out);
}

int
sim_person(const struct sim *s, const char *method, const char *path,
    const char *json, struct sim_response *out)
{
	static const char *const person[] = { "X-Sim-Actor: person", NULL };
	char full[4096];

	snprintf(full, sizeof(full), "/v1%s", path);
	return sim_request_ex(s, method, full, s->token, person, json,
	    json ? strlen(json) : 0, out);
}

static int
api(const struct sim *s, const char *method, const char *path,
    const char *json, struct sim_response *out)
{
	char full[4096];

	snprintf(full, sizeof(full), "/v1%s", path);
	return sim_request(s, method, full, s->token, json, out);
}

int
sim_get(const struct sim *s, const char *path, struct sim_response *out)
{
	return api(s, "GET", path, NULL, out);
}

int
sim_post(const struct sim *s, const char *path, const char *json,
    struct sim_response *out)
{
	return api(s, "POST", path, json, out);
}

int
sim_patch(const struct sim *s, const char *path, const char *json,
    struct sim_response *out)
{
	return api(s, "PATCH", path, json, out);
}

int
sim_admin_get(const struct sim *s, const char *path, struct sim_response *out)
{
	return sim_request(s, "GET", path, NULL, NULL, out);
}

int
sim_admin_post(const struct sim *s, const char *path, const char *json,
    struct sim_response *out)
{
	return sim_request(s, "POST", path, NULL, json, out);
}

const char *
sim_response_header(const struct sim_response *r, const char *name,
    char *buf, size_t buflen)
{
	size_t nl = strlen(name);
	const char *line;

	if (r->headers == NULL)
		return NULL;
	for (line = r->headers; *line; ) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);

		if (len > nl && strncasecmp(line, name, nl) == 0 &&
		    line[nl] == ':') {
			const char *v = line + nl + 1;
			size_t vl;

			while (*v == ' ' || *v == '\t')
				v++;
			vl = (size_t)(line + len - v);
			while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= buflen)
				vl = buflen - 1;
			memcpy(buf, v, vl);
			buf[vl] = '\0';
			return buf;
		}
		if (eol == NULL)
			break;
		line = eol + 1;
	}
	return NULL;
}

void
sim_response_free(struct sim_response *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->headers);
	r->body = NULL;
	r->headers = NULL;
}
