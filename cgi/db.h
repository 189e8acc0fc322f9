/* db.h: connection management used by the request loop (handlers use app.h) */
#ifndef SETTINGS_DB_H
#define SETTINGS_DB_H

#include <libpq-fe.h>
#include <stddef.h>

struct stmt;

void db_set_statements(const struct stmt *stmts, size_t n);
/* 1: send each statement's SQL as the unnamed statement (plain CGI, PgBouncer). */
void db_set_unnamed(int on);
/* 1: the process serves one request (plain CGI): on a new backend, the session check of 019. */
void db_set_one_request(int on);
/* Run a statement by name (prepared or unnamed): a result to PQclear, never NULL. */
PGresult *db_run(const char *name, int nparams, const char *const *params);
int db_ensure(void);
PGconn *db_conn(void);
void db_close(void);
struct ctx;
struct prefetch;
int db_commit(struct ctx *c);
int db_timed_out(const PGresult *r);
PGresult *db_begin_exec(struct ctx *c, const char *stmt, int nparams,
                        const char *const *params, const struct prefetch *more, int n,
                        int commit, PGresult **more_results, int *broken);
int db_resume(struct ctx *c);

#endif
