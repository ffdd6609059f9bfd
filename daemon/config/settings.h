/* settings.h: the daemon settings of SPEC section 3, from one table of rows
 * (key, flag, environment, default, parser): flag > environment > file >
 * default. The token is not a setting: see token.h. */
#ifndef CP_SETTINGS_H
#define CP_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "plan.h"          /* enum prune_mode */

struct diag;

#define SETTINGS_DEFAULT_CONFIG "/etc/convex-provisioner/config.yaml"

/* How `run` sees changes to the desired files: both compare the files'
 * fingerprint before every reconcile; watch adds inotify events, which
 * only make a reload come sooner. */
enum desired_follow { FOLLOW_WATCH = 0, FOLLOW_POLL };

/* --format: how plan, apply and show print (SPEC sections 4 and 13).
 * FORMAT_DEFAULT: not given, text unless --json. */
enum output_format { FORMAT_DEFAULT = 0, FORMAT_TEXT, FORMAT_JSON,
	FORMAT_MARKDOWN };

/* A value given on the command line, kept so that a reload (SIGHUP) applies
 * it again over the re-read file: flags keep their precedence. */
struct settings_flag {
	int row;                  /* index in the settings table */
	char *value;
};

struct settings {
	char *api_url;            /* base, ends in /v1, no trailing slash */
	int64_t team_id;          /* 0: discover with GET /token_details */
	char *token_file;         /* NULL: not set */
	char *desired;
	enum desired_follow follow;
	uint64_t interval_ms;
	unsigned jitter_pct;      /* 0..100 */
	unsigned concurrency;     /* 1..256 */
	uint64_t request_timeout_ms;
	enum prune_mode prune;
	unsigned max_deletes;
	bool allow_empty;
	enum drift_mode drift;    /* SPEC section 8: correct or report */
	char *state_dir;
	char *keys_dir;           /* deploy key secrets; NULL: state_dir/keys */
	char *listen;             /* "" disables */
	enum log_level log_level;
	enum log_format log_format;
	char *ca_file;            /* NULL: system store */
	char *config_file;        /* the settings file that was read, or NULL */
	bool json;                /* --json: plan and apply print one object */
	enum output_format format;   /* --format; see settings_output_format */
	char *out;                /* --out FILE: plan saves itself there */
	bool strict;              /* --strict: validate fails on an env value
	                           * whose {file:} or {env:} cannot be read */

	/* How these settings were found, for settings_reload. */
	char *config_path;        /* -c FILE, or SETTINGS_DEFAULT_CONFIG */
	bool config_explicit;     /* -c given: a missing file is an error */
	struct settings_flag *flags;
	size_t n_flags;
	bool help;                /* --help or --version seen: nothing but */
	bool version;             /* the command line was read */
};

/* One row of the table. Parsers read text (from the file, the environment
 * or a flag) into the field at `off`, within [min, max]. */
struct settings_row {
	const char *key;          /* settings-file key; NULL: flag only */
	const char *flag;         /* long option without "--"; NULL: none */
	const char *env;          /* environment variable; NULL: none */
	const char *defval;       /* default as text, parsed like the rest */
	const char *defdoc;       /* what --help says when defval is NULL */
	const char *arg;          /* value name in --help; NULL: no value */
	const char *help;
	int (*parse)(const struct settings_row *r, const char *text,
	    struct settings *s, char *err, size_t errlen);
	size_t off;
	int64_t min;
	int64_t max;
	unsigned char kind;       /* SETTINGS_* below */
};

#define SETTINGS_PLAIN 0
#define SETTINGS_BOOL 1           /* file value must be true or false */
#define SETTINGS_ENV_HOST 2       /* the environment gives a host: add /v1 */

/* The table, for --help, the docs test and the loader. */
const struct settings_row *settings_rows(size_t *n);

/*
 * Reads the command line (GNU order: options may stand before or after the
 * command), then builds the settings: defaults, the settings file (-c FILE,
 * else SETTINGS_DEFAULT_CONFIG if it exists), the environment, the flags.
 * argv is permuted as GNU getopt does: options first, then the other
 * arguments in their order; *cmd_index is the first of those (argc when
 * there is none): the command and its arguments. With --help or --version only the command line is
 * read. Returns 0, or -EINVAL with every problem in `d` as
 * FILE:LINE:COL (file), "--flag: ..." or "VARIABLE: ..." (environment),
 * or -ENOMEM. On failure *out is still safe to pass to settings_free.
 */
int settings_load(int argc, char **argv, struct settings *out, int *cmd_index,
    struct diag *d);
/* The same with another default settings file (tests). */
int settings_load_from(int argc, char **argv, const char *default_config,
    struct settings *out, int *cmd_index, struct diag *d);
/* For SIGHUP: the same file (re-read), environment and flags as `cur`, into
 * *out. 0 or -EINVAL (problems in d), -ENOMEM; `cur` is left alone. */
int settings_reload(const struct settings *cur, struct settings *out,
    struct diag *d);
void settings_free(struct settings *s);   /* accepts NULL */

/* The options part of --help, generated from the table. */
void settings_usage(FILE *f);

/* Strict parsers, shared with the table: `90`, `30s`, `5m`, `1h`;
 * `10%`. 0 or -EINVAL (-ERANGE on overflow). */
int settings_parse_duration(const char *s, uint64_t *ms);
int settings_parse_percent(const char *s, unsigned *pct);
const char *settings_follow_name(enum desired_follow f);   /* "watch", "poll" */
/* The format the commands print in: --format, else json with --json, else
 * text. -EINVAL when --json and --format say different things. */
int settings_output_format(const struct settings *s, enum output_format *out);
const char *settings_format_name(enum output_format f);   /* "text", ... */

#endif
