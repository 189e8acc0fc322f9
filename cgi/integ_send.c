/* integ_send.c: each integration type's wire format: the requests an event becomes */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "integ_send.h"

/*
 * The services' fixed addresses. Only SETTINGS_INTEGRATION_ENDPOINT_OVERRIDE
 * (tests, together with SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1) replaces them.
 */
#define SLACK_API "https://slack.com"
#define PAGERDUTY_EVENTS "https://events.pagerduty.com"

static const char *secret(const struct integ_target *t, const char *name)
{
	const char *v = t->secrets != NULL ? integ_secrets_get(t->secrets, name) : NULL;

	return v != NULL && *v != '\0' ? v : NULL;
}

static int is_type(const struct integ_target *t, const char *name)
{
	return t->type != NULL && strcmp(t->type, name) == 0;
}

static int webhook_like(const struct integ_target *t)
{
	return is_type(t, "webhook") || is_type(t, "custom");
}

const char *integ_missing(const struct integ_target *t)
{
	if (is_type(t, "slack")) {
		if (secret(t, "webhook_url") != NULL)
			return NULL;
		if (secret(t, "bot_token") == NULL)
			return "bot_token";
		if (t->channel_id == NULL)
			return "channel_id";
	} else if (is_type(t, "pagerduty")) {
		if (secret(t, "routing_key") == NULL)
			return "routing_key";
	} else if (is_type(t, "sentry")) {
		if (secret(t, "dsn") == NULL)
			return "dsn";
	} else if (is_type(t, "datadog")) {
		if (secret(t, "api_key") == NULL)
			return "api_key";
	} else if (webhook_like(t)) {
		if (t->url == NULL)
			return "url";
		if (t->auth_type != NULL && strcmp(t->auth_type, "none") != 0 &&
		    secret(t, "secret") == NULL)
			return "secret";
	}
	return NULL;
}

static void msg_init(struct integ_msg *m, char *url, const char *method)
{
	memset(m, 0, sizeof(*m));
	m->url = url;
	m->method = method;
	buf_init(&m->body);
}

static void add_header(struct integ_msg *m, const char *name, const char *value)
{
	size_t n = 0;
	struct buf b;

	while (n < INTEG_MSG_HEADERS && m->headers[n] != NULL)
		n++;
	if (n == INTEG_MSG_HEADERS)
		return;
	buf_init(&b);
	buf_printf(&b, "%s: %s", name, value);
	m->headers[n] = b.data;
}

static void bearer(struct integ_msg *m, const char *token)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "Bearer %s", token);
	add_header(m, "Authorization", b.data);
	buf_free(&b);
}

void integ_msg_free(struct integ_msg *m)
{
	free(m->url);
	for (size_t i = 0; i < INTEG_MSG_HEADERS; i++)
		free(m->headers[i]);
	buf_free(&m->body);
	memset(m, 0, sizeof(*m));
}

/* base (or the override) followed by path, malloc'd. */
static char *endpoint(const char *base, const char *override, const char *path)
{
	struct buf b;
	size_t ol = override ? strlen(override) : 0;

	buf_init(&b);
	if (override != NULL) {
		buf_append(&b, override, ol > 0 && override[ol - 1] == '/' ? ol - 1 : ol);
	} else {
		buf_puts(&b, base);
	}
	buf_puts(&b, path);
	return b.data;
}

/* Up to max bytes of s, not cutting a UTF-8 sequence. */
static void json_str_max(struct buf *b, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	char *cut;

	if (s == NULL) {
		buf_puts(b, "null");
		return;
	}
	if (n <= max) {
		buf_json(b, s);
		return;
	}
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	cut = strndup(s, max);
	if (cut == NULL)
		abort();
	buf_json(b, cut);
	free(cut);
}

/* ,"key":"value" (or null) */
static void kv(struct buf *b, const char *key, const char *v)
{
	buf_putc(b, ',');
	buf_json(b, key);
	buf_putc(b, ':');
	if (v == NULL)
		buf_puts(b, "null");
	else
		buf_json(b, v);
}

/* Slack's mrkdwn needs &, < and > escaped (api.slack.com/reference/surfaces/formatting#escaping). */
static void slack_escaped(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '&')
			buf_puts(b, "&amp;");
		else if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else
			buf_putc(b, *s);
	}
}

