#!/bin/sh
# t640-password-forgot-timing.sh: /password/forgot takes the same time for a known and an
# unknown email, and says what it can do with or without a mail command.
. "$ROOT/tests/e2e/lib.sh"

mail_count() { ls "$VAR/mail" 2>/dev/null | wc -l; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# ask EMAIL [curl args]: one request with the "t" browser; prints "status seconds".
ask() {
	_e=$1; shift
	curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -b "$T/t.jar" "$@" \
		--data-urlencode "csrf_token=$tok" --data-urlencode "email=$_e" "$BASE/password/forgot"
}

# restart NAME=value...: the password executable again, with that environment. In a
# subshell whose output goes nowhere: the server must not hold this test's output open.
restart() { ( exec >/dev/null 2>&1 </dev/null; page_restart password "$@" ); }

# The limits would answer 429 long before 100 requests: lift them for this test.
restart RESET_MAX_PER_EMAIL=100000 RESET_MAX_PER_ADDRESS=100000
get t /password/forgot
tok=$(csrf t)

# --- Timing: 50 tries each, interleaved, medians within 20% ----------------------------
round() {
	: >"$T/known"; : >"$T/unknown"; : >"$T/status"
	_i=0
	while [ $_i -lt 50 ]; do
		ask demo@example.com >>"$T/known"
		ask "nobody$_i@example.com" >>"$T/unknown"
		_i=$((_i + 1))
	done
	mk=$(cut -d' ' -f2 "$T/known" | median)
	mu=$(cut -d' ' -f2 "$T/unknown" | median)
	echo "# medians over 50 tries: known ${mk}s, unknown ${mu}s"
	awk -v a="$mk" -v b="$mu" 'BEGIN { r = a / b; exit !(r >= 0.8 && r <= 1.25) }'
}
# A busy machine can upset one round; the claim holds when a round shows it.
if round || round || round; then ok "the median times for a known and an unknown email are within 20% (50 tries each)"
else notok "the median times for a known and an unknown email are within 20% (50 tries each)"; fi
is "every answer was 303, known or not" "$(cut -d' ' -f1 "$T/known" "$T/unknown" | sort -u)" "303"
is "the known email has three live links at most however often it asks" \
	"$(sql "SELECT count(*) FROM password_reset_tokens WHERE used_at IS NULL AND revoked_at IS NULL")" 3

# --- Links in emails never come from the request's Host header -----------------------------
m0=$(mail_count)
ask admin@example.com -H 'Host: evil.example' >/dev/null
_i=0; while [ "$(mail_count)" -le "$m0" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
last="$VAR/mail/$(ls "$VAR/mail" | sort | tail -1)"
check "a forged Host header does not reach the emailed link" sh -c "grep -q '^http://127.0.0.1:$PORT/password/reset?token=' '$last' && ! grep -q evil.example '$last'"

# --- Without a mail command (production): the page says email is not configured -------------
sql "DELETE FROM password_reset_requests" >/dev/null
restart SETTINGS_SENDMAIL=
get nomail /password/forgot
is "no mail command: the page still answers 200" "$STATUS" 200
check "... saying email is not configured" body_has "this site has no email configured"
check "... without a form that cannot work" sh -c "! grep -q 'action=\"/password/forgot\"' '$T/body'"
post nomail /password/forgot email=demo@example.com
is "... a POST anyway: 503" "$STATUS" 503
check "... saying the same" body_has "this site has no email configured"
is "... nothing recorded" "$(sql "SELECT count(*) FROM password_reset_requests")" 0
restart SETTINGS_BASE_URL=
get nomail /password/forgot
check "a mail command without SETTINGS_BASE_URL counts as not configured (links need the site's address)" body_has "this site has no email configured"

# --- Development (make run): the message goes to the log ----------------------------------
restart SETTINGS_SENDMAIL= SETTINGS_MAIL_LOG=1
m0=$(mail_count)
links() { grep -c 'password/reset?token=' "$VAR/log/password.log"; }
l0=$(links)
get dev /password/forgot
check "development: the form is there" body_has 'action="/password/forgot"'
post dev /password/forgot email=member@example.com
is "... asking: 303" "$STATUS" 303
_i=0; while [ "$(links)" -le "$l0" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
link=$(sed -n 's|^\(http://[^ ]*/password/reset?token=[A-Za-z0-9_-]*\)$|\1|p' "$VAR/log/password.log" | tail -1)
check "... the link is in the log" test -n "$link"
is "... no email was sent" "$(mail_count)" "$m0"
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' "$link")
is "... and the link works" "$STATUS" 200

restart
get back /password/forgot
check "the page is back to normal" body_has 'action="/password/forgot"'
