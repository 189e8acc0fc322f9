/* integrations.c: the integrations page: list, forms, toggle, delete, test event, key rotation */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "integrations.h"
#include "integ_deliver.h"
#include "integ_net.h"
#include "db.h"
#include "wscache.h"

/* The key ring for secrets at rest (SETTINGS_CREDENTIALS_KEYS), parsed once per worker. */
struct keyring *ring;

/* Integration types, in the order the page lists them. */
const char *const type_names[T__MAX + 1] = {
	"slack", "pagerduty", "webhook", "sentry", "datadog", "custom", NULL,
};
const char *const type_labels[T__MAX] = {
	"Slack", "PagerDuty", "Webhook", "Sentry", "Datadog", "Custom",
};
const char *const type_blurbs[T__MAX] = {
	"Post alerts to a Slack channel.",
	"Open PagerDuty incidents through the Events API.",
	"POST or PUT a signed JSON event to your HTTPS endpoint.",
	"Send agent errors and traces to a Sentry project.",
	"Send agent metrics and events to Datadog.",
	"Your own HTTPS endpoint; works like a webhook.",
};



/* The enum itype of a type name, -1 when unknown. */
int type_index(const char *name)
{
	for (int t = 0; t < T__MAX; t++)
		if (name != NULL && strcmp(type_names[t], name) == 0)
			return t;
	return -1;
}

/* Webhook and custom integrations share their fields, the test event and the plan limit. */
int is_webhook_like(int t)
{
	return t == T_WEBHOOK || t == T_CUSTOM;
}

/* SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1: http and private targets allowed (development, tests). */
int allow_private(void)
{
	const char *v = getenv("SETTINGS_ALLOW_PRIVATE_WEBHOOKS");

	return v != NULL && strcmp(v, "1") == 0;
}

/* A new random (version 4) UUID. 0 ok. */
int new_uuid(char out[37])
{
	unsigned char b[16];

	if (crypto_random(b, sizeof(b)) != 0)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
	         b[12], b[13], b[14], b[15]);
	return 0;
}

/* "/w/<slug>/settings/integrations", where every action returns to. */
const char *list_path(struct ctx *c)
{
	struct buf b;
	const char *p;

	buf_init(&b);
	buf_puts(&b, "/w/");
	buf_url(&b, c->ws->slug);
	buf_puts(&b, "/settings/integrations");
	p = arena_strdup(c->arena, b.data);
	buf_free(&b);
	return p;
}

/* An error page whose link leads back to the integrations, not the team page. */
void integ_error(struct ctx *c, int status, const char *message)
{
	tvars_set(c->vars, "back_path", list_path(c));
	tvars_set(c->vars, "back_label", "Back to the integrations");
	page_error(c, status, message);
}

/* "1,247" */
const char *count_text(struct ctx *c, const char *digits)
{
	size_t len = digits ? strlen(digits) : 0, o = 0;
	char *out;

	if (len == 0)
		return "0";
	out = arena_alloc(c->arena, len + len / 3 + 1);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0 && digits[0] != '-')
			out[o++] = ',';
		out[o++] = digits[i];
	}
	return out;
}

/* "5 minutes ago", "in 2 days", "just now" for an age in seconds (negative: to come),
 * in the words every page uses (util.c). */
const char *relative_time(struct ctx *c, long age)
{
	if (age > -60)
		return ago_words(c->arena, age < 0 ? 0 : age);
	return until_words(c->arena, -age);
}

/*
 * Seconds since the rows being drawn were read: not 0 only while the list
 * draws rows this worker kept (wscache.h), whose TS() ages are that old.
 */
static long rows_age;

/* prefix_iso, prefix_abs ("31 January 2025, 14:05 UTC") and prefix_rel from SQL's TS() columns. */
void set_time(struct ctx *c, struct tvars *v, const char *prefix, const char *iso,
                     const char *age)
{
	long secs = 0;

	if (iso == NULL || strlen(iso) < 16)
		return;
	parse_long(age, -(1L << 40), 1L << 40, &secs);
	secs += rows_age;
	tvars_set(v, arena_printf(c->arena, "%s_iso", prefix), iso);
	tvars_set(v, arena_printf(c->arena, "%s_abs", prefix), datetime_words(c->arena, iso));
	tvars_set(v, arena_printf(c->arena, "%s_rel", prefix), relative_time(c, secs));
}

