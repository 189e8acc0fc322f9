#!/bin/sh
# t330-billing-cancel.sh: cancel at the end of the cycle (with a confirmation step) and resume; audited; refused when it makes no sense.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/billing
row() { sql "SELECT $1 FROM billing_config WHERE workspace_id = '$ACME'"; }
audits() { sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME' AND action = '$1'"; }

login o demo@example.com
get o $P
check "the page links to the cancellation step" body_has "href=\"$P/cancel\">Cancel subscription…</a>"
get o $P/cancel
is "the confirmation step: 200" "$STATUS" 200
end=$(row "to_char(billing_cycle_end, 'FMDD FMMonth YYYY')")
check "it says until when the plan stays active" body_has ">$end</time>, and will not renew."
check "it has the confirming form" grep -q "<form method=\"post\" action=\"$P/cancel\">" "$T/body"
check "... and a way back" body_has 'Back to billing (keep the subscription)'
check "the confirmation page is valid HTML" tidy_ok
is "showing the confirmation changes nothing" "$(row cancellation_requested)" f
post o $P/cancel
is "a POST without confirm=1 answers the confirmation: 200" "$STATUS" 200
check "... the same confirming form, which carries confirm=1" grep -q 'name="confirm" value="1"' "$T/body"
is "... and changes nothing" "$(row cancellation_requested)" f

post o $P/cancel confirm=1
is "cancel: 303" "$STATUS" 303
is "... to the billing page" "$(header Location)" "$P"
is "cancellation_requested, effective at cycle end, no auto-renew" \
	"$(row "cancellation_requested || ' ' || (cancellation_effective_date = billing_cycle_end) || ' ' || auto_renew")" "true true false"
is "status stays active until then" "$(row plan_status)" active
is "cancel audited" "$(audits billing.cancellation_requested)" 1
is "audit: old and new values" "$(sql "SELECT (changes->'old'->>'auto_renew') || '>' || (changes->'new'->>'auto_renew') || ' ' || (changes->'new'->>'cancellation_requested') FROM audit_logs WHERE action = 'billing.cancellation_requested'")" "true>false true"
get o $P
check "notice: will end on" body_has "Your Professional plan will end on $end. You can resume it until then."
check "the page says: ends on …" grep -q "plan ends on <time datetime=\"[0-9-]*\">$end</time></strong> and will not renew." "$T/body"
check "... with a resume button" grep -q "action=\"$P/resume\"" "$T/body"
check "no cancel link any more" sh -c "! grep -q 'Cancel subscription…' '$T/body'"
check "no next billing date" grep -q "Next billing date</dt><dd>None: the subscription ends on <time datetime=\"[0-9-]*\">$end</time>" "$T/body"
check "the status says when it cancels, not Active" grep -q "<span class=\"badge canceling\">Cancels on $end</span>" "$T/body"
check "... also in a text browser" sh -c "w3m -dump -T text/html '$T/body' | grep -A1 '^Status' | grep -q 'Cancels on $end'"
check "auto-renew off" grep -q '<dt>Auto-renew</dt><dd>Off</dd>' "$T/body"
check "the page is valid HTML" tidy_ok

post o $P/cancel confirm=1
is "cancel again: 303" "$STATUS" 303
is "... not audited twice" "$(audits billing.cancellation_requested)" 1
get o $P
check "... says it already ends" body_has "The subscription is already set to end on $end. Nothing changed."

post o $P/resume
is "resume: 303" "$STATUS" 303
is "resume undoes it" "$(row "cancellation_requested || ' ' || coalesce(cancellation_effective_date::text, 'none') || ' ' || auto_renew")" "false none true"
is "resume audited" "$(audits billing.cancellation_withdrawn)" 1
get o $P
check "notice: renews as usual" body_has 'Your Professional plan will renew as usual.'
check "no 'ends on' any more" sh -c "! grep -q 'and will not renew' '$T/body'"
check "the cancel link is back" body_has 'Cancel subscription…'
post o $P/resume
is "resume with nothing to undo: 303" "$STATUS" 303
is "... not audited" "$(audits billing.cancellation_withdrawn)" 1

# Refusals: the Free plan has nothing to cancel; an ended subscription neither cancels nor resumes.
sql "UPDATE billing_config SET plan_type = 'free' WHERE workspace_id = '$ACME'" >/dev/null
post o $P/cancel confirm=1
is "cancel on Free: 409" "$STATUS" 409
check "... says why" body_has 'The Free plan has no subscription to cancel.'
sql "UPDATE billing_config SET plan_type = 'professional', plan_status = 'canceled' WHERE workspace_id = '$ACME'" >/dev/null
post o $P/cancel confirm=1
is "cancel when already ended: 409" "$STATUS" 409
post o $P/resume
is "resume when already ended: 409" "$STATUS" 409
check "... says to choose a plan" body_has 'choose a plan on the billing page to subscribe again'
is "no audit rows from the refusals" "$(sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME' AND action LIKE 'billing.%'")" 2
