/* test_integ_send.c: unit tests for integ_send.c (each type's documented wire format) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "integ_send.h"

#define DID "0f8fad5b-d9cb-469f-a165-70867728950e"

static struct integ_event event(int test)
{
	struct integ_event ev = {
		DID, test ? "integration.test" : "error_spike", test, "critical", "sales_agent",
		"Errors <up> & rising", "12 errors in 5 minutes", "2026-11-30T12:00:00Z",
		"00000000-0000-0000-0000-000000000001", "acme", "Acme Corp",
		"30000000-0000-0000-0000-000000000009", "Ops",
	};
	return ev;
}

static int has_header(const struct integ_msg *m, const char *line)
{
	for (size_t i = 0; i < INTEG_MSG_HEADERS && m->headers[i] != NULL; i++)
		if (strcmp(m->headers[i], line) == 0)
			return 1;
	return 0;
}

static void slack_chat_post_message(void **state)
{
	struct integ_secrets s = { 0 };
	struct integ_target t = { 0 };
	struct integ_event ev = event(0);
	struct integ_msg m[2] = { 0 };
	char *masked;

	(void)state;
	t.type = "slack";
	t.channel_id = "C01234567";
	t.secrets = &s;
	assert_string_equal(integ_missing(&t), "bot_token");
	assert_int_equal(integ_build(&t, &ev, NULL, 0, m), 0);
	integ_secrets_set(&s, "bot_token", "xoxb-1234567890-abcdef");
	assert_null(integ_missing(&t));
	assert_int_equal(integ_build(&t, &ev, NULL, 0, m), 1);
	assert_string_equal(m[0].url, "https://slack.com/api/chat.postMessage");
	assert_string_equal(m[0].method, "POST");
	assert_true(m[0].slack_api);
	assert_true(has_header(&m[0], "Authorization: Bearer xoxb-1234567890-abcdef"));
	assert_true(has_header(&m[0], "Content-Type: application/json; charset=utf-8"));
	assert_non_null(strstr(m[0].body.data, "\"channel\":\"C01234567\""));
	/* mrkdwn escaping of & < > (Slack's "Escaping text"). */
	assert_non_null(strstr(m[0].body.data, "Errors &lt;up&gt; &amp; rising"));
	assert_non_null(strstr(m[0].body.data, "\"delivery_id\":\"" DID "\""));
	masked = integ_msg_masked(&m[0], &t);
	assert_null(strstr(masked, "xoxb-1234567890-abcdef"));
	assert_non_null(strstr(masked, "Authorization: Bearer ********"));
	free(masked);
	integ_msg_free(&m[0]);
	/* The override keeps the documented path. */
	assert_int_equal(integ_build(&t, &ev, "http://127.0.0.1:9999/", 0, m), 1);
	assert_string_equal(m[0].url, "http://127.0.0.1:9999/api/chat.postMessage");
	integ_msg_free(&m[0]);
	integ_secrets_wipe(&s);
}

static void slack_incoming_webhook(void **state)
{
	struct integ_secrets s = { 0 };
	struct integ_target t = { 0 };
	struct integ_event ev = event(0);
	struct integ_msg m[2] = { 0 };
	char *masked;

	(void)state;
	t.type = "slack";
	t.secrets = &s;
	integ_secrets_set(&s, "webhook_url", "https://hooks.slack.com/services/T000/B000/XXXXSECRET");
	/* No bot token and no channel needed with an incoming webhook. */
	assert_null(integ_missing(&t));
	assert_int_equal(integ_build(&t, &ev, NULL, 0, m), 1);
	assert_string_equal(m[0].url, "https://hooks.slack.com/services/T000/B000/XXXXSECRET");
	assert_false(m[0].slack_api);
	assert_null(strstr(m[0].body.data, "\"channel\""));
	assert_non_null(strstr(m[0].body.data, "\"text\":"));
	for (size_t i = 0; m[0].headers[i] != NULL; i++)
		assert_null(strstr(m[0].headers[i], "Authorization"));
	masked = integ_msg_masked(&m[0], &t);
	assert_null(strstr(masked, "XXXXSECRET"));
	free(masked);
	integ_msg_free(&m[0]);
	assert_int_equal(integ_build(&t, &ev, "http://127.0.0.1:9", 0, m), 1);
	assert_string_equal(m[0].url, "http://127.0.0.1:9/services/T000/B000/XXXXSECRET");
	integ_msg_free(&m[0]);
	integ_secrets_wipe(&s);
}

