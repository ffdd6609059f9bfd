/* log.h: leveled logging on stderr (text, JSON, or journald priority prefix). */
#ifndef CP_LOG_H
#define CP_LOG_H

#include <stdarg.h>

#include "cdefs.h"

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_format { LOG_FMT_TEXT = 0, LOG_FMT_JSON };

/* Structured fields attached to one line (NULL-terminated key/value pairs are
 * passed through log_fields). Values are printed as strings. */
struct log_field {
	const char *key;
	const char *value;
};

void log_init(enum log_level level, enum log_format format);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *s, enum log_level *out);
int log_format_parse(const char *s, enum log_format *out);
/* Redirect output (tests); NULL restores stderr. */
void log_set_stream(void *stream);

void log_errorx(const char *fmt, ...) CP_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) CP_PRINTF(1, 2);
void log_info(const char *fmt, ...) CP_PRINTF(1, 2);
void log_debug(const char *fmt, ...) CP_PRINTF(1, 2);
/* One line with extra fields (n of them); shown as key=value in text. */
void log_fields(enum log_level level, const struct log_field *fields, int n,
    const char *fmt, ...) CP_PRINTF(4, 5);

#endif
