/* account.c: a person's own account: name, password, sessions, workspaces (/account) */
#include <stdio.h>
#include <string.h>

#include "account_rules.h"
#include "app.h"
#include "crypto.h"

#define SESSIONS_SHOWN 100
#define ACTIVITY_SHOWN 10

static const struct stmt stmts[] = {
	/* The person's live sessions (as auth_session() accepts them), this one first. */
	{ "account_sessions",
	  "SELECT id, user_agent, host(ip), "
	  "       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'), "
	  "       to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "       greatest(0, floor(extract(epoch FROM now() - last_seen_at)))::bigint "
	  "  FROM sessions "
	  " WHERE user_id = $1::uuid AND expires_at > now() "
	  "   AND last_seen_at > now() - $2::int * interval '1 second' "
	  " ORDER BY id = $3::uuid DESC, last_seen_at DESC, id "
	  " LIMIT 100" },
	{ "account_workspaces", "SELECT slug, name, role FROM auth_user_workspaces($1::uuid)" },
	{ "account_activity",
	  "SELECT action, changes ->> 'browser', host(ip_address), "
	  "       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"') "
	  "  FROM account_audit_logs WHERE user_id = $1::uuid "
	  " ORDER BY created_at DESC, id LIMIT 10" },
	{ "account_rename", "SELECT old_name, new_name FROM account_rename($1::uuid, $2)" },
	{ "account_audit",
	  "INSERT INTO account_audit_logs (user_id, action, changes, ip_address, user_agent) "
	  "VALUES ($1::uuid, $2, $3::jsonb, $4::inet, $5)" },
	/* The sign-in lockout (auth.c): the same table, the same count by email. */
	{ "account_login_serialise", "SELECT pg_advisory_xact_lock(hashtext('login:' || $1))" },
	{ "account_login_failures",
	  "SELECT count(*) FROM login_attempts WHERE email = $1 "
	  "   AND attempted_at > now() - $2::int * interval '1 second'" },
	{ "account_login_failure_add", "INSERT INTO login_attempts (email, ip) VALUES ($1, $2::inet)" },
	{ "account_password_lookup", "SELECT password_hash FROM auth_login_lookup($1) WHERE user_id = $2::uuid" },
	{ "account_password_set", "UPDATE users SET password_hash = $2 WHERE id = $1::uuid" },
	{ "account_sessions_end_others",
	  "WITH ended AS (DELETE FROM sessions WHERE user_id = $1::uuid AND id <> $2::uuid RETURNING 1) "
	  "SELECT count(*) FROM ended" },
	{ "account_session_rotate",
	  "UPDATE sessions SET token_hash = $2, csrf_token = $3 WHERE id = $1::uuid AND user_id = $4::uuid" },
	{ "account_session_end",
	  "DELETE FROM sessions WHERE id = $1::uuid AND user_id = $2::uuid RETURNING user_agent, host(ip)" },
	{ "account_resets_revoke", "SELECT password_reset_revoke($1::uuid)" },
};

enum { KN_FULL_NAME, KN__MAX };
static const struct field_spec name_fields[KN__MAX] = {
	/* Bounds and characters are checked by name_clean, for a message per case. */
	[KN_FULL_NAME] = { "full_name", NULL, 0, 4096, NULL, 0, 0 },
};

enum { KP_CURRENT, KP_NEW, KP__MAX };
static const struct field_spec password_fields[KP__MAX] = {
	[KP_CURRENT] = { "current_password", NULL, 0, 1024, NULL, 0, 0 },
	[KP_NEW] = { "new_password", NULL, 0, 1024, NULL, 0, 0 },
};

/* What the personal audit actions say, for the activity list. */
static const char *activity_words(const char *action)
{
	static const struct { const char *action, *words; } words[] = {
		{ "account.name_changed", "Name changed" },
		{ "account.password_changed", "Password changed" },
		{ "account.password_reset_requested", "Password reset link requested" },
		{ "account.password_reset", "Password reset with an emailed link" },
		{ "account.session_revoked", "Signed out a session" },
		{ "account.sessions_revoked", "Signed out everywhere else" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i].action, action) == 0)
			return words[i].words;
	return action;
}

