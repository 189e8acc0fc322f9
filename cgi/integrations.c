/* integrations.c: the integrations page: list, forms, toggle, delete, test event, key rotation */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "crypto.h"
#include "integ_net.h"
#include "integ_secrets.h"

/* The key ring for secrets at rest (SETTINGS_CREDENTIALS_KEYS), parsed once per worker. */
static struct keyring *ring;

/* Integration types, in the order the page lists them. */
enum itype { T_SLACK, T_PAGERDUTY, T_WEBHOOK, T_SENTRY, T_DATADOG, T_CUSTOM, T__MAX };

static const char *const type_names[T__MAX + 1] = {
	"slack", "pagerduty", "webhook", "sentry", "datadog", "custom", NULL,
};
static const char *const type_labels[T__MAX] = {
	"Slack", "PagerDuty", "Webhook", "Sentry", "Datadog", "Custom",
};
static const char *const type_blurbs[T__MAX] = {
	"Post alerts to a Slack channel.",
	"Open PagerDuty incidents through the Events API.",
	"POST or PUT a signed JSON event to your HTTPS endpoint.",
	"Send agent errors and traces to a Sentry project.",
	"Send agent metrics and events to Datadog.",
	"Your own HTTPS endpoint; works like a webhook.",
};

static const char *const methods[] = { "POST", "PUT", NULL };
static const char *const auth_types[] = { "none", "bearer", "hmac", NULL };
static const char *const auth_labels[] = { "None", "Bearer token", "HMAC-SHA256 signature" };
static const char *const backoffs[] = { "none", "linear", "exponential", NULL };
static const char *const dd_sites[] = {
	"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu",
	"ap1.datadoghq.com", "ap2.datadoghq.com", "ddog-gov.com", NULL,
};
static const char *const alert_types[] = {
	"all", "budget_exceeded", "error_spike", "latency_high", "system_down", NULL,
};
static const char *const alert_labels[] = {
	"All alert types", "Budget exceeded", "Error spike", "Latency high", "System down",
};
static const char *const severities[] = { "info", "warning", "error", "critical", NULL };
static const char *const yes[] = { "yes", NULL };

/* The form fields (SPEC section 4), validated by this table before any handler runs. */
enum {
	K_TYPE, K_QTYPE, K_NAME,
	K_CHANNEL_ID, K_CHANNEL_NAME, K_WORKSPACE_URL, K_BOT_TOKEN,
	K_SERVICE_ID, K_SERVICE_NAME, K_ROUTING_KEY,
	K_URL, K_METHOD, K_AUTH_TYPE, K_TIMEOUT_MS, K_SECRET,
	K_ENVIRONMENT, K_SAMPLE_RATE, K_TRACES_SAMPLE_RATE, K_DSN,
	K_SITE, K_API_KEY, K_APP_KEY,
	K_ALERT_TYPES, K_SEVERITY_MIN, K_AGENTS, K_RATE_LIMIT, K_MAX_RETRIES, K_BACKOFF,
	K_CONFIRM,
	K__MAX
};

static const struct field_spec fields[K__MAX] = {
	[K_TYPE] = { "integration_type", valid_choice, 1, 16, type_names, 0, 0 },
	[K_QTYPE] = { "type", valid_choice, 1, 16, type_names, 0, 0 },
	[K_NAME] = { "integration_name", valid_line, 0, 256, NULL, 0, 0 },
	[K_CHANNEL_ID] = { "channel_id", valid_line, 0, 64, NULL, 0, 0 },
	[K_CHANNEL_NAME] = { "channel_name", valid_line, 0, 128, NULL, 0, 0 },
	[K_WORKSPACE_URL] = { "workspace_url", valid_line, 0, 2048, NULL, 0, 0 },
	[K_BOT_TOKEN] = { "bot_token", valid_line, 0, 4096, NULL, 0, 0 },
	[K_SERVICE_ID] = { "service_id", valid_line, 0, 64, NULL, 0, 0 },
	[K_SERVICE_NAME] = { "service_name", valid_line, 0, 256, NULL, 0, 0 },
	[K_ROUTING_KEY] = { "routing_key", valid_line, 0, 4096, NULL, 0, 0 },
	[K_URL] = { "url", valid_line, 0, INTEG_URL_MAX, NULL, 0, 0 },
	[K_METHOD] = { "method", valid_choice, 1, 8, methods, 0, 0 },
	[K_AUTH_TYPE] = { "auth_type", valid_choice, 1, 8, auth_types, 0, 0 },
	[K_TIMEOUT_MS] = { "timeout_ms", valid_line, 0, 16, NULL, 0, 0 },
	[K_SECRET] = { "secret", valid_line, 0, 4096, NULL, 0, 0 },
	[K_ENVIRONMENT] = { "environment", valid_line, 0, 128, NULL, 0, 0 },
	[K_SAMPLE_RATE] = { "sample_rate", valid_line, 0, 16, NULL, 0, 0 },
	[K_TRACES_SAMPLE_RATE] = { "traces_sample_rate", valid_line, 0, 16, NULL, 0, 0 },
	[K_DSN] = { "dsn", valid_line, 0, 4096, NULL, 0, 0 },
	[K_SITE] = { "site", valid_choice, 1, 32, dd_sites, 0, 0 },
	[K_API_KEY] = { "api_key", valid_line, 0, 4096, NULL, 0, 0 },
	[K_APP_KEY] = { "app_key", valid_line, 0, 4096, NULL, 0, 0 },
	[K_ALERT_TYPES] = { "alert_types", valid_choice, 1, 32, alert_types, 0, 0 },
	[K_SEVERITY_MIN] = { "severity_min", valid_line, 0, 32, NULL, 0, 0 },
	[K_AGENTS] = { "agents", valid_line, 1, 128, NULL, 0, 0 },
	[K_RATE_LIMIT] = { "rate_limit_per_minute", valid_line, 0, 16, NULL, 0, 0 },
	[K_MAX_RETRIES] = { "max_retries", valid_line, 0, 16, NULL, 0, 0 },
	[K_BACKOFF] = { "backoff", valid_choice, 1, 16, backoffs, 0, 0 },
	[K_CONFIRM] = { "confirm", valid_choice, 1, 8, yes, 0, 0 },
};

/* Secret fields: the key in the encrypted JSON object is the field name. */
static int is_secret(int k)
{
	return k == K_BOT_TOKEN || k == K_ROUTING_KEY || k == K_SECRET || k == K_DSN ||
	       k == K_API_KEY || k == K_APP_KEY;
}

/* Per type: the type-specific fields, in form order; secrets last. */
static const int type_fields[T__MAX][6] = {
	[T_SLACK] = { K_CHANNEL_ID, K_CHANNEL_NAME, K_WORKSPACE_URL, K_BOT_TOKEN, -1 },
	[T_PAGERDUTY] = { K_SERVICE_ID, K_SERVICE_NAME, K_ROUTING_KEY, -1 },
	[T_WEBHOOK] = { K_URL, K_METHOD, K_AUTH_TYPE, K_TIMEOUT_MS, K_SECRET, -1 },
	[T_SENTRY] = { K_ENVIRONMENT, K_SAMPLE_RATE, K_TRACES_SAMPLE_RATE, K_DSN, -1 },
	[T_DATADOG] = { K_SITE, K_SERVICE_NAME, K_API_KEY, K_APP_KEY, -1 },
	[T_CUSTOM] = { K_URL, K_METHOD, K_AUTH_TYPE, K_TIMEOUT_MS, K_SECRET, -1 },
};

static const char *const secret_labels[][2] = {
	{ "bot_token", "Bot token" }, { "routing_key", "Routing key" }, { "secret", "Secret" },
	{ "dsn", "DSN" }, { "api_key", "API key" }, { "app_key", "Application key" },
};

