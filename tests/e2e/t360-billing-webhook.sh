#!/bin/sh
# t360-billing-webhook.sh: POST /webhooks/stripe: signature checked first (wrong secret, stale or future timestamp, missing: 400), garbage 400, events applied once per id, never rolled back by a late one, audited.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
SECRET=${STRIPE_WEBHOOK_SECRET:-whsec_development_only_secret}
CUS=cus_test_abc123def456
SUB=sub_test_xyz789uvw456
row() { sql "SELECT $1 FROM billing_config WHERE workspace_id = '${2:-$ACME}'"; }
events() { sql "SELECT count(*) FROM stripe_events"; }
applied() { sql "SELECT count(*) FROM audit_logs WHERE action = 'billing.stripe_event_applied' AND workspace_id = '${1:-$ACME}'"; }
now() { date +%s; }

# event FILE ID TYPE CREATED OBJECT_JSON: write a Stripe event.
event() {
	printf '{"id":"%s","object":"event","api_version":"2024-06-20","created":%s,"type":"%s","livemode":false,"data":{"object":%s}}' \
		"$2" "$4" "$3" "$5" >"$1"
}
# sig FILE [SECRET] [TIMESTAMP]: the Stripe-Signature value for FILE.
sig() {
	ts=${3:-$(now)}
	mac=$( { printf '%s.' "$ts"; cat "$1"; } | openssl dgst -sha256 -hmac "${2:-$SECRET}" | sed 's/^.*= *//')
	echo "t=$ts,v1=$mac"
}
# hook FILE HEADER: send FILE as Stripe would; STATUS and $T/body.
hook() {
	STATUS=$(curl -sS -o "$T/body" -D "$T/headers" -w '%{http_code}' -X POST \
		-H "Stripe-Signature: $2" -H 'Content-Type: application/json' --data-binary @"$1" "$BASE/webhooks/stripe")
}

# 1. A good signature applies the event.
event "$T/e1" evt_001 invoice.payment_failed "$(now)" "{\"id\":\"in_1\",\"object\":\"invoice\",\"customer\":\"$CUS\",\"subscription\":\"$SUB\"}"
hook "$T/e1" "$(sig "$T/e1")"
is "invoice.payment_failed with a good signature: 200" "$STATUS" 200
is "... applied: past_due" "$(row plan_status)" past_due
is "... recorded by event id, for its workspace" "$(sql "SELECT workspace_id || ' ' || event_type FROM stripe_events WHERE event_id = 'evt_001'")" "$ACME invoice.payment_failed"
is "... audited with the event id and old/new status" \
	"$(sql "SELECT (changes->>'stripe_event_id') || ' ' || (changes->'old'->>'plan_status') || '>' || (changes->'new'->>'plan_status') || ' ' || coalesce(user_id::text, 'system') FROM audit_logs WHERE action = 'billing.stripe_event_applied'")" \
	"evt_001 active>past_due system"
is "... Globex untouched" "$(row plan_status $GLOBEX)" active

# 2. Signature failures: 400, nothing recorded or changed.
event "$T/e2" evt_002 invoice.paid "$(now)" "{\"id\":\"in_2\",\"object\":\"invoice\",\"customer\":\"$CUS\",\"subscription\":\"$SUB\"}"
hook "$T/e2" "$(sig "$T/e2" whsec_wrong_secret)"
is "wrong secret: 400" "$STATUS" 400
hook "$T/e2" "$(sig "$T/e2" "$SECRET" $(( $(now) - 301 )))"
is "timestamp 301 s old: 400" "$STATUS" 400
hook "$T/e2" "$(sig "$T/e2" "$SECRET" $(( $(now) + 600 )))"
is "timestamp 10 minutes in the future: 400" "$STATUS" 400
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @"$T/e2" "$BASE/webhooks/stripe")
is "no Stripe-Signature header: 400" "$STATUS" 400
hook "$T/e2" "t=$(now)"
is "a header without v1: 400" "$STATUS" 400
hook "$T/e2" "v1=$(sig "$T/e2" | sed 's/.*v1=//')"
is "a header without t: 400" "$STATUS" 400
good=$(sig "$T/e2")
printf ' ' >>"$T/e2"
hook "$T/e2" "$good"
is "a body changed after signing: 400" "$STATUS" 400
hook "$T/e2" "$(sig "$T/e2" | sed 's/v1=\(.*\)/v1=\U\1/')"
is "an upper-case signature is not the signature: 400" "$STATUS" 400
is "none of the refused deliveries was recorded" "$(events)" 1
is "... or applied" "$(row plan_status)" past_due
check "the 400 answer says nothing about the secret" sh -c "! grep -qi 'whsec' '$T/body'"

# 3. Several v1 values (secret rotation): any may match.
ts=$(now)
hook "$T/e2" "t=$ts,v1=$(printf '0%.0s' $(seq 64)),v0=abc,v1=$(sig "$T/e2" "$SECRET" "$ts" | sed 's/.*v1=//')"
is "a matching second v1: 200" "$STATUS" 200
is "invoice.paid: active again" "$(row plan_status)" active

