/* app.c: one request's life: parse, route, session, CSRF, permission, transaction, render */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "crypto.h"
#include "db.h"
#include "server.h"

#define MAX_TEMPLATES 32

struct config app_config;

static const struct page *the_page;
static struct arena *req_arena;
static int fatal_error;
static struct {
	const char *name;
	struct tmpl *t;
} templates[MAX_TEMPLATES];
static size_t ntemplates;
static int lazy_templates;     /* plain CGI: parse a template when first rendered */

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : fallback;
}

static long env_long(const char *name, long fallback, long min, long max)
{
	const char *v = getenv(name);
	long n;

	if (v == NULL || *v == '\0')
		return fallback;
	if (parse_long(v, min, max, &n) != 0) {
		fprintf(stderr, "%s must be a number from %ld to %ld; using %ld\n",
		        name, min, max, fallback);
		return fallback;
	}
	return n;
}

static void config_load(void)
{
	app_config.database_url = env_or("DATABASE_URL",
	    "host=127.0.0.1 port=5433 dbname=settings user=settings_app");
	app_config.templates_dir = env_or("SETTINGS_TEMPLATES", "templates");
	app_config.base_url = env_or("SETTINGS_BASE_URL", NULL);
	app_config.session_idle_seconds = env_long("SESSION_IDLE_SECONDS", 12 * 3600, 1, 30L * 86400);
	app_config.session_absolute_seconds =
	    env_long("SESSION_ABSOLUTE_SECONDS", 7 * 86400, 1, 365L * 86400);
	app_config.login_max_failures = env_long("LOGIN_MAX_FAILURES", 10, 1, 1000000);
	app_config.login_window_seconds = env_long("LOGIN_WINDOW_SECONDS", 900, 1, 86400);
	app_config.login_max_failures_address =
	    env_long("LOGIN_MAX_FAILURES_ADDRESS", 100, 1, 1000000);
	app_config.lock_timeout_ms = env_long("SETTINGS_LOCK_TIMEOUT_MS", 3000, 0, 3600000);
	app_config.statement_timeout_ms = env_long("SETTINGS_STATEMENT_TIMEOUT_MS", 5000, 0, 3600000);
	app_config.bcrypt_cost = (int)env_long("BCRYPT_COST", 11, 4, 16);
	app_config.ws_cache = (int)env_long("SETTINGS_WORKSPACE_CACHE", 1, 0, 1);
}

static int load_template(const char *name);

const struct tmpl *app_template(const char *name)
{
	for (size_t i = 0; i < ntemplates; i++)
		if (strcmp(templates[i].name, name) == 0)
			return templates[i].t;
	/*
	 * A plain CGI process parses only what its one answer shows. A broken
	 * template stops it as it would stop start-up: nothing is answered, and
	 * the open transaction ends with the connection, uncommitted.
	 */
	if (lazy_templates) {
		if (load_template(name) != 0)
			_exit(1);
		return templates[ntemplates - 1].t;
	}
	return NULL;
}

static int load_template(const char *name)
{
	char err[512];

	for (size_t i = 0; i < ntemplates; i++)
		if (strcmp(templates[i].name, name) == 0)
			return 0;
	if (ntemplates == MAX_TEMPLATES) {
		fprintf(stderr, "too many templates\n");
		return -1;
	}
	templates[ntemplates].t = tmpl_load(app_config.templates_dir, name, err, sizeof(err));
	if (templates[ntemplates].t == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	templates[ntemplates].name = name;
	ntemplates++;
	return 0;
}

void app_log(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	char line[1024];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%s] %s\n", c != NULL && c->req->id ? c->req->id : "-", line);
}

/* Cookies: the __Host- prefix (which demands Secure) when the request came over HTTPS. */
static const char *cookie_name(const struct ctx *c, const char *base)
{
	return c->req->https ? arena_printf(c->arena, "__Host-%s", base) : base;
}

static const char *cookie_get(const struct ctx *c, const char *base)
{
	const char *v = http_cookie(c->req, cookie_name(c, base));

	return v;
}