/* SQL helpers: a time as ISO 8601 UTC plus its age in seconds; a row snapshot for audit. */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
	"floor(extract(epoch FROM now() - " col "))::bigint"
#define SNAPSHOT "jsonb_build_object('integration_type', integration_type, " \
	"'integration_name', integration_name, 'is_enabled', is_enabled, " \
	"'config_data', config_data, 'event_filters', event_filters, " \
	"'rate_limit_per_minute', rate_limit_per_minute, 'retry_config', retry_config, " \
	"'credentials', CASE WHEN credentials_encrypted IS NULL THEN NULL ELSE '[redacted]' END, " \
	"'encryption_key_id', encryption_key_id, 'credentials_meta', credentials_meta)::text"
#define META(p) "(SELECT coalesce(jsonb_object_agg(m.key, m.value || " \
	"jsonb_build_object('set_at', now())), '{}'::jsonb) FROM jsonb_each(" p "::jsonb) m)"
#define ARRAY_OF(e) "CASE WHEN jsonb_typeof(" e ") = 'array' THEN " e " ELSE '[]'::jsonb END"
#define ONE_ROW "SELECT id, integration_type, integration_name, is_enabled, " \
	"rate_limit_per_minute, event_filters->>'severity_min', retry_config->>'max_retries', " \
	"retry_config->>'backoff', credentials_encrypted, encryption_key_id, " \
	"config_data->>'url', config_data->>'method', config_data->>'auth_type', " \
	"config_data->>'timeout_ms', " SNAPSHOT " FROM integrations_config " \
	"WHERE id = $1::uuid AND workspace_id = $2::uuid"

static const struct stmt stmts[] = {
	{ "integ_list",
	  "SELECT id, integration_type, integration_name, is_enabled, "
	  "coalesce(health_status, 'unknown'), health_check_message, "
	  TS("last_health_check_at") ", " TS("last_sync_at") ", " TS("last_error_at") ", "
	  "last_error_message, coalesce(total_events_sent, 0), coalesce(total_errors, 0), "
	  "config_data->>'channel_name', config_data->>'channel_id', "
	  "config_data->>'service_name', config_data->>'service_id', config_data->>'url', "
	  "config_data->>'method', config_data->>'environment', config_data->>'site', "
	  "config_data->>'auth_type', "
	  "(SELECT string_agg(x, ', ') FROM jsonb_array_elements_text("
	  ARRAY_OF("event_filters->'alert_types'") ") x), "
	  "event_filters->>'severity_min', "
	  "(SELECT string_agg(x, ', ') FROM jsonb_array_elements_text("
	  ARRAY_OF("event_filters->'agents'") ") x), "
	  "rate_limit_per_minute, retry_config->>'max_retries', retry_config->>'backoff' "
	  "FROM integrations_config WHERE workspace_id = $1::uuid "
	  "ORDER BY lower(integration_name), integration_type, id" },
	{ "integ_secret_meta",
	  "SELECT i.id, e.key, " TS("(e.value->>'set_at')::timestamptz") ", "
	  "coalesce(nullif(u.full_name, ''), u.email) "
	  "FROM integrations_config i CROSS JOIN LATERAL jsonb_each(i.credentials_meta) e "
	  "LEFT JOIN users u ON u.id = CASE WHEN e.value->>'set_by' ~ "
	  "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "
	  "THEN (e.value->>'set_by')::uuid END "
	  "WHERE i.workspace_id = $1::uuid AND ($2::uuid IS NULL OR i.id = $2::uuid)" },
	{ "integ_get", ONE_ROW },
	{ "integ_get_locked", ONE_ROW " FOR UPDATE" },
	{ "integ_items",
	  "SELECT 'config', e.key, e.value FROM integrations_config i, "
	  "jsonb_each_text(i.config_data) e WHERE i.id = $1::uuid AND i.workspace_id = $2::uuid "
	  "UNION ALL SELECT 'alert_types', NULL, x FROM integrations_config i, "
	  "jsonb_array_elements_text(" ARRAY_OF("i.event_filters->'alert_types'") ") x "
	  "WHERE i.id = $1::uuid AND i.workspace_id = $2::uuid "
	  "UNION ALL SELECT 'agents', NULL, x FROM integrations_config i, "
	  "jsonb_array_elements_text(" ARRAY_OF("i.event_filters->'agents'") ") x "
	  "WHERE i.id = $1::uuid AND i.workspace_id = $2::uuid" },
	{ "integ_agents", "SELECT name FROM agents WHERE workspace_id = $1::uuid ORDER BY name" },
	{ "integ_limit",
	  "SELECT EXISTS (SELECT 1 FROM billing_config WHERE workspace_id = $1::uuid), "
	  "(SELECT custom_integrations_limit FROM billing_config WHERE workspace_id = $1::uuid), "
	  "(SELECT custom_integrations_limit FROM plan_catalog WHERE plan_type = 'free'), "
	  "(SELECT count(*) FROM integrations_config WHERE workspace_id = $1::uuid "
	  "   AND integration_type IN ('webhook', 'custom'))" },
	/* Serialise creations (and plan changes) per workspace before counting. */
	{ "integ_limit_lock_billing",
	  "SELECT 1 FROM billing_config WHERE workspace_id = $1::uuid FOR UPDATE" },
	{ "integ_limit_lock_workspace",
	  "SELECT 1 FROM workspaces WHERE id = $1::uuid FOR NO KEY UPDATE" },
	{ "integ_insert",
	  "INSERT INTO integrations_config (id, workspace_id, integration_type, integration_name, "
	  "config_data, credentials_encrypted, encryption_key_id, credentials_meta, event_filters, "
	  "rate_limit_per_minute, retry_config, created_by, updated_by) "
	  "VALUES ($1::uuid, $2::uuid, $3, $4, jsonb_strip_nulls($5::jsonb), $6, $7, " META("$8") ", "
	  "jsonb_strip_nulls($9::jsonb), $10::int, $11::jsonb, $12::uuid, $12::uuid) "
	  "RETURNING " SNAPSHOT },
	{ "integ_update",
	  "UPDATE integrations_config SET integration_name = $3, "
	  "config_data = jsonb_strip_nulls(config_data || $4::jsonb), "
	  "credentials_encrypted = coalesce($5::text, credentials_encrypted), "
	  "encryption_key_id = CASE WHEN $5::text IS NULL THEN encryption_key_id ELSE $6 END, "
	  "credentials_meta = credentials_meta || " META("$7") ", "
	  "event_filters = jsonb_strip_nulls(coalesce(event_filters, '{}'::jsonb) || $8::jsonb), "
	  "rate_limit_per_minute = $9::int, "
	  "retry_config = coalesce(retry_config, '{}'::jsonb) || $10::jsonb, "
	  "updated_by = $11::uuid "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid RETURNING " SNAPSHOT },
	{ "integ_set_enabled",
	  "UPDATE integrations_config SET is_enabled = $3::boolean, updated_by = $4::uuid "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid RETURNING " SNAPSHOT },
	{ "integ_delete",
	  "DELETE FROM integrations_config WHERE id = $1::uuid AND workspace_id = $2::uuid "
	  "RETURNING " SNAPSHOT },
	{ "integ_record",
	  "UPDATE integrations_config SET last_health_check_at = now(), health_status = $3, "
	  "health_check_message = $4, "
	  "last_sync_at = CASE WHEN $5::boolean THEN now() ELSE last_sync_at END, "
	  "total_events_sent = coalesce(total_events_sent, 0) + CASE WHEN $5::boolean THEN 1 ELSE 0 END, "
	  "last_error_at = CASE WHEN $5::boolean THEN last_error_at ELSE now() END, "
	  "last_error_message = CASE WHEN $5::boolean THEN last_error_message ELSE $6 END, "
	  "total_errors = coalesce(total_errors, 0) + CASE WHEN $5::boolean THEN 0 ELSE 1 END "
	  "WHERE id = $1::uuid AND workspace_id = $2::uuid RETURNING integration_name" },
};

/* Columns of ONE_ROW. */
enum { R_ID, R_TYPE, R_NAME, R_ENABLED, R_RATE, R_SEVERITY, R_RETRIES, R_BACKOFF,
       R_CREDS, R_KEY_ID, R_URL, R_METHOD, R_AUTH, R_TIMEOUT, R_SNAPSHOT };

/* One stored integration, as ONE_ROW reads it. */
struct integ {
	const char *id, *type, *name, *rate, *severity, *retries, *backoff;
	const char *creds, *key_id, *url, *method, *auth, *timeout, *snapshot;
	int enabled;
	enum itype t;
};

/* A small set of strings (selected checkboxes, stored filters). */
struct strset {
	const char *v[128];
	size_t n;
};

/* 1 when x is in the set. */
static int strset_has(const struct strset *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], x) == 0)
			return 1;
	return 0;
}

