/* billing.c: the billing page (plan, usage, cycle, plan changes, cancellation) and the Stripe webhook */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "crypto.h"
#include "db.h"
#include "wscache.h"

#define STRIPE_TOLERANCE 300       /* seconds a signature's timestamp may be off */
#define STRIPE_MAX_SIGNATURES 8    /* v1 values looked at in one header */
#define STRIPE_MAX_ID 255

/*
 * The billing cycle rolls over on read, when it is due: a GET reads the
 * billing row, which says whether its cycle has ended, and only then calls
 * billing_rollover() (sql/008_billing) inside the request's transaction
 * and reads the row again; every owner POST calls it after locking the
 * row. It records the old trace count in usage_history, resets the
 * counter and advances the cycle. `billing --rollover` does the same for
 * every workspace (billing_rollover_due()) and is meant for cron, so that
 * cycles close even when nobody opens the page.
 */

/*
 * An UPDATE of the workspace's billing row that also returns the audit
 * changes (old and new values of what changed, plus extra) and whether
 * anything changed. $1 is always the workspace id. The row must already be
 * locked by the transaction (billing_lock), so "prev" is the value replaced.
 */
#define AUDITED_UPDATE(set, where, extra) \
	"WITH prev AS (SELECT o.id, billing_audit_fields(o) AS f FROM billing_config o " \
	"               WHERE o.workspace_id = $1::uuid), " \
	"     upd AS (UPDATE billing_config bc SET " set \
	"              WHERE bc.workspace_id = $1::uuid " where \
	"              RETURNING bc.id, billing_audit_fields(bc) AS f) " \
	"SELECT upd.id, (billing_audit_changes(prev.f, upd.f) || " extra ")::text, prev.f <> upd.f " \
	"  FROM upd JOIN prev ON prev.id = upd.id"

/* A JSON number that is a plausible Unix time, as bigint, else NULL. */
#define JSON_EPOCH(x) \
	"CASE WHEN jsonb_typeof(" x ") = 'number' THEN " \
	"  CASE WHEN (" x ")::numeric BETWEEN 1 AND 253402300799 " \
	"       THEN trunc((" x ")::numeric)::bigint END END"
/* A JSON string, or the id of an expanded object, else NULL. */
#define JSON_ID(x) \
	"CASE jsonb_typeof(" x ") WHEN 'string' THEN " x " #>> '{}' " \
	"     WHEN 'object' THEN " x " ->> 'id' END"
#define UTC_DATE(x) "(to_timestamp(" x ") AT TIME ZONE 'UTC')::date"

