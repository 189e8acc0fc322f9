#!/bin/sh
# t440-integrations-test-event.sh: "Send test event" delivered by the
# delivery worker to a real local receiver: success and each kind of
# failure recorded (health, last sync or last error, counters, the attempt)
# and shown; timeouts honoured; redirects not followed; and, without
# SETTINGS_ALLOW_PRIVATE_WEBHOOKS, http and private, loopback or link-local
# targets refused before and after DNS resolution.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
receiver_start
delivery_restart
login demo demo@example.com

row() { sql "SELECT health_status, total_events_sent, total_errors, last_sync_at IS NOT NULL, last_error_at IS NOT NULL FROM integrations_config WHERE id = '$1'"; }

post demo "$I" integration_type=webhook integration_name=Receiver "url=$RECV/ok" method=POST auth_type=hmac secret=0123456789abcdef0123
HID=$(new_id)
is "fresh webhook: unknown, nothing sent" "$(row "$HID")" "unknown|0|0|f|f"

# once: the worker's one round (fan out, deliver what is due), run here as
# the run user without SETTINGS_ALLOW_PRIVATE_WEBHOOKS unless ONCE_ALLOW=1.
once() {
	set -- env -u SETTINGS_ALLOW_PRIVATE_WEBHOOKS
	[ "${ONCE_ALLOW:-}" = 1 ] && set -- env SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1
	"$@" DATABASE_URL="$(APP_URL)" SETTINGS_CREDENTIALS_KEYS="$SETTINGS_CREDENTIALS_KEYS" \
		${ONCE_WRAP:-} "$BUILD_BIN/delivery" --once >"$T/once.out" 2>&1
	ONCE_ALLOW=
}
BUILD_BIN=${BUILD:-$ROOT/build}/bin
last() { sql "SELECT $1 FROM integration_deliveries WHERE integration_id = '$2' ORDER BY created_at DESC LIMIT 1"; }

# Success.
t0=$(date +%s)
post demo "$I/$HID/test"
is "test: 303 to the delivery log" "$STATUS|$(location)" "303|$I/$HID/deliveries"
check "test delivered by the worker" settle 20
is "receiver got it" "$(recv_count)" 1
is "POST to the path" "$(recv_get 1 method) $(recv_get 1 path)" "POST /ok"
is "JSON body" "$(recv_get 1 header:content-type)" "application/json"
desc=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); b = json.loads(d["body"])
print(b["type"], b["test"], b["integration"]["id"], b["workspace"]["slug"], b["id"] == d["headers"]["x-settings-delivery"])' "$T/recv/1.json")
is "body is a test event of this integration" "$desc" "integration.test True $HID acme True"
ts=$(recv_get 1 header:x-settings-timestamp)
check "timestamp header is now" test $((ts - t0)) -ge 0 -a $((ts - t0)) -le 30
is "success recorded: healthy, 1 sent, sync time" "$(row "$HID")" "healthy|1|0|t|f"
check "health message: status and latency" test -n "$(sql "SELECT 1 FROM integrations_config WHERE id = '$HID' AND health_check_message ~ '^Test event delivered: HTTP 200 in [0-9]+ ms\.$' AND last_health_check_at > now() - interval '1 minute'")"
is "attempt recorded: delivered, 200" "$(sql "SELECT outcome, http_status, latency_ms IS NOT NULL FROM integration_delivery_attempts WHERE integration_id = '$HID'")" "delivered|200|t"
get demo "$I"
check "list: healthy and the message" sh -c "grep -qF 'Health: healthy' '$T/body' && grep -qF 'Test event delivered: HTTP 200' '$T/body'"

post demo "$I/$HID" integration_name=Receiver "url=$RECV/ok" method=PUT auth_type=hmac
post demo "$I/$HID/test"
settle 20
is "method PUT honoured" "$(recv_get 2 method)" PUT
is "second success counted" "$(row "$HID")" "healthy|2|0|t|f"

# The receiver answers 500: degraded, error recorded, nothing counted as sent.
post demo "$I/$HID" integration_name=Receiver "url=$RECV/fail" method=POST auth_type=hmac
sync0=$(sql "SELECT last_sync_at FROM integrations_config WHERE id = '$HID'")
post demo "$I/$HID/test"
is "500: still 303 (the outcome is recorded)" "$STATUS" 303
settle 20
is "500: degraded, 1 error" "$(row "$HID")" "degraded|2|1|t|t"
is "500: last error message" "$(sql "SELECT last_error_message FROM integrations_config WHERE id = '$HID'")" "Answered HTTP 500."
is "500: last sync unchanged" "$(sql "SELECT last_sync_at FROM integrations_config WHERE id = '$HID'")" "$sync0"
is "500: a test is not retried" "$(last "status || ' ' || attempts" "$HID")" "failed 1"
get demo "$I"
check "list: last error shown with its time, in error style" grep -qE 'Last error</dt><dd><time datetime="[^"]+">just now</time> \([^)]*UTC\): <span class="error-message">Answered HTTP 500\.</span>' "$T/body"

# 401, then a closed port: consecutive failures make it unhealthy.
post demo "$I/$HID" integration_name=Receiver "url=$RECV/unauthorized" method=POST auth_type=hmac
post demo "$I/$HID/test"
settle 20
is "401: degraded after 2 consecutive failures" "$(sql "SELECT health_status, total_errors FROM integrations_config WHERE id = '$HID'")" "degraded|2"
post demo "$I/$HID" integration_name=Receiver url=http://127.0.0.1:9/closed method=POST auth_type=hmac
post demo "$I/$HID/test"
settle 20
is "closed port: unhealthy after 3, 3 errors" "$(sql "SELECT health_status, total_errors FROM integrations_config WHERE id = '$HID'")" "unhealthy|3"
check "closed port: says it could not connect" test -n "$(sql "SELECT 1 FROM integrations_config WHERE id = '$HID' AND last_error_message ~* 'connect'")"