/* Read one integration of this workspace (locked for update when lock). 0 found, -1 not. */
int load_one(struct ctx *c, const char *id, int lock, struct integ *it)
{
	const char *params[2] = { id, c->ws->id };
	PGresult *r;

	memset(it, 0, sizeof(*it));
	if (id == NULL)
		return -1;
	r = db_exec(c, lock ? "integ_get_locked" : "integ_get", 2, params, NULL);
	if (r == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return -1;
	}
	it->id = db_value(c, r, 0, R_ID);
	it->type = db_value(c, r, 0, R_TYPE);
	it->name = db_value(c, r, 0, R_NAME);
	it->enabled = strcmp(PQgetvalue(r, 0, R_ENABLED), "t") == 0;
	it->rate = db_value(c, r, 0, R_RATE);
	it->severity = db_value(c, r, 0, R_SEVERITY);
	it->retries = db_value(c, r, 0, R_RETRIES);
	it->backoff = db_value(c, r, 0, R_BACKOFF);
	it->creds = db_value(c, r, 0, R_CREDS);
	it->key_id = db_value(c, r, 0, R_KEY_ID);
	it->url = db_value(c, r, 0, R_URL);
	it->method = db_value(c, r, 0, R_METHOD);
	it->auth = db_value(c, r, 0, R_AUTH);
	it->timeout = db_value(c, r, 0, R_TIMEOUT);
	it->snapshot = db_value(c, r, 0, R_SNAPSHOT);
	it->channel = db_value(c, r, 0, R_CHANNEL);
	it->t = (enum itype)type_index(it->type);
	PQclear(r);
	return (int)it->t >= 0 ? 0 : -1;
}

/* Decrypt it's secrets into s. 0 ok (also when none are stored), -1 when they cannot be read. */
int open_secrets(struct ctx *c, const struct integ *it, struct integ_secrets *s)
{
	memset(s, 0, sizeof(*s));
	if (it->creds == NULL)
		return 0;
	if (integ_secrets_decrypt(ring, it->key_id, it->creds, c->ws->id, it->id, s) != 0) {
		app_log(c, "integration %s: stored credentials cannot be decrypted with key \"%s\" "
		        "(is it in SETTINGS_CREDENTIALS_KEYS?)", it->id, it->key_id ? it->key_id : "-");
		return -1;
	}
	return 0;
}

/* 503: the stored secrets do not open with this key ring (logged with the key id). */
void credentials_unreadable(struct ctx *c)
{
	integ_error(c, 503, "The stored secrets of this integration cannot be read with the "
	           "configured encryption keys. Ask the operator to restore the missing key.");
}

/* Who set which secret when, for one integration (id) or the whole workspace (NULL). */
PGresult *secret_meta(struct ctx *c, const char *id)
{
	const char *params[2] = { c->ws->id, id };

	return db_exec(c, "integ_secret_meta", 2, params, NULL);
}

/* The workspace's integrations of every type (integ_limit reads it beside the plan's limit). */
static long total_integrations;

/*
 * The ceiling on integrations of every type per workspace
 * (SETTINGS_INTEGRATIONS_MAX, default 100): a page and a delivery round
 * stay bounded whatever one workspace does.
 */
static long integrations_max(void)
{
	const char *v = getenv("SETTINGS_INTEGRATIONS_MAX");
	long n;

	return v != NULL && parse_long(v, 1, 100000, &n) == 0 ? n : 100;
}

/* The plan's limit and the counts from integ_limit's row. */
static void limit_parse(const PGresult *r, long *limit, long *count, int *unlimited)
{
	int billed = strcmp(PQgetvalue(r, 0, 0), "t") == 0;

	/* A billing row with a NULL limit is unlimited; no billing row is the free plan. */
	*unlimited = billed ? PQgetisnull(r, 0, 1) : PQgetisnull(r, 0, 2);
	*limit = 0;
	if (!*unlimited)
		parse_long(PQgetvalue(r, 0, billed ? 1 : 2), 0, 1L << 40, limit);
	parse_long(PQgetvalue(r, 0, 3), 0, 1L << 40, count);
	parse_long(PQgetvalue(r, 0, 4), 0, 1L << 40, &total_integrations);
}

/* Webhook and custom integrations against the plan's limit. -1 on database failure. */
int custom_limit(struct ctx *c, int lock, long *limit, long *count, int *unlimited)
{
	const char *params[1] = { c->ws->id };
	PGresult *r;
	int billed;

	if (lock) {
		r = db_exec(c, "integ_limit_lock_billing", 1, params, NULL);
		if (r == NULL)
			return -1;
		billed = PQntuples(r) == 1;
		PQclear(r);
		if (!billed) {
			r = db_exec(c, "integ_limit_lock_workspace", 1, params, NULL);
			if (r == NULL)
				return -1;
			PQclear(r);
		}
	}
	r = db_exec(c, "integ_limit", 1, params, NULL);
	if (r == NULL)
		return -1;
	limit_parse(r, limit, count, unlimited);
	PQclear(r);
	return 0;
}

