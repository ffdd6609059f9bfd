/* jsonget.h: typed reads of a cJSON object's members: the one set shared
 * by the API decoders (api_decode.c) and the ledger (ledger.c), each adding
 * only its own messages. A member that is absent or JSON null counts as
 * missing. Integers are read exactly (jsonint_get): from the text a
 * jsonint_parse tree keeps (2^53 + 1 and INT64_MAX included), otherwise
 * only when the double is a whole number below 2^53. */
#ifndef CP_JSONGET_H
#define CP_JSONGET_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The member, or NULL when it is absent or null. */
const cJSON *jsonget_member(const cJSON *obj, const char *name);

/* 0 and *out, -ENOENT missing, -EINVAL of another type (-ERANGE: an
 * integer outside int64). The string is borrowed from the tree. */
int jsonget_str(const cJSON *obj, const char *name, const char **out);
int jsonget_bool(const cJSON *obj, const char *name, bool *out);
int jsonget_int(const cJSON *obj, const char *name, int64_t *out);

#endif
