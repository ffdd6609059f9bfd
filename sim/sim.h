/* sim.h: the convex-api-sim modules and the types they share (read as a table of contents). */
#ifndef CP_SIM_H
#define CP_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sha256.h"

struct cJSON;

#define SIM_MAX_BODY    (1024 * 1024)   /* request bodies above this: 413 */
#define SIM_MAX_QUERY   32              /* query arguments kept per request */
#define SIM_MEMBER_ID   7001            /* the one member of the team; creator of everything */

/* ---- hmap.c: string-keyed hash map (keys are borrowed from the values) */
struct hmap_entry;
struct hmap {
	struct hmap_entry **slots;
	size_t nslots;
	size_t count;
};
void hmap_init(struct hmap *m);
void hmap_free(struct hmap *m);
/* Frees every value with free_value (after unlinking it), then the map. */
void hmap_free_with(struct hmap *m, void (*free_value)(void *));
void *hmap_get(const struct hmap *m, const char *key);
int hmap_put(struct hmap *m, const char *key, void *value);  /* replaces */
void hmap_del(struct hmap *m, const char *key);

/* ---- rng.c: seeded PRNG (xoshiro256**), not thread-safe by itself */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_double(struct rng *r);               /* [0, 1) */
uint64_t rng_below(struct rng *r, uint64_t n);  /* [0, n) */

/* ---- daemon/util/sha256.c: SHA-256 (stores deploy key secrets as hashes
 * only); one implementation, shared with the provisioner */
#define SIM_SHA256_HEX SHA256_HEX_LEN

/* ---- names.c: the value rules of the API */
enum dep_type { DT_DEV, DT_PROD, DT_PREVIEW, DT_CUSTOM };
enum dep_region { REGION_US_EAST_1, REGION_EU_WEST_1 };
enum dep_class { CLASS_S16, CLASS_S256, CLASS_D1024, CLASS_D2048 };
enum domain_dest { DEST_CLOUD, DEST_SITE };
#define SIM_NTYPES   4
#define SIM_NREGIONS 2
#define SIM_NCLASSES 4
#define SIM_NACTIONS 25                 /* deploy key allowedActions */
#define SIM_ALL_ACTIONS ((1u << SIM_NACTIONS) - 1)
#define SIM_ENV_NAME_MAX   40
#define SIM_ENV_VALUE_MAX  8192
#define SIM_ENV_PER_TYPE   100          /* names per deployment type */
#define SIM_DOMAINS_MAX    100          /* custom domains per deployment */
#define SIM_KEYS_MAX       100          /* deploy keys per deployment */
#define SIM_MIN_EXPIRY_MS  (30LL * 60 * 1000)

int names_type_parse(const char *s, enum dep_type *out);
const char *names_type_str(enum dep_type t);
int names_region_parse(const char *s, enum dep_region *out);
const char *names_region_str(enum dep_region r);
const char *names_region_display(enum dep_region r);
int names_class_parse(const char *s, enum dep_class *out);
const char *names_class_str(enum dep_class c);
int names_dest_parse(const char *s, enum domain_dest *out);
const char *names_dest_str(enum domain_dest d);
int names_action_parse(const char *s);          /* index or -EINVAL */
const char *names_action_str(int i);
/* The type defaults of the two deployment settings (the d.ts comments). */
bool names_default_edit_confirmation(enum dep_type t);
bool names_default_logs_to_client(enum dep_type t);
/* Each: NULL when the value is acceptable, else why not (a static string). */
const char *names_reference_problem(const char *ref);
const char *names_project_name_problem(const char *name);
const char *names_slug_problem(const char *slug);
const char *names_env_name_problem(const char *name);
const char *names_domain_problem(const char *domain);
const char *names_key_name_problem(const char *name);
bool names_is_deployment_shape(const char *s);   /* [a-z]+-[a-z]+-[0-9]+ */
/* "happy-otter-123" into out (at least 64 bytes). */
void names_deployment(struct rng *r, char *out, size_t outlen);
/* Lowercase, runs of non-alphanumerics become one '-', trimmed; never empty. */
void names_slugify(const char *name, char *out, size_t outlen);
void names_deployment_url(const char *name, enum dep_region region,
    char *out, size_t outlen);