static const char *event_words(const struct integ_event *ev)
{
	if (ev->test)
		return "Test event";
	if (strcmp(ev->event_type, "error_spike") == 0)
		return "Error spike";
	if (strcmp(ev->event_type, "budget_exceeded") == 0)
		return "Budget exceeded";
	if (strcmp(ev->event_type, "agent_down") == 0)
		return "Agent down";
	if (strcmp(ev->event_type, "latency_high") == 0)
		return "Latency high";
	return ev->event_type;
}

/*
 * Slack, chat.postMessage (https://api.slack.com/methods/chat.postMessage):
 * POST https://slack.com/api/chat.postMessage, "Authorization: Bearer
 * xoxb-...", a JSON body (Content-Type: application/json; charset=utf-8)
 * with channel and text (the notification fallback) and blocks
 * (https://api.slack.com/reference/block-kit/blocks). Slack answers HTTP 200
 * with {"ok": false, "error": "..."} on failure. Slack does not deduplicate
 * messages; the delivery id goes in the message metadata
 * (https://api.slack.com/metadata/using) so a retry can be recognised.
 */
static int build_slack(const struct integ_target *t, const struct integ_event *ev,
                       const char *override, struct integ_msg *m)
{
	const char *hook = secret(t, "webhook_url");
	struct buf text;

	if (hook != NULL) {
		/*
		 * An incoming webhook (https://api.slack.com/messaging/webhooks):
		 * POST the same JSON (text, blocks; the channel is the webhook's own)
		 * to its URL; Slack answers 200 "ok". The override keeps its path.
		 */
		const char *path = strstr(hook, "/services/");

		msg_init(m, override != NULL && path != NULL ? endpoint("", override, path)
		                                             : strdup(hook), "POST");
		if (m->url == NULL)
			abort();
	} else {
		msg_init(m, endpoint(SLACK_API, override, "/api/chat.postMessage"), "POST");
		m->slack_api = 1;
		bearer(m, secret(t, "bot_token"));
	}
	add_header(m, "Content-Type", "application/json; charset=utf-8");
	buf_init(&text);
	buf_puts(&text, "*");
	slack_escaped(&text, ev->title);
	buf_puts(&text, "*");
	if (ev->body != NULL && *ev->body != '\0') {
		buf_puts(&text, "\n");
		slack_escaped(&text, ev->body);
	}
	buf_putc(&m->body, '{');
	if (hook == NULL) {
		buf_puts(&m->body, "\"channel\":");
		buf_json(&m->body, t->channel_id);
		buf_putc(&m->body, ',');
	}
	buf_puts(&m->body, "\"text\":");
	{
		struct buf fb;

		buf_init(&fb);
		buf_printf(&fb, "%s: ", event_words(ev));
		slack_escaped(&fb, ev->title);
		json_str_max(&m->body, fb.data, 3000);
		buf_free(&fb);
	}
	buf_puts(&m->body, ",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
	json_str_max(&m->body, text.data, 3000);
	buf_puts(&m->body, "}},{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":");
	buf_reset(&text);
	buf_printf(&text, "%s · severity %s", event_words(ev), ev->severity);
	if (ev->agent != NULL) {
		buf_puts(&text, " · agent ");
		slack_escaped(&text, ev->agent);
	}
	buf_puts(&text, " · ");
	slack_escaped(&text, ev->workspace_name);
	json_str_max(&m->body, text.data, 3000);
	buf_puts(&m->body, "}]}],\"unfurl_links\":false,\"unfurl_media\":false,"
	         "\"metadata\":{\"event_type\":\"agent_alert\",\"event_payload\":{\"delivery_id\":");
	buf_json(&m->body, ev->delivery_id);
	kv(&m->body, "alert_type", ev->event_type);
	buf_puts(&m->body, "}}}");
	buf_free(&text);
	return 1;
}

/* PagerDuty's severities: critical, error, warning, info. */
static const char *pd_severity(const char *s)
{
	if (s != NULL && (strcmp(s, "critical") == 0 || strcmp(s, "error") == 0 ||
	                  strcmp(s, "warning") == 0))
		return s;
	return "info";
}

/*
 * PagerDuty, Events API v2
 * (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and
 * .../resolve-events/): POST https://events.pagerduty.com/v2/enqueue,
 * Content-Type: application/json, {"routing_key", "event_action":
 * "trigger", "dedup_key", "payload": {"summary" (at most 1024 characters),
 * "source", "severity", "timestamp", "component", "group", "class",
 * "custom_details"}}; a resolve carries routing_key, event_action
 * "resolve" and the same dedup_key. The delivery id is the dedup_key, so a
 * retried trigger does not open a second incident. Answers 202.
 */
static void build_pd(const struct integ_target *t, const struct integ_event *ev,
                     const char *override, const char *action, struct integ_msg *m)
{
	msg_init(m, endpoint(PAGERDUTY_EVENTS, override, "/v2/enqueue"), "POST");
	add_header(m, "Content-Type", "application/json");
	buf_puts(&m->body, "{\"routing_key\":");
	buf_json(&m->body, secret(t, "routing_key"));
	kv(&m->body, "event_action", action);
	kv(&m->body, "dedup_key", ev->delivery_id);
	if (strcmp(action, "trigger") == 0) {
		buf_puts(&m->body, ",\"payload\":{\"summary\":");
		{
			struct buf s;

			buf_init(&s);
			buf_printf(&s, "%s: %s", event_words(ev), ev->title);
			json_str_max(&m->body, s.data, 1024);
			buf_free(&s);
		}
		kv(&m->body, "source", ev->agent != NULL ? ev->agent : ev->workspace_slug);
		kv(&m->body, "severity", pd_severity(ev->severity));
		kv(&m->body, "timestamp", ev->created_at);
		kv(&m->body, "component", ev->agent);
		kv(&m->body, "group", ev->workspace_slug);
		kv(&m->body, "class", ev->event_type);
		buf_puts(&m->body, ",\"custom_details\":{\"body\":");
		buf_json(&m->body, ev->body != NULL ? ev->body : "");
		kv(&m->body, "workspace", ev->workspace_name);
		kv(&m->body, "integration", ev->integration_name);
		kv(&m->body, "test", ev->test ? "yes" : "no");
		buf_puts(&m->body, "}}");
		buf_puts(&m->body, ",\"client\":\"Agent observability settings\"");
	}
	buf_putc(&m->body, '}');
}

/* The parts of a Sentry DSN, https://<public key>@<host>[:port]/[path/]<project id>. */
struct dsn {
	char key[72], hostport[272], path[256], project[24];
};

static int dsn_parse(const char *v, struct dsn *d)
{
	const char *at, *slash, *last;
	size_t kl, hl, pl;

	memset(d, 0, sizeof(*d));
	if (v == NULL || strncmp(v, "https://", 8) != 0 || (at = strchr(v + 8, '@')) == NULL)
		return -1;
	kl = (size_t)(at - v - 8);
	/* A DSN may carry key:secret (older DSNs); only the public key is used. */
	if (memchr(v + 8, ':', kl) != NULL)
		kl = (size_t)((const char *)memchr(v + 8, ':', kl) - (v + 8));
	if ((slash = strchr(at, '/')) == NULL)
		return -1;
	last = strrchr(slash, '/');
	hl = (size_t)(slash - at - 1);
	pl = (size_t)(last - slash);             /* "/" or "/path/" without the last '/' */
	if (kl == 0 || kl >= sizeof(d->key) || hl == 0 || hl >= sizeof(d->hostport) ||
	    pl >= sizeof(d->path) || strlen(last + 1) == 0 || strlen(last + 1) >= sizeof(d->project))
		return -1;
	memcpy(d->key, v + 8, kl);
	memcpy(d->hostport, at + 1, hl);
	memcpy(d->path, slash, pl);
	strcpy(d->project, last + 1);
	return 0;
}

/* Sentry's levels: fatal, error, warning, info, debug. */
static const char *sentry_level(const char *s)
{
	if (s != NULL && strcmp(s, "critical") == 0)
		return "fatal";
	if (s != NULL && (strcmp(s, "error") == 0 || strcmp(s, "warning") == 0))
		return s;
	return "info";
}

/*
 * Sentry, the store endpoint (https://develop.sentry.dev/sdk/store/) with
 * the DSN's authentication (https://develop.sentry.dev/sdk/overview/#authentication):
 * POST https://<host>/[path/]api/<project id>/store/ with "X-Sentry-Auth:
 * Sentry sentry_version=7, sentry_client=..., sentry_timestamp=...,
 * sentry_key=<public key>" and an event (https://develop.sentry.dev/sdk/event-payloads/):
 * event_id (32 hexadecimal digits: the delivery id, which Sentry uses to
 * drop duplicates), timestamp, platform, level, logger, environment,
 * message, tags. The DSN names the host (sentry.io or self-hosted).
 */
static int build_sentry(const struct integ_target *t, const struct integ_event *ev,
                        const char *override, time_t now, struct integ_msg *m)
{
	struct dsn d;
	struct buf b, id;
	char ts[24];

	if (dsn_parse(secret(t, "dsn"), &d) != 0)
		return 0;
	buf_init(&b);
	buf_printf(&b, "%s/api/%s/store/", d.path, d.project);
	if (override != NULL) {
		msg_init(m, endpoint("", override, b.data), "POST");
	} else {
		struct buf u;

		buf_init(&u);
		buf_printf(&u, "https://%s%s", d.hostport, b.data);
		msg_init(m, u.data, "POST");
	}
	buf_free(&b);
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	add_header(m, "Content-Type", "application/json");
	buf_init(&b);
	buf_printf(&b, "Sentry sentry_version=7, sentry_client=settings-integrations/1.0, "
	           "sentry_timestamp=%s, sentry_key=%s", ts, d.key);
	add_header(m, "X-Sentry-Auth", b.data);
	buf_free(&b);
	buf_init(&id);
	for (const char *p = ev->delivery_id; *p != '\0'; p++)
		if (*p != '-')
			buf_putc(&id, *p);
	buf_puts(&m->body, "{\"event_id\":");
	buf_json(&m->body, id.data);
	buf_free(&id);
	kv(&m->body, "timestamp", ev->created_at);
	kv(&m->body, "platform", "other");
	kv(&m->body, "level", sentry_level(ev->severity));
	kv(&m->body, "logger", "agent-alerts");
	kv(&m->body, "environment", t->environment);
	buf_puts(&m->body, ",\"message\":{\"formatted\":");
	{
		struct buf msg;

		buf_init(&msg);
		buf_printf(&msg, "%s: %s", event_words(ev), ev->title);
		if (ev->body != NULL && *ev->body != '\0')
			buf_printf(&msg, "\n%s", ev->body);
		json_str_max(&m->body, msg.data, 8192);
		buf_free(&msg);
	}
	buf_puts(&m->body, "},\"tags\":{\"alert_type\":");
	buf_json(&m->body, ev->event_type);
	kv(&m->body, "severity", ev->severity);
	kv(&m->body, "workspace", ev->workspace_slug);
	if (ev->agent != NULL)
		kv(&m->body, "agent", ev->agent);
	buf_puts(&m->body, "},\"extra\":{\"delivery_id\":");
	buf_json(&m->body, ev->delivery_id);
	kv(&m->body, "integration", ev->integration_name);
	buf_puts(&m->body, "}}");
	return 1;
}

/* https://api.<site>: the API host of each Datadog site (docs.datadoghq.com/getting_started/site/). */
static char *dd_endpoint(const struct integ_target *t, const char *override, const char *path)
{
	struct buf b;

	if (override != NULL)
		return endpoint("", override, path);
	buf_init(&b);
	buf_printf(&b, "https://api.%s%s", t->site != NULL ? t->site : "datadoghq.com", path);
	return b.data;
}

/* Datadog's alert types: error, warning, info, success. */
static const char *dd_alert_type(const char *s)
{
	if (s != NULL && (strcmp(s, "critical") == 0 || strcmp(s, "error") == 0))
		return "error";
	if (s != NULL && strcmp(s, "warning") == 0)
		return "warning";
	return "info";
}

/*
 * Datadog, Events API (https://docs.datadoghq.com/api/latest/events/#post-an-event):
 * POST https://api.<site>/api/v1/events with "DD-API-KEY: <api key>" and
 * JSON {"title" (at most 100 characters), "text" (at most 4000),
 * "alert_type", "priority", "date_happened", "tags", "aggregation_key"
 * (the delivery id, at most 100 characters), "source_type_name"}. Answers 202.
 */
static int build_datadog(const struct integ_target *t, const struct integ_event *ev,
                         const char *override, time_t now, struct integ_msg *m)
{
	struct buf s;

	msg_init(m, dd_endpoint(t, override, "/api/v1/events"), "POST");
	add_header(m, "Content-Type", "application/json");
	add_header(m, "DD-API-KEY", secret(t, "api_key"));
	buf_init(&s);
	buf_printf(&s, "%s: %s", event_words(ev), ev->title);
	buf_puts(&m->body, "{\"title\":");
	json_str_max(&m->body, s.data, 100);
	buf_puts(&m->body, ",\"text\":");
	json_str_max(&m->body, ev->body != NULL ? ev->body : ev->title, 4000);
	kv(&m->body, "alert_type", dd_alert_type(ev->severity));
	kv(&m->body, "priority", "normal");
	buf_printf(&m->body, ",\"date_happened\":%lld", (long long)now);
	kv(&m->body, "aggregation_key", ev->delivery_id);
	kv(&m->body, "source_type_name", "agent observability");
	buf_puts(&m->body, ",\"tags\":[");
	buf_reset(&s);
	buf_printf(&s, "service:%s", t->service_name != NULL ? t->service_name : "agents");
	buf_json(&m->body, s.data);
	buf_reset(&s);
	buf_printf(&s, "alert_type:%s", ev->event_type);
	buf_putc(&m->body, ',');
	buf_json(&m->body, s.data);
	buf_reset(&s);
	buf_printf(&s, "workspace:%s", ev->workspace_slug);
	buf_putc(&m->body, ',');
	buf_json(&m->body, s.data);
	if (ev->agent != NULL) {
		buf_reset(&s);
		buf_printf(&s, "agent:%s", ev->agent);
		buf_putc(&m->body, ',');
		buf_json(&m->body, s.data);
	}
	buf_puts(&m->body, "]}");
	buf_free(&s);
	return 1;
}

/*
 * Webhook and custom: our own signed JSON. POST or PUT to the integration's
 * URL with X-Settings-Event, X-Settings-Delivery (the delivery id: the
 * receiver's idempotency key) and X-Settings-Timestamp; with a bearer
 * token "Authorization: Bearer ..."; with HMAC "X-Settings-Signature:
 * sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>".
 */
static int build_webhook(const struct integ_target *t, const struct integ_event *ev, time_t now,
                         struct integ_msg *m)
{
	const char *sec = secret(t, "secret"), *type = ev->test ? "integration.test" : "alert";
	char ts[24], sig[65];

	msg_init(m, strdup(t->url), t->method != NULL && strcmp(t->method, "PUT") == 0 ? "PUT" : "POST");
	if (m->url == NULL)
		abort();
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	buf_puts(&m->body, "{\"id\":");
	buf_json(&m->body, ev->delivery_id);
	kv(&m->body, "type", type);
	buf_printf(&m->body, ",\"test\":%s", ev->test ? "true" : "false");
	kv(&m->body, "created_at", ev->created_at);
	buf_puts(&m->body, ",\"workspace\":{\"id\":");
	buf_json(&m->body, ev->workspace_id);
	kv(&m->body, "slug", ev->workspace_slug);
	kv(&m->body, "name", ev->workspace_name);
	buf_puts(&m->body, "},\"integration\":{\"id\":");
	buf_json(&m->body, ev->integration_id);
	kv(&m->body, "name", ev->integration_name);
	kv(&m->body, "type", t->type);
	buf_puts(&m->body, "},\"alert\":{\"type\":");
	buf_json(&m->body, ev->test ? "test" : ev->event_type);
	kv(&m->body, "severity", ev->severity);
	kv(&m->body, "agent", ev->agent);
	kv(&m->body, "title", ev->title);
	kv(&m->body, "message", ev->body != NULL ? ev->body : ev->title);
	buf_puts(&m->body, "}}");

	add_header(m, "Content-Type", "application/json");
	add_header(m, "X-Settings-Event", type);
	add_header(m, "X-Settings-Delivery", ev->delivery_id);
	add_header(m, "X-Settings-Timestamp", ts);
	if (sec != NULL && t->auth_type != NULL && strcmp(t->auth_type, "bearer") == 0) {
		bearer(m, sec);
	} else if (sec != NULL && t->auth_type != NULL && strcmp(t->auth_type, "hmac") == 0) {
		struct buf signed_text;

		buf_init(&signed_text);
		buf_printf(&signed_text, "%s.%s", ts, m->body.data);
		crypto_hmac_sha256_hex(sec, strlen(sec), signed_text.data, signed_text.len, sig);
		buf_free(&signed_text);
		{
			char v[80];

			snprintf(v, sizeof(v), "sha256=%s", sig);
			add_header(m, "X-Settings-Signature", v);
		}
	}
	return 1;
}

int integ_build(const struct integ_target *t, const struct integ_event *ev, const char *override,
                time_t now, struct integ_msg out[2])
{
	if (integ_missing(t) != NULL)
		return 0;
	if (is_type(t, "slack"))
		return build_slack(t, ev, override, &out[0]);
	if (is_type(t, "pagerduty")) {
		build_pd(t, ev, override, "trigger", &out[0]);
		if (!ev->test)
			return 1;
		build_pd(t, ev, override, "resolve", &out[1]);
		return 2;
	}
	if (is_type(t, "sentry"))
		return build_sentry(t, ev, override, now, &out[0]);
	if (is_type(t, "datadog"))
		return build_datadog(t, ev, override, now, &out[0]);
	if (webhook_like(t))
		return build_webhook(t, ev, now, &out[0]);
	return 0;
}

/*
 * Health checks that send nothing: Slack auth.test
 * (https://api.slack.com/methods/auth.test, POST with the bot token;
 * {"ok": true} when the token works) and Datadog's key validation
 * (https://docs.datadoghq.com/api/latest/authentication/#validate-api-key,
 * GET /api/v1/validate with DD-API-KEY; 200 {"valid": true}).
 */
int integ_build_check(const struct integ_target *t, const char *override, struct integ_msg *out)
{
	if (is_type(t, "slack") && secret(t, "bot_token") != NULL) {
		msg_init(out, endpoint(SLACK_API, override, "/api/auth.test"), "POST");
		out->slack_api = 1;
		bearer(out, secret(t, "bot_token"));
		add_header(out, "Content-Type", "application/x-www-form-urlencoded");
		return 1;
	}
	if (is_type(t, "datadog") && secret(t, "api_key") != NULL) {
		msg_init(out, dd_endpoint(t, override, "/api/v1/validate"), "GET");
		add_header(out, "DD-API-KEY", secret(t, "api_key"));
		return 1;
	}
	return 0;
}

/* Replace every occurrence of each secret value (4 bytes or longer) in b. */
static void mask(struct buf *b, const struct integ_target *t)
{
	for (size_t i = 0; t->secrets != NULL && i < t->secrets->n; i++) {
		const char *v = t->secrets->value[i];
		size_t vl = v ? strlen(v) : 0;
		char *p;

		if (vl < 4)
			continue;
		while ((p = strstr(b->data, v)) != NULL) {
			struct buf n;
			size_t at = (size_t)(p - b->data);

			buf_init(&n);
			buf_append(&n, b->data, at);
			buf_puts(&n, "********");
			buf_puts(&n, p + vl);
			buf_free(b);
			*b = n;
		}
		/* A Slack webhook's secret is its path (also behind the test override). */
		if (strcmp(t->secrets->name[i], "webhook_url") == 0 && strstr(v, "/services/") != NULL) {
			const char *path = strstr(v, "/services/") + 10;
			size_t pl = strlen(path);

			while (pl >= 4 && (p = strstr(b->data, path)) != NULL)
				memset(p, '*', pl);
		}
		/* Sentry's header carries only the DSN's public key: mask it too. */
		if (strcmp(t->secrets->name[i], "dsn") == 0) {
			struct dsn d;

			if (dsn_parse(v, &d) == 0 && strlen(d.key) >= 4) {
				while ((p = strstr(b->data, d.key)) != NULL)
					memset(p, '*', strlen(d.key));
			}
		}
	}
}

char *integ_msg_masked(const struct integ_msg *m, const struct integ_target *t)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s %s\n", m->method, m->url);
	for (size_t i = 0; i < INTEG_MSG_HEADERS && m->headers[i] != NULL; i++)
		buf_printf(&b, "%s\n", m->headers[i]);
	if (m->body.len > 0)
		buf_printf(&b, "\n%s", m->body.data);
	mask(&b, t);
	return b.data;
}

int integ_slack_ok(const char *answer)
{
	const char *p = answer != NULL ? strstr(answer, "\"ok\"") : NULL;

	if (p == NULL)
		return 0;
	p += 4;
	while (*p == ' ' || *p == ':')
		p++;
	return strncmp(p, "true", 4) == 0;
}
