/* stats.c: request counters by route template and status, creates, deletes, faults and concurrency. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

#define MAX_ROUTES   64
#define MAX_STATUSES 16

struct route_stat {
	const char *route;        /* a static template string */
	struct {
		unsigned int status;
		long n;
	} s[MAX_STATUSES];
	int ns;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct route_stat routes[MAX_ROUTES];
static int nroutes;
static long total;
static long creates[2], deletes[2];   /* [0] deployment, [1] project */
static long faults[SF_COUNT];
static long in_flight, max_in_flight;

void
stats_init(void)
{
	stats_reset();
}

void
stats_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(routes, 0, sizeof(routes));
	nroutes = 0;
	total = 0;
	memset(creates, 0, sizeof(creates));
	memset(deletes, 0, sizeof(deletes));
	memset(faults, 0, sizeof(faults));
	max_in_flight = in_flight;
	pthread_mutex_unlock(&lock);
}

void
stats_request(const char *route, unsigned int status)
{
	struct route_stat *r = NULL;

	pthread_mutex_lock(&lock);
	total++;
	for (int i = 0; i < nroutes; i++)
		if (strcmp(routes[i].route, route) == 0)
			r = &routes[i];
	if (r == NULL && nroutes < MAX_ROUTES) {
		r = &routes[nroutes++];
		r->route = route;
	}
	if (r != NULL) {
		int i;

		for (i = 0; i < r->ns && r->s[i].status != status; i++)
			;
		if (i == r->ns && r->ns < MAX_STATUSES) {
			r->s[i].status = status;
			r->s[i].n = 0;
			r->ns++;
		}
		if (i < r->ns)
			r->s[i].n++;
	}
	pthread_mutex_unlock(&lock);
}

void
stats_create(bool project)
{
	pthread_mutex_lock(&lock);
	creates[project]++;
	pthread_mutex_unlock(&lock);
}

void
stats_delete(bool project)
{
	pthread_mutex_lock(&lock);
	deletes[project]++;
	pthread_mutex_unlock(&lock);
}

void
stats_fault(enum stat_fault f)
{
	pthread_mutex_lock(&lock);
	faults[f]++;
	pthread_mutex_unlock(&lock);
}

void
stats_enter(void)
{
	pthread_mutex_lock(&lock);
	if (++in_flight > max_in_flight)
		max_in_flight = in_flight;
	pthread_mutex_unlock(&lock);
}

void
stats_leave(void)
{
	pthread_mutex_lock(&lock);
	in_flight--;
	pthread_mutex_unlock(&lock);
}

cJSON *
stats_json(void)
{
	static const char *const fault_names[SF_COUNT] = {
		"error", "errorAfterCreate", "drop", "dropAfterCreate",
		"rateLimited", "stall", "badJson", "errorAfterWrite",
		"dropAfterWrite", "pageFail", "scripted",
	};
	cJSON *root = cJSON_CreateObject(), *req, *o;
	char key[16];

	if (root == NULL)
		return NULL;
	pthread_mutex_lock(&lock);
	req = cJSON_AddObjectToObject(root, "requests");
	for (int i = 0; i < nroutes; i++) {
		o = cJSON_AddObjectToObject(req, routes[i].route);
		for (int j = 0; j < routes[i].ns; j++) {
			if (routes[i].s[j].status == 0)
				snprintf(key, sizeof(key), "drop");
			else
				snprintf(key, sizeof(key), "%u", routes[i].s[j].status);
			cJSON_AddNumberToObject(o, key, (double)routes[i].s[j].n);
		}
	}
	cJSON_AddNumberToObject(root, "total", (double)total);
	o = cJSON_AddObjectToObject(root, "creates");
	cJSON_AddNumberToObject(o, "project", (double)creates[1]);
	cJSON_AddNumberToObject(o, "deployment", (double)creates[0]);
	o = cJSON_AddObjectToObject(root, "deletes");
	cJSON_AddNumberToObject(o, "project", (double)deletes[1]);
	cJSON_AddNumberToObject(o, "deployment", (double)deletes[0]);
	o = cJSON_AddObjectToObject(root, "faults");
	for (int i = 0; i < SF_COUNT; i++)
		cJSON_AddNumberToObject(o, fault_names[i], (double)faults[i]);
	cJSON_AddNumberToObject(root, "max_in_flight", (double)max_in_flight);
	cJSON_AddNumberToObject(root, "in_flight", (double)in_flight);
	pthread_mutex_unlock(&lock);
	return root;
}