static const struct stmt stmts[] = {
	{ "billing_rollover",
	  "SELECT closed_start, closed_end, closed_traces FROM billing_rollover($1::uuid)" },
	/* The workspace's team lock comes first, as in every team change (team.c):
	 * a plan change reads seats in use and writes the seat limit, which
	 * changes what the team page shows. */
	{ "billing_team_lock", "SELECT 1 FROM workspaces WHERE id = $1::uuid FOR NO KEY UPDATE" },
	{ "billing_lock", "SELECT id FROM billing_config WHERE workspace_id = $1::uuid FOR UPDATE" },
	/* Prices are the row's (what the workspace pays); one the row lacks
	 * (the seed has no annual price) is the catalog's. */
	{ "billing_load",
	  "SELECT bc.id, bc.plan_type, bc.plan_status, coalesce(bc.billing_interval, 'monthly'), "
	  "       to_char(coalesce(bc.monthly_price_usd, pc.monthly_price_usd), 'FM999,999,990.00'), "
	  "       to_char(coalesce(bc.annual_price_usd, pc.annual_price_usd), 'FM999,999,990.00'), "
	  "       bc.traces_per_month_limit, bc.team_members_limit, bc.api_keys_limit, "
	  "       bc.data_retention_days, bc.custom_integrations_limit, "
	  "       bc.traces_current_month, bc.team_members_current, bc.api_keys_current, "
	  "       (SELECT count(*) FROM integrations_config i "
	  "         WHERE i.workspace_id = bc.workspace_id "
	  "           AND i.integration_type IN ('webhook', 'custom')), "
	  /* Seats: every pending invitation holds one, as on the team page and
	   * in the seat limit (team.c, team_seats). */
	  "       (SELECT count(*) FROM team_members tm "
	  "         WHERE tm.workspace_id = bc.workspace_id AND tm.status = 'pending' "
	  "           AND tm.deleted_at IS NULL), "
	  "       coalesce(bc.overage_allowed, false), "
	  "       bc.billing_cycle_start, bc.billing_cycle_end, bc.billing_cycle_end + 1, "
	  "       bc.next_billing_date, "
	  "       coalesce(bc.auto_renew, false), coalesce(bc.cancellation_requested, false), "
	  "       bc.cancellation_effective_date, "
	  "       (bc.trial_ends_at AT TIME ZONE 'UTC')::date, "
	  "       floor(extract(epoch FROM bc.trial_ends_at - now()))::bigint, "
	  "       bc.payment_method_brand, bc.payment_method_last4, "
	  /* When the cycle ends: the start of the day after its last (billing_due). */
	  "       extract(epoch FROM (coalesce(bc.billing_cycle_end, "
	  "                (bc.billing_cycle_start + interval '1 month' - interval '1 day')::date) "
	  "                + 1)::timestamptz)::bigint "
	  "  FROM billing_config bc "
	  "  LEFT JOIN plan_catalog pc ON pc.plan_type = bc.plan_type "
	  " WHERE bc.workspace_id = $1::uuid" },
	{ "plan_catalog",
	  "SELECT plan_type, traces_per_month_limit, team_members_limit, api_keys_limit, "
	  "       data_retention_days, custom_integrations_limit, "
	  "       to_char(monthly_price_usd, 'FM999,999,990.00'), "
	  "       to_char(annual_price_usd, 'FM999,999,990.00'), self_serve "
	  "  FROM plan_catalog ORDER BY sort_order" },
	{ "plan_find",
	  "SELECT plan_type, traces_per_month_limit, team_members_limit, api_keys_limit, "
	  "       data_retention_days, custom_integrations_limit, "
	  "       to_char(monthly_price_usd, 'FM999,999,990.00'), "
	  "       to_char(annual_price_usd, 'FM999,999,990.00'), self_serve "
	  "  FROM plan_catalog WHERE plan_type = $1" },
	/* Limits and prices come from the catalog in the same statement. A
	 * subscription that had ended starts again. */
	{ "plan_update",
	  AUDITED_UPDATE(
	  "plan_type = pc.plan_type, billing_interval = $3::text, "
	  "traces_per_month_limit = pc.traces_per_month_limit, "
	  "team_members_limit = pc.team_members_limit, api_keys_limit = pc.api_keys_limit, "
	  "data_retention_days = pc.data_retention_days, "
	  "custom_integrations_limit = pc.custom_integrations_limit, "
	  "monthly_price_usd = pc.monthly_price_usd, annual_price_usd = pc.annual_price_usd, "
	  "plan_status = CASE WHEN bc.plan_status = 'canceled' THEN 'active' ELSE bc.plan_status END, "
	  "auto_renew = CASE WHEN bc.plan_status = 'canceled' THEN true ELSE bc.auto_renew END, "
	  "cancellation_requested = CASE WHEN bc.plan_status = 'canceled' THEN false "
	  "                              ELSE bc.cancellation_requested END, "
	  "cancellation_effective_date = CASE WHEN bc.plan_status = 'canceled' THEN NULL "
	  "                                   ELSE bc.cancellation_effective_date END, "
	  "next_billing_date = CASE WHEN bc.plan_status = 'canceled' THEN bc.billing_cycle_end + 1 "
	  "                         ELSE bc.next_billing_date END, "
	  "updated_by = $4::uuid FROM plan_catalog pc",
	  "AND pc.plan_type = $2::text AND pc.self_serve", "'{}'::jsonb") },
	{ "cancel_update",
	  AUDITED_UPDATE(
	  "cancellation_requested = true, "
	  "cancellation_effective_date = coalesce(bc.billing_cycle_end, current_date), "
	  "auto_renew = false, updated_by = $2::uuid", "", "'{}'::jsonb") },
	{ "resume_update",
	  AUDITED_UPDATE(
	  "cancellation_requested = false, cancellation_effective_date = NULL, "
	  "auto_renew = true, updated_by = $2::uuid", "", "'{}'::jsonb") },

	/* Stripe webhook: every field is read by PostgreSQL from the raw body. */
	{ "stripe_event_read",
	  "SELECT CASE WHEN jsonb_typeof(s.e -> 'id') = 'string' THEN s.e ->> 'id' END, "
	  "       CASE WHEN jsonb_typeof(s.e -> 'type') = 'string' THEN s.e ->> 'type' END, "
	  "       " JSON_EPOCH("s.e -> 'created'") ", "
	  "       " JSON_ID("x.o -> 'customer'") ", "
	  "       CASE WHEN jsonb_typeof(x.o -> 'id') = 'string' THEN x.o ->> 'id' END, "
	  "       CASE WHEN jsonb_typeof(x.o -> 'status') = 'string' THEN x.o ->> 'status' END, "
	  "       coalesce(" JSON_EPOCH("x.o -> 'current_period_end'") ", "
	  "                " JSON_EPOCH("x.o #> '{items,data,0,current_period_end}'") "), "
	  "       CASE WHEN jsonb_typeof(x.o -> 'cancel_at_period_end') = 'boolean' "
	  "            THEN x.o ->> 'cancel_at_period_end' END, "
	  "       " JSON_EPOCH("x.o -> 'trial_end'") ", "
	  "       " JSON_ID("x.o -> 'subscription'") " "
	  "  FROM (SELECT $1::jsonb AS e) s "
	  "  CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(s.e #> '{data,object}') = 'object' "
	  "                                  THEN s.e #> '{data,object}' END AS o) x" },
	{ "stripe_customer_workspace", "SELECT billing_workspace_for_customer($1)" },
	{ "stripe_set_workspace", "SELECT set_config('app.current_workspace_id', $1, true)" },
	{ "stripe_lock",
	  "SELECT id, extract(epoch FROM stripe_last_event_at)::bigint, stripe_subscription_id "
	  "  FROM billing_config WHERE workspace_id = $1::uuid FOR UPDATE" },
	{ "stripe_event_insert",
	  "INSERT INTO stripe_events (event_id, workspace_id, event_type, event_created, payload) "
	  "VALUES ($1, $2::uuid, $3, to_timestamp($4::bigint), $5::jsonb) "
	  "ON CONFLICT (event_id) DO NOTHING RETURNING event_id" },
	/* customer.subscription.created / .updated */
	{ "stripe_subscription",
	  AUDITED_UPDATE(
	  "plan_status = coalesce($2::text, bc.plan_status), "
	  "next_billing_date = CASE WHEN $2::text = 'canceled' THEN NULL "
	  "                         WHEN $3::bigint IS NULL THEN bc.next_billing_date "
	  "                         ELSE " UTC_DATE("$3::bigint") " END, "
	  "cancellation_requested = CASE WHEN $2::text = 'canceled' THEN false "
	  "                              ELSE coalesce($4::boolean, bc.cancellation_requested) END, "
	  "cancellation_effective_date = CASE "
	  "    WHEN $2::text = 'canceled' "
	  "         THEN least(bc.cancellation_effective_date, " UTC_DATE("$7::bigint") ") "
	  "    WHEN $4::boolean IS NULL THEN bc.cancellation_effective_date "
	  "    WHEN $4::boolean THEN coalesce(" UTC_DATE("$3::bigint") " - 1, bc.billing_cycle_end) "
	  "    ELSE NULL END, "
	  "auto_renew = CASE WHEN $2::text = 'canceled' THEN false "
	  "                  WHEN $4::boolean IS NULL THEN bc.auto_renew "
	  "                  ELSE NOT $4::boolean END, "
	  "trial_ends_at = CASE WHEN $5::bigint IS NULL THEN bc.trial_ends_at "
	  "                     ELSE to_timestamp($5::bigint) END, "
	  "stripe_subscription_id = coalesce($6::text, bc.stripe_subscription_id), "
	  "stripe_last_event_at = to_timestamp($7::bigint)", "",
	  "jsonb_build_object('stripe_event_id', $8::text, 'stripe_event_type', $9::text)") },
	/* customer.subscription.deleted */
	{ "stripe_deleted",
	  AUDITED_UPDATE(
	  "plan_status = 'canceled', auto_renew = false, cancellation_requested = false, "
	  "cancellation_effective_date = least(bc.cancellation_effective_date, "
	  "                                    " UTC_DATE("$2::bigint") "), "
	  "next_billing_date = NULL, stripe_last_event_at = to_timestamp($2::bigint)", "",
	  "jsonb_build_object('stripe_event_id', $3::text, 'stripe_event_type', $4::text)") },
	/* invoice.paid / invoice.payment_failed: an ended subscription stays ended. */
	{ "stripe_status",
	  AUDITED_UPDATE(
	  "plan_status = CASE WHEN bc.plan_status = 'canceled' THEN bc.plan_status ELSE $2::text END, "
	  "stripe_last_event_at = to_timestamp($3::bigint)", "",
	  "jsonb_build_object('stripe_event_id', $4::text, 'stripe_event_type', $5::text)") },
};

/* Columns of billing_load. */
enum {
	B_ID, B_PLAN, B_STATUS, B_INTERVAL, B_MONTHLY, B_ANNUAL,
	B_TRACES_LIMIT, B_MEMBERS_LIMIT, B_KEYS_LIMIT, B_RETENTION, B_CUSTOM_LIMIT,
	B_TRACES, B_MEMBERS, B_KEYS, B_CUSTOM, B_PENDING, B_OVERAGE,
	B_CYCLE_START, B_CYCLE_END, B_CYCLE_RESET, B_NEXT, B_AUTO_RENEW, B_CANCEL, B_CANCEL_DATE,
	B_TRIAL_END, B_TRIAL_SECONDS, B_BRAND, B_LAST4, B_ROLLOVER_AT, B__MAX
};

/* Columns of plan_catalog / plan_find. */
enum {
	P_TYPE, P_TRACES, P_MEMBERS, P_KEYS, P_RETENTION, P_CUSTOM, P_MONTHLY, P_ANNUAL,
	P_SELF_SERVE, P__MAX
};

/* The workspace's billing row as text (NULL for SQL NULL). */
struct billing {
	const char *v[B__MAX];
	long age;                  /* seconds since the row was read (wscache.h) */
};

enum { K_PLAN_TYPE, K_BILLING_INTERVAL, K_CONFIRM, K__MAX };

static const char *const intervals[] = { "monthly", "annual", NULL };
static const char *const confirm_choices[] = { "1", NULL };

static const struct field_spec plan_fields[K__MAX] = {
	/* Which plans exist is the catalog's business: checked against it. */
	[K_PLAN_TYPE] = { "plan_type", valid_line, 1, 32, NULL, 0, 0 },
	[K_BILLING_INTERVAL] = { "billing_interval", valid_choice, 1, 16, intervals, 0, 0 },
	[K_CONFIRM] = { "confirm", valid_choice, 1, 1, confirm_choices, 0, 0 },
};

/* POST .../billing/cancel: only a confirmed one acts. */
enum { C_CONFIRM, C__MAX };
static const struct field_spec cancel_fields[C__MAX] = {
	[C_CONFIRM] = { "confirm", valid_choice, 1, 1, confirm_choices, 0, 0 },
};

