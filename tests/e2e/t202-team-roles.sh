#!/bin/sh
# t202-team-roles.sh: changing roles: who may, the confirmation of a demotion, the last owner, other workspaces.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
DEMO=00000000-0000-0000-0000-000000000001
M_OWNER=10000000-0000-0000-0000-000000000001
M_ADMIN=10000000-0000-0000-0000-000000000002
M_MEMBER=10000000-0000-0000-0000-000000000003
M_VIEWER=10000000-0000-0000-0000-000000000004
M_PENDING=10000000-0000-0000-0000-000000000005
M_GLOBEX=10000000-0000-0000-0000-000000000007
TEAM=/w/acme/settings/team

role_of() { sql "SELECT role FROM team_members WHERE id = '$1'"; }
audits() { sql "SELECT count(*) FROM audit_logs WHERE action = 'team_member.role_changed'"; }
state() { sql "SELECT md5(string_agg(concat_ws('|', t.id, t.workspace_id, t.user_id, t.role, t.status, t.invitation_email, t.invitation_token, t.invitation_expires_at, t.invited_by, t.updated_by, t.accepted_at, t.deleted_at, t.deleted_by), ',' ORDER BY t.id)) || (SELECT count(*) FROM audit_logs) FROM team_members t"; }

login owner demo@example.com
login admin admin@example.com
login member member@example.com

# --- Raising someone: no confirmation needed ---------------------------------
post owner "$TEAM/$M_MEMBER/role" "role=admin"
is "the owner raises the member to admin: 303" "$STATUS" 303
is "... the role changed" "$(role_of "$M_MEMBER")" admin
is "... with an audit row holding old and new role" \
	"$(sql "SELECT user_id, changes->>'old_role', changes->>'new_role' FROM audit_logs
	         WHERE action = 'team_member.role_changed' AND resource_id = '$M_MEMBER'")" "$DEMO|member|admin"
get owner "$TEAM"
check "... and the page says so once, with the article" body_has "Member User is now an admin."

# --- Lowering someone: a confirmation step first ------------------------------
s0=$(state)
post owner "$TEAM/$M_MEMBER/role" "role=viewer"
is "a demotion without confirm=1 answers 200 with a confirmation page" "$STATUS" 200
is "... and changes nothing yet" "$(state)" "$s0"
check "... saying what will happen" body_has "will change from admin to viewer"
check "... with a form that confirms" sh -c "grep -q 'name=\"confirm\" value=\"1\"' '$T/body' && grep -q 'name=\"role\" value=\"viewer\"' '$T/body' && grep -q 'action=\"$TEAM/$M_MEMBER/role\"' '$T/body'"
check "... and a way back" body_has "Cancel and go back to the team page"
check "... on a valid page" tidy_ok
post owner "$TEAM/$M_MEMBER/role" "role=viewer" "confirm=1"
is "confirmed: 303" "$STATUS" 303
is "... the member is a viewer" "$(role_of "$M_MEMBER")" viewer
get owner "$TEAM/$M_VIEWER/role"
is "GET .../role shows the role form" "$STATUS" 200
check "... with a labelled select of the roles" sh -c "grep -q '<label for=\"role\">New role</label>' '$T/body' && grep -q '<option value=\"viewer\" selected>' '$T/body'"
a0=$(audits)
post owner "$TEAM/$M_VIEWER/role" "role=viewer"
is "choosing the same role: 303" "$STATUS" 303
is "... and no audit row (nothing changed)" "$(audits)" "$a0"

# --- Who may change whom -----------------------------------------------------
s1=$(state)
post admin "$TEAM/$M_VIEWER/role" "role=owner"
is "an admin making someone an owner: 403" "$STATUS" 403
check "... saying only owners can" body_has "Only an owner can make someone an owner."
post admin "$TEAM/$M_OWNER/role" "role=member" "confirm=1"
is "an admin changing an owner: 403" "$STATUS" 403
check "... saying only owners can" body_has "Only an owner can change, deactivate or remove an owner."
get admin "$TEAM/$M_OWNER/role"
is "... not even the form" "$STATUS" 403
post admin "$TEAM/$M_ADMIN/role" "role=owner" "confirm=1"
is "an admin raising their own role: 403" "$STATUS" 403
check "... nobody raises their own role" body_has "Nobody can raise their own role"
post member "$TEAM/$M_VIEWER/role" "role=member"
is "a member changing roles: 403 (needs owner or admin)" "$STATUS" 403
is "none of that changed anything" "$(state)" "$s1"
post admin "$TEAM/$M_VIEWER/role" "role=admin"
is "an admin may make someone an admin" "$STATUS" 303
is "... done" "$(role_of "$M_VIEWER")" admin
post admin "$TEAM/$M_VIEWER/role" "role=member" "confirm=1"
is "an admin may demote an admin" "$STATUS" 303
post owner "$TEAM/$M_PENDING/role" "role=admin"
is "the role of a pending invitation can change" "$STATUS" 303
is "... it stays pending" "$(sql "SELECT role, status FROM team_members WHERE id = '$M_PENDING'")" "admin|pending"