/* ---- store.c: the in-memory team (callers hold store->lock) */
enum dep_kind { DEP_CLOUD, DEP_LOCAL };

struct sim_project;

/* A custom domain of a deployment (store_domain.c). */
struct sim_domain {
	char *domain;             /* also the key of sim_store.by_domain */
	enum domain_dest dest;
	int64_t creation_time;
	bool verified;
	int64_t verification_time;
	struct sim_deployment *dep;
};

/* A deploy key (store_key.c). The secret itself is never kept: only the
 * SHA-256 of its token part, so state files cannot leak it. */
struct sim_key {
	int64_t id;
	char *name;
	char secret_hash[SIM_SHA256_HEX];
	uint32_t actions;         /* bit i: names_action_str(i) allowed */
	int64_t creation_time;
	int64_t creator;
	bool has_expires;
	int64_t expires_at;
};

/* A default environment variable of a project (store_env.c). */
struct sim_env {
	enum dep_type type;
	char *name;
	char *value;
};

struct sim_deployment {
	int64_t id;               /* internal order for local ones (not shown) */
	enum dep_kind kind;
	char *name;
	struct sim_project *project;
	enum dep_type type;
	int64_t create_time;
	int64_t creator;
	/* cloud */
	char *reference;
	enum dep_region region;
	enum dep_class cls;
	bool is_default;
	bool has_expires;
	int64_t expires_at;
	bool has_last_deploy;
	int64_t last_deploy_time;
	int dashboard_edit_confirmation;   /* -1 unset (type default), 0, 1 */
	int send_logs_to_client;           /* -1 unset (type default), 0, 1 */
	struct sim_domain **domains;       /* creation order */
	size_t ndomains, capdomains;
	struct sim_key **keys;             /* creation order */
	size_t nkeys, capkeys;
	/* local */
	char *device_name;
	int port;
	bool is_active;

	bool deleted;
};

struct sim_project {
	int64_t id;
	char *name;
	char *slug;
	int64_t create_time;
	struct sim_deployment **deps;   /* live ones, in creation order */
	size_t ndeps, capdeps;
	struct sim_env *env;            /* sorted by (name, type) */
	size_t nenv, capenv;
	bool deleted;
};

struct sim_store {
	pthread_mutex_t lock;
	int64_t team_id;
	char team_slug[128];
	char team_name[128];
	int64_t next_project_id;
	int64_t next_deployment_id;
	int64_t next_key_id;
	/* Bumped once by every write (API or admin), so the request log can
	 * say which state each request saw. */
	uint64_t version;
	/* Both arrays are in id order (= creation order); deleted entries stay
	 * as tombstones until a compaction, so lookups by id are binary
	 * searches and pages walk from a position: O(page), not O(n). */
	struct sim_project **projects;
	size_t nprojects, capprojects, dead_projects;
	struct sim_deployment **deps;
	size_t ndeps, capdeps, dead_deps;
	struct hmap by_name;      /* deployment name -> deployment */
	struct hmap by_slug;      /* project slug -> project */
	struct hmap slug_next;    /* slug base -> struct slug_counter */
	struct hmap by_domain;    /* custom domain -> struct sim_domain */
	struct rng rng;           /* deployment names */
	struct rng key_rng;       /* deploy key secrets */
	uint64_t seed;
};

struct dep_spec {
	enum dep_type type;
	const char *reference;    /* NULL: generated */
	bool has_region;
	enum dep_region region;
	bool has_class;
	enum dep_class cls;
	int is_default;           /* -1 unset */
	bool has_expires;         /* expiresAt given (a number or null) */
	bool expires_null;
	int64_t expires_at;
};