void app_set_cookie(struct ctx *c, const char *base, const char *value, long max_age)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s=%s; Path=/; HttpOnly; SameSite=Lax", cookie_name(c, base), value);
	if (max_age >= 0)
		buf_printf(&b, "; Max-Age=%ld", max_age);
	if (c->req->https)
		buf_puts(&b, "; Secure");
	resp_header(c->resp, "Set-Cookie", b.data);
	buf_free(&b);
}

const char *app_get_cookie(struct ctx *c, const char *base)
{
	return cookie_get(c, base);
}

/* Match path against a pattern with "*" segments; captures go into req. */
static int route_match(struct req *req, const char *pattern)
{
	const char *p = pattern, *s = req->path;

	req->ncapture = 0;
	while (*p != '\0' && *s != '\0') {
		if (*p == '*') {
			const char *end = strchr(s, '/');
			size_t n = end ? (size_t)(end - s) : strlen(s);

			if (n == 0 || req->ncapture == 4)
				return 0;
			req->capture[req->ncapture++] = arena_strndup(req->arena, s, n);
			s += n;
			p++;
		} else if (*p == *s) {
			p++;
			s++;
		} else {
			return 0;
		}
	}
	return *p == '\0' && *s == '\0';
}

/* Workspace switcher rows from "slug\tname\trole" lines (from the session lookup). */
static void fill_switcher(struct ctx *c, const char *lines)
{
	int n = 0;
	char *line, *save = NULL;

	if (lines == NULL)
		return;
	for (line = strtok_r(arena_strdup(c->arena, lines), "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *name = strchr(line, '\t'), *role;
		struct tvars *row;

		if (name == NULL || (role = strchr(name + 1, '\t')) == NULL)
			continue;
		*name++ = '\0';
		*role++ = '\0';
		row = tvars_loop_add(c->vars, "workspaces");
		tvars_set(row, "slug", line);
		tvars_set(row, "name", name);
		tvars_set(row, "role", role);
		tvars_set_bool(row, "current", c->ws != NULL && strcmp(c->ws->slug, line) == 0);
		/* Where an error page sends someone who is lost: their first workspace. */
		if (n == 0) {
			tvars_set(c->vars, "home_slug", line);
			tvars_set(c->vars, "home_name", name);
		}
		n++;
	}
	tvars_set_bool(c->vars, "several_workspaces", n > 1);
}

/* The SHA-256 (hex) of a well-formed session cookie, once per request; NULL without one. */
static const char *session_hash(struct ctx *c)
{
	if (!c->token_hashed) {
		const char *token = cookie_get(c, "session");

		c->token_hashed = 1;
		if (token != NULL && strlen(token) == 43) {
			char *hash = arena_alloc(c->arena, 65);

			crypto_sha256_hex(token, 43, hash);
			c->token_hash = hash;
		}
	}
	return c->token_hash;
}

/*
 * Resolve the session cookie (and, with slug, the membership) in one
 * statement, auth_session(), which also sets app.current_workspace_id for
 * this transaction, which row-level security reads. It goes in one round
 * trip with BEGIN and, with pre, the page's read and COMMIT (with pre but
 * no statement, alone: one implicit transaction, no BEGIN nor COMMIT). It writes
 * nothing: when the activity stamps are due, c->stamp_due says so and
 * handle() writes them after the transaction (session_touch). 0 ok
 * (session may be NULL), -1 on database failure.
 */
static int session_load(struct ctx *c, const char *slug, const struct prefetch *pre)
{
	char idle[24];
	const char *params[3];
	PGresult *r, *res[1];
	int broken, commit, n = pre != NULL && pre->stmt != NULL ? 1 : 0;

	snprintf(idle, sizeof(idle), "%ld", app_config.session_idle_seconds);
	params[0] = session_hash(c);
	params[1] = slug;
	params[2] = idle;
	commit = pre == NULL ? 0 : n > 0 ? 1 : 2;
	r = db_begin_exec(c, "session_context", 3, params, pre, n, commit, res, &broken);
	if (r == NULL && broken) {
		/*
		 * The server restarted since our last request: reconnect once. The
		 * failed attempt marked its transaction for rollback; the new one on
		 * the fresh connection starts clean.
		 */
		db_close();
		c->tx = TX_AUTO;
		if (db_ensure() == 0)
			r = db_begin_exec(c, "session_context", 3, params, pre, n, commit, res, &broken);
	}
	if (r == NULL)
		return -1;
	if (n > 0)
		c->prefetched = res[0];
	if (PQntuples(r) == 1) {
		struct session *s = arena_alloc(c->arena, sizeof(*s));

		s->id = db_value(c, r, 0, 0);
		s->user_id = db_value(c, r, 0, 1);
		s->email = db_value(c, r, 0, 2);
		s->name = db_value(c, r, 0, 3);
		s->csrf = db_value(c, r, 0, 4);
		c->session = s;
		if (!PQgetisnull(r, 0, 5)) {
			struct workspace *w = arena_alloc(c->arena, sizeof(*w));

			w->id = db_value(c, r, 0, 5);
			w->name = db_value(c, r, 0, 6);
			w->slug = db_value(c, r, 0, 7);
			w->member_id = db_value(c, r, 0, 8);
			w->role = role_parse(db_value(c, r, 0, 9));
			w->version = db_value(c, r, 0, 12);
			c->ws = w->role != ROLE_NONE ? w : NULL;
		}
		fill_switcher(c, db_value(c, r, 0, 10));
		c->stamp_due = strcmp(PQgetvalue(r, 0, 11), "t") == 0;
	}
	PQclear(r);
	return 0;
}

/*
 * The activity stamps (the session's last_seen_at, the membership's
 * last_active_at), at most once a minute, after the request's transaction
 * has ended: a stamp never holds a row while the request waits for
 * another, and a GET that is not due writes nothing. Best effort.
 */
static void session_touch(struct ctx *c)
{
	const char *params[2];
	PGresult *r;

	if (!c->stamp_due || c->session == NULL || c->db_failed || db_conn() == NULL ||
	    PQtransactionStatus(db_conn()) != PQTRANS_IDLE)
		return;
	params[0] = c->session->id;
	params[1] = c->ws != NULL ? c->ws->member_id : NULL;
	r = db_run("session_touch", 2, params);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		app_log(c, "sql session_touch: %s", PQresultErrorMessage(r));
	PQclear(r);
}

/* Start a session for user_id: new token, new CSRF value, cookie. 0 ok. */
int session_start(struct ctx *c, const char *user_id)
{
	char token[44], csrf[44], hash[65], absolute[24];
	const char *params[6];
	PGresult *r;

	if (crypto_token(token) != 0 || crypto_token(csrf) != 0)
		return -1;
	crypto_sha256_hex(token, strlen(token), hash);
	snprintf(absolute, sizeof(absolute), "%ld", app_config.session_absolute_seconds);
	params[0] = hash;
	params[1] = user_id;
	params[2] = csrf;
	params[3] = absolute;
	params[4] = c->req->user_agent;
	params[5] = app_client_ip(c);
	r = db_exec(c, "session_create", 6, params, NULL);
	if (r == NULL)
		return -1;
	PQclear(r);
	/* The old session, if any, ends: a sign-in always rotates the token. */
	if (c->session != NULL) {
		params[0] = c->session->id;
		r = db_exec(c, "session_delete", 1, params, NULL);
		PQclear(r);
	}
	app_set_cookie(c, "session", token, -1);
	return 0;
}

/* End the current session server-side and clear the cookie. */
void session_end(struct ctx *c)
{
	const char *params[1];

	if (c->session != NULL) {
		params[0] = c->session->id;
		PQclear(db_exec(c, "session_delete", 1, params, NULL));
		c->session = NULL;
	}
	app_set_cookie(c, "session", "", 0);
}

/* The cross-site check (http_same_origin) against this request's own origin. */
static int origin_ok(const struct ctx *c)
{
	const char *own = NULL;

	if (c->req->host != NULL)
		own = arena_printf(c->arena, "%s://%s", c->req->https ? "https" : "http", c->req->host);
	return http_same_origin(c->req->origin, c->req->fetch_site, own);
}

static void fill_layout(struct ctx *c)
{
	struct tvars *v = c->vars;
	const char *notice = cookie_get(c, "notice");

	tvars_set(v, "csrf_token", c->csrf);
	if (c->session != NULL) {
		tvars_set(v, "signed_in", "1");
		tvars_set(v, "user_name", c->session->name ? c->session->name : c->session->email);
		tvars_set(v, "user_email", c->session->email);
	}
	if (c->ws != NULL) {
		tvars_set(v, "ws_slug", c->ws->slug);
		tvars_set(v, "ws_name", c->ws->name);
		tvars_set(v, "ws_role", role_name(c->ws->role));
		tvars_set_bool(v, "can_view_billing", rbac_can(c->ws->role, PERM_VIEW_BILLING));
		tvars_set_bool(v, "can_manage_team", rbac_can(c->ws->role, PERM_MANAGE_TEAM));
		tvars_set_bool(v, "can_manage_integrations",
		               rbac_can(c->ws->role, PERM_MANAGE_INTEGRATIONS));
		tvars_set_bool(v, "can_view_api_keys", rbac_can(c->ws->role, PERM_VIEW_API_KEYS));
		/* The audit log: owners and admins, as the team's management. */
		tvars_set_bool(v, "can_view_audit", rbac_can(c->ws->role, PERM_MANAGE_TEAM));
	}
	if (notice != NULL && strcmp(c->req->method, "GET") == 0) {
		const char *text = http_decode(c->arena, notice, strlen(notice), 0);

		if (text != NULL && *text != '\0')
			tvars_set(v, "notice", text);
		app_set_cookie(c, "notice", "", 0);
	}
}

void page_render(struct ctx *c, int status, const char *name)
{
	const struct tmpl *t = app_template(name);

	if (t == NULL) {
		app_log(c, "template %s not loaded", name);
		status = 500;
		t = app_template("error.tmpl");
		tvars_set(c->vars, "title", "Something went wrong");
		tvars_set(c->vars, "message", "This page could not be shown.");
	}
	tvars_set_int(c->vars, "status", status);
	buf_reset(&c->resp->body);
	c->resp->status = status;
	c->resp->content_type = "text/html; charset=utf-8";
	tmpl_render(t, c->vars, &c->resp->body);
}

/* What went wrong, in words, for the heading of an error page. */
static const char *error_title(int status)
{
	static const struct { int status; const char *title; } titles[] = {
		{ 400, "This request could not be understood" },
		{ 403, "This action is not allowed" },
		{ 404, "Page not found" },
		{ 405, "This address does not accept that request" },
		{ 409, "This change is not possible" },
		{ 410, "This link is no longer valid" },
		{ 413, "The form is too large" },
		{ 415, "This kind of form is not accepted" },
		{ 422, "Some fields need attention" },
		{ 429, "Too many attempts" },
		{ 500, "Something went wrong" },
		{ 503, "Temporarily unavailable" },
	};

	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++)
		if (titles[i].status == status)
			return titles[i].title;
	return http_reason(status);
}

