/* db.c: the worker's one PostgreSQL connection and its prepared statements */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "wscache.h"

static PGconn *conn;

/*
 * A statement that waited too long for a lock (lock_timeout, 55P03) or ran
 * too long (statement_timeout, 57014): the database is not answering in
 * time, which the person sees as the 503 page, never as a rule's 409.
 */
static int timed_out(const char *state)
{
	return state != NULL && (strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0);
}

/* 1 when the failed result r is a lock_timeout or statement_timeout. */
int db_timed_out(const PGresult *r)
{
	return timed_out(PQresultErrorField(r, PG_DIAG_SQLSTATE));
}

/*
 * This connection's bounds on waiting (lock_timeout and statement_timeout),
 * and whether its role is unsafe (a superuser, BYPASSRLS or a table owner:
 * row-level security would not apply), in one statement: a plain CGI process
 * runs it for each request. Also whether the backend ran this statement
 * before (*reused): a server connection of a pooler (PgBouncer) that earlier
 * clients warmed, not a backend started for this one. 0 with *unsafe and
 * *reused set, or -1 on failure.
 */
static int set_timeouts(int *unsafe, int *reused)
{
	char lock[24], stmt[24];
	const char *params[2] = { lock, stmt };
	PGresult *r;
	int ok;

	snprintf(lock, sizeof(lock), "%ld", app_config.lock_timeout_ms);
	snprintf(stmt, sizeof(stmt), "%ld", app_config.statement_timeout_ms);
	/* No JIT and no parallel workers: a page's statements run in well under
	 * a millisecond, and compiling one, or starting workers for a branch
	 * that its one-time filter will skip, costs tens of milliseconds. */
	r = PQexecParams(conn, "SELECT set_config('lock_timeout', $1, false), "
	                 "set_config('statement_timeout', $2, false), set_config('jit', 'off', false), "
	                 "set_config('max_parallel_workers_per_gather', '0', false), "
	                 "(SELECT r.rolsuper OR r.rolbypassrls OR EXISTS "
	                 "(SELECT 1 FROM pg_class c WHERE c.relowner = r.oid) "
	                 "FROM pg_roles r WHERE r.rolname = current_user), "
	                 "current_setting('settings.backend_used', true) IS NOT NULL, "
	                 "set_config('settings.backend_used', '1', false)",
	                 2, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 7;
	if (!ok) {
		fprintf(stderr, "setting the timeouts: %s", PQerrorMessage(conn));
	} else {
		*unsafe = strcmp(PQgetvalue(r, 0, 4), "f") != 0;
		*reused = strcmp(PQgetvalue(r, 0, 5), "t") == 0;
	}
	PQclear(r);
	return ok ? 0 : -1;
}
static const struct stmt *page_stmts;
static size_t page_nstmts;
static int unnamed;            /* db_set_unnamed(): no named statements */
static int one_request;        /* db_set_one_request(): a plain CGI process */
static int session_once;       /* ... on a backend started for it: auth_session_once() */

/* Statements every executable needs. */
static const struct stmt common_stmts[] = {
	{ "health", "SELECT 1" },
	/* Where an error page sends someone signed in: the workspace sign-in leads to. */
	{ "home_workspace", "SELECT slug, name FROM auth_user_workspaces($1::uuid) LIMIT 1" },
	/* The session, the membership and the switcher, and the RLS context (015). */
	{ "session_context",
	  "SELECT session_id, user_id, user_email, user_name, csrf_token, "
	  "workspace_id, workspace_name, workspace_slug, member_id, member_role, workspaces, "
	  "stamp_due, workspace_version FROM auth_session($1, $2, $3::int)" },
	/*
	 * A second transaction of a request whose first ended with the session
	 * check (db_resume): the row-level security context again, for the
	 * workspace that check returned.
	 */
	{ "ws_context", "SELECT set_config('app.current_workspace_id', $1::uuid::text, true)" },
	/* The activity stamps, when session_context says they are due (outside any transaction). */
	{ "session_touch", "SELECT auth_session_touch($1::uuid, $2::uuid)" },
	{ "session_create",
	  "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, user_agent, ip) "
	  "VALUES ($1, $2::uuid, $3, now() + $4::int * interval '1 second', $5, $6::inet)" },
	{ "session_delete", "DELETE FROM sessions WHERE id = $1::uuid" },
	{ "audit_insert",
	  "INSERT INTO audit_logs (workspace_id, user_id, action, resource_type, "
	  "resource_id, changes, ip_address, user_agent) "
	  "VALUES ($1::uuid, $2::uuid, $3, $4, $5::uuid, $6::jsonb, $7::inet, $8)" },
};

void db_set_statements(const struct stmt *stmts, size_t n)
{
	page_stmts = stmts;
	page_nstmts = n;
}

/*
 * Unnamed statements: each execution sends its SQL text with the parameters
 * (Parse, Bind, Execute of the unnamed statement, still one round trip)
 * instead of preparing every statement once per connection. For a plain CGI
 * process, which serves one request and exits, preparing the page's twenty
 * statements would cost twenty round trips and as many parses for the one
 * or two it runs; through PgBouncer in transaction pooling mode, a statement
 * prepared on one server connection is unknown to the next transaction's.
 */
void db_set_unnamed(int on)
{
	unnamed = on;
}

/*
 * The session check of a process that serves one request and exits, on a
 * backend started for it: the same statement as session_context's, but
 * through auth_session_once() (019), plain SQL, which a new backend plans
 * without first loading PL/pgSQL and compiling auth_session(), whose kept
 * plan nobody would use again. On a pooler's warm backend, auth_session()
 * and its kept plan are the cheaper (0.2 ms a call against 0.8).
 */
static const char session_context_once[] =
	"SELECT session_id, user_id, user_email, user_name, csrf_token, "
	"workspace_id, workspace_name, workspace_slug, member_id, member_role, workspaces, "
	"stamp_due, workspace_version FROM auth_session_once($1, $2, $3::int)";

void db_set_one_request(int on)
{
	one_request = on;
}

static const char *stmt_sql(const char *name)
{
	if (session_once && strcmp(name, "session_context") == 0)
		return session_context_once;
	for (size_t i = 0; i < sizeof(common_stmts) / sizeof(common_stmts[0]); i++)
		if (strcmp(common_stmts[i].name, name) == 0)
			return common_stmts[i].sql;
	for (size_t i = 0; i < page_nstmts; i++)
		if (strcmp(page_stmts[i].name, name) == 0)
			return page_stmts[i].sql;
	return NULL;
}

/* Run statement name, prepared or unnamed; never NULL (an unknown name is an error result). */
PGresult *db_run(const char *name, int nparams, const char *const *params)
{
	const char *sql;

	if (!unnamed)
		return PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
	sql = stmt_sql(name);
	/* An empty query string answers PGRES_EMPTY_QUERY: an error to every caller. */
	return PQexecParams(conn, sql != NULL ? sql : "", nparams, NULL, params, NULL, NULL, 0);
}

static int send_stmt(const char *name, int nparams, const char *const *params)
{
	const char *sql;

	if (!unnamed)
		return PQsendQueryPrepared(conn, name, nparams, params, NULL, NULL, 0);
	sql = stmt_sql(name);
	return sql != NULL && PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
}

static int prepare_all(const struct stmt *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		PGresult *r = PQprepare(conn, s[i].name, s[i].sql, 0, NULL);

		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "prepare %s: %s", s[i].name, PQerrorMessage(conn));
			PQclear(r);
			return -1;
		}
		PQclear(r);
	}
	return 0;
}

