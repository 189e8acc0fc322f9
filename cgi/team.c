/* team.c: the team page: members, invitations, roles and the membership lifecycle */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "crypto.h"
#include "db.h"
#include "mail.h"
#include "wscache.h"

#define PAGE_SIZE 50
/* PAGE_SIZE + 1, written into the SQL: the extra row says a next page exists, and a
 * constant LIMIT lets the generic plan count on a handful of rows. */
#define PAGE_FETCH "51"
#define SEARCH_MAX 100
#define INVITE_COOKIE "team_invite"

/*
 * SQL. Every statement names the workspace ($1 or $2) besides the
 * row-level security policy that limits settings_app to it anyway.
 */

static const struct stmt stmts[] = {
	/*
	 * The whole page in one statement: the counts, then up to three
	 * sections of PAGE_SIZE + 1 rows ($2 rows skipped in each). The
	 * workspace is $1, or (the prefetched GET, sent before the id is known)
	 * the one the session check set for this transaction, read once. Each
	 * section's page comes off idx_team_members_workspace_status_joined_ids
	 * by an index-only scan, so a deep page skips index entries, not rows;
	 * only the rows shown are read, with their person and inviter. The
	 * extra row says a next page exists; the constant LIMIT lets the
	 * generic plan count on a handful of rows.
	 */
	{ "team_page",
	  "WITH ws AS MATERIALIZED ("
	  "  SELECT coalesce($1::uuid, nullif(current_setting('app.current_workspace_id', true), '')::uuid) AS id), "
	  "page AS MATERIALIZED ("
	  "  (SELECT 1 AS ord, row_number() OVER () AS seq, a.id FROM ("
	  "     SELECT t.id FROM team_members t "
	  "      WHERE t.workspace_id = (SELECT id FROM ws) AND t.status = 'active' AND t.deleted_at IS NULL "
	  "      ORDER BY coalesce(t.accepted_at, t.created_at), t.id LIMIT 51 OFFSET $2::int) a) "
	  "  UNION ALL "
	  "  (SELECT 2, row_number() OVER (), p.id FROM ("
	  "     SELECT t.id FROM team_members t "
	  "      WHERE t.workspace_id = (SELECT id FROM ws) AND t.status = 'pending' AND t.deleted_at IS NULL "
	  "      ORDER BY coalesce(t.accepted_at, t.created_at) DESC, t.id DESC LIMIT 51 OFFSET $2::int) p) "
	  "  UNION ALL "
	  "  (SELECT 3, row_number() OVER (), i.id FROM ("
	  "     SELECT t.id FROM team_members t "
	  "      WHERE t.workspace_id = (SELECT id FROM ws) AND t.status = 'inactive' AND t.deleted_at IS NULL "
	  "      ORDER BY coalesce(t.accepted_at, t.created_at), t.id LIMIT 51 OFFSET $2::int) i)) "
	  "SELECT k.n_active, k.n_pending, k.n_inactive, k.n_owners, k.seats_limit, "
	  "       k.n_active + k.n_pending AS n_seats, l.* "
	  "  FROM (SELECT coalesce(bc.team_members_current, "
	  "                        (SELECT count(*) FROM team_members c WHERE c.workspace_id = ws.id "
	  "                            AND c.status = 'active' AND c.deleted_at IS NULL)) AS n_active, "
	  "               (SELECT count(*) FROM team_members c WHERE c.workspace_id = ws.id "
	  "                   AND c.status = 'pending' AND c.deleted_at IS NULL) AS n_pending, "
	  "               (SELECT count(*) FROM team_members c WHERE c.workspace_id = ws.id "
	  "                   AND c.status = 'inactive' AND c.deleted_at IS NULL) AS n_inactive, "
	  "               (SELECT count(*) FROM team_members c WHERE c.workspace_id = ws.id "
	  "                   AND c.status = 'active' AND c.role = 'owner' AND c.deleted_at IS NULL) AS n_owners, "
	  "               bc.team_members_limit AS seats_limit "
	  "          FROM ws LEFT JOIN billing_config bc ON bc.workspace_id = ws.id OFFSET 0) k "
	  "  LEFT JOIN LATERAL ("
	  "       SELECT pg.ord, pg.seq, tm.id::text AS id, "
	  "              (CASE WHEN tm.status = 'pending' THEN coalesce(tm.invitation_email, u.email) "
	  "                    ELSE u.email END)::text AS email, "
	  "              u.full_name::text AS name, tm.role::text AS role, "
	  "              to_char(coalesce(tm.accepted_at, tm.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS joined, "
	  "              to_char(tm.last_active_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_active, "
	  "              floor(extract(epoch FROM now() - tm.last_active_at))::bigint AS last_active_age, "
	  "              coalesce(nullif(inv.full_name, ''), inv.email)::text AS inviter, "
	  "              to_char(tm.invitation_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS expires_at, "
	  "              floor(extract(epoch FROM tm.invitation_expires_at - now()))::bigint AS expires_in "
	  "         FROM page pg "
	  "        CROSS JOIN LATERAL (SELECT x.* FROM team_members x WHERE x.id = pg.id OFFSET 0) tm "
	  "        CROSS JOIN LATERAL (SELECT x.email, x.full_name FROM users x "
	  "                             WHERE x.id = tm.user_id OFFSET 0) u "
	  "         LEFT JOIN LATERAL (SELECT x.email, x.full_name FROM users x "
	  "                             WHERE x.id = tm.invited_by OFFSET 0) inv ON true) l ON true "
	  " ORDER BY l.ord, l.seq" },
	/*
	 * The same for a search ($3, an ILIKE pattern), with the counts of the
	 * matches: the trigram indexes of 007_team (when pg_trgm is installed)
	 * find the matching people, then each one's membership is one probe of
	 * the (workspace_id, user_id, deleted_at) key; OFFSET 0 keeps the
	 * planner from turning that into a scan of every member of a large
	 * workspace. Seats in use and owners count whatever the search.
	 */
	{ "team_page_search",
	  "WITH ws AS MATERIALIZED ("
	  "  SELECT coalesce($1::uuid, nullif(current_setting('app.current_workspace_id', true), '')::uuid) AS id), "
	  "m AS MATERIALIZED ("
	  "  SELECT tm.id, tm.status, tm.joined_at "
	  "    FROM users u "
	  "   CROSS JOIN LATERAL (SELECT t.id, t.status, coalesce(t.accepted_at, t.created_at) AS joined_at "
	  "                         FROM team_members t "
	  "                        WHERE t.workspace_id = (SELECT id FROM ws) AND t.user_id = u.id "
	  "                          AND t.deleted_at IS NULL OFFSET 0) tm "
	  "   WHERE u.email ILIKE $3 OR u.full_name ILIKE $3), "
	  "page AS MATERIALIZED ("
	  "  (SELECT 1 AS ord, row_number() OVER () AS seq, a.id FROM ("
	  "     SELECT m.id FROM m WHERE m.status = 'active' "
	  "      ORDER BY m.joined_at, m.id LIMIT 51 OFFSET $2::int) a) "
	  "  UNION ALL "
	  "  (SELECT 2, row_number() OVER (), p.id FROM ("
	  "     SELECT m.id FROM m WHERE m.status = 'pending' "
	  "      ORDER BY m.joined_at DESC, m.id DESC LIMIT 51 OFFSET $2::int) p) "
	  "  UNION ALL "
	  "  (SELECT 3, row_number() OVER (), i.id FROM ("
	  "     SELECT m.id FROM m WHERE m.status = 'inactive' "
	  "      ORDER BY m.joined_at, m.id LIMIT 51 OFFSET $2::int) i)) "
	  "SELECT k.n_active, k.n_pending, k.n_inactive, k.n_owners, k.seats_limit, k.n_seats, l.* "
	  "  FROM (SELECT (SELECT count(*) FROM m WHERE m.status = 'active') AS n_active, "
	  "               (SELECT count(*) FROM m WHERE m.status = 'pending') AS n_pending, "
	  "               (SELECT count(*) FROM m WHERE m.status = 'inactive') AS n_inactive, "
	  "               (SELECT count(*) FROM team_members c WHERE c.workspace_id = ws.id "
	  "                   AND c.status = 'active' AND c.role = 'owner' AND c.deleted_at IS NULL) AS n_owners, "
	  "               bc.team_members_limit AS seats_limit, "
	  "               coalesce(bc.team_members_current, "
	  "                        (SELECT count(*) FROM team_members c WHERE c.workspace_id = ws.id "
	  "                            AND c.status = 'active' AND c.deleted_at IS NULL)) "
	  "               + (SELECT count(*) FROM team_members c WHERE c.workspace_id = ws.id "
	  "                     AND c.status = 'pending' AND c.deleted_at IS NULL) AS n_seats "
	  "          FROM ws LEFT JOIN billing_config bc ON bc.workspace_id = ws.id OFFSET 0) k "
	  "  LEFT JOIN LATERAL ("
	  "       SELECT pg.ord, pg.seq, tm.id::text AS id, "
	  "              (CASE WHEN tm.status = 'pending' THEN coalesce(tm.invitation_email, u.email) "
	  "                    ELSE u.email END)::text AS email, "
	  "              u.full_name::text AS name, tm.role::text AS role, "
	  "              to_char(coalesce(tm.accepted_at, tm.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS joined, "
	  "              to_char(tm.last_active_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS last_active, "
	  "              floor(extract(epoch FROM now() - tm.last_active_at))::bigint AS last_active_age, "
	  "              coalesce(nullif(inv.full_name, ''), inv.email)::text AS inviter, "
	  "              to_char(tm.invitation_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS expires_at, "
	  "              floor(extract(epoch FROM tm.invitation_expires_at - now()))::bigint AS expires_in "
	  "         FROM page pg "
	  "        CROSS JOIN LATERAL (SELECT x.* FROM team_members x WHERE x.id = pg.id OFFSET 0) tm "
	  "        CROSS JOIN LATERAL (SELECT x.email, x.full_name FROM users x "
	  "                             WHERE x.id = tm.user_id OFFSET 0) u "
	  "         LEFT JOIN LATERAL (SELECT x.email, x.full_name FROM users x "
	  "                             WHERE x.id = tm.invited_by OFFSET 0) inv ON true) l ON true "
	  " ORDER BY l.ord, l.seq" },
	/* The invitation just made, shown once after the redirect. */
	{ "team_invite_shown",
	  "SELECT tm.invitation_email, tm.role, "
	  "to_char(tm.invitation_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	  "floor(extract(epoch FROM tm.invitation_expires_at - now()))::bigint "
	  "FROM team_members tm WHERE tm.workspace_id = $1::uuid AND tm.invitation_token = $2 "
	  "AND tm.status = 'pending' AND tm.deleted_at IS NULL" },
	/*
	 * Every change first takes this lock: team changes of one workspace run
	 * one after the other, so the last-owner and seat checks see the outcome
	 * of any change that raced them. NO KEY UPDATE does not block inserts
	 * that merely reference the workspace.
	 */
	{ "team_lock", "SELECT 1 FROM workspaces WHERE id = $1::uuid FOR NO KEY UPDATE" },
	/* After the lock (a fresh snapshot): the signed-in person's role now. */
	{ "team_actor",
	  "SELECT role FROM team_members WHERE workspace_id = $1::uuid AND id = $2::uuid "
	  "AND status = 'active' AND deleted_at IS NULL" },
	{ "team_member",
	  "SELECT tm.id, tm.role, tm.status, "
	  "(CASE WHEN tm.status = 'pending' THEN coalesce(tm.invitation_email, u.email) "
	  "      ELSE u.email END)::text, "
	  "u.full_name, "
	  "to_char(tm.invitation_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	  "FROM team_members tm JOIN users u ON u.id = tm.user_id "
	  "WHERE tm.id = $1::uuid AND tm.workspace_id = $2::uuid AND tm.deleted_at IS NULL" },
	{ "team_owner_count",
	  "SELECT count(*) FROM team_members WHERE workspace_id = $1::uuid AND role = 'owner' "
	  "AND status = 'active' AND deleted_at IS NULL" },
	/* Seats: the plan's limit (NULL = unlimited) and active + pending now. */
	{ "team_seats",
	  "SELECT bc.team_members_limit, (SELECT count(*) FROM team_members tm "
	  "  WHERE tm.workspace_id = $1::uuid AND tm.status IN ('active', 'pending') "
	  "  AND tm.deleted_at IS NULL) "
	  "FROM workspaces w LEFT JOIN billing_config bc ON bc.workspace_id = w.id "
	  "WHERE w.id = $1::uuid" },
	{ "team_user_by_email", "SELECT id FROM users WHERE lower(email) = $1" },
	/* Someone without an account: a user row without a password. */
	{ "team_user_create",
	  "INSERT INTO users (email, is_verified) VALUES ($1, false) "
	  "ON CONFLICT ((lower((email)::text))) DO NOTHING RETURNING id" },
	{ "team_membership_of",
	  "SELECT status FROM team_members WHERE workspace_id = $1::uuid AND user_id = $2::uuid "
	  "AND deleted_at IS NULL" },
	{ "team_invite_insert",
	  "INSERT INTO team_members (workspace_id, user_id, role, status, invitation_email, "
	  "invitation_token, invitation_expires_at, invited_by, created_by, updated_by) "
	  "VALUES ($1::uuid, $2::uuid, $3, 'pending', $4, $5, now() + interval '7 days', "
	  "$6::uuid, $6::uuid, $6::uuid) "
	  "RETURNING id, to_char(invitation_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" },
	{ "team_set_role",
	  "UPDATE team_members SET role = $3, updated_by = $4::uuid "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid AND deleted_at IS NULL" },
	{ "team_set_status",
	  "UPDATE team_members SET status = $3, updated_by = $4::uuid "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid AND deleted_at IS NULL" },
	/* Removal is a soft delete; the person may be invited again afterwards. */
	{ "team_remove",
	  "UPDATE team_members SET deleted_at = now(), deleted_by = $3::uuid, updated_by = $3::uuid, "
	  "status = CASE WHEN status = 'pending' THEN 'pending' ELSE 'inactive' END "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid AND deleted_at IS NULL" },
	{ "team_resend",
	  "UPDATE team_members SET invitation_token = $3, "
	  "invitation_expires_at = now() + interval '7 days', updated_by = $4::uuid "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid AND status = 'pending' "
	  "AND deleted_at IS NULL "
	  "RETURNING to_char(invitation_expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" },
};

/* Columns of team_page / team_page_search. */
enum {
	COL_N_ACTIVE, COL_N_PENDING, COL_N_INACTIVE, COL_N_OWNERS, COL_SEATS_LIMIT, COL_N_SEATS,
	COL_ORD, COL_SEQ, COL_ID, COL_EMAIL, COL_NAME, COL_ROLE, COL_JOINED,
	COL_LAST_ACTIVE, COL_LAST_ACTIVE_AGE, COL_INVITER, COL_EXPIRES_AT, COL_EXPIRES_IN
};

static const char *const role_choices[] = { "owner", "admin", "member", "viewer", NULL };
static const char *const confirm_choices[] = { "1", NULL };

/* GET /w/{slug}/settings/team */
enum { L_Q, L_PAGE, L__MAX };
static const struct field_spec list_fields[L__MAX] = {
	[L_Q] = { "q", valid_line, 0, SEARCH_MAX, NULL, 0, 0 },
	[L_PAGE] = { "page", valid_int, 1, 7, NULL, 1, 1000000 },
};

/*
 * Every action also carries the list's place, q and page (validated like
 * the list's own, at the same indexes L_Q and L_PAGE; an invalid one is
 * dropped), so that the page comes back where the person was.
 */
#define LIST_PLACE \
	[L_Q] = { "q", valid_line, 0, SEARCH_MAX, NULL, 0, 0 }, \
	[L_PAGE] = { "page", valid_int, 1, 7, NULL, 1, 1000000 }

/* POST .../team/invite */
enum { I_EMAIL = L__MAX, I_ROLE, I__MAX };
static const struct field_spec invite_fields[I__MAX] = {
	LIST_PLACE,
	[I_EMAIL] = { "email", valid_email, 3, 254, NULL, 0, 0 },
	[I_ROLE] = { "role", valid_choice, 1, 16, role_choices, 0, 0 },
};

/* GET and POST .../team/{member_id}/{action} */
enum { A_ROLE = L__MAX, A_CONFIRM, A__MAX };
static const struct field_spec action_fields[A__MAX] = {
	LIST_PLACE,
	[A_ROLE] = { "role", valid_choice, 1, 16, role_choices, 0, 0 },
	[A_CONFIRM] = { "confirm", valid_choice, 1, 1, confirm_choices, 0, 0 },
};

enum action { ACT_ROLE, ACT_DEACTIVATE, ACT_REACTIVATE, ACT_REMOVE, ACT_RESEND, ACT_REVOKE,
              ACT__MAX };

static const char *const action_names[ACT__MAX] = {
	[ACT_ROLE] = "role", [ACT_DEACTIVATE] = "deactivate", [ACT_REACTIVATE] = "reactivate",
	[ACT_REMOVE] = "remove", [ACT_RESEND] = "resend", [ACT_REVOKE] = "revoke",
};

/* The membership row an action is about. */
struct member {
	const char *id;
	enum role role;
	const char *status;        /* active, pending, inactive */
	const char *email;
	const char *name;          /* full name, or NULL */
	const char *expires_at;    /* pending invitations */
	int is_self;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static const char *team_path(struct ctx *c)
{
	return arena_printf(c->arena, "/w/%s/settings/team", c->ws->slug);
}

static const char *search_text(struct ctx *c, const char *q);

/* The list's place this request carries (valid q and page only; page 1 is no place). */
static const char *place_q(struct ctx *c)
{
	return search_text(c, http_field(c->req, L_Q));
}

static long place_page(struct ctx *c)
{
	return http_field(c->req, L_PAGE) ? c->req->fields[L_PAGE].num : 1;
}

/* "?q=...&page=2" for the list's place, "" when there is none. */
static const char *place_query(struct ctx *c, const char *q, long pageno)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	if (q != NULL) {
		buf_puts(&b, "?q=");
		buf_url(&b, q);
	}
	if (pageno > 1)
		buf_printf(&b, "%spage=%ld", q != NULL ? "&" : "?", pageno);
	out = arena_strdup(c->arena, b.data ? b.data : "");
	buf_free(&b);
	return out;
}

/* The team page at the place the request came from: where actions go back to. */
static const char *team_place_path(struct ctx *c)
{
	return arena_printf(c->arena, "%s%s", team_path(c), place_query(c, place_q(c), place_page(c)));
}

static const char *who(const struct member *m)
{
	return m->name != NULL && *m->name != '\0' ? m->name : m->email;
}

static long num(const char *s)
{
	long n = 0;

	if (s == NULL || parse_long(s, -(1L << 50), 1L << 50, &n) != 0)
		return 0;
	return n;
}

/* 12345 -> "12,345" */
static const char *thousands(struct arena *a, long n)
{
	char digits[32], out[48];
	size_t len, j = 0;

	len = fmt_ll(digits, n < 0 ? 0 : n);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[j++] = ',';
		out[j++] = digits[i];
	}
	out[j] = '\0';
	return arena_strdup(a, out);
}

static const char *plural(struct arena *a, long n, const char *unit)
{
	return arena_printf(a, "%ld %s%s", n, unit, n == 1 ? "" : "s");
}

/* The ILIKE pattern for a search: the text with \ % _ escaped, between %. */
static const char *like_pattern(struct arena *a, const char *q)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	buf_putc(&b, '%');
	for (const char *p = q; *p; p++) {
		if (*p == '\\' || *p == '%' || *p == '_')
			buf_putc(&b, '\\');
		buf_putc(&b, *p);
	}
	buf_putc(&b, '%');
	out = arena_strdup(a, b.data);
	buf_free(&b);
	return out;
}

/* The search text without surrounding blanks; NULL when there is none. */
static const char *search_text(struct ctx *c, const char *q)
{
	const char *s = q, *e;

	if (q == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return e > s ? arena_strndup(c->arena, s, (size_t)(e - s)) : NULL;
}

/* The highest role the signed-in person may give someone (never above their own). */
static enum role max_assignable(const struct ctx *c)
{
	return c->ws->role == ROLE_OWNER ? ROLE_OWNER : ROLE_ADMIN;
}

/* Fill loop `name` of v with the roles up to top, marking selected. */
static void role_options(struct tvars *v, const char *name, enum role top, const char *selected)
{
	for (int r = ROLE_OWNER; r >= ROLE_VIEWER; r--) {
		struct tvars *o;

		if (r > (int)top)
			continue;
		o = tvars_loop_add(v, name);
		tvars_set(o, "value", role_name((enum role)r));
		tvars_set_bool(o, "selected",
		               selected != NULL && strcmp(selected, role_name((enum role)r)) == 0);
	}
}

/* ------------------------------------------------------------------ */
/* Invitation email                                                    */
/* ------------------------------------------------------------------ */

/*
 * Email the invitation link when SETTINGS_SENDMAIL names a command (and
 * SETTINGS_BASE_URL says where the site lives: a link built from the
 * request's Host header is fine on the page but not in an email).
 * Returns 's' sent, 'f' failed, 'n' not configured.
 */
static char invitation_mail(struct ctx *c, const char *to, const char *role,
                            const char *link, const char *expires_at)
{
	const char *command = getenv("SETTINGS_SENDMAIL");
	const char *inviter = c->session->name && *c->session->name ? c->session->name
	                                                              : c->session->email;
	const char *expires = datetime_words(c->arena, expires_at);
	struct buf body, m;
	int failed;

	if (command == NULL || *command == '\0' || app_config.base_url == NULL)
		return 'n';
	/* Names are people's input: one line each, no control characters. */
	buf_init(&body);
	buf_puts(&body, "Hello,\n\n");
	mail_text(&body, inviter);
	buf_puts(&body, " invited you to join the workspace \"");
	mail_text(&body, c->ws->name);
	buf_printf(&body, "\" as %s.\n\nAccept the invitation here:\n\n%s\n\n"
	           "The link works once and expires on %s.\n"
	           "If you did not expect this invitation, ignore this message.\n",
	           with_article(c->arena, role), link, expires ? expires : expires_at);
	buf_init(&m);
	mail_compose(&m, to, arena_printf(c->arena, "You are invited to join %s", c->ws->name),
	             body.data);
	failed = mail_send(command, &m) != 0;
	if (failed)
		app_log(c, "sendmail: %s failed or timed out", command);
	buf_free(&body);
	buf_free(&m);
	return failed ? 'f' : 's';
}

/* The link for a token: SETTINGS_BASE_URL, or this site's own address. */
static const char *invitation_link(struct ctx *c, const char *token)
{
	const char *base = app_config.base_url;

	if (base == NULL)
		base = arena_printf(c->arena, "%s://%s", c->req->https ? "https" : "http",
		                    c->req->host ? c->req->host : "localhost");
	while (*base && base[strlen(base) - 1] == '/')
		base = arena_strndup(c->arena, base, strlen(base) - 1);
	return arena_printf(c->arena, "%s/invite/accept?token=%s", base, token);
}

/*
 * A new invitation token for member: the token goes to the browser once (a
 * short-lived HttpOnly cookie read by the next GET) and by email; only its
 * SHA-256 is stored by the caller.
 */
static void invitation_hand_over(struct ctx *c, const char *token, char mail)
{
	app_set_cookie(c, INVITE_COOKIE, arena_printf(c->arena, "%s.%c", token, mail), 120);
}

/* ------------------------------------------------------------------ */
/* The page                                                            */
/* ------------------------------------------------------------------ */

/*
 * Fill one list row's variables, with the forms the signed-in person may
 * use; the rows were read age seconds ago (wscache.h).
 */
static void fill_row(struct ctx *c, struct tvars *row, const PGresult *r, int i, long owners,
                     long age)
{
	const char *id = PQgetvalue(r, i, COL_ID);
	const char *role = PQgetvalue(r, i, COL_ROLE);
	enum role target = role_parse(role);
	int ord = (int)num(PQgetvalue(r, i, COL_ORD));
	int self = strcmp(id, c->ws->member_id) == 0;
	int manage = rbac_can(c->ws->role, PERM_MANAGE_TEAM) &&
	             (target != ROLE_OWNER || c->ws->role == ROLE_OWNER);
	int last_owner = ord == 1 && target == ROLE_OWNER && owners <= 1;

	tvars_set(row, "id", id);
	tvars_set(row, "email", PQgetvalue(r, i, COL_EMAIL));
	if (!PQgetisnull(r, i, COL_NAME) && *PQgetvalue(r, i, COL_NAME))
		tvars_set(row, "name", PQgetvalue(r, i, COL_NAME));
	tvars_set(row, "role", role);
	tvars_set(row, "joined_iso", PQgetvalue(r, i, COL_JOINED));
	tvars_set(row, "joined", date_words(c->arena, PQgetvalue(r, i, COL_JOINED)));
	if (!PQgetisnull(r, i, COL_LAST_ACTIVE)) {
		tvars_set(row, "last_active_iso", PQgetvalue(r, i, COL_LAST_ACTIVE));
		tvars_set(row, "last_active", ago_words(c->arena, num(PQgetvalue(r, i, COL_LAST_ACTIVE_AGE)) + age));
	}
	if (!PQgetisnull(r, i, COL_INVITER))
		tvars_set(row, "invited_by", PQgetvalue(r, i, COL_INVITER));
	if (!PQgetisnull(r, i, COL_EXPIRES_AT)) {
		long left = num(PQgetvalue(r, i, COL_EXPIRES_IN)) - age;

		tvars_set(row, "expires_iso", PQgetvalue(r, i, COL_EXPIRES_AT));
		tvars_set(row, "expires_at", datetime_words(c->arena, PQgetvalue(r, i, COL_EXPIRES_AT)));
		tvars_set(row, "expires", until_words(c->arena, left));
		tvars_set_bool(row, "expired", left <= 0);
	}
	tvars_set_bool(row, "is_self", self);
	tvars_set_bool(row, "last_owner", last_owner);
	if (!rbac_can(c->ws->role, PERM_MANAGE_TEAM))
		return;
	tvars_set_bool(row, "owner_only", !manage);
	if (!manage)
		return;
	tvars_set_bool(row, "manage", 1);
	if (!last_owner) {
		enum role top = max_assignable(c);

		if (self && target < top)
			top = target;
		/* member and viewer are always offered: top is at least admin here. */
		tvars_set_bool(row, "role_form", 1);
		tvars_set_bool(row, "offer_owner", top >= ROLE_OWNER);
		tvars_set_bool(row, "offer_admin", top >= ROLE_ADMIN);
		tvars_set_bool(row, "can_deactivate", ord == 1);
		tvars_set_bool(row, "can_remove", ord != 2);
	}
	tvars_set_bool(row, "can_reactivate", ord == 3);
	tvars_set_bool(row, "can_resend", ord == 2);
	tvars_set_bool(row, "can_revoke", ord == 2);
}

/* The one-time invitation link, when an invite or resend just happened. */
static int fill_invite_panel(struct ctx *c)
{
	const char *v = app_get_cookie(c, INVITE_COOKIE);
	const char *params[2];
	char token[44], hash[65], mail;
	PGresult *r;
	int shown = 0;

	if (v == NULL)
		return 0;
	if (strlen(v) != 45 || v[43] != '.') {
		app_set_cookie(c, INVITE_COOKIE, "", 0);
		return 0;
	}
	memcpy(token, v, 43);
	token[43] = '\0';
	mail = v[44];
	for (const char *p = token; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
			app_set_cookie(c, INVITE_COOKIE, "", 0);
			return 0;
		}
	crypto_sha256_hex(token, 43, hash);
	params[0] = c->ws->id;
	params[1] = hash;
	r = db_exec(c, "team_invite_shown", 2, params, NULL);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		/* Shown once: the cookie goes now. (Another workspace's page leaves it.) */
		app_set_cookie(c, INVITE_COOKIE, "", 0);
		tvars_set(c->vars, "link_url", invitation_link(c, token));
		tvars_set(c->vars, "link_email", PQgetvalue(r, 0, 0));
		tvars_set(c->vars, "link_role", PQgetvalue(r, 0, 1));
		tvars_set(c->vars, "link_expires_iso", PQgetvalue(r, 0, 2));
		tvars_set(c->vars, "link_expires_at", datetime_words(c->arena, PQgetvalue(r, 0, 2)));
		tvars_set(c->vars, "link_expires", until_words(c->arena, num(PQgetvalue(r, 0, 3))));
		tvars_set(c->vars, "link_mail", mail == 's' ? "sent" : mail == 'f' ? "failed" : "none");
		/* A token in the page: never leak it in a Referer. */
		c->resp->token_in_url = 1;
		shown = 1;
	}
	PQclear(r);
	return shown;
}

/* "Showing 51–100 of 10,000" style text for one section. */
static void section_vars(struct ctx *c, const char *name, long total, long shown, long offset)
{
	tvars_set(c->vars, arena_concat(c->arena, "n_", name, NULL), thousands(c->arena, total));
	tvars_set_bool(c->vars, arena_concat(c->arena, "any_", name, NULL), total > 0);
	if (shown > 0 && total > shown)
		tvars_set(c->vars, arena_concat(c->arena, "range_", name, NULL),
		          arena_concat(c->arena, thousands(c->arena, offset + 1), "–",
		                       thousands(c->arena, offset + shown), " of ",
		                       thousands(c->arena, total), NULL));
	if (shown == 0 && total > 0)
		tvars_set_bool(c->vars, arena_concat(c->arena, "earlier_", name, NULL), 1);
}

/*
 * Render the team page with status: the three sections (search q, page
 * number pageno), the invite form (keeping whatever c->vars already holds
 * for it) and the one-time invitation link after an invite or resend.
 */
static void render_team(struct ctx *c, int status, const char *q, long pageno)
{
	const char *params[3];
	char offset[24];
	long counts[3] = {0, 0, 0}, shown[3] = {0, 0, 0}, owners, off = (pageno - 1) * PAGE_SIZE;
	long seats, seats_limit = -1, pages = 1;
	int more = 0, first = !q && pageno == 1;
	const struct wscache_entry *kept = first ? wscache_get(c, WSC_TEAM) : NULL;
	time_t read_at = time(NULL);
	PGresult *r;

	snprintf(offset, sizeof(offset), "%ld", off);
	params[0] = c->ws->id;
	params[1] = offset;
	params[2] = q ? like_pattern(c->arena, q) : NULL;
	if (c->prefetched != NULL) {
		r = c->prefetched;     /* the same statement, sent with the session lookup */
		c->prefetched = NULL;
	} else if (kept != NULL) {
		r = kept->res[0];      /* the first page, as read at the workspace's version */
	} else if (db_resume(c) == 0) {
		r = db_exec(c, q ? "team_page_search" : "team_page", q ? 3 : 2, params, NULL);
	} else {
		return;
	}
	if (r == NULL)
		return;
	/* The first page is the same for every member: keep it (wscache.h). */
	if (first && kept == NULL)
		kept = wscache_put(c, WSC_TEAM, &r, 1, read_at);
	for (int k = 0; k < 3; k++)
		counts[k] = num(PQgetvalue(r, 0, COL_N_ACTIVE + k));
	owners = num(PQgetvalue(r, 0, COL_N_OWNERS));
	seats = num(PQgetvalue(r, 0, COL_N_SEATS));
	for (int i = 0; i < PQntuples(r); i++) {
		static const char *const loops[] = { "active", "pending", "inactive" };
		long ord;

		if (PQgetisnull(r, i, COL_ORD))
			continue;
		ord = num(PQgetvalue(r, i, COL_ORD));
		if (ord < 1 || ord > 3)
			continue;
		if (shown[ord - 1] == PAGE_SIZE) {
			more = 1;
			continue;
		}
		shown[ord - 1]++;
		fill_row(c, tvars_loop_add(c->vars, loops[ord - 1]), r, i, owners, wscache_age(kept));
	}
	if (!PQgetisnull(r, 0, COL_SEATS_LIMIT)) {
		seats_limit = num(PQgetvalue(r, 0, COL_SEATS_LIMIT));
		tvars_set(c->vars, "seats_limit", thousands(c->arena, seats_limit));
	}
	if (kept == NULL)
		PQclear(r);
	/* Limits visible before submitting: no seat left, no invitation (the POST still says 409). */
	if (seats_limit >= 0 && seats >= seats_limit && rbac_can(c->ws->role, PERM_MANAGE_TEAM))
		tvars_setf(c->vars, "seats_full",
		           "All %s seats of your plan are in use (active members plus pending "
		           "invitations): revoke an invitation or remove a member before inviting "
		           "someone%s", thousands(c->arena, seats_limit),
		           c->ws->role == ROLE_OWNER ? ", or move to a larger plan." : ".");
	for (int k = 0; k < 3; k++)
		if ((counts[k] + PAGE_SIZE - 1) / PAGE_SIZE > pages)
			pages = (counts[k] + PAGE_SIZE - 1) / PAGE_SIZE;

	tvars_set(c->vars, "title", "Team");
	tvars_set(c->vars, "nav", "team");
	tvars_set_bool(c->vars, "can_manage", rbac_can(c->ws->role, PERM_MANAGE_TEAM));
	tvars_set_bool(c->vars, "is_owner", c->ws->role == ROLE_OWNER);
	if (!q) {
		/* Seats in use only mean something unfiltered. */
		tvars_set(c->vars, "seats_used", thousands(c->arena, seats));
	}
	tvars_set(c->vars, "q", q);
	/* The list's place, carried by every form and link of an action. */
	tvars_set(c->vars, "list_q", q);
	if (pageno > 1)
		tvars_set_int(c->vars, "list_page", pageno);
	tvars_set(c->vars, "list_query", place_query(c, q, pageno));
	section_vars(c, "active", counts[0], shown[0], off);
	section_vars(c, "pending", counts[1], shown[1], off);
	section_vars(c, "inactive", counts[2], shown[2], off);
	if (pageno > 1) {
		tvars_set_int(c->vars, "prev_page", pageno - 1);
		tvars_set_int(c->vars, "page", pageno);
	}
	if (more) {
		tvars_set_int(c->vars, "next_page", pageno + 1);
		tvars_set_int(c->vars, "page", pageno);
	}
	/* "Page 2 of 4": the longest of the three lists decides. */
	tvars_set_int(c->vars, "pages", pageno > pages ? pageno : pages);
	if (rbac_can(c->ws->role, PERM_MANAGE_TEAM)) {
		const char *sel = tvars_get(c->vars, "v_role");

		role_options(c->vars, "invite_roles", max_assignable(c),
		             sel && role_parse(sel) != ROLE_NONE ? sel : "member");
	}
	if (strcmp(c->req->method, "GET") == 0 && fill_invite_panel(c) < 0)
		return;
	page_render(c, status, "team.tmpl");
}

/*
 * GET /w/{slug}/settings/team (?q= search by name or email, ?page=): 200;
 * 422 when the search text is too long or not a single line.
 */
/*
 * The GET page's one statement, known from the query string alone, goes to
 * PostgreSQL in the same round trip as the session lookup (app.h, struct
 * prefetch). Not when the page needs more: a bad search (422) or the
 * one-time invitation link to show (another read).
 */
static int team_prefetch(struct ctx *c, struct prefetch *p)
{
	const char *q = search_text(c, http_field(c->req, L_Q));
	long pageno = http_field(c->req, L_PAGE) ? c->req->fields[L_PAGE].num : 1;

	if (http_field_invalid(c->req, L_Q) || http_field_invalid(c->req, L_PAGE) ||
	    app_get_cookie(c, INVITE_COOKIE) != NULL)
		return 0;
	/* Kept by this worker: the session check alone says whether it still holds. */
	if (!q && pageno == 1 && wscache_prefetch(c, p, WSC_TEAM))
		return 1;
	p->stmt = q ? "team_page_search" : "team_page";
	p->nparams = q ? 3 : 2;
	p->params[0] = NULL;
	p->params[1] = arena_printf(c->arena, "%ld", (pageno - 1) * PAGE_SIZE);
	p->params[2] = q ? like_pattern(c->arena, q) : NULL;
	return 1;
}

static void team_get(struct ctx *c)
{
	const char *q = search_text(c, http_field(c->req, L_Q));
	long pageno = http_field(c->req, L_PAGE) ? c->req->fields[L_PAGE].num : 1;

	if (http_field_invalid(c->req, L_PAGE)) {
		page_error(c, 400, "The page number in this address is not a whole number "
		           "from 1 to 1,000,000.");
		return;
	}
	if (http_field_invalid(c->req, L_Q)) {
		form_keep(c);
		form_error(c, "q", arena_printf(c->arena,
		           "Search for at most %d characters on one line.", SEARCH_MAX));
		render_team(c, 422, NULL, 1);
		return;
	}
	render_team(c, 200, q, pageno);
}

/* ------------------------------------------------------------------ */
/* Rules                                                               */
/* ------------------------------------------------------------------ */

/*
 * Take the workspace's team lock, then read the signed-in person's
 * membership again: a change that committed while we waited (their own
 * demotion, deactivation or removal) counts. 0 when they may still manage
 * the team; otherwise answers 404 (no longer a member) or 403 and returns
 * 1; -1 on a database error.
 */
static int lock_workspace(struct ctx *c)
{
	const char *params[2] = { c->ws->id, c->ws->member_id };
	PGresult *r = db_exec(c, "team_lock", 1, params, NULL);
	enum role now = ROLE_NONE;

	if (r == NULL)
		return -1;
	PQclear(r);
	r = db_exec(c, "team_actor", 2, params, NULL);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1)
		now = role_parse(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (now == ROLE_NONE) {
		page_error(c, 404, "There is no workspace at this address, or you are not a member of it.");
		return 1;
	}
	c->ws->role = now;
	return require_perm(c, PERM_MANAGE_TEAM) ? 0 : 1;
}

/*
 * Seats: 0 when one more active member or invitation fits the plan, 1 when
 * not (limit_text then names the limit), -1 on a database error.
 */
static int seats_full(struct ctx *c, const char **limit_text)
{
	const char *params[1] = { c->ws->id };
	PGresult *r = db_exec(c, "team_seats", 1, params, NULL);
	int full = 0;

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
		long limit = num(PQgetvalue(r, 0, 0)), used = num(PQgetvalue(r, 0, 1));

		if (used + 1 > limit) {
			full = 1;
			*limit_text = arena_printf(c->arena,
			    "Your plan allows %s (active members plus pending invitations) "
			    "and %s in use. Revoke an invitation or remove a member first%s",
			    plural(c->arena, limit, "seat"), used == 1 ? "1 is" :
			    arena_printf(c->arena, "%ld are", used),
			    c->ws->role == ROLE_OWNER ? ", or move to a larger plan." : ".");
		}
	}
	PQclear(r);
	return full;
}

