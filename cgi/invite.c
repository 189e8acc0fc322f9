/* invite.c: accepting an invitation to a workspace (/invite/accept) */
#include <string.h>

#include "app.h"
#include "crypto.h"

#define PASSWORD_MIN 12
#define PASSWORD_MAX 72        /* bcrypt ignores every byte after the 72nd */

static const struct stmt stmts[] = {
	{ "invite_lookup",
	  "SELECT user_id, workspace_name, role, status, "
	  "       invited_by_name, invitation_email, user_has_password, deleted, "
	  "       expires_at IS NULL OR expires_at <= now(), "
	  "       to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "       greatest(0, floor(extract(epoch FROM expires_at - now())))::bigint "
	  "  FROM invitation_lookup($1)" },
	{ "invite_spent", "SELECT invitation_token_spent($1)" },
	/* For a signed-in person on a dead link: where they can go instead. */
	{ "invite_my_workspaces", "SELECT slug, name FROM auth_user_workspaces($1::uuid)" },
	{ "invite_accept",
	  "SELECT outcome, user_id, workspace_slug, workspace_name, role "
	  "  FROM invitation_accept($1, $2::uuid, $3, $4, $5::inet, $6)" },
};

/* Columns of invite_lookup. */
enum { L_USER_ID, L_WORKSPACE, L_ROLE, L_STATUS, L_INVITER, L_EMAIL, L_HAS_PASSWORD,
       L_DELETED, L_EXPIRED, L_EXPIRES, L_SECONDS_LEFT };

enum { K_TOKEN, K_FULL_NAME, K_PASSWORD, K__MAX };

static const struct field_spec fields[K__MAX] = {
	[K_TOKEN] = { "token", valid_token, 1, 64, NULL, 0, 0 },
	[K_FULL_NAME] = { "full_name", valid_line, 1, 256, NULL, 0, 0 },
	/* Bounds are checked by the handler, for a message per case. */
	[K_PASSWORD] = { "password", NULL, 0, 0, NULL, 0, 0 },
};

/* One invitation as the page shows it. */
struct invitation {
	const char *token;         /* as in the link */
	char hash[65];             /* its SHA-256, as stored */
	const char *user_id;       /* the invitee */
	const char *workspace_name;
	const char *role;
	const char *inviter;
	const char *email;
	const char *expires;       /* "3 May 2025, 14:00 UTC" */
	const char *expires_iso;   /* "2025-05-03T14:00:00Z" */
	long seconds_left;
	int has_password;
	const char *gone;          /* why it cannot be used (410), or NULL */
};

/* What a role may do, in a few words, for someone deciding to join. */
static const char *role_summary(const char *role)
{
	if (role == NULL)
		return "";
	if (strcmp(role, "owner") == 0)
		return "full control of the workspace, including billing";
	if (strcmp(role, "admin") == 0)
		return "manages the team, agents and integrations";
	if (strcmp(role, "member") == 0)
		return "creates and edits agents and sees all data";
	if (strcmp(role, "viewer") == 0)
		return "sees the workspace's data, read-only";
	return "";
}

/* "in 5 days", "in 3 hours", ...: rounded to the nearest unit. */
static const char *time_left(struct ctx *c, long s)
{
	if (s >= 36 * 3600)
		return arena_printf(c->arena, "in %ld days", (s + 43200) / 86400);
	if (s >= 90 * 60)
		return arena_printf(c->arena, "in %ld hours", (s + 1800) / 3600);
	if (s >= 90)
		return arena_printf(c->arena, "in %ld minutes", (s + 30) / 60);
	return "in a minute or two";
}

/* Why a link no longer works, for reason used/accepted, revoked, replaced or expired. */
static const char *gone_message(struct ctx *c, const char *reason, const struct invitation *inv)
{
	if (strcmp(reason, "used") == 0 || strcmp(reason, "accepted") == 0)
		return "This invitation has already been accepted: each invitation link "
		       "works only once.";
	if (strcmp(reason, "revoked") == 0)
		return "This invitation was cancelled. Ask the person who invited you for a new one.";
	if (strcmp(reason, "replaced") == 0)
		return "A newer invitation link was sent, so this one no longer works. "
		       "Use the link from the most recent invitation email.";
	if (strcmp(reason, "expired") == 0 && inv != NULL && inv->expires != NULL)
		return arena_printf(c->arena, "This invitation expired on %s. Ask the person "
		                    "who invited you to send it again.", inv->expires);
	return "This invitation has expired. Ask the person who invited you to send it again.";
}

