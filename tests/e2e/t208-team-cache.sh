#!/bin/sh
# t208-team-cache.sh: the page cache serves the team page again only while nothing
# on it has changed, and never to a session that has lost access.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
U_ADMIN=10000000-0000-0000-0000-000000000002
U_MEMBER=10000000-0000-0000-0000-000000000003
U_VIEWER=10000000-0000-0000-0000-000000000004
M_MEMBER=10000000-0000-0000-0000-000000000003
TEAM=/w/acme/settings/team
LOG="$VAR/log/team.log"

# cached_since MARK: how many team page answers came from the cache since MARK lines.
cached_since() { tail -n "+$(($1 + 1))" "$LOG" | grep -c " $TEAM 200 [0-9]*ms cached"; }
mark() { wc -l <"$LOG"; }
# warm JAR: enough views that every worker has rendered the page once (two workers).
warm() { for _i in 1 2 3 4 5 6; do get "$1" "$TEAM"; done; }
# every_view JAR PATTERN: six views in a row (so every worker answers) all match PATTERN.
every_view() {
	for _i in 1 2 3 4 5 6; do
		get "$1" "$TEAM"
		grep -q -- "$2" "$T/body" || return 1
	done
}
text() { w3m -dump -T text/html "$T/body"; }
text_has() { text | grep -qF -- "$1"; }

login owner demo@example.com
get owner "$TEAM"
cp "$T/body" "$T/first"
m=$(mark)
warm owner
is "the page answers 200 from the cache too" "$STATUS" 200
check "repeated views come from the cache" test "$(cached_since "$m")" -ge 3
check "a cached answer is the page byte for byte" cmp -s "$T/first" "$T/body"
is "... with its headers (no-store)" "$(header Cache-Control)" "no-store"
check "... and the security headers" sh -c "grep -qi '^Content-Security-Policy:' '$T/headers'"
get owner "$TEAM?page=1"
check "another address is its own page" test "$STATUS" = 200

# --- Every change shows at once, whoever made it ---------------------------
sql "UPDATE users SET full_name = 'Cache <Probe>' WHERE id = '$U_ADMIN'" >/dev/null
get owner "$TEAM"
check "a new name (changed in the database) shows on the next view" body_has "Cache &lt;Probe&gt;"
warm owner
sql "UPDATE team_members SET role = 'viewer' WHERE id = '$M_MEMBER'" >/dev/null
get owner "$TEAM"
check "a role changed in the database shows on the next view" sh -c "grep '<select id=\"role-$M_MEMBER\"' '$T/body' | grep -q '<option selected>viewer<'"
check "... and on every view after it" every_view owner "id=\"role-$M_MEMBER\" name=\"role\"[^>]*>.*<option selected>viewer<"
warm owner
sql "UPDATE billing_config SET team_members_limit = 30 WHERE workspace_id = '$ACME'" >/dev/null
get owner "$TEAM"
check "a new seat limit shows on the next view" text_has "Seats: 5 of 30 in use"
check "... and on every view after it, whichever worker answers" every_view owner "<strong>5</strong> of 30 in use"
warm owner
sql "UPDATE workspaces SET name = 'Acme Cached' WHERE id = '$ACME'" >/dev/null
get owner "$TEAM"
check "a workspace renamed in the database shows on the next view" body_has "Acme Cached"
warm owner
check "a single workspace: no switcher" sh -c "! grep -q 'Switch workspace' '$T/body'"
sql "INSERT INTO team_members (workspace_id, user_id, role, status) VALUES ('$GLOBEX', '00000000-0000-0000-0000-000000000001', 'viewer', 'active')" >/dev/null
get owner "$TEAM"
check "a membership in another workspace puts the switcher on this page at once" body_has "Switch workspace"
warm owner
sql "UPDATE workspaces SET name = 'Globex Renamed' WHERE id = '$GLOBEX'" >/dev/null
get owner "$TEAM"
check "another workspace's new name shows in the switcher at once" body_has "Globex Renamed"
warm owner
sql "UPDATE team_members SET invitation_expires_at = now() + interval '2 days' WHERE workspace_id = '$ACME' AND status = 'pending'" >/dev/null
get owner "$TEAM"
check "a new invitation expiry shows on the next view" sh -c "sed -n '/id=\"pending-heading\"/,/<\/section>/p' '$T/body' | grep -Eq 'in (1 day|2 days|[0-9]+ hours)'"

