/* api_includes_config.c: must NOT build. The API client and the settings
 * loader are siblings: neither may include the other. */
#include "settings.h"