void page_error(struct ctx *c, int status, const char *message)
{
	tvars_set(c->vars, "title", error_title(status));
	tvars_set(c->vars, "reason", http_reason(status));
	tvars_set(c->vars, "message", message);
	page_render(c, status, "error.tmpl");
}

int app_stream_begin(struct ctx *c, const char *content_type)
{
	struct buf head;
	int rc;

	c->resp->status = 200;
	c->resp->content_type = content_type;
	c->resp->streamed = 1;
	buf_init(&head);
	resp_serialise(c->resp, &head);
	rc = server_write(head.data, head.len);
	buf_free(&head);
	return rc;
}

int app_stream_write(struct ctx *c, struct buf *part)
{
	int rc = server_write(part->data, part->len);

	(void)c;
	buf_reset(part);
	return rc;
}

void page_redirect_notice(struct ctx *c, const char *location, const char *notice)
{
	if (notice != NULL) {
		struct buf b;

		buf_init(&b);
		buf_url(&b, notice);
		app_set_cookie(c, "notice", b.data, 60);
		buf_free(&b);
	}
	resp_redirect(c->resp, location);
}

int require_perm(struct ctx *c, enum perm perm)
{
	if (c->ws != NULL && rbac_can(c->ws->role, perm))
		return 1;
	page_error(c, 403, arena_concat(c->arena, "This needs the ", rbac_roles_for(perm),
	           " role in this workspace; you are ",
	           c->ws ? with_article(c->arena, role_name(c->ws->role)) : "not a member",
	           ".", NULL));
	return 0;
}