/* custom_count, custom_limit / custom_unlimited, custom_at_limit from integ_limit's row. */
static void limit_vars(struct ctx *c, const PGresult *r)
{
	long limit, count;
	int unlimited;

	limit_parse(r, &limit, &count, &unlimited);
	tvars_set_int(c->vars, "custom_count", count);
	if (unlimited) {
		tvars_set(c->vars, "custom_unlimited", "1");
	} else {
		tvars_set_int(c->vars, "custom_limit", limit);
		tvars_set_bool(c->vars, "custom_at_limit", count >= limit);
	}
}

void set_limit_vars(struct ctx *c)
{
	const char *params[1] = { c->ws->id };
	PGresult *r = db_exec(c, "integ_limit", 1, params, NULL);

	if (r == NULL)
		return;
	limit_vars(c, r);
	PQclear(r);
}

/* The "types" loop: one row per integration type, for the type choosers. */
static void add_type_rows(struct ctx *c)
{
	for (int i = 0; i < T__MAX; i++) {
		struct tvars *row = tvars_loop_add(c->vars, "types");

		tvars_set(row, "type", type_names[i]);
		tvars_set(row, "label", type_labels[i]);
		tvars_set(row, "blurb", type_blurbs[i]);
	}
}

/* The type chooser page: 200 when asked for, 400/422 after an unknown type. */
static void render_chooser(struct ctx *c, int status)
{
	add_type_rows(c);
	tvars_set(c->vars, "title", "Add an integration");
	tvars_set(c->vars, "nav", "integrations");
	tvars_set(c->vars, "list_path", list_path(c));
	tvars_set_bool(c->vars, "bad_type", status != 200);
	page_render(c, status, "integrations_new.tmpl");
}

/* "Error spike, Budget exceeded" from stored alert types (one a line); "all alert types". */
static const char *alert_words(struct ctx *c, const char *lines)
{
	struct buf b;
	const char *out;
	char *copy, *save = NULL;

	if (lines == NULL || strcmp(lines, "all") == 0)
		return "all alert types";
	buf_init(&b);
	copy = arena_strdup(c->arena, lines);
	for (char *t = strtok_r(copy, "\n", &save); t != NULL; t = strtok_r(NULL, "\n", &save)) {
		if (b.len)
			buf_puts(&b, ", ");
		buf_puts(&b, integ_alert_label(t));
	}
	out = arena_strdup(c->arena, b.len ? b.data : "all alert types");
	buf_free(&b);
	return out;
}

/* "Up to 3 retries, exponential backoff", "No retries", "... retried at once". */
static const char *retry_words(struct ctx *c, const char *retries, const char *backoff)
{
	const char *how;

	if (retries == NULL)
		retries = "3";
	if (strcmp(retries, "0") == 0)
		return "No retries";
	if (backoff != NULL && strcmp(backoff, "none") == 0)
		how = "retried at once, without waiting";
	else if (backoff != NULL && strcmp(backoff, "linear") == 0)
		how = "waiting 5, 10, 15 … seconds between tries";
	else
		how = "waiting 2, 4, 8 … seconds between tries";
	return arena_printf(c->arena, "Up to %s %s, %s", retries,
	                    strcmp(retries, "1") == 0 ? "retry" : "retries", how);
}

/* Integrations per page of the list (the page stays small whatever the count). */
#define LIST_PAGE_SIZE 25

/* The workspace's integration count, for a page past the end. 0 ok. */
static int set_limit_total(struct ctx *c, long *total)
{
	long limit, count;
	int unlimited;

	if (custom_limit(c, 0, &limit, &count, &unlimited) != 0)
		return -1;
	*total = total_integrations;
	return 0;
}

