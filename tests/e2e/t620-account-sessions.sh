#!/bin/sh
# t620-account-sessions.sh: the sessions on /account: what they show, signing one out,
# signing out everywhere else, and never another person's.
. "$ROOT/tests/e2e/lib.sh"

U_MEMBER=10000000-0000-0000-0000-000000000003
U_ADMIN=10000000-0000-0000-0000-000000000002
FIREFOX='Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
IPHONE='Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
text() { w3m -dump -cols 200 -T text/html "$T/body"; }
sid_of() { # sid_of UA: the session id of the member's session with that User-Agent
	sql "SELECT id FROM sessions WHERE user_id = '$U_MEMBER' AND user_agent = '$1' ORDER BY created_at DESC LIMIT 1"
}

login member member@example.com
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -c "$T/ff.jar" -b "$T/ff.jar" -A "$FIREFOX" \
	--data-urlencode "csrf_token=$(csrf ff)" -d email=member@example.com -d password=demo-password "$BASE/login")
is "signed in with Firefox" "$STATUS" 303
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -c "$T/ph.jar" -b "$T/ph.jar" -A "$IPHONE" \
	--data-urlencode "csrf_token=$(csrf ph)" -d email=member@example.com -d password=demo-password "$BASE/login")
is "signed in with an iPhone" "$STATUS" 303
sql "UPDATE sessions SET last_seen_at = now() - interval '2 hours', created_at = now() - interval '1 day' WHERE user_agent = '$IPHONE'" >/dev/null
login admin admin@example.com

get member /account
is "/account lists the sessions: 200" "$STATUS" 200
check "... Firefox, read simply from the User-Agent" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -q 'Firefox 128 on Linux'"
check "... Safari on an iPhone, last active 2 hours ago" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep 'Safari 17 on iPhone' | grep -q '2 hours ago'"
check "... with its address" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep 'Firefox 128 on Linux' | grep -q '127.0.0.1'"
check "... and when it signed in (date and time, UTC)" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep 'Safari 17 on iPhone' | grep -Eq '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC'"
check "... this browser first, marked \"this device\"" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -A1 'Browser' | tail -1 | grep -q 'this device'"
is "... exactly one \"this device\"" "$(grep -c 'this device</span>' "$T/body")" "1"
check "... not the admin's session" sh -c "! grep -q \"$(sql "SELECT id FROM sessions WHERE user_id = '$U_ADMIN' LIMIT 1")\" '$T/body'"
n_rows=$(grep -c '/revoke"' "$T/body")
is "... three sessions, each with its sign-out button" "$n_rows" "3"
sql "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, last_seen_at, user_agent)
     VALUES (repeat('e', 64), '$U_MEMBER', 'x', now() + interval '1 day', now() - interval '13 hours', 'idle-probe'),
            (repeat('d', 64), '$U_MEMBER', 'x', now() - interval '1 minute', now(), 'expired-probe')" >/dev/null
get member /account
check "idle and expired sessions are not listed (they are not signed in)" sh -c "! grep -q 'probe' '$T/body'"

# --- Hostile User-Agent ------------------------------------------------------------
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -c "$T/evil.jar" -b "$T/evil.jar" -A '<script>alert(1)</script>"' \
	--data-urlencode "csrf_token=$(csrf evil)" -d email=member@example.com -d password=demo-password "$BASE/login")
get member /account
check "a hostile User-Agent is shown escaped" sh -c "grep -q '&lt;script&gt;alert(1)&lt;/script&gt;&quot;' '$T/body' && ! grep -q '<script>alert' '$T/body'"
check "the page is still valid HTML" tidy_ok

# --- Signing one out ---------------------------------------------------------------
ff=$(sid_of "$FIREFOX")
post member "/account/sessions/$ff/revoke"
is "sign out the Firefox session: 303" "$STATUS" 303
is "... back to /account" "$(header Location)" "/account"
get member /account
check "... which says so" body_has "Signed out the session of Firefox 128 on Linux."
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -b "$T/ff.jar" -A "$FIREFOX" "$BASE/w/acme/settings/team")
is "the Firefox browser is signed out at its next request" "$STATUS" 303
is "audit: one row, which session, browser and address" \
	"$(sql "SELECT changes->>'session_id' = '$ff', changes->>'browser', changes->>'ip' FROM account_audit_logs WHERE user_id = '$U_MEMBER' AND action = 'account.session_revoked'")" \
	"t|Firefox 128 on Linux|127.0.0.1"