/* A plan's display name ("professional" -> "Professional"). */
static const char *plan_label(const char *plan)
{
	static const struct { const char *type, *label; } labels[] = {
		{ "free", "Free" }, { "starter", "Starter" },
		{ "professional", "Professional" }, { "enterprise", "Enterprise" },
	};

	for (size_t i = 0; plan != NULL && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(plan, labels[i].type) == 0)
			return labels[i].label;
	return plan != NULL ? plan : "";
}

/* A status in words ("past_due" -> "Past due"). */
static const char *status_label(const char *status)
{
	static const struct { const char *status, *label; } labels[] = {
		{ "active", "Active" }, { "trialing", "Trial" }, { "past_due", "Past due" },
		{ "canceled", "Canceled" }, { "suspended", "Suspended" },
	};

	for (size_t i = 0; status != NULL && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(status, labels[i].status) == 0)
			return labels[i].label;
	return status != NULL ? status : "";
}

/* 1 when a is set and equals b. */
static int text_is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/* A date column ("2026-12-01") in the one style of every page: "1 December 2026". */
static const char *day(struct ctx *c, const char *iso)
{
	return iso != NULL ? date_words(c->arena, iso) : NULL;
}

/* A non-negative count or limit; -1 for NULL (unlimited) or junk. */
static long number(const char *s)
{
	long n;

	if (s == NULL || parse_long(s, 0, LONG_MAX, &n) != 0)
		return -1;
	return n;
}

/* n with thousands separators: 1000000 -> "1,000,000". */
static const char *count_text(struct ctx *c, long n)
{
	char digits[32], out[48];
	size_t len, j = 0;

	len = fmt_ll(digits, n);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && digits[i] != '-' && (len - i) % 3 == 0 && digits[i - 1] != '-')
			out[j++] = ',';
		out[j++] = digits[i];
	}
	out[j] = '\0';
	return arena_strdup(c->arena, out);
}

/* A catalog limit for the comparison table: "1,000,000" or "Unlimited" (NULL). */
static const char *limit_text(struct ctx *c, const char *limit)
{
	long n = number(limit);

	return n < 0 ? "Unlimited" : count_text(c, n);
}

/* A catalog price: "$29.00", or "By contract" (NULL). */
static const char *price_text(struct ctx *c, const char *price)
{
	return price != NULL ? arena_printf(c->arena, "$%s", price) : "By contract";
}

/* Where the POSTs send the browser back to. */
static const char *billing_path(struct ctx *c)
{
	return arena_printf(c->arena, "/w/%s/settings/billing", c->ws->slug);
}

/* Close the billing cycle if it has ended (see the comment at the top). 0 ok. */
static int rollover(struct ctx *c)
{
	const char *params[1] = { c->ws->id };
	PGresult *r = db_exec(c, "billing_rollover", 1, params, NULL);

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1)
		app_log(c, "billing cycle %s to %s closed with %s traces", PQgetvalue(r, 0, 0),
		        PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
	PQclear(r);
	return 0;
}

/*
 * Lock the workspace (its team lock, so that seats cannot change under a
 * downgrade check) and then its billing row, for this transaction: 1
 * locked, 0 none, -1 error.
 */
static int billing_lock(struct ctx *c)
{
	const char *params[1] = { c->ws->id };
	PGresult *r = db_exec(c, "billing_team_lock", 1, params, NULL);
	int n;

	if (r == NULL)
		return -1;
	PQclear(r);
	r = db_exec(c, "billing_lock", 1, params, NULL);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n == 1;
}

/* The billing row's values from r (0 none, 1 found). */
static int billing_from(const PGresult *r, struct billing *b)
{
	int found = PQntuples(r) == 1;

	b->age = 0;
	for (int i = 0; i < B__MAX; i++)
		b->v[i] = found && !PQgetisnull(r, 0, i) ? PQgetvalue(r, 0, i) : NULL;
	return found;
}

/* The row's cycle has ended (now, or since a kept row was read): billing_rollover() is due. */
static int billing_due(const PGresult *r)
{
	long at;

	/* No cycle at all (NULL): nothing to roll over. */
	return PQntuples(r) == 1 && !PQgetisnull(r, 0, B_ROLLOVER_AT) &&
	       parse_long(PQgetvalue(r, 0, B_ROLLOVER_AT), LONG_MIN, LONG_MAX, &at) == 0 &&
	       (long)time(NULL) >= at;
}

/*
 * Read the billing row: 1 found, 0 none, -1 error. When its cycle has
 * ended, close it first (billing_rollover) and read the row again: a read
 * writes only when a rollover is due. With keep, the result is handed over
 * there (b points into it); else b is copied and the result cleared.
 */
static int billing_read(struct ctx *c, struct billing *b, PGresult **keep)
{
	const char *params[1] = { c->ws->id };
	int found = 0;

	for (int pass = 0; pass < 2; pass++) {
		PGresult *r = db_exec(c, "billing_load", 1, params, NULL);

		if (r == NULL)
			return -1;
		found = billing_from(r, b);
		if (found && billing_due(r) && pass == 0) {
			PQclear(r);
			if (rollover(c) != 0)
				return -1;
			continue;
		}
		if (keep != NULL) {
			*keep = r;
		} else {
			for (int i = 0; i < B__MAX; i++)
				b->v[i] = b->v[i] != NULL ? arena_strdup(c->arena, b->v[i]) : NULL;
			PQclear(r);
		}
		break;
	}
	return found;
}

static int billing_load(struct ctx *c, struct billing *b)
{
	return billing_read(c, b, NULL);
}

/*
 * One usage meter: "650,000 of 1,000,000 traces — 65%" and a <meter>, with a
 * warning state from 80% and an exceeded state from 100% (said in words, not
 * only by colour). An unlimited limit has no meter.
 */
static void meter_add(struct ctx *c, const char *key, const char *title, const char *noun,
                      const char *noun_one, long used, long limit, int overage)
{
	struct tvars *m = tvars_loop_add(c->vars, "meters");
	const char *state = "ok";

	tvars_set(m, "key", key);
	tvars_set(m, "title", title);
	if (used < 0)
		used = 0;
	if (limit < 0) {
		tvars_setf(m, "text", "%s %s — unlimited", count_text(c, used),
		           used == 1 ? noun_one : noun);
		tvars_set(m, "state", state);
		return;
	}
	if (limit == 0) {
		tvars_setf(m, "text", "%s of 0 %s — none included in this plan",
		           count_text(c, used), noun);
		if (used > 0)
			state = "exceeded";
	} else {
		long percent = used * 100 / limit;

		tvars_setf(m, "text", "%s of %s %s — %ld%%", count_text(c, used),
		           count_text(c, limit), noun, percent);
		tvars_set_bool(m, "has_meter", 1);
		tvars_set_int(m, "value", used < limit ? used : limit);
		tvars_set_int(m, "max", limit);
		tvars_set_int(m, "low", (limit * 8 + 9) / 10);
		tvars_set_int(m, "percent", percent);
		if (used >= limit)
			state = "exceeded";
		else if (used * 10 >= limit * 8)
			state = "warning";
	}
	tvars_set(m, "state", state);
	if (strcmp(state, "warning") == 0) {
		tvars_set(m, "state_label", "Warning: near the limit");
		tvars_set(m, "state_text", "80% or more of this limit is used.");
	} else if (strcmp(state, "exceeded") == 0) {
		tvars_set(m, "state_label", used > limit ? "Limit exceeded" : "Limit reached");
		tvars_set(m, "state_text", overage
		          ? "Overage is allowed on this plan: usage above the limit is billed at the end of the cycle."
		          : "Overage is not allowed on this plan: upgrade to go beyond this limit.");
	}
}

static int plan_blockers(struct ctx *c, const struct billing *b, const PGresult *p, int i,
                         struct tvars *into, const char *loop);