/* GET /w/{slug}/settings/integrations (?page=): the list, 25 a page, for every role. 200; 400 for a bad page. */
static void list_get(struct ctx *c)
{
	enum { L_ID, L_TYPE, L_NAME, L_ENABLED, L_HEALTH, L_HEALTH_MSG, L_CHECK, L_CHECK_AGE,
	       L_SYNC, L_SYNC_AGE, L_ERROR, L_ERROR_AGE, L_ERROR_MSG, L_SENT, L_ERRORS,
	       L_CHANNEL_NAME, L_CHANNEL_ID, L_SERVICE_NAME, L_SERVICE_ID, L_URL, L_METHOD,
	       L_ENVIRONMENT, L_SITE, L_AUTH, L_ALERTS, L_SEVERITY, L_AGENTS, L_RATE,
	       L_RETRIES, L_BACKOFF, L_DISABLED_REASON, L_TOTAL };
	const char *params[3];
	int manage = rbac_can(c->ws->role, PERM_MANAGE_INTEGRATIONS);
	const struct field *pf = &c->req->fields[K_PAGE];
	long pageno = pf->state == FIELD_VALID ? pf->num : 1, total = 0, pages;
	const struct wscache_entry *kept = pageno == 1 ? wscache_get(c, WSC_INTEGRATIONS) : NULL;
	time_t read_at = time(NULL);
	PGresult *r, *meta, *lim = NULL;

	if (pf->state == FIELD_INVALID) {
		integ_error(c, 400, "The page number must be a whole number from 1.");
		return;
	}
	params[0] = c->ws->id;
	params[1] = arena_printf(c->arena, "%d", LIST_PAGE_SIZE);
	params[2] = arena_printf(c->arena, "%ld", (pageno - 1) * LIST_PAGE_SIZE);
	tvars_set(c->vars, "title", "Integrations");
	tvars_set(c->vars, "nav", "integrations");
	tvars_set(c->vars, "list_path", list_path(c));
	tvars_set_bool(c->vars, "can_manage", manage);
	if (kept != NULL) {
		/* The first page, as read at the workspace's version (wscache.h). */
		r = kept->res[0];
		meta = kept->res[1];
		lim = kept->res[2];
		rows_age = wscache_age(kept);
	} else {
		if (db_resume(c) != 0 || (r = db_exec(c, "integ_list", 3, params, NULL)) == NULL)
			return;
		meta = secret_meta(c, NULL);
		/* The first page reads the limit for every role, to keep it for all. */
		if ((manage || pageno == 1) && (lim = db_exec(c, "integ_limit", 1, params, NULL)) == NULL) {
			PQclear(r);
			PQclear(meta);
			return;
		}
	}
	if (manage) {
		add_type_rows(c);
		limit_vars(c, lim);
	}
	if (PQntuples(r) > 0)
		parse_long(PQgetvalue(r, 0, L_TOTAL), 0, 1L << 40, &total);
	else if (pageno > 1 && set_limit_total(c, &total) != 0)
		return;
	pages = total == 0 ? 1 : (total + LIST_PAGE_SIZE - 1) / LIST_PAGE_SIZE;
	if (pages > 1 || pageno > 1) {
		tvars_set_int(c->vars, "page", pageno);
		tvars_set_int(c->vars, "pages", pages);
		if (pageno > 1)
			tvars_set_int(c->vars, "prev_page", pageno > pages ? pages : pageno - 1);
		if (pageno < pages)
			tvars_set_int(c->vars, "next_page", pageno + 1);
		tvars_set_bool(c->vars, "past_end", pageno > pages);
	}
	for (int i = 0; i < PQntuples(r); i++) {
		struct tvars *row = tvars_loop_add(c->vars, "integrations");
		int t = type_index(PQgetvalue(r, i, L_TYPE));
		const char *target = NULL, *filters, *retry;

		if (t < 0)
			continue;
		tvars_set(row, "id", PQgetvalue(r, i, L_ID));
		tvars_set(row, "type", type_names[t]);
		tvars_set(row, "type_label", type_labels[t]);
		tvars_set(row, "name", PQgetvalue(r, i, L_NAME));
		tvars_set_bool(row, "enabled", strcmp(PQgetvalue(r, i, L_ENABLED), "t") == 0);
		tvars_set(row, "health", PQgetvalue(r, i, L_HEALTH));
		tvars_set(row, "health_message", db_value(c, r, i, L_HEALTH_MSG));
		set_time(c, row, "check", db_value(c, r, i, L_CHECK), db_value(c, r, i, L_CHECK_AGE));
		set_time(c, row, "sync", db_value(c, r, i, L_SYNC), db_value(c, r, i, L_SYNC_AGE));
		set_time(c, row, "error", db_value(c, r, i, L_ERROR), db_value(c, r, i, L_ERROR_AGE));
		tvars_set(row, "error_message", db_value(c, r, i, L_ERROR_MSG));
		tvars_set(row, "sent", count_text(c, PQgetvalue(r, i, L_SENT)));
		tvars_set(row, "errors_count", count_text(c, PQgetvalue(r, i, L_ERRORS)));
		tvars_set_bool(row, "testable", 1);
		switch (t) {
		case T_SLACK:
			target = arena_printf(c->arena, "Channel %s (%s)",
			                      PQgetisnull(r, i, L_CHANNEL_NAME) ? "without a name"
			                      : PQgetvalue(r, i, L_CHANNEL_NAME),
			                      PQgetvalue(r, i, L_CHANNEL_ID));
			break;
		case T_PAGERDUTY:
			target = arena_printf(c->arena, "Service %s (%s)",
			                      PQgetisnull(r, i, L_SERVICE_NAME) ? "without a name"
			                      : PQgetvalue(r, i, L_SERVICE_NAME),
			                      PQgetvalue(r, i, L_SERVICE_ID));
			break;
		case T_WEBHOOK:
		case T_CUSTOM:
			target = arena_printf(c->arena, "%s %s (authentication: %s)",
			                      PQgetisnull(r, i, L_METHOD) ? "POST" : PQgetvalue(r, i, L_METHOD),
			                      PQgetvalue(r, i, L_URL),
			                      PQgetisnull(r, i, L_AUTH) ? "none" : PQgetvalue(r, i, L_AUTH));
			break;
		case T_SENTRY:
			target = arena_printf(c->arena, "Environment %s", PQgetvalue(r, i, L_ENVIRONMENT));
			break;
		case T_DATADOG:
			target = arena_printf(c->arena, "Service %s on %s",
			                      PQgetvalue(r, i, L_SERVICE_NAME), PQgetvalue(r, i, L_SITE));
			break;
		}
		tvars_set(row, "target", target);
		filters = arena_printf(c->arena, "%s; %s; %s",
		    alert_words(c, db_value(c, r, i, L_ALERTS)),
		    PQgetisnull(r, i, L_SEVERITY) ? "any severity"
		        : arena_printf(c->arena, "severity %s and above", PQgetvalue(r, i, L_SEVERITY)),
		    PQgetisnull(r, i, L_AGENTS) ? "all agents"
		        : arena_printf(c->arena, "agents %s", PQgetvalue(r, i, L_AGENTS)));
		tvars_set(row, "filters", filters);
		retry = arena_printf(c->arena, "%s; %s",
		    retry_words(c, db_value(c, r, i, L_RETRIES), db_value(c, r, i, L_BACKOFF)),
		    PQgetisnull(r, i, L_RATE) ? "no rate limit"
		        : arena_printf(c->arena, "at most %s events a minute (more wait their turn)",
		                       PQgetvalue(r, i, L_RATE)));
		tvars_set(row, "disabled_reason", db_value(c, r, i, L_DISABLED_REASON));
		tvars_set(row, "log_path", arena_printf(c->arena, "%s/%s/deliveries", list_path(c),
		                                        PQgetvalue(r, i, L_ID)));
		tvars_set(row, "delivery", retry);
		fill_secret_meta(c, row, meta, PQgetvalue(r, i, L_ID), (enum itype)t, 1);
	}
	rows_age = 0;
	page_render(c, 200, "integrations.tmpl");
	if (kept == NULL) {
		PGresult *res[3] = { r, meta, lim };

		/* The first page is the same for every member: keep it. */
		if (pageno != 1 || meta == NULL || wscache_put(c, WSC_INTEGRATIONS, res, 3, read_at) == NULL)
			for (int i = 0; i < 3; i++)
				PQclear(res[i]);
	}
}

