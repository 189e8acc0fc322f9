/* delivery.c: the delivery worker: fans alerts out, sends deliveries and tests, health checks */
#include <errno.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "integ_deliver.h"
#include "integ_net.h"
#include "integ_secrets.h"
#include "integ_send.h"
#include "util.h"

/* Settings, from the environment (README, "Configuration"). */
static struct {
	const char *database_url;
	const char *override;       /* SETTINGS_INTEGRATION_ENDPOINT_OVERRIDE, when honoured */
	int allow_private;
	long processes, batch, window, parallel, lease, tests_per_workspace, poll_ms, disable_after, purge_days;
} cfg;

static struct keyring *ring;
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static long env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	long n;

	if (v == NULL || *v == '\0')
		return def;
	if (parse_long(v, min, max, &n) != 0) {
		fprintf(stderr, "delivery: %s must be a number from %ld to %ld; using %ld\n", name,
		        min, max, def);
		return def;
	}
	return n;
}

static int configure(void)
{
	const char *v = getenv("SETTINGS_ALLOW_PRIVATE_WEBHOOKS");
	char err[256];

	cfg.database_url = getenv("DATABASE_URL");
	if (cfg.database_url == NULL)
		cfg.database_url = "";
	cfg.allow_private = v != NULL && strcmp(v, "1") == 0;
	v = getenv("SETTINGS_INTEGRATION_ENDPOINT_OVERRIDE");
	if (v != NULL && *v != '\0') {
		if (!cfg.allow_private)
			fprintf(stderr, "delivery: SETTINGS_INTEGRATION_ENDPOINT_OVERRIDE is ignored "
			        "without SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1\n");
		else
			cfg.override = v;
	}
	cfg.processes = env_long("SETTINGS_DELIVERY_PROCESSES", 4, 1, 64);
	cfg.batch = env_long("SETTINGS_DELIVERY_BATCH", 200, 1, 1000);
	cfg.window = env_long("SETTINGS_DELIVERY_WINDOW", 4 * cfg.batch, 1, 100000);
	cfg.parallel = env_long("SETTINGS_DELIVERY_PARALLEL", 8, 1, 256);
	cfg.lease = env_long("SETTINGS_DELIVERY_LEASE_SECONDS", 30, 1, 3600);
	cfg.tests_per_workspace = env_long("SETTINGS_DELIVERY_TESTS_PER_WORKSPACE", 2, 1, 100);
	cfg.poll_ms = env_long("SETTINGS_DELIVERY_POLL_MS", 1000, 10, 60000);
	cfg.disable_after = env_long("SETTINGS_DELIVERY_DISABLE_AFTER", 20, 0, 1000000);
	cfg.purge_days = env_long("SETTINGS_DELIVERY_RETENTION_DAYS", 30, 1, 3650);
	ring = keyring_parse(getenv("SETTINGS_CREDENTIALS_KEYS"), err, sizeof(err));
	if (ring == NULL) {
		fprintf(stderr, "delivery: SETTINGS_CREDENTIALS_KEYS: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * Wait up to ms for a notification on settings_delivery (a new alert or
 * delivery); drain them. Returns at once when one is already pending.
 */
static void wait_for_work(PGconn *db, long ms)
{
	PGnotify *n;
	fd_set fds;
	struct timeval tv;
	int sock = PQsocket(db), got = 0;

	PQconsumeInput(db);
	while ((n = PQnotifies(db)) != NULL) {
		PQfreemem(n);
		got = 1;
	}
	if (got || sock < 0)
		return;
	FD_ZERO(&fds);
	FD_SET(sock, &fds);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (select(sock + 1, &fds, NULL, NULL, &tv) > 0) {
		PQconsumeInput(db);
		while ((n = PQnotifies(db)) != NULL)
			PQfreemem(n);
	}
}

/* A connection as the application role; refuses a role that bypasses row-level security. */
static PGconn *connect_db(void)
{
	PGconn *db = PQconnectdb(cfg.database_url);
	PGresult *r;
	int unsafe;

	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "delivery: database connection failed: %s", PQerrorMessage(db));
		PQfinish(db);
		return NULL;
	}
	r = PQexec(db, "SELECT r.rolsuper OR r.rolbypassrls OR EXISTS "
	           "(SELECT 1 FROM pg_class c WHERE c.relowner = r.oid) "
	           "FROM pg_roles r WHERE r.rolname = current_user");
	unsafe = PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
	         strcmp(PQgetvalue(r, 0, 0), "f") != 0;
	PQclear(r);
	if (unsafe && getenv("SETTINGS_ALLOW_PRIVILEGED_DB_ROLE") == NULL) {
		fprintf(stderr, "delivery: refusing to run: database role %s is a superuser, "
		        "bypasses row-level security or owns tables\n", PQuser(db));
		PQfinish(db);
		return NULL;
	}
	PQclear(PQexec(db, "LISTEN settings_delivery"));
	return db;
}

