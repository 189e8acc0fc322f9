#!/bin/sh
# t310-billing-page.sh: the billing page's figures for the seeded workspace: plan, status, cycle, card, usage meters (warning, exceeded, unlimited), catalog.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/billing
bc() { sql "UPDATE billing_config SET $1 WHERE workspace_id = '$ACME'" >/dev/null; }
dump() { w3m -dump -cols 200 -T text/html "$T/body"; }

login o demo@example.com
get o $P
is "the owner gets the billing page" "$STATUS" 200
check "the page is valid HTML" tidy_ok
check "plan: Professional" grep -q '<dt>Plan</dt><dd>Professional</dd>' "$T/body"
check "status: Active (a word, not only a colour)" grep -q '<span class="badge active">Active</span>' "$T/body"
check "interval: Monthly" grep -q '<dt>Billing interval</dt><dd>Monthly</dd>' "$T/body"
check "price: \$99.00 per month" grep -q '<dt>Price</dt><dd>\$99.00 per month</dd>' "$T/body"
start=$(sql "SELECT to_char(billing_cycle_start, 'FMDD FMMonth YYYY') FROM billing_config WHERE workspace_id = '$ACME'")
end=$(sql "SELECT to_char(billing_cycle_end, 'FMDD FMMonth YYYY') FROM billing_config WHERE workspace_id = '$ACME'")
next=$(sql "SELECT to_char(next_billing_date, 'FMDD FMMonth YYYY') FROM billing_config WHERE workspace_id = '$ACME'")
check "cycle start and end: $start to $end" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Current cycle' && grep -q '>$start</time> to <time[^>]*>$end</time>' '$T/body'"
check "next billing date: $next" grep -q "Next billing date</dt><dd><time datetime=\"[0-9-]*\">$next</time>" "$T/body"
check "auto-renew: On" grep -q '<dt>Auto-renew</dt><dd>On</dd>' "$T/body"
check "card brand and last 4" body_has 'Visa ending in 4242'
check "traces: 650,000 of 1,000,000 traces — 65%" body_has '650,000 of 1,000,000 traces — 65%'
check "traces: a <meter> with the figures" grep -q '<meter aria-labelledby="meter-traces-label" min="0" max="1000000" low="800000" high="1000000" optimum="0" value="650000">' "$T/body"
check "seats: active members plus pending invitations, as on the team page: 5 of 25 seats — 20%" body_has '5 of 25 seats — 20%'
check "seats: a <meter>" grep -q '<meter aria-labelledby="meter-members-label" min="0" max="25"[^>]* value="5">' "$T/body"
check "the seat meter says what holds the seats" body_has '4 active members and 1 pending invitation: an invitation holds a seat until it is accepted or revoked.'
check "a text browser prints each percentage once" sh -c "test \$(w3m -dump -T text/html '$T/body' | grep -c '65%') -eq 1 && ! w3m -dump -T text/html '$T/body' | grep -q '^ *[0-9]*%$'"
check "API keys: 3 of 10 API keys — 30%" body_has '3 of 10 API keys — 30%'
check "API keys: a <meter>" grep -q 'max="10"[^>]* value="3">' "$T/body"
check "custom integrations (webhook + custom): 1 of 5 — 20%" body_has '1 of 5 custom integrations — 20%'
check "retention days shown" body_has 'Data retention: 90 days.'
check "no warning at 65%" sh -c "! grep -q 'Warning: near the limit' '$T/body'"
check "readable in a text browser" sh -c "w3m -dump -T text/html '$T/body' | grep -q '650,000 of 1,000,000 traces — 65%'"

# The catalog comparison, straight from plan_catalog, with the current plan marked.
check "the catalog has the four plans" sh -c "[ \$(grep -c '<th scope=\"row\">' '$T/body') -eq 4 ]"
check "Professional is marked as the current plan" grep -q '<th scope="row">Professional <strong>(current plan)</strong></th>' "$T/body"
check "only one plan is marked current" sh -c "[ \$(grep -c '(current plan)</strong>' '$T/body') -eq 1 ]"
check "Starter's row: 100,000 traces, 10 members, 5 keys, 30 days, 2, \$29.00, \$290.00" sh -c \
	"w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Starter +100,000 +10 +5 +30 days +2 +\\\$29.00 +\\\$290.00'"
check "Enterprise: unlimited, contact sales instead of a price" sh -c \
	"w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Enterprise +Unlimited +Unlimited +Unlimited +365 days +Unlimited +Contact sales +By contract'"
