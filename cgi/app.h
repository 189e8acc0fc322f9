/* app.h: what a page executable is made of: routes, statements, context, RBAC, layout */
#ifndef SETTINGS_APP_H
#define SETTINGS_APP_H

#include <libpq-fe.h>
#include <stddef.h>

#include "http.h"
#include "tmpl.h"
#include "util.h"

/* Roles in increasing power; the order matters for "raise own role" checks. */
enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_MEMBER, ROLE_ADMIN, ROLE_OWNER };

/* The seed document's permission matrix, one row per action. */
enum perm {
	PERM_NONE = 0,             /* no workspace permission needed */
	PERM_VIEW_WORKSPACE,
	PERM_MANAGE_AGENTS,
	PERM_MANAGE_TEAM,
	PERM_VIEW_BILLING,
	PERM_MANAGE_BILLING,
	PERM_DELETE_WORKSPACE,
	PERM_MANAGE_INTEGRATIONS,
	PERM_VIEW_API_KEYS,
	PERM_CREATE_API_KEYS,
	PERM__MAX
};

/* 1 when role may do perm. The only place the matrix lives. */
int rbac_can(enum role role, enum perm perm);
/* Human list of roles allowed perm, e.g. "owner or admin" (for the 403 page). */
const char *rbac_roles_for(enum perm perm);
enum role role_parse(const char *s);        /* ROLE_NONE when unknown */
const char *role_name(enum role r);

struct session {
	const char *id;
	const char *user_id;
	const char *email;
	const char *name;
	const char *csrf;
};

struct workspace {
	const char *id;
	const char *name;
	const char *slug;
	const char *member_id;     /* the signed-in person's team_members.id */
	enum role role;
	const char *version;       /* what its pages show moved last at this number (sql/017) */
};

struct ctx;
typedef void (*handler_fn)(struct ctx *c);

enum route_flags {
	ROUTE_PUBLIC    = 0,       /* no session needed */
	ROUTE_SESSION   = 1 << 0,  /* needs a signed-in session */
	ROUTE_WORKSPACE = 1 << 1,  /* capture[0] is a workspace slug; needs membership */
	ROUTE_NO_CSRF   = 1 << 2,  /* POST checked another way (Stripe signature) */
	ROUTE_NO_DB_TX  = 1 << 3,  /* handler manages its own transactions */
};

/*
 * A read a GET handler will need, known from the request alone (before the
 * session is checked). The library sends it in the same round trip as
 * BEGIN, the session lookup and COMMIT; its SQL must take the workspace from
 * current_setting('app.current_workspace_id') (row-level security scopes it
 * too). The handler then finds the result in c->prefetched and must not
 * query the database again (the transaction is already over).
 *
 * With stmt NULL, the session check commits alone: for a page whose data
 * the worker may already keep (wscache.h). If it does not, the handler
 * calls db_resume() and reads as usual.
 */
struct prefetch {
	const char *stmt;
	int nparams;
	const char *params[8];
};

/*
 * A route: method + pattern where "*" matches one path segment and is
 * captured in order into req->capture[]. The field table validates the
 * query/body before the handler runs.
 */
struct route {
	const char *method;
	const char *pattern;
	handler_fn handler;
	unsigned flags;
	enum perm perm;
	const struct field_spec *fields;
	size_t nfields;
	/* Optional, GET only: fill p and return 1 to prefetch, 0 to skip. */
	int (*prefetch)(struct ctx *c, struct prefetch *p);
};

/* A prepared statement: prepared once per connection, run by name. */
struct stmt {
	const char *name;
	const char *sql;
};

/* Everything an executable declares; app_main runs it. */
struct page {
	const char *name;                  /* "team", used in logs */
	const struct route *routes;
	size_t nroutes;
	const struct stmt *stmts;
	size_t nstmts;
	const char *const *templates;      /* NULL-terminated file names to load */
	int (*init)(void);                 /* optional, once per worker, 0 = ok */
};

/* What happens to the request's transaction when the handler returns. */
enum { TX_AUTO = 0,   /* commit when the status is below 400, else roll back */
       TX_COMMIT,     /* commit even on an error status (e.g. a failed login is counted) */
       TX_ROLLBACK };

/* Request context handed to handlers. */
struct ctx {
	struct req *req;
	struct resp *resp;
	struct arena *arena;
	struct session *session;           /* NULL when not signed in */
	struct workspace *ws;              /* NULL unless ROUTE_WORKSPACE */
	struct tvars *vars;                /* page variables, layout ones pre-filled */
	const char *csrf;                  /* the token forms must carry */
	int db_failed;                     /* a statement failed: answer 503 */
	PGresult *prefetched;              /* the route's prefetch result, or NULL */
	int tx;                            /* TX_AUTO, TX_COMMIT or TX_ROLLBACK */
	int stamp_due;                     /* the session's activity stamps are due (app.c) */
	const char *token_hash;            /* session_hash() (app.c), once computed */
	int token_hashed;
};