# --- The last owner ----------------------------------------------------------
s2=$(state)
post owner "$TEAM/$M_OWNER/role" "role=admin" "confirm=1"
is "the last active owner stepping down: 409" "$STATUS" 409
check "... saying why" body_has "You are the last active owner of Acme Corp"
check "... as an alert on the team page" sh -c "grep -q 'role=\"alert\"' '$T/body' && grep -q 'Active members' '$T/body'"
post owner "$TEAM/$M_OWNER/role" "role=viewer"
is "... also before the confirmation step" "$STATUS" 409
is "... nothing changed" "$(state)" "$s2"
s3=$(state)
post owner "$TEAM/$M_ADMIN/role" "role=owner"
is "making someone an owner asks first: 200" "$STATUS" 200
check "... saying what an owner may do" body_has 'Make Admin User an owner of Acme Corp?'
check "... with a form that repeats role=owner with confirm=1" sh -c "grep -q 'name=\"confirm\" value=\"1\"' '$T/body' && grep -q 'name=\"role\" value=\"owner\"' '$T/body'"
is "... and nothing changed yet" "$(state)" "$s3"
post owner "$TEAM/$M_ADMIN/role" "role=owner" "confirm=1"
is "the owner makes the admin an owner" "$STATUS" 303
post owner "$TEAM/$M_OWNER/role" "role=admin" "confirm=1"
is "with another owner, the owner may step down" "$STATUS" 303
is "... now an admin" "$(role_of "$M_OWNER")" admin
post admin "$TEAM/$M_ADMIN/role" "role=member" "confirm=1"
is "the new owner is now the last one: 409" "$STATUS" 409
is "... still owner" "$(role_of "$M_ADMIN")" owner
post owner "$TEAM/$M_OWNER/role" "role=owner"
is "the former owner cannot raise themself back" "$STATUS" 403
is "exactly one active owner is left" \
	"$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND role = 'owner' AND status = 'active' AND deleted_at IS NULL")" 1

# --- Bad input --------------------------------------------------------------
s3=$(state)
post admin "$TEAM/$M_MEMBER/role" "role=superuser"
is "an unknown role: 422" "$STATUS" 422
check "... the role form again, message tied to the select" sh -c "grep -q 'id=\"role-error\"' '$T/body' && grep -q 'aria-describedby=\"role-error\"' '$T/body'"
post admin "$TEAM/$M_MEMBER/role" "role=<script>alert(1)</script>"
is "a role with markup: 422" "$STATUS" 422
check "... never echoed as markup" sh -c "! grep -q '<script>' '$T/body'"
post admin "$TEAM/$M_MEMBER/role"
is "no role at all: 422" "$STATUS" 422
post admin "$TEAM/not-a-uuid/role" "role=viewer"
is "a member id that is not a UUID: 404" "$STATUS" 404
post admin "$TEAM/00000000-0000-0000-0000-00000000dead/role" "role=viewer"
is "an unknown member id: 404" "$STATUS" 404
post admin "$TEAM/$M_MEMBER/promote" "role=viewer"
is "an unknown action: 404" "$STATUS" 404
post admin "$TEAM/$M_MEMBER/role/extra" "role=viewer"
is "extra path segments: 404" "$STATUS" 404
post_raw admin "$TEAM/$M_MEMBER/role" "role=viewer" "confirm=1"
is "without the CSRF token: 403" "$STATUS" 403
is "no bad request changed anything" "$(state)" "$s3"
upper=$(echo "$M_MEMBER" | tr a-f A-F)
post admin "$TEAM/$upper/role" "role=member"
is "an upper-case member id is the same member" "$STATUS" 303

# --- Other workspaces: 404 and nothing changed -------------------------------
g0=$(sql "SELECT md5(concat_ws('|', t.id, t.workspace_id, t.user_id, t.role, t.status, t.invitation_email, t.invitation_token, t.invitation_expires_at, t.invited_by, t.updated_by, t.accepted_at, t.deleted_at, t.deleted_by)) FROM team_members t WHERE id = '$M_GLOBEX'")
post admin "$TEAM/$M_GLOBEX/role" "role=viewer" "confirm=1"
is "an Acme owner acting on a Globex member id: 404" "$STATUS" 404
post owner "$TEAM/$M_GLOBEX/role" "role=viewer" "confirm=1"
is "an Acme admin acting on a Globex member id: 404" "$STATUS" 404
get admin "$TEAM/$M_GLOBEX/role"
is "... not even the form" "$STATUS" 404
login globex owner@globex.example
post globex "/w/globex/settings/team/$M_MEMBER/role" "role=owner"
is "a Globex owner acting on an Acme member id in Globex: 404" "$STATUS" 404
post globex "$TEAM/$M_MEMBER/role" "role=owner"
is "a Globex owner posting to Acme's address: 404" "$STATUS" 404
is "the Globex member is unchanged" "$(sql "SELECT md5(concat_ws('|', t.id, t.workspace_id, t.user_id, t.role, t.status, t.invitation_email, t.invitation_token, t.invitation_expires_at, t.invited_by, t.updated_by, t.accepted_at, t.deleted_at, t.deleted_by)) FROM team_members t WHERE id = '$M_GLOBEX'")" "$g0"
is "the Acme member is unchanged" "$(role_of "$M_MEMBER")" member
is "no audit row in Globex" "$(sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$GLOBEX'")" 0
