/* settings.h: the daemon settings of SPEC section 3, from one table of rows
 * (key, flag, environment, default, parser): flag > environment > file >
 * default. The token is not a setting: see token.h. */
#ifndef CP_SETTINGS_H
#define CP_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

enum prune_mode { PRUNE_NONE = 0, PRUNE_OWNED, PRUNE_ALL };

struct settings {
	char *api_url;            /* base, ends in /v1, no trailing slash */
	int64_t team_id;          /* 0: discover with GET /token_details */
	char *token_file;         /* NULL: not set */
	char *desired;
	uint64_t interval_ms;
	unsigned jitter_pct;      /* 0..100 */
	unsigned concurrency;     /* 1..256 */
	uint64_t request_timeout_ms;
	enum prune_mode prune;
	unsigned max_deletes;
	bool allow_empty;
	char *state_dir;
	char *listen;             /* "" disables */
	enum log_level log_level;
	enum log_format log_format;
	char *ca_file;            /* NULL: system store */
	char *config_file;        /* the settings file that was read, or NULL */
};

const char *prune_mode_name(enum prune_mode m);

#endif