/* Kept by this worker: the session check commits alone (app.h, struct prefetch). */
static int list_prefetch(struct ctx *c, struct prefetch *p)
{
	return c->req->fields[K_PAGE].state == FIELD_MISSING &&
	       wscache_prefetch(c, p, WSC_INTEGRATIONS);
}

/* GET .../integrations/new?type=…: the create form; without a valid type, the type chooser (200 / 400). */
static void new_get(struct ctx *c)
{
	int t = type_index(http_field(c->req, K_QTYPE));

	if (t < 0) {
		render_chooser(c, c->req->fields[K_QTYPE].state == FIELD_INVALID ? 400 : 200);
		return;
	}
	render_form(c, 200, (enum itype)t, NULL, 1);
}

/* GET .../integrations/{id}: the edit form. 200; 404 when the id is not in this workspace. */
static void edit_get(struct ctx *c)
{
	struct integ it;

	if (load_one(c, route_uuid(c, 1), 0, &it) != 0) {
		if (!c->db_failed)
			integ_error(c, 404, "There is no such integration in this workspace.");
		return;
	}
	render_form(c, 200, it.t, &it, 1);
}

/* The JSON list of submitted secret names, for the audit row. */
static const char *secrets_changed(struct ctx *c, const struct input *in)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	buf_putc(&b, '[');
	for (size_t i = 0; i < in->nsecrets; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_json(&b, fields[in->secrets[i]].name);
	}
	buf_putc(&b, ']');
	out = arena_strdup(c->arena, b.data);
	buf_free(&b);
	return out;
}

/* {"bot_token": {"set_by": "<user>"}, ...} for the submitted secrets. */
static const char *secrets_meta(struct ctx *c, const struct input *in)
{
	struct buf b;
	const char *out;

	buf_init(&b);
	for (size_t i = 0; i < in->nsecrets; i++) {
		json_key(&b, fields[in->secrets[i]].name);
		buf_puts(&b, "{\"set_by\":");
		buf_json(&b, c->session->user_id);
		buf_putc(&b, '}');
	}
	out = arena_strdup(c->arena, json_end(&b));
	buf_free(&b);
	return out;
}

/*
 * Encrypt the stored secrets (stored, may be empty) with the submitted ones
 * on top. *ct is NULL when nothing was submitted (keep what is stored).
 * 0 ok, -1 failure (logged).
 */