/* Add x once (silently bounded). */
static void strset_add(struct strset *s, const char *x)
{
	if (x != NULL && !strset_has(s, x) && s->n < sizeof(s->v) / sizeof(s->v[0]))
		s->v[s->n++] = x;
}

/* The enum itype of a type name, -1 when unknown. */
static int type_index(const char *name)
{
	for (int t = 0; t < T__MAX; t++)
		if (name != NULL && strcmp(type_names[t], name) == 0)
			return t;
	return -1;
}

/* Webhook and custom integrations share their fields, the test event and the plan limit. */
static int is_webhook_like(int t)
{
	return t == T_WEBHOOK || t == T_CUSTOM;
}

/* "Bot token" for "bot_token". */
static const char *secret_label(const char *name)
{
	for (size_t i = 0; i < sizeof(secret_labels) / sizeof(secret_labels[0]); i++)
		if (strcmp(secret_labels[i][0], name) == 0)
			return secret_labels[i][1];
	return name;
}

/* SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1: http and private targets allowed (development, tests). */
static int allow_private(void)
{
	const char *v = getenv("SETTINGS_ALLOW_PRIVATE_WEBHOOKS");

	return v != NULL && strcmp(v, "1") == 0;
}

/* A new random (version 4) UUID. 0 ok. */
static int new_uuid(char out[37])
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
static const char *list_path(struct ctx *c)
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

/* "1,247" */
static const char *count_text(struct ctx *c, const char *digits)
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

/* "5 minutes ago", "in 2 days", "just now" for an age in seconds. */
static const char *relative_time(struct ctx *c, long age)
{
	static const struct { long secs; const char *unit; } units[] = {
		{ 365L * 86400, "year" }, { 30L * 86400, "month" }, { 86400, "day" },
		{ 3600, "hour" }, { 60, "minute" },
	};
	long a = age < 0 ? -age : age;

	if (a < 60)
		return "just now";
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (a >= units[i].secs) {
			long n = a / units[i].secs;

			return arena_printf(c->arena, age < 0 ? "in %ld %s%s" : "%ld %s%s ago", n,
			                    units[i].unit, n == 1 ? "" : "s");
		}
	}
	return "just now";
}

/* prefix_iso, prefix_abs ("2025-01-31 14:05 UTC") and prefix_rel from SQL's TS() columns. */
static void set_time(struct ctx *c, struct tvars *v, const char *prefix, const char *iso,
                     const char *age)
{
	long secs = 0;

	if (iso == NULL || strlen(iso) < 16)
		return;
	parse_long(age, -(1L << 40), 1L << 40, &secs);
	tvars_set(v, arena_printf(c->arena, "%s_iso", prefix), iso);
	tvars_set(v, arena_printf(c->arena, "%s_abs", prefix),
	          arena_printf(c->arena, "%.10s %.5s UTC", iso, iso + 11));
	tvars_set(v, arena_printf(c->arena, "%s_rel", prefix), relative_time(c, secs));
}

/* Trimmed value of field k: NULL when missing, invalid or blank. */
static const char *val(struct ctx *c, int k)
{
	const char *v = http_field(c->req, (size_t)k);
	size_t len;

	if (v == NULL)
		return NULL;
	while (*v == ' ' || *v == '\t')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return len == 0 ? NULL : arena_strndup(c->arena, v, len);
}

/* A field error: the message next to the field and in the summary at the top. */
static void field_error(struct ctx *c, int k, const char *message)
{
	struct tvars *row;

	if (tvars_get(c->vars, arena_printf(c->arena, "err_%s", fields[k].name)) != NULL)
		return;
	form_error(c, fields[k].name, message);
	row = tvars_loop_add(c->vars, "errors");
	tvars_set(row, "field", fields[k].name);
	tvars_set(row, "message", message);
}

/* 1 when s has min..max characters, each accepted by ok. */
static int matches(const char *s, size_t min, size_t max, int (*ok)(int ch))
{
	size_t n = s ? strlen(s) : 0;

	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!ok((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Character classes of the field rules. */
static int upper_alnum(int ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'); }
static int alnum(int ch) { return upper_alnum(ch) || (ch >= 'a' && ch <= 'z'); }
static int hexlower(int ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); }
static int visible(int ch) { return ch > 0x20 && ch < 0x7f; }
static int slack_token_char(int ch) { return alnum(ch) || ch == '-'; }
static int channel_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
	       ch == '.';
}
static int env_char(int ch) { return alnum(ch) || ch == '-' || ch == '_' || ch == '.'; }
static int dd_service_char(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
	       ch == '.' || ch == ':' || ch == '/';
}

/* A decimal from 0 to 1 with at most 6 decimals, e.g. "0.25"; NULL when not. */
static const char *parse_rate(struct ctx *c, const char *s)
{
	size_t i = 0, digits = 0, decimals = 0;
	int one = 0;

	if (s == NULL)
		return NULL;
	if (s[0] == '0' || s[0] == '1') {
		one = s[0] == '1';
		i = digits = 1;
	}
	if (s[i] == '.') {
		for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
			decimals++;
			if (one && s[i] != '0')
				return NULL;
		}
		if (decimals == 0 || decimals > 6)
			return NULL;
	}
	if (s[i] != '\0' || digits + decimals == 0)
		return NULL;
	/* JSON numbers need a leading digit: ".5" becomes "0.5". */
	return s[0] == '.' ? arena_printf(c->arena, "0%s", s) : s;
}

/* 1 when s is a decimal integer within min..max (into *out). */
static int parse_range(const char *s, long min, long max, long *out)
{
	return s != NULL && parse_long(s, min, max, out) == 0;
}

/* 1 when v is one of the NULL-terminated list. */
static int in_list(const char *const *list, const char *v)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, v) == 0)
			return 1;
	return 0;
}

/* A Sentry DSN: https://<key>@<host>[:port]/[path/]<project id>. */
static int dsn_ok(struct ctx *c, const char *v)
{
	const char *at, *slash, *last;
	struct integ_url u;

	if (strncmp(v, "https://", 8) != 0 || (at = strchr(v + 8, '@')) == NULL ||
	    !matches(arena_strndup(c->arena, v + 8, (size_t)(at - v - 8)), 16, 64, alnum))
		return 0;
	slash = strchr(at, '/');
	last = strrchr(at, '/');
	if (slash == NULL || last[1] == '\0' || strlen(last + 1) > 20 ||
	    strspn(last + 1, "0123456789") != strlen(last + 1))
		return 0;
	/* The host part follows the outgoing URL rules, private hosts allowed (self-hosted Sentry). */
	return integ_url_check(arena_printf(c->arena, "https://%.*s/", (int)(slash - at - 1), at + 1),
	                       1, &u) == NULL;
}