/* The plan catalog as comparison rows (and the choices of the plan form). */
static int catalog_fill(struct ctx *c, const struct billing *b, PGresult *given, PGresult **keep)
{
	const char *chosen = c->req->specs == plan_fields ? c->req->fields[K_PLAN_TYPE].raw : NULL;
	PGresult *r = given != NULL ? given : db_exec(c, "plan_catalog", 0, NULL, NULL);

	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct tvars *row = tvars_loop_add(c->vars, "plans");
		const char *type = PQgetvalue(r, i, P_TYPE);
		long custom = number(db_value(c, r, i, P_CUSTOM));
		int current = b != NULL && text_is(b->v[B_PLAN], type);

		tvars_set(row, "plan_type", type);
		tvars_set(row, "plan_name", plan_label(type));
		tvars_set(row, "traces", limit_text(c, db_value(c, r, i, P_TRACES)));
		tvars_set(row, "members", limit_text(c, db_value(c, r, i, P_MEMBERS)));
		tvars_set(row, "api_keys", limit_text(c, db_value(c, r, i, P_KEYS)));
		tvars_set(row, "retention", PQgetvalue(r, i, P_RETENTION));
		tvars_set(row, "custom", custom == 0 ? "None" : limit_text(c, db_value(c, r, i, P_CUSTOM)));
		tvars_set(row, "monthly", price_text(c, db_value(c, r, i, P_MONTHLY)));
		tvars_set(row, "annual", price_text(c, db_value(c, r, i, P_ANNUAL)));
		tvars_set_bool(row, "current", current);
		tvars_set_bool(row, "self_serve", text_is(PQgetvalue(r, i, P_SELF_SERVE), "t"));
		tvars_set_bool(row, "checked", chosen != NULL ? strcmp(chosen, type) == 0 : current);
		/* Limits visible before submitting: what keeps the workspace off this plan. */
		if (b != NULL && !current && text_is(PQgetvalue(r, i, P_SELF_SERVE), "t"))
			tvars_set_bool(row, "blocked", plan_blockers(c, b, r, i, row, "blockers") > 0);
	}
	if (keep != NULL)
		*keep = r;
	else if (given == NULL)
		PQclear(r);
	return 0;
}

/* Everything the page shows about the plan, the cycle and the payment method. */
static void plan_fill(struct ctx *c, const struct billing *b)
{
	const char *status = b->v[B_STATUS];
	const char *interval = b->v[B_INTERVAL];
	const char *chosen = c->req->specs == plan_fields ? c->req->fields[K_BILLING_INTERVAL].raw : NULL;
	int annual = text_is(interval, "annual");
	const char *price = annual ? b->v[B_ANNUAL] : b->v[B_MONTHLY];

	int cancel_pending = text_is(b->v[B_CANCEL], "t") && !text_is(status, "canceled");

	tvars_set(c->vars, "plan_type", b->v[B_PLAN]);
	tvars_set(c->vars, "plan_name", plan_label(b->v[B_PLAN]));
	tvars_set(c->vars, "plan_status", cancel_pending ? "canceling" : status);
	/* A cancelled plan still runs until its end: say when, not "Active". */
	if (cancel_pending && b->v[B_CANCEL_DATE] != NULL)
		tvars_setf(c->vars, "status_label", "Cancels on %s", day(c, b->v[B_CANCEL_DATE]));
	else
		tvars_set(c->vars, "status_label", cancel_pending ? "Cancels at the end of the cycle"
		                                                  : status_label(status));
	tvars_set(c->vars, "interval_label", annual ? "Annual" : "Monthly");
	tvars_set_bool(c->vars, "annual", annual);
	if (price != NULL)
		tvars_setf(c->vars, "price_text", "$%s per %s", price, annual ? "year" : "month");
	else
		tvars_set(c->vars, "price_text", "By contract");
	tvars_set(c->vars, text_is(chosen ? chosen : interval, "annual") ? "interval_annual" : "interval_monthly", "1");

	tvars_set(c->vars, "cycle_start", b->v[B_CYCLE_START]);
	tvars_set(c->vars, "cycle_start_text", day(c, b->v[B_CYCLE_START]));
	tvars_set(c->vars, "cycle_end", b->v[B_CYCLE_END]);
	tvars_set(c->vars, "cycle_end_text", day(c, b->v[B_CYCLE_END]));
	tvars_set(c->vars, "cycle_reset", b->v[B_CYCLE_RESET]);
	tvars_set(c->vars, "cycle_reset_text", day(c, b->v[B_CYCLE_RESET]));
	tvars_set(c->vars, "next_billing", b->v[B_NEXT]);
	tvars_set(c->vars, "next_billing_text", day(c, b->v[B_NEXT]));
	tvars_set_bool(c->vars, "auto_renew", text_is(b->v[B_AUTO_RENEW], "t"));
	tvars_set_bool(c->vars, "cancel_pending", cancel_pending);
	tvars_set(c->vars, "cancel_date", b->v[B_CANCEL_DATE]);
	tvars_set(c->vars, "cancel_date_text", day(c, b->v[B_CANCEL_DATE]));
	tvars_set_bool(c->vars, "can_cancel", !text_is(status, "canceled") && !text_is(b->v[B_PLAN], "free") &&
	               !text_is(b->v[B_CANCEL], "t"));

	tvars_set_bool(c->vars, "status_trialing", text_is(status, "trialing"));
	tvars_set_bool(c->vars, "status_past_due", text_is(status, "past_due"));
	tvars_set_bool(c->vars, "status_canceled", text_is(status, "canceled"));
	tvars_set_bool(c->vars, "status_suspended", text_is(status, "suspended"));
	if (text_is(status, "trialing") && b->v[B_TRIAL_END] != NULL) {
		long days = 0;

		long secs = 0;

		if (b->v[B_TRIAL_SECONDS] == NULL ||
		    parse_long(b->v[B_TRIAL_SECONDS], LONG_MIN, LONG_MAX, &secs) != 0)
			secs = 0;
		secs -= b->age;
		/* Days begun count: 1 second left is "1 day left". */
		days = secs > 0 ? (secs + 86399) / 86400 : 0;
		tvars_set(c->vars, "trial_end", b->v[B_TRIAL_END]);
		tvars_set(c->vars, "trial_end_text", day(c, b->v[B_TRIAL_END]));
		if (days > 0)
			tvars_setf(c->vars, "trial_left", "%ld day%s left", days, days == 1 ? "" : "s");
		else
			tvars_set_bool(c->vars, "trial_over", 1);
	}

	if (b->v[B_BRAND] != NULL || b->v[B_LAST4] != NULL) {
		tvars_set(c->vars, "card_brand", b->v[B_BRAND] ? b->v[B_BRAND] : "Card");
		tvars_set(c->vars, "card_last4", b->v[B_LAST4]);
	}
}

/* The usage meters and the retention line. */
static void usage_fill(struct ctx *c, const struct billing *b)
{
	int overage = text_is(b->v[B_OVERAGE], "t");
	long pending = number(b->v[B_PENDING]);

	meter_add(c, "traces", "Traces this month", "traces", "trace",
	          number(b->v[B_TRACES]), number(b->v[B_TRACES_LIMIT]), overage);
	/* Seats as the team page counts them and the seat limit applies them. */
	meter_add(c, "members", "Team seats", "seats", "seat",
	          number(b->v[B_MEMBERS]) + (pending > 0 ? pending : 0),
	          number(b->v[B_MEMBERS_LIMIT]), overage);
	meter_add(c, "api_keys", "API keys", "API keys", "API key",
	          number(b->v[B_KEYS]), number(b->v[B_KEYS_LIMIT]), overage);
	meter_add(c, "custom", "Custom integrations (webhook and custom)", "custom integrations",
	          "custom integration", number(b->v[B_CUSTOM]), number(b->v[B_CUSTOM_LIMIT]), overage);
	if (pending > 0) {
		long members = number(b->v[B_MEMBERS]);

		tvars_setf(c->vars, "pending_note",
		           "%ld active member%s and %ld pending invitation%s: an invitation holds a seat "
		           "until it is accepted or revoked.", members < 0 ? 0 : members,
		           members == 1 ? "" : "s", pending, pending == 1 ? "" : "s");
	} else {
		tvars_set(c->vars, "pending_note", "Active members and pending invitations each hold a seat.");
	}
	tvars_set(c->vars, "retention_days", b->v[B_RETENTION]);
	tvars_set_bool(c->vars, "overage_allowed", overage);
}

