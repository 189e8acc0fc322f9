/* password.c: a forgotten password: the emailed link and the new password (/password/...) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account_rules.h"
#include "app.h"
#include "crypto.h"
#include "mail.h"

#define RESET_TTL_SECONDS 3600
/*
 * An accepted /password/forgot answer goes out no sooner than this after the
 * handler starts: the work that differs between an email with an account
 * and one without (a token row, a process for the mail) hides under it.
 */
#define FORGOT_FLOOR_MS 30

/* Limits of /password/forgot (RESET_MAX_PER_EMAIL, RESET_MAX_PER_ADDRESS, RESET_WINDOW_SECONDS). */
static long max_per_email = 5, max_per_address = 20, window_seconds = 3600;

static const struct stmt stmts[] = {
	{ "reset_request",
	  "SELECT outcome, user_id, email, full_name, invitations "
	  "  FROM password_reset_request($1, $2::inet, $3, $4::int, $5::int, $6::int, $7::int, $8)" },
	{ "reset_lookup", "SELECT user_id, email, password_hash, state FROM password_reset_lookup($1)" },
	{ "reset_use",
	  "SELECT outcome, user_id, sessions_ended FROM password_reset_use($1, $2, $3::inet, $4)" },
	{ "reset_home", "SELECT slug FROM auth_user_workspaces($1::uuid) LIMIT 1" },
};

enum { KF_EMAIL, KF__MAX };
static const struct field_spec forgot_fields[KF__MAX] = {
	[KF_EMAIL] = { "email", valid_email, 3, 254, NULL, 0, 0 },
};

enum { KR_TOKEN, KR_NEW, KR__MAX };
static const struct field_spec reset_fields[KR__MAX] = {
	[KR_TOKEN] = { "token", valid_token, 1, 64, NULL, 0, 0 },
	/* Bounds are checked by password_check, for a message per case. */
	[KR_NEW] = { "new_password", NULL, 0, 1024, NULL, 0, 0 },
};

static const char not_configured[] =
    "Password reset by email is not available: this site has no email configured. "
    "Ask the person who runs it, or an owner of your workspace, for help.";

/* The site's address for links in emails (SETTINGS_BASE_URL, or this request's in development). */
static const char *site_base(struct ctx *c)
{
	const char *base = app_config.base_url;

	if (base == NULL)
		base = arena_printf(c->arena, "%s://%s", c->req->https ? "https" : "http",
		                    c->req->host ? c->req->host : "localhost");
	while (*base && base[strlen(base) - 1] == '/')
		base = arena_strndup(c->arena, base, strlen(base) - 1);
	return base;
}