/* The validated input of one form, ready to store. */
struct input {
	enum itype t;
	const char *name;
	struct buf config;         /* JSON object of the type's settings */
	struct buf filters;        /* JSON object: alert_types, severity_min, agents */
	struct buf retry;          /* JSON object: max_retries, backoff */
	const char *rate;          /* NULL = no limit */
	const char *auth;          /* webhook/custom auth_type */
	int secrets[6];            /* field keys of secrets submitted */
	size_t nsecrets;
};

/* Start / release the JSON buffers of a form's input. */
static void input_init(struct input *in)
{
	memset(in, 0, sizeof(*in));
	buf_init(&in->config);
	buf_init(&in->filters);
	buf_init(&in->retry);
}

static void input_free(struct input *in)
{
	buf_free(&in->config);
	buf_free(&in->filters);
	buf_free(&in->retry);
}

/* JSON objects built key by key into a buf: the first key opens the object. */
static void json_key(struct buf *b, const char *key)
{
	buf_putc(b, b->len == 0 ? '{' : ',');
	buf_json(b, key);
	buf_putc(b, ':');
}

static void json_str(struct buf *b, const char *key, const char *v)
{
	json_key(b, key);
	if (v == NULL)
		buf_puts(b, "null");
	else
		buf_json(b, v);
}

static void json_raw(struct buf *b, const char *key, const char *raw)
{
	json_key(b, key);
	buf_puts(b, raw != NULL ? raw : "null");
}

/* Close the object ("{}" when nothing was added); returns its text. */
static const char *json_end(struct buf *b)
{
	if (b->len == 0)
		buf_putc(b, '{');
	buf_putc(b, '}');
	return b->data;
}

/* The workspace's agent names. */
static int load_agents(struct ctx *c, struct strset *out)
{
	const char *params[1] = { c->ws->id };
	PGresult *r = db_exec(c, "integ_agents", 1, params, NULL);

	out->n = 0;
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++)
		strset_add(out, db_value(c, r, i, 0));
	PQclear(r);
	return 0;
}

/*
 * Check one type-specific field; on success append it to in->config (or
 * note a submitted secret). stored: the stored secrets on update.
 */
static void check_field(struct ctx *c, int k, struct input *in,
                        const struct integ_secrets *stored)
{
	const char *v = val(c, k), *msg = NULL;
	int invalid = http_field_invalid(c->req, (size_t)k);
	long n;

	if (is_secret(k)) {
		const char *name = fields[k].name;
		int have = stored != NULL && integ_secrets_get(stored, name) != NULL;
		int needed = k != K_APP_KEY &&
		             (k != K_SECRET || (in->auth != NULL && strcmp(in->auth, "none") != 0));

		if (invalid) {
			msg = "Use printable characters only, at most 4096.";
		} else if (v == NULL) {
			const char *kept = have ? integ_secrets_get(stored, name) : NULL;

			if (needed && !have)
				msg = k == K_SECRET ? "Enter the secret: this authentication type needs one."
				                    : arena_printf(c->arena, "Enter the %s.",
				                                   secret_label(name));
			else if (k == K_SECRET && kept != NULL && in->auth != NULL &&
			         strcmp(in->auth, "hmac") == 0 && strlen(kept) < 16)
				/* A bearer token kept for HMAC signing must meet HMAC's minimum. */
				msg = "The stored secret is too short to sign with: enter an HMAC "
				      "secret of 16 to 1024 characters.";
		} else if (k == K_BOT_TOKEN) {
			if (strncmp(v, "xoxb-", 5) != 0 || !matches(v + 5, 10, 250, slack_token_char))
				msg = "A Slack bot token starts with xoxb- followed by letters, digits "
				      "and hyphens.";
		} else if (k == K_ROUTING_KEY) {
			if (!matches(v, 32, 32, alnum))
				msg = "A PagerDuty routing key is 32 letters and digits.";
		} else if (k == K_SECRET) {
			int hmac = in->auth != NULL && strcmp(in->auth, "hmac") == 0;

			if (hmac && !matches(v, 16, 1024, visible))
				msg = "An HMAC secret is 16 to 1024 characters without spaces.";
			else if (!hmac && !matches(v, 1, 4096, visible))
				msg = "A bearer token is 1 to 4096 characters without spaces.";
		} else if (k == K_DSN) {
			if (!dsn_ok(c, v))
				msg = "Enter the DSN from your Sentry project settings: "
				      "https://<key>@<host>/<project id>.";
		} else if (k == K_API_KEY) {
			if (!matches(v, 32, 32, hexlower))
				msg = "A Datadog API key is 32 hexadecimal characters (0-9, a-f).";
		} else if (k == K_APP_KEY) {
			if (!matches(v, 40, 40, hexlower))
				msg = "A Datadog application key is 40 hexadecimal characters (0-9, a-f).";
		}
		if (msg != NULL)
			field_error(c, k, msg);
		else if (v != NULL)
			in->secrets[in->nsecrets++] = k;
		return;
	}

	switch (k) {
	case K_CHANNEL_ID:
		if (v == NULL)
			msg = "Enter the channel ID.";
		else if (invalid || (v[0] != 'C' && v[0] != 'G') || !matches(v + 1, 8, 12, upper_alnum))
			msg = "A Slack channel ID is C or G followed by 8 to 12 capital letters or "
			      "digits, e.g. C01234567.";
		break;
	case K_CHANNEL_NAME:
		if (invalid || (v != NULL && !matches(v[0] == '#' ? v + 1 : v, 1, 80, channel_char)))
			msg = "Channel names use lowercase letters, digits, hyphens and underscores "
			      "(at most 80), e.g. #agent-alerts.";
		else if (v != NULL && v[0] != '#')
			v = arena_printf(c->arena, "#%s", v);
		break;
	case K_WORKSPACE_URL: {
		struct integ_url u;
		size_t hl;

		if (invalid || (v != NULL && (integ_url_check(v, 0, &u) != NULL || u.host_is_ip ||
		    (hl = strlen(u.host)) <= 10 || strcmp(u.host + hl - 10, ".slack.com") != 0)))
			msg = "Enter your Slack workspace address, https://<name>.slack.com.";
		break;
	}
	case K_SERVICE_ID:
		if (v == NULL)
			msg = "Enter the PagerDuty service ID.";
		else if (invalid || v[0] != 'P' || !matches(v + 1, 5, 15, upper_alnum))
			msg = "A PagerDuty service ID is P followed by 5 to 15 capital letters or "
			      "digits, e.g. PABC123.";
		break;
	case K_SERVICE_NAME:
		if (in->t == T_DATADOG) {
			if (v == NULL)
				msg = "Enter the Datadog service name.";
			else if (invalid || v[0] < 'a' || v[0] > 'z' || !matches(v, 1, 100, dd_service_char))
				msg = "Datadog service names start with a lowercase letter and use "
				      "lowercase letters, digits and _ - . : / (at most 100).";
		} else if (invalid) {
			msg = "Use at most 256 characters, without line breaks.";
		}
		break;
	case K_URL:
		if (v == NULL && !invalid)
			msg = "Enter the URL events are sent to.";
		else if (invalid)
			msg = "The URL is too long (at most 2048 characters) or contains control characters.";
		else
			msg = integ_url_check(v, allow_private(), NULL);
		break;
	case K_METHOD:
		if (v == NULL)
			msg = "Choose POST or PUT.";
		break;
	case K_AUTH_TYPE:
		if (v == NULL)
			msg = "Choose none, bearer token or HMAC signature.";
		break;
	case K_TIMEOUT_MS:
		if (v == NULL && !invalid)
			v = "5000";
		else if (invalid || !parse_range(v, 100, 30000, &n))
			msg = "Enter a whole number of milliseconds from 100 to 30000.";
		else
			v = arena_printf(c->arena, "%ld", n);
		break;
	case K_ENVIRONMENT:
		if (v == NULL)
			msg = "Enter the Sentry environment, e.g. production.";
		else if (invalid || !matches(v, 1, 64, env_char))
			msg = "Sentry environment names are 1 to 64 letters, digits, dots, hyphens "
			      "or underscores.";
		break;
	case K_SAMPLE_RATE:
	case K_TRACES_SAMPLE_RATE:
		if (v == NULL)
			msg = "Enter a number from 0 to 1, e.g. 0.25.";
		else if (invalid || (v = parse_rate(c, v)) == NULL)
			msg = "Enter a number from 0 to 1 (at most 6 decimals), e.g. 0.25.";
		break;
	case K_SITE:
		if (v == NULL)
			msg = "Choose one of the Datadog sites.";
		break;
	default:
		break;
	}
	if (msg != NULL) {
		field_error(c, k, msg);
		return;
	}
	if (k == K_TIMEOUT_MS || k == K_SAMPLE_RATE || k == K_TRACES_SAMPLE_RATE)
		json_raw(&in->config, fields[k].name, v);
	else
		json_str(&in->config, fields[k].name, v);
}