void form_error(struct ctx *c, const char *field, const char *message)
{
	tvars_set(c->vars, arena_printf(c->arena, "err_%s", field), message);
	tvars_set(c->vars, "has_errors", "1");
}

void form_keep(struct ctx *c)
{
	for (size_t k = 0; k < c->req->nspecs; k++)
		if (c->req->fields[k].raw != NULL)
			tvars_set(c->vars, arena_printf(c->arena, "v_%s", c->req->specs[k].name),
			          c->req->fields[k].raw);
}

/* Only well-formed addresses go into the inet column. */
static const char *client_ip(const struct ctx *c)
{
	const char *ip = c->req->remote_addr;

	if (ip == NULL || *ip == '\0' || strlen(ip) > 45)
		return NULL;
	for (const char *p = ip; *p; p++)
		if (!strchr("0123456789abcdefABCDEF.:", *p))
			return NULL;
	return ip;
}

const char *route_uuid(struct ctx *c, size_t i)
{
	struct field f;

	if (i >= c->req->ncapture)
		return NULL;
	memset(&f, 0, sizeof(f));
	f.raw = c->req->capture[i];
	f.value = arena_strdup(c->arena, f.raw);
	return valid_uuid(&f) ? f.value : NULL;
}

const char *app_client_ip(struct ctx *c)
{
	return client_ip(c);
}