/*
 * The billing page with status. With keep (the plain GET), the row and the
 * catalog may come from what this worker kept for the workspace at its
 * current version, and what is read is kept for the next owner who asks.
 */
static void billing_render(struct ctx *c, int status, int keep)
{
	const char *sales = getenv("SETTINGS_SALES_EMAIL");
	const struct wscache_entry *kept = keep ? wscache_get(c, WSC_BILLING) : NULL;
	PGresult *res[2] = { NULL, NULL };
	time_t read_at = time(NULL);
	struct billing b;
	int found;

	tvars_set(c->vars, "title", "Billing");
	tvars_set(c->vars, "nav", "billing");
	/* Enterprise is sold by contract: where the page sends people. */
	tvars_set(c->vars, "sales_email", sales != NULL && *sales != '\0' ? sales : "sales@example.com");
	if (kept != NULL && billing_due(kept->res[0]))
		kept = NULL;           /* the cycle ended since: roll it over first */
	if (kept != NULL) {
		found = billing_from(kept->res[0], &b);
		b.age = wscache_age(kept);
	} else if (db_resume(c) != 0 || (found = billing_read(c, &b, keep ? &res[0] : NULL)) < 0) {
		return;
	}
	if (found) {
		plan_fill(c, &b);
		usage_fill(c, &b);
	} else {
		tvars_set_bool(c->vars, "no_billing", 1);
	}
	if (catalog_fill(c, found ? &b : NULL, kept != NULL ? kept->res[1] : NULL,
	                 kept == NULL && keep ? &res[1] : NULL) != 0) {
		PQclear(res[0]);
		return;
	}
	page_render(c, status, "billing.tmpl");
	/* The row and the catalog are the same for every owner: keep them (wscache.h). */
	if (kept == NULL && keep && wscache_put(c, WSC_BILLING, res, 2, read_at) == NULL) {
		PQclear(res[0]);
		PQclear(res[1]);
	}
}

/*
 * Render the billing page with status (200, or 409/422 when a form was
 * refused: its errors are already in c->vars). Reads the row again, so what
 * is shown is what the transaction sees.
 */
static void billing_show(struct ctx *c, int status)
{
	billing_render(c, status, 0);
}

/* GET /w/{slug}/settings/billing: the page (owners only). 200; 403 for other roles. */
static void billing_get(struct ctx *c)
{
	billing_render(c, 200, 1);
}

/* Kept by this worker: the session check commits alone (app.h, struct prefetch). */
static int billing_prefetch(struct ctx *c, struct prefetch *p)
{
	return wscache_prefetch(c, p, WSC_BILLING);
}

/* Owner POSTs start here: cycle rolled over, row locked. 1 go on, 0 answered. */
static int billing_begin(struct ctx *c)
{
	int rc;

	if ((rc = billing_lock(c)) < 0 || rollover(c) != 0)
		return 0;
	if (rc == 0) {
		page_error(c, 404, "This workspace has no billing account.");
		return 0;
	}
	return 1;
}

/* Run an AUDITED_UPDATE statement and audit it under action when something changed. 0 ok. */
static int audited_update(struct ctx *c, const char *stmt, int nparams, const char *const *params,
                          const char *action)
{
	PGresult *r = db_exec(c, stmt, nparams, params, NULL);
	int rc = -1;

	if (r == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		rc = 0;
		if (text_is(PQgetvalue(r, 0, 2), "t"))
			rc = audit_log(c, action, "billing_config", db_value(c, r, 0, 0),
			               db_value(c, r, 0, 1));
	}
	PQclear(r);
	return rc;
}

/*
 * The limits a move to the plan in row i of p (plan_catalog or plan_find)
 * would leave exceeded: each one where usage is above the new limit and the
 * new limit is lower than the current one (so moving up while over a limit
 * is never refused). Adds rows to the loop of into; returns how many.
 */
static int plan_blockers(struct ctx *c, const struct billing *b, const PGresult *p, int i,
                         struct tvars *into, const char *loop)
{
	const char *plan = plan_label(PQgetvalue(p, i, P_TYPE));
	struct {
		long used, limit, current;
		const char *what;
	} checks[4];
	long members = number(b->v[B_MEMBERS]), pending = number(b->v[B_PENDING]);
	int n = 0;

	checks[0].used = number(b->v[B_TRACES]);
	checks[0].limit = number(PQgetisnull(p, i, P_TRACES) ? NULL : PQgetvalue(p, i, P_TRACES));
	checks[0].current = number(b->v[B_TRACES_LIMIT]);
	checks[0].what = arena_printf(c->arena, "Traces this month: %s used",
	                              count_text(c, checks[0].used));
	/* Pending invitations hold a seat too (they become members on acceptance). */
	checks[1].used = members + (pending > 0 ? pending : 0);
	checks[1].limit = number(PQgetisnull(p, i, P_MEMBERS) ? NULL : PQgetvalue(p, i, P_MEMBERS));
	checks[1].current = number(b->v[B_MEMBERS_LIMIT]);
	checks[1].what = pending > 0
	    ? arena_printf(c->arena, "Team members: %ld active and %ld pending invitation%s",
	                   members, pending, pending == 1 ? "" : "s")
	    : arena_printf(c->arena, "Team members: %ld active", members);
	checks[2].used = number(b->v[B_KEYS]);
	checks[2].limit = number(PQgetisnull(p, i, P_KEYS) ? NULL : PQgetvalue(p, i, P_KEYS));
	checks[2].current = number(b->v[B_KEYS_LIMIT]);
	checks[2].what = arena_printf(c->arena, "API keys: %ld active", checks[2].used);
	checks[3].used = number(b->v[B_CUSTOM]);
	checks[3].limit = number(PQgetisnull(p, i, P_CUSTOM) ? NULL : PQgetvalue(p, i, P_CUSTOM));
	checks[3].current = number(b->v[B_CUSTOM_LIMIT]);
	checks[3].what = arena_printf(c->arena, "Custom integrations: %ld", checks[3].used);

	for (size_t k = 0; k < sizeof(checks) / sizeof(checks[0]); k++) {
		struct tvars *row;

		if (checks[k].limit < 0 || checks[k].used <= checks[k].limit)
			continue;
		if (checks[k].current >= 0 && checks[k].limit >= checks[k].current)
			continue;
		row = tvars_loop_add(into, loop);
		tvars_setf(row, "text", "%s; the %s plan allows %s.", checks[k].what, plan,
		           count_text(c, checks[k].limit));
		n++;
	}
	return n;
}

/* One row of the plan confirmation: what changes, from what to what. */
static void change_row(struct ctx *c, const char *what, const char *from, const char *to,
                       const char *note)
{
	struct tvars *row;

	if (from != NULL && to != NULL && strcmp(from, to) == 0)
		return;
	row = tvars_loop_add(c->vars, "changes");
	tvars_set(row, "what", what);
	tvars_set(row, "from", from != NULL ? from : "None");
	tvars_set(row, "to", to != NULL ? to : "None");
	tvars_set(row, "note", note);
}