/* Load member id of this workspace into m. 1 found, 0 not found, -1 error. */
static int member_load(struct ctx *c, const char *id, struct member *m)
{
	const char *params[2] = { id, c->ws->id };
	PGresult *r = db_exec(c, "team_member", 2, params, NULL);
	int found;

	if (r == NULL)
		return -1;
	found = PQntuples(r) == 1;
	if (found) {
		m->id = db_value(c, r, 0, 0);
		m->role = role_parse(PQgetvalue(r, 0, 1));
		m->status = db_value(c, r, 0, 2);
		m->email = db_value(c, r, 0, 3);
		m->name = db_value(c, r, 0, 4);
		m->expires_at = db_value(c, r, 0, 5);
		m->is_self = strcmp(m->id, c->ws->member_id) == 0;
	}
	PQclear(r);
	return found;
}

static int is_demotion(enum action act, const struct member *m, enum role new_role)
{
	return act == ACT_ROLE && new_role != ROLE_NONE && new_role < m->role;
}

/* Making someone an owner hands over everything: it is confirmed first (SPEC). */
static int makes_owner(enum action act, const struct member *m, enum role new_role)
{
	return act == ACT_ROLE && new_role == ROLE_OWNER && m->role != ROLE_OWNER;
}

/*
 * SPEC section 5 for one action on m. Returns 0 when allowed, else the
 * status (403, 409; -1 database error) with *why for people; *billing is
 * set when a larger plan would help (the seat limit).
 */