post member "/account/sessions/$ff/revoke"
is "the same session again (already gone): 404" "$STATUS" 404

# Another person's session: 404, and it lives on.
admin_sid=$(sql "SELECT id FROM sessions WHERE user_id = '$U_ADMIN' LIMIT 1")
post member "/account/sessions/$admin_sid/revoke"
is "another person's session id: 404" "$STATUS" 404
is "... which is not signed out" "$(sql "SELECT count(*) FROM sessions WHERE id = '$admin_sid'")" "1"
get admin /w/acme/settings/team
is "... (the admin still gets the team page)" "$STATUS" 200
post member /account/sessions/not-a-uuid/revoke
is "a malformed id: 404" "$STATUS" 404
post member "/account/sessions/00000000-0000-0000-0000-00000000dead/revoke"
is "an unknown id: 404" "$STATUS" 404
post member "/account/sessions/%2e%2e%2f%2e%2e%2flogin/revoke"
is "a path trick as the id: 404" "$STATUS" 404
get member "/account/sessions/$admin_sid/revoke"
is "GET on a sign-out address: 405" "$STATUS" 405
ph=$(sid_of "$IPHONE")
post_raw member "/account/sessions/$ph/revoke"
is "without the CSRF token: 403" "$STATUS" 403
is "... the session lives on" "$(sql "SELECT count(*) FROM sessions WHERE id = '$ph'")" "1"
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -b "$T/member.jar" -H 'Sec-Fetch-Site: cross-site' \
	--data-urlencode "csrf_token=$(csrf member)" "$BASE/account/sessions/$ph/revoke")
is "from another site: 403" "$STATUS" 403
is "... the session lives on" "$(sql "SELECT count(*) FROM sessions WHERE id = '$ph'")" "1"

# --- Everywhere else ---------------------------------------------------------------
login member2 member@example.com
before=$(sql "SELECT count(*) FROM sessions WHERE user_id = '$U_MEMBER'")
post member /account/sessions/revoke-others
is "sign out everywhere else: 303" "$STATUS" 303
get member /account
is "this browser stays signed in" "$STATUS" 200
check "... told how many" body_has "Signed out everywhere else ($((before - 1)) sessions)."
is "... only this session is left" "$(sql "SELECT count(*) FROM sessions WHERE user_id = '$U_MEMBER'")" "1"
check "... and the page says there is nowhere else" body_has "You are not signed in anywhere else."
get member2 /account
is "the other browser is signed out" "$STATUS" 303
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -b "$T/ph.jar" -A "$IPHONE" "$BASE/account")
is "... and the iPhone" "$STATUS" 303
get admin /w/acme/settings/team
is "another person's sessions are untouched" "$STATUS" 200
is "audit: one row with the count" \
	"$(sql "SELECT changes->>'sessions_ended' FROM account_audit_logs WHERE user_id = '$U_MEMBER' AND action = 'account.sessions_revoked'")" "$((before - 1))"
post member /account/sessions/revoke-others
is "again with nothing left: 303" "$STATUS" 303
get member /account
check "... saying there was nothing to sign out" body_has "There were no other sessions to sign out."

# --- This very session --------------------------------------------------------------
me=$(sql "SELECT id FROM sessions WHERE user_id = '$U_MEMBER'")
post member "/account/sessions/$me/revoke"
is "signing out this very session: 303" "$STATUS" 303
is "... to sign in" "$(header Location)" "/login"
check "... the cookie is cleared" sh -c "tr -d '\r' <'$T/headers' | grep -q '^Set-Cookie: session=; '"
is "... and the session is gone" "$(sql "SELECT count(*) FROM sessions WHERE user_id = '$U_MEMBER'")" "0"
