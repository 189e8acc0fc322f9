# integrations-lib.sh: helpers for the integrations tests (sourced after lib.sh):
# a local HTTP receiver, the executable run as a plain CGI program, and
# shortcuts for the seeded workspaces.
# shellcheck disable=SC2034  # the variables are for the tests that source this
ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
I=/w/acme/settings/integrations
BIN=${BUILD:-$ROOT/build}/bin/integrations

# receiver_start: the local receiver (tests/e2e/integrations-receiver.py); sets RECV (base URL).
receiver_start() {
	mkdir -p "$T/recv"
	python3 "$ROOT/tests/e2e/integrations-receiver.py" "$T/recv" &
	RECV_PID=$!
	trap 'kill $RECV_PID 2>/dev/null; rm -rf "$T"' EXIT
	i=0
	while [ ! -f "$T/recv/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	RECV="http://127.0.0.1:$(cat "$T/recv/port")"
}
# recv_count: how many requests the receiver has recorded.
recv_count() { find "$T/recv" -name '*.json' | wc -l | tr -d ' '; }
# recv_get N WHAT: from request N, "method", "path", "body" or "header:<name>".
recv_get() {
	python3 - "$T/recv/$1.json" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
w = sys.argv[2]
print(r["headers"].get(w[7:].lower(), "") if w.startswith("header:") else r[w], end="")
PY
}
# hmac_hex SECRET TEXT_FILE: HMAC-SHA256 of the file's bytes, hex.
hmac_hex() {
	python3 -c 'import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2], "rb").read(), hashlib.sha256).hexdigest())' "$1" "$2"
}
# signed_text N FILE: the text an HMAC signature of request N covers ("<timestamp>.<body>").
signed_text() {
	printf '%s.%s' "$(recv_get "$1" header:x-settings-timestamp)" "$(recv_get "$1" body)" >"$2"
}

# new_id: the id of the newest integration of a workspace (default Acme).
new_id() { sql "SELECT id FROM integrations_config WHERE workspace_id = '${1:-$ACME}' ORDER BY created_at DESC, id LIMIT 1"; }
# audits ACTION [ID]: how many audit rows have this action (for this resource).
audits() {
	if [ -n "${2:-}" ]; then
		sql "SELECT count(*) FROM audit_logs WHERE action = '$1' AND resource_id = '$2'"
	else
		sql "SELECT count(*) FROM audit_logs WHERE action = '$1'"
	fi
}
# location: the Location header of the last answer.
location() { header Location; }

# cgi JAR METHOD PATH [field=value...]: run the executable once as a plain CGI
# program (no nginx, no FastCGI), with this browser's cookies, the CSRF token
# added to POSTs, the test's environment less SETTINGS_ALLOW_PRIVATE_WEBHOOKS
# (unless CGI_ALLOW=1) and SETTINGS_CREDENTIALS_KEYS=$CGI_KEYS when set.
# Sets CGI_STATUS; the whole answer is in $T/cgi.
cgi() {
	jar=$1; m=$2; p=$3; shift 3
	cookies=$(awk -F'\t' 'NF >= 7 && $1 !~ /^# / { printf "%s%s=%s", sep, $6, $7; sep="; " }' "$T/$jar.jar")
	: >"$T/cgi_body"
	if [ "$m" = POST ]; then
		tok=$(csrf "$jar")
		python3 -c 'import sys, urllib.parse; sys.stdout.write(urllib.parse.urlencode([tuple(a.split("=", 1)) for a in sys.argv[1:]]))' \
			"csrf_token=$tok" "$@" >"$T/cgi_body"
	fi
	set -- env -u SETTINGS_ALLOW_PRIVATE_WEBHOOKS -u SETTINGS_SOCKET
	[ "${CGI_ALLOW:-}" = 1 ] && set -- env SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1
	"$@" SETTINGS_CREDENTIALS_KEYS="${CGI_KEYS:-$SETTINGS_CREDENTIALS_KEYS}" \
		DATABASE_URL="$(APP_URL)" SETTINGS_TEMPLATES="$ROOT/templates" \
		GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD="$m" REQUEST_URI="$p" \
		CONTENT_TYPE=application/x-www-form-urlencoded \
		CONTENT_LENGTH="$(wc -c <"$T/cgi_body" | tr -d ' ')" HTTP_COOKIE="$cookies" \
		HTTP_HOST="127.0.0.1:$PORT" REMOTE_ADDR=127.0.0.1 \
		"$BIN" <"$T/cgi_body" >"$T/cgi" 2>"$T/cgi_err"
	CGI_STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/cgi" | head -1)
	# Some shells keep a prefix assignment after a function call: never let it leak on.
	CGI_ALLOW=; CGI_KEYS=
}
cgi_has() { grep -qF -- "$1" "$T/cgi"; }
# cgi_notice: the one-time notice the CGI answer set (URL-decoded).
cgi_notice() {
	sed -n 's/^Set-Cookie: notice=\([^;]*\).*/\1/p' "$T/cgi" | head -1 |
		python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read().strip()))'
}

# delivery_restart [NAME=value...]: restart the delivery worker with the
# receiver as every service's address (receiver_start first) and extra
# environment; short leases so a killed worker's claims come back quickly.
delivery_restart() {
	worker_stop delivery
	worker_start delivery SETTINGS_INTEGRATION_ENDPOINT_OVERRIDE="${RECV:-}" \
		SETTINGS_DELIVERY_PROCESSES=2 SETTINGS_DELIVERY_LEASE_SECONDS=3 SETTINGS_DELIVERY_POLL_MS=200 "$@"
}
# settle [SECONDS]: wait until no delivery is queued or in flight (default 20 s); 0 when settled.
settle() {
	_s=0
	while [ "$(sql "SELECT count(*) FROM integration_deliveries WHERE status IN ('queued', 'sending')")" != 0 ] ||
		[ "$(sql "SELECT count(*) FROM alert_events WHERE fanned_out_at IS NULL")" != 0 ]; do
		_s=$((_s + 1))
		[ $_s -gt $((${1:-20} * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}
# delivery_of ID: status|attempts|http|error of the newest delivery of an integration.
delivery_of() {
	sql "SELECT status, attempts, coalesce(last_http_status::text, ''), coalesce(last_error, '') FROM integration_deliveries WHERE integration_id = '$1' ORDER BY created_at DESC LIMIT 1"
}
# recv_find FIELD VALUE: the number of the last request whose FIELD (path, method) is VALUE.
recv_last() {
	python3 - "$T/recv" "$1" <<'PY'
import json, os, sys
d, want = sys.argv[1], sys.argv[2]
best = 0
for f in os.listdir(d):
    if f.endswith(".json"):
        n = int(f[:-5])
        r = json.load(open(os.path.join(d, f)))
        if r["path"].split("?")[0] == want and n > best:
            best = n
print(best)
PY
}
# recv_problems N: what the receiver found wrong with request N ("" when it matches the documentation).
recv_problems() {
	python3 -c 'import json, sys; print("; ".join(json.load(open(sys.argv[1]))["problems"]), end="")' "$T/recv/$1.json"
}
# recv_json N EXPR: a Python expression over the request's JSON body "b" and headers "h".
recv_json() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1])); h = r["headers"]
b = json.loads(r["body"]) if r["body"] else {}
print(eval(sys.argv[2]), end="")' "$T/recv/$1.json" "$2"
}