static int rules_check(struct ctx *c, enum action act, const struct member *m,
                       enum role new_role, const char **why, int *billing)
{
	struct arena *a = c->arena;
	const char *st = m->status;
	int pending = strcmp(st, "pending") == 0, active = strcmp(st, "active") == 0;

	*billing = 0;
	if (act == ACT_ROLE && m->is_self && new_role > m->role) {
		*why = "Nobody can raise their own role; ask an owner.";
		return 403;
	}
	if (m->role == ROLE_OWNER && c->ws->role != ROLE_OWNER) {
		*why = pending ? "Only an owner can manage an invitation to become an owner."
		               : "Only an owner can change, deactivate or remove an owner.";
		return 403;
	}
	if (act == ACT_ROLE && new_role == ROLE_OWNER && c->ws->role != ROLE_OWNER) {
		*why = "Only an owner can make someone an owner.";
		return 403;
	}
	switch (act) {
	case ACT_ROLE:
		break;
	case ACT_DEACTIVATE:
		if (!active) {
			*why = pending ? arena_printf(a, "%s has not accepted the invitation yet: "
			                              "revoke the invitation instead.", m->email)
			               : arena_printf(a, "%s is already inactive.", who(m));
			return 409;
		}
		break;
	case ACT_REACTIVATE:
		if (strcmp(st, "inactive") != 0) {
			*why = arena_printf(a, "%s is not an inactive member.", who(m));
			return 409;
		}
		break;
	case ACT_REMOVE:
		if (pending) {
			*why = arena_printf(a, "%s has not accepted the invitation yet: "
			                    "revoke the invitation instead.", m->email);
			return 409;
		}
		break;
	case ACT_RESEND:
	case ACT_REVOKE:
		if (!pending) {
			*why = arena_printf(a, "%s is a member, not a pending invitation.", who(m));
			return 409;
		}
		break;
	default:
		return 404;
	}
	if (m->role == ROLE_OWNER && active &&
	    (act == ACT_DEACTIVATE || act == ACT_REMOVE || (act == ACT_ROLE && new_role != ROLE_OWNER))) {
		const char *params[1] = { c->ws->id };
		PGresult *r = db_exec(c, "team_owner_count", 1, params, NULL);
		long owners;

		if (r == NULL)
			return -1;
		owners = num(PQgetvalue(r, 0, 0));
		PQclear(r);
		if (owners <= 1) {
			*why = arena_printf(a, "%s the last active owner of %s, and a workspace always "
			                    "keeps one. Make someone else an owner first.",
			                    m->is_self ? "You are" : arena_printf(a, "%s is", who(m)),
			                    c->ws->name);
			return 409;
		}
	}
	if (act == ACT_REACTIVATE) {
		int full = seats_full(c, why);

		if (full < 0)
			return -1;
		if (full) {
			*billing = c->ws->role == ROLE_OWNER;
			return 409;
		}
	}
	return 0;
}

