/* log.c: one line per event on stderr; journald prefix, JSON, never a token. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cdefs.h"
#include "nametab.h"
#include "textesc.h"

static enum log_level cur_level = LOG_LVL_INFO;
static enum log_format cur_format = LOG_FMT_TEXT;
static int under_journald;
static FILE *out_stream;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
/* syslog priorities: err, warning, info, debug */
static const int level_prio[] = { 3, 4, 6, 7 };

/* JOURNAL_STREAM is "DEV:INO" of the journal socket; only trust it when it
 * matches our actual stderr (a child may inherit the variable). */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_level level, enum log_format format)
{
	cur_level = level;
	cur_format = format;
	under_journald = stderr_is_journal();
}

void
log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level
log_get_level(void)
{
	return cur_level;
}

void
log_set_stream(void *stream)
{
	out_stream = stream;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	int i = nametab_find(level_names, CP_NELEM(level_names), s);

	if (i < 0)
		return -EINVAL;
	*out = (enum log_level)i;
	return 0;
}

int
log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FMT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

/* Text mode: control characters (newlines above all; C1 and bytes that are
 * not UTF-8 too, textesc.h) are escaped so that one event is always one
 * line, in a terminal and in the journal, and never drives the terminal. */
static void
put_text(FILE *f, const char *s)
{
	textesc_file(f, s, strlen(s), TEXTESC_C_NAMES);
}

static void
put_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	textesc_json_file(f, s, strlen(s));
	fputc('"', f);
}

static void
emit(enum log_level level, const struct log_field *fields, int nfields,
    const char *msg)
{
	FILE *f = out_stream ? out_stream : stderr;
	char ts[64];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);

	flockfile(f);
	if (cur_format == LOG_FMT_JSON) {
		fputs("{\"time\":", f);
		put_json_string(f, ts);
		fputs(",\"level\":", f);
		put_json_string(f, level_names[level]);
		fputs(",\"message\":", f);
		put_json_string(f, msg);
		for (int i = 0; i < nfields; i++) {
			if (fields[i].value == NULL)
				continue;
			fputc(',', f);
			put_json_string(f, fields[i].key);
			fputc(':', f);
			put_json_string(f, fields[i].value);
		}
		fputs("}\n", f);
	} else {
		/* journald adds its own timestamp; the prefix sets the priority. */
		if (under_journald)
			fprintf(f, "<%d>", level_prio[level]);
		else
			fprintf(f, "%s %s: ", ts, level_names[level]);
		put_text(f, msg);
		for (int i = 0; i < nfields; i++) {
			if (fields[i].value == NULL)
				continue;
			fprintf(f, " %s=", fields[i].key);
			put_text(f, fields[i].value);
		}
		fputc('\n', f);
	}
	funlockfile(f);
	fflush(f);
}

static void CP_PRINTF(4, 0)
vlog(enum log_level level, const struct log_field *fields, int nfields,
    const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[2048];

	if (level > cur_level) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	emit(level, fields, nfields, msg);
	errno = saved;
}

#define DEFINE_LOG(fn, level)                    \
	void fn(const char *fmt, ...)            \
	{                                        \
		va_list ap;                      \
		va_start(ap, fmt);               \
		vlog(level, NULL, 0, fmt, ap);   \
		va_end(ap);                      \
	}

DEFINE_LOG(log_errorx, LOG_LVL_ERROR)
DEFINE_LOG(log_warnx, LOG_LVL_WARN)
DEFINE_LOG(log_info, LOG_LVL_INFO)
DEFINE_LOG(log_debug, LOG_LVL_DEBUG)

void
log_fields(enum log_level level, const struct log_field *fields, int n,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fields, n, fmt, ap);
	va_end(ap);
}
