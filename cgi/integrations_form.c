/* integrations_form.c: the integrations page's form: per-type field table, validation, the form page */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrations.h"
#include "integ_net.h"

const char *const methods[] = { "POST", "PUT", NULL };
const char *const auth_types[] = { "none", "bearer", "hmac", NULL };
const char *const auth_labels[] = { "None", "Bearer token", "HMAC-SHA256 signature" };
const char *const backoffs[] = { "none", "linear", "exponential", NULL };
const char *const dd_sites[] = {
	"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu",
	"ap1.datadoghq.com", "ap2.datadoghq.com", "ddog-gov.com", NULL,
};
const char *const alert_types[] = {
	"all", "budget_exceeded", "error_spike", "latency_high", "system_down", NULL,
};
const char *const alert_labels[] = {
	"All alert types", "Budget exceeded", "Error spike", "Latency high", "System down",
};
const char *const severities[] = { "info", "warning", "error", "critical", NULL };
/* The confirmation field, the same everywhere (SPEC section 4). */
static const char *const confirm_values[] = { "1", NULL };

/* The form fields (SPEC section 4), validated by this table before any handler runs. */

const struct field_spec fields[K__MAX] = {
	[K_TYPE] = { "integration_type", valid_choice, 1, 16, type_names, 0, 0 },
	[K_QTYPE] = { "type", valid_choice, 1, 16, type_names, 0, 0 },
	[K_NAME] = { "integration_name", valid_line, 0, 256, NULL, 0, 0 },
	[K_CHANNEL_ID] = { "channel_id", valid_line, 0, 64, NULL, 0, 0 },
	[K_CHANNEL_NAME] = { "channel_name", valid_line, 0, 128, NULL, 0, 0 },
	[K_WORKSPACE_URL] = { "workspace_url", valid_line, 0, 2048, NULL, 0, 0 },
	[K_BOT_TOKEN] = { "bot_token", valid_line, 0, 4096, NULL, 0, 0 },
	[K_WEBHOOK_URL] = { "webhook_url", valid_line, 0, 2048, NULL, 0, 0 },
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
	[K_CONFIRM] = { "confirm", valid_choice, 1, 8, confirm_values, 0, 0 },
	[K_PAGE] = { "page", valid_int, 1, 7, NULL, 1, 1000000 },
};

/* Secret fields: the key in the encrypted JSON object is the field name. */
int is_secret(int k)
{
	return k == K_BOT_TOKEN || k == K_WEBHOOK_URL || k == K_ROUTING_KEY || k == K_SECRET || k == K_DSN ||
	       k == K_API_KEY || k == K_APP_KEY;
}

/* Per type: the type-specific fields, in form order; secrets last. */
const int type_fields[T__MAX][6] = {
	[T_SLACK] = { K_CHANNEL_ID, K_CHANNEL_NAME, K_WORKSPACE_URL, K_BOT_TOKEN, K_WEBHOOK_URL, -1 },
	[T_PAGERDUTY] = { K_SERVICE_ID, K_SERVICE_NAME, K_ROUTING_KEY, -1 },
	[T_WEBHOOK] = { K_URL, K_METHOD, K_AUTH_TYPE, K_TIMEOUT_MS, K_SECRET, -1 },
	[T_SENTRY] = { K_ENVIRONMENT, K_SAMPLE_RATE, K_TRACES_SAMPLE_RATE, K_DSN, -1 },
	[T_DATADOG] = { K_SITE, K_SERVICE_NAME, K_API_KEY, K_APP_KEY, -1 },
	[T_CUSTOM] = { K_URL, K_METHOD, K_AUTH_TYPE, K_TIMEOUT_MS, K_SECRET, -1 },
};

const char *const secret_labels[][2] = {
	{ "bot_token", "Bot token" }, { "webhook_url", "Incoming webhook URL" },
	{ "routing_key", "Routing key" }, { "secret", "Secret" },
	{ "dsn", "DSN" }, { "api_key", "API key" }, { "app_key", "Application key" },
};


/* 1 when x is in the set. */
int strset_has(const struct strset *s, const char *x)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], x) == 0)
			return 1;
	return 0;
}

/* Add x once (silently bounded). */
void strset_add(struct strset *s, const char *x)
{
	if (x != NULL && !strset_has(s, x) && s->n < sizeof(s->v) / sizeof(s->v[0]))
		s->v[s->n++] = x;
}

/* "Bot token" for "bot_token". */
const char *secret_label(const char *name)
{
	for (size_t i = 0; i < sizeof(secret_labels) / sizeof(secret_labels[0]); i++)
		if (strcmp(secret_labels[i][0], name) == 0)
			return secret_labels[i][1];
	return name;
}

/* Trimmed value of field k: NULL when missing, invalid or blank. */
const char *val(struct ctx *c, int k)
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
void field_error(struct ctx *c, int k, const char *message)
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
static int slack_hook_char(int ch) { return alnum(ch) || ch == '/' || ch == '_' || ch == '-'; }
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
int parse_range(const char *s, long min, long max, long *out)
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


/* Start / release the JSON buffers of a form's input. */
void input_init(struct input *in)
{
	memset(in, 0, sizeof(*in));
	buf_init(&in->config);
	buf_init(&in->filters);
	buf_init(&in->retry);
}

void input_free(struct input *in)
{
	buf_free(&in->config);
	buf_free(&in->filters);
	buf_free(&in->retry);
}

/* JSON objects built key by key into a buf: the first key opens the object. */
void json_key(struct buf *b, const char *key)
{
	buf_putc(b, b->len == 0 ? '{' : ',');
	buf_json(b, key);
	buf_putc(b, ':');
}

void json_str(struct buf *b, const char *key, const char *v)
{
	json_key(b, key);
	if (v == NULL)
		buf_puts(b, "null");
	else
		buf_json(b, v);
}

void json_raw(struct buf *b, const char *key, const char *raw)
{
	json_key(b, key);
	buf_puts(b, raw != NULL ? raw : "null");
}

/* Close the object ("{}" when nothing was added); returns its text. */
const char *json_end(struct buf *b)
{
	if (b->len == 0)
		buf_putc(b, '{');
	buf_putc(b, '}');
	return b->data;
}

/* The workspace's agent names. */
int load_agents(struct ctx *c, struct strset *out)
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
		/* Slack needs a bot token, or else an incoming webhook URL. */
		int webhook = val(c, K_WEBHOOK_URL) != NULL ||
		              (stored != NULL && integ_secrets_get(stored, "webhook_url") != NULL);
		int needed = k != K_APP_KEY && k != K_WEBHOOK_URL && (k != K_BOT_TOKEN || !webhook) &&
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
		} else if (k == K_WEBHOOK_URL) {
			if (strncmp(v, "https://hooks.slack.com/services/", 33) != 0 ||
			    !matches(v + 33, 10, 200, slack_hook_char))
				msg = "A Slack incoming webhook URL starts with "
				      "https://hooks.slack.com/services/.";
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
int validate(struct ctx *c, struct input *in, const struct integ *old,
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

/* Fill s_<secret>_set/_by/_iso/_abs/_rel for one integration's secret fields into v. */
void fill_secret_meta(struct ctx *c, struct tvars *v, PGresult *meta, const char *id,
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
void render_form(struct ctx *c, int status, enum itype t, const struct integ *it,
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

