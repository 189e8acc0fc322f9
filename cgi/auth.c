/* auth.c: sign-in, sign-out and the health check */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "crypto.h"

static char dummy_hash[64];

static const struct stmt stmts[] = {
	{ "login_lookup", "SELECT user_id, password_hash FROM auth_login_lookup($1)" },
	/* Failures in the window: for the email, for the email from this
	 * address, and from this address for any email. */
	{ "login_failures",
	  "SELECT (SELECT count(*) FROM login_attempts WHERE email = $1 "
	  "          AND attempted_at > now() - $3::int * interval '1 second'), "
	  "       (SELECT count(*) FROM login_attempts WHERE email = $1 AND ip = $2::inet "
	  "          AND attempted_at > now() - $3::int * interval '1 second'), "
	  "       (SELECT count(*) FROM login_attempts WHERE ip = $2::inet "
	  "          AND attempted_at > now() - $3::int * interval '1 second')" },
	{ "login_serialise", "SELECT pg_advisory_xact_lock(hashtext('login:' || $1))" },
	{ "login_failure_add", "INSERT INTO login_attempts (email, ip) VALUES ($1, $2::inet)" },
	{ "login_failures_clear", "DELETE FROM login_attempts WHERE email = $1" },
	{ "first_workspace", "SELECT slug FROM auth_user_workspaces($1::uuid) LIMIT 1" },
	/* The no-workspace page offers to restore a workspace deleted less than 30 days ago. */
	{ "deleted_workspaces",
	  "SELECT slug, name, to_char(deleted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "       to_char(purge_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "       floor(extract(epoch FROM purge_at - now()))::bigint "
	  "  FROM workspace_deleted_list($1::uuid)" },
};

enum { K_EMAIL, K_PASSWORD, K_NEXT, K__MAX };

static const struct field_spec login_fields[K__MAX] = {
	[K_EMAIL] = { "email", valid_email, 3, 254, NULL, 0, 0 },
	[K_PASSWORD] = { "password", NULL, 1, 1024, NULL, 0, 0 },
	[K_NEXT] = { "next", valid_local_path, 1, 2048, NULL, 0, 0 },
};

static const char generic_failure[] = "That email and password do not match an account.";

/* The first workspace's team page of user_id, or NULL when they belong to none. */
static const char *home_path(struct ctx *c, const char *user_id)
{
	const char *params[1] = { user_id }, *path = NULL;
	PGresult *r = db_exec(c, "first_workspace", 1, params, NULL);

	if (r == NULL)
		return NULL;
	if (PQntuples(r) == 1)
		path = arena_printf(c->arena, "/w/%s/settings/team", PQgetvalue(r, 0, 0));
	PQclear(r);
	return path;
}

/* The workspaces user_id may restore, into loop "deleted" (general_deleted.tmpl). */
static void deleted_fill(struct ctx *c, const char *user_id)
{
	const char *params[1] = { user_id };
	PGresult *r = db_exec(c, "deleted_workspaces", 1, params, NULL);

	if (r == NULL)
		return;
	for (int i = 0; i < PQntuples(r); i++) {
		struct tvars *row = tvars_loop_add(c->vars, "deleted");

		tvars_set(row, "slug", PQgetvalue(r, i, 0));
		tvars_set(row, "name", PQgetvalue(r, i, 1));
		tvars_set(row, "deleted_iso", PQgetvalue(r, i, 2));
		tvars_set(row, "deleted_on", date_words(c->arena, PQgetvalue(r, i, 2)));
		tvars_set(row, "purge_iso", PQgetvalue(r, i, 3));
		tvars_set(row, "purge_on", datetime_words(c->arena, PQgetvalue(r, i, 3)));
		tvars_set(row, "purge_in", until_words(c->arena, strtol(PQgetvalue(r, i, 4), NULL, 10)));
	}
	PQclear(r);
}

/*
 * GET /login: the form (200). Someone already signed in goes on to next or
 * their first workspace (303), or is told they belong to none (200).
 */
static void login_get(struct ctx *c)
{
	const char *next = http_field(c->req, K_NEXT);

	/* next may carry a token (an invitation link): never pass it on. */
	c->resp->token_in_url = 1;
	if (c->session != NULL) {
		const char *home = next ? next : home_path(c, c->session->user_id);

		if (home != NULL) {
			resp_redirect(c->resp, home);
			return;
		}
		if (c->db_failed)
			return;
		tvars_set(c->vars, "no_workspace", "1");
		deleted_fill(c, c->session->user_id);
		tvars_set(c->vars, "title", "No active workspace");
		page_render(c, 200, "login.tmpl");
		return;
	}
	tvars_set(c->vars, "title", "Sign in");
	tvars_set(c->vars, "next", http_field(c->req, K_NEXT));
	page_render(c, 200, "login.tmpl");
}

static void login_fail(struct ctx *c, int status, const char *message)
{
	const char *email = c->req->fields[K_EMAIL].raw;

	tvars_set(c->vars, "title", "Sign in");
	tvars_set(c->vars, "form_error", message);
	tvars_set(c->vars, "email", email);
	tvars_set(c->vars, "next", http_field(c->req, K_NEXT));
	page_render(c, status, "login.tmpl");
}

/*
 * Too many failures within the window? Three limits: for the email (from
 * anywhere) and for the email from this address, LOGIN_MAX_FAILURES each;
 * and for this address across every email, LOGIN_MAX_FAILURES_ADDRESS,
 * high enough that one person's mistakes do not lock out everyone behind
 * the same NAT or proxy.
 */
static int locked_out(struct ctx *c, const char *email, const char *ip)
{
	char window[24];
	const char *params[3] = { email ? email : "", ip, window };
	PGresult *r;
	long by_email = 0, by_email_ip = 0, by_ip = 0;
	int locked;

	snprintf(window, sizeof(window), "%ld", app_config.login_window_seconds);
	r = db_exec(c, "login_failures", 3, params, NULL);
	if (r == NULL)
		return 0;
	parse_long(PQgetvalue(r, 0, 0), 0, 1L << 40, &by_email);
	parse_long(PQgetvalue(r, 0, 1), 0, 1L << 40, &by_email_ip);
	parse_long(PQgetvalue(r, 0, 2), 0, 1L << 40, &by_ip);
	locked = (email != NULL && by_email >= app_config.login_max_failures) ||
	         (email != NULL && ip != NULL && by_email_ip >= app_config.login_max_failures) ||
	         (ip != NULL && by_ip >= app_config.login_max_failures_address);
	PQclear(r);
	return locked;
}

/*
 * POST /login: 303 to next (or the first workspace) on success; 401 with one
 * message for an unknown email or a wrong password alike; 429 when locked out.
 */
static void login_post(struct ctx *c)
{
	const char *email = http_field(c->req, K_EMAIL);
	const char *password = http_field(c->req, K_PASSWORD);
	const char *next = http_field(c->req, K_NEXT);
	const char *ip = app_client_ip(c);
	const char *user_id = NULL, *hash = NULL, *params[2];
	PGresult *r;
	int ok;

	/*
	 * Attempts for one email take turns (until this transaction ends), so
	 * parallel guesses cannot all pass the count before any is recorded.
	 */
	params[0] = email ? email : "";
	if ((r = db_exec(c, "login_serialise", 1, params, NULL)) == NULL)
		return;
	PQclear(r);
	if (locked_out(c, email, ip)) {
		login_fail(c, 429, "Too many failed sign-in attempts. Wait 15 minutes and try again.");
		return;
	}
	if (email != NULL) {
		params[0] = email;
		r = db_exec(c, "login_lookup", 1, params, NULL);
		if (r == NULL)
			return;
		if (PQntuples(r) == 1) {
			user_id = db_value(c, r, 0, 0);
			hash = db_value(c, r, 0, 1);
		}
		PQclear(r);
	}
	/* Always pay for one bcrypt verification, so timing reveals nothing. */
	ok = password_verify(password ? password : "", hash ? hash : dummy_hash);
	ok = ok && user_id != NULL && hash != NULL && password != NULL && strlen(password) <= 72;
	if (!ok) {
		params[0] = email ? email : "";
		params[1] = ip;
		r = db_exec(c, "login_failure_add", 2, params, NULL);
		PQclear(r);
		c->tx = TX_COMMIT;  /* the failure must be counted */
		login_fail(c, 401, generic_failure);
		return;
	}
	params[0] = email;
	PQclear(db_exec(c, "login_failures_clear", 1, params, NULL));
	if (session_start(c, user_id) != 0) {
		c->db_failed = 1;
		return;
	}
	if (next == NULL)
		next = home_path(c, user_id);
	/* Without a workspace, /login says so (see login_get). */
	resp_redirect(c->resp, next ? next : "/login");
}

/* POST /logout: ends the session server-side; 303 /login. */
static void logout_post(struct ctx *c)
{
	session_end(c);
	resp_redirect(c->resp, "/login");
}

/* GET /healthz: 200 "ok" when the database answers, else 503. */
static void healthz_get(struct ctx *c)
{
	PGresult *r = db_exec(c, "health", 0, NULL, NULL);

	if (r == NULL)
		return;
	PQclear(r);
	resp_begin(c->resp, 200, "text/plain; charset=utf-8");
	buf_puts(&c->resp->body, "ok\n");
}

static int auth_init(void)
{
	char pw[44];

	/* A hash of a random password at the configured cost, for unknown emails. */
	if (crypto_token(pw) != 0 || password_hash(pw, app_config.bcrypt_cost, dummy_hash) != 0) {
		fprintf(stderr, "cannot prepare the sign-in dummy hash\n");
		return 1;
	}
	return 0;
}

static const struct route routes[] = {
	{ "GET", "/login", login_get, ROUTE_PUBLIC, PERM_NONE, login_fields, K__MAX },
	{ "POST", "/login", login_post, ROUTE_PUBLIC, PERM_NONE, login_fields, K__MAX },
	{ "POST", "/logout", logout_post, ROUTE_SESSION, PERM_NONE, NULL, 0 },
	{ "GET", "/healthz", healthz_get, ROUTE_PUBLIC | ROUTE_NO_CSRF, PERM_NONE, NULL, 0 },
};

static const char *const templates[] = { "login.tmpl", NULL };

static const struct page page = {
	"auth", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, auth_init,
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &page);
}
