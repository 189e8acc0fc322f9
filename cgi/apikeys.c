/* apikeys.c: the API keys page: list, create (the key shown once), revoke */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "crypto.h"

#define KEY_PREFIX "sk_live_"     /* every key starts so; 8 more characters are shown */
#define SHOWN_CHARS 8
#define NAME_MAX_CHARS 100
#define LIST_MAX 200
#define NEW_KEY_COOKIE "api_key_new"
/* A timestamp as ISO 8601 in UTC; the page puts it in words (util.h) and in <time datetime>. */
#define ISO_UTC(x) "to_char((" x ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
/* Seconds since a past timestamp / until a future one, for "3 days ago", "in 7 days". */
#define SECS_SINCE(x) "floor(extract(epoch FROM now() - (" x ")))::bigint"
#define SECS_UNTIL(x) "floor(extract(epoch FROM (" x ") - now()))::bigint"

static const struct stmt stmts[] = {
	/* Newest first; the status is decided here, with the database's clock. */
	{ "apikeys_list",
	  "SELECT k.id, k.name, k.key_prefix, coalesce(nullif(u.full_name, ''), u.email), k.created_by, "
	  "       " ISO_UTC("k.created_at") ", " ISO_UTC("k.last_used_at") ", "
	  "       " ISO_UTC("k.expires_at") ", "
	  "       CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked' "
	  "            WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired' "
	  "            ELSE 'active' END, "
	  "       " ISO_UTC("k.revoked_at") ", " SECS_SINCE("k.last_used_at") ", "
	  "       " SECS_UNTIL("k.expires_at") " "
	  "  FROM api_keys k LEFT JOIN users u ON u.id = k.created_by "
	  " WHERE k.workspace_id = $1::uuid "
	  " ORDER BY k.created_at DESC, k.id DESC LIMIT 201" },
	{ "apikeys_usage",
	  "SELECT bc.api_keys_current, bc.api_keys_limit, bc.plan_type "
	  "  FROM billing_config bc WHERE bc.workspace_id = $1::uuid" },
	/*
	 * Creating takes the billing row first: creations of one workspace run
	 * one after the other, and the count after the lock (a new snapshot)
	 * includes any key a racing request committed. The counter trigger
	 * (005_counters) locks the same row, so there is one lock order.
	 */
	{ "apikeys_limit_lock",
	  "SELECT api_keys_limit FROM billing_config WHERE workspace_id = $1::uuid FOR UPDATE" },
	{ "apikeys_active_count",
	  "SELECT count(*) FROM api_keys WHERE workspace_id = $1::uuid AND revoked_at IS NULL" },
	{ "apikeys_insert",
	  "INSERT INTO api_keys (workspace_id, name, key_prefix, key_hash, created_by, expires_at) "
	  "VALUES ($1::uuid, $2, $3, $4, $5::uuid, now() + $6::int * interval '1 day') "
	  "RETURNING id, " ISO_UTC("expires_at") },
	/* The key just made, by its hash, for the one-time display. */
	{ "apikeys_shown",
	  "SELECT name, " ISO_UTC("expires_at") ", " SECS_UNTIL("expires_at") " FROM api_keys "
	  " WHERE workspace_id = $1::uuid AND key_hash = $2 AND revoked_at IS NULL" },
	{ "apikeys_one",
	  "SELECT k.id, k.name, k.key_prefix, k.created_by, "
	  "       CASE WHEN k.revoked_at IS NOT NULL THEN 'revoked' "
	  "            WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired' "
	  "            ELSE 'active' END, "
	  "       coalesce(nullif(u.full_name, ''), u.email), " ISO_UTC("k.created_at") ", "
	  "       " ISO_UTC("k.last_used_at") ", " SECS_SINCE("k.last_used_at") ", "
	  "       " ISO_UTC("k.expires_at") ", " SECS_UNTIL("k.expires_at") " "
	  "  FROM api_keys k LEFT JOIN users u ON u.id = k.created_by "
	  " WHERE k.id = $1::uuid AND k.workspace_id = $2::uuid FOR UPDATE OF k" },
	{ "apikeys_revoke",
	  "UPDATE api_keys SET revoked_at = now(), revoked_by = $3::uuid "
	  " WHERE id = $1::uuid AND workspace_id = $2::uuid AND revoked_at IS NULL "
	  "RETURNING " ISO_UTC("revoked_at") },
};