int audit_log(struct ctx *c, const char *action, const char *resource_type,
              const char *resource_id, const char *changes_json)
{
	const char *params[8];
	PGresult *r;

	params[0] = c->ws ? c->ws->id : NULL;
	params[1] = c->session ? c->session->user_id : NULL;
	params[2] = action;
	params[3] = resource_type;
	params[4] = resource_id;
	params[5] = changes_json;
	params[6] = client_ip(c);
	params[7] = c->req->user_agent;
	r = db_exec(c, "audit_insert", 8, params, NULL);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* A fresh pre-session CSRF value when the browser has none. */
static void ensure_presession_csrf(struct ctx *c)
{
	char token[44];

	c->csrf = cookie_get(c, "csrf");
	if (c->csrf != NULL && strlen(c->csrf) == 43)
		return;
	if (crypto_token(token) != 0)
		return;
	c->csrf = arena_strdup(c->arena, token);
	app_set_cookie(c, "csrf", token, -1);
}

static void redirect_to_login(struct ctx *c)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "/login?next=");
	buf_url(&b, c->req->path);
	if (c->req->query[0] != '\0') {
		buf_url(&b, "?");
		buf_url(&b, c->req->query);
	}
	resp_redirect(c->resp, b.data);
	buf_free(&b);
}

/*
 * 404 for an address no route knows. Someone signed in still gets their
 * layout and a way back to their own workspace (error.tmpl), so the session
 * is looked up here too; the transaction it opens is rolled back.
 */
static void not_found(struct ctx *c)
{
	if (db_ensure() == 0 && session_load(c, NULL, NULL) == 0 && c->session != NULL) {
		const char *params[1] = { c->session->user_id };
		PGresult *r = db_exec(c, "home_workspace", 1, params, NULL);

		if (r != NULL && PQntuples(r) == 1) {
			tvars_set(c->vars, "home_slug", PQgetvalue(r, 0, 0));
			tvars_set(c->vars, "home_name", PQgetvalue(r, 0, 1));
		}
		PQclear(r);
		c->csrf = c->session->csrf;
		c->resp->no_store = 1;
		fill_layout(c);
	}
	page_error(c, 404, "There is no page at this address.");
}