static int seal_secrets(struct ctx *c, const struct input *in, struct integ_secrets *stored,
                        const char *id, const char **ct, const char **key_id)
{
	char *sealed;

	*ct = NULL;
	*key_id = NULL;
	if (in->nsecrets == 0)
		return 0;
	for (size_t i = 0; i < in->nsecrets; i++)
		if (integ_secrets_set(stored, fields[in->secrets[i]].name, val(c, in->secrets[i])) != 0)
			return -1;
	sealed = integ_secrets_encrypt(ring, stored, c->ws->id, id, key_id);
	if (sealed == NULL) {
		app_log(c, "integration %s: encrypting its secrets failed", id);
		return -1;
	}
	*ct = arena_strdup(c->arena, sealed);
	free(sealed);
	return 0;
}

/*
 * Run an insert or update under a savepoint. A duplicate name (23505) rolls
 * back to it and re-shows the form with 409 and the message by the name;
 * any other failure becomes the 503 page. NULL once that answer is given.
 */
static PGresult *write_or_conflict(struct ctx *c, const char *stmt, int nparams,
                                   const char *const *params, enum itype t,
                                   const struct integ *it)
{
	const char *sqlstate;
	PGresult *r;

	if (db_command(c, "SAVEPOINT integ_write") != 0) {
		c->db_failed = 1;
		return NULL;
	}
	r = db_exec(c, stmt, nparams, params, &sqlstate);
	if (r != NULL)
		return r;
	if (sqlstate != NULL && strcmp(sqlstate, "23505") == 0 &&
	    db_command(c, "ROLLBACK TO SAVEPOINT integ_write") == 0) {
		field_error(c, K_NAME, arena_printf(c->arena, "This workspace already has a %s "
		            "integration with this name.", type_labels[t]));
		render_form(c, 409, t, it, 0);
	} else {
		c->db_failed = 1;
	}
	return NULL;
}

/*
 * The nine values integ_insert and integ_update take after their keys, in
 * their order: name, config, sealed secrets and key id, secrets meta,
 * filters, rate limit, retry settings, the person saving.
 */
static void saved_fields(struct ctx *c, const struct input *in, const char *ct,
                         const char *key_id, const char **p)
{
	p[0] = in->name;
	p[1] = in->config.data;
	p[2] = ct;
	p[3] = key_id;
	p[4] = secrets_meta(c, in);
	p[5] = in->filters.data;
	p[6] = in->rate;
	p[7] = in->retry.data;
	p[8] = c->session->user_id;
}

/*
 * POST /w/{slug}/settings/integrations: create. 303 to the list; 422 with
 * the form re-shown; 409 for a duplicate name or the plan's limit on
 * webhook and custom integrations.
 */
static void create_post(struct ctx *c)
{
	int t = type_index(http_field(c->req, K_TYPE));
	struct integ_secrets none;
	struct input in;
	const char *ct, *key_id, *params[12];
	char id[37];
	PGresult *r;

	if (t < 0) {
		render_chooser(c, 422);
		return;
	}
	input_init(&in);
	in.t = (enum itype)t;
	memset(&none, 0, sizeof(none));
	if (validate(c, &in, NULL, NULL) != 0) {
		if (!c->db_failed)
			render_form(c, 422, in.t, NULL, 0);
		goto out;
	}
	{
		long limit, count;
		int unlimited;

		/* Locked: two creations at once cannot both take the last place. */
		if (custom_limit(c, 1, &limit, &count, &unlimited) != 0)
			goto out;
		if (total_integrations >= integrations_max()) {
			tvars_set(c->vars, "form_error", arena_printf(c->arena,
			    "This workspace has %ld integrations, the most it may have. Remove one "
			    "it no longer needs to add another.", total_integrations));
			render_form(c, 409, in.t, NULL, 0);
			goto out;
		}
		if (is_webhook_like(t) && !unlimited && count >= limit) {
			tvars_set(c->vars, "form_error", arena_printf(c->arena,
			    "Your plan allows %ld webhook and custom integration%s and this workspace has "
			    "%ld. Remove one, or ask the owner to upgrade the plan.", limit,
			    limit == 1 ? "" : "s", count));
			render_form(c, 409, in.t, NULL, 0);
			goto out;
		}
	}
	if (new_uuid(id) != 0 || seal_secrets(c, &in, &none, id, &ct, &key_id) != 0) {
		integ_secrets_wipe(&none);
		integ_error(c, 503, "The integration could not be saved. Please try again.");
		goto out;
	}
	integ_secrets_wipe(&none);
	params[0] = id;
	params[1] = c->ws->id;
	params[2] = type_names[t];
	saved_fields(c, &in, ct, key_id, params + 3);
	if ((r = write_or_conflict(c, "integ_insert", 12, params, in.t, NULL)) == NULL)
		goto out;
	if (audit_log(c, "integration.created", "integration", id,
	              arena_printf(c->arena, "{\"new\":%s,\"secrets_changed\":%s}",
	                           PQgetvalue(r, 0, 0), secrets_changed(c, &in))) != 0) {
		PQclear(r);
		goto out;
	}
	PQclear(r);
	page_redirect_notice(c, list_path(c), arena_printf(c->arena, "%s integration “%s” added.",
	                     type_labels[t], in.name));
out:
	input_free(&in);
}