/* Start the executable: FastCGI server, FastCGI on stdin, or one CGI request. */
int app_main(int argc, char **argv, const struct page *page);

/* The configuration every executable reads from its environment. */
struct config {
	const char *database_url;
	const char *templates_dir;
	const char *base_url;              /* for links in emails; may be NULL */
	long session_idle_seconds;
	long session_absolute_seconds;
	long login_max_failures;
	long login_window_seconds;
	long login_max_failures_address;  /* failures from one address, any email */
	long lock_timeout_ms;             /* per connection: lock_timeout */
	long statement_timeout_ms;        /* per connection: statement_timeout */
	int bcrypt_cost;
	int db_unnamed;                    /* 1: no prepared statements (SETTINGS_DB_STATEMENTS) */
	int ws_cache;                      /* 1: keep page data per workspace (SETTINGS_WORKSPACE_CACHE) */
};
extern struct config app_config;

/* A parsed template loaded at start-up by name (page->templates). */
const struct tmpl *app_template(const char *name);

/*
 * Run a prepared statement with text parameters (NULL = SQL NULL). Returns a
 * result the caller must PQclear, or NULL on error (logged; the request's
 * transaction will be rolled back and a 503/500 page shown unless the
 * handler answers otherwise). *sqlstate receives the SQLSTATE on error when
 * non-NULL (e.g. "23505" unique violation) so handlers can answer 409.
 */
PGresult *db_exec(struct ctx *c, const char *stmt, int nparams,
                  const char *const *params, const char **sqlstate);
/* Value at row/col as an arena string, NULL for SQL NULL. */
const char *db_value(struct ctx *c, const PGresult *r, int row, int col);
/* db_exec for one value: the first column of the first row into *out (NULL
 * without a row or for SQL NULL). 0 ok, -1 on a database error. */
int db_exec_value(struct ctx *c, const char *stmt, int nparams, const char *const *params,
                  const char **out);
/* Run a plain command (BEGIN, SAVEPOINT, ...); 0 ok. */
int db_command(struct ctx *c, const char *sql);

/* Responses. */
/* Render template name (which includes the layout) with c->vars, with status. */
void page_render(struct ctx *c, int status, const char *name);
/* The error page in the layout: status and a message for people. */
void page_error(struct ctx *c, int status, const char *message);
/* 303 to location with a one-time notice shown by the next page. */
void page_redirect_notice(struct ctx *c, const char *location, const char *notice);

/*
 * An answer too large to hold (a CSV export): app_stream_begin sends the
 * status line and headers now (200, content_type, the headers already
 * added, no Content-Length); each app_stream_write sends part and empties
 * it. 0 ok, -1 when the client went away. The transaction still ends
 * after the handler returns.
 */
int app_stream_begin(struct ctx *c, const char *content_type);
int app_stream_write(struct ctx *c, struct buf *part);

/* 1 when the person may do perm here; otherwise answers the 403 page and returns 0. */
int require_perm(struct ctx *c, enum perm perm);

/*
 * Write an audit_logs row inside the request's transaction. changes is JSON
 * text (old/new values, secrets redacted) or NULL. Returns 0 on success.
 */
int audit_log(struct ctx *c, const char *action, const char *resource_type,
              const char *resource_id, const char *changes_json);

/*
 * Cookies named base, or __Host-base over HTTPS; HttpOnly, SameSite=Lax,
 * Path=/, Secure over HTTPS. max_age < 0 makes a browser-session cookie.
 */
void app_set_cookie(struct ctx *c, const char *base, const char *value, long max_age);
const char *app_get_cookie(struct ctx *c, const char *base);
/* Route capture i as a lowercased UUID, or NULL when absent or not a UUID. */
const char *route_uuid(struct ctx *c, size_t i);
/* The client address when it is a well-formed IP, else NULL. */
const char *app_client_ip(struct ctx *c);

/*
 * Sign user_id in: a new random token (only its SHA-256 is stored), a new
 * CSRF value, the cookie; any session the request carried ends. 0 ok.
 */
int session_start(struct ctx *c, const char *user_id);
/* Sign out: delete the session row and clear the cookie. */
void session_end(struct ctx *c);

/*
 * Forms, by convention: a page re-shown with 422 keeps each submitted value
 * in the variable v_<field> and puts the message for a bad field in
 * err_<field> (templates show it next to the field with aria-invalid and
 * aria-describedby); form_error also sets has_errors.
 */
void form_error(struct ctx *c, const char *field, const char *message);
/* Copy every submitted value of the route's field table into v_<name>. */
void form_keep(struct ctx *c);

/* Log a line to stderr prefixed with the request id. */
void app_log(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
