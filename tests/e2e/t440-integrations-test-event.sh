#!/bin/sh
# t440-integrations-test-event.sh: "Send test event" against a real local
# receiver: success and each kind of failure recorded (health, last sync or
# last error, counters, audit) and shown; timeouts honoured; redirects not
# followed; and, without SETTINGS_ALLOW_PRIVATE_WEBHOOKS, http and private,
# loopback or link-local targets refused before and after DNS resolution.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
receiver_start
login demo demo@example.com

row() { sql "SELECT health_status, total_events_sent, total_errors, last_sync_at IS NOT NULL, last_error_at IS NOT NULL FROM integrations_config WHERE id = '$1'"; }
notice() { get demo "$I"; sed -n 's/.*<p class="notice" role="status">\(.*\)<\/p>.*/\1/p' "$T/body" | head -1; }

post demo "$I" integration_type=webhook integration_name=Receiver "url=$RECV/ok" method=POST auth_type=hmac secret=0123456789abcdef0123
HID=$(new_id)
is "fresh webhook: unknown, nothing sent" "$(row "$HID")" "unknown|0|0|f|f"

# Success.
t0=$(date +%s)
post demo "$I/$HID/test"
is "test: 303 to the list" "$STATUS|$(location)" "303|$I"
is "receiver got it" "$(recv_count)" 1
is "POST to the path" "$(recv_get 1 method) $(recv_get 1 path)" "POST /ok"
is "JSON body" "$(recv_get 1 header:content-type)" "application/json"
desc=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); b = json.loads(d["body"])
print(b["type"], b["test"], b["integration"]["id"], b["workspace"]["slug"], b["id"] == d["headers"]["x-settings-delivery"])' "$T/recv/1.json")
is "body is a test event of this integration" "$desc" "integration.test True $HID acme True"
ts=$(recv_get 1 header:x-settings-timestamp)
check "timestamp header is now" test $((ts - t0)) -ge 0 -a $((ts - t0)) -le 5
is "success recorded: healthy, 1 sent, sync time" "$(row "$HID")" "healthy|1|0|t|f"
check "health message: status and latency" test -n "$(sql "SELECT 1 FROM integrations_config WHERE id = '$HID' AND health_check_message ~ '^Test event delivered: HTTP 200 in [0-9]+ ms\.$' AND last_health_check_at > now() - interval '1 minute'")"
is "audit: delivered, 200" "$(sql "SELECT changes->>'outcome', changes->>'http_status', changes->>'health', changes ? 'latency_ms' FROM audit_logs WHERE action = 'integration.tested' AND resource_id = '$HID'")" "delivered|200|healthy|t"
msg=$(notice)
case "$msg" in "Test event to “Receiver” delivered: HTTP 200 in "*" ms.") ok "page shows the result: status and latency" ;; *) notok "page shows the result: status and latency" "$msg" ;; esac
check "list: healthy and 1 sent" sh -c "grep -qF 'Health: healthy' '$T/body' && grep -qF 'Test event delivered: HTTP 200' '$T/body'"

post demo "$I/$HID" integration_name=Receiver "url=$RECV/ok" method=PUT auth_type=hmac
post demo "$I/$HID/test"
is "method PUT honoured" "$(recv_get 2 method)" PUT
is "second success counted" "$(row "$HID")" "healthy|2|0|t|f"

# The receiver answers 500: degraded, error recorded, nothing counted as sent.
post demo "$I/$HID" integration_name=Receiver "url=$RECV/fail" method=POST auth_type=hmac
sync0=$(sql "SELECT last_sync_at FROM integrations_config WHERE id = '$HID'")
post demo "$I/$HID/test"
is "500: still 303 (the outcome is recorded)" "$STATUS" 303
is "500: degraded, 1 error" "$(row "$HID")" "degraded|2|1|t|t"
is "500: last error message" "$(sql "SELECT last_error_message FROM integrations_config WHERE id = '$HID'")" "Answered HTTP 500."
is "500: last sync unchanged" "$(sql "SELECT last_sync_at FROM integrations_config WHERE id = '$HID'")" "$sync0"
msg=$(notice)
case "$msg" in "Test event to “Receiver” failed (HTTP 500) after "*" ms: Answered HTTP 500. Health is now degraded.") ok "500: page shows status and latency" ;; *) notok "500: page shows status and latency" "$msg" ;; esac
check "list: last error shown with its time" grep -qE 'Last error</dt><dd><time datetime="[^"]+">just now</time> \([^)]*UTC\): Answered HTTP 500\.' "$T/body"
is "audit: failed, 500" "$(sql "SELECT changes->>'outcome' || ' ' || (changes->>'http_status') FROM audit_logs WHERE action = 'integration.tested' AND resource_id = '$HID' ORDER BY created_at DESC LIMIT 1")" "failed 500"

# 401: the endpoint refuses us: unhealthy.
post demo "$I/$HID" integration_name=Receiver "url=$RECV/unauthorized" method=POST auth_type=hmac
post demo "$I/$HID/test"
is "401: unhealthy" "$(sql "SELECT health_status, total_errors FROM integrations_config WHERE id = '$HID'")" "unhealthy|2"

# A closed port: no answer at all.
post demo "$I/$HID" integration_name=Receiver url=http://127.0.0.1:9/closed method=POST auth_type=hmac
post demo "$I/$HID/test"
is "closed port: 303" "$STATUS" 303
is "closed port: unhealthy, 3 errors" "$(sql "SELECT health_status, total_errors FROM integrations_config WHERE id = '$HID'")" "unhealthy|3"
check "closed port: says it could not connect" test -n "$(sql "SELECT 1 FROM integrations_config WHERE id = '$HID' AND last_error_message ~* 'connect'")"

