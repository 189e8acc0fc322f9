#!/bin/sh
# t252-invite-existing-account.sh: an invitee who has an account must accept signed in as that account.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
DEMO=00000000-0000-0000-0000-000000000001
GLOBEX_OWNER=10000000-0000-0000-0000-000000000007
MEMBER_USER=10000000-0000-0000-0000-000000000003
TOKEN=tok-globex-owner-joins-acme
NEXT=%2Finvite%2Faccept%3Ftoken%3D$TOKEN

# The owner of Globex is invited into Acme as a viewer.
sql "INSERT INTO team_members (id, workspace_id, user_id, role, status, invitation_email,
       invitation_token, invitation_expires_at, invited_by, created_by)
     VALUES ('60000000-0000-0000-0000-0000000000a1', '$ACME', '$GLOBEX_OWNER', 'viewer', 'pending',
       'owner@globex.example', encode(sha256(convert_to('$TOKEN', 'UTF8')), 'hex'),
       now() + interval '7 days', '$DEMO', '$DEMO')" >/dev/null
HASH_BEFORE=$(sql "SELECT password_hash FROM users WHERE id = '$GLOBEX_OWNER'")

state() {
	sql "SELECT tm.status, tm.invitation_token IS NOT NULL, bc.team_members_current,
	            (SELECT count(*) FROM audit_logs WHERE action = 'team_member.invitation_accepted'),
	            u.password_hash = '$HASH_BEFORE', u.full_name
	       FROM team_members tm JOIN users u ON u.id = tm.user_id
	       JOIN billing_config bc ON bc.workspace_id = tm.workspace_id
	      WHERE tm.id = '60000000-0000-0000-0000-0000000000a1'"
}
before=$(state)
is "the invitation starts pending" "$before" "pending|t|4|0|t|Globex Owner"

# Not signed in: a sign-in prompt that comes back here.
get a "/invite/accept?token=$TOKEN"
is "not signed in, the invitation page answers 200" "$STATUS" 200
check "it shows the workspace and role" sh -c "grep -q 'Join Acme Corp' '$T/body' && grep -q '<dt>Role</dt><dd>viewer' '$T/body'"
check "it asks to sign in, linking back to the invitation" body_has "href=\"/login?next=$NEXT\""
check "it does not offer the new-account form" sh -c "! grep -q 'name=\"full_name\"' '$T/body'"
check "it does not offer to accept" sh -c "! grep -q 'Accept and join' '$T/body'"
check "the sign-in prompt is valid HTML" tidy_ok
post a /invite/accept "token=$TOKEN"
is "accepting without signing in is refused (403)" "$STATUS" 403
check "... with the sign-in prompt" body_has "href=\"/login?next=$NEXT\""
post a /invite/accept "token=$TOKEN" "full_name=Intruder" "password=a-password-of-mine"
is "setting a password for an existing account is refused (403)" "$STATUS" 403
is "... and nothing changed" "$(state)" "$before"

# Signed in as someone else: the page says so and offers to sign out.
login m member@example.com
get m "/invite/accept?token=$TOKEN"
is "signed in as someone else, the page answers 200" "$STATUS" 200
check "it says who is signed in and whom the invitation is for" \
	grep -q 'You are signed in as <strong>member@example.com</strong>, but this invitation is for <strong>owner@globex.example</strong>' "$T/body"
check "it offers to sign out and continue" grep -q 'action="/invite/sign-out"' "$T/body"
check "the page is valid HTML" tidy_ok
check "it does not offer to accept" sh -c "! grep -q 'Accept and join' '$T/body'"
post m /invite/accept "token=$TOKEN"
is "accepting as someone else is refused (403)" "$STATUS" 403
is "... and nothing changed" "$(state)" "$before"
post_raw m /invite/sign-out "token=$TOKEN"
is "signing out without the CSRF token is refused (403)" "$STATUS" 403
is "... and the session lives on" "$(sql "SELECT count(*) FROM sessions WHERE user_id = '$MEMBER_USER'")" 1
post m /invite/sign-out "token=$TOKEN"
is "sign out and continue answers 303" "$STATUS" 303
is "... to the sign-in page, coming back to the invitation" "$(header Location)" "/login?next=$NEXT"
is "... and the session ended server-side" "$(sql "SELECT count(*) FROM sessions WHERE user_id = '$MEMBER_USER'")" 0
get m "/login?next=$NEXT"
check "the sign-in page says whom to sign in as" body_has 'Sign in as owner@globex.example to accept the invitation to Acme Corp.'
check "the sign-in form will come back to the invitation" body_has "name=\"next\" value=\"/invite/accept?token=$TOKEN\""

# Signed in as the invitee: the accept button.
post m /login "email=owner@globex.example" "password=demo-password" "next=/invite/accept?token=$TOKEN"
is "signing in as the invitee comes back to the invitation" "$(header Location)" "/invite/accept?token=$TOKEN"
get m "/invite/accept?token=$TOKEN"
is "signed in as the invitee, the page answers 200" "$STATUS" 200
check "it offers to accept" body_has 'Accept and join Acme Corp'
check "the page is valid HTML" tidy_ok
is "... and is not cached" "$(header Cache-Control)" no-store
post_raw m /invite/accept "token=$TOKEN"
is "accepting without the CSRF token is refused (403)" "$STATUS" 403
is "... and nothing changed" "$(state)" "$before"
post m /invite/accept "token=$TOKEN"
is "accepting as the invitee answers 303" "$STATUS" 303
is "... to Acme's team page" "$(header Location)" /w/acme/settings/team
is "the membership is active; password and name untouched; counter and audit row" \
	"$(state)" "active|f|5|1|t|Globex Owner"
is "the audit row says no account was created" \
	"$(sql "SELECT user_id, changes->>'account_created', changes->>'role' FROM audit_logs
	         WHERE action = 'team_member.invitation_accepted'")" "$GLOBEX_OWNER|false|viewer"
is "the Globex membership is untouched" \
	"$(sql "SELECT role, status FROM team_members WHERE workspace_id = '$GLOBEX' AND user_id = '$GLOBEX_OWNER'")" "owner|active"
is "the session was kept (no second session)" \
	"$(sql "SELECT count(*) FROM sessions WHERE user_id = '$GLOBEX_OWNER'")" 1
get m "/invite/accept?token=$TOKEN"
is "the accepted link now answers 410" "$STATUS" 410
check "the page offers both workspaces" sh -c "grep -q 'href=\"/w/acme/settings/team\">Acme Corp' '$T/body' && grep -q 'href=\"/w/globex/settings/team\">Globex' '$T/body'"
