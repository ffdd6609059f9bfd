/* textesc.h: text from outside (names from the API, error messages, file
 * names) made safe to show on a terminal, in a log line or in JSON.
 *
 * What is escaped, everywhere:
 * - C0 control characters (0x00-0x1f) and DEL (0x7f): "\xNN" in text
 *   ("\n" and "\t" with TEXTESC_C_NAMES), "\u00NN" in JSON;
 * - C1 control characters, U+0080..U+009F written as valid UTF-8 (C2 80 ..
 *   C2 9F; U+009B is the one-character CSI that starts a terminal escape):
 *   "\u0080".."\u009f" in text and in JSON;
 * - bytes that are not part of valid UTF-8 (a stray 0x9b, a truncated or
 *   overlong sequence, a surrogate): "\xNN" in text, U+FFFD (the
 *   replacement character, "\ufffd") in JSON, which must be UTF-8.
 * Everything else (printable ASCII, valid UTF-8 above U+009F) is kept.
 *
 * These functions are the output edges: each first masks every value
 * registered in secrets.h (the API token, ...), so whatever passes through
 * them cannot show a secret, whoever called them. */
#ifndef CP_TEXTESC_H
#define CP_TEXTESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"

#define TEXTESC_QUOTES  0x1   /* also '"' and '\\' as "\"" and "\\" */
#define TEXTESC_C_NAMES 0x2   /* '\n' and '\t' as "\n" and "\t" */

/* The longest escape of one unit ("\u009f"), plus its NUL. */
#define TEXTESC_UNIT_MAX 8

/* Length (2..4) of the valid UTF-8 sequence of a code point above U+007F
 * at s (n bytes available), with the code point in *cp; 0 when s[0] does
 * not start one. */
size_t textesc_utf8_len(const unsigned char *s, size_t n, unsigned *cp);

/* True when s[0..len) needs no escape at all in text (flags 0). */
bool textesc_is_plain(const char *s, size_t len);

/* Appends s[0..len) escaped for text. 0, or buf_append's error. */
int textesc_buf(struct buf *out, const char *s, size_t len, unsigned flags);
/* The same, written to a stream. */
void textesc_file(FILE *f, const char *s, size_t len, unsigned flags);
/* The same into out (n bytes), cut short where it does not fit (never in
 * the middle of an escape or of a UTF-8 sequence); always NUL-terminated
 * when n > 0. Returns out. */
char *textesc_str(char *out, size_t n, const char *s, size_t len,
    unsigned flags);

/* s[0..len) as the inside of a JSON string (no quotes around it). */
void textesc_json_file(FILE *f, const char *s, size_t len);
/* Rewrites JSON text as printed by cJSON (which copies every byte from
 * 0x7f up as it is) into valid UTF-8 JSON with every control character
 * escaped: DEL and C1 become "\u00NN", bytes that are not UTF-8 "\ufffd".
 * Outside its strings cJSON writes only ASCII, so only string contents
 * change. Returns a new string (free()), or NULL when out of memory. */
char *textesc_json_clean(const char *json);

#endif