/* A refusal: 403 and 404 as the error page, 409 as the team page with the reason on top. */
static void refuse(struct ctx *c, int status, const char *why, int billing)
{
	if (status != 409) {
		page_error(c, status, why);
		return;
	}
	tvars_set(c->vars, "action_error", why);
	tvars_set_bool(c->vars, "action_billing", billing);
	render_team(c, 409, place_q(c), place_page(c));
}

/* ------------------------------------------------------------------ */
/* Invite                                                              */
/* ------------------------------------------------------------------ */

/* The invite form again with status, the input kept, the message at field. */
static void invite_again(struct ctx *c, int status, const char *field, const char *message)
{
	form_keep(c);
	if (field != NULL)
		form_error(c, field, message);
	render_team(c, status, place_q(c), place_page(c));
}

/*
 * POST /w/{slug}/settings/team/invite (email, role): a pending invitation
 * and its one-time link, 303 back to the page. 422 invalid input; 403 an
 * admin inviting an owner; 409 already a member or invited, or no seat left.
 */
static void team_invite_post(struct ctx *c)
{
	const char *email = http_field(c->req, I_EMAIL);
	const char *role = http_field(c->req, I_ROLE);
	const char *params[6], *user_id = NULL, *member_id, *expires_at, *why = NULL;
	char token[44], hash[65], mail;
	PGresult *r;
	int full;

	if (email == NULL)
		form_error(c, "email", c->req->fields[I_EMAIL].raw == NULL || !*c->req->fields[I_EMAIL].raw
		           ? "Enter the email address of the person to invite."
		           : "Enter a valid email address, like name@example.com (at most 254 characters).");
	if (role == NULL)
		form_error(c, "role", "Choose one of the roles owner, admin, member or viewer.");
	if (email == NULL || role == NULL) {
		invite_again(c, 422, NULL, NULL);
		return;
	}
	if (lock_workspace(c) != 0)
		return;
	if (role_parse(role) == ROLE_OWNER && c->ws->role != ROLE_OWNER) {
		page_error(c, 403, "Only an owner can invite someone as an owner.");
		return;
	}

	params[0] = email;
	if (db_exec_value(c, "team_user_by_email", 1, params, &user_id) != 0)
		return;
	if (user_id != NULL) {
		params[0] = c->ws->id;
		params[1] = user_id;
		r = db_exec(c, "team_membership_of", 2, params, NULL);
		if (r == NULL)
			return;
		if (PQntuples(r) == 1) {
			const char *st = PQgetvalue(r, 0, 0);

			why = strcmp(st, "pending") == 0
			    ? arena_printf(c->arena, "%s already has a pending invitation to %s: "
			                   "use Resend in the list of pending invitations instead.",
			                   email, c->ws->name)
			    : strcmp(st, "inactive") == 0
			    ? arena_printf(c->arena, "%s is already a member of %s (inactive): "
			                   "reactivate them instead.", email, c->ws->name)
			    : arena_printf(c->arena, "%s is already a member of %s.", email, c->ws->name);
		}
		PQclear(r);
		if (why != NULL) {
			invite_again(c, 409, "email", why);
			return;
		}
	}
	full = seats_full(c, &why);
	if (full < 0)
		return;
	if (full) {
		tvars_set_bool(c->vars, "invite_billing", c->ws->role == ROLE_OWNER);
		invite_again(c, 409, "invite", why);
		return;
	}
	if (user_id == NULL) {
		params[0] = email;
		if (db_exec_value(c, "team_user_create", 1, params, &user_id) != 0)
			return;
		/* NULL: created by a concurrent invitation elsewhere a moment ago. */
		if (user_id == NULL &&
		    db_exec_value(c, "team_user_by_email", 1, params, &user_id) != 0)
			return;
		if (user_id == NULL) {
			c->db_failed = 1;
			return;
		}
	}
	if (crypto_token(token) != 0) {
		c->db_failed = 1;
		return;
	}
	crypto_sha256_hex(token, strlen(token), hash);
	params[0] = c->ws->id;
	params[1] = user_id;
	params[2] = role;
	params[3] = email;
	params[4] = hash;
	params[5] = c->session->user_id;
	r = db_exec(c, "team_invite_insert", 6, params, NULL);
	if (r == NULL)
		return;
	member_id = db_value(c, r, 0, 0);
	expires_at = db_value(c, r, 0, 1);
	PQclear(r);
	if (audit_log(c, "team_member.invited", "team_member", member_id,
	              json_object(c->arena, "email", email, "role", role, "status", "pending",
	                          "expires_at", expires_at, NULL)) != 0)
		return;
	mail = invitation_mail(c, email, role, invitation_link(c, token), expires_at);
	invitation_hand_over(c, token, mail);
	page_redirect_notice(c, team_place_path(c),
	                     arena_printf(c->arena, "Invitation created for %s.", email));
}

