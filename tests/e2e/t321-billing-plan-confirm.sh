#!/bin/sh
# t321-billing-plan-confirm.sh: a plan change is confirmed first (price, interval, each limit, shrinking retention); blocked plans are marked before submitting; annual billing shows the billing date and the monthly usage cycle.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/billing
row() { sql "SELECT $1 FROM billing_config WHERE workspace_id = '$ACME'"; }
audits() { sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME' AND action = 'billing.plan_changed'"; }
dump() { w3m -dump -cols 200 -T text/html "$T/body"; }

# The catalog is not part of the seed that every test starts from: its SPEC figures.
sql "UPDATE plan_catalog SET traces_per_month_limit = 100000, team_members_limit = 10, api_keys_limit = 5,
            data_retention_days = 30, custom_integrations_limit = 2, monthly_price_usd = 29, annual_price_usd = 290
      WHERE plan_type = 'starter'" >/dev/null
login o demo@example.com
# Before submitting: plans whose limits the usage is above are marked, with the limits.
get o $P
check "Starter is marked as blocked, with the limit that blocks it" sh -c "grep -q 'aria-describedby=\"blocked-starter\"' '$T/body' && sed -n '/id=\"blocked-starter\"/,/<\/div>/p' '$T/body' | grep -q 'Traces this month: 650,000 used; the Starter plan allows 100,000.'"
check "Free is marked with each of its blocking limits" sh -c "sed -n '/id=\"blocked-free\"/,/<\/div>/p' '$T/body' | grep -q 'API keys: 3 active; the Free plan allows 2.'"
check "the current plan is not marked" sh -c "! grep -q 'id=\"blocked-professional\"' '$T/body'"
post o $P/plan plan_type=starter billing_interval=monthly confirm=1
is "the blocked downgrade is still refused by the server: 409" "$STATUS" 409

sql "UPDATE billing_config SET traces_current_month = 42000 WHERE workspace_id = '$ACME'" >/dev/null
get o $P
check "within Starter's limits it is no longer marked" sh -c "! grep -q 'id=\"blocked-starter\"' '$T/body'"

# The confirmation (a GET link works too): what changes.
get o "$P/plan?plan_type=starter&billing_interval=annual"
is "GET the confirmation: 200" "$STATUS" 200
check "it asks" body_has 'Change to the Starter plan?'
check "price and interval" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Price +\\\$99.00 per month +\\\$290.00 per year' && w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Billing interval +Monthly +Annual'"
check "each limit that changes" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Traces per month +1,000,000 +100,000' && w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Team seats +25 +10' && w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'API keys +10 +5' && w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Custom integrations +5 +2'"
check "retention that shrinks, and what it means" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Data retention +90 days +30 days Traces older than 30 days will no longer be kept.'"
check "the form repeats plan_type, billing_interval and confirm=1" sh -c "grep -q 'name=\"plan_type\" value=\"starter\"' '$T/body' && grep -q 'name=\"billing_interval\" value=\"annual\"' '$T/body' && grep -q 'name=\"confirm\" value=\"1\"' '$T/body'"
check "... with a way back" body_has 'Keep the Professional plan'
check "the confirmation is valid HTML" tidy_ok
is "showing it changes nothing" "$(row plan_type)" professional

post o $P/plan plan_type=starter billing_interval=annual
is "a POST without confirm=1 answers the confirmation: 200" "$STATUS" 200
check "... the same page" body_has 'Change to the Starter plan?'
is "... and changes nothing" "$(row plan_type) $(audits)" "professional 0"

post o $P/plan plan_type=starter billing_interval=annual confirm=1
is "the confirmed POST acts: 303" "$STATUS" 303
is "... on Starter, annual" "$(row "plan_type || ' ' || billing_interval")" "starter annual"
is "... audited once" "$(audits)" 1

# Annual billing: both the billing date and the monthly usage cycle.
get o $P
check "the monthly usage cycle" sh -c "dump() { w3m -dump -cols 200 -T text/html '$T/body'; }; dump | grep -q 'Usage cycle (monthly)' && dump | grep -q 'Trace counts reset on'"
check "the annual billing date" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -q 'Next billing date (annual)'"
check "dates in the one format" grep -Eq '<time datetime="[0-9]{4}-[0-9]{2}-[0-9]{2}">[0-9]{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) [0-9]{4}</time>' "$T/body"
check "dates never wrap: they are <time>, which settings.css keeps on one line" grep -q 'time *{[^}]*white-space: *nowrap' "$ROOT/static/settings.css"

# An upgrade: retention grows, no warning.
get o "$P/plan?plan_type=professional&billing_interval=annual"
check "upgrade: retention 30 days to 90 days without a warning" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Data retention +30 days +90 days *$'"
check "upgrade: no unchanged rows (interval stays annual)" sh -c "! w3m -dump -cols 200 -T text/html '$T/body' | grep -q 'Billing interval'"

# Bad input on the GET is the form again (422); other roles get 403.
get o "$P/plan?plan_type=gold&billing_interval=monthly"
is "unknown plan in the confirmation address: 422" "$STATUS" 422
login v viewer@example.com
get v "$P/plan?plan_type=starter&billing_interval=monthly"
is "a viewer cannot see the confirmation: 403" "$STATUS" 403
