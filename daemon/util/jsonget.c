/* jsonget.c: the member lookups of jsonget.h. */
#include "jsonget.h"

#include <errno.h>

#include "jsonint.h"

const cJSON *
jsonget_member(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return (v == NULL || cJSON_IsNull(v)) ? NULL : v;
}

int
jsonget_str(const cJSON *obj, const char *name, const char **out)
{
	const cJSON *v = jsonget_member(obj, name);

	if (v == NULL)
		return -ENOENT;
	if (!cJSON_IsString(v) || v->valuestring == NULL)
		return -EINVAL;
	*out = v->valuestring;
	return 0;
}

int
jsonget_bool(const cJSON *obj, const char *name, bool *out)
{
	const cJSON *v = jsonget_member(obj, name);

	if (v == NULL)
		return -ENOENT;
	if (!cJSON_IsBool(v))
		return -EINVAL;
	*out = cJSON_IsTrue(v);
	return 0;
}

int
jsonget_int(const cJSON *obj, const char *name, int64_t *out)
{
	const cJSON *v = jsonget_member(obj, name);
	int64_t n;
	int rc;

	if (v == NULL)
		return -ENOENT;
	if ((rc = jsonint_get(v, &n)) != 0)
		return rc;
	*out = n;
	return 0;
}