/*
 * Validate the whole form for type t (old: the stored integration on
 * update, with its decrypted secrets in stored when it has any). Errors are
 * set as form errors; returns the number of errors.
 */
static int validate(struct ctx *c, struct input *in, const struct integ *old,
                    const struct integ_secrets *stored)
{
	const struct field *f;
	struct strset agents, picked;
	const char *v;
	long n;
	int has_all = 0, has_other = 0;

	in->name = val(c, K_NAME);
	if (http_field_invalid(c->req, K_NAME))
		field_error(c, K_NAME, "Use at most 256 characters, without line breaks.");
	else if (in->name == NULL)
		field_error(c, K_NAME, "Enter a name for this integration.");
	if (old != NULL && c->req->fields[K_TYPE].state != FIELD_MISSING &&
	    (http_field(c->req, K_TYPE) == NULL || strcmp(http_field(c->req, K_TYPE), old->type) != 0))
		field_error(c, K_TYPE, "The type of an integration cannot be changed; "
		            "add a new integration instead.");
	if (is_webhook_like((int)in->t))
		in->auth = val(c, K_AUTH_TYPE);
	for (const int *k = type_fields[in->t]; *k >= 0; k++)
		check_field(c, *k, in, stored);

	/* Event filters. */
	f = &c->req->fields[K_ALERT_TYPES];
	picked.n = 0;
	if (f->state == FIELD_INVALID) {
		field_error(c, K_ALERT_TYPES, "Choose alert types from the list.");
	} else {
		for (; f != NULL && f->state == FIELD_VALID; f = f->next) {
			strset_add(&picked, f->value);
			if (strcmp(f->value, "all") == 0)
				has_all = 1;
			else
				has_other = 1;
		}
		if (has_all && has_other)
			field_error(c, K_ALERT_TYPES, "“All alert types” cannot be combined with "
			            "specific types.");
	}
	if (picked.n > 0) {
		json_key(&in->filters, "alert_types");
		buf_putc(&in->filters, '[');
		for (size_t i = 0; i < picked.n; i++) {
			if (i)
				buf_putc(&in->filters, ',');
			buf_json(&in->filters, picked.v[i]);
		}
		buf_putc(&in->filters, ']');
	} else {
		json_raw(&in->filters, "alert_types", NULL);
	}

	v = val(c, K_SEVERITY_MIN);
	if (http_field_invalid(c->req, K_SEVERITY_MIN) ||
	    (v != NULL && !in_list(severities, v) &&
	     (old == NULL || old->severity == NULL || strcmp(old->severity, v) != 0)))
		field_error(c, K_SEVERITY_MIN, "Choose a minimum severity from the list.");
	else
		json_str(&in->filters, "severity_min", v);

	f = &c->req->fields[K_AGENTS];
	picked.n = 0;
	if (load_agents(c, &agents) != 0)
		return 1;
	if (f->state == FIELD_INVALID) {
		field_error(c, K_AGENTS, "Choose agents from this workspace's list.");
	} else {
		for (; f != NULL && f->state == FIELD_VALID; f = f->next) {
			if (!strset_has(&agents, f->value)) {
				field_error(c, K_AGENTS, "Choose agents from this workspace's list.");
				break;
			}
			strset_add(&picked, f->value);
		}
	}
	json_key(&in->filters, "agents");
	if (picked.n == 0) {
		buf_puts(&in->filters, "null");
	} else {
		buf_putc(&in->filters, '[');
		for (size_t i = 0; i < picked.n; i++) {
			if (i)
				buf_putc(&in->filters, ',');
			buf_json(&in->filters, picked.v[i]);
		}
		buf_putc(&in->filters, ']');
	}

	v = val(c, K_RATE_LIMIT);
	if (http_field_invalid(c->req, K_RATE_LIMIT) ||
	    (v != NULL && !parse_range(v, 1, 10000, &n)))
		field_error(c, K_RATE_LIMIT, "Enter a whole number of events per minute from 1 to "
		            "10000, or leave it empty for no limit.");
	else
		in->rate = v != NULL ? arena_printf(c->arena, "%ld", n) : NULL;

	v = val(c, K_MAX_RETRIES);
	if (v == NULL && !http_field_invalid(c->req, K_MAX_RETRIES))
		v = "3";
	if (v == NULL || !parse_range(v, 0, 10, &n))
		field_error(c, K_MAX_RETRIES, "Enter a whole number of retries from 0 to 10.");
	else
		json_raw(&in->retry, "max_retries", arena_printf(c->arena, "%ld", n));
	v = val(c, K_BACKOFF);
	if (http_field_invalid(c->req, K_BACKOFF))
		field_error(c, K_BACKOFF, "Choose none, linear or exponential backoff.");
	else
		json_str(&in->retry, "backoff", v != NULL ? v : "exponential");
	json_end(&in->config);
	json_end(&in->filters);
	json_end(&in->retry);
	return tvars_get(c->vars, "has_errors") != NULL;
}

/* Read one integration of this workspace (locked for update when lock). 0 found, -1 not. */
static int load_one(struct ctx *c, const char *id, int lock, struct integ *it)
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
	it->t = (enum itype)type_index(it->type);
	PQclear(r);
	return (int)it->t >= 0 ? 0 : -1;
}

/* Decrypt it's secrets into s. 0 ok (also when none are stored), -1 when they cannot be read. */
static int open_secrets(struct ctx *c, const struct integ *it, struct integ_secrets *s)
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
static void credentials_unreadable(struct ctx *c)
{
	page_error(c, 503, "The stored secrets of this integration cannot be read with the "
	           "configured encryption keys. Ask the operator to restore the missing key.");
}

/* Fill s_<secret>_set/_by/_iso/_abs/_rel for one integration's secret fields into v. */
static void fill_secret_meta(struct ctx *c, struct tvars *v, PGresult *meta, const char *id,
                             enum itype t, int as_loop)
{
	for (const int *k = type_fields[t]; *k >= 0; k++) {
		const char *name = fields[*k].name;
		struct tvars *row = v;
		const char *prefix = arena_printf(c->arena, "s_%s", name);

		if (!is_secret(*k))
			continue;
		if (as_loop) {
			row = tvars_loop_add(v, "secrets");
			tvars_set(row, "label", secret_label(name));
			prefix = "s";
		}
		for (int i = 0; meta != NULL && i < PQntuples(meta); i++) {
			if (strcmp(PQgetvalue(meta, i, 0), id) != 0 ||
			    strcmp(PQgetvalue(meta, i, 1), name) != 0)
				continue;
			tvars_set(row, arena_printf(c->arena, "%s_set", prefix), "1");
			tvars_set(row, arena_printf(c->arena, "%s_by", prefix),
			          PQgetisnull(meta, i, 4) ? "someone no longer here" : PQgetvalue(meta, i, 4));
			set_time(c, row, prefix, db_value(c, meta, i, 2), db_value(c, meta, i, 3));
		}
	}
}