/*
 * Find the invitation of the token in the request. Returns 200 when it can
 * be accepted (inv filled), 404 for an unknown or malformed token, 410 when
 * it was used, cancelled, replaced or has expired (inv->gone says why), 0 on
 * a database error.
 */
static int invitation_load(struct ctx *c, struct invitation *inv)
{
	const char *params[1];
	PGresult *r;
	const char *status, *reason;
	int deleted, expired;

	/* Every page about an invitation has its token in the address or form. */
	c->resp->token_in_url = 1;
	c->resp->no_store = 1;
	memset(inv, 0, sizeof(*inv));
	inv->token = http_field(c->req, K_TOKEN);
	if (inv->token == NULL)
		return 404;
	crypto_sha256_hex(inv->token, strlen(inv->token), inv->hash);
	params[0] = inv->hash;
	r = db_exec(c, "invite_lookup", 1, params, NULL);
	if (r == NULL)
		return 0;
	if (PQntuples(r) != 1) {
		PQclear(r);
		r = db_exec(c, "invite_spent", 1, params, NULL);
		if (r == NULL)
			return 0;
		reason = db_value(c, r, 0, 0);
		PQclear(r);
		if (reason == NULL)
			return 404;
		inv->gone = gone_message(c, reason, NULL);
		return 410;
	}
	inv->user_id = db_value(c, r, 0, L_USER_ID);
	inv->workspace_name = db_value(c, r, 0, L_WORKSPACE);
	inv->role = db_value(c, r, 0, L_ROLE);
	status = db_value(c, r, 0, L_STATUS);
	inv->inviter = db_value(c, r, 0, L_INVITER);
	inv->email = db_value(c, r, 0, L_EMAIL);
	inv->has_password = strcmp(PQgetvalue(r, 0, L_HAS_PASSWORD), "t") == 0;
	deleted = strcmp(PQgetvalue(r, 0, L_DELETED), "t") == 0;
	expired = strcmp(PQgetvalue(r, 0, L_EXPIRED), "t") == 0;
	inv->expires_iso = db_value(c, r, 0, L_EXPIRES);
	inv->expires = inv->expires_iso ? datetime_words(c->arena, inv->expires_iso) : NULL;
	if (parse_long(PQgetvalue(r, 0, L_SECONDS_LEFT), 0, 1L << 40, &inv->seconds_left) != 0)
		inv->seconds_left = 0;
	PQclear(r);
	if (deleted)
		inv->gone = gone_message(c, "revoked", inv);
	else if (status == NULL || strcmp(status, "pending") != 0)
		inv->gone = gone_message(c, "used", inv);
	else if (expired)
		inv->gone = gone_message(c, "expired", inv);
	return inv->gone != NULL ? 410 : 200;
}

/* The 404 or 410 page of a link that does not work; lists a signed-in person's workspaces. */
static void invitation_gone(struct ctx *c, int status, const struct invitation *inv)
{
	if (c->session != NULL) {
		const char *params[1] = { c->session->user_id };
		PGresult *r = db_exec(c, "invite_my_workspaces", 1, params, NULL);

		for (int i = 0; r != NULL && i < PQntuples(r); i++) {
			struct tvars *row = tvars_loop_add(c->vars, "my_workspaces");

			tvars_set(row, "slug", PQgetvalue(r, i, 0));
			tvars_set(row, "name", PQgetvalue(r, i, 1));
		}
		PQclear(r);
	}
	if (status == 404) {
		tvars_set(c->vars, "title", "Invitation not found");
		tvars_set(c->vars, "message", "There is no invitation for this link. Check that "
		          "you copied the whole link from the invitation email.");
	} else {
		tvars_set(c->vars, "title", "Invitation no longer valid");
		tvars_set(c->vars, "message", inv->gone);
	}
	page_render(c, status, "invite_gone.tmpl");
}

/* invitation_load, answering the 404/410 page itself: 1 when inv can be accepted. */
static int invitation_usable(struct ctx *c, struct invitation *inv)
{
	int status = invitation_load(c, inv);

	if (status != 0 && status != 200)
		invitation_gone(c, status, inv);
	return status == 200;
}

/*
 * The invitation page, in the mode that fits who is looking: the new
 * account form (invitee without a password), a sign-in prompt, a "signed
 * in as someone else" page, or the accept button.
 */