/* PATCH /deployments/{name}: only what is set changes. */
struct dep_patch {
	const char *reference;    /* NULL: unchanged */
	bool has_class;
	enum dep_class cls;
	bool has_type;
	enum dep_type type;
	int is_default;           /* -1 unchanged, 0, 1 */
	bool has_expires;
	bool expires_null;
	int64_t expires_at;
	int edit_confirmation;    /* -2 unchanged, -1 reset to the type default, 0, 1 */
	int logs_to_client;       /* same */
};

/* One change of update_default_environment_variables. */
struct env_change {
	enum dep_type type;
	const char *name;
	const char *value;        /* NULL: delete */
};

/* create_deploy_key's arguments. */
struct key_spec {
	const char *name;
	uint32_t actions;
	bool has_expires;
	int64_t expires_at;
};

/* An API error: HTTP status, code, message. */
struct sim_err {
	unsigned int status;
	char code[48];
	char message[256];
};

int64_t sim_now_ms(void);
void sim_err_set(struct sim_err *e, unsigned int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Grows *arr (elements of elem bytes) to hold need; 0 or -ENOMEM. */
int sim_grow(void **arr, size_t *cap, size_t need, size_t elem);

int store_init(struct sim_store *st, int64_t team_id, const char *team_slug,
    uint64_t seed);
void store_clear(struct sim_store *st);   /* empty team, ids restart */
void store_free(struct sim_store *st);
/* Moves the contents of src into dst (src is left empty). */
void store_swap_contents(struct sim_store *dst, struct sim_store *src);
struct sim_project *store_project(struct sim_store *st, int64_t id);
struct sim_deployment *store_deployment(struct sim_store *st, const char *name);
size_t store_project_pos(const struct sim_store *st, int64_t id); /* first with id >= */
size_t store_deployment_pos(const struct sim_store *st, int64_t id);
struct sim_project *store_project_create(struct sim_store *st,
    const char *name, struct sim_err *err);
/* Inserts a project as loaded from a state file (id given). */
struct sim_project *store_project_load(struct sim_store *st, int64_t id,
    const char *name, const char *slug, int64_t create_time,
    struct sim_err *err);
/* PATCH /projects/{id}: NULL leaves a field alone; 0 or -EINVAL/-ENOMEM. */
int store_project_patch(struct sim_store *st, struct sim_project *p,
    const char *name, const char *slug, struct sim_err *err);
struct sim_deployment *store_deployment_create(struct sim_store *st,
    struct sim_project *p, const struct dep_spec *spec, struct sim_err *err);
/* Inserts a fully described deployment (state load); takes ownership of d.
 * 0 or -EEXIST/-ENOMEM (d is freed, or left as a tombstone). */
int store_deployment_insert(struct sim_store *st, struct sim_deployment *d,
    struct sim_err *err);
/* Checks every field first, then applies all of them; 0 or -EINVAL/-ENOMEM. */
int store_deployment_patch(struct sim_store *st, struct sim_deployment *d,
    const struct dep_patch *patch, struct sim_err *err);
void store_project_delete(struct sim_store *st, struct sim_project *p);
void store_deployment_delete(struct sim_store *st, struct sim_deployment *d);
struct sim_deployment *store_project_default(const struct sim_project *p,
    enum dep_type type);
struct sim_deployment *store_project_reference(const struct sim_project *p,
    const char *ref);
void store_deployment_free(struct sim_deployment *d);
/* The settings as the API shows them: explicit, else the type default. */
bool store_edit_confirmation(const struct sim_deployment *d);
bool store_logs_to_client(const struct sim_deployment *d);

/* ---- store_env.c: default environment variables of a project */
/* All changes or none; 0 or -EINVAL/-ENOMEM with err set. */
int store_env_update(struct sim_project *p, const struct env_change *ch,
    size_t n, struct sim_err *err);
/* Index of the first variable with name >= name (in (name, type) order). */
size_t store_env_pos(const struct sim_project *p, const char *name);
void store_env_clear(struct sim_project *p);

/* ---- store_domain.c: custom domains of a deployment */
int store_domain_create(struct sim_store *st, struct sim_deployment *d,
    const char *domain, enum domain_dest dest, int64_t creation_time,
    struct sim_err *err);
/* 0, or -ENOENT (404 CustomDomainNotFound) when not on d with that dest. */
int store_domain_delete(struct sim_store *st, struct sim_deployment *d,
    const char *domain, enum domain_dest dest, struct sim_err *err);
/* Admin: marks a domain verified (at when) or not; 0 or -ENOENT. */
int store_domain_verify(struct sim_store *st, const char *domain,
    bool verified, int64_t when);
void store_domains_clear(struct sim_store *st, struct sim_deployment *d);

/* ---- store_key.c: deploy keys of a deployment */
/* Creates a key; *secret (caller frees) is the only copy of its secret. */
int store_key_create(struct sim_store *st, struct sim_deployment *d,
    const struct key_spec *spec, char **secret, struct sim_err *err);
/* Inserts a key as loaded from a state file (takes ownership of k). */
int store_key_insert(struct sim_store *st, struct sim_deployment *d,
    struct sim_key *k, struct sim_err *err);
/* id: the key's name, its full secret or the secret's token part. The
 * deleted key's name is copied to name (if not NULL). 0 or -ENOENT. */
int store_key_delete(struct sim_deployment *d, const char *id,
    char *name, size_t namelen, struct sim_err *err);
void store_key_free(struct sim_key *k);
void store_keys_clear(struct sim_deployment *d);

/* ---- json.c: entities and the whole state as JSON */
struct cJSON *json_project(const struct sim_store *st,
    const struct sim_project *p);
struct cJSON *json_deployment(const struct sim_deployment *d);
struct cJSON *json_domain(const struct sim_domain *dm);
struct cJSON *json_key(const struct sim_key *k);
struct cJSON *json_state(const struct sim_store *st);
/* Serialized object or NULL on allocation failure; caller frees. */
char *json_print(struct cJSON *item);

/* ---- json_load.c: a state document into a store */
/* Loads root into st (which must be empty); 0 or -EINVAL/-ENOMEM. */
int json_state_load(struct sim_store *st, const struct cJSON *root,
    struct sim_err *err);

/* ---- faults.c: what to do to one /v1 request, decided from the seed */
struct fault_config {
	unsigned latency_ms;
	unsigned latency_jitter_ms;
	double error_rate;
	double drop_rate;
	double stall_rate;
	unsigned stall_ms;
	double bad_json_rate;
	unsigned rate_limit;      /* requests per second; 0 = unlimited */
	bool legacy;
};

/* Knobs of one route, on top of the global ones (POST /_sim/config). */
struct route_faults {
	const char *route;        /* a route template (static string) */
	double error_rate;        /* 5xx before acting */
	double error_after_rate;  /* act, then 5xx */
	double drop_rate;         /* close before acting */
	double drop_after_rate;   /* act, then close */
	double rate_limit_rate;   /* 429 with retry_after */
	unsigned retry_after;     /* seconds */
	double stall_rate;
	unsigned stall_ms;
	double bad_json_rate;
	unsigned fail_page;       /* 0 off; else this page of a listing fails */
	unsigned fail_page_status;
	long fail_page_times;     /* left to fail; -1 every time */
};
#define SIM_MAX_ROUTE_FAULTS 64

enum fault_kind { FAULT_NONE, FAULT_ERROR, FAULT_DROP, FAULT_BAD_JSON };

struct fault_plan {
	unsigned delay_ms;        /* latency + jitter */
	bool rate_limited;
	unsigned retry_after;     /* seconds, with rate_limited */
	bool stall;
	unsigned stall_ms;
	enum fault_kind kind;
	bool after;               /* act first, then fail */
	unsigned error_status;    /* 500, 502 or 503 */
};

struct faults {
	pthread_mutex_t lock;
	struct fault_config cfg;
	struct route_faults routes[SIM_MAX_ROUTE_FAULTS];
	size_t nroutes;
	struct rng rng;           /* the global knobs */
	struct rng route_rng;     /* the per-route knobs */
	uint64_t seed;
	int64_t window_start_ms;
	unsigned window_count;
};

void faults_init(struct faults *f, const struct fault_config *cfg,
    uint64_t seed);
void faults_free(struct faults *f);
void faults_reset(struct faults *f);   /* reseed both streams, new rate window */
void faults_get_config(struct faults *f, struct fault_config *out);
void faults_set_config(struct faults *f, const struct fault_config *cfg);
/* Copies the route knobs out (at most max); returns how many. */
size_t faults_get_routes(struct faults *f, struct route_faults *out, size_t max);
/* Sets (or with rf NULL removes) the knobs of one route; 0 or -ENOSPC. */
int faults_set_route(struct faults *f, const char *route,
    const struct route_faults *rf);
void faults_plan(struct faults *f, const char *route, bool is_create,
    struct fault_plan *out);
/* After a listing page was built: true (and the status) when page `page`
 * of route must fail now (failPage knob; counts down its times). */
bool faults_page_fails(struct faults *f, const char *route, unsigned page,
    unsigned *status);

/* ---- stats.c: counters shown by GET /_sim/stats */
enum stat_fault { SF_ERROR, SF_ERROR_AFTER, SF_DROP, SF_DROP_AFTER,
	SF_RATE_LIMITED, SF_STALL, SF_BAD_JSON, SF_ERROR_AFTER_WRITE,
	SF_DROP_AFTER_WRITE, SF_PAGE_FAIL, SF_SCRIPTED, SF_COUNT };

void stats_init(void);
void stats_reset(void);
void stats_request(const char *route, unsigned int status);  /* status 0 = dropped */
void stats_create(bool project);
void stats_delete(bool project);
void stats_fault(enum stat_fault f);
void stats_enter(void);
void stats_leave(void);
struct cJSON *stats_json(void);

/* ---- server.c: libmicrohttpd, request bodies, dispatch, fault application */
struct sim_query {
	const char *key;
	const char *value;
};

struct sim_request {
	const char *method;
	const char *path;         /* from the root, e.g. "/v1/token_details" */
	const char *auth;         /* Authorization header or NULL */
	const char *body;         /* NUL-terminated, "" when none */
	size_t body_len;
	bool person;              /* X-Sim-Actor: person (an edit by hand) */
	struct sim_query query[SIM_MAX_QUERY];
	int nquery;
};

struct sim_reply {
	unsigned int status;
	char *body;               /* malloc'd or NULL (empty body) */
	size_t body_len;          /* 0: strlen(body) */
	unsigned retry_after;     /* > 0: Retry-After header */
	char *headers;            /* malloc'd "Name: value\n" lines or NULL */
};

const char *sim_query_get(const struct sim_request *rq, const char *key);
void sim_reply_json(struct sim_reply *rp, unsigned int status,
    struct cJSON *item);   /* takes and frees item */
void sim_reply_error(struct sim_reply *rp, const struct sim_err *err);
void sim_reply_errorf(struct sim_reply *rp, unsigned int status,
    const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void sim_reply_empty(struct sim_reply *rp, unsigned int status);
void sim_reply_free(struct sim_reply *rp);

/* The settings that do not change at run time. */
struct sim_options {
	unsigned port;
	const char *token;
	int64_t team_id;
	const char *team_slug;
	int64_t project_token;    /* > 0: token_details says projectToken */
	const char *deprecation;  /* non-NULL: deprecation headers on /v1 */
	const char *state_file;
	uint64_t seed;
	unsigned log_limit;       /* request log entries kept */
	bool verbose;
	bool help, version;
	struct fault_config faults;
};

struct sim_ctx {
	const struct sim_options *opt;
	int64_t start_ms;         /* createTime of the token */
	struct sim_store store;
	struct faults faults;
};

struct MHD_Daemon;
struct MHD_Daemon *server_start(struct sim_ctx *ctx, unsigned *port);
void server_stop(struct MHD_Daemon *d);
/* Sleeps ms milliseconds unless shutdown starts first. */
void server_sleep_ms(unsigned ms);
void server_shutdown_begin(void);

/* ---- routes.c: the /v1 API (route table, matching, auth, dispatch) */
struct route_result {
	const char *route;        /* template for stats, e.g. "GET /projects/{id}" */
	bool is_create;           /* route creates a resource */
	bool created;             /* and it did */
	bool wrote;               /* the request changed the store */
	uint64_t version;         /* store version the request saw */
	unsigned page;            /* GETs: 1 + pages before this one (cursor) */
	struct cJSON *effect;     /* what it created/deleted/updated, or NULL */
};
/* Route of a request without running it (for fault planning). */
void routes_match(const struct sim_request *rq, struct route_result *res);
void routes_handle(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp, struct route_result *res);
/* The static template string of a known route ("GET /projects/{id}"), or
 * NULL: the keys of per-route fault knobs and scripts. */
const char *routes_template(const char *name);

/* ---- reqlog.c: every request in arrival order (GET /_sim/log) */
struct reqlog_rec {
	uint64_t seq;
	int64_t time_ms;
	const char *actor;        /* "tool", "person" or "admin" */
	const char *method;
	const char *route;
	const char *path;
	const struct sim_request *rq;   /* for its query, or NULL */
	unsigned status;          /* 0: no answer (dropped) */
	const char *fault;        /* NULL or the fault applied */
	uint64_t version;
	bool wrote;
	uint64_t write_version;
	const struct cJSON *effect;
};
void reqlog_init(size_t max_entries);
void reqlog_free(void);
uint64_t reqlog_next_seq(void);          /* at arrival */
void reqlog_add(const struct reqlog_rec *r);
/* {"entries":[...],"nextSeq","dropped","limit"}; entries with seq > since,
 * at most max (0: all). Caller frees. */
char *reqlog_json(uint64_t since, size_t max);
void reqlog_clear(void);                 /* entries only */
void reqlog_reset(void);                 /* entries and the sequence */

/* ---- script.c: canned answers served before normal handling */
struct script_answer {
	unsigned status;
	char *headers;            /* "Name: value\n" lines or NULL */
	char *body;
	size_t body_len;
	bool drop;                /* close the connection, no answer */
	bool act;                 /* run the real handler first */
	unsigned delay_ms;
};
/* Adds the answers of a POST /_sim/script body; 0 or -EINVAL/-ENOSPC/-ENOMEM. */
int script_add(const struct cJSON *root, char *why, size_t whylen);
/* Takes the next answer queued for route (and path), if any: true and *out
 * filled (free with script_answer_free). */
bool script_take(const char *route, const char *path, struct script_answer *out);
void script_answer_free(struct script_answer *a);
struct cJSON *script_json(void);
void script_clear(void);

/* ---- admin.c: /_sim routes and the state file */
void admin_handle(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp);
/* 0 or -errno; a missing file is a first run (0). */
int admin_load_file(struct sim_ctx *ctx, const char *path);
int admin_save_file(struct sim_ctx *ctx, const char *path);

/* ---- admin_config.c: GET/POST /_sim/config */
void admin_config_get(struct sim_ctx *ctx, struct sim_reply *rp);
void admin_config_post(struct sim_ctx *ctx, const struct cJSON *root,
    struct sim_reply *rp);

/* ---- admin_seed.c: POST /_sim/seed */
void admin_seed(struct sim_ctx *ctx, const struct cJSON *root,
    struct sim_reply *rp);

/* ---- options.c: the command line, from one table */
/* 0, or -EINVAL after printing why on stderr. */
int options_parse(int argc, char **argv, struct sim_options *o);
void options_usage(FILE *f);

/* ---- log.c: stderr lines */
void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