/* ------------------------------------------------------------------ */
/* Actions on one member                                               */
/* ------------------------------------------------------------------ */

/* What an action will do, in words, for the confirmation page. */
static void confirm_text(struct ctx *c, enum action act, const struct member *m, enum role new_role)
{
	struct arena *a = c->arena;
	const char *name = who(m), *ws = c->ws->name, *heading = NULL, *text = NULL, *button = NULL;

	switch (act) {
	case ACT_ROLE:
		if (makes_owner(act, m, new_role)) {
			heading = arena_printf(a, "Make %s an owner of %s?", name, ws);
			text = arena_printf(a, "%s will be able to do everything you can in %s: manage "
			                    "billing and the plan, make or remove owners (you included) "
			                    "and delete the workspace. Only an owner can undo this.",
			                    name, ws);
			button = "Make owner";
			break;
		}
		heading = arena_printf(a, "Change the role of %s?", name);
		text = m->is_self
		    ? arena_printf(a, "Your role in %s will change from %s to %s. You cannot raise it "
		                   "again yourself.", ws, role_name(m->role), role_name(new_role))
		    : arena_printf(a, "The role of %s in %s will change from %s to %s; what they may do "
		                   "changes at their next request.", name, ws, role_name(m->role),
		                   role_name(new_role));
		button = arena_printf(a, "Change to %s", role_name(new_role));
		break;
	case ACT_DEACTIVATE:
		heading = arena_printf(a, "Deactivate %s?", name);
		text = m->is_self
		    ? arena_printf(a, "You will lose access to %s at once. Your membership is kept, "
		                   "and an owner or admin can reactivate it later.", ws)
		    : arena_printf(a, "%s will lose access to %s at their next request. The membership "
		                   "is kept (role %s) and can be reactivated later; the seat is freed.",
		                   name, ws, role_name(m->role));
		button = "Deactivate";
		break;
	case ACT_REACTIVATE:
		heading = arena_printf(a, "Reactivate %s?", name);
		text = arena_printf(a, "%s will have access to %s again as %s. This uses a seat of "
		                    "your plan.", name, ws, with_article(a, role_name(m->role)));
		button = "Reactivate";
		break;
	case ACT_REMOVE:
		heading = arena_printf(a, "Remove %s from %s?", name, ws);
		text = m->is_self
		    ? arena_printf(a, "You will leave %s and lose access at once. Only a new "
		                   "invitation can bring you back.", ws)
		    : arena_printf(a, "%s will be removed from %s and lose access at their next "
		                   "request. This cannot be undone, but you can invite them again "
		                   "later.", name, ws);
		button = "Remove";
		break;
	case ACT_RESEND:
		heading = arena_printf(a, "Resend the invitation for %s?", m->email);
		text = "A new link valid for 7 days replaces the current one; the old link stops "
		       "working at once.";
		button = "Resend invitation";
		break;
	case ACT_REVOKE:
		heading = arena_printf(a, "Revoke the invitation for %s?", m->email);
		text = arena_printf(a, "The invitation link will stop working and %s will not join "
		                    "%s. The seat it holds is freed. You can invite them again later.",
		                    m->email, ws);
		button = "Revoke invitation";
		break;
	default:
		break;
	}
	tvars_set(c->vars, "heading", heading);
	tvars_set(c->vars, "explain", text);
	tvars_set(c->vars, "button", button);
}

