/* general.c: the General page: the workspace's name and facts, rename, leave, transfer, delete, restore */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "crypto.h"

#define NAME_MAX_CHARS 100
#define CANDIDATES_MAX 1000        /* members offered in the transfer form */
/* A timestamp as ISO 8601 in UTC; pages put it in words (util.h) and in <time datetime>. */
#define ISO_UTC(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const struct stmt stmts[] = {
	{ "general_page",
	  "SELECT w.name, w.slug, " ISO_UTC("w.created_at") ", bc.plan_type, bc.plan_status "
	  "  FROM workspaces w LEFT JOIN billing_config bc ON bc.workspace_id = w.id "
	  " WHERE w.id = $1::uuid" },
	/* Active members: owners first (the facts), then whom ownership may go to. */
	{ "general_people",
	  "SELECT tm.id, u.email, u.full_name, tm.role FROM team_members tm "
	  "  JOIN users u ON u.id = tm.user_id "
	  " WHERE tm.workspace_id = $1::uuid AND tm.status = 'active' AND tm.deleted_at IS NULL "
	  "   AND (tm.role = 'owner' OR $2::boolean) "
	  " ORDER BY tm.role <> 'owner', lower(coalesce(nullif(u.full_name, ''), u.email)), tm.id "
	  " LIMIT 1001" },
	{ "general_deleted",
	  "SELECT slug, name, " ISO_UTC("deleted_at") ", " ISO_UTC("purge_at") ", "
	  "       floor(extract(epoch FROM purge_at - now()))::bigint "
	  "  FROM workspace_deleted_list($1::uuid)" },
	/*
	 * Every change first takes the workspace's team lock (as team.c does):
	 * team changes of one workspace run one after the other, so the
	 * last-owner rule holds when two requests race. A workspace deleted
	 * meanwhile yields no row.
	 */
	{ "general_lock",
	  "SELECT name FROM workspaces WHERE id = $1::uuid AND deleted_at IS NULL FOR NO KEY UPDATE" },
	{ "general_actor",
	  "SELECT role FROM team_members WHERE workspace_id = $1::uuid AND id = $2::uuid "
	  "AND status = 'active' AND deleted_at IS NULL" },
	{ "general_owner_count",
	  "SELECT count(*) FROM team_members WHERE workspace_id = $1::uuid AND role = 'owner' "
	  "AND status = 'active' AND deleted_at IS NULL" },
	{ "general_member",
	  "SELECT tm.id, tm.role, tm.status, coalesce(tm.invitation_email, u.email)::text, u.full_name "
	  "  FROM team_members tm JOIN users u ON u.id = tm.user_id "
	  " WHERE tm.id = $1::uuid AND tm.workspace_id = $2::uuid AND tm.deleted_at IS NULL" },
	{ "general_rename",
	  "UPDATE workspaces SET name = $2 WHERE id = $1::uuid AND deleted_at IS NULL" },
	{ "general_set_role",
	  "UPDATE team_members SET role = $3, updated_by = $4::uuid "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid AND deleted_at IS NULL" },
	/* Leaving is a removal (team.c "team_remove"): a soft delete. */
	{ "general_leave",
	  "UPDATE team_members SET deleted_at = now(), deleted_by = $3::uuid, updated_by = $3::uuid, "
	  "status = 'inactive' WHERE id = $1::uuid AND workspace_id = $2::uuid AND deleted_at IS NULL" },
	{ "general_next_workspace",
	  "SELECT slug FROM auth_user_workspaces($1::uuid) WHERE slug <> $2 LIMIT 1" },
	{ "general_password", "SELECT password_hash FROM auth_login_lookup($1)" },
	/* A wrong password here counts as a failed sign-in (auth.c): the same lockout. */
	{ "general_password_failures",
	  "SELECT count(*) FROM login_attempts WHERE email = lower($1) "
	  "AND attempted_at > now() - $2::int * interval '1 second'" },
	{ "general_password_failure_add",
	  "INSERT INTO login_attempts (email, ip) VALUES (lower($1), $2::inet)" },
	{ "general_delete",
	  "UPDATE workspaces SET deleted_at = now(), deleted_by = $2::uuid "
	  " WHERE id = $1::uuid AND deleted_at IS NULL "
	  "RETURNING " ISO_UTC("deleted_at") ", " ISO_UTC("deleted_at + interval '30 days'") },
	/* Senders honour is_enabled: every integration stops at once. */
	{ "general_suspend_integrations",
	  "WITH s AS (UPDATE integrations_config SET is_enabled = false, suspended_at = now() "
	  "           WHERE workspace_id = $1::uuid AND is_enabled RETURNING id) "
	  "SELECT count(*) FROM s" },
	/* Billing says cancelled; the old status goes to the audit row. */
	{ "general_cancel_billing",
	  "WITH prev AS (SELECT plan_status FROM billing_config WHERE workspace_id = $1::uuid FOR UPDATE), "
	  "     upd AS (UPDATE billing_config SET plan_status = 'canceled', auto_renew = false, "
	  "             cancellation_requested = false, next_billing_date = NULL, "
	  "             cancellation_effective_date = coalesce(cancellation_effective_date, current_date), "
	  "             updated_by = $2::uuid WHERE workspace_id = $1::uuid RETURNING 1) "
	  "SELECT prev.plan_status FROM prev" },
	{ "general_restore",
	  "SELECT outcome FROM workspace_restore($1::uuid, $2, $3::inet, $4)" },
};

