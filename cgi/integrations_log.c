/* integrations_log.c: test events (queued for the delivery worker), the delivery log, redeliver */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrations.h"
#include "integ_deliver.h"
#include "integ_send.h"

/* "/w/<slug>/settings/integrations/<id>/deliveries" */
static const char *log_path(struct ctx *c, const char *id)
{
	return arena_printf(c->arena, "%s/%s/deliveries", list_path(c), id);
}

/* The field key of a form field name, -1 when none. */
static int field_key(const char *name)
{
	for (int k = 0; k < K__MAX; k++)
		if (strcmp(fields[k].name, name) == 0)
			return k;
	return -1;
}

/* What a test needs, said next to the field. */
static const char *missing_message(const char *field)
{
	if (strcmp(field, "bot_token") == 0)
		return "Enter the bot token (xoxb-…) to send a test event: Slack's chat.postMessage needs it.";
	if (strcmp(field, "channel_id") == 0)
		return "Enter the channel ID to send a test event.";
	if (strcmp(field, "routing_key") == 0)
		return "Enter the routing key to send a test event: PagerDuty's Events API needs it.";
	if (strcmp(field, "dsn") == 0)
		return "Enter the DSN to send a test event: it says where Sentry receives events.";
	if (strcmp(field, "api_key") == 0)
		return "Enter the API key to send a test event: Datadog's events API needs it.";
	if (strcmp(field, "url") == 0)
		return "Enter the URL to send a test event to.";
	return "Enter the secret to send a test event: this authentication type needs one.";
}

/*
 * POST .../integrations/{id}/test: queue a test event for the delivery
 * worker and answer at once (a page never waits on a remote service).
 * 303 to the delivery log, where the result appears; 404 for an id not in
 * this workspace; 422 with the edit form when a credential the test needs
 * is missing (the message is next to that field).
 */
void test_post(struct ctx *c)
{
	struct integ it;
	struct integ_secrets s;
	struct integ_target t;
	const char *missing, *params[3], *delivery;

	if (load_one(c, route_uuid(c, 1), 0, &it) != 0) {
		if (!c->db_failed)
			integ_error(c, 404, "There is no such integration in this workspace.");
		return;
	}
	if (open_secrets(c, &it, &s) != 0) {
		credentials_unreadable(c);
		return;
	}
	memset(&t, 0, sizeof(t));
	t.type = it.type;
	t.channel_id = it.channel;
	t.url = it.url;
	t.method = it.method;
	t.auth_type = it.auth;
	t.secrets = &s;
	missing = integ_missing(&t);
	integ_secrets_wipe(&s);
	if (missing != NULL) {
		int k = field_key(missing);

		if (k >= 0)
			field_error(c, k, missing_message(missing));
		tvars_set(c->vars, "form_error", "The test event was not sent: a setting it needs "
		          "is missing. Fill it in and save, then send the test again.");
		render_form(c, 422, it.t, &it, 1);
		return;
	}
	params[0] = it.id;
	params[1] = c->ws->id;
	params[2] = c->session->user_id;
	if (db_exec_value(c, "integ_test_enqueue", 3, params, &delivery) != 0 || delivery == NULL)
		return;
	if (audit_log(c, "integration.test_queued", "integration", it.id,
	              json_object(c->arena, "delivery_id", delivery, NULL)) != 0)
		return;
	page_redirect_notice(c, log_path(c, it.id), arena_printf(c->arena,
	                     "Test event to “%s” queued. Its result appears below within seconds.",
	                     it.name));
}

/* "Delivered", "Failed", "Queued", "Sending", "Retrying" for a delivery's status. */
static const char *status_words(const char *status, long attempts)
{
	if (strcmp(status, "delivered") == 0)
		return "Delivered";
	if (strcmp(status, "failed") == 0)
		return "Failed";
	if (strcmp(status, "sending") == 0)
		return "Sending";
	return attempts > 0 ? "Waiting to retry" : "Queued";
}