/* "5 minutes ago", "just now". */
static const char *ago(struct arena *a, long s)
{
	long n;
	const char *unit;

	if (s < 60)
		return "just now";
	if (s < 3600)
		n = s / 60, unit = "minute";
	else if (s < 86400)
		n = s / 3600, unit = "hour";
	else
		n = s / 86400, unit = "day";
	return arena_printf(a, "%ld %s%s ago", n, unit, n == 1 ? "" : "s");
}

/* An account_audit_logs row for the signed-in person. 0 ok. */
static int account_audit(struct ctx *c, const char *action, const char *changes)
{
	const char *params[5] = { c->session->user_id, action, changes, app_client_ip(c),
	                          c->req->user_agent };
	PGresult *r = db_exec(c, "account_audit", 5, params, NULL);

	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* The sessions, workspaces and recent activity of the page. 0 ok, -1 database error. */
static int fill_lists(struct ctx *c)
{
	char idle[24], browser[96];
	const char *params[3];
	PGresult *r;
	int others = 0;

	snprintf(idle, sizeof(idle), "%ld", app_config.session_idle_seconds);
	params[0] = c->session->user_id;
	params[1] = idle;
	params[2] = c->session->id;
	if ((r = db_exec(c, "account_sessions", 3, params, NULL)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct tvars *row = tvars_loop_add(c->vars, "sessions");
		int self = strcmp(PQgetvalue(r, i, 0), c->session->id) == 0;
		long age = 0;

		ua_describe(PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1), browser, sizeof(browser));
		parse_long(PQgetvalue(r, i, 5), 0, 1L << 40, &age);
		tvars_set(row, "id", PQgetvalue(r, i, 0));
		tvars_set(row, "browser", browser);
		tvars_set(row, "user_agent", PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1));
		tvars_set(row, "ip", PQgetisnull(r, i, 2) ? "unknown" : PQgetvalue(r, i, 2));
		tvars_set(row, "signed_in_at", PQgetvalue(r, i, 3));
		tvars_set(row, "last_active_iso", PQgetvalue(r, i, 4));
		tvars_set(row, "last_active", self ? "now" : ago(c->arena, age));
		tvars_set_bool(row, "this_device", self);
		others += !self;
	}
	tvars_set_int(c->vars, "other_sessions", others);
	tvars_set_bool(c->vars, "sessions_truncated", PQntuples(r) == SESSIONS_SHOWN);
	PQclear(r);

	if ((r = db_exec(c, "account_workspaces", 1, params, NULL)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct tvars *row = tvars_loop_add(c->vars, "my_workspaces");
		enum role role = role_parse(PQgetvalue(r, i, 2));

		tvars_set(row, "slug", PQgetvalue(r, i, 0));
		tvars_set(row, "name", PQgetvalue(r, i, 1));
		tvars_set(row, "role", PQgetvalue(r, i, 2));
		tvars_set_bool(row, "billing", rbac_can(role, PERM_VIEW_BILLING));
	}
	PQclear(r);

	if ((r = db_exec(c, "account_activity", 1, params, NULL)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r) && i < ACTIVITY_SHOWN; i++) {
		struct tvars *row = tvars_loop_add(c->vars, "activity");

		tvars_set(row, "what", activity_words(PQgetvalue(r, i, 0)));
		tvars_set(row, "detail", PQgetisnull(r, i, 1) ? NULL : PQgetvalue(r, i, 1));
		tvars_set(row, "ip", PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2));
		tvars_set(row, "when", PQgetvalue(r, i, 3));
	}
	PQclear(r);
	return 0;
}

/* Render the page with status (200, or 422/429 with the errors already set). */
static void account_show(struct ctx *c, int status)
{
	struct tvars *v = c->vars;

	if (fill_lists(c) != 0)
		return;
	tvars_set(v, "title", "Your account");
	tvars_set(v, "nav", "account");
	tvars_set(v, "email", c->session->email);
	tvars_set(v, "full_name", c->session->name);
	if (tvars_get(v, "v_full_name") == NULL)
		tvars_set(v, "v_full_name", c->session->name);
	tvars_set(v, "password_hint", password_hint);
	page_render(c, status, "account.tmpl");
}

/* GET /account: the page (200). */
static void account_get(struct ctx *c)
{
	account_show(c, 200);
}