static void dispatch(struct ctx *c)
{
	const struct route *route = NULL;
	int wrong_method = 0, is_get;
	const char *method = c->req->method;

	is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	for (size_t i = 0; i < the_page->nroutes; i++) {
		const struct route *r = &the_page->routes[i];

		if (!route_match(c->req, r->pattern))
			continue;
		if (strcmp(r->method, is_get ? "GET" : method) == 0) {
			route = r;
			break;
		}
		wrong_method = 1;
	}
	if (route == NULL) {
		if (wrong_method) {
			page_error(c, 405, "This address does not accept that kind of request.");
			return;
		}
		not_found(c);
		return;
	}
	http_validate(c->req, route->fields, route->nfields);

	if (!(route->flags & ROUTE_NO_DB_TX)) {
		int rc = db_ensure();

		if (rc == -2)
			fatal_error = 1;
		struct prefetch pre;
		int use_pre = 0;

		if (route->prefetch != NULL && is_get) {
			memset(&pre, 0, sizeof(pre));
			use_pre = route->prefetch(c, &pre);
		}
		/*
		 * One round trip: BEGIN, the session, the membership, the switcher
		 * (and for a prefetching GET, the page's read and COMMIT too).
		 */
		if (rc != 0 ||
		    session_load(c, (route->flags & ROUTE_WORKSPACE) ? c->req->capture[0] : NULL,
		                 use_pre ? &pre : NULL) != 0 ||
		    PQtransactionStatus(db_conn()) != (use_pre ? PQTRANS_IDLE : PQTRANS_INTRANS)) {
			c->db_failed = 1;
			return;
		}
	}
	if (route->flags & (ROUTE_SESSION | ROUTE_WORKSPACE)) {
		if (c->session == NULL) {
			redirect_to_login(c);
			return;
		}
		c->resp->no_store = 1;
	}
	if (c->session != NULL) {
		c->csrf = c->session->csrf;
		c->resp->no_store = 1;
	} else if (!(route->flags & ROUTE_NO_CSRF)) {
		ensure_presession_csrf(c);
	}
	/* The layout knows who is signed in, whatever the answer below. */
	fill_layout(c);
	if (route->flags & ROUTE_WORKSPACE && c->ws == NULL) {
		page_error(c, 404, "There is no workspace at this address, or you are not a member of it.");
		return;
	}
	if (!is_get && !(route->flags & ROUTE_NO_CSRF)) {
		const char *sent = http_param(c->req, "csrf_token");
		int origin = origin_ok(c);

		if (!origin || sent == NULL || c->csrf == NULL || !crypto_equal(sent, c->csrf)) {
			app_log(c, "refused POST: %s", !origin ? "foreign Origin" :
			        sent == NULL ? "no CSRF token" : "CSRF token mismatch");
			page_error(c, 403, "This form has expired or did not come from this site. "
			           "Go back, reload the page and try again.");
			return;
		}
	}
	if (route->perm != PERM_NONE && !require_perm(c, route->perm))
		return;
	route->handler(c);
}

static int worker_init(void)
{
	req_arena = arena_new();
	if (the_page->init != NULL && the_page->init() != 0)
		return 1;
	if (db_ensure() == -2)
		return 1;
	return 0;
}

/*
 * The access line, "[id] METHOD /path status Nms", in one write to stderr
 * (the FastCGI server's log, Apache's error log under CGI), without stdio's
 * formatting on every request.
 */
static void access_log(const char *id, const char *method, const char *path, int status,
                       int64_t ms)
{
	char st[24], el[24];
	const char *line;

	fmt_ll(st, status);
	fmt_ll(el, (long long)ms);
	line = arena_concat(req_arena, "[", id, "] ", method ? method : "-", " ", path ? path : "-",
	                    " ", st, " ", el, "ms\n", (const char *)NULL);
	if (write(STDERR_FILENO, line, strlen(line)) < 0) {
		/* nowhere left to say it */
	}
}