/* Who set which secret when, for one integration (id) or the whole workspace (NULL). */
static PGresult *secret_meta(struct ctx *c, const char *id)
{
	const char *params[2] = { c->ws->id, id };

	return db_exec(c, "integ_secret_meta", 2, params, NULL);
}

/* Webhook and custom integrations against the plan's limit. -1 on database failure. */
static int custom_limit(struct ctx *c, int lock, long *limit, long *count, int *unlimited)
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
	billed = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	/* A billing row with a NULL limit is unlimited; no billing row is the free plan. */
	*unlimited = billed ? PQgetisnull(r, 0, 1) : PQgetisnull(r, 0, 2);
	*limit = 0;
	if (!*unlimited)
		parse_long(PQgetvalue(r, 0, billed ? 1 : 2), 0, 1L << 40, limit);
	parse_long(PQgetvalue(r, 0, 3), 0, 1L << 40, count);
	PQclear(r);
	return 0;
}

/* custom_count, custom_limit / custom_unlimited, custom_at_limit for the templates. */
static void set_limit_vars(struct ctx *c)
{
	long limit, count;
	int unlimited;

	if (custom_limit(c, 0, &limit, &count, &unlimited) != 0)
		return;
	tvars_set_int(c->vars, "custom_count", count);
	if (unlimited) {
		tvars_set(c->vars, "custom_unlimited", "1");
	} else {
		tvars_set_int(c->vars, "custom_limit", limit);
		tvars_set_bool(c->vars, "custom_at_limit", count >= limit);
	}
}

/* A fresh create form's values (also under a re-shown one, for fields not sent). */
static void set_defaults(struct tvars *v)
{
	tvars_set(v, "v_method", "POST");
	tvars_set(v, "v_auth_type", "hmac");
	tvars_set(v, "v_timeout_ms", "5000");
	tvars_set(v, "v_environment", "production");
	tvars_set(v, "v_sample_rate", "1.0");
	tvars_set(v, "v_traces_sample_rate", "0.1");
	tvars_set(v, "v_site", "datadoghq.com");
	tvars_set(v, "v_max_retries", "3");
	tvars_set(v, "v_backoff", "exponential");
}

/*
 * The create or edit form for type t. it is the stored integration when
 * editing; from_db fills the values from it (a fresh edit form), otherwise
 * the submitted values are kept (a form re-shown after an error).
 */