/* POST /account/name (full_name): 303 /account; 422 with the message by the field. */
static void name_post(struct ctx *c)
{
	const char *raw = c->req->fields[KN_FULL_NAME].raw, *error, *name, *params[2];
	PGresult *r;
	const char *old;

	tvars_set(c->vars, "v_full_name", raw ? raw : "");
	name = name_clean(c->arena, raw, &error);
	if (name == NULL) {
		form_error(c, "full_name", error);
		account_show(c, 422);
		return;
	}
	params[0] = c->session->user_id;
	params[1] = name;
	if ((r = db_exec(c, "account_rename", 2, params, NULL)) == NULL)
		return;
	old = PQntuples(r) == 1 ? db_value(c, r, 0, 0) : NULL;
	PQclear(r);
	if (old != NULL && strcmp(old, name) == 0) {
		page_redirect_notice(c, "/account", "Your name is unchanged.");
		return;
	}
	if (account_audit(c, "account.name_changed",
	                  json_object(c->arena, "old_name", old, "new_name", name, NULL)) != 0)
		return;
	page_redirect_notice(c, "/account", arena_printf(c->arena,
	                     "Your name is now %s, in every workspace.", name));
}

/* Too many failed sign-ins (or current passwords) for this email in the window? */
static int locked_out(struct ctx *c)
{
	char window[24];
	const char *params[2] = { c->session->email, window }, *count;
	long n = 0;

	snprintf(window, sizeof(window), "%ld", app_config.login_window_seconds);
	if (db_exec_value(c, "account_login_failures", 2, params, &count) != 0)
		return -1;
	if (count != NULL)
		parse_long(count, 0, 1L << 40, &n);
	return n >= app_config.login_max_failures;
}

/* A new token for the current session (the old cookie stops working); 0 ok. */
static int session_rotate(struct ctx *c)
{
	char token[44], csrf[44], hash[65];
	const char *params[4];
	PGresult *r;

	if (crypto_token(token) != 0 || crypto_token(csrf) != 0)
		return -1;
	crypto_sha256_hex(token, strlen(token), hash);
	params[0] = c->session->id;
	params[1] = hash;
	params[2] = csrf;
	params[3] = c->session->user_id;
	if ((r = db_exec(c, "account_session_rotate", 4, params, NULL)) == NULL)
		return -1;
	PQclear(r);
	app_set_cookie(c, "session", token, -1);
	return 0;
}

/*
 * POST /account/password (current_password, new_password): 303 /account,
 * every other session signed out and this one given a new token; 422 for
 * a wrong current password (counted as a failed sign-in, so it leads to
 * the lockout too) or a new password against the rules; 429 locked out.
 */
static void password_post(struct ctx *c)
{
	const char *current = c->req->fields[KP_CURRENT].raw;
	const char *fresh = c->req->fields[KP_NEW].raw;
	const char *params[2], *hash = NULL, *ended, *revoked;
	enum password_problem problem;
	char newhash[64];
	int locked, right;
	PGresult *r;

	params[0] = c->session->email;
	if ((r = db_exec(c, "account_login_serialise", 1, params, NULL)) == NULL)
		return;
	PQclear(r);
	if ((locked = locked_out(c)) != 0) {
		if (locked < 0)
			return;
		form_error(c, "current_password", "Too many wrong passwords. Wait 15 minutes and try again.");
		account_show(c, 429);
		return;
	}
	params[1] = c->session->user_id;
	if (db_exec_value(c, "account_password_lookup", 2, params, &hash) != 0)
		return;
	/* Always one bcrypt verification; a password over 72 bytes is never right. */
	right = hash != NULL && password_verify(current ? current : "", hash) &&
	        current != NULL && strlen(current) <= PASSWORD_MAX_BYTES;
	problem = password_check(fresh, c->session->email);
	if (right && problem == PASSWORD_OK && password_verify(fresh, hash))
		problem = PASSWORD_IS_CURRENT;
	if (!right || problem != PASSWORD_OK) {
		if (!right) {
			params[0] = c->session->email;
			params[1] = app_client_ip(c);
			if ((r = db_exec(c, "account_login_failure_add", 2, params, NULL)) == NULL)
				return;
			PQclear(r);
			c->tx = TX_COMMIT;  /* the failure must be counted */
			form_error(c, "current_password", current == NULL || *current == '\0'
			           ? "Enter your current password." : "This is not your current password.");
		}
		if (problem != PASSWORD_OK)
			form_error(c, "new_password", password_message(c->arena, problem, fresh));
		account_show(c, 422);
		return;
	}
	if (password_hash(fresh, app_config.bcrypt_cost, newhash) != 0) {
		app_log(c, "bcrypt failed");
		c->db_failed = 1;
		return;
	}
	params[0] = c->session->user_id;
	params[1] = newhash;
	if ((r = db_exec(c, "account_password_set", 2, params, NULL)) == NULL)
		return;
	PQclear(r);
	params[1] = c->session->id;
	if (db_exec_value(c, "account_sessions_end_others", 2, params, &ended) != 0 ||
	    db_exec_value(c, "account_resets_revoke", 1, params, &revoked) != 0 ||
	    session_rotate(c) != 0 ||
	    account_audit(c, "account.password_changed",
	                  json_object(c->arena, "password", "changed", "other_sessions_ended",
	                              ended, NULL)) != 0) {
		c->db_failed = 1;
		return;
	}
	page_redirect_notice(c, "/account", arena_printf(c->arena,
	    "Your password was changed. %s", ended != NULL && strcmp(ended, "0") != 0
	    ? arena_printf(c->arena, "Your other sessions (%s) were signed out.", ended)
	    : "You had no other sessions to sign out."));
}