# 4. Garbage after a valid signature: 400.
printf 'this is {not json' >"$T/g1"
hook "$T/g1" "$(sig "$T/g1")"
is "not JSON: 400" "$STATUS" 400
printf '[1,2,3]' >"$T/g2"
hook "$T/g2" "$(sig "$T/g2")"
is "JSON that is not an event: 400" "$STATUS" 400
printf '{"id":"evt_x","type":"invoice.paid","created":"yesterday"}' >"$T/g3"
hook "$T/g3" "$(sig "$T/g3")"
is "an event with a non-numeric created: 400" "$STATUS" 400
printf '\377\376{}' >"$T/g4"
hook "$T/g4" "$(sig "$T/g4")"
is "bytes that are not UTF-8: 400" "$STATUS" 400
is "garbage records nothing" "$(events)" 2

# 5. Replay: the same event id again is acknowledged and ignored.
sql "UPDATE billing_config SET plan_status = 'active' WHERE workspace_id = '$ACME'" >/dev/null
before=$(applied)
hook "$T/e1" "$(sig "$T/e1")"
is "replayed event: 200" "$STATUS" 200
check "... answered as a duplicate" body_has 'duplicate'
is "... not applied again (still active)" "$(row plan_status)" active
is "... not audited again" "$(applied)" "$before"
is "... one row per event id" "$(sql "SELECT count(*) FROM stripe_events WHERE event_id = 'evt_001'")" 1

# 6. Out of order: an event created before the last applied one never rolls status back.
t0=$(now)
event "$T/o1" evt_010 invoice.payment_failed "$t0" "{\"id\":\"in_10\",\"customer\":\"$CUS\",\"subscription\":\"$SUB\"}"
event "$T/o2" evt_009 invoice.paid "$((t0 - 60))" "{\"id\":\"in_9\",\"customer\":\"$CUS\",\"subscription\":\"$SUB\"}"
hook "$T/o1" "$(sig "$T/o1")"
is "newer event first (payment failed): 200" "$STATUS" 200
is "... past_due" "$(row plan_status)" past_due
hook "$T/o2" "$(sig "$T/o2")"
is "older event delivered late (paid): 200" "$STATUS" 200
is "... status not rolled back" "$(row plan_status)" past_due
is "... but recorded, so a redelivery stops early" "$(sql "SELECT count(*) FROM stripe_events WHERE event_id = 'evt_009'")" 1
is "the last applied time is the newer event's" "$(row "extract(epoch FROM stripe_last_event_at)::bigint")" "$t0"

# 7. Subscription events: status, period end, cancel at period end; deleted cancels.
end=$((t0 + 20 * 86400))
event "$T/s1" evt_020 customer.subscription.updated "$((t0 + 1))" \
	"{\"id\":\"$SUB\",\"object\":\"subscription\",\"customer\":\"$CUS\",\"status\":\"active\",\"current_period_end\":$end,\"cancel_at_period_end\":true}"
hook "$T/s1" "$(sig "$T/s1")"
is "subscription.updated: 200" "$STATUS" 200
is "... status, renewal and cancellation applied" \
	"$(row "plan_status || ' ' || cancellation_requested || ' ' || auto_renew || ' ' || (next_billing_date = (to_timestamp($end) AT TIME ZONE 'UTC')::date) || ' ' || (cancellation_effective_date = (to_timestamp($end) AT TIME ZONE 'UTC')::date - 1)")" \
	"active true false true true"
login o demo@example.com
get o /w/acme/settings/billing
check "the page shows: ends on …, with resume" sh -c "grep -q 'and will not renew' '$T/body' && grep -q 'billing/resume' '$T/body'"
event "$T/s2" evt_021 customer.subscription.updated "$((t0 + 2))" \
	"{\"id\":\"$SUB\",\"customer\":\"$CUS\",\"status\":\"unpaid\",\"items\":{\"data\":[{\"current_period_end\":$end}]},\"cancel_at_period_end\":false}"
hook "$T/s2" "$(sig "$T/s2")"
is "unpaid subscription: suspended, cancellation withdrawn" "$(row "plan_status || ' ' || cancellation_requested || ' ' || auto_renew")" "suspended false true"
event "$T/s3" evt_022 customer.subscription.updated "$((t0 + 3))" \
	"{\"id\":\"sub_some_other\",\"customer\":\"$CUS\",\"status\":\"canceled\"}"
hook "$T/s3" "$(sig "$T/s3")"
is "an event about another subscription: 200" "$STATUS" 200
is "... not applied" "$(row plan_status)" suspended
event "$T/s4" evt_023 customer.subscription.deleted "$((t0 + 4))" \
	"{\"id\":\"$SUB\",\"customer\":{\"id\":\"$CUS\",\"object\":\"customer\"},\"status\":\"canceled\"}"