static void handle(char **envp, http_reader read, void *read_ctx, struct buf *out)
{
	struct req req;
	struct resp resp;
	struct ctx c;
	int64_t t0 = now_ms();
	unsigned char idb[6];
	char id[13];
	int rc;

	arena_reset(req_arena);
	resp_init(&resp);
	memset(&c, 0, sizeof(c));
	rc = http_parse(&req, req_arena, envp, read, read_ctx);
	crypto_random(idb, sizeof(idb));
	for (size_t i = 0; i < sizeof(idb); i++) {
		id[2 * i] = "0123456789abcdef"[idb[i] >> 4];
		id[2 * i + 1] = "0123456789abcdef"[idb[i] & 15];
	}
	id[2 * sizeof(idb)] = '\0';
	req.id = id;
	c.req = &req;
	c.resp = &resp;
	resp.https = req.https;
	c.arena = req_arena;
	c.vars = tvars_new(req_arena);
	if (rc != 0)
		page_error(&c, rc, rc == 413 ? "The form sent was too large."
		                             : "The request could not be understood.");
	else
		dispatch(&c);
	PQclear(c.prefetched);
	c.prefetched = NULL;
	if (db_conn() != NULL && PQtransactionStatus(db_conn()) != PQTRANS_IDLE) {
		int commit = !c.db_failed && c.tx != TX_ROLLBACK &&
		             (c.tx == TX_COMMIT || resp.status < 400);

		if (commit && db_commit(&c) != 0)
			c.db_failed = 1;
		else if (!commit)
			db_command(&c, "ROLLBACK");
		/* A success is only ever sent for work that was committed. */
		if (!commit && resp.status < 400)
			c.db_failed = 1;
	}
	if (c.db_failed && resp.streamed) {
		/* Too late for an error page: the answer ends short, the log says why. */
		app_log(&c, "a streamed answer ended early: database error");
		if (db_conn() != NULL && PQstatus(db_conn()) != CONNECTION_OK)
			db_close();
	} else if (c.db_failed) {
		/* The connection may be gone; drop it so the next request reconnects. */
		if (db_conn() != NULL && PQstatus(db_conn()) != CONNECTION_OK)
			db_close();
		resp_begin(&resp, 503, NULL);
		resp.no_store = 1;
		c.session = NULL;
		c.ws = NULL;
		c.vars = tvars_new(req_arena);
		page_error(&c, 503, "The service is temporarily unavailable. Please try again in a moment.");
	}
	session_touch(&c);
	if (strcmp(req.method, "HEAD") == 0)
		buf_reset(&resp.body);
	if (!resp.streamed)
		resp_serialise(&resp, out);
	access_log(id, req.method, req.path, resp.status, now_ms() - t0);
	resp_free(&resp);
}

static int worker_fatal(void)
{
	return fatal_error;
}

static void worker_done(void)
{
	db_close();
}

int app_main(int argc, char **argv, const struct page *page)
{
	const char *socket_path = getenv("SETTINGS_SOCKET");
	long workers = env_long("SETTINGS_WORKERS", 2, 1, 64);
	struct server_hooks hooks = { worker_init, handle, worker_fatal, worker_done };
	const char *statements;
	int cgi;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			socket_path = argv[++i];
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			if (parse_long(argv[++i], 1, 64, &workers) != 0) {
				fprintf(stderr, "--workers takes 1 to 64\n");
				return 2;
			}
		} else {
			fprintf(stderr, "usage: %s [--socket PATH] [--workers N]\n", argv[0]);
			return 2;
		}
	}
	the_page = page;
	config_load();
	db_set_statements(page->stmts, page->nstmts);
	/*
	 * A plain CGI process serves one request: it prepares no statements
	 * (SETTINGS_DB_STATEMENTS=unnamed, also what PgBouncer in transaction
	 * pooling needs) and parses only the templates its answer shows.
	 */
	cgi = server_is_cgi(socket_path);
	statements = env_or("SETTINGS_DB_STATEMENTS", cgi ? "unnamed" : "prepared");
	if (strcmp(statements, "unnamed") != 0 && strcmp(statements, "prepared") != 0) {
		fprintf(stderr, "SETTINGS_DB_STATEMENTS must be prepared or unnamed\n");
		return 2;
	}
	app_config.db_unnamed = strcmp(statements, "unnamed") == 0;
	db_set_unnamed(app_config.db_unnamed);
	db_set_one_request(cgi);
	if (cgi) {
		lazy_templates = 1;
		return server_run(NULL, 1, &hooks);
	}
	/* Parse every template before serving anything: a broken one stops start-up. */
	if (load_template("error.tmpl") != 0)
		return 1;
	for (const char *const *t = page->templates; t != NULL && *t != NULL; t++)
		if (load_template(*t) != 0)
			return 1;
	return server_run(socket_path, (int)workers, &hooks);
}