/*
 * POST /account/sessions/{id}/revoke: signs that session out; 303 /account
 * (or /login when it was this one). 404 when the id is not one of the
 * person's sessions (another person's, unknown or malformed alike).
 */
static void session_revoke_post(struct ctx *c)
{
	const char *id = route_uuid(c, 0), *params[2];
	char browser[96];
	PGresult *r;

	if (id == NULL) {
		page_error(c, 404, "There is no session of yours at this address.");
		return;
	}
	params[0] = id;
	params[1] = c->session->user_id;
	if ((r = db_exec(c, "account_session_end", 2, params, NULL)) == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		page_error(c, 404, "There is no session of yours at this address: it may have been "
		           "signed out already.");
		return;
	}
	ua_describe(PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0), browser, sizeof(browser));
	if (account_audit(c, "account.session_revoked",
	                  json_object(c->arena, "session_id", id, "browser", browser, "ip",
	                              PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1), NULL)) != 0) {
		PQclear(r);
		return;
	}
	PQclear(r);
	if (strcmp(id, c->session->id) == 0) {
		/* This very session: it is gone; the cookie goes too. */
		c->session = NULL;
		app_set_cookie(c, "session", "", 0);
		page_redirect_notice(c, "/login", "You are signed out.");
		return;
	}
	page_redirect_notice(c, "/account", arena_printf(c->arena,
	                     "Signed out the session of %s.", browser));
}

/* POST /account/sessions/revoke-others: every session but this one ends; 303 /account. */
static void revoke_others_post(struct ctx *c)
{
	const char *params[2] = { c->session->user_id, c->session->id }, *ended;

	if (db_exec_value(c, "account_sessions_end_others", 2, params, &ended) != 0 || ended == NULL)
		return;
	if (account_audit(c, "account.sessions_revoked",
	                  json_object(c->arena, "sessions_ended", ended, NULL)) != 0)
		return;
	page_redirect_notice(c, "/account", strcmp(ended, "0") == 0
	                     ? "There were no other sessions to sign out."
	                     : arena_printf(c->arena, "Signed out everywhere else (%s session%s).",
	                                    ended, strcmp(ended, "1") == 0 ? "" : "s"));
}

static const struct route routes[] = {
	{ "GET", "/account", account_get, ROUTE_SESSION, PERM_NONE, NULL, 0 },
	{ "POST", "/account/name", name_post, ROUTE_SESSION, PERM_NONE, name_fields, KN__MAX },
	{ "POST", "/account/password", password_post, ROUTE_SESSION, PERM_NONE,
	  password_fields, KP__MAX },
	{ "POST", "/account/sessions/revoke-others", revoke_others_post, ROUTE_SESSION, PERM_NONE,
	  NULL, 0 },
	{ "POST", "/account/sessions/*/revoke", session_revoke_post, ROUTE_SESSION, PERM_NONE,
	  NULL, 0 },
};

static const char *const templates[] = { "account.tmpl", NULL };

static const struct page page = {
	"account", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, NULL,
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &page);
}
