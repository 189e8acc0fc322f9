/* integ_send.h: each integration type's wire format: the requests an event becomes */
#ifndef SETTINGS_INTEG_SEND_H
#define SETTINGS_INTEG_SEND_H

#include <time.h>

#include "integ_secrets.h"
#include "util.h"

/* One event to deliver: an alert, or a test event from the page. */
struct integ_event {
	const char *delivery_id;     /* the idempotency key (a UUID) */
	const char *event_type;      /* error_spike ..., or "integration.test" */
	int test;
	const char *severity;        /* info, warning, error, critical */
	const char *agent;           /* may be NULL */
	const char *title;
	const char *body;            /* may be NULL */
	const char *created_at;      /* ISO 8601 UTC */
	const char *workspace_id, *workspace_slug, *workspace_name;
	const char *integration_id, *integration_name;
};

/* Where and how: an integration's type, settings (NULL when unset) and secrets. */
struct integ_target {
	const char *type;
	const char *channel_id;                      /* slack */
	const char *url, *method, *auth_type;        /* webhook, custom */
	long timeout_ms;
	const char *environment;                     /* sentry */
	const char *site, *service_name;             /* datadog (service_name also pagerduty) */
	const struct integ_secrets *secrets;
};

#define INTEG_MSG_HEADERS 8

/* One HTTP request, ready for integ_send(); integ_msg_free releases it. */
struct integ_msg {
	char *url;
	const char *method;
	char *headers[INTEG_MSG_HEADERS + 1];        /* NULL-terminated "Name: value" */
	struct buf body;
	int slack_api;     /* a Slack Web API answer: HTTP 200 with "ok": false is a failure */
};

/*
 * The secret or setting t lacks to deliver anything, as its form field
 * name (Slack: "bot_token" unless it has an incoming "webhook_url"; "routing_key", "dsn", "api_key", "secret", "url",
 * "channel_id"), or NULL when nothing is missing.
 */
const char *integ_missing(const struct integ_target *t);

/*
 * Build the requests for ev in t's format (see the documentation cited in
 * integ_send.c): 1, or 2 for a PagerDuty test (trigger, then resolve with
 * the same dedup_key); 0 when something is missing (integ_missing) or t's
 * settings are unusable. override, when not NULL, is a base URL
 * ("http://127.0.0.1:8999") that replaces each service's fixed address,
 * keeping the documented path (tests; never for webhook and custom, whose
 * URL is their own). now: for timestamps and signatures.
 */
int integ_build(const struct integ_target *t, const struct integ_event *ev, const char *override,
                time_t now, struct integ_msg out[2]);

/*
 * The request a health check makes without sending an alert: Slack
 * auth.test, Datadog's API key validation. 1 when built, 0 when the type
 * has no such check (or lacks its secret).
 */
int integ_build_check(const struct integ_target *t, const char *override, struct integ_msg *out);

void integ_msg_free(struct integ_msg *m);

/*
 * The request as the delivery log shows it: method, URL, headers and
 * body, with every secret of t replaced by "********" (malloc'd).
 */
char *integ_msg_masked(const struct integ_msg *m, const struct integ_target *t);

/* 1 when a Slack Web API answer says "ok": true. */
int integ_slack_ok(const char *answer);

#endif
