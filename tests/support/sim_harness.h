/* sim_harness.h: start convex-api-sim as a child process in a test, and a tiny libcurl client to call it. */
#ifndef CP_SIM_HARNESS_H
#define CP_SIM_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A running simulator. sim_start() fills it: the binary is
 * "$CP_BUILD_DIR/convex-api-sim" (ctest sets CP_BUILD_DIR), started with
 * "--port 0" plus the caller's arguments; the port is read from the first
 * line of its stdout. Its stderr is inherited, so its logs land in the test
 * output.
 */
struct sim {
	pid_t pid;
	int port;
	int out_fd;             /* read end of the child's stdout */
	char base[64];          /* "http://127.0.0.1:PORT" (for /_sim routes) */
	char url[64];           /* "http://127.0.0.1:PORT/v1" (the API base) */
	char token[128];        /* bearer token sent by sim_get/post/...; "sim-token" unless --token was given */
	long timeout_ms;        /* per request, default 30000 */
};

/* One answer. body is NUL-terminated (empty string when there was none). */
struct sim_response {
	long status;            /* HTTP status, 0 when no answer arrived */
	char *body;
	size_t len;
	char *headers;          /* raw header block, NUL-terminated */
	double seconds;         /* total time of the transfer */
};

/*
 * Starts the simulator with args (NULL-terminated, may be NULL), e.g.
 * {"--seed", "7", "--error-rate", "0.2", NULL}. Waits up to 30 s for the port
 * line. Returns 0, or a negative errno (the child is reaped on failure;
 * -EPIPE when it exited without printing a port, e.g. on bad flags).
 * The child gets SIGTERM when the thread that started it exits (so a
 * crashed test leaves no simulator behind): start it from the thread that
 * stops it, normally the test's main thread.
 */
int sim_start(struct sim *s, const char *const *args);

/* SIGTERM, then waits (up to 30 s, then SIGKILL). Returns the child's exit
 * code (0 for a clean stop), 128+signal if it died of a signal, or -errno.
 * Accepts a struct that was never started (pid 0): returns 0. */
int sim_stop(struct sim *s);

/*
 * Sends METHOD to base+path (path from the root: "/v1/..." or "/_sim/...")
 * with the bearer token tok (NULL: no Authorization header) and an optional
 * JSON body. Returns 0 when an HTTP answer arrived (whatever its status), or
 * a negative errno when the transfer failed (-ECONNRESET for a connection
 * closed without an answer, -ETIMEDOUT, -EIO otherwise). out is always
 * filled and must be freed with sim_response_free.
 */
int sim_request(const struct sim *s, const char *method, const char *path,
    const char *tok, const char *json, struct sim_response *out);

/* sim_request with extra header lines ("Name: value", NULL-terminated
 * list, may be NULL) and a body of body_len bytes (body NULL: none). */
int sim_request_ex(const struct sim *s, const char *method, const char *path,
    const char *tok, const char *const *headers, const char *body,
    size_t body_len, struct sim_response *out);

/* An edit by a person behind the tool's back: an API call (path relative
 * to /v1) with the token and "X-Sim-Actor: person", which the simulator
 * never faults or scripts and logs with actor "person". */
int sim_person(const struct sim *s, const char *method, const char *path,
    const char *json, struct sim_response *out);

/* API shortcuts: path is relative to /v1 ("/token_details") and the
 * simulator's token is sent. */
int sim_get(const struct sim *s, const char *path, struct sim_response *out);
int sim_post(const struct sim *s, const char *path, const char *json,
    struct sim_response *out);
int sim_patch(const struct sim *s, const char *path, const char *json,
    struct sim_response *out);

/* Admin shortcuts: path from the root ("/_sim/stats"), no token. */
int sim_admin_get(const struct sim *s, const char *path,
    struct sim_response *out);
int sim_admin_post(const struct sim *s, const char *path, const char *json,
    struct sim_response *out);

/* The value of header name (case-insensitive) copied into buf, or NULL. */
const char *sim_response_header(const struct sim_response *r,
    const char *name, char *buf, size_t buflen);

void sim_response_free(struct sim_response *r);

#endif