/*
 * POST .../integrations/{id}: update. 303 to the list; 404 for an id not in
 * this workspace; 422 with the form re-shown; 409 for a duplicate name.
 * A secret field left blank keeps the stored secret.
 */
static void update_post(struct ctx *c)
{
	struct integ it;
	struct integ_secrets stored;
	struct input in;
	const char *ct, *key_id, *params[11];
	PGresult *r;

	if (load_one(c, route_uuid(c, 1), 1, &it) != 0) {
		if (!c->db_failed)
			integ_error(c, 404, "There is no such integration in this workspace.");
		return;
	}
	if (open_secrets(c, &it, &stored) != 0) {
		credentials_unreadable(c);
		return;
	}
	input_init(&in);
	in.t = it.t;
	if (validate(c, &in, &it, &stored) != 0) {
		if (!c->db_failed)
			render_form(c, 422, it.t, &it, 0);
		goto out;
	}
	if (seal_secrets(c, &in, &stored, it.id, &ct, &key_id) != 0) {
		integ_error(c, 503, "The integration could not be saved. Please try again.");
		goto out;
	}
	params[0] = it.id;
	params[1] = c->ws->id;
	saved_fields(c, &in, ct, key_id, params + 2);
	if ((r = write_or_conflict(c, "integ_update", 11, params, it.t, &it)) == NULL)
		goto out;
	if (PQntuples(r) != 1) {
		PQclear(r);
		integ_error(c, 404, "There is no such integration in this workspace.");
		goto out;
	}
	if (audit_log(c, "integration.updated", "integration", it.id,
	              arena_printf(c->arena, "{\"old\":%s,\"new\":%s,\"secrets_changed\":%s}",
	                           it.snapshot, PQgetvalue(r, 0, 0), secrets_changed(c, &in))) != 0) {
		PQclear(r);
		goto out;
	}
	PQclear(r);
	page_redirect_notice(c, list_path(c), arena_printf(c->arena, "%s integration “%s” saved.",
	                     type_labels[it.t], in.name));
out:
	integ_secrets_wipe(&stored);
	input_free(&in);
}

/* POST .../{id}/enable and .../{id}/disable: the toggle. 303; 404 for an id not in this workspace. */
static void set_enabled(struct ctx *c, int on)
{
	struct integ it;
	const char *params[4];
	PGresult *r;

	if (load_one(c, route_uuid(c, 1), 1, &it) != 0) {
		if (!c->db_failed)
			integ_error(c, 404, "There is no such integration in this workspace.");
		return;
	}
	if (it.enabled == on) {
		page_redirect_notice(c, list_path(c), arena_printf(c->arena, "“%s” was already %s.",
		                     it.name, on ? "enabled" : "disabled"));
		return;
	}
	params[0] = it.id;
	params[1] = c->ws->id;
	params[2] = on ? "true" : "false";
	params[3] = c->session->user_id;
	r = db_exec(c, "integ_set_enabled", 4, params, NULL);
	if (r == NULL)
		return;
	if (audit_log(c, on ? "integration.enabled" : "integration.disabled", "integration", it.id,
	              arena_printf(c->arena, "{\"old\":{\"is_enabled\":%s},\"new\":{\"is_enabled\":%s}}",
	                           on ? "false" : "true", on ? "true" : "false")) != 0) {
		PQclear(r);
		return;
	}
	PQclear(r);
	page_redirect_notice(c, list_path(c), arena_printf(c->arena, "“%s” %s.", it.name,
	                     on ? "enabled: it sends events again" : "disabled: it sends no events"));
}

static void enable_post(struct ctx *c) { set_enabled(c, 1); }
static void disable_post(struct ctx *c) { set_enabled(c, 0); }

/* The delete confirmation page for it. 200. */
static void render_delete(struct ctx *c, const struct integ *it)
{
	tvars_set(c->vars, "title", arena_printf(c->arena, "Delete %s?", it->name));
	tvars_set(c->vars, "nav", "integrations");
	tvars_set(c->vars, "list_path", list_path(c));
	tvars_set(c->vars, "id", it->id);
	tvars_set(c->vars, "name", it->name);
	tvars_set(c->vars, "type_label", type_labels[it->t]);
	page_render(c, 200, "integrations_delete.tmpl");
}