static void pagerduty_trigger_then_resolve(void **state)
{
	struct integ_secrets s = { 0 };
	struct integ_target t = { 0 };
	struct integ_event ev = event(1);
	struct integ_msg m[2] = { 0 };

	(void)state;
	t.type = "pagerduty";
	t.secrets = &s;
	assert_string_equal(integ_missing(&t), "routing_key");
	integ_secrets_set(&s, "routing_key", "R0123456789abcdefghijklmnopqrstu");
	assert_int_equal(integ_build(&t, &ev, NULL, 0, m), 2);
	assert_string_equal(m[0].url, "https://events.pagerduty.com/v2/enqueue");
	assert_non_null(strstr(m[0].body.data, "\"event_action\":\"trigger\""));
	assert_non_null(strstr(m[0].body.data, "\"dedup_key\":\"" DID "\""));
	assert_non_null(strstr(m[0].body.data, "\"severity\":\"critical\""));
	assert_non_null(strstr(m[1].body.data, "\"event_action\":\"resolve\""));
	assert_non_null(strstr(m[1].body.data, "\"dedup_key\":\"" DID "\""));
	assert_null(strstr(m[1].body.data, "payload"));
	integ_msg_free(&m[0]);
	integ_msg_free(&m[1]);
	/* An alert is a trigger only. */
	ev = event(0);
	assert_int_equal(integ_build(&t, &ev, NULL, 0, m), 1);
	integ_msg_free(&m[0]);
	integ_secrets_wipe(&s);
}

static void sentry_store_with_auth_header(void **state)
{
	struct integ_secrets s = { 0 };
	struct integ_target t = { 0 };
	struct integ_event ev = event(0);
	struct integ_msg m[2] = { 0 };
	char *masked;

	(void)state;
	t.type = "sentry";
	t.environment = "production";
	t.secrets = &s;
	integ_secrets_set(&s, "dsn", "https://abcdef0123456789abcdef0123456789@o1.ingest.sentry.io/42");
	assert_int_equal(integ_build(&t, &ev, NULL, 1700000000, m), 1);
	assert_string_equal(m[0].url, "https://o1.ingest.sentry.io/api/42/store/");
	assert_true(has_header(&m[0], "X-Sentry-Auth: Sentry sentry_version=7, sentry_client="
	            "settings-integrations/1.0, sentry_timestamp=1700000000, "
	            "sentry_key=abcdef0123456789abcdef0123456789"));
	assert_non_null(strstr(m[0].body.data, "\"event_id\":\"0f8fad5bd9cb469fa16570867728950e\""));
	assert_non_null(strstr(m[0].body.data, "\"level\":\"fatal\""));
	assert_non_null(strstr(m[0].body.data, "\"environment\":\"production\""));
	masked = integ_msg_masked(&m[0], &t);
	assert_null(strstr(masked, "abcdef0123456789abcdef0123456789"));
	free(masked);
	integ_msg_free(&m[0]);
	/* A DSN with a path prefix keeps it. */
	integ_secrets_set(&s, "dsn", "https://k0k0k0k0k0k0k0k0@sentry.example.com:9000/sub/7");
	assert_int_equal(integ_build(&t, &ev, NULL, 0, m), 1);
	assert_string_equal(m[0].url, "https://sentry.example.com:9000/sub/api/7/store/");
	integ_msg_free(&m[0]);
	integ_secrets_wipe(&s);
}