static void render_form(struct ctx *c, int status, enum itype t, const struct integ *it,
                        int from_db)
{
	struct tvars *v = c->vars;
	struct strset agents, sel_alerts, sel_agents;
	const char *severity = NULL;
	PGresult *meta;
	int sev_known = 0;

	sel_alerts.n = sel_agents.n = 0;
	tvars_set(v, "nav", "integrations");
	tvars_set(v, "type", type_names[t]);
	tvars_set(v, "type_label", type_labels[t]);
	tvars_set(v, "list_path", list_path(c));
	tvars_set_bool(v, "webhook_like", is_webhook_like((int)t));
	if (it != NULL) {
		tvars_set(v, "title", arena_printf(c->arena, "Edit %s", it->name));
		tvars_set(v, "editing", "1");
		tvars_set(v, "id", it->id);
		tvars_set(v, "stored_name", it->name);
		tvars_set(v, "form_action", arena_printf(c->arena, "%s/%s", list_path(c), it->id));
		meta = secret_meta(c, it->id);
		fill_secret_meta(c, v, meta, it->id, t, 0);
		PQclear(meta);
	} else {
		tvars_set(v, "title", arena_printf(c->arena, "Add a %s integration", type_labels[t]));
		tvars_set(v, "form_action", list_path(c));
		if (is_webhook_like((int)t))
			set_limit_vars(c);
	}

	if (from_db && it != NULL) {
		const char *params[2] = { it->id, c->ws->id };
		PGresult *r = db_exec(c, "integ_items", 2, params, NULL);

		tvars_set(v, "v_integration_name", it->name);
		for (int i = 0; r != NULL && i < PQntuples(r); i++) {
			const char *kind = PQgetvalue(r, i, 0);

			if (strcmp(kind, "config") == 0) {
				const char *key = PQgetvalue(r, i, 1);

				for (int k = 0; k < K__MAX; k++)
					if (!is_secret(k) && strcmp(fields[k].name, key) == 0)
						tvars_set(v, arena_printf(c->arena, "v_%s", key),
						          PQgetvalue(r, i, 2));
			} else if (strcmp(kind, "alert_types") == 0) {
				strset_add(&sel_alerts, db_value(c, r, i, 2));
			} else {
				strset_add(&sel_agents, db_value(c, r, i, 2));
			}
		}
		PQclear(r);
		severity = it->severity;
		tvars_set(v, "v_rate_limit_per_minute", it->rate);
		tvars_set(v, "v_max_retries", it->retries ? it->retries : "3");
		tvars_set(v, "v_backoff", it->backoff ? it->backoff : "exponential");
	} else if (from_db) {
		set_defaults(v);
	} else {
		/* Re-shown: every submitted value except the secrets, which are never echoed. */
		if (it == NULL)
			set_defaults(v);
		for (int k = 0; k < K__MAX; k++) {
			const struct field *f = &c->req->fields[k];

			if (f->raw == NULL || k == K_ALERT_TYPES || k == K_AGENTS)
				continue;
			if (is_secret(k)) {
				if (f->raw[0] != '\0')
					tvars_set(v, arena_printf(c->arena, "s_%s_retype", fields[k].name), "1");
				continue;
			}
			tvars_set(v, arena_printf(c->arena, "v_%s", fields[k].name), f->raw);
		}
		for (const struct field *f = &c->req->fields[K_ALERT_TYPES]; f != NULL && f->raw; f = f->next)
			strset_add(&sel_alerts, f->raw);
		for (const struct field *f = &c->req->fields[K_AGENTS]; f != NULL && f->raw; f = f->next)
			strset_add(&sel_agents, f->raw);
		severity = c->req->fields[K_SEVERITY_MIN].raw;
	}
	tvars_set(v, "v_integration_type", type_names[t]);

	for (int i = 0; alert_types[i] != NULL; i++) {
		struct tvars *row = tvars_loop_add(v, "alert_type_options");

		tvars_set(row, "value", alert_types[i]);
		tvars_set(row, "label", alert_labels[i]);
		tvars_set_bool(row, "checked", strset_has(&sel_alerts, alert_types[i]));
	}
	for (int i = 0; severities[i] != NULL; i++) {
		struct tvars *row = tvars_loop_add(v, "severity_options");

		tvars_set(row, "value", severities[i]);
		tvars_set(row, "label", severities[i]);
		if (severity != NULL && strcmp(severity, severities[i]) == 0) {
			tvars_set(row, "selected", "1");
			sev_known = 1;
		}
	}
	/* A stored level outside today's list stays selectable, so saving keeps it. */
	if (severity != NULL && *severity != '\0' && !sev_known && it != NULL &&
	    it->severity != NULL && strcmp(severity, it->severity) == 0) {
		struct tvars *row = tvars_loop_add(v, "severity_options");

		tvars_set(row, "value", severity);
		tvars_set(row, "label", arena_printf(c->arena, "%s (current setting)", severity));
		tvars_set(row, "selected", "1");
	}
	if (load_agents(c, &agents) == 0) {
		for (size_t i = 0; i < agents.n; i++) {
			struct tvars *row = tvars_loop_add(v, "agent_options");

			tvars_set(row, "name", agents.v[i]);
			tvars_set_int(row, "n", (long long)i);
			tvars_set_bool(row, "checked", strset_has(&sel_agents, agents.v[i]));
		}
	}
	for (int i = 0; dd_sites[i] != NULL; i++) {
		struct tvars *row = tvars_loop_add(v, "site_options");
		const char *cur = tvars_get(v, "v_site");

		tvars_set(row, "value", dd_sites[i]);
		tvars_set_bool(row, "selected", cur != NULL && strcmp(cur, dd_sites[i]) == 0);
	}
	for (int i = 0; auth_types[i] != NULL; i++) {
		struct tvars *row = tvars_loop_add(v, "auth_options");
		const char *cur = tvars_get(v, "v_auth_type");

		tvars_set(row, "value", auth_types[i]);
		tvars_set(row, "label", auth_labels[i]);
		tvars_set_bool(row, "selected", cur != NULL && strcmp(cur, auth_types[i]) == 0);
	}
	page_render(c, status, "integrations_form.tmpl");
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

/* GET /w/{slug}/settings/integrations: the list, for every role. 200. */
static void list_get(struct ctx *c)
{
	enum { L_ID, L_TYPE, L_NAME, L_ENABLED, L_HEALTH, L_HEALTH_MSG, L_CHECK, L_CHECK_AGE,
	       L_SYNC, L_SYNC_AGE, L_ERROR, L_ERROR_AGE, L_ERROR_MSG, L_SENT, L_ERRORS,
	       L_CHANNEL_NAME, L_CHANNEL_ID, L_SERVICE_NAME, L_SERVICE_ID, L_URL, L_METHOD,
	       L_ENVIRONMENT, L_SITE, L_AUTH, L_ALERTS, L_SEVERITY, L_AGENTS, L_RATE,
	       L_RETRIES, L_BACKOFF };
	const char *params[2] = { c->ws->id, NULL };
	int manage = rbac_can(c->ws->role, PERM_MANAGE_INTEGRATIONS);
	PGresult *r, *meta;

	tvars_set(c->vars, "title", "Integrations");
	tvars_set(c->vars, "nav", "integrations");
	tvars_set(c->vars, "list_path", list_path(c));
	tvars_set_bool(c->vars, "can_manage", manage);
	if (manage) {
		add_type_rows(c);
		set_limit_vars(c);
	}
	r = db_exec(c, "integ_list", 1, params, NULL);
	if (r == NULL)
		return;
	meta = secret_meta(c, NULL);
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
		tvars_set_bool(row, "testable", is_webhook_like(t));
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
		    PQgetisnull(r, i, L_ALERTS) || strcmp(PQgetvalue(r, i, L_ALERTS), "all") == 0
		        ? "all alert types" : PQgetvalue(r, i, L_ALERTS),
		    PQgetisnull(r, i, L_SEVERITY) ? "any severity"
		        : arena_printf(c->arena, "severity %s and above", PQgetvalue(r, i, L_SEVERITY)),
		    PQgetisnull(r, i, L_AGENTS) ? "all agents"
		        : arena_printf(c->arena, "agents %s", PQgetvalue(r, i, L_AGENTS)));
		tvars_set(row, "filters", filters);
		retry = arena_printf(c->arena, "%s %s, %s backoff; %s",
		    PQgetisnull(r, i, L_RETRIES) ? "3" : PQgetvalue(r, i, L_RETRIES),
		    PQgetisnull(r, i, L_RETRIES) || strcmp(PQgetvalue(r, i, L_RETRIES), "1") != 0
		        ? "retries" : "retry",
		    PQgetisnull(r, i, L_BACKOFF) ? "exponential" : PQgetvalue(r, i, L_BACKOFF),
		    PQgetisnull(r, i, L_RATE) ? "no rate limit"
		        : arena_printf(c->arena, "at most %s events a minute", PQgetvalue(r, i, L_RATE)));
		tvars_set(row, "delivery", retry);
		fill_secret_meta(c, row, meta, PQgetvalue(r, i, L_ID), (enum itype)t, 1);
	}
	PQclear(r);
	PQclear(meta);
	page_render(c, 200, "integrations.tmpl");
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
			page_error(c, 404, "There is no such integration in this workspace.");
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
	if (is_webhook_like(t)) {
		long limit, count;
		int unlimited;

		if (custom_limit(c, 1, &limit, &count, &unlimited) != 0)
			goto out;
		if (!unlimited && count >= limit) {
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
		page_error(c, 503, "The integration could not be saved. Please try again.");
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
			page_error(c, 404, "There is no such integration in this workspace.");
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
		page_error(c, 503, "The integration could not be saved. Please try again.");
		goto out;
	}
	params[0] = it.id;
	params[1] = c->ws->id;
	saved_fields(c, &in, ct, key_id, params + 2);
	if ((r = write_or_conflict(c, "integ_update", 11, params, it.t, &it)) == NULL)
		goto out;
	if (PQntuples(r) != 1) {
		PQclear(r);
		page_error(c, 404, "There is no such integration in this workspace.");
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
			page_error(c, 404, "There is no such integration in this workspace.");
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
			page_error(c, 404, "There is no such integration in this workspace.");
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
			page_error(c, 404, "There is no such integration in this workspace.");
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

/*
 * After the outgoing request: a new transaction with the session and
 * membership checked again (row-level security context included). 0 when
 * the person may still manage integrations here.
 */
static int context_renew(struct ctx *c)
{
	const char *token = app_get_cookie(c, "session"), *params[3];
	char hash[65], idle[24];
	PGresult *r;
	int ok;

	if (db_command(c, "BEGIN") != 0) {
		c->db_failed = 1;
		return -1;
	}
	if (token == NULL)
		return -1;
	crypto_sha256_hex(token, strlen(token), hash);
	snprintf(idle, sizeof(idle), "%ld", app_config.session_idle_seconds);
	params[0] = hash;
	params[1] = c->ws->slug;
	params[2] = idle;
	r = db_exec(c, "session_context", 3, params, NULL);
	if (r == NULL)
		return -1;
	ok = PQntuples(r) == 1 && !PQgetisnull(r, 0, 5) &&
	     strcmp(PQgetvalue(r, 0, 5), c->ws->id) == 0 &&
	     rbac_can(role_parse(PQgetvalue(r, 0, 9)), PERM_MANAGE_INTEGRATIONS);
	PQclear(r);
	return ok ? 0 : -1;
}

/*
 * POST .../{id}/test: send a signed sample event to a webhook or custom
 * integration now and record the outcome. 303 to the list with the result
 * (status, latency) as the notice; 404 for an id not in this workspace; 409
 * for other types or a missing secret.
 */
static void test_post(struct ctx *c)
{
	struct integ it;
	struct integ_secrets s;
	struct integ_request rq;
	struct integ_result res;
	const char *headers[8], *secret = NULL, *health, *message, *notice, *params[6];
	char event_id[37], stamp[32], ts[24], sig[65];
	struct buf body;
	time_t now = time(NULL);
	struct tm tm;
	long timeout = 5000;
	size_t nh = 0;
	int ok;
	PGresult *r;

	if (load_one(c, route_uuid(c, 1), 0, &it) != 0) {
		if (!c->db_failed)
			page_error(c, 404, "There is no such integration in this workspace.");
		return;
	}
	if (!is_webhook_like((int)it.t)) {
		page_error(c, 409, "Test events can be sent from here for webhook and custom "
		           "integrations only.");
		return;
	}
	if (it.url == NULL) {
		page_error(c, 409, "This integration has no URL yet; edit it first.");
		return;
	}
	if (open_secrets(c, &it, &s) != 0) {
		credentials_unreadable(c);
		return;
	}
	if (it.auth != NULL && strcmp(it.auth, "none") != 0) {
		secret = integ_secrets_get(&s, "secret");
		if (secret == NULL) {
			integ_secrets_wipe(&s);
			page_error(c, 409, "This integration authenticates with a secret, but none is "
			           "set. Edit it and enter the secret first.");
			return;
		}
		secret = arena_strdup(c->arena, secret);
	}
	integ_secrets_wipe(&s);
	if (it.timeout != NULL)
		parse_long(it.timeout, 100, 30000, &timeout);
	if (new_uuid(event_id) != 0) {
		page_error(c, 503, "The test event could not be prepared. Please try again.");
		return;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(ts, sizeof(ts), "%lld", (long long)now);

	buf_init(&body);
	buf_puts(&body, "{\"id\":");
	buf_json(&body, event_id);
	buf_puts(&body, ",\"type\":\"integration.test\",\"test\":true,\"created_at\":");
	buf_json(&body, stamp);
	buf_puts(&body, ",\"workspace\":{\"id\":");
	buf_json(&body, c->ws->id);
	buf_puts(&body, ",\"slug\":");
	buf_json(&body, c->ws->slug);
	buf_puts(&body, ",\"name\":");
	buf_json(&body, c->ws->name);
	buf_puts(&body, "},\"integration\":{\"id\":");
	buf_json(&body, it.id);
	buf_puts(&body, ",\"name\":");
	buf_json(&body, it.name);
	buf_puts(&body, ",\"type\":");
	buf_json(&body, it.type);
	buf_puts(&body, "},\"alert\":{\"type\":\"test\",\"severity\":\"info\",\"message\":");
	buf_json(&body, "This is a test event sent from the integration settings page.");
	buf_puts(&body, "}}");

	headers[nh++] = "Content-Type: application/json";
	headers[nh++] = "X-Settings-Event: integration.test";
	headers[nh++] = arena_printf(c->arena, "X-Settings-Delivery: %s", event_id);
	headers[nh++] = arena_printf(c->arena, "X-Settings-Timestamp: %s", ts);
	if (secret != NULL && strcmp(it.auth, "bearer") == 0) {
		headers[nh++] = arena_printf(c->arena, "Authorization: Bearer %s", secret);
	} else if (secret != NULL && strcmp(it.auth, "hmac") == 0) {
		/* Signed: HMAC-SHA256(secret, "<timestamp>.<body>"), so a replay needs a fresh stamp. */
		const char *signed_text = arena_printf(c->arena, "%s.%s", ts, body.data);

		crypto_hmac_sha256_hex(secret, strlen(secret), signed_text, strlen(signed_text), sig);
		headers[nh++] = arena_printf(c->arena, "X-Settings-Signature: sha256=%s", sig);
	}
	headers[nh] = NULL;

	memset(&rq, 0, sizeof(rq));
	rq.url = it.url;
	rq.method = it.method != NULL && strcmp(it.method, "PUT") == 0 ? "PUT" : "POST";
	rq.body = body.data;
	rq.headers = headers;
	rq.timeout_ms = timeout;
	rq.allow_private = allow_private();

	/* No transaction (and no lock) stays open while the request is out. */
	if (db_command(c, "COMMIT") != 0) {
		c->db_failed = 1;
		buf_free(&body);
		return;
	}
	ok = integ_send(&rq, &res) == 0;
	buf_free(&body);
	if (context_renew(c) != 0) {
		if (!c->db_failed)
			page_error(c, 403, "Your access changed while the test event was being sent; "
			           "nothing was recorded.");
		return;
	}

	if (ok) {
		health = "healthy";
		message = arena_printf(c->arena, "Test event delivered: HTTP %ld in %ld ms.",
		                       res.status, res.latency_ms);
		notice = arena_printf(c->arena, "Test event to “%s” delivered: HTTP %ld in %ld ms.",
		                      it.name, res.status, res.latency_ms);
	} else {
		/* Reachable but failing (busy, overloaded) is degraded; otherwise unhealthy. */
		health = res.status == 408 || res.status == 429 || res.status >= 500 ? "degraded"
		                                                                      : "unhealthy";
		message = arena_printf(c->arena, "Test event failed after %ld ms: %s",
		                       res.latency_ms, res.error);
		notice = arena_printf(c->arena, "Test event to “%s” failed%s after %ld ms: %s "
		                      "Health is now %s.", it.name,
		                      res.status ? arena_printf(c->arena, " (HTTP %ld)", res.status) : "",
		                      res.latency_ms, res.error, health);
	}
	params[0] = it.id;
	params[1] = c->ws->id;
	params[2] = health;
	params[3] = message;
	params[4] = ok ? "true" : "false";
	params[5] = res.error;
	r = db_exec(c, "integ_record", 6, params, NULL);
	if (r == NULL)
		return;
	if (PQntuples(r) != 1) {
		PQclear(r);
		page_error(c, 404, "The integration was deleted while the test event was being sent.");
		return;
	}
	PQclear(r);
	if (audit_log(c, "integration.tested", "integration", it.id,
	              json_object(c->arena, "event_id", event_id,
	                          "outcome", ok ? "delivered" : res.refused ? "refused" : "failed",
	                          "http_status", res.status ? arena_printf(c->arena, "%ld", res.status) : NULL,
	                          "latency_ms", arena_printf(c->arena, "%ld", res.latency_ms),
	                          "error", ok ? NULL : res.error, "health", health, NULL)) != 0)
		return;
	page_redirect_notice(c, list_path(c), notice);
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
	{ "GET", W, list_get, ROUTE_WORKSPACE, PERM_VIEW_WORKSPACE, NULL, 0 },
	{ "POST", W, create_post, MANAGE },
	{ "GET", W "/new", new_get, MANAGE },
	{ "GET", W "/*", edit_get, MANAGE },
	{ "POST", W "/*", update_post, MANAGE },
	{ "POST", W "/*/enable", enable_post, MANAGE },
	{ "POST", W "/*/disable", disable_post, MANAGE },
	{ "GET", W "/*/delete", delete_get, MANAGE },
	{ "POST", W "/*/delete", delete_post, MANAGE },
	{ "POST", W "/*/test", test_post, MANAGE },
};

static const char *const templates[] = {
	"integrations.tmpl", "integrations_form.tmpl", "integrations_new.tmpl",
	"integrations_delete.tmpl", NULL,
};

static const struct page page = {
	"integrations", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, integrations_init,
};

static const char usage[] =
    "usage: integrations [--socket PATH] [--workers N]   serve the integrations page\n"
    "       integrations --rotate-keys                   re-encrypt every stored secret\n"
    "\n"
    "Key rotation, with SETTINGS_CREDENTIALS_KEYS=\"id:base64key,...\" (the first key\n"
    "encrypts, every key decrypts):\n"
    "  1. put the new key first, keep the old one after it, restart the executables;\n"
    "  2. run `integrations --rotate-keys` with that ring and MIGRATE_URL naming the\n"
    "     owner role (it crosses workspaces, which row-level security forbids the\n"
    "     application role): every secret not under the new key is re-encrypted, in\n"
    "     one transaction, with an audit row per integration;\n"
    "  3. drop the old key from the ring and restart the executables.\n";

/* Serve the page (FastCGI or CGI), or run the key rotation command. */
int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--rotate-keys") == 0)
		return integ_rotate_keys();
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	return app_main(argc, argv, &page);
}
