/* sim.h: the convex-api-sim modules and the types they share (read as a table of contents). */
#ifndef CP_SIM_H
#define CP_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* ---- names.c: the value rules of the API */
enum dep_type { DT_DEV, DT_PROD, DT_PREVIEW, DT_CUSTOM };
enum dep_region { REGION_US_EAST_1, REGION_EU_WEST_1 };
enum dep_class { CLASS_S16, CLASS_S256, CLASS_D1024, CLASS_D2048 };
#define SIM_NREGIONS 2
#define SIM_NCLASSES 4

int names_type_parse(const char *s, enum dep_type *out);
const char *names_type_str(enum dep_type t);
int names_region_parse(const char *s, enum dep_region *out);
const char *names_region_str(enum dep_region r);
const char *names_region_display(enum dep_region r);
int names_class_parse(const char *s, enum dep_class *out);
const char *names_class_str(enum dep_class c);
/* NULL when ref is acceptable, else why not (a static string). */
const char *names_reference_problem(const char *ref);
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
	int dashboard_edit_confirmation;   /* -1 unset, 0, 1 */
	int send_logs_to_client;           /* -1 unset, 0, 1 */
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
	bool deleted;
};

struct sim_store {
	pthread_mutex_t lock;
	int64_t team_id;
	char team_slug[128];
	char team_name[128];
	int64_t next_project_id;
	int64_t next_deployment_id;
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
	struct rng rng;           /* deployment names */
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

/* An API error: HTTP status, code, message. */
struct sim_err {
	unsigned int status;
	char code[48];
	char message[256];
};

int64_t sim_now_ms(void);
void sim_err_set(struct sim_err *e, unsigned int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

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
struct sim_deployment *store_deployment_create(struct sim_store *st,
    struct sim_project *p, const struct dep_spec *spec, struct sim_err *err);
/* Inserts a fully described deployment (state load); takes ownership of d. */
int store_deployment_insert(struct sim_store *st, struct sim_deployment *d,
    struct sim_err *err);
void store_project_delete(struct sim_store *st, struct sim_project *p);
void store_deployment_delete(struct sim_store *st, struct sim_deployment *d);
struct sim_deployment *store_project_default(const struct sim_project *p,
    enum dep_type type);
struct sim_deployment *store_project_reference(const struct sim_project *p,
    const char *ref);
void store_deployment_free(struct sim_deployment *d);
size_t store_live_projects(const struct sim_store *st);
size_t store_live_deployments(const struct sim_store *st);

/* ---- json.c: entities and the whole state as JSON */
struct cJSON *json_project(const struct sim_store *st,
    const struct sim_project *p);
struct cJSON *json_deployment(const struct sim_deployment *d);
struct cJSON *json_state(const struct sim_store *st);
/* Loads a state document into st (which must be empty). */
int json_state_load(struct sim_store *st, const struct cJSON *root,
    struct sim_err *err);
/* Serialized object or NULL on allocation failure; caller frees. */
char *json_print(struct cJSON *item);

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

enum fault_kind { FAULT_NONE, FAULT_ERROR, FAULT_DROP, FAULT_BAD_JSON };

struct fault_plan {
	unsigned delay_ms;        /* latency + jitter */
	bool rate_limited;
	unsigned retry_after;     /* seconds, with rate_limited */
	bool stall;
	unsigned stall_ms;
	enum fault_kind kind;
	bool after;               /* creates only: act first, then fail */
	unsigned error_status;    /* 500, 502 or 503 */
};

struct faults {
	pthread_mutex_t lock;
	struct fault_config cfg;
	struct rng rng;
	uint64_t seed;
	int64_t window_start_ms;
	unsigned window_count;
};

void faults_init(struct faults *f, const struct fault_config *cfg,
    uint64_t seed);
void faults_free(struct faults *f);
void faults_reset(struct faults *f);   /* reseed, new rate window */
void faults_get_config(struct faults *f, struct fault_config *out);
void faults_set_config(struct faults *f, const struct fault_config *cfg);
void faults_plan(struct faults *f, bool is_create, struct fault_plan *out);

/* ---- stats.c: counters shown by GET /_sim/stats */
enum stat_fault { SF_ERROR, SF_ERROR_AFTER, SF_DROP, SF_DROP_AFTER,
	SF_RATE_LIMITED, SF_STALL, SF_BAD_JSON, SF_COUNT };

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
	struct sim_query query[SIM_MAX_QUERY];
	int nquery;
};

struct sim_reply {
	unsigned int status;
	char *body;               /* malloc'd JSON or NULL (empty body) */
	unsigned retry_after;     /* > 0: Retry-After header */
};

const char *sim_query_get(const struct sim_request *rq, const char *key);
void sim_reply_json(struct sim_reply *rp, unsigned int status,
    struct cJSON *item);   /* takes and frees item */
void sim_reply_error(struct sim_reply *rp, const struct sim_err *err);
void sim_reply_errorf(struct sim_reply *rp, unsigned int status,
    const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void sim_reply_empty(struct sim_reply *rp, unsigned int status);

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
	bool verbose;
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

/* ---- routes.c: the /v1 API */
struct route_result {
	const char *route;        /* template for stats, e.g. "GET /projects/{id}" */
	bool is_create;           /* route creates a resource */
	bool created;             /* and it did */
};
/* Route of a request without running it (for fault planning). */
void routes_match(const struct sim_request *rq, struct route_result *res);
void routes_handle(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp, struct route_result *res);

/* ---- admin.c: /_sim routes and the state file */
void admin_handle(struct sim_ctx *ctx, const struct sim_request *rq,
    struct sim_reply *rp);
/* 0 or -errno; a missing file is a first run (0). */
int admin_load_file(struct sim_ctx *ctx, const char *path);
int admin_save_file(struct sim_ctx *ctx, const char *path);

/* ---- log.c: stderr lines */
void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