check "Enterprise cannot be chosen in the form" sh -c "! grep -q 'value=\"enterprise\"' '$T/body'"
check "... the form offers contact instead" grep -q 'arranged by contract: <a href="mailto:' "$T/body"
check "the current plan and interval are preselected" grep -q 'id="plan-professional" name="plan_type" value="professional" checked' "$T/body"
check "the plan form carries the CSRF token" grep -q 'name="csrf_token" value="[A-Za-z0-9_-]\{43\}"' "$T/body"
sql "UPDATE plan_catalog SET monthly_price_usd = 35 WHERE plan_type = 'starter'" >/dev/null
get o $P
check "a catalog price change shows at once (single source)" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Starter +100,000 .*\\\$35.00'"

# Warning from 80%, exceeded from 100%, said in words.
bc "traces_current_month = 799999"
get o $P
check "79% (799,999): no warning" sh -c "grep -q '799,999 of 1,000,000 traces — 79%' '$T/body' && ! grep -q 'Warning' '$T/body'"
bc "traces_current_month = 800000"
get o $P
check "80%: the text says 80%" body_has '800,000 of 1,000,000 traces — 80%'
check "80%: a visible warning in words" grep -q 'class="meter warning" id="usage-traces"' "$T/body"
check "80%: Warning: near the limit" body_has 'Warning: near the limit'
bc "traces_current_month = 1000000"
get o $P
check "100%: limit reached" sh -c "grep -q '1,000,000 of 1,000,000 traces — 100%' '$T/body' && grep -q 'Limit reached' '$T/body'"
check "100%: exceeded state" grep -q 'class="meter exceeded" id="usage-traces"' "$T/body"
bc "traces_current_month = 1250000, overage_allowed = false"
get o $P
check "125%: limit exceeded" sh -c "grep -q '1,250,000 of 1,000,000 traces — 125%' '$T/body' && grep -q 'Limit exceeded' '$T/body'"
check "125%: the meter value stays within its range" grep -q 'max="1000000"[^>]* value="1000000">' "$T/body"
check "overage not allowed: said so" body_has 'Overage is not allowed on this plan'
bc "overage_allowed = true"
get o $P
check "overage allowed: said so" body_has 'Overage is allowed on this plan'
check "the exceeded page is still valid HTML" tidy_ok

# Unlimited limits say so and have no meter.
bc "traces_per_month_limit = NULL, team_members_limit = NULL"
get o $P
check "unlimited traces: 'unlimited'" body_has '1,250,000 traces — unlimited'
check "unlimited seats: 'unlimited'" body_has '5 seats — unlimited'
check "no meter for an unlimited limit" sh -c "! grep -q 'meter-traces-label\" min' '$T/body'"
bc "custom_integrations_limit = 0"
get o $P
check "a limit of 0 says none is included (and is exceeded by 1)" sh -c \
	"grep -q '1 of 0 custom integrations — none included in this plan' '$T/body' && grep -q 'class=\"meter exceeded\" id=\"usage-custom\"' '$T/body'"

# Each status, in words, with what to do.
bc "plan_status = 'trialing', trial_ends_at = now() + interval '5 days' - interval '1 minute'"
get o $P
check "trialing: Trial and the days left" grep -q '<span class="badge trialing">Trial</span> — 5 days left' "$T/body"
bc "plan_status = 'past_due'"
get o $P
check "past due: said" grep -q '<span class="badge past_due">Past due</span>' "$T/body"
check "past due: what to do" body_has 'What to do: update your payment method'
check "past due: names the card" body_has 'the Visa card ending in 4242 failed'
bc "plan_status = 'suspended'"
get o $P
check "suspended: said, with what to do" sh -c "grep -q '<span class=\"badge suspended\">Suspended</span>' '$T/body' && grep -q 'Pay the outstanding invoice' '$T/body'"
bc "plan_status = 'canceled', cancellation_effective_date = current_date - 1, auto_renew = false"
get o $P
check "canceled: said, with how to start again" sh -c "grep -q '<span class=\"badge canceled\">Canceled</span>' '$T/body' && grep -q 'This subscription has ended' '$T/body' && grep -q 'Choose a plan below to subscribe again' '$T/body'"
check "canceled: no next billing date, auto-renew off" sh -c "grep -q 'Next billing date</dt><dd>None' '$T/body' && grep -q '<dt>Auto-renew</dt><dd>Off</dd>' '$T/body'"
check "canceled: no cancel link" sh -c "! grep -q 'Cancel subscription' '$T/body'"
bc "payment_method_brand = NULL, payment_method_last4 = NULL, billing_interval = 'annual', plan_status = 'active'"
get o $P
check "no card: said" body_has 'No payment method on file.'
check "annual: interval and yearly price" sh -c "grep -q '<dt>Billing interval</dt><dd>Annual</dd>' '$T/body' && grep -q '<dt>Price</dt><dd>\$990.00 per year</dd>' '$T/body'"
check "annual: the annual radio is preselected" grep -q 'id="interval-annual" name="billing_interval" value="annual" checked' "$T/body"