/*
 * Connect (or reconnect) and prepare every statement (unless unnamed). Returns 0 when the
 * connection is usable, -1 when the database is unavailable, -2 when the
 * role is unsafe (superuser, BYPASSRLS or table owner): fatal.
 */
int db_ensure(void)
{
	int unsafe = 1, reused = 0;

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return 0;
	if (conn != NULL) {
		PQfinish(conn);
		conn = NULL;
	}
	/*
	 * GSSAPI encryption only when asked for (gssencmode in DATABASE_URL, or
	 * PGGSSENCMODE): libpq's default, prefer, looks for Kerberos credentials
	 * before every TCP connection, which loads the Kerberos libraries
	 * (cgi/pq_lazy.c) into a process that then finds none.
	 */
	setenv("PGGSSENCMODE", "disable", 0);
	conn = PQconnectdb(app_config.database_url);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "database connection failed: %s", PQerrorMessage(conn));
		PQfinish(conn);
		conn = NULL;
		return -1;
	}
	if (set_timeouts(&unsafe, &reused) != 0 ||
	    (!unnamed &&
	     (prepare_all(common_stmts, sizeof(common_stmts) / sizeof(common_stmts[0])) != 0 ||
	      prepare_all(page_stmts, page_nstmts) != 0))) {
		PQfinish(conn);
		conn = NULL;
		return -1;
	}
	session_once = one_request && !reused;
	if (unsafe && getenv("SETTINGS_ALLOW_PRIVILEGED_DB_ROLE") == NULL) {
		fprintf(stderr, "refusing to run: database role %s is a superuser, "
		        "bypasses row-level security or owns tables\n", PQuser(conn));
		PQfinish(conn);
		conn = NULL;
		return -2;
	}
	return 0;
}