# A slow receiver with a short timeout: timeout_ms is honoured.
post demo "$I/$HID" integration_name=Receiver "url=$RECV/slow" method=POST auth_type=hmac timeout_ms=300
s0=$(date +%s%N)
post demo "$I/$HID/test"
ms=$(( ($(date +%s%N) - s0) / 1000000 ))
is "timeout: 303" "$STATUS" 303
check "timeout: gave up well before the receiver answered (${ms} ms < 1200)" test "$ms" -lt 1200
is "timeout: message" "$(sql "SELECT last_error_message FROM integrations_config WHERE id = '$HID'")" "No answer within 300 ms (timed out)."
is "timeout: unhealthy" "$(sql "SELECT health_status FROM integrations_config WHERE id = '$HID'")" unhealthy

# A redirect is not followed.
post demo "$I/$HID" integration_name=Receiver "url=$RECV/redirect" method=POST auth_type=hmac timeout_ms=2000
n0=$(recv_count)
post demo "$I/$HID/test"
is "redirect: one request, not followed" "$(recv_count)" $((n0 + 1))
check "redirect: recorded as such" test -n "$(sql "SELECT 1 FROM integrations_config WHERE id = '$HID' AND last_error_message LIKE 'Answered HTTP 302, a redirect (redirects are not followed).' AND health_status = 'unhealthy'")"

# Only webhook and custom integrations have test events; a missing secret is caught first.
post demo "$I/30000000-0000-0000-0000-000000000001/test"
is "slack: test refused 409" "$STATUS" 409
post demo "$I/30000000-0000-0000-0000-000000000003/test"
is "seeded bearer webhook without a secret: 409" "$STATUS" 409
check "409 says to set the secret" body_has "none is set"
is "409: nothing recorded" "$(sql "SELECT total_errors, total_events_sent FROM integrations_config WHERE id = '30000000-0000-0000-0000-000000000003'")" "23|892"
post demo "$I" integration_type=custom integration_name=Open "url=$RECV/ok" method=POST auth_type=none
CID=$(new_id)
post demo "$I/$CID/test"
is "custom type without auth: delivered" "$(sql "SELECT health_status, total_events_sent FROM integrations_config WHERE id = '$CID'")" "healthy|1"
is "custom without auth: no auth headers" "$(recv_get "$(recv_count)" header:authorization)$(recv_get "$(recv_count)" header:x-settings-signature)" ""

# --- SSRF: the executable run as plain CGI without SETTINGS_ALLOW_PRIVATE_WEBHOOKS.
CGI_ALLOW=1 cgi demo GET "$I"
is "CGI run works (with the override)" "$CGI_STATUS" 200
n0=$(recv_count)
post demo "$I/$CID" integration_name=Open "url=$RECV/ok" method=POST auth_type=none
cgi demo POST "$I/$CID/test"
is "ssrf http: 303 (outcome recorded)" "$CGI_STATUS" 303
case "$(cgi_notice)" in *"Refused: The URL must start with https://."*) ok "ssrf http: refused, said why" ;; *) notok "ssrf http: refused, said why" "$(cgi_notice)" ;; esac
is "ssrf http: nothing reached the receiver" "$(recv_count)" "$n0"
is "ssrf http: recorded as an error" "$(sql "SELECT health_status, last_error_message FROM integrations_config WHERE id = '$CID'")" "unhealthy|Refused: The URL must start with https://."
is "ssrf: audit says refused" "$(sql "SELECT changes->>'outcome' FROM audit_logs WHERE action = 'integration.tested' AND resource_id = '$CID' ORDER BY created_at DESC LIMIT 1")" refused

RPORT=$(cat "$T/recv/port")
post demo "$I/$CID" integration_name=Open "url=https://localhost:$RPORT/ok" method=POST auth_type=none
cgi demo POST "$I/$CID/test"
case "$(cgi_notice)" in *"Refused: localhost resolves to "*", which is not a public address."*) ok "ssrf: a name resolving to loopback is refused after DNS" ;; *) notok "ssrf: a name resolving to loopback is refused after DNS" "$(cgi_notice)" ;; esac
post demo "$I/$CID" integration_name=Open "url=https://127.0.0.1:$RPORT/ok" method=POST auth_type=none
cgi demo POST "$I/$CID/test"
case "$(cgi_notice)" in *"Refused: The URL points to a private, loopback"*) ok "ssrf: a loopback literal is refused" ;; *) notok "ssrf: a loopback literal is refused" "$(cgi_notice)" ;; esac
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

# The test event path (libcurl, decryption, HMAC, two transactions) under valgrind.
if command -v valgrind >/dev/null; then
	post demo "$I/$HID" integration_name=Receiver "url=$RECV/ok" method=POST auth_type=hmac timeout_ms=5000
	printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --log-file=%s "%s" "$@"\n' \
		"$T/vg.log" "$BIN" >"$T/vg-integrations"
	chmod +x "$T/vg-integrations"
	n0=$(recv_count)
	BIN="$T/vg-integrations" CGI_ALLOW=1 cgi demo POST "$I/$HID/test"
	is "under valgrind: delivered" "$CGI_STATUS|$(recv_count)" "303|$((n0 + 1))"
	check "under valgrind: no memory errors, no leaks" test ! -s "$T/vg.log"
fi