# A slow receiver with a short timeout: timeout_ms is honoured.
post demo "$I/$HID" integration_name=Receiver "url=$RECV/slow" method=POST auth_type=hmac timeout_ms=300
post demo "$I/$HID/test"
settle 20
is "timeout: message" "$(sql "SELECT last_error_message FROM integrations_config WHERE id = '$HID'")" "No answer within 300 ms (timed out)."
check "timeout: gave up well before the receiver answered" test "$(last last_latency_ms "$HID")" -lt 1200

# A redirect is not followed.
post demo "$I/$HID" integration_name=Receiver "url=$RECV/redirect" method=POST auth_type=hmac timeout_ms=2000
n0=$(recv_count)
post demo "$I/$HID/test"
settle 20
is "redirect: one request, not followed" "$(recv_count)" $((n0 + 1))
check "redirect: recorded as such" test -n "$(sql "SELECT 1 FROM integrations_config WHERE id = '$HID' AND last_error_message LIKE 'Answered HTTP 302, a redirect (redirects are not followed).' AND health_status = 'unhealthy'")"

post demo "$I" integration_type=custom integration_name=Open "url=$RECV/ok" method=POST auth_type=none
CID=$(new_id)
post demo "$I/$CID/test"
settle 20
is "custom type without auth: delivered" "$(sql "SELECT health_status, total_events_sent FROM integrations_config WHERE id = '$CID'")" "healthy|1"
is "custom without auth: no auth headers" "$(recv_get "$(recv_count)" header:authorization)$(recv_get "$(recv_count)" header:x-settings-signature)" ""

# --- SSRF: the worker without SETTINGS_ALLOW_PRIVATE_WEBHOOKS (stopped here; one round run by hand).
worker_stop delivery
n0=$(recv_count)
post demo "$I/$CID" integration_name=Open "url=$RECV/ok" method=POST auth_type=none
post demo "$I/$CID/test"
once
is "ssrf http: refused, said why" "$(last last_error "$CID")" "Refused: The URL must start with https://."
is "ssrf http: nothing reached the receiver" "$(recv_count)" "$n0"
is "ssrf http: recorded as an error, not retried" "$(sql "SELECT last_error_message FROM integrations_config WHERE id = '$CID'")|$(last status "$CID")" "Refused: The URL must start with https://.|failed"

RPORT=$(cat "$T/recv/port")
post demo "$I/$CID" integration_name=Open "url=https://localhost:$RPORT/ok" method=POST auth_type=none
post demo "$I/$CID/test"
once
case "$(last last_error "$CID")" in "Refused: localhost resolves to "*", which is not a public address.") ok "ssrf: a name resolving to loopback is refused after DNS" ;; *) notok "ssrf: a name resolving to loopback is refused after DNS" "$(last last_error "$CID")" ;; esac
post demo "$I/$CID" integration_name=Open "url=https://127.0.0.1:$RPORT/ok" method=POST auth_type=none
post demo "$I/$CID/test"
once
case "$(last last_error "$CID")" in "Refused: The URL points to a private, loopback"*) ok "ssrf: a loopback literal is refused" ;; *) notok "ssrf: a loopback literal is refused" "$(last last_error "$CID")" ;; esac
is "ssrf: the receiver never heard from us" "$(recv_count)" "$n0"
is "ssrf: three refusals counted" "$(sql "SELECT total_errors FROM integrations_config WHERE id = '$CID'")" 3

# The same rules on the form, without the override: 422 and nothing stored.
for u in http://example.com/hook https://127.0.0.1/x https://127.1/x https://2130706433/x https://0x7f.0.0.1/x \
	https://10.1.2.3/x https://172.16.0.1/x https://192.168.1.1/x https://100.64.0.1/x \
	https://169.254.169.254/latest/meta-data https://0.0.0.0/x 'https://[::1]/x' \
	'https://[::ffff:127.0.0.1]/x' 'https://[::ffff:a9fe:a9fe]/x' 'https://[fe80::1]/x' 'https://[fd00::1]/x' \
	'https://[64:ff9b::a00:1]/x' https://localhost/x https://api.localhost/x https://intranet/x; do
	n1=$(sql "SELECT count(*) FROM integrations_config")
	cgi demo POST "$I" integration_type=webhook integration_name=Ssrf "url=$u" method=POST auth_type=none
	if [ "$CGI_STATUS" = 422 ] && cgi_has 'id="e-url"' && [ "$(sql "SELECT count(*) FROM integrations_config")" = "$n1" ]; then
		ok "form refuses $u (422, nothing stored)"
	else
		notok "form refuses $u (422, nothing stored)" "status $CGI_STATUS"
	fi
done
cgi demo POST "$I" integration_type=webhook integration_name=Public url=https://hooks.example.com/in method=POST auth_type=none
is "form accepts a public https name" "$CGI_STATUS" 303

# The delivery path (libcurl, decryption, HMAC, recording) under valgrind.
if command -v valgrind >/dev/null; then
	post demo "$I/$HID" integration_name=Receiver "url=$RECV/ok" method=POST auth_type=hmac timeout_ms=5000
	post demo "$I/$HID/test"
	n0=$(recv_count)
	ONCE_ALLOW=1 ONCE_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file=$T/vg.log" once
	is "under valgrind: delivered" "$(last status "$HID")|$(recv_count)" "delivered|$((n0 + 1))"
	check "under valgrind: no memory errors, no leaks" test ! -s "$T/vg.log"
fi