PGconn *db_conn(void)
{
	return conn;
}

void db_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
	/*
	 * The next connection may reach another server (a promoted standby):
	 * numbers read from this one say nothing there.
	 */
	wscache_reset();
}

PGresult *db_exec(struct ctx *c, const char *stmt, int nparams,
                  const char *const *params, const char **sqlstate)
{
	PGresult *r;
	ExecStatusType st;
	const char *state;

	if (sqlstate != NULL)
		*sqlstate = NULL;
	if (conn == NULL || c->db_failed) {
		c->db_failed = 1;
		return NULL;
	}
	r = db_run(stmt, nparams, params);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	{
		const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

		if (sqlstate != NULL && state != NULL)
			*sqlstate = arena_strdup(c->arena, state);
		app_log(c, "sql %s: %s %s", stmt, state ? state : "-",
		        msg ? msg : PQerrorMessage(conn));
	}
	/* The transaction is now aborted; whatever the handler answers, roll back. */
	c->tx = TX_ROLLBACK;
	/* A timeout or a lost connection is the 503 page, whatever the caller expects. */
	if (sqlstate == NULL || state == NULL || timed_out(state))
		c->db_failed = 1;
	PQclear(r);
	return NULL;
}

const char *db_value(struct ctx *c, const PGresult *r, int row, int col)
{
	if (r == NULL || row >= PQntuples(r) || col >= PQnfields(r) ||
	    PQgetisnull(r, row, col))
		return NULL;
	return arena_strdup(c->arena, PQgetvalue(r, row, col));
}

int db_exec_value(struct ctx *c, const char *stmt, int nparams, const char *const *params,
                  const char **out)
{
	PGresult *r = db_exec(c, stmt, nparams, params, NULL);

	*out = NULL;
	if (r == NULL)
		return -1;
	*out = db_value(c, r, 0, 0);
	PQclear(r);
	return 0;
}

/*
 * BEGIN, one prepared statement and then n more (reads, each with its own
 * result in more_results[i]), in a single round trip (libpq pipeline mode);
 * with commit 1, COMMIT too; with commit 2, neither BEGIN nor COMMIT: the
 * statements are one implicit transaction, over when they are. Returns the
 * first statement's result (caller clears), with the transaction open (or,
 * with commit, over), or NULL with *broken set when the connection can no
 * longer be trusted.
 */