static const char *const expiry_choices[] = { "30", "90", "365", "none", NULL };
static const char *const confirm_choices[] = { "1", NULL };

/* POST .../api-keys */
enum { C_NAME, C_EXPIRES, C__MAX };
static const struct field_spec create_fields[C__MAX] = {
	[C_NAME] = { "name", NULL, 0, 1024, NULL, 0, 0 },
	[C_EXPIRES] = { "expires_in_days", valid_choice, 0, 8, expiry_choices, 0, 0 },
};

/* GET and POST .../api-keys/{id}/revoke */
enum { R_CONFIRM, R__MAX };
static const struct field_spec revoke_fields[R__MAX] = {
	[R_CONFIRM] = { "confirm", valid_choice, 1, 1, confirm_choices, 0, 0 },
};

static const char *keys_path(struct ctx *c)
{
	return arena_printf(c->arena, "/w/%s/settings/api-keys", c->ws->slug);
}

static long num(const char *s)
{
	long n = 0;

	if (s == NULL || parse_long(s, 0, 1L << 50, &n) != 0)
		return 0;
	return n;
}

/* Columns of apikeys_list. */
enum {
	L_ID, L_NAME, L_PREFIX, L_CREATOR, L_CREATED_BY, L_CREATED, L_LAST_USED, L_EXPIRES,
	L_STATE, L_REVOKED, L_LAST_USED_AGE, L_EXPIRES_IN
};

/* Columns of apikeys_one. */
enum {
	O_ID, O_NAME, O_PREFIX, O_CREATED_BY, O_STATE, O_CREATOR, O_CREATED, O_LAST_USED,
	O_LAST_USED_AGE, O_EXPIRES, O_EXPIRES_IN
};

/* Errors of this page lead back to it (error.tmpl). */
static void back_to_keys(struct ctx *c)
{
	tvars_set(c->vars, "back_path", keys_path(c));
	tvars_set(c->vars, "back_label", "Back to the API keys page");
}

static const char *col(const PGresult *r, int i, int k)
{
	return PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
}

/*
 * The dates of a key into v, in the one style of every page: created
 * ("1 December 2026"), last used ("3 days ago"), expires ("in 7 days" and
 * the date; the date alone once past), each with its ISO value for
 * <time datetime>. k are the columns of created, last used, its age,
 * expires and the seconds until then.
 */
static void key_dates(struct ctx *c, struct tvars *v, const PGresult *r, int i, const int k[5])
{
	const char *created = col(r, i, k[0]), *used = col(r, i, k[1]), *expires = col(r, i, k[3]);

	tvars_set(v, "created_iso", created);
	tvars_set(v, "created", created ? date_words(c->arena, created) : NULL);
	if (used != NULL) {
		tvars_set(v, "last_used_iso", used);
		tvars_set(v, "last_used", ago_words(c->arena, num(col(r, i, k[2]))));
	}
	if (expires != NULL) {
		long left = 0;

		if (col(r, i, k[4]) != NULL && parse_long(col(r, i, k[4]), -(1L << 50), 1L << 50, &left) != 0)
			left = 0;
		tvars_set(v, "expires_iso", expires);
		tvars_set(v, "expires_on", date_words(c->arena, expires));
		if (left > 0)
			tvars_set(v, "expires", until_words(c->arena, left));
	}
}

/* s as a JSON string literal. */
static const char *json_string(struct ctx *c, const char *s)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	buf_json(&b, s);
	out = arena_strdup(c->arena, b.data);
	buf_free(&b);
	return out;
}

/* Who created a key, in words: a person no longer known is "a former user". */
static const char *or_former(const char *who)
{
	return who != NULL ? who : "a former user";
}