/* The confirmation page (or, for a GET of .../role, the role form). */
static void render_confirm(struct ctx *c, int status, enum action act, const struct member *m,
                           enum role new_role)
{
	tvars_set(c->vars, "title", "Confirm");
	tvars_set(c->vars, "nav", "team");
	tvars_set(c->vars, "member_id", m->id);
	tvars_set(c->vars, "member_name", who(m));
	tvars_set(c->vars, "member_email", m->email);
	tvars_set_bool(c->vars, "member_named", m->name != NULL && *m->name != '\0');
	tvars_set(c->vars, "member_role", role_name(m->role));
	tvars_set(c->vars, "member_status", strcmp(m->status, "pending") == 0 ? "Invitation pending"
	                                    : strcmp(m->status, "inactive") == 0 ? "Inactive" : "Active");
	tvars_set(c->vars, "action", action_names[act]);
	tvars_set(c->vars, "list_q", place_q(c));
	if (place_page(c) > 1)
		tvars_set_int(c->vars, "list_page", place_page(c));
	tvars_set(c->vars, "list_query", place_query(c, place_q(c), place_page(c)));
	tvars_set_bool(c->vars, "danger", act == ACT_DEACTIVATE || act == ACT_REMOVE ||
	               act == ACT_REVOKE || is_demotion(act, m, new_role));
	if (act == ACT_ROLE && (new_role == ROLE_NONE || status == 422)) {
		enum role top = max_assignable(c);

		if (m->is_self && m->role < top)
			top = m->role;
		tvars_set(c->vars, "title", "Change role");
		tvars_set(c->vars, "heading", arena_printf(c->arena, "Change the role of %s", who(m)));
		tvars_set_bool(c->vars, "choose_role", 1);
		role_options(c->vars, "roles", top, role_name(m->role));
	} else {
		if (act == ACT_ROLE)
			tvars_set(c->vars, "new_role", role_name(new_role));
		confirm_text(c, act, m, new_role);
	}
	page_render(c, status, "team_confirm.tmpl");
}