static const char *const confirm_choices[] = { "1", NULL };

/* POST .../general */
enum { N_NAME, N__MAX };
static const struct field_spec rename_fields[N__MAX] = {
	[N_NAME] = { "name", NULL, 0, 1024, NULL, 0, 0 },
};

/* GET and POST .../general/{leave,transfer,delete} */
enum { A_MEMBER_ID, A_SLUG, A_PASSWORD, A_CONFIRM, A__MAX };
static const struct field_spec action_fields[A__MAX] = {
	[A_MEMBER_ID] = { "member_id", valid_uuid, 1, 64, NULL, 0, 0 },
	[A_SLUG] = { "slug", NULL, 0, 256, NULL, 0, 0 },
	[A_PASSWORD] = { "password", NULL, 0, 1024, NULL, 0, 0 },
	[A_CONFIRM] = { "confirm", valid_choice, 1, 1, confirm_choices, 0, 0 },
};

/* The membership row an action is about. */
struct member {
	const char *id;
	enum role role;
	const char *status;
	const char *email;
	const char *name;
};

static const char *general_path(struct ctx *c)
{
	return arena_printf(c->arena, "/w/%s/settings/general", c->ws->slug);
}

static const char *who(const struct member *m)
{
	return m->name != NULL && *m->name != '\0' ? m->name : m->email;
}

static long num(const char *s)
{
	long n = 0;

	if (s == NULL || parse_long(s, 0, 1L << 50, &n) != 0)
		return 0;
	return n;
}

/* Errors of this page lead back to it (error.tmpl). */
static void back_to_general(struct ctx *c)
{
	tvars_set(c->vars, "back_path", general_path(c));
	tvars_set(c->vars, "back_label", "Back to the General page");
}

/* A plan and its state in words: "Professional", "Professional (cancelled)". */
static const char *plan_text(struct ctx *c, const char *plan, const char *status)
{
	static const struct { const char *status, *words; } states[] = {
		{ "trialing", "trial" }, { "past_due", "past due" },
		{ "canceled", "cancelled" }, { "suspended", "suspended" },
	};

	for (size_t i = 0; status != NULL && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(status, states[i].status) == 0)
			return arena_printf(c->arena, "%s (%s)", plan_words(plan), states[i].words);
	return plan_words(plan);
}

/* One line of a confirmation page's facts (general_confirm.tmpl). */
static void fact(struct ctx *c, const char *label, const char *value)
{
	struct tvars *row = tvars_loop_add(c->vars, "facts");

	tvars_set(row, "label", label);
	tvars_set(row, "value", value);
}

static int confirmed(struct ctx *c)
{
	return strcmp(c->req->method, "POST") == 0 && http_field(c->req, A_CONFIRM) != NULL;
}

/* ------------------------------------------------------------------ */
/* The page                                                            */
/* ------------------------------------------------------------------ */

