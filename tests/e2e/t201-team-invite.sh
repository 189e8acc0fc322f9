#!/bin/sh
# t201-team-invite.sh: inviting: the stored invitation, the one-time link, the email, and every refusal.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
DEMO=00000000-0000-0000-0000-000000000001
GLOBEX_OWNER_USER=10000000-0000-0000-0000-000000000007
TEAM=/w/acme/settings/team

text() { w3m -dump -T text/html "$T/body"; }
# state: everything an invitation could change, in one line.
state() {
	sql "SELECT (SELECT md5(string_agg(concat_ws('|', t.id, t.workspace_id, t.user_id, t.role, t.status, t.invitation_email, t.invitation_token, t.invitation_expires_at, t.invited_by, t.updated_by, t.accepted_at, t.deleted_at, t.deleted_by), ',' ORDER BY t.id)) FROM team_members t),
	            (SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM users u),
	            (SELECT count(*) FROM audit_logs)"
}
counter_ok() {
	[ "$(sql "SELECT (SELECT team_members_current FROM billing_config WHERE workspace_id = '$ACME')
	           = (SELECT count(*) FROM team_members WHERE workspace_id = '$ACME'
	              AND status = 'active' AND deleted_at IS NULL)")" = t ]
}
mails() { ls "$VAR/mail" 2>/dev/null | wc -l; }
# mail_to ADDRESS: the newest stored message to ADDRESS.
mail_to() { grep -l "^To: $1\$" "$VAR"/mail/*.eml 2>/dev/null | xargs -r ls -t | head -1; }

login owner demo@example.com
get owner "$TEAM"

# --- A person without an account --------------------------------------------
m0=$(mails)
post owner "$TEAM/invite" "email=New.Person@Example.COM" "role=admin"
is "inviting answers 303" "$STATUS" 303
is "... back to the team page" "$(header Location)" "$TEAM"
check "... the link travels in a short-lived HttpOnly cookie" sh -c "grep -i '^Set-Cookie: team_invite=' '$T/headers' | grep -i HttpOnly | grep -qi 'Max-Age=120'"
row=$(sql "SELECT tm.status, tm.role, tm.invitation_email, tm.invited_by, tm.created_by,
                  tm.invitation_expires_at BETWEEN now() + interval '7 days' - interval '5 minutes'
                                           AND now() + interval '7 days',
                  tm.invitation_token ~ '^[0-9a-f]{64}$', u.email, u.password_hash IS NULL, u.is_verified
             FROM team_members tm JOIN users u ON u.id = tm.user_id
            WHERE tm.workspace_id = '$ACME' AND u.email = 'new.person@example.com'")
is "a pending invitation: role, lowercased email, inviter, 7 days, a SHA-256 hex token; a user without password, not verified" \
	"$row" "pending|admin|new.person@example.com|$DEMO|$DEMO|t|t|new.person@example.com|t|f"
is "exactly one user row for that email" "$(sql "SELECT count(*) FROM users WHERE lower(email) = 'new.person@example.com'")" 1
check "the counter still equals the active members (an invitation is not one)" counter_ok
is "... which are still 4" "$(sql "SELECT team_members_current FROM billing_config WHERE workspace_id = '$ACME'")" 4
mid=$(sql "SELECT id FROM team_members WHERE invitation_email = 'new.person@example.com'")
is "the audit row, with the inviter, in the same transaction" \
	"$(sql "SELECT user_id, resource_type, changes->>'email', changes->>'role' FROM audit_logs
	         WHERE action = 'team_member.invited' AND resource_id = '$mid'")" \
	"$DEMO|team_member|new.person@example.com|admin"

get owner "$TEAM"
is "the page after the redirect answers 200" "$STATUS" 200
link=$(sed -n 's|.*<code class="copy" id="invite-link">\([^<]*\)</code>.*|\1|p' "$T/body" | head -1)
token=${link#*token=}
check "it shows the one-time link" sh -c "echo '$link' | grep -Eq '^http://127\\.0\\.0\\.1:$PORT/invite/accept\\?token=[A-Za-z0-9_-]{43}\$'"
is "the link's token is the one whose SHA-256 is stored" \
	"$(sql "SELECT count(*) FROM team_members WHERE id = '$mid'
	         AND invitation_token = encode(sha256(convert_to('$token', 'UTF8')), 'hex')")" 1
is "the token itself is stored nowhere, nor its hash in the audit log" \
	"$(sql "SELECT (SELECT count(*) FROM team_members WHERE invitation_token = '$token'),
	               (SELECT count(*) FROM audit_logs WHERE changes::text LIKE '%$token%'
	                   OR changes::text LIKE '%' || encode(sha256(convert_to('$token', 'UTF8')), 'hex') || '%')")" "0|0"
check "it shows the expiry" sh -c "w3m -dump -T text/html '$T/body' | grep -Eq 'Valid until [0-9]{1,2} [A-Z][a-z]+ 20[0-9]{2}, [0-9:]+ UTC \(in 7 days\)'"
check "it says an email was sent" sh -c "w3m -dump -T text/html '$T/body' | grep -q 'An email with this link was sent to new.person@example.com'"
is "a page with a token never sends it in Referer" "$(header Referrer-Policy)" "strict-origin"
check "the one-time notice is shown" body_has "Invitation created for new.person@example.com."
check "the invitee is listed under pending invitations" sh -c "sed -n '/id=\"pending-heading\"/,/<\/section>/p' '$T/body' | grep -q new.person@example.com"
check "the page is valid HTML" tidy_ok
is "one email was handed to the mail command" "$(( $(mails) - m0 ))" 1
mail=$(mail_to new.person@example.com)
check "the email is addressed to the invitee, with a subject and a date" sh -c "grep -q '^Subject: ' '$mail' && grep -q '^Date: ' '$mail' && grep -q '^From: ' '$mail'"
check "the email carries the link" grep -qF "$link" "$mail"
check "the email names the workspace, the role and the inviter" sh -c "grep -q 'Demo Owner invited you' '$mail' && grep -q 'Acme Corp' '$mail' && grep -q ' as an admin' '$mail'"
get owner "$TEAM"
check "reloading does not show the link again" sh -c "! grep -q '$token' '$T/body' && ! grep -q 'invite-link' '$T/body'"
is "... and the page is back to the normal Referrer-Policy" "$(header Referrer-Policy)" "same-origin"

# --- Someone who already has an account (elsewhere) --------------------------
users0=$(sql "SELECT count(*) FROM users")
post owner "$TEAM/invite" "email=Owner@Globex.Example" "role=viewer"
is "inviting an existing account answers 303" "$STATUS" 303
is "... no second user row" "$(sql "SELECT count(*) FROM users")" "$users0"
is "... the invitation points at that account" \
	"$(sql "SELECT user_id, status, role FROM team_members WHERE workspace_id = '$ACME' AND invitation_email = 'owner@globex.example'")" \
	"$GLOBEX_OWNER_USER|pending|viewer"

# --- Refusals: duplicates and members (409, nothing changed) ------------------
s0=$(state)
post owner "$TEAM/invite" "email=NEW.PERSON@example.com" "role=member"
is "inviting someone with a pending invitation is a 409" "$STATUS" 409
check "... saying so and pointing to Resend" sh -c "grep -q 'already has a pending invitation' '$T/body' && grep -q 'Resend' '$T/body'"
check "... next to the email field" sh -c "grep -q 'id=\"invite-email-error\"' '$T/body' && grep -q 'aria-describedby=\"invite-email-error\"' '$T/body'"
check "... with the input kept" body_has 'value="NEW.PERSON@example.com"'
post owner "$TEAM/invite" "email=admin@example.com" "role=viewer"
is "inviting an active member is a 409" "$STATUS" 409
check "... saying they are already a member" body_has "admin@example.com is already a member of Acme Corp."
post owner "$TEAM/invite" "email=former@example.com" "role=viewer"
is "inviting an inactive member is a 409" "$STATUS" 409
check "... suggesting to reactivate" body_has "reactivate them instead"
post owner "$TEAM/invite" "email=pending@example.com" "role=viewer"
is "inviting the seeded invitee again is a 409" "$STATUS" 409
post owner "$TEAM/invite" "email=demo@example.com" "role=viewer"
is "inviting yourself is a 409" "$STATUS" 409
is "none of the refusals changed anything" "$(state)" "$s0"

# --- Invalid input (422, nothing changed, escaped) ----------------------------
post owner "$TEAM/invite" "email=not-an-email" "role=member"
is "an invalid email is a 422" "$STATUS" 422
check "... message next to the field" sh -c "grep -q 'id=\"invite-email-error\"' '$T/body' && grep -q 'aria-invalid=\"true\"' '$T/body'"
check "... input kept" body_has 'value="not-an-email"'
post owner "$TEAM/invite" "email=<script>alert(1)</script>@example.com" "role=member"
is "an email with markup is a 422" "$STATUS" 422
check "... and is shown escaped, never as markup" sh -c "grep -q 'value=\"&lt;script&gt;alert(1)&lt;/script&gt;@example.com\"' '$T/body' && ! grep -q '<script>' '$T/body'"
check "... on a valid page" tidy_ok
long=$(printf 'a%.0s' $(seq 1 250))
post owner "$TEAM/invite" "email=$long@example.com" "role=member"
is "an email over 254 characters is a 422" "$STATUS" 422
post owner "$TEAM/invite" "email=" "role=member"
is "an empty email is a 422" "$STATUS" 422
check "... asking for one" body_has "Enter the email address of the person to invite."
post owner "$TEAM/invite" "email=ok@example.com" "role=superuser"
is "a role outside the four is a 422" "$STATUS" 422
check "... with the message next to the role" sh -c "grep -q 'id=\"invite-role-error\"' '$T/body'"
check "... and the email kept" body_has 'value="ok@example.com"'
post owner "$TEAM/invite" "email=ok@example.com" "role=<script>x</script>"
is "a role with markup is a 422" "$STATUS" 422
check "... never echoed as markup" sh -c "! grep -q '<script>' '$T/body'"
post owner "$TEAM/invite" "email=ok@example.com"
is "a missing role is a 422" "$STATUS" 422
post_raw owner "$TEAM/invite" "email=ok@example.com" "role=member"
is "without the CSRF token: 403" "$STATUS" 403
is "no invalid or forged request changed anything" "$(state)" "$s0"

# --- Who may invite whom ------------------------------------------------------
login admin admin@example.com
post admin "$TEAM/invite" "email=boss@example.com" "role=owner"
is "an admin inviting an owner gets 403" "$STATUS" 403
check "... told that only owners can" body_has "Only an owner can invite someone as an owner."
is "... and nothing changed" "$(state)" "$s0"
post admin "$TEAM/invite" "email=helper@example.com" "role=admin"
is "an admin may invite an admin" "$STATUS" 303
is "... recorded with the admin as inviter" \
	"$(sql "SELECT u.email FROM team_members tm JOIN users u ON u.id = tm.invited_by WHERE tm.invitation_email = 'helper@example.com'")" "admin@example.com"
for who in member viewer; do
	login "$who" "$who@example.com"
	s1=$(state)
	post "$who" "$TEAM/invite" "email=x-$who@example.com" "role=viewer"
	is "a $who inviting gets 403" "$STATUS" 403
	is "... and nothing changed" "$(state)" "$s1"
done
login globex owner@globex.example
post globex "$TEAM/invite" "email=spy@example.com" "role=viewer"
is "another workspace's owner inviting into Acme gets 404" "$STATUS" 404
post owner "$TEAM/invite" "email=co-owner@example.com" "role=owner"
is "an owner may invite an owner" "$STATUS" 303
is "... stored as an owner invitation" "$(sql "SELECT role FROM team_members WHERE invitation_email = 'co-owner@example.com'")" owner

# --- Seats: active + pending may not exceed the plan's limit ----------------
used=$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status IN ('active', 'pending') AND deleted_at IS NULL")
sql "UPDATE billing_config SET team_members_limit = $used WHERE workspace_id = '$ACME'" >/dev/null
s2=$(state)
post owner "$TEAM/invite" "email=one-too-many@example.com" "role=viewer"
is "one invitation over the limit is a 409" "$STATUS" 409
check "... naming the limit" body_has "Your plan allows $used seats"
check "... and, for an owner, pointing to billing" body_has 'href="/w/acme/settings/billing"'
check "... with the input kept" body_has 'value="one-too-many@example.com"'
is "... and nothing changed" "$(state)" "$s2"
post admin "$TEAM/invite" "email=one-too-many@example.com" "role=viewer"
is "an admin over the limit gets 409 too" "$STATUS" 409
check "... without a billing link (admins cannot see billing)" sh -c "! sed -n '/id=\"invite-error\"/,/<\/p>/p' '$T/body' | grep -q 'settings/billing'"
is "... and nothing changed" "$(state)" "$s2"
sql "UPDATE billing_config SET team_members_limit = NULL WHERE workspace_id = '$ACME'" >/dev/null
post owner "$TEAM/invite" "email=one-too-many@example.com" "role=viewer"
is "with no limit (NULL) the invitation goes through" "$STATUS" 303
check "the counter equals the active members after all this" counter_ok

# --- Without a mail command, and with a failing one (plain CGI) -------------
session=$(awk '$6 == "session" { print $7 }' "$T/owner.jar")
tok=$(csrf owner)
team_cgi() { # team_cgi SENDMAIL METHOD URI [body] [extra cookie]
	printf '%s' "${4:-}" | as_user env -i PATH="$PATH" REQUEST_METHOD="$2" REQUEST_URI="$3" \
		GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.9 HTTP_HOST="127.0.0.1:$PORT" \
		CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH="${#4}" \
		HTTP_COOKIE="session=$session${5:+; $5}" DATABASE_URL="$(APP_URL)" \
		SETTINGS_TEMPLATES="$ROOT/templates" SETTINGS_BASE_URL="http://127.0.0.1:$PORT" \
		${1:+SETTINGS_SENDMAIL=$1} "$BUILD/bin/team" >"$T/cgi" 2>"$T/cgi.err"
}
m1=$(mails)
team_cgi "" POST "$TEAM/invite" "csrf_token=$tok&email=nomail%40example.com&role=viewer"
check "CGI: inviting without a mail command answers 303" grep -q '^Status: 303' "$T/cgi"
cookie=$(sed -n 's/^Set-Cookie: \(team_invite=[^;]*\);.*/\1/p' "$T/cgi" | tr -d '\r')
team_cgi "" GET "$TEAM" "" "$cookie"
check "CGI: the page says no email was sent" grep -q 'No email was sent' "$T/cgi"
check "CGI: ... and still shows the link" grep -q 'invite/accept?token=' "$T/cgi"
is "CGI: nothing was handed to a mail command" "$(mails)" "$m1"
team_cgi /bin/false POST "$TEAM/invite" "csrf_token=$tok&email=mailfails%40example.com&role=viewer"
check "CGI: a failing mail command does not fail the invitation" grep -q '^Status: 303' "$T/cgi"
cookie=$(sed -n 's/^Set-Cookie: \(team_invite=[^;]*\);.*/\1/p' "$T/cgi" | tr -d '\r')
team_cgi "" GET "$TEAM" "" "$cookie"
check "CGI: the page says the email could not be sent" grep -q 'could not be sent' "$T/cgi"
is "CGI: the invitation exists" "$(sql "SELECT status FROM team_members WHERE invitation_email = 'mailfails@example.com'")" pending