PGresult *db_begin_exec(struct ctx *c, const char *stmt, int nparams,
                        const char *const *params, const struct prefetch *more, int n,
                        int commit, PGresult **more_results, int *broken)
{
	PGresult *r, *out = NULL;
	int alone = commit == 2;
	int ok = 1, step = alone ? 1 : 0, last = 2 + n + (commit == 1 ? 1 : 0);   /* queries; then the sync */
	int waited = 0;            /* a statement hit lock_timeout or statement_timeout */

	*broken = 0;
	for (int i = 0; i < n; i++)
		more_results[i] = NULL;
	if (conn == NULL || !PQenterPipelineMode(conn)) {
		*broken = 1;
		return NULL;
	}
	ok = (alone || PQsendQueryParams(conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0)) &&
	     send_stmt(stmt, nparams, params);
	for (int i = 0; ok && i < n; i++)
		ok = send_stmt(more[i].stmt, more[i].nparams, more[i].params);
	if (ok && commit == 1)
		ok = PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
	if (ok)
		ok = PQpipelineSync(conn);
	/*
	 * Results arrive one per query, each followed by NULL, then
	 * PIPELINE_SYNC: step counts the NULLs, so it names the query (0 BEGIN,
	 * 1 stmt, 2 .. n + 1 the others, then COMMIT).
	 */
	while (ok && step <= last) {
		ExecStatusType st;
		int read = step >= 1 && step <= 1 + n;

		r = PQgetResult(conn);
		if (r == NULL) {
			if (PQstatus(conn) != CONNECTION_OK)
				ok = 0;
			step++;
			continue;
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (read && st == PGRES_TUPLES_OK) {
			if (step == 1)
				out = r;
			else
				more_results[step - 2] = r;
			continue;
		}
		if (read)
			app_log(c, "sql %s: %s", step == 1 ? stmt : more[step - 2].stmt,
			        PQresultErrorMessage(r));
		if (st == PGRES_FATAL_ERROR && timed_out(PQresultErrorField(r, PG_DIAG_SQLSTATE)))
			waited = 1;
		if (read || st != PGRES_COMMAND_OK)
			ok = 0;
		PQclear(r);
	}
	if (!PQexitPipelineMode(conn) || PQstatus(conn) != CONNECTION_OK)
		ok = 0;
	if (!ok) {
		/* Whatever went wrong, this connection's state is unknown now: the
		 * caller drops it and tries once more on a fresh one; but not after
		 * a timeout on a live connection: trying again would only wait as
		 * long again (the caller answers 503 and rolls back). */
		*broken = !(waited && PQstatus(conn) == CONNECTION_OK);
		PQclear(out);
		for (int i = 0; i < n; i++) {
			PQclear(more_results[i]);
			more_results[i] = NULL;
		}
		c->tx = TX_ROLLBACK;
		return NULL;
	}
	return out;
}

/*
 * After a session check that committed with it (struct prefetch, commit
 * only): BEGIN again, with the row-level security context of c->ws, in one
 * round trip. The request then goes on as if the session check's own
 * transaction had stayed open. 0 ok, -1 (c->db_failed set) on failure.
 */
int db_resume(struct ctx *c)
{
	const char *params[1];
	PGresult *r;
	int broken;

	if (c->ws == NULL || conn == NULL) {
		c->db_failed = 1;
		return -1;
	}
	if (PQtransactionStatus(conn) == PQTRANS_INTRANS)
		return 0;
	params[0] = c->ws->id;
	r = db_begin_exec(c, "ws_context", 1, params, NULL, 0, 0, NULL, &broken);
	if (r == NULL) {
		c->db_failed = 1;
		return -1;
	}
	PQclear(r);
	return 0;
}

int db_command(struct ctx *c, const char *sql)
{
	PGresult *r;
	int ok;

	if (conn == NULL)
		return -1;
	r = PQexec(conn, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		app_log(c, "sql %s: %s", sql, PQerrorMessage(conn));
	PQclear(r);
	return ok ? 0 : -1;
}

/*
 * COMMIT, and make sure it was one: in a transaction that an error aborted,
 * PostgreSQL answers COMMIT with the tag ROLLBACK. 0 only when committed.
 */
int db_commit(struct ctx *c)
{
	PGresult *r;
	int ok;

	if (conn == NULL)
		return -1;
	r = PQexec(conn, "COMMIT");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
	if (!ok)
		app_log(c, "COMMIT failed: %s %s", PQcmdStatus(r), PQerrorMessage(conn));
	PQclear(r);
	return ok ? 0 : -1;
}