/* GET .../{id}/delete: the confirmation step (no JavaScript needed). 200; 404. */
static void delete_get(struct ctx *c)
{
	struct integ it;

	if (load_one(c, route_uuid(c, 1), 0, &it) != 0) {
		if (!c->db_failed)
			integ_error(c, 404, "There is no such integration in this workspace.");
		return;
	}
	render_delete(c, &it);
}

/*
 * POST .../{id}/delete: with confirm=yes removes the integration (303);
 * without it, shows the confirmation step (200); 404 for an id not here.
 */
static void delete_post(struct ctx *c)
{
	struct integ it;
	const char *params[2];
	PGresult *r;

	if (load_one(c, route_uuid(c, 1), 1, &it) != 0) {
		if (!c->db_failed)
			integ_error(c, 404, "There is no such integration in this workspace.");
		return;
	}
	if (http_field(c->req, K_CONFIRM) == NULL) {
		render_delete(c, &it);
		return;
	}
	params[0] = it.id;
	params[1] = c->ws->id;
	r = db_exec(c, "integ_delete", 2, params, NULL);
	if (r == NULL)
		return;
	if (audit_log(c, "integration.deleted", "integration", it.id,
	              arena_printf(c->arena, "{\"old\":%s}", PQgetvalue(r, 0, 0))) != 0) {
		PQclear(r);
		return;
	}
	PQclear(r);
	page_redirect_notice(c, list_path(c), arena_printf(c->arena, "%s integration “%s” deleted.",
	                     type_labels[it.t], it.name));
}

/* Once per worker: the key ring; a missing or malformed one stops start-up. */
static int integrations_init(void)
{
	char err[256];

	ring = keyring_parse(getenv("SETTINGS_CREDENTIALS_KEYS"), err, sizeof(err));
	if (ring == NULL) {
		fprintf(stderr, "integrations: SETTINGS_CREDENTIALS_KEYS: %s\n", err);
		return 1;
	}
	return 0;
}

#define W "/w/*/settings/integrations"
#define MANAGE (ROUTE_WORKSPACE), PERM_MANAGE_INTEGRATIONS, fields, K__MAX

static const struct route routes[] = {
	{ "GET", W, list_get, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE, fields, K__MAX, list_prefetch },
	{ "POST", W, create_post, MANAGE },
	{ "GET", W "/new", new_get, MANAGE },
	{ "GET", W "/*", edit_get, MANAGE },
	{ "POST", W "/*", update_post, MANAGE },
	{ "POST", W "/*/enable", enable_post, MANAGE },
	{ "POST", W "/*/disable", disable_post, MANAGE },
	{ "GET", W "/*/delete", delete_get, MANAGE },
	{ "POST", W "/*/delete", delete_post, MANAGE },
	{ "POST", W "/*/test", test_post, MANAGE },
	{ "GET", W "/*/deliveries", deliveries_get, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE, NULL, 0 },
	{ "POST", W "/*/deliveries/*/redeliver", redeliver_post, MANAGE },
};

static const char *const templates[] = {
	"integrations.tmpl", "integrations_form.tmpl", "integrations_new.tmpl",
	"integrations_delete.tmpl", "integrations_deliveries.tmpl", NULL,
};


static const char usage[] =
    "usage: integrations [--socket PATH] [--workers N]   serve the integrations page\n"
    "       integrations --rotate-keys                   re-encrypt every stored secret\n"
    "       integrations --check-health                  the integration health checks\n"
    "                                                    (runs `delivery --check-health`)\n"
    "\n"
    "Key rotation, with SETTINGS_CREDENTIALS_KEYS=\"id:base64key,...\" (the first key\n"
    "encrypts, every key decrypts):\n"
    "  1. put the new key first, keep the old one after it, restart the executables;\n"
    "  2. run `integrations --rotate-keys` with that ring and MIGRATE_URL naming the\n"
    "     owner role (it crosses workspaces, which row-level security forbids the\n"
    "     application role): every secret not under the new key is re-encrypted, in\n"
    "     one transaction, with an audit row per integration;\n"
    "  3. drop the old key from the ring and restart the executables.\n";

/* integrations --check-health: the health checks live with the delivery worker beside this executable. */
static int check_health_exec(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 16);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			char *args[] = { self, "--check-health", NULL };

			strcpy(slash + 1, "delivery");
			execv(self, args);
		}
	}
	perror("integrations --check-health: cannot run the delivery executable");
	return 1;
}

/* Serve the page (FastCGI or CGI), or run the key rotation or health check command. */
int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--rotate-keys") == 0)
		return integ_rotate_keys();
	if (argc == 2 && strcmp(argv[1], "--check-health") == 0)
		return check_health_exec();
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	struct page page = {
		"integrations", routes, sizeof(routes) / sizeof(routes[0]),
		integ_stmts, integ_nstmts, templates, integrations_init,
	};

	return app_main(argc, argv, &page);
}
