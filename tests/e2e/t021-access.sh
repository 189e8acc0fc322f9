#!/bin/sh
# t021-access.sh: session expiry, CSRF, workspace membership, the settings shell, headers.
. "$ROOT/tests/e2e/lib.sh"

login d demo@example.com
get d /w/acme/settings/team
is "the owner sees the team page" "$STATUS" 200
check "the shell names the workspace" body_has 'Acme Corp'
check "the shell says who is signed in" body_has 'demo@example.com'
check "the shell has a sign-out button" body_has 'action="/logout"'
check "the shell links to Team" body_has 'href="/w/acme/settings/team"'
check "the owner's navigation includes Billing" body_has 'href="/w/acme/settings/billing"'
check "the shell links to Integrations" body_has 'href="/w/acme/settings/integrations"'
check "the shell has a skip link" body_has 'href="#main"'
check "one workspace: no switcher" sh -c "! grep -q 'Switch workspace' '$T/body'"
check "the team page is valid HTML" tidy_ok
check "the team page reads in w3m" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'Acme Corp'"

login m member@example.com
get m /w/acme/settings/team
check "a member's navigation has no Billing" sh -c "! grep -q 'settings/billing' '$T/body'"
get m /w/acme/settings/billing
is "a member asking for billing gets 403" "$STATUS" 403
check "the 403 page names the role needed" body_has 'owner role'
check "the 403 page still shows who is signed in" body_has 'member@example.com'

# Several workspaces: a switcher.
sql "INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at)
     VALUES ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000001', 'viewer', 'active', now())" >/dev/null
get d /w/acme/settings/team
check "with two workspaces the shell offers a switcher" body_has 'Switch workspace'
check "the switcher links to the other workspace" body_has 'href="/w/globex/settings/team"'
get d /w/globex/settings/team
is "the other workspace opens" "$STATUS" 200
check "... in the role held there (no Billing for a viewer)" sh -c "! grep -q 'globex/settings/billing' '$T/body'"

# Tenant isolation: not a member -> 404, existence not revealed.
get m /w/globex/settings/team
is "a member of acme gets 404 on globex" "$STATUS" 404
msg1=$(grep -o 'class="error-message"[^<]*' "$T/body")
get m /w/no-such-workspace/settings/team
is "an unknown workspace is 404 too" "$STATUS" 404
msg2=$(grep -o 'class="error-message"[^<]*' "$T/body")
is "both 404s say the same" "$msg1" "$msg2"
check "the 404 page still shows who is signed in" body_has 'member@example.com'

# Deactivated members lose access at their next request.
login v viewer@example.com
get v /w/acme/settings/team
is "the viewer is in" "$STATUS" 200
sql "UPDATE team_members SET status = 'inactive' WHERE id = '10000000-0000-0000-0000-000000000004'" >/dev/null
get v /w/acme/settings/team
is "a deactivated member gets 404 at the next request" "$STATUS" 404
sql "UPDATE team_members SET status = 'active', deleted_at = now() WHERE id = '10000000-0000-0000-0000-000000000004'" >/dev/null
get v /w/acme/settings/team
is "a removed member gets 404 at the next request" "$STATUS" 404

# Expiry: idle (12 h by default) and absolute (7 days by default).
login e admin@example.com
sql "UPDATE sessions SET last_seen_at = now() - interval '13 hours' WHERE user_id = '10000000-0000-0000-0000-000000000002'" >/dev/null
get e /w/acme/settings/team
is "an idle session has expired" "$STATUS" 303
login e admin@example.com
sql "UPDATE sessions SET last_seen_at = now() - interval '11 hours' WHERE user_id = '10000000-0000-0000-0000-000000000002'" >/dev/null
get e /w/acme/settings/team
is "a session idle less than 12 h still works" "$STATUS" 200
sql "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = '10000000-0000-0000-0000-000000000002'" >/dev/null
get e /w/acme/settings/team
is "a session past its absolute lifetime has expired" "$STATUS" 303

# CSRF: missing, wrong, foreign origin -> 403 and nothing changes.
login c demo@example.com
before=$(sql "SELECT count(*) FROM sessions")
post_raw c /logout
is "sign-out without a CSRF token is refused" "$STATUS" 403
post_raw c /logout csrf_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
is "sign-out with a wrong token is refused" "$STATUS" 403
tok=$(csrf c)
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -b "$T/c.jar" -H 'Origin: http://evil.example' --data-urlencode "csrf_token=$tok" "$BASE/logout")
is "a POST from another origin is refused even with the token" "$STATUS" 403
is "refused POSTs changed nothing" "$(sql "SELECT count(*) FROM sessions")" "$before"
get c /w/acme/settings/team
is "the session still works after the refused POSTs" "$STATUS" 200
login c2 member@example.com
tok2=$(csrf c2)
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -b "$T/c.jar" --data-urlencode "csrf_token=$tok2" "$BASE/logout")
is "another session's token does not work" "$STATUS" 403
get fresh /login
post_raw fresh /login email=demo@example.com password=demo-password
is "sign-in without the pre-session token is refused" "$STATUS" 403
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -H 'Origin: http://127.0.0.1:'"$PORT" -b "$T/c.jar" --data-urlencode "csrf_token=$tok" "$BASE/logout")
is "a same-origin POST with the token works" "$STATUS" 303

# The browsers' headers: Origin (own, null, other) with Sec-Fetch-Site.
while read -r origin site want what; do
	rm -f "$T/o.jar"
	get o /login
	tok=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$T/body" | head -1)
	before=$(sql "SELECT count(*) FROM sessions")
	o=$origin; [ "$o" = own ] && o="http://127.0.0.1:$PORT"
	STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -b "$T/o.jar" -c "$T/o.jar" \
		$([ "$o" != - ] && printf '%s' "-HOrigin:$o") \
		$([ "$site" != - ] && printf '%s' "-HSec-Fetch-Site:$site") \
		--data-urlencode "csrf_token=$tok" --data-urlencode email=viewer@example.com \
		--data-urlencode password=demo-password "$BASE/login")
	is "sign-in with Origin $origin, Sec-Fetch-Site $site: $what" "$STATUS" "$want"
	if [ "$want" = 403 ]; then
		is "... and no session was made" "$(sql "SELECT count(*) FROM sessions")" "$before"
	fi
done <<'CASES'
own same-origin 303 a browser's own form
null same-origin 303 a form on a no-referrer page (Chromium)
null - 303 a null Origin from an old browser
- - 303 curl and text browsers
- same-origin 303 no Origin but same-origin
own cross-site 403 a cross-site claim refused
null cross-site 403 a null Origin from another site refused
null same-site 403 a sibling site refused
- cross-site 403 cross-site without Origin refused
http://evil.example same-origin 403 another origin refused
CASES

# Security headers on every kind of response.
for p in /login /healthz /no/such /w/acme/settings/team /static/settings.css; do
	get hdr "$p"
	check "X-Content-Type-Options on $p ($STATUS)" sh -c "grep -qi '^X-Content-Type-Options: nosniff' '$T/headers'"
	check "frame-ancestors 'none' on $p ($STATUS)" sh -c "grep -qi \"^Content-Security-Policy:.*frame-ancestors 'none'\" '$T/headers'"
	check "Referrer-Policy on $p ($STATUS)" sh -c "grep -qi '^Referrer-Policy:' '$T/headers'"
done