/* A limit in words for the confirmation: "100,000", "Unlimited", "None". */
static const char *limit_words(struct ctx *c, const char *limit)
{
	long n = number(limit);

	return n == 0 ? "None" : limit_text(c, limit);
}

/*
 * The confirmation of a plan change (SPEC: the plan changes only on a POST
 * with confirm=1): what the price and interval become, each limit that
 * changes, and the traces that a shorter retention will no longer keep.
 */
static void plan_confirm(struct ctx *c, const struct billing *b, const PGresult *p,
                         const char *interval)
{
	int annual = text_is(interval, "annual"), was_annual = text_is(b->v[B_INTERVAL], "annual");
	const char *was_price = was_annual ? b->v[B_ANNUAL] : b->v[B_MONTHLY];
	const char *price = db_value(c, p, 0, annual ? P_ANNUAL : P_MONTHLY);
	const char *plan = PQgetvalue(p, 0, P_TYPE);
	long old_days = number(b->v[B_RETENTION]), new_days = number(PQgetvalue(p, 0, P_RETENTION));
	static const struct { int b, p; const char *what; } limits[] = {
		{ B_TRACES_LIMIT, P_TRACES, "Traces per month" },
		{ B_MEMBERS_LIMIT, P_MEMBERS, "Team seats" },
		{ B_KEYS_LIMIT, P_KEYS, "API keys" },
		{ B_CUSTOM_LIMIT, P_CUSTOM, "Custom integrations" },
	};

	tvars_set(c->vars, "title", "Change plan");
	tvars_set(c->vars, "nav", "billing");
	tvars_set(c->vars, "new_plan_type", plan);
	tvars_set(c->vars, "new_plan_name", plan_label(plan));
	tvars_set(c->vars, "new_interval", annual ? "annual" : "monthly");
	tvars_set(c->vars, "plan_name", plan_label(b->v[B_PLAN]));
	change_row(c, "Plan", plan_label(b->v[B_PLAN]), plan_label(plan), NULL);
	change_row(c, "Billing interval", was_annual ? "Annual" : "Monthly",
	           annual ? "Annual" : "Monthly", NULL);
	change_row(c, "Price",
	           was_price ? arena_printf(c->arena, "$%s per %s", was_price, was_annual ? "year" : "month")
	                     : "By contract",
	           price ? arena_printf(c->arena, "$%s per %s", price, annual ? "year" : "month")
	                 : "By contract", NULL);
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		const char *to = db_value(c, p, 0, limits[i].p);

		change_row(c, limits[i].what, limit_words(c, b->v[limits[i].b]), limit_words(c, to),
		           NULL);
	}
	if (old_days != new_days)
		change_row(c, "Data retention",
		           old_days < 0 ? "Not set" : arena_printf(c->arena, "%ld days", old_days),
		           arena_printf(c->arena, "%ld days", new_days),
		           old_days < 0 || new_days < old_days
		           ? arena_printf(c->arena, "Traces older than %ld days will no longer be kept.",
		                          new_days) : NULL);
	if (text_is(b->v[B_STATUS], "canceled"))
		tvars_set_bool(c->vars, "restarts", 1);
	else if (text_is(b->v[B_CANCEL], "t"))
		tvars_set_bool(c->vars, "keeps_cancel", 1);
	tvars_set(c->vars, "cancel_date", b->v[B_CANCEL_DATE]);
	tvars_set(c->vars, "cancel_date_text", day(c, b->v[B_CANCEL_DATE]));
	page_render(c, 200, "billing_plan_confirm.tmpl");
}

/*
 * GET and POST /w/{slug}/settings/billing/plan (plan_type,
 * billing_interval, confirm): a GET, or a POST without confirm=1, answers
 * 200 with the confirmation that says what will change; a POST with
 * confirm=1 copies the catalog's limits and prices and answers 303 with a
 * notice. 422 for a missing, unknown or non-self-serve plan (enterprise) or
 * a bad interval; 409 when usage is above a lower limit of the new plan;
 * 404 without a billing row.
 */
static void plan_post(struct ctx *c)
{
	const char *plan = http_field(c->req, K_PLAN_TYPE);
	const char *interval = http_field(c->req, K_BILLING_INTERVAL);
	int is_post = strcmp(c->req->method, "POST") == 0;
	const char *params[4];
	struct billing b;
	PGresult *p = NULL;
	int bad = 0;

	if (!is_post && c->req->fields[K_PLAN_TYPE].raw == NULL &&
	    c->req->fields[K_BILLING_INTERVAL].raw == NULL) {
		/* Nothing chosen yet: the plans are on the billing page. */
		resp_redirect(c->resp, billing_path(c));
		return;
	}
	if (is_post && !billing_begin(c))
		return;
	form_keep(c);
	if (interval == NULL) {
		form_error(c, "billing_interval", "Choose monthly or annual billing.");
		bad = 1;
	}
	if (plan != NULL) {
		params[0] = plan;
		if ((p = db_exec(c, "plan_find", 1, params, NULL)) == NULL)
			return;
		if (PQntuples(p) == 0) {
			PQclear(p);
			p = NULL;
			plan = NULL;
		}
	}
	if (plan == NULL) {
		form_error(c, "plan_type", "Choose one of the plans listed.");
		bad = 1;
	} else if (!text_is(PQgetvalue(p, 0, P_SELF_SERVE), "t")) {
		form_error(c, "plan_type", arena_printf(c->arena,
		           "The %s plan is arranged by contract and cannot be chosen here: contact sales.",
		           plan_label(plan)));
		bad = 1;
	}
	if (bad) {
		PQclear(p);
		billing_show(c, 422);
		return;
	}
	if ((bad = billing_load(c, &b)) != 1) {
		PQclear(p);
		if (bad == 0)
			page_error(c, 404, "This workspace has no billing account.");
		return;
	}
	if (text_is(b.v[B_PLAN], plan) && text_is(b.v[B_INTERVAL], interval) && !text_is(b.v[B_STATUS], "canceled")) {
		PQclear(p);
		page_redirect_notice(c, billing_path(c), arena_printf(c->arena,
		    "You are already on the %s plan, billed %s. Nothing changed.",
		    plan_label(plan), text_is(interval, "annual") ? "annually" : "monthly"));
		return;
	}
	if (plan_blockers(c, &b, p, 0, c->vars, "refusals") > 0) {
		PQclear(p);
		tvars_set(c->vars, "plan_refused", arena_printf(c->arena,
		          "You cannot move to the %s plan while usage is above its limits:",
		          plan_label(plan)));
		form_error(c, "plan_type", "Usage is above this plan's limits (see above).");
		billing_show(c, 409);
		return;
	}
	if (!is_post || http_field(c->req, K_CONFIRM) == NULL) {
		plan_confirm(c, &b, p, interval);
		PQclear(p);
		return;
	}
	PQclear(p);
	params[0] = c->ws->id;
	params[1] = plan;
	params[2] = interval;
	params[3] = c->session->user_id;
	if (audited_update(c, "plan_update", 4, params, "billing.plan_changed") != 0) {
		c->db_failed = 1;
		return;
	}
	page_redirect_notice(c, billing_path(c), arena_printf(c->arena,
	    "You are now on the %s plan, billed %s.", plan_label(plan),
	    text_is(interval, "annual") ? "annually" : "monthly"));
}

/*
 * GET /w/{slug}/settings/billing/cancel: the confirmation step before
 * cancelling (works without JavaScript). 200; 404 without a billing row.
 */
static void cancel_get(struct ctx *c)
{
	struct billing b;
	int found;

	if ((found = billing_load(c, &b)) < 0)
		return;
	if (!found) {
		page_error(c, 404, "This workspace has no billing account.");
		return;
	}
	tvars_set(c->vars, "title", "Cancel subscription");
	tvars_set(c->vars, "nav", "billing");
	plan_fill(c, &b);
	page_render(c, 200, "billing_cancel.tmpl");
}

