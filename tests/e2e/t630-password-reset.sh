#!/bin/sh
# t630-password-reset.sh: a forgotten password: the request (no account enumeration),
# the emailed link (32 random bytes, SHA-256 stored, one hour, once, three at most),
# the new password, sessions, limits and audit.
. "$ROOT/tests/e2e/lib.sh"

U_DEMO=00000000-0000-0000-0000-000000000001
U_ADMIN=10000000-0000-0000-0000-000000000002
U_MEMBER=10000000-0000-0000-0000-000000000003
NEW='a brand new password'
mail_count() { ls "$VAR/mail" 2>/dev/null | wc -l; }
# wait_mail N: until there are N messages (5 s at most); the newest goes to $T/mail.
wait_mail() {
	_i=0
	while [ "$(mail_count)" -lt "$1" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
	[ "$(mail_count)" -ge "$1" ] || return 1
	cp "$VAR/mail/$(ls "$VAR/mail" | sort | tail -1)" "$T/mail"
}
link_token() { sed -n 's|.*/password/reset?token=\([A-Za-z0-9_-]*\).*|\1|p' "$T/mail" | head -1; }
notice() { tr -d '\r' <"$T/headers" | sed -n 's/^Set-Cookie: notice=\([^;]*\);.*/\1/p'; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
# forgot JAR EMAIL: ask for a link (fresh page first, for the CSRF cookie).
forgot() { get "$1" /password/forgot; post "$1" /password/forgot "email=$2"; }

# --- The way in --------------------------------------------------------------------
get anon /login
check "/login links to /password/forgot" body_has '<a href="/password/forgot">Forgot your password?</a>'
get anon /password/forgot
is "the forgot page: 200" "$STATUS" 200
check "... valid HTML" tidy_ok
check "... an email field" body_has 'name="email" type="email"'
check "... points invited people to their invitation" body_has "Use the link in your invitation email instead"

# --- Same answer, known or not --------------------------------------------------------
m0=$(mail_count)
forgot known demo@example.com
s_known=$STATUS; l_known=$(header Location); n_known=$(notice | sed 's/demo%40example.com/EMAIL/')
h_known=$(tr -d '\r' <"$T/headers" | sed -n 's/^\([A-Za-z-]*\):.*/\1/p' | grep -v '^Date$' | tr '\n' ' ')
forgot unknown nobody-here@example.com
s_unknown=$STATUS; l_unknown=$(header Location); n_unknown=$(notice | sed 's/nobody-here%40example.com/EMAIL/')
h_unknown=$(tr -d '\r' <"$T/headers" | sed -n 's/^\([A-Za-z-]*\):.*/\1/p' | grep -v '^Date$' | tr '\n' ' ')
is "a known email: 303" "$s_known" 303
is "an unknown email: 303 too" "$s_unknown" 303
is "... to the same page" "$l_unknown" "$l_known"
is "... with the same notice (but for the email itself)" "$n_unknown" "$n_known"
is "... and the same headers" "$h_unknown" "$h_known"
get known /password/forgot
check "the notice says a link is on its way if the account exists" body_has "If demo@example.com belongs to an account, an email with a link"
check "one email went out, for the known address" wait_mail $((m0 + 1))
sleep 0.3
is "... and none for the unknown one" "$(mail_count)" "$((m0 + 1))"
check "... to demo@example.com" grep -q '^To: demo@example.com$' "$T/mail"
check "... with a link on the configured site address" grep -q "^http://127.0.0.1:$PORT/password/reset?token=" "$T/mail"
tok=$(link_token)
is "the token is 32 random bytes, base64url (43 characters)" "$(printf %s "$tok" | grep -cE '^[A-Za-z0-9_-]{43}$')" 1
is "only its SHA-256 is stored, for demo, valid one hour" \
	"$(sql "SELECT user_id, expires_at BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes' FROM password_reset_tokens WHERE token_hash = '$(sha "$tok")'")" "$U_DEMO|t"
is "the token itself is stored nowhere" "$(sql "SELECT count(*) FROM password_reset_tokens WHERE token_hash = '$tok'")" 0
is "the unknown email got no token" "$(sql "SELECT count(*) FROM password_reset_tokens")" 1
is "both requests were counted (for the limits)" "$(sql "SELECT count(*) FROM password_reset_requests")" 2

# --- The link -------------------------------------------------------------------------
login demo1 demo@example.com
login demo2 demo@example.com
get reset "/password/reset?token=$tok"
is "the link opens the form: 200" "$STATUS" 200
check "... valid HTML" tidy_ok
check "... for the account's email" body_has "<strong>demo@example.com</strong>"
is "... no Referer carries the token anywhere" "$(header Referrer-Policy)" "strict-origin"
is "... and no cache keeps it" "$(header Cache-Control)" "no-store"
check "... the limit explained in characters" body_has "At most 72 letters, digits or punctuation without accents"
err() { sed -n 's/.*id="new_password-error">\([^<]*\)<.*/\1/p' "$T/body"; }
post reset /password/reset "token=$tok" new_password=short
is "a short new password: 422" "$STATUS" 422
is "... said by the field" "$(err)" "This password has 5 characters: use at least 12."
check "... the token kept in the form" body_has "name=\"token\" value=\"$tok\""
post reset /password/reset "token=$tok" new_password=DEMO@example.com
is "the email as password: 422" "$STATUS" 422
post reset /password/reset "token=$tok" new_password=demo-password
is "the current password: 422" "$STATUS" 422
is "... said so" "$(err)" "This is your current password: choose a different one."
post reset /password/reset "token=$tok" "new_password=$(printf '%073d' 0)"
is "73 characters: 422" "$STATUS" 422
post_raw reset /password/reset "token=$tok" "new_password=$NEW"
is "without the CSRF token: 403" "$STATUS" 403
is "the link still works after all that" "$(sql "SELECT used_at IS NULL FROM password_reset_tokens WHERE token_hash = '$(sha "$tok")'")" "t"
get demo1 /w/acme/settings/team
is "(demo is signed in in two browsers)" "$STATUS" 200

post reset /password/reset "token=$tok" "new_password=$NEW"
is "a good new password: 303" "$STATUS" 303
is "... to demo's workspace" "$(header Location)" "/w/acme/settings/team"
check "... signed in fresh (a session cookie)" sh -c "tr -d '\r' <'$T/headers' | grep -q '^Set-Cookie: session=[A-Za-z0-9_-]\{43\};'"
get reset /w/acme/settings/team
is "this browser is now signed in as demo" "$STATUS" 200
check "... told so" body_has "Your new password is set and you are signed in."
get demo1 /w/acme/settings/team
is "every other session of demo is signed out" "$STATUS" 303
get demo2 /account
is "... all of them" "$STATUS" 303
is "... one session left" "$(sql "SELECT count(*) FROM sessions WHERE user_id = '$U_DEMO'")" 1
is "the new password is a bcrypt hash at the configured cost" \
	"$(sql "SELECT left(password_hash, 7) FROM users WHERE id = '$U_DEMO'")" "\$2b\$$(printf %02d "$BCRYPT_COST")\$"
login x demo@example.com
is "the old password no longer signs in" "$STATUS" 401
login x demo@example.com "$NEW"
is "the new one does" "$STATUS" 303
is "audit: requested and reset rows in demo's own stream" \
	"$(sql "SELECT string_agg(action, ',' ORDER BY created_at) FROM account_audit_logs WHERE user_id = '$U_DEMO'")" \
	"account.password_reset_requested,account.password_reset"
is "... the reset row says how many sessions ended" \
	"$(sql "SELECT changes->>'sessions_ended' FROM account_audit_logs WHERE user_id = '$U_DEMO' AND action = 'account.password_reset'")" 2

# --- Once only; unknown; expired ---------------------------------------------------------
get anon2 "/password/reset?token=$tok"
is "the used link: 410" "$STATUS" 410
check "... saying it was used" body_has "This link was already used"
post anon2 /password/reset "token=$tok" "new_password=another password 1"
is "posting it again: 410" "$STATUS" 410
get anon2 "/password/reset?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
is "an unknown token: 404" "$STATUS" 404
get anon2 "/password/reset?token=%3Cscript%3E"
is "a malformed token: 404" "$STATUS" 404
check "... not echoed" sh -c "! grep -q '<script>' '$T/body'"
get anon2 /password/reset
is "no token at all: 404" "$STATUS" 404
post anon2 /password/reset "token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "new_password=$NEW"
is "posting an unknown token: 404" "$STATUS" 404

m0=$(mail_count)
forgot mem member@example.com
wait_mail $((m0 + 1)); t_exp=$(link_token)
sql "UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = '$(sha "$t_exp")'" >/dev/null
get mem "/password/reset?token=$t_exp"
is "an expired link: 410" "$STATUS" 410
check "... saying it expired" body_has "This link has expired"
post mem /password/reset "token=$t_exp" "new_password=$NEW"
is "posting an expired link: 410" "$STATUS" 410

# --- At most three live links; a newer one pushes out the oldest -------------------------
sql "DELETE FROM password_reset_requests" >/dev/null
m0=$(mail_count)
forgot mem member@example.com; wait_mail $((m0 + 1)); t1=$(link_token)
forgot mem member@example.com; wait_mail $((m0 + 2))
forgot mem member@example.com; wait_mail $((m0 + 3))
forgot mem member@example.com; wait_mail $((m0 + 4)); t4=$(link_token)
is "four requests: three live links at most" \
	"$(sql "SELECT count(*) FROM password_reset_tokens WHERE user_id = '$U_MEMBER' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()")" 3
get mem "/password/reset?token=$t1"
is "the oldest link no longer works: 410" "$STATUS" 410
check "... saying a newer one was sent" body_has "a newer link was sent"
get mem "/password/reset?token=$t4"
is "the newest works: 200" "$STATUS" 200

# --- A token for another account ---------------------------------------------------------
login member member@example.com
login member_elsewhere member@example.com
sql "DELETE FROM password_reset_requests" >/dev/null
m0=$(mail_count)
forgot adm admin@example.com; wait_mail $((m0 + 1)); t_admin=$(link_token)
get member "/password/reset?token=$t_admin"
check "the admin's link opened in the member's browser names the admin's account" body_has "<strong>admin@example.com</strong>"
post member /password/reset "token=$t_admin" "new_password=$NEW"
is "using it: 303" "$STATUS" 303
is "... it changed the admin's password" "$(sql "SELECT count(*) FROM account_audit_logs WHERE user_id = '$U_ADMIN' AND action = 'account.password_reset'")" 1
login x member@example.com
is "... not the member's (their password still signs in)" "$STATUS" 303
get member_elsewhere /account
is "... the member's other session is untouched" "$STATUS" 200
get member /account
check "... and this browser is now the admin's (the member's session here ended)" body_has "Signed in as <strong>admin@example.com</strong>"
post member /password/reset "token=$t4" "new_password=$NEW"
is "the member's own link still works afterwards: 303" "$STATUS" 303

# --- Two uses at once: one wins -----------------------------------------------------------
sql "DELETE FROM password_reset_requests" >/dev/null
m0=$(mail_count)
forgot race viewer@example.com; wait_mail $((m0 + 1)); t_race=$(link_token)
tokA=$(csrf raceA); tokB=$(csrf raceB)
curl -sS -o /dev/null -w '%{http_code}\n' -b "$T/raceA.jar" --data-urlencode "csrf_token=$tokA" \
	--data-urlencode "token=$t_race" --data-urlencode "new_password=first racer pw" "$BASE/password/reset" >"$T/race.a" &
curl -sS -o /dev/null -w '%{http_code}\n' -b "$T/raceB.jar" --data-urlencode "csrf_token=$tokB" \
	--data-urlencode "token=$t_race" --data-urlencode "new_password=second racer pw" "$BASE/password/reset" >"$T/race.b"
wait
is "two uses of one link at once: one 303 and one 410" "$(cat "$T/race.a" "$T/race.b" | sort | tr '\n' ' ')" "303 410 "
is "... one reset" "$(sql "SELECT count(*) FROM account_audit_logs WHERE action = 'account.password_reset' AND user_id = '10000000-0000-0000-0000-000000000004'")" 1

# --- Invited, never set a password --------------------------------------------------------
sql "DELETE FROM password_reset_requests" >/dev/null
m0=$(mail_count)
forgot inv pending@example.com
is "an invited person without a password: the same 303" "$STATUS" 303
n_inv=$(notice | sed 's/pending%40example.com/EMAIL/')
is "... with the same notice" "$n_inv" "$n_known"
check "... an email went out" wait_mail $((m0 + 1))
check "... pointing to the invitation to Acme Corp" sh -c "grep -q 'you were invited to Acme Corp' '$T/mail' && grep -q 'Open the link in your invitation' '$T/mail'"
check "... with no reset link" sh -c "! grep -q '/password/reset' '$T/mail'"
is "... and no token" "$(sql "SELECT count(*) FROM password_reset_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = 'pending@example.com'")" 0

# --- Limits (429), alike for known and unknown emails ---------------------------------------
sql "DELETE FROM password_reset_requests" >/dev/null
for i in 1 2 3 4 5; do forgot lim member@example.com; done
is "five requests for one email in an hour: 303" "$STATUS" 303
forgot lim member@example.com
is "the sixth: 429" "$STATUS" 429
check "... said by the field" body_has "Too many reset requests for this email address or from this network."
for i in 1 2 3 4 5; do forgot lim2 ghost@example.com; done
forgot lim2 ghost@example.com
is "the same for an email without an account: 429" "$STATUS" 429
sql "DELETE FROM password_reset_requests" >/dev/null
i=0
while [ $i -lt 20 ]; do forgot lim3 "someone$i@example.com"; i=$((i + 1)); done
is "twenty requests from one address: still 303" "$STATUS" 303
forgot lim3 someone-else@example.com
is "the twenty-first from that address: 429" "$STATUS" 429
is "refused requests are not counted (waiting ends the limit)" "$(sql "SELECT count(*) FROM password_reset_requests")" 20

# --- Bad input ------------------------------------------------------------------------------
sql "DELETE FROM password_reset_requests" >/dev/null
forgot bad 'not-an-email'
is "a malformed email: 422" "$STATUS" 422
check "... said by the field, input kept" sh -c "grep -q 'id=\"email-error\"' '$T/body' && grep -q 'value=\"not-an-email\"' '$T/body'"
forgot bad '<script>alert(1)</script>@x.example'
is "a hostile email: 422" "$STATUS" 422
check "... shown escaped" sh -c "! grep -q '<script>alert' '$T/body'"
post_raw bad /password/forgot email=demo@example.com
is "without the CSRF token: 403" "$STATUS" 403
is "nothing counted for the refused requests" "$(sql "SELECT count(*) FROM password_reset_requests")" 0
