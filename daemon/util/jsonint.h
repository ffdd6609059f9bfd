/* jsonint.h: exact 64-bit integers (ids, times in ms) in JSON.
 *
 * cJSON keeps every number as a double, which holds an integer exactly only
 * up to 2^53: cJSON_AddNumberToObject(o, "id", 2^53 + 1) prints
 * 9007199254740992 (another id), and INT64_MAX cannot be printed at all.
 * So ids are never written through a double: jsonint_add writes the exact
 * decimal text as a raw item. Reading them back is the other half: cJSON
 * parses "9007199254740993" into the same double as "9007199254740992", so
 * jsonint_parse keeps, for every number of the document, the text it was
 * parsed from, and jsonint_get reads the integer from that text. */
#ifndef CP_JSONINT_H
#define CP_JSONINT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* A raw item holding v's exact decimal text; NULL on ENOMEM. */
cJSON *jsonint_create(int64_t v);
/* Adds jsonint_create(v) to obj under key: the new item, or NULL on ENOMEM
 * (obj is then unchanged). */
cJSON *jsonint_add(cJSON *obj, const char *key, int64_t v);

/* jsonscan_parse (one document, no NUL, nothing after it: same errors),
 * then every number item of the result keeps the exact text it was parsed
 * from (in its valuestring, which cJSON_Delete frees; the item stays a
 * number, valuedouble as cJSON set it). NULL with err on failure. */
cJSON *jsonint_parse(const char *text, size_t len, char *err, size_t errlen);

/* The integer a number item holds, exactly.
 * - From the kept text (jsonint_parse) when it is an integer literal
 *   ("-"? digits, no fraction or exponent): -ERANGE outside int64.
 * - Otherwise (no kept text, or "42.0", "4.2e1") from the double, only when
 *   it is a whole number below 2^53 in magnitude, the range where the
 *   double cannot have been rounded: -EINVAL otherwise (a fraction, or
 *   9007199254740993.0, which the double cannot tell from its neighbour).
 * -EINVAL when item is not a number. */
int jsonint_get(const cJSON *item, int64_t *out);

#endif
