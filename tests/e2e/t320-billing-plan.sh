#!/bin/sh
# t320-billing-plan.sh: plan changes: limits and prices from the catalog, downgrade refused (409) naming each exceeded limit, enterprise and bad input 422, audited.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/billing
row() { sql "SELECT $1 FROM billing_config WHERE workspace_id = '$ACME'"; }
state() { sql "SELECT md5(b::text) || '/' || (SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME')
                 FROM billing_config b WHERE workspace_id = '$ACME'"; }
audits() { sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME' AND action = 'billing.plan_changed'"; }
# matches_catalog PLAN: the row's limits and prices equal the catalog's for PLAN.
matches_catalog() {
	[ "$(sql "SELECT count(*) FROM billing_config b JOIN plan_catalog c ON c.plan_type = '$1'
	  WHERE b.workspace_id = '$ACME' AND b.plan_type = '$1'
	    AND (b.traces_per_month_limit, b.team_members_limit, b.api_keys_limit, b.data_retention_days,
	         b.custom_integrations_limit, b.monthly_price_usd, b.annual_price_usd)
	        IS NOT DISTINCT FROM
	        (c.traces_per_month_limit, c.team_members_limit, c.api_keys_limit, c.data_retention_days,
	         c.custom_integrations_limit, c.monthly_price_usd, c.annual_price_usd)")" = 1 ]
}

login o demo@example.com
before=$(state)

# Downgrade to Starter: only traces (650,000 > 100,000) are above its limits.
post o $P/plan plan_type=starter billing_interval=monthly
is "downgrade with traces above the new limit: 409" "$STATUS" 409
check "409 names traces this month" body_has 'Traces this month: 650,000 used; the Starter plan allows 100,000.'
check "409 does not name limits that fit" sh -c "! sed -n '/id=\"plan-refused\"/,/<\/div>/p' '$T/body' | grep -q 'Team members:\|API keys: 3 active;\|Custom integrations: 1;'"
check "the 409 page is the billing page with the form" grep -q 'name="plan_type" value="starter" checked' "$T/body"
check "the 409 page is valid HTML" tidy_ok
is "nothing changed after the 409" "$(state)" "$before"

# Downgrade to Free: all four limits are exceeded, each named.
post o $P/plan plan_type=free billing_interval=monthly
is "downgrade to Free: 409" "$STATUS" 409
check "names traces" body_has 'Traces this month: 650,000 used; the Free plan allows 10,000.'
check "names members (active and pending)" body_has 'Team members: 4 active and 1 pending invitation; the Free plan allows 3.'
check "names API keys" body_has 'API keys: 3 active; the Free plan allows 2.'
check "names custom integrations" body_has 'Custom integrations: 1; the Free plan allows 0.'
is "nothing changed after the second 409" "$(state)" "$before"

# Enterprise is not self-serve; bad values are 422 with the form re-shown.
post o $P/plan plan_type=enterprise billing_interval=monthly
is "enterprise: 422" "$STATUS" 422
check "enterprise: contact sales, next to the field" grep -q 'id="err-plan_type">The Enterprise plan is arranged by contract and cannot be chosen here: contact sales.' "$T/body"
check "the error is tied to the field" body_has 'aria-describedby="err-plan_type"'
post o $P/plan plan_type=gold billing_interval=monthly
is "unknown plan: 422" "$STATUS" 422
check "unknown plan: message next to the field" grep -q 'id="err-plan_type">Choose one of the plans listed.' "$T/body"
post o $P/plan plan_type=starter billing_interval=weekly
is "unknown interval: 422" "$STATUS" 422
check "unknown interval: message next to the field" grep -q 'id="err-billing_interval">Choose monthly or annual billing.' "$T/body"
check "the chosen plan is kept" grep -q 'id="plan-starter" name="plan_type" value="starter" checked' "$T/body"
check "the 422 page is valid HTML" tidy_ok
post o $P/plan
is "no fields at all: 422" "$STATUS" 422
check "both fields flagged" sh -c "grep -q 'id=\"err-plan_type\"' '$T/body' && grep -q 'id=\"err-billing_interval\"' '$T/body'"
post o $P/plan "plan_type=starter'; DROP TABLE plan_catalog; --" billing_interval=monthly
is "SQL in the plan field: 422" "$STATUS" 422
is "nothing changed after the 422s" "$(state)" "$before"

# Same plan and interval: nothing to do.
post o $P/plan plan_type=professional billing_interval=monthly
is "same plan: 303" "$STATUS" 303
get o $P
check "same plan: says nothing changed" body_has 'You are already on the Professional plan, billed monthly. Nothing changed.'
is "same plan: no audit row" "$(audits)" 0

# With usage inside Starter's limits the downgrade goes through.
sql "UPDATE billing_config SET traces_current_month = 42000 WHERE workspace_id = '$ACME'" >/dev/null
post o $P/plan plan_type=starter billing_interval=annual confirm=1
is "downgrade within the limits: 303" "$STATUS" 303
is "... back to the billing page" "$(header Location)" "$P"
is "plan is starter" "$(row plan_type)" starter
is "interval is annual" "$(row billing_interval)" annual
check "limits and prices copied from the catalog" matches_catalog starter
is "one audit row" "$(audits)" 1
is "audit: old and new plan" "$(sql "SELECT (changes->'old'->>'plan_type') || '>' || (changes->'new'->>'plan_type') || ' ' || (changes->'new'->>'traces_per_month_limit') || ' by ' || user_id FROM audit_logs WHERE action = 'billing.plan_changed'")" "professional>starter 100000 by 00000000-0000-0000-0000-000000000001"
get o $P
check "notice after the change" body_has 'You are now on the Starter plan, billed annually.'
check "page: Starter at \$290.00 per year" sh -c "grep -q '<dt>Plan</dt><dd>Starter</dd>' '$T/body' && grep -q '<dt>Price</dt><dd>\$290.00 per year</dd>' '$T/body'"
check "page: the new limit in the meter" body_has '42,000 of 100,000 traces — 42%'
check "page: Starter is now the current plan" grep -q 'Starter <strong>(current plan)</strong>' "$T/body"

# Upgrading while over a limit of the current plan is never refused.
sql "UPDATE billing_config SET traces_current_month = 150000 WHERE workspace_id = '$ACME'" >/dev/null
post o $P/plan plan_type=professional billing_interval=monthly confirm=1
is "upgrade: 303" "$STATUS" 303
check "upgrade: limits and prices from the catalog" matches_catalog professional
# Prices are read from the catalog at the time of the change.
sql "UPDATE plan_catalog SET monthly_price_usd = 31, traces_per_month_limit = 200000 WHERE plan_type = 'starter'" >/dev/null
post o $P/plan plan_type=starter billing_interval=monthly confirm=1
is "downgrade after a catalog change: 303" "$STATUS" 303
is "the current catalog price is copied" "$(row monthly_price_usd)" "31.00"
is "the current catalog limit is copied" "$(row traces_per_month_limit)" 200000

# A limit equal to usage is not exceeded; one above is.
sql "UPDATE billing_config SET traces_current_month = 10000 WHERE workspace_id = '$ACME';
     UPDATE team_members SET status = 'inactive' WHERE id IN ('10000000-0000-0000-0000-000000000004');
     UPDATE team_members SET deleted_at = now() WHERE id = '10000000-0000-0000-0000-000000000005';
     UPDATE api_keys SET revoked_at = now() WHERE id = '40000000-0000-0000-0000-000000000003';
     UPDATE integrations_config SET integration_type = 'slack' WHERE workspace_id = '$ACME' AND integration_type IN ('webhook', 'custom')" >/dev/null
post o $P/plan plan_type=free billing_interval=monthly confirm=1
is "usage exactly at Free's limits: 303" "$STATUS" 303
is "now on Free" "$(row plan_type)" free

# A canceled subscription starts again with a plan change.
sql "UPDATE billing_config SET plan_status = 'canceled', auto_renew = false, next_billing_date = NULL WHERE workspace_id = '$ACME'" >/dev/null
post o $P/plan plan_type=starter billing_interval=monthly confirm=1
is "plan change on a canceled subscription: 303" "$STATUS" 303
is "... it is active again, renewing" "$(row "plan_status || ' ' || auto_renew || ' ' || (next_billing_date = billing_cycle_end + 1)")" "active true true"