static void datadog_events_on_the_site(void **state)
{
	struct integ_secrets s = { 0 };
	struct integ_target t = { 0 };
	struct integ_event ev = event(0);
	struct integ_msg m[2] = { 0 }, check;

	(void)state;
	t.type = "datadog";
	t.site = "datadoghq.eu";
	t.service_name = "agents";
	t.secrets = &s;
	integ_secrets_set(&s, "api_key", "0123456789abcdef0123456789abcdef");
	assert_int_equal(integ_build(&t, &ev, NULL, 0, m), 1);
	assert_string_equal(m[0].url, "https://api.datadoghq.eu/api/v1/events");
	assert_true(has_header(&m[0], "DD-API-KEY: 0123456789abcdef0123456789abcdef"));
	assert_non_null(strstr(m[0].body.data, "\"alert_type\":\"error\""));
	assert_non_null(strstr(m[0].body.data, "\"service:agents\""));
	assert_non_null(strstr(m[0].body.data, "\"aggregation_key\":\"" DID "\""));
	integ_msg_free(&m[0]);
	assert_int_equal(integ_build_check(&t, NULL, &check), 1);
	assert_string_equal(check.url, "https://api.datadoghq.eu/api/v1/validate");
	assert_string_equal(check.method, "GET");
	integ_msg_free(&check);
	integ_secrets_wipe(&s);
}

static void datadog_title_is_at_most_100(void **state)
{
	struct integ_secrets s = { 0 };
	struct integ_target t = { 0 };
	struct integ_event ev = event(0);
	struct integ_msg m[2] = { 0 };
	char title[300];
	const char *p, *q;

	(void)state;
	memset(title, 'x', sizeof(title) - 1);
	title[sizeof(title) - 1] = '\0';
	ev.title = title;
	t.type = "datadog";
	t.secrets = &s;
	integ_secrets_set(&s, "api_key", "0123456789abcdef0123456789abcdef");
	assert_int_equal(integ_build(&t, &ev, NULL, 0, m), 1);
	p = strstr(m[0].body.data, "\"title\":\"") + 9;
	q = strchr(p, '"');
	assert_int_equal(q - p, 100);
	integ_msg_free(&m[0]);
	integ_secrets_wipe(&s);
}

static void webhook_signed_json(void **state)
{
	struct integ_secrets s = { 0 };
	struct integ_target t = { 0 };
	struct integ_event ev = event(1);
	struct integ_msg m[2] = { 0 };
	char sig[65], line[100], text[4096];

	(void)state;
	t.type = "webhook";
	t.url = "https://hooks.example.com/in";
	t.method = "PUT";
	t.auth_type = "hmac";
	t.secrets = &s;
	assert_string_equal(integ_missing(&t), "secret");
	integ_secrets_set(&s, "secret", "0123456789abcdef");
	/* The override never applies to a webhook's own URL. */
	assert_int_equal(integ_build(&t, &ev, "http://127.0.0.1:1", 1700000000, m), 1);
	assert_string_equal(m[0].url, "https://hooks.example.com/in");
	assert_string_equal(m[0].method, "PUT");
	assert_true(has_header(&m[0], "X-Settings-Delivery: " DID));
	assert_true(has_header(&m[0], "X-Settings-Timestamp: 1700000000"));
	snprintf(text, sizeof(text), "1700000000.%s", m[0].body.data);
	crypto_hmac_sha256_hex("0123456789abcdef", 16, text, strlen(text), sig);
	snprintf(line, sizeof(line), "X-Settings-Signature: sha256=%s", sig);
	assert_true(has_header(&m[0], line));
	assert_non_null(strstr(m[0].body.data, "\"type\":\"integration.test\",\"test\":true"));
	integ_msg_free(&m[0]);
	t.auth_type = "none";
	integ_secrets_wipe(&s);
	assert_null(integ_missing(&t));
	t.url = NULL;
	assert_string_equal(integ_missing(&t), "url");
}

static void slack_answers(void **state)
{
	(void)state;
	assert_true(integ_slack_ok("{\"ok\":true,\"ts\":\"1\"}"));
	assert_true(integ_slack_ok("{\"ok\": true}"));
	assert_false(integ_slack_ok("{\"ok\":false,\"error\":\"invalid_auth\"}"));
	assert_false(integ_slack_ok("ok"));
	assert_false(integ_slack_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slack_chat_post_message),
		cmocka_unit_test(slack_incoming_webhook),
		cmocka_unit_test(pagerduty_trigger_then_resolve),
		cmocka_unit_test(sentry_store_with_auth_header),
		cmocka_unit_test(datadog_events_on_the_site),
		cmocka_unit_test(datadog_title_is_at_most_100),
		cmocka_unit_test(webhook_signed_json),
		cmocka_unit_test(slack_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
