/* wscache.c: a page's data for a workspace, kept by the worker (wscache.h) */
#include "wscache.h"

#include <stdlib.h>
#include <string.h>

/* A few workspaces per page: what one worker serves in a burst. */
#define WSC_SLOTS 8

static struct wscache_entry slots[WSC__MAX][WSC_SLOTS];
static unsigned long uses;

static void entry_clear(struct wscache_entry *e)
{
	for (int i = 0; i < e->n; i++)
		PQclear(e->res[i]);
	memset(e, 0, sizeof(*e));
}

static struct wscache_entry *find(enum wscache_kind kind, const char *slug)
{
	if (!app_config.ws_cache || slug == NULL || (unsigned)kind >= WSC__MAX)
		return NULL;
	for (int i = 0; i < WSC_SLOTS; i++)
		if (slots[kind][i].n > 0 && strcmp(slots[kind][i].slug, slug) == 0)
			return &slots[kind][i];
	return NULL;
}

static long long version_of(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : -1;
}

int wscache_known(enum wscache_kind kind, const char *slug)
{
	return find(kind, slug) != NULL;
}

int wscache_prefetch(struct ctx *c, struct prefetch *p, enum wscache_kind kind)
{
	if (!wscache_known(kind, c->req->capture[0]))
		return 0;
	p->stmt = NULL;
	return 1;
}

const struct wscache_entry *wscache_get(struct ctx *c, enum wscache_kind kind)
{
	struct wscache_entry *e;

	if (c->ws == NULL || (e = find(kind, c->ws->slug)) == NULL)
		return NULL;
	if (strcmp(e->ws_id, c->ws->id) != 0 || e->version != version_of(c->ws->version)) {
		entry_clear(e);
		return NULL;
	}
	e->used = ++uses;
	return e;
}

const struct wscache_entry *wscache_put(struct ctx *c, enum wscache_kind kind, PGresult **res,
                                        int n, time_t read_at)
{
	struct wscache_entry *e = NULL;
	long long v = c->ws != NULL ? version_of(c->ws->version) : -1;

	if (!app_config.ws_cache || v < 0 || n < 1 || n > WSC_RESULTS ||
	    strlen(c->ws->slug) >= sizeof(e->slug) || strlen(c->ws->id) >= sizeof(e->ws_id))
		return NULL;
	if ((e = find(kind, c->ws->slug)) == NULL) {
		e = &slots[kind][0];
		for (int i = 1; i < WSC_SLOTS; i++)
			if (slots[kind][i].used < e->used)
				e = &slots[kind][i];
	}
	entry_clear(e);
	strcpy(e->slug, c->ws->slug);
	strcpy(e->ws_id, c->ws->id);
	e->version = v;
	e->read_at = read_at;
	e->n = n;
	for (int i = 0; i < n; i++)
		e->res[i] = res[i];
	e->used = ++uses;
	return e;
}

void wscache_reset(void)
{
	for (int k = 0; k < WSC__MAX; k++)
		for (int i = 0; i < WSC_SLOTS; i++)
			entry_clear(&slots[k][i]);
}

long wscache_age(const struct wscache_entry *e)
{
	time_t now;

	if (e == NULL)
		return 0;
	now = time(NULL);
	return now > e->read_at ? (long)(now - e->read_at) : 0;
}
