/* wscache.h: a page's data for a workspace, kept by the worker for every member who asks */
#ifndef SETTINGS_WSCACHE_H
#define SETTINGS_WSCACHE_H

#include <libpq-fe.h>
#include <time.h>

#include "app.h"

/*
 * A page reads the same rows for every member of a workspace; only what it
 * draws from them depends on the person (their role, their own row). So a
 * worker may keep those rows between requests and serve them again, to
 * anyone, for as long as the workspace's version (sql/017: a number that
 * moves at the commit of every change to what the pages show, returned by
 * the session check) is the one they were read at. The rows are then never
 * older than what the request's own snapshot would read: a change that
 * committed before the session check moved the number.
 *
 * Times relative to now ("3 minutes ago", "expires in 2 days") are read as
 * of the moment of reading: a page adds wscache_age() to them.
 */
enum wscache_kind { WSC_TEAM, WSC_BILLING, WSC_INTEGRATIONS, WSC__MAX };

#define WSC_RESULTS 4

struct wscache_entry {
	char slug[64];
	char ws_id[40];
	long long version;
	time_t read_at;
	int n;
	PGresult *res[WSC_RESULTS];
	unsigned long used;               /* for least-recently-used replacement */
};

/* Before the session check: is anything kept for this page and workspace slug? */
int wscache_known(enum wscache_kind kind, const char *slug);
/*
 * A route's prefetch (app.h, struct prefetch) for a page this worker may
 * keep: when it keeps the page of the address's workspace, the session
 * check commits alone (p->stmt NULL) and 1; else 0.
 */
int wscache_prefetch(struct ctx *c, struct prefetch *p, enum wscache_kind kind);
/*
 * After the session check: the entry for c->ws if it was read at the
 * version the session check returned, else NULL (and a stale entry goes).
 */
const struct wscache_entry *wscache_get(struct ctx *c, enum wscache_kind kind);
/*
 * Keep n results (taken over: the caller no longer clears them) for c->ws,
 * read at read_at in a transaction whose session check returned
 * c->ws->version. Returns the entry, or NULL when caching is off or the
 * version is unknown: then the results are still the caller's.
 */
const struct wscache_entry *wscache_put(struct ctx *c, enum wscache_kind kind, PGresult **res,
                                        int n, time_t read_at);
/* Forget everything kept (the database connection was lost). */
void wscache_reset(void);
/* Seconds since the entry was read (0 when e is NULL). */
long wscache_age(const struct wscache_entry *e);

#endif