# Through the application: the action's redirect shows the result and the notice once.
warm owner
post owner "$TEAM/$M_MEMBER/deactivate" confirm=1
is "deactivate through the page: 303" "$STATUS" 303
get owner "$TEAM"
check "after an action the page shows the member as inactive" sh -c "sed -n '/id=\"inactive-heading\"/,/<\/section>/p' '$T/body' | grep -q member@example.com"
check "... and the one-time notice" sh -c "grep -q 'class=\"notice\"' '$T/body'"
get owner "$TEAM"
check "the notice is not shown again (not kept in the cache)" sh -c "! grep -q 'class=\"notice\"' '$T/body'"
get owner "$TEAM"
check "... nor on the view after" sh -c "! grep -q 'class=\"notice\"' '$T/body'"

# --- Access is checked on every view -----------------------------------------
login viewer viewer@example.com
warm viewer
is "the viewer's page answers 200" "$STATUS" 200
check "the viewer sees no management forms" sh -c "! grep -q 'action=\"$TEAM/invite\"' '$T/body'"
sql "UPDATE team_members SET role = 'admin' WHERE user_id = '$U_VIEWER' AND workspace_id = '$ACME'" >/dev/null
get viewer "$TEAM"
check "promoted in the database: the invite form appears on the next view" body_has "action=\"$TEAM/invite\""
warm viewer
sql "UPDATE team_members SET status = 'inactive' WHERE user_id = '$U_VIEWER' AND workspace_id = '$ACME'" >/dev/null
get viewer "$TEAM"
is "deactivated after the page was cached: 404 on the next view" "$STATUS" 404
sql "UPDATE team_members SET status = 'active' WHERE user_id = '$U_VIEWER' AND workspace_id = '$ACME'" >/dev/null
warm viewer
is "reactivated: 200 again" "$STATUS" 200
sql "UPDATE workspaces SET deleted_at = now() WHERE id = '$ACME'" >/dev/null
get viewer "$TEAM"
is "workspace deleted after the page was cached: 404" "$STATUS" 404
sql "UPDATE workspaces SET deleted_at = NULL WHERE id = '$ACME'" >/dev/null
warm viewer
cp "$T/viewer.jar" "$T/stolen.jar"
post viewer /logout
get stolen "$TEAM"
is "signed out after the page was cached: the old cookie gets 303 to sign in" "$STATUS" 303

login member member@example.com
warm member
sql "UPDATE sessions SET last_seen_at = now() - interval '13 hours' WHERE user_id = '$U_MEMBER'" >/dev/null
get member "$TEAM"
is "idle past the limit after the page was cached: 303 to sign in" "$STATUS" 303
login member member@example.com
warm member
sql "DELETE FROM sessions WHERE user_id = '$U_MEMBER'" >/dev/null
get member "$TEAM"
is "session deleted in the database: 303 to sign in" "$STATUS" 303

# --- One session's page is never another's ---------------------------------------
login owner2 demo@example.com
warm owner2
warm owner
t1=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$T/body" | sort -u)
get owner2 "$TEAM"
t2=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$T/body" | sort -u)
check "two sessions of one person: each page carries its own session's CSRF token" sh -c "[ -n '$t1' ] && [ -n '$t2' ] && [ '$t1' != '$t2' ]"
post owner2 "$TEAM/$M_MEMBER/reactivate"
is "... and that token works for its own session" "$STATUS" 303
check "the HEAD of the page has no body" sh -c "curl -sS -I -b '$T/owner.jar' '$BASE$TEAM' -o /dev/null -w '%{http_code} %{size_download}' | grep -q '^200 0$'"