/* Apply act to m (rules already checked). 0 ok, -1 database error. */
static int apply(struct ctx *c, enum action act, const struct member *m, enum role new_role,
                 const char **notice)
{
	struct arena *a = c->arena;
	const char *params[4] = { m->id, c->ws->id, NULL, NULL }, *changes = NULL, *audit = NULL;
	const char *name = who(m), *stmt = NULL;
	char token[44], hash[65];
	int nparams = 4;
	PGresult *r;

	switch (act) {
	case ACT_ROLE:
		stmt = "team_set_role";
		params[2] = role_name(new_role);
		params[3] = c->session->user_id;
		audit = "team_member.role_changed";
		changes = json_object(a, "email", m->email, "old_role", role_name(m->role),
		                      "new_role", role_name(new_role), NULL);
		*notice = arena_printf(a, "%s is now %s.", name, with_article(a, role_name(new_role)));
		break;
	case ACT_DEACTIVATE:
	case ACT_REACTIVATE:
		stmt = "team_set_status";
		params[2] = act == ACT_DEACTIVATE ? "inactive" : "active";
		params[3] = c->session->user_id;
		audit = act == ACT_DEACTIVATE ? "team_member.deactivated" : "team_member.reactivated";
		changes = json_object(a, "email", m->email, "old_status", m->status,
		                      "new_status", params[2], NULL);
		*notice = arena_printf(a, "%s has been %s.", name,
		                       act == ACT_DEACTIVATE ? "deactivated" : "reactivated");
		break;
	case ACT_REMOVE:
	case ACT_REVOKE:
		stmt = "team_remove";
		params[2] = c->session->user_id;
		nparams = 3;
		audit = act == ACT_REMOVE ? "team_member.removed" : "team_member.invitation_revoked";
		changes = json_object(a, "email", m->email, "role", role_name(m->role),
		                      "old_status", m->status, "deleted", "true", NULL);
		*notice = act == ACT_REMOVE
		    ? arena_printf(a, "%s has been removed from %s.", name, c->ws->name)
		    : arena_printf(a, "The invitation for %s has been revoked.", m->email);
		break;
	case ACT_RESEND:
		if (crypto_token(token) != 0)
			return -1;
		crypto_sha256_hex(token, strlen(token), hash);
		params[2] = hash;
		params[3] = c->session->user_id;
		r = db_exec(c, "team_resend", 4, params, NULL);
		if (r == NULL)
			return -1;
		{
			const char *expires_at = db_value(c, r, 0, 0);
			char mail;

			PQclear(r);
			if (audit_log(c, "team_member.invitation_resent", "team_member", m->id,
			              json_object(a, "email", m->email, "role", role_name(m->role),
			                          "old_expires_at", m->expires_at,
			                          "new_expires_at", expires_at, NULL)) != 0)
				return -1;
			mail = invitation_mail(c, m->email, role_name(m->role),
			                       invitation_link(c, token), expires_at);
			invitation_hand_over(c, token, mail);
		}
		*notice = arena_printf(a, "A new invitation link for %s has been created; "
		                       "the old one no longer works.", m->email);
		return 0;
	default:
		return -1;
	}
	r = db_exec(c, stmt, nparams, params, NULL);
	if (r == NULL)
		return -1;
	PQclear(r);
	return audit_log(c, audit, "team_member", m->id, changes);
}

