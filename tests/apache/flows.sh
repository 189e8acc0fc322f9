# flows.sh: the representative flows through one Apache host (sourced by t01 and t02
# after tests/e2e/lib.sh, with PORT set to that host): sign in, the team page, invite and
# accept, a role change, billing, an integration's create and toggle, sign out.
ACME=00000000-0000-0000-0000-000000000001
M_MEMBER=10000000-0000-0000-0000-000000000003
TEAM=/w/acme/settings/team
BILL=/w/acme/settings/billing
I=/w/acme/settings/integrations

get anon /
is "$HOST: / answers 303" "$STATUS" 303
check "$HOST: ... to the sign-in page" sh -c "echo '$(header Location)' | grep -Eq '^(http://127.0.0.1:$PORT)?/login$'"
get anon /login
is "$HOST: the sign-in page answers 200" "$STATUS" 200
check "$HOST: ... with the executables' security headers" sh -c "grep -qi '^Content-Security-Policy: default-src' '$T/headers' && grep -qi '^X-Frame-Options: DENY' '$T/headers'"
check "$HOST: ... valid HTML" tidy_ok

login o demo@example.com
is "$HOST: signing in answers 303" "$STATUS" 303
is "$HOST: ... to the team page" "$(header Location)" "$TEAM"
get o "$TEAM"
is "$HOST: the team page answers 200" "$STATUS" 200
check "$HOST: ... lists the team" body_has 'demo@example.com'
check "$HOST: ... is not cached" sh -c "grep -qi '^Cache-Control: no-store' '$T/headers'"
get o "$TEAM?page=x"
is "$HOST: a bad query string still reaches the page (400)" "$STATUS" 400

# Invite a new person, then accept as them in another browser.
post o "$TEAM/invite" "email=apache.person@example.com" "role=member"
is "$HOST: inviting answers 303" "$STATUS" 303
get o "$TEAM"
link=$(sed -n 's|.*<code class="copy" id="invite-link">\([^<]*\)</code>.*|\1|p' "$T/body" | head -1)
check "$HOST: the one-time link names this host" sh -c "echo '$link' | grep -q '^http://127.0.0.1:$PORT/invite/accept?token='"
get n "/invite/accept?token=${link#*token=}"
is "$HOST: the invitation page answers 200" "$STATUS" 200
post n /invite/accept "token=${link#*token=}" "full_name=Apache Person" "password=a-long-enough-password"
is "$HOST: accepting answers 303" "$STATUS" 303
is "$HOST: ... and the invitee is an active member" \
	"$(sql "SELECT tm.status FROM team_members tm JOIN users u ON u.id = tm.user_id
	         WHERE u.email = 'apache.person@example.com' AND tm.workspace_id = '$ACME'")" active

# A role change, audited in the same transaction.
post o "$TEAM/$M_MEMBER/role" "role=admin"
is "$HOST: a promotion answers 303" "$STATUS" 303
is "$HOST: ... the role is stored with its audit row" \
	"$(sql "SELECT tm.role, (SELECT count(*) FROM audit_logs WHERE resource_id = tm.id
	         AND action LIKE 'team_member.role%') FROM team_members tm WHERE tm.id = '$M_MEMBER'")" "admin|1"

# Billing: the page, then an upgrade.
get o "$BILL"
is "$HOST: the billing page answers 200" "$STATUS" 200
post o "$BILL/plan" plan_type=professional billing_interval=monthly
is "$HOST: an upgrade answers 303" "$STATUS" 303
is "$HOST: ... the plan is stored" "$(sql "SELECT plan_type FROM billing_config WHERE workspace_id = '$ACME'")" professional

# Every other page answers through its own route.
get o /w/acme/settings
is "$HOST: /w/acme/settings leads on (303) to $(header Location)" "$STATUS" 303
for page in /w/acme/settings/general /w/acme/settings/api-keys /w/acme/settings/audit /account; do
	get o "$page"
	is "$HOST: $page answers 200" "$STATUS" 200
done
get o /w/acme/settings/audit.csv
is "$HOST: the audit log as CSV answers 200" "$STATUS" 200
check "$HOST: ... as CSV" sh -c "grep -qi '^Content-Type: text/csv' '$T/headers'"

# An integration: create, disable, enable.
post o "$I" integration_name="Apache alerts" integration_type=slack channel_id=C01234567 \
	"channel_name=#ops" workspace_url=https://acme-corp.slack.com bot_token=xoxb-1111-2222-ApacheSecretToken
is "$HOST: creating an integration answers 303" "$STATUS" 303
iid=$(sql "SELECT id FROM integrations_config WHERE integration_name = 'Apache alerts'")
check "$HOST: ... it is stored" test -n "$iid"
check "$HOST: ... its secret encrypted, not in clear" test "$(sql "SELECT count(*) FROM integrations_config WHERE id = '$iid' AND credentials_encrypted::text LIKE '%ApacheSecretToken%'")" = 0
post o "$I/$iid/disable"
is "$HOST: disabling answers 303" "$STATUS" 303
is "$HOST: ... it is off" "$(sql "SELECT is_enabled FROM integrations_config WHERE id = '$iid'")" f
post o "$I/$iid/enable"
is "$HOST: enabling answers 303" "$STATUS" 303
is "$HOST: ... it is on" "$(sql "SELECT is_enabled FROM integrations_config WHERE id = '$iid'")" t

# A POST without its token is refused, and nothing changes.
post_raw o "$TEAM/$M_MEMBER/role" "role=viewer"
is "$HOST: a POST without its CSRF token answers 403" "$STATUS" 403
is "$HOST: ... and changes nothing" "$(sql "SELECT role FROM team_members WHERE id = '$M_MEMBER'")" admin

# Sign out: the session row goes and the cookie no longer opens the page.
post o /logout
is "$HOST: signing out answers 303" "$STATUS" 303
get o "$TEAM"
is "$HOST: ... after which the team page asks to sign in" "$STATUS" 303
is "$HOST: ... no session of the owner is left" \
	"$(sql "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'demo@example.com'")" 0

# What Apache serves itself.
get anon /static/settings.css
is "$HOST: the style sheet answers 200" "$STATUS" 200
check "$HOST: ... with the security headers" sh -c "grep -qi '^Content-Security-Policy: default-src' '$T/headers' && grep -qi '^X-Content-Type-Options: nosniff' '$T/headers'"
get anon /no/such/page
is "$HOST: an unknown address is the site's 404" "$STATUS" 404
check "$HOST: ... its own page" body_has 'There is no page at this address.'
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
STATUS=$(curl -sS -o "$T/body" -w '%{http_code}' -b "$T/o.jar" --data-binary @"$T/big" \
	-H 'Content-Type: application/x-www-form-urlencoded' "$BASE/login")
is "$HOST: a body over 64 KiB answers 413" "$STATUS" 413
