/* jsonspan.h: the extent of JSON values in a text, found by a validating
 * skip that builds nothing, so a large document can be taken apart one
 * element at a time: the ledger of a team of 10,000 projects is 30,000
 * entries, whose cJSON tree took 14 MB at once (SPEC section 12,
 * docs/performance.md); read element by element it takes one entry's.
 *
 * Offsets are byte offsets into text[0..len). The grammar is the one
 * cJSON's parser accepts, so that a document reads the same taken apart as
 * it did parsed whole (a ledger that loaded before must load now): objects,
 * arrays, true, false, null; strings whose escapes are one of \" \\ \/ \b
 * \f \n \r \t \uXXXX, UTF-16 surrogates only in pairs (raw control bytes
 * inside are let through, as cJSON does); numbers as cJSON reads them (a
 * '-' or a digit, then what strtod takes of the characters 0-9 + - . e E
 * that follow, however many); any byte up to 0x20 between tokens counts as
 * white space;
 * nesting at most JSONSPAN_MAX_DEPTH. A NUL, and a \u escape that is not
 * four hex digits (cJSON reads U+0000), are jsonscan_find_nul's to refuse,
 * first. fuzz_ledger holds the reader to cJSON's verdicts. */
#ifndef CP_JSONSPAN_H
#define CP_JSONSPAN_H

#include <stddef.h>

#define JSONSPAN_MAX_DEPTH 1000  /* cJSON's own nesting limit */

/* The first offset at or after `at` that is not JSON white space. */
size_t jsonspan_space(const char *text, size_t len, size_t at);

/* Skips white space and one JSON value from *at: 0 and *at just past the
 * value, or -EBADMSG and *at where the text stops being JSON. */
int jsonspan_skip(const char *text, size_t len, size_t *at);

/* Walking a container whose text was checked with jsonspan_skip: *at on
 * its opening bracket or brace to begin with. Each call finds the next
 * element (the next member: its key's span, a string with its quotes, in
 * *key and *key_end) and its value's span [*start, *end); 1 when there is
 * one, 0 at the end (then *at is just past the container). */
int jsonspan_element(const char *text, size_t len, size_t *at,
    size_t *start, size_t *end);
int jsonspan_member(const char *text, size_t len, size_t *at, size_t *key,
    size_t *key_end, size_t *start, size_t *end);

#endif