static void invitation_show(struct ctx *c, const struct invitation *inv, int status)
{
	struct tvars *v = c->vars;
	const char *mode;

	tvars_setf(v, "title", "Invitation to %s", inv->workspace_name);
	tvars_set(v, "token", inv->token);
	tvars_set(v, "inv_workspace", inv->workspace_name);
	tvars_set(v, "inv_role", inv->role);
	tvars_set(v, "inv_role_article", with_article(c->arena, inv->role));
	tvars_set(v, "inv_role_summary", role_summary(inv->role));
	tvars_set(v, "inv_inviter", inv->inviter);
	tvars_set(v, "inv_email", inv->email);
	tvars_set(v, "inv_expires", inv->expires);
	tvars_set(v, "inv_expires_iso", inv->expires_iso);
	tvars_set(v, "inv_expires_in", time_left(c, inv->seconds_left));
	tvars_setf(v, "next", "/invite/accept?token=%s", inv->token);
	tvars_set_int(v, "password_min", PASSWORD_MIN);
	tvars_set_int(v, "password_max", PASSWORD_MAX);
	if (!inv->has_password)
		mode = "new_account";
	else if (c->session == NULL)
		mode = "sign_in";
	else if (strcmp(c->session->user_id, inv->user_id) != 0)
		mode = "wrong_user";
	else
		mode = "confirm";
	tvars_set(v, "mode", mode);
	page_render(c, status, "invite.tmpl");
}

/* GET /invite/accept?token=...: the invitation. 200, 404 unknown, 410 used or expired. */
static void accept_get(struct ctx *c)
{
	struct invitation inv;

	if (invitation_usable(c, &inv))
		invitation_show(c, &inv, 200);
}

/* Validate the new account's fields; 0 when both are fine (errors set otherwise). */
static int new_account_check(struct ctx *c, const char **name_out)
{
	const struct field *name = &c->req->fields[K_FULL_NAME];
	const struct field *password = &c->req->fields[K_PASSWORD];
	size_t len;
	int bad = 0;

	tvars_set(c->vars, "v_full_name", name->raw);
	*name_out = NULL;
	if (name->state == FIELD_VALID) {
		/* Trim surrounding spaces; a name of spaces only is no name. */
		const char *s = name->value, *e;

		while (*s == ' ')
			s++;
		e = s + strlen(s);
		while (e > s && e[-1] == ' ')
			e--;
		if (e > s)
			*name_out = arena_strndup(c->arena, s, (size_t)(e - s));
	}
	if (*name_out == NULL) {
		bad = 1;
		if (name->raw != NULL && strlen(name->raw) > 256)
			form_error(c, "full_name", "This name is too long: use at most 256 characters "
			           "(a letter with an accent or a symbol counts as 2 to 4).");
		else if (name->state == FIELD_INVALID && name->raw[0] != '\0')
			form_error(c, "full_name", "Your name cannot contain control characters "
			           "such as tabs or line breaks.");
		else
			form_error(c, "full_name", "Enter your full name.");
	}
	/* People count characters; bcrypt counts bytes (PASSWORD_MAX of them). */
	len = password->raw != NULL ? strlen(password->raw) : 0;
	if (len == 0) {
		bad = 1;
		form_error(c, "password", "Choose a password.");
	} else if (utf8_chars(password->raw) < PASSWORD_MIN) {
		bad = 1;
		form_error(c, "password", arena_printf(c->arena, "This password has %zu characters: "
		           "use at least %d.", utf8_chars(password->raw), PASSWORD_MIN));
	} else if (len > PASSWORD_MAX) {
		bad = 1;
		form_error(c, "password", arena_printf(c->arena, "This password is too long: use at "
		           "most %d characters, where a letter with an accent or a symbol counts as "
		           "2 to 4 (yours counts as %zu).", PASSWORD_MAX, len));
	}
	return bad;
}

/*
 * POST /invite/accept (token; full_name, password for an invitee without a
 * password): makes the membership active and sends the person to the team
 * page. 303 on success (a new account is signed in); 422 invalid name or
 * password; 403 not signed in as the invitee; 404 unknown token; 409 no
 * seat left; 410 used, cancelled or expired (also for the losers of a race).
 */
