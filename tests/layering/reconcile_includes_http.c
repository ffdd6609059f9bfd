/* reconcile_includes_http.c: must NOT build. http.h is private to the api
 * area (as curl keeps lib/vtls/ private): the rest talks to api.h. */
#include "http.h"