/* Sleep until the monotonic clock reads at least until_ms. */
static void wait_until(int64_t until_ms)
{
	int64_t left;

	while ((left = until_ms - now_ms()) > 0) {
		struct timespec ts = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

static void forgot_show(struct ctx *c, int status)
{
	tvars_set(c->vars, "title", "Forgotten password");
	if (mail_mode() == MAIL_NONE)
		tvars_set(c->vars, "not_configured", not_configured);
	page_render(c, status, "password_forgot.tmpl");
}

/* GET /password/forgot: the form (200), or why there is none (no email configured). */
static void forgot_get(struct ctx *c)
{
	forgot_show(c, 200);
}

/* The email with the link, or for an account without a password, the way to its invitation. */
static void reset_message(struct ctx *c, struct buf *m, const PGresult *r, const char *token)
{
	const char *outcome = PQgetvalue(r, 0, 0), *to = PQgetvalue(r, 0, 2);
	const char *name = PQgetisnull(r, 0, 3) ? NULL : PQgetvalue(r, 0, 3);
	struct buf body;

	buf_init(&body);
	buf_puts(&body, "Hello");
	if (name != NULL && *name != '\0') {
		buf_puts(&body, " ");
		mail_text(&body, name);
	}
	buf_puts(&body, ",\n\n");
	if (strcmp(outcome, "sent") == 0) {
		buf_printf(&body, "Someone (we hope you) asked to reset the password of your account "
		           "%s.\n\nSet a new password here:\n\n%s/password/reset?token=%s\n\n"
		           "The link works once, within one hour. Using it signs you out everywhere "
		           "and signs you in again with the new password.\n\n"
		           "If you did not ask for this, ignore this message: your password stays "
		           "as it is.\n", to, site_base(c), token);
		mail_compose(m, to, "Reset your password", body.data);
	} else {
		buf_printf(&body, "Someone (we hope you) asked to reset the password of %s, but this "
		           "account has no password yet: you were invited", to);
		if (!PQgetisnull(r, 0, 4)) {
			buf_puts(&body, " to ");
			mail_text(&body, PQgetvalue(r, 0, 4));
		}
		buf_puts(&body, " and have not accepted yet.\n\nOpen the link in your invitation "
		         "email to choose your password and join. If the invitation expired or got "
		         "lost, ask the person who invited you to send it again.\n");
		mail_compose(m, to, "Your invitation is waiting", body.data);
	}
	buf_free(&body);
}

/*
 * POST /password/forgot (email): 303 back to the form with the same
 * notice whether or not the email has an account, after the same work
 * (one database call, one process for the mail) and no sooner than
 * FORGOT_FLOOR_MS; 422 malformed email; 429
 * too many requests for this email or address; 503 no email configured.
 */
static void forgot_post(struct ctx *c)
{
	const char *email = http_field(c->req, KF_EMAIL), *params[8], *outcome;
	char token[44], hash[65], ttl[16], per_email[24], per_address[24], window[24];
	struct buf m;
	PGresult *r;
	int send;
	int64_t start = now_ms();

	if (mail_mode() == MAIL_NONE) {
		forgot_show(c, 503);
		return;
	}
	if (email == NULL) {
		tvars_set(c->vars, "v_email", c->req->fields[KF_EMAIL].raw);
		form_error(c, "email", "Enter the email address of your account, like name@example.com.");
		forgot_show(c, 422);
		return;
	}
	if (crypto_token(token) != 0) {
		c->db_failed = 1;
		return;
	}
	crypto_sha256_hex(token, strlen(token), hash);
	snprintf(ttl, sizeof(ttl), "%d", RESET_TTL_SECONDS);
	snprintf(per_email, sizeof(per_email), "%ld", max_per_email);
	snprintf(per_address, sizeof(per_address), "%ld", max_per_address);
	snprintf(window, sizeof(window), "%ld", window_seconds);
	params[0] = email;
	params[1] = app_client_ip(c);
	params[2] = hash;
	params[3] = ttl;
	params[4] = per_email;
	params[5] = per_address;
	params[6] = window;
	params[7] = c->req->user_agent;
	if ((r = db_exec(c, "reset_request", 8, params, NULL)) == NULL)
		return;
	outcome = db_value(c, r, 0, 0);
	if (outcome == NULL || strcmp(outcome, "limited") == 0) {
		PQclear(r);
		if (outcome == NULL) {
			c->db_failed = 1;
			return;
		}
		tvars_set(c->vars, "v_email", email);
		form_error(c, "email", "Too many reset requests for this email address or from this "
		           "network. Wait an hour and try again.");
		forgot_show(c, 429);
		return;
	}
	buf_init(&m);
	send = strcmp(outcome, "sent") == 0 || strcmp(outcome, "invited") == 0;
	if (send)
		reset_message(c, &m, r, token);
	PQclear(r);
	/* Always the same hand-over, message or not: the answer must not tell them apart. */
	mail_send_detached(c->req->id, send ? &m : NULL);
	buf_free(&m);
	wait_until(start + FORGOT_FLOOR_MS);
	page_redirect_notice(c, "/password/forgot", arena_printf(c->arena,
	    "If %s belongs to an account, an email with a link to set a new password is on its "
	    "way. The link works once, within one hour. Nothing after a few minutes? Check the "
	    "address and your spam folder.", email));
}

/* The token's state: 200 live (user, email, hash filled), 404 unknown, 410 used or expired. 0 db error. */
static int token_load(struct ctx *c, const char *token, const char **user_id,
                      const char **email, const char **hash, const char **state)
{
	char token_hash[65];
	const char *params[1] = { token_hash };
	PGresult *r;
	int status;

	/* The token is in the address: no Referer carries it anywhere. */
	c->resp->token_in_url = 1;
	c->resp->no_store = 1;
	if (token == NULL)
		return 404;
	crypto_sha256_hex(token, strlen(token), token_hash);
	if ((r = db_exec(c, "reset_lookup", 1, params, NULL)) == NULL)
		return 0;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return 404;
	}
	*user_id = db_value(c, r, 0, 0);
	*email = db_value(c, r, 0, 1);
	*hash = db_value(c, r, 0, 2);
	*state = db_value(c, r, 0, 3);
	status = *state != NULL && strcmp(*state, "live") == 0 ? 200 : 410;
	PQclear(r);
	return status;
}

/* The 404 or 410 page of a reset link that does not work. */
static void token_gone(struct ctx *c, int status, const char *state)
{
	const char *why;

	if (status == 404)
		why = "There is no password reset for this link. Check that you copied the whole "
		      "link from the email, or ask for a new one.";
	else if (state != NULL && strcmp(state, "used") == 0)
		why = "This link was already used: each link works once. If you still need a new "
		      "password, ask for a new link.";
	else if (state != NULL && strcmp(state, "replaced") == 0)
		why = "This link no longer works: a newer link was sent, or your password was "
		      "changed since. Use the most recent email, or ask for a new link.";
	else
		why = "This link has expired: links work for one hour. Ask for a new one.";
	tvars_set(c->vars, "title", status == 404 ? "Link not found" : "Link no longer valid");
	tvars_set(c->vars, "message", why);
	tvars_set(c->vars, "gone", "1");
	page_render(c, status, "password_reset.tmpl");
}

static void reset_show(struct ctx *c, int status, const char *token, const char *email)
{
	tvars_set(c->vars, "title", "Choose a new password");
	tvars_set(c->vars, "token", token);
	tvars_set(c->vars, "email", email);
	tvars_set(c->vars, "password_hint", password_hint);
	page_render(c, status, "password_reset.tmpl");
}

/* GET /password/reset?token=...: the form (200); 404 unknown link; 410 used or expired. */
static void reset_get(struct ctx *c)
{
	const char *token = http_field(c->req, KR_TOKEN), *user_id = NULL, *email = NULL;
	const char *hash = NULL, *state = NULL;
	int status = token_load(c, token, &user_id, &email, &hash, &state);

	if (status == 200)
		reset_show(c, 200, token, email);
	else if (status != 0)
		token_gone(c, status, state);
}

/*
 * POST /password/reset (token, new_password): sets the password, signs
 * out every session of the person and signs this browser in as them; 303
 * to their first workspace (or /account). 422 new password against the
 * rules; 404 unknown link; 410 used (also by a request a moment earlier),
 * replaced or expired.
 */
static void reset_post(struct ctx *c)
{
	const char *token = http_field(c->req, KR_TOKEN), *fresh = c->req->fields[KR_NEW].raw;
	const char *user_id = NULL, *email = NULL, *hash = NULL, *state = NULL, *params[4];
	const char *outcome, *home;
	enum password_problem problem;
	char token_hash[65], newhash[64];
	int status = token_load(c, token, &user_id, &email, &hash, &state);
	PGresult *r;

	if (status != 200) {
		if (status != 0)
			token_gone(c, status, state);
		return;
	}
	problem = password_check(fresh, email);
	if (problem == PASSWORD_OK && hash != NULL && password_verify(fresh, hash))
		problem = PASSWORD_IS_CURRENT;
	if (problem != PASSWORD_OK) {
		form_error(c, "new_password", password_message(c->arena, problem, fresh));
		reset_show(c, 422, token, email);
		return;
	}
	if (password_hash(fresh, app_config.bcrypt_cost, newhash) != 0) {
		app_log(c, "bcrypt failed");
		c->db_failed = 1;
		return;
	}
	crypto_sha256_hex(token, strlen(token), token_hash);
	params[0] = token_hash;
	params[1] = newhash;
	params[2] = app_client_ip(c);
	params[3] = c->req->user_agent;
	if ((r = db_exec(c, "reset_use", 4, params, NULL)) == NULL)
		return;
	outcome = db_value(c, r, 0, 0);
	user_id = db_value(c, r, 0, 1);
	PQclear(r);
	if (outcome == NULL) {
		c->db_failed = 1;
		return;
	}
	if (strcmp(outcome, "reset") != 0) {
		/* Another request used (or a newer link replaced) it since the lookup. */
		token_gone(c, strcmp(outcome, "unknown") == 0 ? 404 : 410, outcome);
		return;
	}
	/* This browser's own session, if any, was one of the person's or ends now. */
	if (c->session != NULL && strcmp(c->session->user_id, user_id) == 0)
		c->session = NULL;
	if (session_start(c, user_id) != 0) {
		c->db_failed = 1;
		return;
	}
	params[0] = user_id;
	if (db_exec_value(c, "reset_home", 1, params, &home) != 0)
		return;
	page_redirect_notice(c, home ? arena_printf(c->arena, "/w/%s/settings/team", home) : "/account",
	                     "Your new password is set and you are signed in. Every other session "
	                     "of your account was signed out.");
}

static long env_limit(const char *name, long fallback)
{
	const char *v = getenv(name);
	long n;

	if (v == NULL || *v == '\0')
		return fallback;
	if (parse_long(v, 1, 1000000, &n) != 0) {
		fprintf(stderr, "%s must be a number from 1 to 1000000; using %ld\n", name, fallback);
		return fallback;
	}
	return n;
}

static int password_init(void)
{
	max_per_email = env_limit("RESET_MAX_PER_EMAIL", 5);
	max_per_address = env_limit("RESET_MAX_PER_ADDRESS", 20);
	window_seconds = env_limit("RESET_WINDOW_SECONDS", 3600);
	if (mail_mode() == MAIL_NONE)
		fprintf(stderr, "password: no SETTINGS_SENDMAIL (with SETTINGS_BASE_URL): "
		        "/password/forgot says email is not configured\n");
	return 0;
}

static const struct route routes[] = {
	{ "GET", "/password/forgot", forgot_get, ROUTE_PUBLIC, PERM_NONE, forgot_fields, KF__MAX },
	{ "POST", "/password/forgot", forgot_post, ROUTE_PUBLIC, PERM_NONE, forgot_fields, KF__MAX },
	{ "GET", "/password/reset", reset_get, ROUTE_PUBLIC, PERM_NONE, reset_fields, KR__MAX },
	{ "POST", "/password/reset", reset_post, ROUTE_PUBLIC, PERM_NONE, reset_fields, KR__MAX },
};

static const char *const templates[] = { "password_forgot.tmpl", "password_reset.tmpl", NULL };

static const struct page page = {
	"password", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, password_init,
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &page);
}
