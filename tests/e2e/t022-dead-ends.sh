#!/bin/sh
# t022-dead-ends.sh: no dead ends: a deactivated person is told so (no second sign-in form); error pages say the problem in words, the status second, and lead back to the person's own workspace.
. "$ROOT/tests/e2e/lib.sh"

M_MEMBER=10000000-0000-0000-0000-000000000003

# --- A deactivated person signs in -------------------------------------------
sql "UPDATE team_members SET status = 'inactive' WHERE id = '$M_MEMBER'" >/dev/null
login m member@example.com
is "a deactivated person's sign-in succeeds: 303 /login" "$STATUS $(header Location)" "303 /login"
get m /login
is "... the page they land on: 200" "$STATUS" 200
check "... says so in its heading" body_has '<h1>No active workspace</h1>'
check "... and in words" body_has 'You are signed in as member@example.com, but you are not an active member of any workspace.'
check "... and who can help" body_has 'an owner or admin of the workspace can reactivate it'
check "... without a second sign-in form" sh -c "! grep -q 'action=\"/login\"' '$T/body' && ! grep -q 'type=\"password\"' '$T/body'"
check "... but with a way to sign out" grep -q 'action="/logout"' "$T/body"
check "... valid HTML" tidy_ok
get m /w/acme/settings/team
is "the old workspace: 404" "$STATUS" 404
check "... which points to the account page, not a sign-in" sh -c "grep -q 'href=\"/login\">Your account' '$T/body' && ! grep -q '>Sign in<' '$T/body'"

# --- Signed-in error pages: the problem in words, the way back -----------------
login o demo@example.com
get o /w/globex/settings/team
is "another workspace: 404" "$STATUS" 404
check "titled in words" body_has '<h1>Page not found</h1>'
check "... also in the window title" grep -q '<title>Page not found' "$T/body"
check "the status code comes second" body_has 'Status: 404 Not Found'
check "a link back to the person's own workspace" body_has '<a href="/w/acme/settings/team">Go to your workspace, Acme Corp</a>'
check "valid HTML" tidy_ok
get o /w/acme/settings/team/00000000-0000-0000-0000-00000000dead/remove
is "an unknown member: 404" "$STATUS" 404
check "... back to this workspace's team page" body_has '<a href="/w/acme/settings/team">Back to the team page of Acme Corp</a>'

get o /w/acme/settings/team/nowhere/at/all
is "an address no page knows: 404" "$STATUS" 404
check "... signed in: the way back to the person's workspace" sh -c "grep -q '<h1>Page not found</h1>' '$T/body' && grep -q 'href=\"/w/acme/settings/team\">Go to your workspace, Acme Corp' '$T/body' && grep -q 'Signed in as' '$T/body'"
get o /no/such/page
is "an unknown address outside the workspaces: 404" "$STATUS" 404
check "... the same way back" grep -q 'href="/w/acme/settings/team">Go to your workspace, Acme Corp' "$T/body"
get anon /no/such/page
check "signed out, the 404 offers sign-in" sh -c "grep -q '<h1>Page not found</h1>' '$T/body' && grep -q 'href=\"/login\">Sign in' '$T/body'"

login v viewer@example.com
get v /w/acme/settings/billing
is "a viewer on billing: 403" "$STATUS" 403
check "titled: This action is not allowed" body_has '<h1>This action is not allowed</h1>'
check "says which role is needed, with the article" body_has 'This needs the owner role in this workspace; you are a viewer.'
check "status second: 403 Forbidden" body_has 'Status: 403 Forbidden'
check "a way back to the team page" body_has 'href="/w/acme/settings/team">Back to the team page of Acme Corp</a>'
post_raw v /w/acme/settings/team/invite csrf_token=forged email=x@example.com role=member
is "a forged form: 403" "$STATUS" 403
check "... also titled in words" body_has '<h1>This action is not allowed</h1>'

# --- Signed out ---------------------------------------------------------------
post_raw anon /login csrf_token=forged email=demo@example.com password=demo-password
is "signed out, a form without a valid token: 403" "$STATUS" 403
check "... titled in words, with a sign-in link" sh -c "grep -q '<h1>This action is not allowed</h1>' '$T/body' && grep -q 'href=\"/login\">Sign in' '$T/body'"
