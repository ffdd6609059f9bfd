/* secrets.h: the registry of values that must never be shown (the API
 * token; with issue 12, env values and deploy key secrets), and the scrub
 * applied at every output edge: the log writer (log.c), the text and JSON
 * escapes of every printed output (textesc.c), API error messages as they
 * are stored (api.c). A value is registered once, where it is loaded; no
 * call site that prints has to remember it.
 *
 * A registered value is replaced by SECRETS_MASK wherever it occurs, and a
 * text that ends with the first SECRETS_TAIL_MIN or more bytes of one (a
 * message cut short in the middle of it) has that end replaced too. Values
 * shorter than SECRETS_MIN_LEN are not registered: they would match
 * everywhere, and no real token is that short.
 *
 * URLs are shown without their password: secrets_url_redact turns
 * "http://admin:SECRET@host/v1" into "http://admin:***@host/v1"; a user
 * name alone ("http://TOKEN@host") is masked whole. */
#ifndef CP_SECRETS_H
#define CP_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#define SECRETS_MASK "***"
#define SECRETS_MIN_LEN 4
#define SECRETS_TAIL_MIN 8

/* Remembers a copy of s (a value already registered is not added twice;
 * a replaced token stays registered: it may still be echoed). 0, or
 * -ENOMEM; a value shorter than SECRETS_MIN_LEN is ignored (0). */
int secrets_register(const char *s);
/* Wipes and forgets every value (at exit, and between tests). */
void secrets_free(void);
/* True when at least one value is registered. */
bool secrets_any(void);

/* s[0..len) with every registered value masked, as a new NUL-terminated
 * string (*outlen its length); NULL when out of memory. With `json`, s is
 * JSON text and values are looked for as cJSON prints them inside a
 * string ('"' and '\\' escaped), so the result stays valid JSON. */
char *secrets_scrub_dup(const char *s, size_t len, bool json, size_t *outlen);
/* Masks in place in a NUL-terminated string held in cap bytes; the result
 * is cut at cap - 1 bytes if the masks make it longer (a value cut by that
 * is masked by the tail rule). */
void secrets_scrub(char *s, size_t cap);

/* Copies url into out (n bytes) with the password of its userinfo (or the
 * whole userinfo when it has no ':') replaced by SECRETS_MASK. Works on
 * anything URL-like: "scheme://" is optional. Returns out. */
char *secrets_url_redact(const char *url, char *out, size_t n);

#endif
