#!/bin/sh
# t250-invite-page.sh: the invitation page: details, headers, unknown (404), expired, revoked, replaced (410).
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
DEMO=00000000-0000-0000-0000-000000000001
TOKEN=dev-invite-token-pending-example-com

# new_invite USER_ID EMAIL TOKEN EXPIRES_SQL [DELETED_SQL]: a pending invitation to Acme.
new_invite() {
	sql "INSERT INTO users (id, email) VALUES ('$1', '$2') ON CONFLICT DO NOTHING" >/dev/null
	sql "INSERT INTO team_members (workspace_id, user_id, role, status, invitation_email,
	       invitation_token, invitation_expires_at, invited_by, created_by, deleted_at)
	     VALUES ('$ACME', '$1', 'viewer', 'pending', '$2',
	       encode(sha256(convert_to('$3', 'UTF8')), 'hex'), $4, '$DEMO', '$DEMO', ${5:-NULL})" >/dev/null
}

get a "/invite/accept?token=$TOKEN"
is "the seeded invitation's page answers 200" "$STATUS" 200
check "it names the workspace" body_has 'Join Acme Corp'
check "it names the role" grep -q '<dt>Role</dt><dd>member' "$T/body"
check "it names the inviter" grep -q '<dt>Invited by</dt><dd>Demo Owner' "$T/body"
check "it names the invited email" body_has 'pending@example.com'
check "it shows when the invitation expires, in the one date style" grep -Eq '<dt>Expires</dt><dd><time datetime="[0-9T:Z-]+">[0-9]{1,2} [A-Z][a-z]+ 20[0-9]{2}, [0-9]{2}:[0-9]{2} UTC</time> \(in 5 days\)' "$T/body"
check "an invitee without a password is asked for a full name" body_has 'name="full_name"'
check "... and a new password" body_has 'autocomplete="new-password"'
check "the form posts the token back" body_has "name=\"token\" value=\"$TOKEN\""
check "the form carries a CSRF token" grep -q 'name="csrf_token" value="[A-Za-z0-9_-]\{43\}"' "$T/body"
is "no Referer carries the token in the URL" "$(header Referrer-Policy)" strict-origin
is "the page is not cached" "$(header Cache-Control)" no-store
check "the page is valid HTML" tidy_ok
check "readable in a text browser" sh -c "w3m -dump -T text/html '$T/body' | grep -A1 'Invited by' | grep -q 'Demo Owner'"

get a "/invite/accept?token=no-such-token-at-all"
is "an unknown token is a 404" "$STATUS" 404
check "the 404 page says the invitation was not found" body_has 'Invitation not found'
is "the 404 page sends no full Referer either" "$(header Referrer-Policy)" strict-origin
get a "/invite/accept"
is "no token at all is a 404" "$STATUS" 404
get a "/invite/accept?token=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
is "a token with characters tokens never have is a 404" "$STATUS" 404
check "... and nothing of it is echoed" sh -c "! grep -q '<script' '$T/body'"
get a "/invite/accept?token=$(printf 'a%.0s' $(seq 1 65))"
is "a token longer than 64 characters is a 404" "$STATUS" 404

new_invite 60000000-0000-0000-0000-000000000001 late@example.com tok-expired "now() - interval '1 hour'"
get a "/invite/accept?token=tok-expired"
is "an expired invitation is a 410" "$STATUS" 410
check "the 410 page says it expired" body_has 'This invitation expired on'
check "the 410 page is valid HTML" tidy_ok
post a /invite/accept "token=tok-expired" "full_name=Late Comer" "password=a-long-enough-password"
is "accepting an expired invitation is a 410" "$STATUS" 410
is "... and nothing changed" "$(sql "SELECT tm.status, u.password_hash IS NULL
	FROM team_members tm JOIN users u ON u.id = tm.user_id WHERE u.email = 'late@example.com'")" "pending|t"

new_invite 60000000-0000-0000-0000-000000000002 gone@example.com tok-revoked "now() + interval '7 days'" "now()"
get a "/invite/accept?token=tok-revoked"
is "a revoked (deleted) invitation is a 410" "$STATUS" 410
check "the 410 page says it was cancelled" body_has 'invitation was cancelled'

# A resend gives the row a new token: the old link answers 410, the new one works.
new_invite 60000000-0000-0000-0000-000000000003 again@example.com tok-old "now() + interval '7 days'"
sql "UPDATE team_members SET invitation_token = encode(sha256(convert_to('tok-new', 'UTF8')), 'hex')
      WHERE user_id = '60000000-0000-0000-0000-000000000003'" >/dev/null
get a "/invite/accept?token=tok-old"
is "a link replaced by a resend is a 410" "$STATUS" 410
check "the 410 page says a newer link was sent" body_has 'newer invitation link'
get a "/invite/accept?token=tok-new"
is "the resent link works" "$STATUS" 200

# Revoking by clearing the token too is still a 410, not a 404.
sql "UPDATE team_members SET invitation_token = NULL, deleted_at = now()
      WHERE user_id = '60000000-0000-0000-0000-000000000003'" >/dev/null
get a "/invite/accept?token=tok-new"
is "a link revoked with its token cleared is a 410" "$STATUS" 410

# Everything shown comes from the database escaped.
sql "UPDATE workspaces SET name = '<b>Acme & \"Co\"</b>' WHERE id = '$ACME'" >/dev/null
sql "UPDATE users SET full_name = '<script>x</script>' WHERE id = '$DEMO'" >/dev/null
get a "/invite/accept?token=$TOKEN"
check "the workspace name is escaped" body_has '&lt;b&gt;Acme &amp; &quot;Co&quot;&lt;/b&gt;'
check "the inviter's name is escaped" body_has '&lt;script&gt;x&lt;/script&gt;'
check "no raw markup from the database reaches the page" sh -c "! grep -q '<script>x\|<b>Acme' '$T/body'"

# A signed-in person sees the same invitation (the new-account form says what happens).
login m member@example.com
get m "/invite/accept?token=$TOKEN"
is "signed in as someone else, the new-account invitation still shows (200)" "$STATUS" 200
check "... and says that creating the account signs them out" body_has 'You are signed in as member@example.com'

STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -I "$BASE/invite/accept?token=$TOKEN")
is "HEAD answers like GET" "$STATUS" 200