/*
 * POST /w/{slug}/settings/billing/cancel (confirm=1): cancel at the end of
 * the cycle (cancellation_requested, effective date = cycle end, no
 * auto-renew). 303; without confirm=1 the confirmation page (200); 409 when
 * the subscription has ended already or the plan is free.
 */
static void cancel_post(struct ctx *c)
{
	const char *params[2];
	struct billing b;

	if (http_field(c->req, C_CONFIRM) == NULL) {
		cancel_get(c);
		return;
	}
	if (!billing_begin(c) || billing_load(c, &b) != 1)
		return;
	if (text_is(b.v[B_STATUS], "canceled")) {
		page_error(c, 409, "This subscription has already ended.");
		return;
	}
	if (text_is(b.v[B_PLAN], "free")) {
		page_error(c, 409, "The Free plan has no subscription to cancel.");
		return;
	}
	if (text_is(b.v[B_CANCEL], "t")) {
		page_redirect_notice(c, billing_path(c), arena_printf(c->arena,
		    "The subscription is already set to end on %s. Nothing changed.",
		    b.v[B_CANCEL_DATE] ? day(c, b.v[B_CANCEL_DATE]) : "the end of the cycle"));
		return;
	}
	params[0] = c->ws->id;
	params[1] = c->session->user_id;
	if (audited_update(c, "cancel_update", 2, params, "billing.cancellation_requested") != 0) {
		c->db_failed = 1;
		return;
	}
	page_redirect_notice(c, billing_path(c), arena_printf(c->arena,
	    "Your %s plan will end on %s. You can resume it until then.",
	    plan_label(b.v[B_PLAN]), b.v[B_CYCLE_END] ? day(c, b.v[B_CYCLE_END]) : "today"));
}

/*
 * POST /w/{slug}/settings/billing/resume: undo a requested cancellation.
 * 303 (also when there was nothing to undo); 409 when the subscription has
 * ended already (choose a plan to start again).
 */
static void resume_post(struct ctx *c)
{
	const char *params[2];
	struct billing b;

	if (!billing_begin(c) || billing_load(c, &b) != 1)
		return;
	if (text_is(b.v[B_STATUS], "canceled")) {
		page_error(c, 409, "This subscription has already ended: choose a plan on the billing page to subscribe again.");
		return;
	}
	if (!text_is(b.v[B_CANCEL], "t")) {
		page_redirect_notice(c, billing_path(c),
		    "The subscription was not set to end. Nothing changed.");
		return;
	}
	params[0] = c->ws->id;
	params[1] = c->session->user_id;
	if (audited_update(c, "resume_update", 2, params, "billing.cancellation_withdrawn") != 0) {
		c->db_failed = 1;
		return;
	}
	page_redirect_notice(c, billing_path(c), arena_printf(c->arena,
	    "Your %s plan will renew as usual.", plan_label(b.v[B_PLAN])));
}

/* --- Stripe webhook ---------------------------------------------------- */

enum stripe_kind {
	EV_UNKNOWN = 0, EV_SUB_CREATED, EV_SUB_UPDATED, EV_SUB_DELETED,
	EV_INVOICE_PAID, EV_INVOICE_FAILED
};

/* The event types applied; everything else is acknowledged and ignored. */
static enum stripe_kind stripe_kind(const char *type)
{
	static const struct { const char *type; enum stripe_kind kind; } kinds[] = {
		{ "customer.subscription.created", EV_SUB_CREATED },
		{ "customer.subscription.updated", EV_SUB_UPDATED },
		{ "customer.subscription.deleted", EV_SUB_DELETED },
		{ "invoice.paid", EV_INVOICE_PAID },
		{ "invoice.payment_failed", EV_INVOICE_FAILED },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(type, kinds[i].type) == 0)
			return kinds[i].kind;
	return EV_UNKNOWN;
}

/* Stripe's subscription status as ours; NULL leaves the status alone. */
static const char *stripe_status(const char *s)
{
	static const struct { const char *stripe, *ours; } map[] = {
		{ "active", "active" }, { "trialing", "trialing" }, { "past_due", "past_due" },
		{ "incomplete", "past_due" }, { "unpaid", "suspended" }, { "paused", "suspended" },
		{ "canceled", "canceled" }, { "incomplete_expired", "canceled" },
	};

	for (size_t i = 0; s != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i].stripe) == 0)
			return map[i].ours;
	return NULL;
}

/* A short plain-text answer for Stripe (its dashboard shows it). */
static void webhook_answer(struct ctx *c, int status, const char *message)
{
	resp_begin(c->resp, status, "text/plain; charset=utf-8");
	buf_puts(&c->resp->body, message);
	buf_putc(&c->resp->body, '\n');
}

/*
 * Check a Stripe-Signature header ("t=...,v1=...,v1=...") against the raw
 * body: HMAC-SHA256 of "<t>.<body>" with the secret, hex; any v1 may match;
 * constant-time comparison; t within STRIPE_TOLERANCE seconds of now.
 * Returns NULL when valid, else why not (for the log).
 */
static const char *stripe_verify(struct ctx *c, const char *header, const char *secret)
{
	const char *t = NULL, *sigs[STRIPE_MAX_SIGNATURES];
	char *copy, *item, *save = NULL, expected[65];
	size_t nsigs = 0;
	long ts;
	struct buf payload;
	int match = 0;

	if (header == NULL || *header == '\0')
		return "no Stripe-Signature header";
	copy = arena_strdup(c->arena, header);
	for (item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		while (*item == ' ' || *item == '\t')
			item++;
		if (strncmp(item, "t=", 2) == 0 && t == NULL)
			t = item + 2;
		else if (strncmp(item, "v1=", 3) == 0 && nsigs < STRIPE_MAX_SIGNATURES)
			sigs[nsigs++] = item + 3;
	}
	if (t == NULL || nsigs == 0)
		return "malformed Stripe-Signature header";
	if (strspn(t, "0123456789") != strlen(t) || parse_long(t, 1, 253402300799L, &ts) != 0)
		return "malformed timestamp";
	if (ts < (long)time(NULL) - STRIPE_TOLERANCE || ts > (long)time(NULL) + STRIPE_TOLERANCE)
		return "timestamp outside the tolerance";
	buf_init(&payload);
	buf_puts(&payload, t);
	buf_putc(&payload, '.');
	buf_append(&payload, c->req->body, c->req->body_len);
	crypto_hmac_sha256_hex(secret, strlen(secret), payload.data, payload.len, expected);
	buf_free(&payload);
	for (size_t i = 0; i < nsigs; i++)
		match |= crypto_equal(sigs[i], expected);
	return match ? NULL : "no matching signature";
}

/*
 * POST /webhooks/stripe: verify the signature, then apply the event once
 * (by event id) and never older than the last one applied. 200 for applied,
 * replayed, out-of-order, unknown-type and unknown-customer events alike;
 * 400 for a bad, missing or stale signature, or a body that is not a JSON
 * event; 503 when no secret is configured.
 */