/* Deleted workspaces the person may restore, into loop "deleted". 0 ok, -1 error. */
static int fill_deleted(struct ctx *c)
{
	const char *params[1] = { c->session->user_id };
	PGresult *r = db_exec(c, "general_deleted", 1, params, NULL);

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct tvars *row = tvars_loop_add(c->vars, "deleted");

		tvars_set(row, "slug", PQgetvalue(r, i, 0));
		tvars_set(row, "name", PQgetvalue(r, i, 1));
		tvars_set(row, "deleted_iso", PQgetvalue(r, i, 2));
		tvars_set(row, "deleted_on", date_words(c->arena, PQgetvalue(r, i, 2)));
		tvars_set(row, "purge_iso", PQgetvalue(r, i, 3));
		tvars_set(row, "purge_on", datetime_words(c->arena, PQgetvalue(r, i, 3)));
		tvars_set(row, "purge_in", until_words(c->arena, num(PQgetvalue(r, i, 4))));
	}
	PQclear(r);
	return 0;
}

/*
 * The General page with status: the facts, the rename form (owner, admin),
 * transfer and delete (owner), leave (anyone), deleted workspaces to
 * restore. Whatever c->vars holds for the forms (v_*, err_*) is kept.
 */
static void render_general(struct ctx *c, int status)
{
	const char *params[2] = { c->ws->id, c->ws->role == ROLE_OWNER ? "true" : "false" };
	int owner = c->ws->role == ROLE_OWNER, candidates = 0;
	PGresult *r = db_exec(c, "general_page", 1, params, NULL);

	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		page_error(c, 404, "There is no workspace at this address, or you are not a member of it.");
		return;
	}
	tvars_set(c->vars, "name", PQgetvalue(r, 0, 0));
	tvars_set(c->vars, "slug", PQgetvalue(r, 0, 1));
	tvars_set(c->vars, "created", PQgetvalue(r, 0, 2));
	tvars_set(c->vars, "created_text", date_words(c->arena, PQgetvalue(r, 0, 2)));
	if (!PQgetisnull(r, 0, 3))
		tvars_set(c->vars, "plan", plan_text(c, PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 4)));
	if (tvars_get(c->vars, "v_name") == NULL)
		tvars_set(c->vars, "v_name", PQgetvalue(r, 0, 0));
	PQclear(r);

	r = db_exec(c, "general_people", 2, params, NULL);
	if (r == NULL)
		return;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *id = PQgetvalue(r, i, 0), *email = PQgetvalue(r, i, 1);
		const char *name = PQgetisnull(r, i, 2) || !*PQgetvalue(r, i, 2) ? NULL : PQgetvalue(r, i, 2);
		struct tvars *row;

		if (strcmp(PQgetvalue(r, i, 3), "owner") == 0) {
			row = tvars_loop_add(c->vars, "owners");
			tvars_set(row, "email", email);
			tvars_set(row, "name", name);
			tvars_set_bool(row, "is_self", strcmp(id, c->ws->member_id) == 0);
			continue;
		}
		if (!owner || candidates == CANDIDATES_MAX)
			continue;
		row = tvars_loop_add(c->vars, "candidates");
		tvars_set(row, "id", id);
		tvars_set(row, "label", name ? arena_printf(c->arena, "%s (%s, %s)", name, email,
		                                            PQgetvalue(r, i, 3))
		                             : arena_printf(c->arena, "%s (%s)", email, PQgetvalue(r, i, 3)));
		tvars_set_bool(row, "selected", tvars_get(c->vars, "v_member_id") != NULL &&
		               strcmp(tvars_get(c->vars, "v_member_id"), id) == 0);
		candidates++;
	}
	PQclear(r);
	if (fill_deleted(c) != 0)
		return;
	tvars_set(c->vars, "title", "General");
	tvars_set(c->vars, "nav", "general");
	tvars_set_bool(c->vars, "can_rename", rbac_can(c->ws->role, PERM_MANAGE_TEAM));
	tvars_set_bool(c->vars, "is_owner", owner);
	tvars_set_bool(c->vars, "any_candidates", candidates > 0);
	page_render(c, status, "general.tmpl");
}

/* GET /w/{slug}/settings: 303 to General, which every member may see. */
static void settings_get(struct ctx *c)
{
	resp_redirect(c->resp, general_path(c));
}

/* GET /w/{slug}/settings/general: 200. */
static void general_get(struct ctx *c)
{
	render_general(c, 200);
}

/* A rule says no: 409, the General page with the reason on top. */
static void refuse(struct ctx *c, const char *why)
{
	tvars_set(c->vars, "action_error", why);
	render_general(c, 409);
}