/*
 * GET and POST /w/{slug}/settings/team/{member_id}/{action}: the actions
 * role, deactivate, reactivate, remove, resend and revoke. A GET, or a POST
 * of a destructive action (deactivate, remove, revoke, a lower role)
 * without confirm=1, answers 200 with a confirmation page that says what
 * will happen; a confirmed POST does it and answers 303 back to the team
 * page. 404 unknown action or a member id not in this workspace; 403 and
 * 409 per the team rules; 422 a role that is not one of the four.
 */
static void member_action(struct ctx *c)
{
	int is_post = strcmp(c->req->method, "POST") == 0;
	const char *id = route_uuid(c, 1), *why = NULL, *notice = NULL;
	const char *role_text = http_field(c->req, A_ROLE);
	enum role new_role = role_parse(role_text);
	enum action act = ACT__MAX;
	struct member m;
	int rc, billing = 0;

	for (int i = 0; i < ACT__MAX; i++)
		if (c->req->ncapture > 2 && strcmp(c->req->capture[2], action_names[i]) == 0)
			act = (enum action)i;
	if (id == NULL || act == ACT__MAX) {
		page_error(c, 404, "There is no such member or action in this workspace.");
		return;
	}
	if (is_post && lock_workspace(c) != 0)
		return;
	memset(&m, 0, sizeof(m));
	rc = member_load(c, id, &m);
	if (rc < 0)
		return;
	if (rc == 0) {
		page_error(c, 404, "There is no such member in this workspace.");
		return;
	}
	if (act == ACT_ROLE && is_post && new_role == ROLE_NONE) {
		form_error(c, "role", "Choose one of the roles owner, admin, member or viewer.");
		render_confirm(c, 422, act, &m, ROLE_NONE);
		return;
	}
	if (act == ACT_ROLE && !is_post) {
		/* The role form: who may be changed at all is checked on the POST. */
		if (m.role == ROLE_OWNER && c->ws->role != ROLE_OWNER) {
			page_error(c, 403, "Only an owner can change, deactivate or remove an owner.");
			return;
		}
		render_confirm(c, 200, act, &m, ROLE_NONE);
		return;
	}
	rc = rules_check(c, act, &m, new_role, &why, &billing);
	if (rc < 0)
		return;
	if (rc > 0) {
		refuse(c, rc, why, billing);
		return;
	}
	if (act == ACT_ROLE && new_role == m.role) {
		page_redirect_notice(c, team_place_path(c), arena_printf(c->arena,
		                     "%s already is %s; nothing changed.", who(&m),
		                     with_article(c->arena, role_name(m.role))));
		return;
	}
	if (!is_post || (http_field(c->req, A_CONFIRM) == NULL &&
	                 (act == ACT_DEACTIVATE || act == ACT_REMOVE || act == ACT_REVOKE ||
	                  is_demotion(act, &m, new_role) || makes_owner(act, &m, new_role)))) {
		render_confirm(c, 200, act, &m, new_role);
		return;
	}
	if (apply(c, act, &m, new_role, &notice) != 0) {
		c->db_failed = 1;
		return;
	}
	if (m.is_self && (act == ACT_DEACTIVATE || act == ACT_REMOVE)) {
		/* No access here any more: somewhere they can still go. */
		page_redirect_notice(c, "/login", notice);
		return;
	}
	page_redirect_notice(c, team_place_path(c), notice);
}

static const struct route routes[] = {
	{ "GET", "/w/*/settings/team", team_get, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE,
	  list_fields, L__MAX, team_prefetch },
	{ "GET", "/w/*/settings/team/", team_get, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE,
	  list_fields, L__MAX, team_prefetch },
	{ "POST", "/w/*/settings/team/invite", team_invite_post, ROUTE_WORKSPACE, PERM_MANAGE_TEAM,
	  invite_fields, I__MAX },
	{ "GET", "/w/*/settings/team/*/*", member_action, ROUTE_WORKSPACE, PERM_MANAGE_TEAM,
	  action_fields, A__MAX },
	{ "POST", "/w/*/settings/team/*/*", member_action, ROUTE_WORKSPACE, PERM_MANAGE_TEAM,
	  action_fields, A__MAX },
};

static const char *const templates[] = { "team.tmpl", "team_confirm.tmpl", NULL };

/*
 * Once per worker, before it connects: generic plans for our prepared
 * statements. The page statement is large, and planning it afresh on every
 * request (PostgreSQL's choice for small workspaces) costs more than
 * running it; its generic plan walks the same indexes for any workspace.
 * An operator's own PGOPTIONS wins. Unnamed statements (plain CGI,
 * PgBouncer, which refuses the startup option) are planned once each anyway.
 */
static int team_init(void)
{
	if (!app_config.db_unnamed)
		setenv("PGOPTIONS", "-c plan_cache_mode=force_generic_plan", 0);
	return 0;
}

static const struct page page = {
	"team", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, team_init,
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &page);
}
