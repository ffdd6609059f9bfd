/* jsonscan.h: parsing one JSON document from outside (an API body, the
 * ledger) with the checks cJSON cannot make after the fact:
 * - a string holding U+0000 (a "\u0000" escape, or a raw NUL byte): cJSON
 *   ends its valuestring there and keeps no length, so "shop\u0000-prod"
 *   would read as "shop" and match another name. Model strings are C
 *   strings, so such text cannot be represented: it is refused, whole;
 * - anything but white space after the document (a second document, a
 *   stray byte): cJSON_ParseWithLength stops after the first and says
 *   nothing, which would silently drop what follows. */
#ifndef CP_JSONSCAN_H
#define CP_JSONSCAN_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Byte offset of the first NUL in text[0..len): a raw 0 byte anywhere, or a
 * \u0000 escape inside a string, or a \u escape whose four characters are
 * not all hex digits (cJSON reads it as U+0000); len when there is none. */
size_t jsonscan_find_nul(const char *text, size_t len);

/* Parses text[0..len) as exactly one JSON document. NULL when it is empty,
 * not valid JSON, holds a NUL (above) or has data after the document; err
 * then says which and where ("invalid JSON near byte 12", "a string holds
 * a NUL character (\u0000) at byte 40", "data after the JSON document at
 * byte 99"). The caller frees the result with cJSON_Delete. */
cJSON *jsonscan_parse(const char *text, size_t len, char *err, size_t errlen);

#endif