/*
 * Take the team lock and read the person's role again (a change that
 * committed meanwhile counts). 0 when they still hold perm; otherwise
 * answers 404 (no longer a member, or the workspace was deleted) or 403 and
 * returns 1; -1 on a database error.
 */
static int lock_workspace(struct ctx *c, enum perm perm)
{
	const char *params[2] = { c->ws->id, c->ws->member_id };
	PGresult *r = db_exec(c, "general_lock", 1, params, NULL);
	enum role now = ROLE_NONE;
	int live;

	if (r == NULL)
		return -1;
	live = PQntuples(r) == 1;
	if (live)
		c->ws->name = db_value(c, r, 0, 0);
	PQclear(r);
	if (live) {
		r = db_exec(c, "general_actor", 2, params, NULL);
		if (r == NULL)
			return -1;
		if (PQntuples(r) == 1)
			now = role_parse(PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	if (now == ROLE_NONE) {
		page_error(c, 404, "There is no workspace at this address, or you are not a member of it.");
		return 1;
	}
	c->ws->role = now;
	return require_perm(c, perm) ? 0 : 1;
}

/* Active owners of the workspace now (under the lock); -1 on error. */
static long owner_count(struct ctx *c)
{
	const char *params[1] = { c->ws->id }, *v;

	if (db_exec_value(c, "general_owner_count", 1, params, &v) != 0)
		return -1;
	return num(v);
}

/* Where someone goes who no longer has this workspace: their next one, or /login. */
static const char *next_home(struct ctx *c)
{
	const char *params[2] = { c->session->user_id, c->ws->slug }, *slug;

	if (db_exec_value(c, "general_next_workspace", 2, params, &slug) != 0)
		return NULL;
	return slug ? arena_printf(c->arena, "/w/%s/settings/general", slug) : "/login";
}

/*
 * POST /w/{slug}/settings/general (name): owner, admin. 303 with a notice;
 * 422 with the form again when the name is empty, longer than 100
 * characters or holds a control character.
 */
static void rename_post(struct ctx *c)
{
	const char *name = NULL, *old, *params[2];
	int rc = text_name(c->arena, c->req->fields[N_NAME].raw, NAME_MAX_CHARS, &name);
	PGresult *r;

	if (lock_workspace(c, PERM_MANAGE_TEAM) != 0)
		return;
	if (rc != TEXT_OK) {
		form_keep(c);
		form_error(c, "name", rc == TEXT_EMPTY ? "Enter a name for the workspace."
		           : rc == TEXT_TOO_LONG ? "Use at most 100 characters."
		           : "Use one line of text without control characters.");
		render_general(c, 422);
		return;
	}
	old = c->ws->name;
	if (strcmp(old, name) == 0) {
		page_redirect_notice(c, general_path(c), "The name is unchanged.");
		return;
	}
	params[0] = c->ws->id;
	params[1] = name;
	r = db_exec(c, "general_rename", 2, params, NULL);
	if (r == NULL)
		return;
	PQclear(r);
	if (audit_log(c, "workspace.renamed", "workspace", c->ws->id,
	              arena_printf(c->arena, "{\"old\":%s,\"new\":%s}",
	                           json_object(c->arena, "name", old, NULL),
	                           json_object(c->arena, "name", name, NULL))) != 0)
		return;
	page_redirect_notice(c, general_path(c),
	                     arena_printf(c->arena, "The workspace is now called %s.", name));
}

/* The confirmation page of action (leave, transfer, delete). */
static void render_confirm(struct ctx *c, int status, const char *action, const char *heading,
                           const char *explain, const char *button)
{
	tvars_set(c->vars, "title", "Confirm");
	tvars_set(c->vars, "nav", "general");
	tvars_set(c->vars, "action", action);
	tvars_set(c->vars, "heading", heading);
	tvars_set(c->vars, "explain", explain);
	tvars_set(c->vars, "button", button);
	page_render(c, status, "general_confirm.tmpl");
}

/*
 * GET and POST /w/{slug}/settings/general/leave: any member. Without
 * confirm=1 the confirmation page (200); with it the membership is removed
 * (as by an admin) and the person goes to their next workspace or the
 * no-workspace page (303). 409 for the last active owner.
 */
static void leave(struct ctx *c)
{
	const char *params[3];
	long owners;
	PGresult *r;

	if (lock_workspace(c, PERM_VIEW_WORKSPACE) != 0)
		return;
	if (c->ws->role == ROLE_OWNER) {
		if ((owners = owner_count(c)) < 0)
			return;
		if (owners <= 1) {
			refuse(c, arena_printf(c->arena, "You are the last active owner of %s, and a "
			       "workspace always keeps one. Make someone else owner first "
			       "(Transfer ownership below), then leave.", c->ws->name));
			return;
		}
	}
	if (!confirmed(c)) {
		fact(c, "Workspace", c->ws->name);
		fact(c, "Your role", role_name(c->ws->role));
		render_confirm(c, 200, "leave", arena_printf(c->arena, "Leave %s?", c->ws->name),
		               arena_printf(c->arena, "You will lose access to %s at once, as %s. "
		                            "Only a new invitation can bring you back.",
		                            c->ws->name,
		                            with_article(c->arena, role_name(c->ws->role))),
		               "Leave the workspace");
		return;
	}
	params[0] = c->ws->member_id;
	params[1] = c->ws->id;
	params[2] = c->session->user_id;
	r = db_exec(c, "general_leave", 3, params, NULL);
	if (r == NULL)
		return;
	PQclear(r);
	if (audit_log(c, "team_member.left", "team_member", c->ws->member_id,
	              json_object(c->arena, "email", c->session->email, "role", role_name(c->ws->role),
	                          "old_status", "active", "new_status", "inactive",
	                          "deleted", "true", NULL)) != 0)
		return;
	{
		const char *home = next_home(c);

		if (home == NULL)
			return;
		page_redirect_notice(c, home, arena_printf(c->arena, "You have left %s.", c->ws->name));
	}
}

/*
 * GET and POST /w/{slug}/settings/general/transfer (member_id): owner.
 * Without confirm=1 the confirmation page (200); with it, in one
 * transaction, that member becomes owner and the current owner admin, with
 * an audit row each (303). 422 no member chosen; 404 a member id not in
 * this workspace; 409 not an active member, or already an owner, or oneself.
 */
static void transfer(struct ctx *c)
{
	const char *id = http_field(c->req, A_MEMBER_ID), *params[4];
	struct member m;
	PGresult *r;

	if (lock_workspace(c, PERM_DELETE_WORKSPACE) != 0)
		return;
	if (id == NULL) {
		form_keep(c);
		form_error(c, "member_id", "Choose the active member who will become owner.");
		render_general(c, 422);
		return;
	}
	params[0] = id;
	params[1] = c->ws->id;
	r = db_exec(c, "general_member", 2, params, NULL);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		back_to_general(c);
		page_error(c, 404, "There is no such member in this workspace.");
		return;
	}
	memset(&m, 0, sizeof(m));
	m.id = db_value(c, r, 0, 0);
	m.role = role_parse(PQgetvalue(r, 0, 1));
	m.status = db_value(c, r, 0, 2);
	m.email = db_value(c, r, 0, 3);
	m.name = db_value(c, r, 0, 4);
	PQclear(r);
	if (strcmp(m.id, c->ws->member_id) == 0) {
		refuse(c, "You already are an owner: choose someone else.");
		return;
	}
	if (strcmp(m.status, "active") != 0) {
		refuse(c, arena_printf(c->arena, "%s is not an active member of %s: only an active "
		                       "member can become owner.", who(&m), c->ws->name));
		return;
	}
	if (m.role == ROLE_OWNER) {
		refuse(c, arena_printf(c->arena, "%s already is an owner of %s.", who(&m), c->ws->name));
		return;
	}
	if (!confirmed(c)) {
		tvars_set(c->vars, "member_id", m.id);
		fact(c, "Workspace", c->ws->name);
		fact(c, "New owner", m.name != NULL && *m.name != '\0'
		     ? arena_printf(c->arena, "%s (%s)", m.name, m.email) : m.email);
		fact(c, "Their role now", role_name(m.role));
		fact(c, "Your role after", "admin");
		render_confirm(c, 200, "transfer",
		               arena_printf(c->arena, "Transfer ownership of %s to %s?", c->ws->name, who(&m)),
		               arena_printf(c->arena, "%s (%s, now %s) will become owner of %s, and you will "
		                            "become admin: you will no longer manage billing, transfer "
		                            "ownership or delete the workspace. Only an owner can make you "
		                            "owner again.", who(&m), m.email, role_name(m.role), c->ws->name),
		               "Transfer ownership");
		return;
	}
	params[0] = m.id;
	params[1] = c->ws->id;
	params[2] = "owner";
	params[3] = c->session->user_id;
	if ((r = db_exec(c, "general_set_role", 4, params, NULL)) == NULL)
		return;
	PQclear(r);
	if (audit_log(c, "team_member.role_changed", "team_member", m.id,
	              json_object(c->arena, "email", m.email, "old_role", role_name(m.role),
	                          "new_role", "owner", "reason", "ownership transfer", NULL)) != 0)
		return;
	params[0] = c->ws->member_id;
	params[2] = "admin";
	if ((r = db_exec(c, "general_set_role", 4, params, NULL)) == NULL)
		return;
	PQclear(r);
	if (audit_log(c, "team_member.role_changed", "team_member", c->ws->member_id,
	              json_object(c->arena, "email", c->session->email, "old_role", "owner",
	                          "new_role", "admin", "reason", "ownership transfer", NULL)) != 0)
		return;
	page_redirect_notice(c, general_path(c), arena_printf(c->arena,
	                     "%s is now owner of %s; you are admin.", who(&m), c->ws->name));
}

/* The delete confirmation page with status (the fields keep nothing typed but the slug). */
static void render_delete(struct ctx *c, int status)
{
	tvars_set_bool(c->vars, "delete_form", 1);
	tvars_set(c->vars, "v_slug", c->req->fields[A_SLUG].raw);
	fact(c, "Workspace", c->ws->name);
	fact(c, "Address name (slug)", c->ws->slug);
	render_confirm(c, status, "delete", arena_printf(c->arena, "Delete %s?", c->ws->name),
	               arena_printf(c->arena, "%s will be deleted for everyone: it leaves every "
	                            "member's list of workspaces and all its pages stop answering. "
	                            "Its integrations stop sending at once and the subscription is "
	                            "cancelled. For 30 days an owner can restore it (from the list "
	                            "of deleted workspaces); after that it is erased for good.",
	                            c->ws->name),
	               "Delete this workspace");
}

/*
 * GET and POST /w/{slug}/settings/general/delete (slug, password): owner.
 * Without confirm=1 the confirmation page where the owner types the slug
 * and their password (200); with it and both right, the soft delete: 303
 * to the next workspace or the no-workspace page. 422 a wrong slug or
 * password (nothing changes but the count of failed passwords, which the
 * sign-in lockout shares); 429 after too many wrong passwords.
 */
static void delete_workspace(struct ctx *c)
{
	const char *slug = c->req->fields[A_SLUG].raw, *password = c->req->fields[A_PASSWORD].raw;
	const char *params[2], *hash = NULL, *deleted_at, *purge_on, *integrations, *old_status;
	const char *failures;
	int bad = 0, pw_ok;
	PGresult *r;

	if (lock_workspace(c, PERM_DELETE_WORKSPACE) != 0)
		return;
	if (!confirmed(c)) {
		render_delete(c, 200);
		return;
	}
	params[0] = c->session->email;
	params[1] = arena_printf(c->arena, "%ld", app_config.login_window_seconds);
	if (db_exec_value(c, "general_password_failures", 2, params, &failures) != 0)
		return;
	if (num(failures) >= app_config.login_max_failures) {
		back_to_general(c);
		page_error(c, 429, "Too many wrong passwords. Wait a few minutes, then try again.");
		return;
	}
	if (db_exec_value(c, "general_password", 1, params, &hash) != 0)
		return;
	/* bcrypt runs whatever was typed, so a wrong slug takes as long. */
	pw_ok = password_verify(password ? password : "", hash ? hash : "") && hash != NULL &&
	        password != NULL && strlen(password) <= 72;
	if (slug == NULL || strcmp(slug, c->ws->slug) != 0) {
		form_error(c, "slug", arena_printf(c->arena, "Type the workspace's address name, %s, "
		                                   "exactly.", c->ws->slug));
		bad = 1;
	}
	if (!pw_ok) {
		form_error(c, "password", "That is not your password.");
		params[1] = app_client_ip(c);
		if ((r = db_exec(c, "general_password_failure_add", 2, params, NULL)) == NULL)
			return;
		PQclear(r);
		c->tx = TX_COMMIT;    /* the failure must be counted; nothing else has changed */
		bad = 1;
	}
	if (bad) {
		render_delete(c, 422);
		return;
	}
	params[0] = c->ws->id;
	params[1] = c->session->user_id;
	if ((r = db_exec(c, "general_delete", 2, params, NULL)) == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		page_error(c, 404, "There is no workspace at this address, or you are not a member of it.");
		return;
	}
	deleted_at = db_value(c, r, 0, 0);
	purge_on = db_value(c, r, 0, 1);
	PQclear(r);
	if (db_exec_value(c, "general_suspend_integrations", 1, params, &integrations) != 0 ||
	    db_exec_value(c, "general_cancel_billing", 2, params, &old_status) != 0)
		return;
	if (audit_log(c, "workspace.deleted", "workspace", c->ws->id,
	              arena_printf(c->arena, "{\"old\":%s,\"new\":%s}",
	                           json_object(c->arena, "deleted_at", NULL, "plan_status", old_status,
	                                       NULL),
	                           json_object(c->arena, "deleted_at", deleted_at,
	                                       "plan_status", old_status ? "canceled" : NULL,
	                                       "integrations_stopped", integrations ? integrations : "0",
	                                       NULL))) != 0)
		return;
	{
		const char *home = next_home(c), *until = datetime_words(c->arena, purge_on);

		if (home == NULL)
			return;
		page_redirect_notice(c, home, arena_printf(c->arena, "%s has been deleted. An owner can "
		                     "restore it until %s.", c->ws->name, until ? until : purge_on));
	}
}

/*
 * POST /w/{slug}/settings/general/restore: an active owner of a workspace
 * deleted less than 30 days ago. 303 to its General page; 404 no such
 * deleted workspace of theirs; 409 past the 30 days.
 */
static void restore_post(struct ctx *c)
{
	const char *params[4], *outcome;

	params[0] = c->session->user_id;
	params[1] = c->req->capture[0];
	params[2] = app_client_ip(c);
	params[3] = c->req->user_agent;
	if (db_exec_value(c, "general_restore", 4, params, &outcome) != 0)
		return;
	if (outcome != NULL && strcmp(outcome, "restored") == 0) {
		page_redirect_notice(c, arena_printf(c->arena, "/w/%s/settings/general", params[1]),
		                     "The workspace has been restored. Its integrations are on again; "
		                     "choose a plan on the billing page to resume the subscription.");
		return;
	}
	if (outcome != NULL && strcmp(outcome, "expired") == 0) {
		page_error(c, 409, "This workspace was deleted more than 30 days ago and can no longer "
		           "be restored.");
		return;
	}
	page_error(c, 404, "There is no deleted workspace at this address that you own.");
}

static const struct route routes[] = {
	{ "GET", "/w/*/settings", settings_get, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE, NULL, 0 },
	{ "GET", "/w/*/settings/", settings_get, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE, NULL, 0 },
	{ "GET", "/w/*/settings/general", general_get, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE, NULL, 0 },
	/* Renaming: owners and admins, who manage the team. */
	{ "POST", "/w/*/settings/general", rename_post, ROUTE_WORKSPACE, PERM_MANAGE_TEAM,
	  rename_fields, N__MAX },
	{ "GET", "/w/*/settings/general/leave", leave, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE,
	  action_fields, A__MAX },
	{ "POST", "/w/*/settings/general/leave", leave, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE,
	  action_fields, A__MAX },
	{ "GET", "/w/*/settings/general/transfer", transfer, ROUTE_WORKSPACE, PERM_DELETE_WORKSPACE,
	  action_fields, A__MAX },
	{ "POST", "/w/*/settings/general/transfer", transfer, ROUTE_WORKSPACE, PERM_DELETE_WORKSPACE,
	  action_fields, A__MAX },
	{ "GET", "/w/*/settings/general/delete", delete_workspace, ROUTE_WORKSPACE,
	  PERM_DELETE_WORKSPACE, action_fields, A__MAX },
	{ "POST", "/w/*/settings/general/delete", delete_workspace, ROUTE_WORKSPACE,
	  PERM_DELETE_WORKSPACE, action_fields, A__MAX },
	/* Not ROUTE_WORKSPACE: a deleted workspace has no membership to find. */
	{ "POST", "/w/*/settings/general/restore", restore_post, ROUTE_SESSION, PERM_NONE, NULL, 0 },
};

static const char *const templates[] = { "general.tmpl", "general_confirm.tmpl", NULL };

static const struct page page = {
	"general", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, NULL,
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &page);
}