static void accept_post(struct ctx *c)
{
	struct invitation inv;
	const char *params[6], *outcome, *user_id, *slug, *ws_name, *role;
	const char *full_name = NULL;
	char pwhash[64];
	PGresult *r;
	struct buf loc;

	if (!invitation_usable(c, &inv))
		return;
	params[0] = inv.hash;
	params[1] = NULL;
	params[2] = NULL;
	params[3] = NULL;
	params[4] = app_client_ip(c);
	params[5] = c->req->user_agent;
	if (!inv.has_password) {
		if (new_account_check(c, &full_name) != 0) {
			invitation_show(c, &inv, 422);
			return;
		}
		if (password_hash(http_field(c->req, K_PASSWORD), app_config.bcrypt_cost, pwhash) != 0) {
			app_log(c, "bcrypt failed");
			page_error(c, 503, "Your password could not be saved. Please try again.");
			return;
		}
		params[2] = full_name;
		params[3] = pwhash;
	} else {
		if (c->session == NULL || strcmp(c->session->user_id, inv.user_id) != 0) {
			invitation_show(c, &inv, 403);
			return;
		}
		params[1] = c->session->user_id;
	}

	r = db_exec(c, "invite_accept", 6, params, NULL);
	if (r == NULL)
		return;
	outcome = db_value(c, r, 0, 0);
	user_id = db_value(c, r, 0, 1);
	slug = db_value(c, r, 0, 2);
	ws_name = db_value(c, r, 0, 3);
	role = db_value(c, r, 0, 4);
	PQclear(r);
	if (outcome == NULL) {
		c->db_failed = 1;
		return;
	}
	if (strcmp(outcome, "unknown") == 0) {
		invitation_gone(c, 404, &inv);
		return;
	}
	if (strcmp(outcome, "used") == 0 || strcmp(outcome, "revoked") == 0 ||
	    strcmp(outcome, "replaced") == 0 || strcmp(outcome, "expired") == 0) {
		inv.gone = gone_message(c, outcome, &inv);
		invitation_gone(c, 410, &inv);
		return;
	}
	if (strcmp(outcome, "sign_in_required") == 0 || strcmp(outcome, "wrong_user") == 0 ||
	    strcmp(outcome, "password_required") == 0) {
		/* The invitee's account changed since the page was shown. */
		inv.has_password = strcmp(outcome, "password_required") != 0;
		tvars_set(c->vars, "v_full_name", NULL);
		invitation_show(c, &inv, 409);
		return;
	}
	if (strcmp(outcome, "full") == 0) {
		tvars_set(c->vars, "title", "No seat left");
		tvars_set(c->vars, "message", arena_printf(c->arena, "%s has reached the number "
		          "of members its plan allows, so the invitation cannot be accepted now. "
		          "Ask the person who invited you to free a seat or upgrade the plan.",
		          inv.workspace_name));
		page_render(c, 409, "invite_gone.tmpl");
		return;
	}
	if (strcmp(outcome, "accepted") != 0 || user_id == NULL || slug == NULL) {
		app_log(c, "invitation_accept: unexpected outcome %s", outcome);
		c->db_failed = 1;
		return;
	}
	if ((c->session == NULL || strcmp(c->session->user_id, user_id) != 0) &&
	    session_start(c, user_id) != 0) {
		c->db_failed = 1;
		return;
	}
	buf_init(&loc);
	buf_puts(&loc, "/w/");
	buf_url(&loc, slug);
	buf_puts(&loc, "/settings/team");
	page_redirect_notice(c, loc.data, arena_printf(c->arena,
	                     "Welcome to %s. You joined as %s.", ws_name, with_article(c->arena, role)));
	buf_free(&loc);
}

/*
 * POST /invite/sign-out (token): "signed in as someone else": ends the
 * session and sends the browser to sign in, back to the invitation
 * afterwards. 303.
 */
static void signout_post(struct ctx *c)
{
	struct invitation inv;
	struct buf loc;
	int status;

	status = invitation_load(c, &inv);
	if (status == 0)
		return;
	session_end(c);
	if (inv.token == NULL) {
		resp_redirect(c->resp, "/login");
		return;
	}
	buf_init(&loc);
	buf_puts(&loc, "/login?next=");
	buf_url(&loc, arena_printf(c->arena, "/invite/accept?token=%s", inv.token));
	page_redirect_notice(c, loc.data, status == 200
	    ? arena_printf(c->arena, "You are signed out. Sign in as %s to accept the "
	                   "invitation to %s.", inv.email, inv.workspace_name)
	    : "You are signed out.");
	buf_free(&loc);
}

static const struct route routes[] = {
	{ "GET", "/invite/accept", accept_get, ROUTE_PUBLIC, PERM_NONE, fields, K__MAX },
	{ "POST", "/invite/accept", accept_post, ROUTE_PUBLIC, PERM_NONE, fields, K__MAX },
	{ "POST", "/invite/sign-out", signout_post, ROUTE_PUBLIC, PERM_NONE, fields, K__MAX },
};

static const char *const templates[] = { "invite.tmpl", "invite_gone.tmpl", NULL };

static const struct page page = {
	"invite", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, NULL,
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &page);
}