/* Columns of integ_deliveries and integ_attempts. */
enum { D_ID, D_EVENT, D_TEST, D_STATUS, D_ATTEMPTS, D_MAX, D_CREATED, D_CREATED_AGE, D_HTTP,
       D_LATENCY, D_ERROR, D_SEVERITY, D_AGENT, D_TITLE, D_NEXT, D_NEXT_AGE, D_REDELIVERY,
       D_PENDING };
enum { A_DELIVERY, A_ATTEMPT, A_STARTED, A_STARTED_AGE, A_OUTCOME, A_HTTP, A_LATENCY, A_ERROR,
       A_REQUEST, A_RESPONSE };

/*
 * GET .../integrations/{id}/deliveries: the last 100 deliveries (tests
 * included), each with its attempts, request (secrets masked) and the
 * first 4 KB of the answer. Refreshes itself while one is under way.
 * 200; 404 for an id not in this workspace.
 */
void deliveries_get(struct ctx *c)
{
	struct integ it;
	const char *params[2];
	PGresult *d, *a;
	int manage = rbac_can(c->ws->role, PERM_MANAGE_INTEGRATIONS), pending = 0, latest_test = 0;

	if (load_one(c, route_uuid(c, 1), 0, &it) != 0) {
		if (!c->db_failed) {
			integ_error(c, 404, "There is no such integration in this workspace.");
		}
		return;
	}
	params[0] = it.id;
	params[1] = c->ws->id;
	if ((d = db_exec(c, "integ_deliveries", 2, params, NULL)) == NULL)
		return;
	if ((a = db_exec(c, "integ_attempts", 2, params, NULL)) == NULL) {
		PQclear(d);
		return;
	}
	tvars_set(c->vars, "title", arena_printf(c->arena, "Deliveries of %s", it.name));
	tvars_set(c->vars, "nav", "integrations");
	tvars_set(c->vars, "list_path", list_path(c));
	tvars_set(c->vars, "log_path", log_path(c, it.id));
	tvars_set(c->vars, "id", it.id);
	tvars_set(c->vars, "name", it.name);
	tvars_set(c->vars, "type_label", type_labels[it.t]);
	tvars_set_bool(c->vars, "can_manage", manage);
	for (int i = 0; i < PQntuples(d); i++) {
		struct tvars *row = tvars_loop_add(c->vars, "deliveries");
		const char *id = PQgetvalue(d, i, D_ID), *status = PQgetvalue(d, i, D_STATUS);
		long attempts = 0;
		int test = strcmp(PQgetvalue(d, i, D_TEST), "t") == 0;

		parse_long(PQgetvalue(d, i, D_ATTEMPTS), 0, 1000, &attempts);
		tvars_set(row, "id", id);
		tvars_set(row, "event", test ? "Test event" : integ_alert_label(PQgetvalue(d, i, D_EVENT)));
		tvars_set(row, "title", PQgetvalue(d, i, D_TITLE));
		tvars_set(row, "severity", PQgetvalue(d, i, D_SEVERITY));
		tvars_set(row, "agent", db_value(c, d, i, D_AGENT));
		tvars_set(row, "status", status);
		tvars_set(row, "status_words", status_words(status, attempts));
		tvars_set_bool(row, "failed", strcmp(status, "failed") == 0);
		tvars_set_bool(row, "delivered", strcmp(status, "delivered") == 0);
		tvars_set_bool(row, "finished", strcmp(status, "delivered") == 0 ||
		               strcmp(status, "failed") == 0);
		tvars_set(row, "attempts", PQgetvalue(d, i, D_ATTEMPTS));
		tvars_set(row, "max_attempts", PQgetvalue(d, i, D_MAX));
		tvars_set(row, "http", db_value(c, d, i, D_HTTP));
		tvars_set(row, "latency", db_value(c, d, i, D_LATENCY));
		tvars_set(row, "error", db_value(c, d, i, D_ERROR));
		tvars_set_bool(row, "redelivery", !PQgetisnull(d, i, D_REDELIVERY));
		set_time(c, row, "created", db_value(c, d, i, D_CREATED), db_value(c, d, i, D_CREATED_AGE));
		if (strcmp(status, "queued") == 0 && attempts > 0)
			set_time(c, row, "next", db_value(c, d, i, D_NEXT), db_value(c, d, i, D_NEXT_AGE));
		if (strcmp(PQgetvalue(d, i, D_PENDING), "t") == 0)
			pending = 1;
		/* The newest test's outcome is said at the top, success or failure. */
		if (test && !latest_test) {
			latest_test = 1;
			if (strcmp(status, "delivered") == 0)
				tvars_set(c->vars, "test_ok", arena_printf(c->arena,
				          "The latest test event was delivered: HTTP %s in %s ms.",
				          PQgetvalue(d, i, D_HTTP), PQgetvalue(d, i, D_LATENCY)));
			else if (strcmp(status, "failed") == 0)
				tvars_set(c->vars, "test_failed", arena_printf(c->arena,
				          "The latest test event failed%s: %s",
				          PQgetisnull(d, i, D_HTTP) ? "" : arena_printf(c->arena,
				              " (HTTP %s)", PQgetvalue(d, i, D_HTTP)),
				          PQgetisnull(d, i, D_ERROR) ? "no reason given."
				                                     : PQgetvalue(d, i, D_ERROR)));
			else
				tvars_set(c->vars, "test_pending", "1");
		}
		for (int j = 0; j < PQntuples(a); j++) {
			struct tvars *at;

			if (strcmp(PQgetvalue(a, j, A_DELIVERY), id) != 0)
				continue;
			at = tvars_loop_add(row, "attempt_rows");
			tvars_set(at, "attempt", PQgetvalue(a, j, A_ATTEMPT));
			tvars_set(at, "outcome", PQgetvalue(a, j, A_OUTCOME));
			tvars_set_bool(at, "ok", strcmp(PQgetvalue(a, j, A_OUTCOME), "delivered") == 0);
			tvars_set(at, "http", db_value(c, a, j, A_HTTP));
			tvars_set(at, "latency", db_value(c, a, j, A_LATENCY));
			tvars_set(at, "error", db_value(c, a, j, A_ERROR));
			tvars_set(at, "request", db_value(c, a, j, A_REQUEST));
			tvars_set(at, "response", db_value(c, a, j, A_RESPONSE));
			set_time(c, at, "started", db_value(c, a, j, A_STARTED),
			         db_value(c, a, j, A_STARTED_AGE));
		}
	}
	PQclear(d);
	PQclear(a);
	/* Until the result is in, the page asks the browser to look again (no JavaScript). */
	if (pending)
		tvars_set(c->vars, "refresh_seconds", "2");
	page_render(c, 200, "integrations_deliveries.tmpl");
}

/*
 * POST .../integrations/{id}/deliveries/{delivery_id}/redeliver: queue a
 * copy of a delivery (a new id, so a new idempotency key). 303 to the log;
 * 404 when the delivery is not this integration's.
 */
void redeliver_post(struct ctx *c)
{
	struct integ it;
	const char *params[4], *copy;

	if (load_one(c, route_uuid(c, 1), 0, &it) != 0 || route_uuid(c, 2) == NULL) {
		if (!c->db_failed) {
			integ_error(c, 404, "There is no such delivery of an integration in this workspace.");
		}
		return;
	}
	params[0] = route_uuid(c, 2);
	params[1] = it.id;
	params[2] = c->ws->id;
	params[3] = c->session->user_id;
	if (db_exec_value(c, "integ_redeliver", 4, params, &copy) != 0)
		return;
	if (copy == NULL) {
		integ_error(c, 404, "There is no such delivery of this integration.");
		return;
	}
	if (audit_log(c, "integration.redelivered", "integration", it.id,
	              json_object(c->arena, "delivery_id", params[0], "copy_id", copy, NULL)) != 0)
		return;
	page_redirect_notice(c, log_path(c, it.id), "Redelivery queued. Its result appears below "
	                     "within seconds.");
}