/* 1 when the person may revoke a key created by created_by (NULL: unknown). */
static int may_revoke(struct ctx *c, const char *created_by)
{
	if (rbac_can(c->ws->role, PERM_MANAGE_TEAM))
		return 1;
	return created_by != NULL && strcmp(created_by, c->session->user_id) == 0;
}

/* The full key just created, shown once: from the short-lived cookie, checked by its hash. */
static int fill_new_key(struct ctx *c)
{
	const char *v = app_get_cookie(c, NEW_KEY_COOKIE), *params[2];
	char hash[65];
	size_t len;
	PGresult *r;

	if (v == NULL)
		return 0;
	/* Shown at most once, whatever happens below. */
	app_set_cookie(c, NEW_KEY_COOKIE, "", 0);
	len = strlen(v);
	if (len != strlen(KEY_PREFIX) + 43 || strncmp(v, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
		return 0;
	for (const char *p = v + strlen(KEY_PREFIX); *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	crypto_sha256_hex(v, len, hash);
	params[0] = c->ws->id;
	params[1] = hash;
	r = db_exec(c, "apikeys_shown", 2, params, NULL);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		tvars_set(c->vars, "new_key", v);
		tvars_set(c->vars, "new_key_name", PQgetvalue(r, 0, 0));
		if (!PQgetisnull(r, 0, 1)) {
			tvars_set(c->vars, "new_key_expires_iso", PQgetvalue(r, 0, 1));
			tvars_set(c->vars, "new_key_expires_on", date_words(c->arena, PQgetvalue(r, 0, 1)));
			tvars_set(c->vars, "new_key_expires", until_words(c->arena, num(PQgetvalue(r, 0, 2))));
		}
	}
	PQclear(r);
	return 0;
}

/* The page with status: the key just made (once), usage, the create form, the list. */
static void render_keys(struct ctx *c, int status)
{
	const char *params[1] = { c->ws->id };
	PGresult *r;
	int n;

	if (strcmp(c->req->method, "GET") == 0 && fill_new_key(c) != 0)
		return;
	r = db_exec(c, "apikeys_usage", 1, params, NULL);
	if (r == NULL)
		return;
	if (PQntuples(r) == 1) {
		tvars_set(c->vars, "keys_used", PQgetvalue(r, 0, 0));
		if (!PQgetisnull(r, 0, 1)) {
			tvars_set(c->vars, "keys_limit", PQgetvalue(r, 0, 1));
			tvars_set_bool(c->vars, "keys_full", num(PQgetvalue(r, 0, 0)) >= num(PQgetvalue(r, 0, 1)));
		}
	}
	PQclear(r);
	r = db_exec(c, "apikeys_list", 1, params, NULL);
	if (r == NULL)
		return;
	n = PQntuples(r);
	for (int i = 0; i < n && i < LIST_MAX; i++) {
		static const int dates[5] = { L_CREATED, L_LAST_USED, L_LAST_USED_AGE, L_EXPIRES,
		                              L_EXPIRES_IN };
		struct tvars *row = tvars_loop_add(c->vars, "keys");
		const char *state = PQgetvalue(r, i, L_STATE), *revoked = col(r, i, L_REVOKED);

		tvars_set(row, "id", PQgetvalue(r, i, L_ID));
		tvars_set(row, "name", PQgetvalue(r, i, L_NAME));
		tvars_set(row, "prefix", PQgetvalue(r, i, L_PREFIX));
		tvars_set(row, "created_by", or_former(col(r, i, L_CREATOR)));
		key_dates(c, row, r, i, dates);
		if (strcmp(state, "active") != 0)
			tvars_set(row, "expires", "");       /* the date alone: it no longer counts down */
		if (revoked != NULL) {
			tvars_set(row, "revoked_iso", revoked);
			tvars_set(row, "revoked", date_words(c->arena, revoked));
		}
		tvars_set(row, "status", state);
		tvars_set_bool(row, "can_revoke", strcmp(state, "revoked") != 0 &&
		               may_revoke(c, col(r, i, L_CREATED_BY)));
	}
	tvars_set_bool(c->vars, "more_keys", n > LIST_MAX);
	PQclear(r);
	if (tvars_get(c->vars, "v_expires_in_days") == NULL)
		tvars_set(c->vars, "v_expires_in_days", "90");
	tvars_set(c->vars, "title", "API keys");
	tvars_set(c->vars, "nav", "api-keys");
	tvars_set_bool(c->vars, "can_manage_all", rbac_can(c->ws->role, PERM_MANAGE_TEAM));
	page_render(c, status, "apikeys.tmpl");
}

/* GET /w/{slug}/settings/api-keys: 200 (viewers 403 by the route). */
static void keys_get(struct ctx *c)
{
	render_keys(c, 200);
}

/*
 * POST /w/{slug}/settings/api-keys (name, expires_in_days): a new key; its
 * full value goes to the next page once (a two-minute HttpOnly cookie),
 * only its SHA-256 is stored. 303; 422 invalid name or expiry; 409 the
 * plan's limit of active keys is reached.
 */
static void keys_post(struct ctx *c)
{
	const char *name = NULL, *days = http_field(c->req, C_EXPIRES), *params[6], *limit, *count;
	const char *id, *expires;
	int rc = text_name(c->arena, c->req->fields[C_NAME].raw, NAME_MAX_CHARS, &name);
	char token[44], key[64], hash[65], prefix[24];
	PGresult *r;

	if (rc != TEXT_OK || http_field_invalid(c->req, C_EXPIRES)) {
		form_keep(c);
		if (rc != TEXT_OK)
			form_error(c, "name", rc == TEXT_EMPTY ? "Give the key a name, e.g. where it is used."
			           : rc == TEXT_TOO_LONG ? "Use at most 100 characters."
			           : "Use one line of text without control characters.");
		if (http_field_invalid(c->req, C_EXPIRES))
			form_error(c, "expires_in_days", "Choose 30, 90 or 365 days, or no expiry.");
		render_keys(c, 422);
		return;
	}
	params[0] = c->ws->id;
	r = db_exec(c, "apikeys_limit_lock", 1, params, NULL);
	if (r == NULL)
		return;
	limit = PQntuples(r) == 1 ? db_value(c, r, 0, 0) : NULL;
	PQclear(r);
	if (db_exec_value(c, "apikeys_active_count", 1, params, &count) != 0)
		return;
	if (limit != NULL && num(count) >= num(limit)) {
		form_keep(c);
		tvars_set(c->vars, "action_error", arena_printf(c->arena,
		          "Your plan allows %ld active API keys and all are in use. Revoke a key you no "
		          "longer need first%s", num(limit), c->ws->role == ROLE_OWNER
		          ? ", or move to a larger plan on the billing page." : "."));
		render_keys(c, 409);
		return;
	}
	if (crypto_token(token) != 0) {
		c->db_failed = 1;
		return;
	}
	snprintf(key, sizeof(key), "%s%s", KEY_PREFIX, token);
	snprintf(prefix, sizeof(prefix), "%s%.*s", KEY_PREFIX, SHOWN_CHARS, token);
	crypto_sha256_hex(key, strlen(key), hash);
	params[1] = name;
	params[2] = prefix;
	params[3] = hash;
	params[4] = c->session->user_id;
	params[5] = days == NULL || strcmp(days, "none") == 0 ? NULL : days;
	r = db_exec(c, "apikeys_insert", 6, params, NULL);
	if (r == NULL)
		return;
	id = db_value(c, r, 0, 0);
	expires = db_value(c, r, 0, 1);
	PQclear(r);
	if (audit_log(c, "api_key.created", "api_key", id,
	              json_object(c->arena, "name", name, "key_prefix", prefix,
	                          "expires_at", expires, NULL)) != 0)
		return;
	app_set_cookie(c, NEW_KEY_COOKIE, key, 120);
	page_redirect_notice(c, keys_path(c), arena_printf(c->arena, "API key %s created.", name));
}

/*
 * GET and POST /w/{slug}/settings/api-keys/{id}/revoke: members their own
 * keys, owners and admins any. Without confirm=1 the confirmation page
 * (200); with it the key stops working (303). 404 an id not in this
 * workspace; 403 someone else's key for a member; 409 already revoked.
 */
static void revoke(struct ctx *c)
{
	static const int dates[5] = { O_CREATED, O_LAST_USED, O_LAST_USED_AGE, O_EXPIRES,
	                              O_EXPIRES_IN };
	const char *id = route_uuid(c, 1), *params[3], *key_name, *prefix, *created_by, *state, *at;
	struct tvars *facts;
	PGresult *r;

	back_to_keys(c);
	if (id == NULL) {
		page_error(c, 404, "There is no such API key in this workspace.");
		return;
	}
	params[0] = id;
	params[1] = c->ws->id;
	r = db_exec(c, "apikeys_one", 2, params, NULL);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		page_error(c, 404, "There is no such API key in this workspace.");
		return;
	}
	key_name = db_value(c, r, 0, O_NAME);
	prefix = db_value(c, r, 0, O_PREFIX);
	created_by = db_value(c, r, 0, O_CREATED_BY);
	state = db_value(c, r, 0, O_STATE);
	/* The facts of the confirmation page, in a scope of their own (a one-row loop). */
	facts = tvars_loop_add(c->vars, "key");
	tvars_set(facts, "created_by", or_former(col(r, 0, O_CREATOR)));
	key_dates(c, facts, r, 0, dates);
	PQclear(r);
	if (!may_revoke(c, created_by)) {
		page_error(c, 403, "Members can revoke only the keys they created; an owner or admin "
		           "can revoke any key.");
		return;
	}
	if (strcmp(state, "revoked") == 0) {
		tvars_set(c->vars, "action_error", arena_printf(c->arena, "The key %s is already revoked; "
		          "a revoked key cannot be used or revived.", key_name));
		render_keys(c, 409);
		return;
	}
	if (strcmp(c->req->method, "POST") != 0 || http_field(c->req, R_CONFIRM) == NULL) {
		tvars_set(c->vars, "title", "Revoke API key");
		tvars_set(c->vars, "nav", "api-keys");
		tvars_set(c->vars, "key_id", id);
		tvars_set(c->vars, "key_name", key_name);
		tvars_set(c->vars, "key_prefix", prefix);
		tvars_set_bool(c->vars, "key_expired", strcmp(state, "expired") == 0);
		tvars_set(c->vars, "key_status", strcmp(state, "expired") == 0 ? "Expired" : "Active");
		page_render(c, 200, "apikeys_revoke.tmpl");
		return;
	}
	params[2] = c->session->user_id;
	if (db_exec_value(c, "apikeys_revoke", 3, params, &at) != 0)
		return;
	if (audit_log(c, "api_key.revoked", "api_key", id,
	              arena_printf(c->arena, "{\"name\":%s,\"old\":%s,\"new\":%s}",
	                           json_string(c, key_name),
	                           json_object(c->arena, "status", state, "revoked_at", NULL, NULL),
	                           json_object(c->arena, "status", "revoked", "revoked_at", at, NULL))) != 0)
		return;
	page_redirect_notice(c, keys_path(c), arena_printf(c->arena,
	                     "The key %s has been revoked; it no longer works.", key_name));
}

static const struct route routes[] = {
	{ "GET", "/w/*/settings/api-keys", keys_get, ROUTE_WORKSPACE, PERM_VIEW_API_KEYS, NULL, 0 },
	{ "POST", "/w/*/settings/api-keys", keys_post, ROUTE_WORKSPACE, PERM_CREATE_API_KEYS,
	  create_fields, C__MAX },
	{ "GET", "/w/*/settings/api-keys/*/revoke", revoke, ROUTE_WORKSPACE, PERM_VIEW_API_KEYS,
	  revoke_fields, R__MAX },
	{ "POST", "/w/*/settings/api-keys/*/revoke", revoke, ROUTE_WORKSPACE, PERM_VIEW_API_KEYS,
	  revoke_fields, R__MAX },
};

static const char *const templates[] = { "apikeys.tmpl", "apikeys_revoke.tmpl", NULL };

static const struct page page = {
	"apikeys", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, NULL,
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &page);
}