hook "$T/s4" "$(sig "$T/s4")"
is "subscription.deleted (expanded customer): 200" "$STATUS" 200
is "... canceled, no renewal" "$(row "plan_status || ' ' || auto_renew || ' ' || coalesce(next_billing_date::text, 'none')")" "canceled false none"
event "$T/s5" evt_024 invoice.paid "$((t0 + 5))" "{\"id\":\"in_24\",\"customer\":\"$CUS\",\"subscription\":\"$SUB\"}"
hook "$T/s5" "$(sig "$T/s5")"
is "a later invoice.paid does not revive a canceled subscription" "$(row plan_status)" canceled
event "$T/s6" evt_025 customer.subscription.created "$((t0 + 6))" \
	"{\"id\":\"sub_new_0001\",\"customer\":\"$CUS\",\"status\":\"trialing\",\"trial_end\":$((t0 + 14 * 86400)),\"current_period_end\":$((t0 + 14 * 86400)),\"cancel_at_period_end\":false}"
hook "$T/s6" "$(sig "$T/s6")"
is "subscription.created: trialing on the new subscription" "$(row "plan_status || ' ' || stripe_subscription_id || ' ' || (trial_ends_at = to_timestamp($((t0 + 14 * 86400))))")" "trialing sub_new_0001 true"
get o /w/acme/settings/billing
check "the page shows the trial's days left" body_has '14 days left'

# 8. Unknown event types and unknown customers: 200, nothing changed.
before=$(row "md5(billing_config::text)")
event "$T/u1" evt_030 customer.created "$((t0 + 7))" "{\"id\":\"$CUS\",\"object\":\"customer\"}"
hook "$T/u1" "$(sig "$T/u1")"
is "unknown event type: 200" "$STATUS" 200
check "... answered as ignored" body_has 'ignored'
event "$T/u2" evt_031 invoice.payment_failed "$((t0 + 8))" "{\"id\":\"in_31\",\"customer\":\"cus_nobody\"}"
hook "$T/u2" "$(sig "$T/u2")"
is "unknown customer: 200" "$STATUS" 200
is "... recorded without a workspace" "$(sql "SELECT coalesce(workspace_id::text, 'none') FROM stripe_events WHERE event_id = 'evt_031'")" none
is "neither changed Acme" "$(row "md5(billing_config::text)")" "$before"

# 9. Tenant isolation: Globex's customer changes only Globex.
event "$T/x1" evt_040 invoice.payment_failed "$((t0 + 9))" "{\"id\":\"in_40\",\"customer\":\"cus_test_globex000001\",\"subscription\":\"sub_test_globex000001\"}"
hook "$T/x1" "$(sig "$T/x1")"
is "Globex event: 200" "$STATUS" 200
is "... Globex past_due" "$(row plan_status $GLOBEX)" past_due
is "... Acme unchanged" "$(row "md5(billing_config::text)")" "$before"
is "... audited in Globex" "$(applied $GLOBEX)" 1

# 10. The same new event delivered five times at once: applied exactly once, every delivery acknowledged.
event "$T/p1" evt_050 invoice.paid "$((t0 + 10))" "{\"id\":\"in_50\",\"customer\":\"cus_test_globex000001\",\"subscription\":\"sub_test_globex000001\"}"
h=$(sig "$T/p1")
for i in 1 2 3 4 5; do
	curl -sS -o /dev/null -w '%{http_code}\n' -X POST -H "Stripe-Signature: $h" -H 'Content-Type: application/json' \
		--data-binary @"$T/p1" "$BASE/webhooks/stripe" >"$T/par$i" &
done
wait
is "five simultaneous deliveries: all 200" "$(cat "$T"/par1 "$T"/par2 "$T"/par3 "$T"/par4 "$T"/par5 | sort -u)" 200
is "... one stripe_events row" "$(sql "SELECT count(*) FROM stripe_events WHERE event_id = 'evt_050'")" 1
is "... applied once (one audit row)" "$(applied $GLOBEX)" 2
is "... Globex active again" "$(row plan_status $GLOBEX)" active

# 11. No STRIPE_WEBHOOK_SECRET configured: 503 (not a 500), nothing recorded.
n0=$(events)
chmod a+rwx "$T"
printf '%s' '{"id":"evt_unconfigured"}' | as_user env -i PATH="$PATH" REQUEST_METHOD=POST REQUEST_URI=/webhooks/stripe \
	HTTP_HOST=example.test CONTENT_TYPE=application/json CONTENT_LENGTH=25 HTTP_STRIPE_SIGNATURE="t=$(now),v1=00" \
	DATABASE_URL="$(APP_URL)" SETTINGS_TEMPLATES="$ROOT/templates" "$BUILD/bin/billing" >"$T/cgi.out" 2>/dev/null
check "no webhook secret configured: 503" grep -q '^Status: 503' "$T/cgi.out"
is "... no event recorded" "$(events)" "$n0"
