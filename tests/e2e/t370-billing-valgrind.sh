#!/bin/sh
# t370-billing-valgrind.sh: the billing executable as a plain CGI under valgrind: webhook, refused downgrade, cancel step, rollover command; no memory errors, no leaks.
. "$ROOT/tests/e2e/lib.sh"
command -v valgrind >/dev/null || { notok "valgrind is installed"; exit 0; }
chmod a+rwx "$T"
SECRET=whsec_valgrind_test_secret
# vg DESCRIPTION METHOD URI BODY COOKIE SIGNATURE [CONTENT_TYPE]: one CGI request; output in $T/vg.out.
vg() {
	printf '%s' "$4" | as_user env -i PATH="$PATH" REQUEST_METHOD="$2" REQUEST_URI="$3" \
		HTTP_HOST=example.test CONTENT_TYPE="${7:-application/x-www-form-urlencoded}" \
		CONTENT_LENGTH="${#4}" HTTP_COOKIE="$5" HTTP_STRIPE_SIGNATURE="$6" \
		STRIPE_WEBHOOK_SECRET="$SECRET" DATABASE_URL="$(APP_URL)" SETTINGS_TEMPLATES="$ROOT/templates" \
		valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$BUILD/bin/billing" >"$T/vg.out" 2>"$T/vg.err"
	if [ $? -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' "$T/vg.err"; then
		ok "valgrind-clean: $1"
	else
		notok "valgrind-clean: $1" "$(grep -E 'Invalid|uninitialised|definitely lost|ERROR SUMMARY' "$T/vg.err" | head -5)"
	fi
}
token=$(printf 'vgbilling%034d' 0 | head -c 43)
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
sql "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ('$hash', '00000000-0000-0000-0000-000000000001', 'csrf-vg', now() + interval '1 hour')" >/dev/null

body="{\"id\":\"evt_vg_1\",\"type\":\"customer.subscription.updated\",\"created\":$(date +%s),\"data\":{\"object\":{\"id\":\"sub_test_xyz789uvw456\",\"customer\":\"cus_test_abc123def456\",\"status\":\"past_due\",\"current_period_end\":$(( $(date +%s) + 86400 )),\"cancel_at_period_end\":false}}}"
ts=$(date +%s)
mac=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= *//')
vg "signed webhook event" POST /webhooks/stripe "$body" "" "t=$ts,v1=$mac" application/json
check "... it answered 200" grep -q '^Status: 200' "$T/vg.out"
is "... and applied the event" "$(sql "SELECT plan_status FROM billing_config WHERE stripe_customer_id = 'cus_test_abc123def456'")" past_due
vg "webhook with a bad signature" POST /webhooks/stripe "$body" "" "t=$ts,v1=00,v1=11"
check "... it answered 400" grep -q '^Status: 400' "$T/vg.out"
vg "refused downgrade (409 page)" POST /w/acme/settings/billing/plan "csrf_token=csrf-vg&plan_type=free&billing_interval=monthly" "session=$token" ""
check "... it answered 409" grep -q '^Status: 409' "$T/vg.out"
vg "invalid plan (422 page)" POST /w/acme/settings/billing/plan "csrf_token=csrf-vg&plan_type=enterprise" "session=$token" ""
check "... it answered 422" grep -q '^Status: 422' "$T/vg.out"
vg "cancel confirmation step" GET /w/acme/settings/billing/cancel "" "session=$token" ""
check "... it answered 200" grep -q '^Status: 200' "$T/vg.out"
sql "UPDATE billing_config SET traces_current_month = 5000 WHERE workspace_id = '00000000-0000-0000-0000-000000000001'" >/dev/null
vg "plan change confirmation step (POST without confirm=1)" POST /w/acme/settings/billing/plan "csrf_token=csrf-vg&plan_type=starter&billing_interval=annual" "session=$token" ""
check "... it answered 200 with the changes" sh -c "grep -q '^Status: 200' '$T/vg.out' && grep -q 'Traces older than 30 days will no longer be kept.' '$T/vg.out'"
sql "UPDATE billing_config SET billing_cycle_start = current_date - 31, billing_cycle_end = current_date - 1" >/dev/null
as_user env DATABASE_URL="$(APP_URL)" valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	"$BUILD/bin/billing" --rollover >"$T/vg.out" 2>"$T/vg.err"
if [ $? -ne 99 ] && grep -q 'ERROR SUMMARY: 0 errors' "$T/vg.err"; then ok "valgrind-clean: billing --rollover"; else notok "valgrind-clean: billing --rollover" "$(grep -E 'Invalid|lost|SUMMARY' "$T/vg.err" | head -5)"; fi
is "... it rolled over both workspaces" "$(cat "$T/vg.out")" "billing cycles rolled over: 2"
