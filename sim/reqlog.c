/* reqlog.c: the request log of GET /_sim/log: every request in arrival order, with the store version it saw and what it changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim.h"

struct entry {
	uint64_t seq;
	char *json;               /* the serialized entry */
	size_t len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *ring;    /* the newest cap entries, oldest at head */
static size_t cap, head, count;
static uint64_t next_seq = 1;
static uint64_t logged;       /* entries added since the last reset */
static uint64_t dropped;      /* entries pushed out of the ring */

void
reqlog_init(size_t max_entries)
{
	pthread_mutex_lock(&lock);
	cap = max_entries;
	ring = cap > 0 ? calloc(cap, sizeof(*ring)) : NULL;
	if (ring == NULL)
		cap = 0;
	head = count = 0;
	pthread_mutex_unlock(&lock);
}

static void
clear_locked(void)
{
	for (size_t i = 0; i < count; i++)
		free(ring[(head + i) % cap].json);
	head = count = 0;
	dropped = 0;
}

void
reqlog_free(void)
{
	pthread_mutex_lock(&lock);
	if (cap > 0)
		clear_locked();
	free(ring);
	ring = NULL;
	cap = 0;
	pthread_mutex_unlock(&lock);
}

uint64_t
reqlog_next_seq(void)
{
	uint64_t s;

	pthread_mutex_lock(&lock);
	s = next_seq++;
	pthread_mutex_unlock(&lock);
	return s;
}

static cJSON *
entry_json(const struct reqlog_rec *r)
{
	cJSON *o = cJSON_CreateObject(), *q;

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "seq", (double)r->seq);
	cJSON_AddNumberToObject(o, "time", (double)r->time_ms);
	cJSON_AddStringToObject(o, "actor", r->actor);
	cJSON_AddStringToObject(o, "method", r->method);
	cJSON_AddStringToObject(o, "route", r->route);
	cJSON_AddStringToObject(o, "path", r->path);
	if (r->rq != NULL && r->rq->nquery > 0) {
		q = cJSON_AddObjectToObject(o, "query");
		for (int i = 0; i < r->rq->nquery; i++) {
			cJSON_DeleteItemFromObjectCaseSensitive(q, r->rq->query[i].key);
			cJSON_AddStringToObject(q, r->rq->query[i].key,
			    r->rq->query[i].value);
		}
	}
	if (r->status > 0)
		cJSON_AddNumberToObject(o, "status", r->status);
	else
		cJSON_AddNullToObject(o, "status");
	if (r->fault != NULL)
		cJSON_AddStringToObject(o, "fault", r->fault);
	else
		cJSON_AddNullToObject(o, "fault");
	cJSON_AddNumberToObject(o, "version", (double)r->version);
	cJSON_AddBoolToObject(o, "wrote", r->wrote);
	if (r->wrote)
		cJSON_AddNumberToObject(o, "writeVersion", (double)r->write_version);
	else
		cJSON_AddNullToObject(o, "writeVersion");
	if (r->effect != NULL)
		cJSON_AddItemToObject(o, "effect", cJSON_Duplicate(r->effect, 1));
	else
		cJSON_AddNullToObject(o, "effect");
	return o;
}

void
reqlog_add(const struct reqlog_rec *r)
{
	cJSON *o;
	char *text;

	if (cap == 0) {   /* off (cap is set once, before the server starts) */
		pthread_mutex_lock(&lock);
		logged++;
		pthread_mutex_unlock(&lock);
		return;
	}
	o = entry_json(r);
	text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	pthread_mutex_lock(&lock);
	logged++;
	if (text == NULL) {
		dropped++;   /* out of memory: counted, not kept */
	} else {
		if (count == cap) {
			free(ring[head].json);
			head = (head + 1) % cap;
			count--;
			dropped++;
		}
		ring[(head + count) % cap] = (struct entry){ r->seq, text, strlen(text) };
		count++;
	}
	pthread_mutex_unlock(&lock);
}

static int
cmp_seq(const void *a, const void *b)
{
	const struct entry *const *x = a, *const *y = b;

	return (*x)->seq < (*y)->seq ? -1 : (*x)->seq > (*y)->seq;
}

/* Entries are stored when answered, so concurrent requests can land out of
 * order: the answer is sorted by seq. */
char *
reqlog_json(uint64_t since, size_t max)
{
	struct entry **pick = NULL;
	size_t n = 0, len = 0, off;
	uint64_t busy;
	char tail[160], *out;

	pthread_mutex_lock(&lock);
	if (count > 0 && (pick = malloc(count * sizeof(*pick))) == NULL) {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	for (size_t i = 0; i < count; i++)
		if (ring[(head + i) % cap].seq > since)
			pick[n++] = &ring[(head + i) % cap];
	if (n > 1)
		qsort(pick, n, sizeof(*pick), cmp_seq);
	if (max > 0 && n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		len += pick[i]->len + 1;
	/* Requests given a seq but not answered yet (a reset while requests
	 * were in flight can make logged run ahead: then none). */
	busy = next_seq - 1 > logged ? next_seq - 1 - logged : 0;
	snprintf(tail, sizeof(tail),
	    "],\"nextSeq\":%llu,\"inFlight\":%llu,\"dropped\":%llu,\"limit\":%zu}",
	    (unsigned long long)next_seq, (unsigned long long)busy,
	    (unsigned long long)dropped, cap);
	if ((out = malloc(len + strlen(tail) + 16)) != NULL) {
		off = (size_t)sprintf(out, "{\"entries\":[");
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				out[off++] = ',';
			memcpy(out + off, pick[i]->json, pick[i]->len);
			off += pick[i]->len;
		}
		memcpy(out + off, tail, strlen(tail) + 1);
	}
	pthread_mutex_unlock(&lock);
	free(pick);
	return out;
}

void
reqlog_clear(void)
{
	pthread_mutex_lock(&lock);
	if (cap > 0)
		clear_locked();
	pthread_mutex_unlock(&lock);
}

void
reqlog_reset(void)
{
	pthread_mutex_lock(&lock);
	if (cap > 0)
		clear_locked();
	next_seq = 1;
	logged = 0;
	pthread_mutex_unlock(&lock);
}