/* Run one statement; NULL (logged) unless it returned rows or completed. */
static PGresult *run(PGconn *db, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		fprintf(stderr, "delivery: %s", PQerrorMessage(db));
		PQclear(r);
		return NULL;
	}
	return r;
}

static const char *value(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/*
 * Fan out up to 500 alerts in one transaction: each to the enabled
 * integrations of its workspace whose filters match, queued by one
 * statement (alert_fanout_batch). Returns the alerts handled, -1 on a
 * database error (nothing is lost: the transaction rolls back and the
 * alerts stay for the next round).
 */
static int fan_out(PGconn *db)
{
	PGresult *r, *b;
	int n, done = 0;
	struct buf alerts, pair_alerts, pair_integs;
	const char *p[3];

	b = run(db, "BEGIN", 0, NULL);
	if (b == NULL)
		return -1;
	PQclear(b);
	/* workspaces first, before alert_events (see 016_delivery_batch). */
	b = run(db, "SELECT 1 FROM workspaces LIMIT 0", 0, NULL);
	if (b == NULL)
		goto fail;
	PQclear(b);
	r = run(db, "SELECT * FROM alert_claim(500)", 0, NULL);
	if (r == NULL)
		goto fail;
	n = PQntuples(r);
	if (n == 0) {
		PQclear(r);
		PQclear(PQexec(db, "ROLLBACK"));
		return 0;
	}
	buf_init(&alerts);
	buf_init(&pair_alerts);
	buf_init(&pair_integs);
	buf_putc(&alerts, '{');
	buf_putc(&pair_alerts, '{');
	buf_putc(&pair_integs, '{');
	for (int i = 0; i < n; i++) {
		const char *alert = PQgetvalue(r, i, 0);

		if (!PQgetisnull(r, i, 4) &&
		    integ_filter_match(value(r, i, 5), value(r, i, 6), value(r, i, 7),
		                       PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), value(r, i, 3))) {
			if (pair_alerts.len > 1) {
				buf_putc(&pair_alerts, ',');
				buf_putc(&pair_integs, ',');
			}
			buf_puts(&pair_alerts, alert);
			buf_puts(&pair_integs, PQgetvalue(r, i, 4));
		}
		if (i + 1 == n || strcmp(PQgetvalue(r, i + 1, 0), alert) != 0) {
			if (alerts.len > 1)
				buf_putc(&alerts, ',');
			buf_puts(&alerts, alert);
			done++;
		}
	}
	buf_putc(&alerts, '}');
	buf_putc(&pair_alerts, '}');
	buf_putc(&pair_integs, '}');
	p[0] = alerts.data;
	p[1] = pair_alerts.data;
	p[2] = pair_integs.data;
	b = run(db, "SELECT alert_fanout_batch($1::uuid[], $2::uuid[], $3::uuid[])", 3, p);
	buf_free(&alerts);
	buf_free(&pair_alerts);
	buf_free(&pair_integs);
	PQclear(r);
	if (b == NULL)
		goto fail;
	PQclear(b);
	b = run(db, "COMMIT", 0, NULL);
	if (b == NULL)
		return -1;
	PQclear(b);
	return done;
fail:
	PQclear(PQexec(db, "ROLLBACK"));
	return -1;
}

static int webhook_like_type(const char *type)
{
	return strcmp(type, "webhook") == 0 || strcmp(type, "custom") == 0;
}

