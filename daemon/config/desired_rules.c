/* desired_rules.c: the rules of single values in the desired state, as
 * pure functions: each returns NULL when the value keeps the rule, else
 * the broken rule as a phrase that follows the quoted value in a message
 * ("reference \"ab\" must be 3 to 100 characters long"). Lengths are
 * given, so a value holding a NUL is judged on all its bytes. */
#include "desired.h"

#include <errno.h>
#include <string.h>

static const char *const reserved_refs[] = {
	"prod", "dev", "cloud", "local", "default", "name", "new", "existing",
	"deployment", "preview", NULL
};

static bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

const char *
desired_reference_problem(const char *s, size_t len)
{
	size_t i, a, b;

	if (len < DESIRED_REF_MIN || len > DESIRED_REF_MAX)
		return "must be 3 to 100 characters long";
	for (i = 0; i < len; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-' && s[i] != '/')
			return "may only contain a-z, 0-9, \"-\" and \"/\"";
	/* The shape of generated deployment names: ^[a-z]+-[a-z]+-[0-9]+$ */
	for (a = 0; a < len && is_lower(s[a]); a++)
		;
	if (a > 0 && a < len && s[a] == '-') {
		for (b = a + 1; b < len && is_lower(s[b]); b++)
			;
		if (b > a + 1 && b < len && s[b] == '-') {
			for (i = b + 1; i < len && is_digit(s[i]); i++)
				;
			if (i > b + 1 && i == len)
				return "has the shape of a deployment name "
				    "(letters-letters-digits)";
		}
	}
	if (len >= 6 && memcmp(s, "local-", 6) == 0)
		return "may not start with \"local-\"";
	for (const char *const *r = reserved_refs; *r; r++)
		if (strlen(*r) == len && memcmp(*r, s, len) == 0)
			return "is reserved";
	return NULL;
}

bool
desired_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
		/* C1 controls (U+0080..U+009F) drive terminals too. */
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

const char *
desired_name_problem(const char *s, size_t len)
{
	if (len == 0)
		return "may not be empty";
	if (len > DESIRED_NAME_MAX)
		return "is longer than 128 bytes";
	if (desired_has_control(s, len))
		return "may not contain control characters";
	return NULL;
}

/* The shape of the slugs the API makes from names: lower-case letters and
 * digits in runs joined by single dashes. */
const char *
desired_slug_problem(const char *s, size_t len)
{
	if (len < 1 || len > DESIRED_SLUG_MAX)
		return "must be 1 to 60 characters long";
	for (size_t i = 0; i < len; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-')
			return "may only contain a-z, 0-9 and \"-\"";
	if (s[0] == '-' || s[len - 1] == '-')
		return "may not start or end with \"-\"";
	for (size_t i = 1; i < len; i++)
		if (s[i] == '-' && s[i - 1] == '-')
			return "may not contain \"--\"";
	return NULL;
}

/* A host name: dot-separated labels of 1 to 63 characters of a-z, 0-9 and
 * "-" (not at either end of a label), at least two labels, 253 characters
 * in all, the last label not all digits (an IP address is no domain). */
const char *
desired_domain_problem(const char *s, size_t len)
{
	size_t label = 0, labels = 1, last = 0;

	if (len == 0)
		return "is empty";
	if (len > DESIRED_DOMAIN_MAX)
		return "is longer than 253 characters";
	for (size_t i = 0; i < len; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-' && s[i] != '.')
			return "may only contain a-z, 0-9, \"-\" and \".\" (lower "
			    "case; an internationalized name in its xn-- form)";
	if (s[len - 1] == '.')
		return "may not end with \".\"";
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			label++;
			continue;
		}
		if (label == 0)
			return "has an empty label (\"..\" or a leading \".\")";
		if (label > 63)
			return "has a label longer than 63 characters";
		if (s[i - label] == '-' || s[i - 1] == '-')
			return "has a label that starts or ends with \"-\"";
		last = i - label;
		if (i < len)
			labels++;
		label = 0;
	}
	if (labels < 2)
		return "needs at least two labels (such as api.example.com)";
	for (size_t i = last; i < len && is_digit(s[i]); i++)
		if (i + 1 == len)
			return "looks like an IP address, not a host name";
	return NULL;
}

/* Convex's rule for environment variable names. */
const char *
desired_env_name_problem(const char *s, size_t len)
{
	if (len < 1 || len > DESIRED_ENV_NAME_MAX)
		return "must be 1 to 40 characters long";
	if (!(is_lower(s[0]) || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return "must start with a letter or \"_\"";
	for (size_t i = 1; i < len; i++)
		if (!(is_lower(s[i]) || (s[i] >= 'A' && s[i] <= 'Z') ||
		    is_digit(s[i]) || s[i] == '_'))
			return "may only contain letters, digits and \"_\"";
	return NULL;
}

/* Deploy key names: safe as a part of a file name and in a URL as they
 * are, without a case to fold. */
const char *
desired_key_name_problem(const char *s, size_t len)
{
	if (len < 1 || len > DESIRED_KEY_NAME_MAX)
		return "must be 1 to 64 characters long";
	if (!is_lower(s[0]) && !is_digit(s[0]))
		return "must start with a-z or 0-9";
	for (size_t i = 1; i < len; i++)
		if (!is_lower(s[i]) && !is_digit(s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return "may only contain a-z, 0-9, \"-\", \"_\" and \".\"";
	return NULL;
}

/* ---- RFC 3339 times ----------------------------------------------------- */

static bool
digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
desired_parse_time(const char *s, size_t len, int64_t *ms, const char **why)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0, frac = 0;
	size_t i = 19;
	int64_t t;

	*why = "not of the form YYYY-MM-DDTHH:MM:SS followed by Z or an offset";
	if (len < 19 || !digits(s, 4, &y) || s[4] != '-' ||
	    !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (i < len && s[i] == '.') {
		size_t n = 0;

		/* Milliseconds are kept; finer digits are cut. */
		for (i++; i < len && is_digit(s[i]); i++, n++)
			if (n < 3)
				frac = frac * 10 + (s[i] - '0');
		if (n == 0)
			return -EINVAL;
		for (; n < 3; n++)
			frac *= 10;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '-' ? -1 : 1;
		if (len - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    !digits(s + i + 4, 2, &om))
			return -EINVAL;
		i += 6;
	} else {
		*why = "no time zone: end it with Z or an offset such as +02:00";
		return -EINVAL;
	}
	if (i != len)
		return -EINVAL;
	if (mo < 1 || mo > 12) {
		*why = "the month is out of range";
		return -EINVAL;
	}
	if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y))) {
		*why = "the day is out of range for its month";
		return -EINVAL;
	}
	if (h > 23 || mi > 59 || sec > 59) {
		*why = sec == 60 ? "leap seconds are not supported" :
		    "the time of day is out of range";
		return -EINVAL;
	}
	if (oh > 23 || om > 59) {
		*why = "the offset is out of range";
		return -EINVAL;
	}
	t = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	*ms = t * 1000 + frac;
	*why = NULL;
	return 0;
}