static void webhook_post(struct ctx *c)
{
	const char *secret = getenv("STRIPE_WEBHOOK_SECRET");
	const char *why, *state, *params[9];
	const char *id, *type, *created, *customer, *object_id, *status, *period_end;
	const char *cancel_at_end, *trial_end, *invoice_sub, *ws_id = NULL;
	const char *billing_id = NULL, *last_applied = NULL, *current_sub = NULL;
	enum stripe_kind kind;
	struct workspace *w;
	PGresult *r;
	int rc;

	c->session = NULL;         /* changes come from Stripe, not from a signed-in person */
	if (secret == NULL || *secret == '\0') {
		app_log(c, "stripe webhook: STRIPE_WEBHOOK_SECRET is not set");
		webhook_answer(c, 503, "webhook not configured");
		return;
	}
	if ((why = stripe_verify(c, http_env(c->req, "HTTP_STRIPE_SIGNATURE"), secret)) != NULL) {
		app_log(c, "stripe webhook refused: %s", why);
		webhook_answer(c, 400, "signature verification failed");
		return;
	}
	if (c->req->body_len == 0 || !utf8_valid(c->req->body, c->req->body_len)) {
		webhook_answer(c, 400, "invalid payload");
		return;
	}
	params[0] = c->req->body;
	if ((r = db_exec(c, "stripe_event_read", 1, params, &state)) == NULL) {
		if (state != NULL && strncmp(state, "22", 2) == 0) {
			webhook_answer(c, 400, "invalid payload: not JSON");
			return;
		}
		c->db_failed = 1;
		return;
	}
	id = db_value(c, r, 0, 0);
	type = db_value(c, r, 0, 1);
	created = db_value(c, r, 0, 2);
	customer = db_value(c, r, 0, 3);
	object_id = db_value(c, r, 0, 4);
	status = stripe_status(db_value(c, r, 0, 5));
	period_end = db_value(c, r, 0, 6);
	cancel_at_end = db_value(c, r, 0, 7);
	trial_end = db_value(c, r, 0, 8);
	invoice_sub = db_value(c, r, 0, 9);
	PQclear(r);
	if (id == NULL || type == NULL || created == NULL || *id == '\0' ||
	    strlen(id) > STRIPE_MAX_ID || strlen(type) > STRIPE_MAX_ID) {
		webhook_answer(c, 400, "invalid payload: not a Stripe event");
		return;
	}
	kind = stripe_kind(type);

	if (customer != NULL) {
		params[0] = customer;
		if (db_exec_value(c, "stripe_customer_workspace", 1, params, &ws_id) != 0)
			return;
	}
	if (ws_id != NULL && kind != EV_UNKNOWN) {
		/* Row-level security: this transaction now works in that workspace. */
		params[0] = ws_id;
		if ((r = db_exec(c, "stripe_set_workspace", 1, params, NULL)) == NULL)
			return;
		PQclear(r);
		if ((r = db_exec(c, "stripe_lock", 1, params, NULL)) == NULL)
			return;
		if (PQntuples(r) == 1) {
			billing_id = db_value(c, r, 0, 0);
			last_applied = db_value(c, r, 0, 1);
			current_sub = db_value(c, r, 0, 2);
		}
		PQclear(r);
	}
	/* Recorded whatever happens next: a redelivery finds it and stops here. */
	params[0] = id;
	params[1] = ws_id;
	params[2] = type;
	params[3] = created;
	params[4] = c->req->body;
	if ((r = db_exec(c, "stripe_event_insert", 5, params, NULL)) == NULL)
		return;
	rc = PQntuples(r);
	PQclear(r);
	if (rc == 0) {
		app_log(c, "stripe event %s already processed", id);
		webhook_answer(c, 200, "duplicate event ignored");
		return;
	}
	if (kind == EV_UNKNOWN) {
		webhook_answer(c, 200, "event type ignored");
		return;
	}
	if (billing_id == NULL) {
		app_log(c, "stripe event %s: no workspace for its customer", id);
		webhook_answer(c, 200, "no workspace for this customer; ignored");
		return;
	}
	if (last_applied != NULL && number(created) < number(last_applied)) {
		app_log(c, "stripe event %s is older than the last applied one; not applied", id);
		webhook_answer(c, 200, "older than the last applied event; ignored");
		return;
	}
	/* An event about another subscription than the workspace's current one. */
	if (current_sub != NULL &&
	    (((kind == EV_SUB_UPDATED || kind == EV_SUB_DELETED) && object_id != NULL &&
	      strcmp(object_id, current_sub) != 0) ||
	     ((kind == EV_INVOICE_PAID || kind == EV_INVOICE_FAILED) && invoice_sub != NULL &&
	      strcmp(invoice_sub, current_sub) != 0))) {
		app_log(c, "stripe event %s concerns another subscription; not applied", id);
		webhook_answer(c, 200, "other subscription; ignored");
		return;
	}

	w = arena_alloc(c->arena, sizeof(*w));
	w->id = ws_id;
	c->ws = w;
	params[0] = ws_id;
	switch (kind) {
	case EV_SUB_CREATED:
	case EV_SUB_UPDATED:
		params[1] = status;
		params[2] = period_end;
		params[3] = cancel_at_end;
		params[4] = trial_end;
		params[5] = kind == EV_SUB_CREATED ? object_id : NULL;
		params[6] = created;
		params[7] = id;
		params[8] = type;
		rc = audited_update(c, "stripe_subscription", 9, params, "billing.stripe_event_applied");
		break;
	case EV_SUB_DELETED:
		params[1] = created;
		params[2] = id;
		params[3] = type;
		rc = audited_update(c, "stripe_deleted", 4, params, "billing.stripe_event_applied");
		break;
	default:
		params[1] = kind == EV_INVOICE_PAID ? "active" : "past_due";
		params[2] = created;
		params[3] = id;
		params[4] = type;
		rc = audited_update(c, "stripe_status", 5, params, "billing.stripe_event_applied");
		break;
	}
	if (rc != 0) {
		c->db_failed = 1;
		return;
	}
	webhook_answer(c, 200, "applied");
}

static const struct route routes[] = {
	{ "GET", "/w/*/settings/billing", billing_get, ROUTE_WORKSPACE, PERM_VIEW_BILLING, NULL, 0,
	  billing_prefetch },
	{ "GET", "/w/*/settings/billing/plan", plan_post, ROUTE_WORKSPACE, PERM_MANAGE_BILLING,
	  plan_fields, K__MAX },
	{ "POST", "/w/*/settings/billing/plan", plan_post, ROUTE_WORKSPACE, PERM_MANAGE_BILLING,
	  plan_fields, K__MAX },
	{ "GET", "/w/*/settings/billing/cancel", cancel_get, ROUTE_WORKSPACE, PERM_MANAGE_BILLING,
	  NULL, 0 },
	{ "POST", "/w/*/settings/billing/cancel", cancel_post, ROUTE_WORKSPACE, PERM_MANAGE_BILLING,
	  cancel_fields, C__MAX },
	{ "POST", "/w/*/settings/billing/resume", resume_post, ROUTE_WORKSPACE, PERM_MANAGE_BILLING,
	  NULL, 0 },
	{ "POST", "/webhooks/stripe", webhook_post, ROUTE_PUBLIC | ROUTE_NO_CSRF, PERM_NONE, NULL, 0 },
};

static const char *const templates[] = { "billing.tmpl", "billing_cancel.tmpl",
                                         "billing_plan_confirm.tmpl", NULL };

static const struct page page = {
	"billing", routes, sizeof(routes) / sizeof(routes[0]),
	stmts, sizeof(stmts) / sizeof(stmts[0]), templates, NULL,
};

/*
 * billing --rollover: close every ended billing cycle (for cron), as the
 * application role named by DATABASE_URL. Exit 0 on success.
 */
static int rollover_command(void)
{
	const char *url = getenv("DATABASE_URL");
	PGconn *conn;
	PGresult *r;
	int rc = 1;

	conn = PQconnectdb(url != NULL && *url != '\0' ? url
	                   : "host=127.0.0.1 port=5433 dbname=settings user=settings_app");
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "billing --rollover: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 1;
	}
	r = PQexec(conn, "SELECT billing_rollover_due()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		printf("billing cycles rolled over: %s\n", PQgetvalue(r, 0, 0));
		rc = 0;
	} else {
		fprintf(stderr, "billing --rollover: %s", PQerrorMessage(conn));
	}
	PQclear(r);
	PQfinish(conn);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--rollover") == 0)
		return rollover_command();
	return app_main(argc, argv, &page);
}