/* Columns of delivery_claim(). */
enum { C_ID, C_CLAIM, C_ATTEMPT, C_MAX, C_WS, C_SLUG, C_WSNAME, C_INTEG, C_TYPE, C_NAME,
       C_CHANNEL, C_URL, C_METHOD, C_AUTH, C_TIMEOUT, C_ENV, C_SITE, C_SERVICE, C_CREDS,
       C_KEY, C_BACKOFF, C_EVENT, C_TEST, C_SEVERITY, C_AGENT, C_TITLE, C_BODY, C_CREATED };

/* The target of row i of a result whose config columns start at col. */
static void target_from(PGresult *r, int i, int type_col, int col, struct integ_target *t,
                        const struct integ_secrets *s)
{
	long timeout = 5000;

	memset(t, 0, sizeof(*t));
	t->type = PQgetvalue(r, i, type_col);
	t->channel_id = value(r, i, col);
	t->url = value(r, i, col + 1);
	t->method = value(r, i, col + 2);
	t->auth_type = value(r, i, col + 3);
	if (value(r, i, col + 4) != NULL)
		parse_long(value(r, i, col + 4), 100, 30000, &timeout);
	t->timeout_ms = timeout;
	t->environment = value(r, i, col + 5);
	t->site = value(r, i, col + 6);
	t->service_name = value(r, i, col + 7);
	t->secrets = s;
}

/* What one delivery came to. */
struct outcome {
	int ok, retryable;
	long status, latency_ms, retry_after;
	char error[600];
	struct buf request, response;
};

/* One delivery of a claimed batch, from its claim row to its record. */
enum { J_WAIT, J_SENDING, J_DONE, J_RECORDED, J_LOST };
struct job {
	int row, group, state;
	int n, k;                          /* messages built, the one being sent */
	struct integ_secrets s;
	struct integ_target t;
	struct integ_event ev;
	struct integ_msg m[2];
	struct integ_request rq;
	struct integ_result res;
	struct outcome o;
	char retry_at[64];
};

/* A claimed batch being sent: its jobs by integration, and the order they finished in. */
struct batch {
	PGconn *db;
	PGresult *r;
	struct job *jobs;
	int n, ngroups, *inflight;
	int *done, ndone, nrecorded;
	int64_t last_record, lease_base;
};

static struct integ_pool *pool;
/* This process's deliveries recorded, and how many of them were delivered (said when it stops). */
static long recorded_total, delivered_total;

/* Prepare job j from row i of the claim; a delivery that cannot be sent is done at once. */
static void job_prepare(struct batch *b, struct job *j, int i)
{
	PGresult *r = b->r;
	const char *missing;

	j->row = i;
	buf_init(&j->o.request);
	buf_init(&j->o.response);
	j->state = J_DONE;
	if (value(r, i, C_CREDS) != NULL &&
	    integ_secrets_decrypt(ring, value(r, i, C_KEY), value(r, i, C_CREDS),
	                          PQgetvalue(r, i, C_WS), PQgetvalue(r, i, C_INTEG), &j->s) != 0) {
		snprintf(j->o.error, sizeof(j->o.error), "The stored secrets cannot be read with the "
		         "configured encryption keys (key \"%s\").", value(r, i, C_KEY));
		return;
	}
	target_from(r, i, C_TYPE, C_CHANNEL, &j->t, &j->s);
	j->ev.delivery_id = PQgetvalue(r, i, C_ID);
	j->ev.event_type = PQgetvalue(r, i, C_EVENT);
	j->ev.test = strcmp(PQgetvalue(r, i, C_TEST), "t") == 0;
	j->ev.severity = PQgetvalue(r, i, C_SEVERITY);
	j->ev.agent = value(r, i, C_AGENT);
	j->ev.title = PQgetvalue(r, i, C_TITLE);
	j->ev.body = value(r, i, C_BODY);
	j->ev.created_at = PQgetvalue(r, i, C_CREATED);
	j->ev.workspace_id = PQgetvalue(r, i, C_WS);
	j->ev.workspace_slug = PQgetvalue(r, i, C_SLUG);
	j->ev.workspace_name = PQgetvalue(r, i, C_WSNAME);
	j->ev.integration_id = PQgetvalue(r, i, C_INTEG);
	j->ev.integration_name = PQgetvalue(r, i, C_NAME);
	if ((missing = integ_missing(&j->t)) != NULL) {
		snprintf(j->o.error, sizeof(j->o.error), "Not sent: the integration has no %s.", missing);
		return;
	}
	j->n = integ_build(&j->t, &j->ev, webhook_like_type(j->t.type) ? NULL : cfg.override,
	                   time(NULL), j->m);
	if (j->n == 0) {
		snprintf(j->o.error, sizeof(j->o.error),
		         "Not sent: the integration's settings are incomplete.");
		return;
	}
	j->state = J_WAIT;
}

