/* db.h: connection management used by the request loop (handlers use app.h) */
#ifndef SETTINGS_DB_H
#define SETTINGS_DB_H

#include <libpq-fe.h>
#include <stddef.h>

struct stmt;

void db_set_statements(const struct stmt *stmts, size_t n);
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

#endif
