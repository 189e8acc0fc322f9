#!/bin/sh
# t209-team-walk.sh: the team page as a person walks it: a searched or paged list keeps its place through every action and confirmation, "Page 2 of 3" above and below, seats full said before submitting, dates in one style, labels that read naturally in a text browser.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
M_MEMBER=10000000-0000-0000-0000-000000000003
M_VIEWER=10000000-0000-0000-0000-000000000004
M_PENDING=10000000-0000-0000-0000-000000000005
M_FORMER=10000000-0000-0000-0000-000000000006
TEAM=/w/acme/settings/team
dump() { w3m -dump -cols 200 -T text/html "$T/body"; }

login o demo@example.com

# --- Text browsers: names for screen readers stay out of the visible text ---
get o $TEAM
check "a row reads naturally in w3m (no hidden label runs)" sh -c "w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq 'Member User +member@example.com +\[member *\] Change +[0-9]' && ! w3m -dump -cols 200 -T text/html '$T/body' | grep -q 'Role of\|the role of\|the invitation for'"
check "... while each control keeps its full name" sh -c "grep -q 'aria-label=\"Role of member@example.com\"' '$T/body' && grep -q 'aria-label=\"Change the role of member@example.com\"' '$T/body' && grep -q 'aria-label=\"Revoke the invitation for pending@example.com…\"' '$T/body'"

# --- One date format: "1 December 2026", relative time beside it ------------
joined=$(sql "SELECT to_char(coalesce(accepted_at, created_at) AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY') FROM team_members WHERE id = '$M_MEMBER'")
check "joined: $joined" grep -q "<time datetime=\"[0-9-]*\">$joined</time>" "$T/body"
expires=$(sql "SELECT to_char(invitation_expires_at AT TIME ZONE 'UTC', 'FMDD FMMonth YYYY, HH24:MI \"UTC\"') FROM team_members WHERE id = '$M_PENDING'")
check "an invitation's expiry: in N days ($expires)" grep -Eq "in [0-9]+ days? <small>\(<time datetime=\"[0-9T:Z-]*\">$expires</time>\)" "$T/body"
check "no ISO dates shown as text" sh -c "! w3m -dump -cols 200 -T text/html '$T/body' | grep -Eq '20[0-9]{2}-[0-9]{2}-[0-9]{2}'"

# --- A searched list keeps its place through an action ------------------------
get o "$TEAM?q=user"
check "the search's forms carry q" grep -q '<input type="hidden" name="q" value="user">' "$T/body"
check "... and its confirmation links too" grep -q "href=\"$TEAM/$M_MEMBER/deactivate?q=user\"" "$T/body"
post o $TEAM/$M_MEMBER/role role=admin q=user
is "a role change from the search: 303" "$STATUS" 303
is "... back to the same search" "$(header Location)" "$TEAM?q=user"
get o "$TEAM/$M_MEMBER/deactivate?q=user"
is "the confirmation page: 200" "$STATUS" 200
check "... keeps q as a hidden field" grep -q '<input type="hidden" name="q" value="user">' "$T/body"
check "... and its way back keeps it too" grep -q "href=\"$TEAM?q=user\">Cancel and go back" "$T/body"
post o $TEAM/$M_MEMBER/deactivate confirm=1 q=user
is "the confirmed deactivation goes back to the search" "$(header Location)" "$TEAM?q=user"
post o $TEAM/$M_MEMBER/reactivate "q=a b&c" page=2
is "q is encoded in the address and page kept" "$(header Location)" "$TEAM?q=a%20b%26c&page=2"
post o $TEAM/$M_PENDING/resend "q=$(printf 'bad\tline')" page=0
is "an invalid q or page is dropped, never echoed" "$(header Location)" "$TEAM"
post o $TEAM/$M_VIEWER/remove q=user page=2
check "the remove confirmation keeps q and page" sh -c "grep -q 'name=\"q\" value=\"user\"' '$T/body' && grep -q 'name=\"page\" value=\"2\"' '$T/body'"

# --- Making someone an owner is confirmed ---------------------------------------
post o $TEAM/$M_MEMBER/role role=owner
is "making an owner without confirm=1 shows the confirmation: 200" "$STATUS" 200
is "... nobody became an owner" "$(sql "SELECT role FROM team_members WHERE id = '$M_MEMBER'")" admin
check "... which is valid HTML" tidy_ok

# --- Pages: "Page 2 of 3", above and below ---------------------------------------
sql "INSERT INTO users (email) SELECT format('pager%s@example.com', i) FROM generate_series(1, 120) i;
     INSERT INTO team_members (workspace_id, user_id, role, status, invitation_email, invitation_expires_at)
     SELECT '$ACME', u.id, 'viewer', 'pending', u.email, now() + interval '7 days'
       FROM users u WHERE u.email LIKE 'pager%@example.com';
     UPDATE billing_config SET team_members_limit = NULL WHERE workspace_id = '$ACME'" >/dev/null
get o "$TEAM?page=2"
is "page 2: 200" "$STATUS" 200
is "the pager says Page 2 of 3, above and below the lists" "$(grep -c '<span>Page 2 of 3</span>' "$T/body")" 2
check "... the two pagers have distinct names" sh -c "grep -q 'aria-label=\"Pages (above the lists)\"' '$T/body' && grep -q 'aria-label=\"Pages (below the lists)\"' '$T/body'"
check "rows of page 2 carry page=2" grep -q '<input type="hidden" name="page" value="2">' "$T/body"
pid=$(sql "SELECT id FROM team_members WHERE workspace_id = '$ACME' AND status = 'pending' AND deleted_at IS NULL ORDER BY created_at DESC, id DESC OFFSET 60 LIMIT 1")
post o $TEAM/$pid/resend page=2
is "an action on page 2 comes back to page 2" "$(header Location)" "$TEAM?page=2"
get o "$TEAM"
is "page 1: Page 1 of 3" "$(grep -c '<span>Page 1 of 3</span>' "$T/body")" 2

# --- Seats full: said before submitting, the button disabled with the reason --
sql "UPDATE billing_config SET team_members_limit = (SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status IN ('active', 'pending') AND deleted_at IS NULL) WHERE workspace_id = '$ACME'" >/dev/null
get o $TEAM
check "the invite form says that no seat is left" grep -q 'id="seats-full">All [0-9,]* seats of your plan are in use' "$T/body"
check "... and its button is disabled, described by the reason" grep -q '<button type="submit" disabled aria-describedby="seats-full">Invite</button>' "$T/body"
check "... and so is reactivating someone (it takes a seat too)" grep -q 'disabled aria-label="Reactivate former@example.com" aria-describedby="seats-full">Reactivate</button>' "$T/body"
post o $TEAM/invite email=one-more@example.com role=member
is "the server still refuses: 409" "$STATUS" 409
check "the page is valid HTML" tidy_ok
login v viewer@example.com
get v $TEAM
check "a viewer sees no invite form (nothing to disable)" sh -c "! grep -q 'seats-full' '$T/body'"