/* The delivery is over (sent, failed, or never sendable): when to retry it, if at all. */
static void job_finish(struct batch *b, struct job *j)
{
	long attempt = 1, max = 1;

	if (j->state == J_SENDING)
		b->inflight[j->group]--;
	j->state = J_DONE;
	b->done[b->ndone++] = (int)(j - b->jobs);
	parse_long(PQgetvalue(b->r, j->row, C_ATTEMPT), 0, 1000, &attempt);
	parse_long(PQgetvalue(b->r, j->row, C_MAX), 1, 1000, &max);
	if (!j->o.ok && j->o.retryable && attempt < max) {
		unsigned char jit[2];
		struct timespec now;
		time_t at;
		struct tm tm;
		char when[24];

		crypto_random(jit, sizeof(jit));
		clock_gettime(CLOCK_REALTIME, &now);
		at = now.tv_sec + integ_backoff_seconds(PQgetvalue(b->r, j->row, C_BACKOFF), (int)attempt,
		                                        (unsigned)(jit[0] << 8 | jit[1]) % 1000,
		                                        j->o.retry_after);
		gmtime_r(&at, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		/* To the millisecond: "retry in 1 s" is never "at the next whole second". */
		snprintf(j->retry_at, sizeof(j->retry_at), "%s.%03ld+00", when, now.tv_nsec / 1000000);
	}
}

static void job_answer(struct batch *b, struct job *j, int rc);

/* Start message k of job j (a PagerDuty test sends its resolve after its trigger). */
static void job_start(struct batch *b, struct job *j)
{
	struct integ_msg *m = &j->m[j->k];
	char *masked = integ_msg_masked(m, &j->t);

	if (j->k > 0) {
		buf_puts(&j->o.request, "\n\n");
		buf_puts(&j->o.response, "\n\n");
	}
	buf_puts(&j->o.request, masked);
	free(masked);
	memset(&j->rq, 0, sizeof(j->rq));
	j->rq.url = m->url;
	j->rq.method = m->method;
	j->rq.body = m->body.data != NULL ? m->body.data : "";
	j->rq.headers = (const char *const *)m->headers;
	j->rq.timeout_ms = j->t.timeout_ms;
	j->rq.allow_private = cfg.allow_private;
	if (j->state == J_WAIT) {
		j->state = J_SENDING;
		b->inflight[j->group]++;
	}
	if (integ_pool_start(pool, &j->rq, &j->res, j) != 0)
		job_answer(b, j, -1);
}

/* Message k of job j was answered (rc 0 for a 2xx answer); stop at a failure. */
static void job_answer(struct batch *b, struct job *j, int rc)
{
	struct integ_msg *m = &j->m[j->k];
	struct integ_result *res = &j->res;

	j->o.ok = 1;
	if (rc != 0) {
		j->o.ok = 0;
	} else if (m->slack_api && !integ_slack_ok(res->response)) {
		j->o.ok = 0;
		snprintf(res->error, sizeof(res->error), "Slack answered \"ok\": false: %.200s",
		         res->response);
	}
	j->o.status = res->status;
	j->o.latency_ms += res->latency_ms;
	buf_puts(&j->o.response, res->response);
	if (!j->o.ok) {
		snprintf(j->o.error, sizeof(j->o.error), "%s", res->error);
		j->o.retryable = integ_retryable(res->status, res->refused) && !m->slack_api;
		/* Slack's own rate limit answers 429 with Retry-After: retried. */
		if (m->slack_api && res->status == 429)
			j->o.retryable = 1;
		j->o.retry_after = integ_retry_after(res->retry_after, (long)time(NULL));
		job_finish(b, j);
		return;
	}
	if (++j->k < j->n) {
		job_start(b, j);
		return;
	}
	job_finish(b, j);
}

/* One element of a PostgreSQL array literal: NULL, or the text quoted. */
static void array_elem(struct buf *a, const char *v)
{
	if (a->len > 1)
		buf_putc(a, ',');
	if (v == NULL) {
		buf_puts(a, "NULL");
		return;
	}
	buf_putc(a, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_putc(a, '\\');
		buf_putc(a, *v);
	}
	buf_putc(a, '"');
}

/* Record the deliveries finished since the last time, in one statement (delivery_record_batch). */
static void record_done(struct batch *b)
{
	struct buf a[9];
	char disable[24];
	const char *p[11];
	PGresult *x;

	if (b->nrecorded == b->ndone)
		return;
	for (int k = 0; k < 9; k++) {
		buf_init(&a[k]);
		buf_putc(&a[k], '{');
	}
	for (int d = b->nrecorded; d < b->ndone; d++) {
		struct job *j = &b->jobs[b->done[d]];
		char status[24], latency[24];

		snprintf(status, sizeof(status), "%ld", j->o.status);
		snprintf(latency, sizeof(latency), "%ld", j->o.latency_ms);
		/* The log keeps the first 4 KB of the answer. */
		if (j->o.response.len > 4096) {
			j->o.response.len = 4096;
			j->o.response.data[4096] = '\0';
		}
		array_elem(&a[0], PQgetvalue(b->r, j->row, C_ID));
		array_elem(&a[1], j->o.ok ? "t" : "f");
		array_elem(&a[2], j->retry_at[0] ? j->retry_at : NULL);
		array_elem(&a[3], status);
		array_elem(&a[4], latency);
		array_elem(&a[5], j->o.ok ? NULL : j->o.error);
		array_elem(&a[6], j->o.request.data != NULL ? j->o.request.data : "");
		array_elem(&a[7], j->o.response.data != NULL ? j->o.response.data : "");
		j->state = J_RECORDED;
	}
	snprintf(disable, sizeof(disable), "%ld", cfg.disable_after);
	p[0] = PQgetvalue(b->r, 0, C_CLAIM);
	for (int k = 0; k < 8; k++) {
		buf_putc(&a[k], '}');
		p[k + 1] = a[k].data;
	}
	p[9] = disable;
	x = run(b->db, "SELECT delivery_record_batch($1::uuid, $2::uuid[], $3::boolean[], "
	        "$4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[], "
	        "$10::int)", 10, p);
	if (x != NULL) {
		long n = 0;

		parse_long(PQgetvalue(x, 0, 0), 0, 1000000, &n);
		recorded_total += n;
		/* (A lost claim records fewer, and which is not known: none counted as delivered.) */
		for (int d = b->nrecorded; d < b->ndone && n == b->ndone - b->nrecorded; d++)
			delivered_total += b->jobs[b->done[d]].o.ok;
	}
	PQclear(x);
	for (int k = 0; k < 9; k++)
		buf_free(&a[k]);
	b->nrecorded = b->ndone;
	b->last_record = now_ms();
}

/*
 * Every half lease while the batch is being sent, extend the lease of the
 * whole claim by the lease and the longest timeout of what is left, so
 * that no request in flight outlives it; a delivery whose claim was lost
 * meanwhile (the worker stalled past its lease and another took it) is not
 * sent.
 */
static void extend_lease(struct batch *b)
{
	long longest = 0;
	char secs[24];
	const char *p[2];
	PGresult *x;

	for (int i = 0; i < b->n; i++)
		if ((b->jobs[i].state == J_WAIT || b->jobs[i].state == J_SENDING) &&
		    b->jobs[i].t.timeout_ms > longest)
			longest = b->jobs[i].t.timeout_ms;
	snprintf(secs, sizeof(secs), "%ld", cfg.lease + longest / 1000 + 1);
	p[0] = PQgetvalue(b->r, 0, C_CLAIM);
	p[1] = secs;
	x = run(b->db, "SELECT * FROM delivery_lease_claim($1::uuid, $2::int)", 2, p);
	for (int i = 0; i < b->n; i++) {
		struct job *j = &b->jobs[i];
		int held = 0;

		for (int k = 0; x != NULL && k < PQntuples(x) && !held; k++)
			held = strcmp(PQgetvalue(x, k, 0), PQgetvalue(b->r, j->row, C_ID)) == 0;
		if (!held && j->state == J_WAIT)
			j->state = J_LOST;
	}
	PQclear(x);
	b->lease_base = now_ms();
}

/*
 * Claim a batch and deliver it: up to SETTINGS_DELIVERY_PARALLEL requests
 * in flight per integration, over kept-alive connections; what finished is
 * recorded every RECORD_MS or RECORD_BATCH deliveries, one statement each
 * time. Returns the deliveries claimed, -1 on a database error.
 */
#define RECORD_MS 100
#define RECORD_BATCH 200

static int deliver_batch(PGconn *db)
{
	char batch_n[24], lease[24], tests[24], window[24];
	const char *p[4] = { batch_n, lease, tests, window };
	struct batch b;
	int64_t t0 = now_ms();

	memset(&b, 0, sizeof(b));
	b.db = db;
	if (pool == NULL && (pool = integ_pool_new(cfg.parallel * 16)) == NULL) {
		fprintf(stderr, "delivery: the HTTP client could not start\n");
		return -1;
	}
	snprintf(batch_n, sizeof(batch_n), "%ld", cfg.batch);
	snprintf(lease, sizeof(lease), "%ld", cfg.lease);
	snprintf(tests, sizeof(tests), "%ld", cfg.tests_per_workspace);
	snprintf(window, sizeof(window), "%ld", cfg.window);
	b.r = run(db, "SELECT * FROM delivery_claim_batch($1::int, $2::int, $3::int, $4::int)", 4, p);
	if (b.r == NULL)
		return -1;
	b.n = PQntuples(b.r);
	if (b.n == 0) {
		PQclear(b.r);
		return 0;
	}
	b.jobs = calloc((size_t)b.n, sizeof(*b.jobs));
	b.inflight = calloc((size_t)b.n, sizeof(int));
	b.done = calloc((size_t)b.n, sizeof(int));
	if (b.jobs == NULL || b.inflight == NULL || b.done == NULL)
		abort();
	/* Group the jobs by integration (a batch holds few). */
	{
		int *first = calloc((size_t)b.n, sizeof(int));

		if (first == NULL)
			abort();
		for (int i = 0; i < b.n; i++) {
			const char *id = PQgetvalue(b.r, i, C_INTEG);
			int g;

			for (g = 0; g < b.ngroups; g++)
				if (strcmp(PQgetvalue(b.r, first[g], C_INTEG), id) == 0)
					break;
			if (g == b.ngroups)
				first[b.ngroups++] = i;
			job_prepare(&b, &b.jobs[i], i);
			b.jobs[i].group = g;
		}
		free(first);
	}
	for (int i = 0; i < b.n; i++)
		if (b.jobs[i].state == J_DONE) {
			b.jobs[i].state = J_WAIT;
			job_finish(&b, &b.jobs[i]);
		}
	b.lease_base = t0;
	b.last_record = now_ms();
	for (;;) {
		int waiting = 0, rc;
		struct job *j;

		for (int i = 0; i < b.n; i++) {
			j = &b.jobs[i];
			if (j->state != J_WAIT)
				continue;
			if (stopping)
				continue;
			if (b.inflight[j->group] >= cfg.parallel) {
				waiting = 1;
				continue;
			}
			job_start(&b, j);
		}
		if (!waiting && integ_pool_active(pool) == 0)
			break;
		if (now_ms() - b.lease_base >= cfg.lease * 1000L / 2)
			extend_lease(&b);
		if (b.ndone - b.nrecorded >= RECORD_BATCH ||
		    (b.ndone > b.nrecorded && now_ms() - b.last_record >= RECORD_MS))
			record_done(&b);
		for (long wait = RECORD_MS; (j = integ_pool_next(pool, wait, &rc)) != NULL; wait = 0)
			job_answer(&b, j, rc);
	}
	record_done(&b);
	/* Stopping: what was claimed and not sent goes back to the queue at once. */
	if (stopping) {
		const char *c[1] = { PQgetvalue(b.r, 0, C_CLAIM) };

		PQclear(run(db, "SELECT delivery_release($1::uuid)", 1, c));
	}
	for (int i = 0; i < b.n; i++) {
		for (int k = 0; k < 2; k++)
			integ_msg_free(&b.jobs[i].m[k]);
		integ_secrets_wipe(&b.jobs[i].s);
		buf_free(&b.jobs[i].o.request);
		buf_free(&b.jobs[i].o.response);
	}
	free(b.jobs);
	free(b.inflight);
	free(b.done);
	PQclear(b.r);
	return b.n;
}

/* One sender process: fan out, deliver, sleep when idle; purge once an hour (process 0). */
static int sender(int index)
{
	PGconn *db = NULL;
	time_t next_purge = 0;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 0;
	while (!stopping) {
		int busy = 0, a, b;

		if (db == NULL || PQstatus(db) != CONNECTION_OK) {
			if (db != NULL)
				PQfinish(db);
			if ((db = connect_db()) == NULL) {
				sleep(1);
				continue;
			}
		}
		a = fan_out(db);
		b = deliver_batch(db);
		busy = a > 0 || b > 0;
		if (index == 0 && time(NULL) >= next_purge) {
			char days[24];
			const char *p[1] = { days };
			PGresult *r;

			snprintf(days, sizeof(days), "%ld", cfg.purge_days);
			r = run(db, "SELECT delivery_purge($1::int)", 1, p);
			PQclear(r);
			next_purge = time(NULL) + 3600;
		}
		if (!busy)
			wait_for_work(db, cfg.poll_ms);
	}
	if (db != NULL)
		PQfinish(db);
	fprintf(stderr, "delivery: sender %d stopping: %ld deliveries recorded, %ld delivered\n",
	        index, recorded_total, delivered_total);
	return 0;
}

/*
 * The worker: SETTINGS_DELIVERY_PROCESSES sender processes, each replaced
 * when it dies; SIGTERM or SIGINT stops them (each finishes the delivery in
 * hand; what it had claimed and not sent is claimed again after the lease).
 */
static int serve(void)
{
	pid_t kids[64];
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	for (long i = 0; i < cfg.processes; i++)
		kids[i] = 0;
	fprintf(stderr, "delivery: %ld sender processes%s\n", cfg.processes,
	        cfg.override ? ", every service sent to the endpoint override" : "");
	while (!stopping) {
		int status;
		pid_t dead;

		for (long i = 0; i < cfg.processes; i++) {
			if (kids[i] != 0)
				continue;
			kids[i] = fork();
			if (kids[i] == 0)
				_exit(sender((int)i));
			if (kids[i] < 0) {
				kids[i] = 0;
				sleep(1);
			}
		}
		dead = waitpid(-1, &status, 0);
		if (dead < 0 && errno != EINTR)
			sleep(1);
		for (long i = 0; i < cfg.processes; i++)
			if (kids[i] == dead)
				kids[i] = 0;
		if (dead > 0 && !stopping) {
			fprintf(stderr, "delivery: sender %d ended; starting another\n", (int)dead);
			usleep(100000);
		}
	}
	for (long i = 0; i < cfg.processes; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return 0;
}

/* Columns of integration_health_targets(). */
enum { H_ID, H_WS, H_TYPE, H_CONFIG, H_CREDS = H_CONFIG + 8, H_KEY };

static const char *field_words(const char *field)
{
	static const char *const words[][2] = {
		{ "bot_token", "bot token" }, { "routing_key", "routing key" }, { "dsn", "DSN" },
		{ "api_key", "API key" }, { "secret", "secret" }, { "url", "URL" },
		{ "channel_id", "channel ID" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i][0], field) == 0)
			return words[i][1];
	return field;
}

/*
 * delivery --check-health: what can be checked without sending an alert.
 * Slack: auth.test with the bot token; Datadog: API key validation;
 * webhook and custom: DNS, connection and TLS through the SSRF guard.
 * An integration missing its secret is "unknown" and says what is missing;
 * PagerDuty and Sentry keep the health their deliveries gave them.
 */
static int check_health(void)
{
	PGconn *db = connect_db();
	PGresult *r;
	int failed = 0;

	if (db == NULL)
		return 1;
	r = run(db, "SELECT * FROM integration_health_targets()", 0, NULL);
	if (r == NULL) {
		PQfinish(db);
		return 1;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		struct integ_secrets s;
		struct integ_target t;
		struct integ_msg m;
		struct integ_request rq;
		struct integ_result res;
		const char *missing, *health = NULL, *p[3];
		char msg[700];
		PGresult *x;

		memset(&s, 0, sizeof(s));
		memset(&m, 0, sizeof(m));
		if (value(r, i, H_CREDS) != NULL &&
		    integ_secrets_decrypt(ring, value(r, i, H_KEY), value(r, i, H_CREDS),
		                          PQgetvalue(r, i, H_WS), PQgetvalue(r, i, H_ID), &s) != 0) {
			health = "unhealthy";
			snprintf(msg, sizeof(msg), "The stored secrets cannot be read with the "
			         "configured encryption keys.");
			goto record;
		}
		target_from(r, i, H_TYPE, H_CONFIG, &t, &s);
		if ((missing = integ_missing(&t)) != NULL) {
			health = "unknown";
			snprintf(msg, sizeof(msg), "No %s set: nothing can be delivered until it is.",
			         field_words(missing));
			goto record;
		}
		memset(&rq, 0, sizeof(rq));
		rq.timeout_ms = t.timeout_ms < 10000 ? 10000 : t.timeout_ms;
		rq.allow_private = cfg.allow_private;
		if (integ_build_check(&t, cfg.override, &m)) {
			rq.url = m.url;
			rq.method = m.method;
			/* auth.test is a POST without parameters: an empty body, not a GET. */
			rq.body = m.body.data != NULL ? m.body.data
			          : strcmp(m.method, "GET") == 0 ? NULL : "";
			rq.headers = (const char *const *)m.headers;
			if (integ_send(&rq, &res) == 0 && (!m.slack_api || integ_slack_ok(res.response))) {
				health = "healthy";
				snprintf(msg, sizeof(msg), "%s", strcmp(t.type, "slack") == 0
				         ? "Slack accepted the bot token (auth.test)."
				         : "Datadog accepted the API key.");
			} else {
				health = "unhealthy";
				snprintf(msg, sizeof(msg), "Health check failed: %s",
				         res.error[0] ? res.error : "the service refused the credentials.");
			}
		} else if (webhook_like_type(t.type)) {
			rq.url = t.url;
			rq.method = "GET";
			rq.connect_only = 1;
			if (integ_send(&rq, &res) == 0) {
				health = "healthy";
				snprintf(msg, sizeof(msg), "Reachable: the name resolves, the connection "
				         "and TLS succeed.");
			} else {
				health = "unhealthy";
				snprintf(msg, sizeof(msg), "Not reachable: %s", res.error);
			}
		} else {
			snprintf(msg, sizeof(msg), "Credentials set; %s can only be checked by a "
			         "delivery (send a test event).", t.type);
		}
record:
		p[0] = PQgetvalue(r, i, H_ID);
		p[1] = health;
		p[2] = msg;
		x = run(db, "SELECT integration_health_record($1::uuid, $2, $3)", 3, p);
		if (x == NULL)
			failed = 1;
		PQclear(x);
		integ_msg_free(&m);
		integ_secrets_wipe(&s);
	}
	PQclear(r);
	PQfinish(db);
	return failed;
}

static const char usage[] =
    "usage: delivery                  run the delivery worker (foreground)\n"
    "       delivery --once           fan out and deliver what is due, then exit\n"
    "       delivery --check-health   check every enabled integration once, then exit\n"
    "\n"
    "Environment: DATABASE_URL, SETTINGS_CREDENTIALS_KEYS, SETTINGS_DELIVERY_PROCESSES,\n"
    "SETTINGS_DELIVERY_BATCH, SETTINGS_DELIVERY_WINDOW, SETTINGS_DELIVERY_PARALLEL,\n"
    "SETTINGS_DELIVERY_LEASE_SECONDS, "
    "SETTINGS_DELIVERY_TESTS_PER_WORKSPACE, SETTINGS_DELIVERY_POLL_MS,\n"
    "SETTINGS_DELIVERY_DISABLE_AFTER, SETTINGS_DELIVERY_RETENTION_DAYS (see the README).\n";

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "--check-health") != 0 &&
	                 strcmp(argv[1], "--once") != 0)) {
		fputs(usage, stderr);
		return 2;
	}
	if (configure() != 0)
		return 1;
	if (argc == 2 && strcmp(argv[1], "--check-health") == 0)
		return check_health();
	if (argc == 2) {
		PGconn *db = connect_db();
		int a, b;

		if (db == NULL)
			return 1;
		a = fan_out(db);
		b = deliver_batch(db);
		PQfinish(db);
		return a < 0 || b < 0;
	}
	return serve();
}
