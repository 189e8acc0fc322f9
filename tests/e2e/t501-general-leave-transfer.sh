#!/bin/sh
# t501-general-leave-transfer.sh: leave (confirmation, last owner 409, where one lands) and transfer of ownership (owner only, one transaction, two audit rows, races).
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/general
ADMIN_TM=10000000-0000-0000-0000-000000000002
MEMBER_TM=10000000-0000-0000-0000-000000000003
PENDING_TM=10000000-0000-0000-0000-000000000005
INACTIVE_TM=10000000-0000-0000-0000-000000000006
GLOBEX_TM=10000000-0000-0000-0000-000000000007
roles() { sql "SELECT string_agg(u.email || '=' || tm.role || '/' || tm.status || (CASE WHEN tm.deleted_at IS NULL THEN '' ELSE '/deleted' END), ' ' ORDER BY u.email)
                 FROM team_members tm JOIN users u ON u.id = tm.user_id WHERE tm.workspace_id = '$ACME'"; }
audits() { sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME'"; }

login demo demo@example.com
login admin admin@example.com
login member member@example.com
login viewer viewer@example.com

# --- Leave: the last owner cannot ----------------------------------------
before="$(roles)/$(audits)"
get demo $P/leave
is "last owner GET leave: 409" "$STATUS" 409
check "... saying to make someone else owner first" body_has 'Make someone else owner first'
post demo $P/leave confirm=1
is "last owner POST leave confirm=1: 409" "$STATUS" 409
is "... nothing changed" "$(roles)/$(audits)" "$before"

# --- Leave: a member -----------------------------------------------------
get member $P/leave
is "member GET leave: the confirmation page (200)" "$STATUS" 200
check "... says what will happen" body_has 'You will lose access to Acme Corp at once, as a member.'
check "... its form carries confirm=1" body_has 'name="confirm" value="1"'
check "... the facts first, as the team's confirmations" body_has '<dt>Workspace</dt><dd>Acme Corp</dd>'
check "... and the way back to the General page" body_has '/settings/general">Cancel and go back to the General page</a>'
post member $P/leave
is "member POST leave without confirm: the confirmation again (200)" "$STATUS" 200
is "... nothing changed yet" "$(roles)/$(audits)" "$before"
post member $P/leave confirm=1
is "member POST leave confirm=1: 303" "$STATUS" 303
is "... to the no-workspace page (no other workspace)" "$(header Location)" "/login"
is "membership soft-deleted like a removal" "$(sql "SELECT status FROM team_members WHERE id = '$MEMBER_TM' AND deleted_at IS NOT NULL")" inactive
is "audit row team_member.left" "$(sql "SELECT changes->>'role' FROM audit_logs WHERE action = 'team_member.left' AND resource_id = '$MEMBER_TM'")" member
is "billing counter follows" "$(sql "SELECT team_members_current FROM billing_config WHERE workspace_id = '$ACME'")" 3
get member $P
is "after leaving, Acme answers 404" "$STATUS" 404
get member /login
check "the no-workspace page says so" body_has 'not an active member of any workspace'

# A person with another workspace lands there.
sql "INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at)
     VALUES ('00000000-0000-0000-0000-000000000002', '10000000-0000-0000-0000-000000000004', 'viewer', 'active', now())" >/dev/null
post viewer $P/leave confirm=1
is "viewer in two workspaces leaves Acme: 303" "$STATUS" 303
is "... to their next workspace" "$(header Location)" "/w/globex/settings/general"

# --- Transfer ------------------------------------------------------------
before="$(roles)/$(audits)"
post admin $P/transfer member_id=$ADMIN_TM confirm=1
is "admin cannot transfer: 403" "$STATUS" 403
check "... the page names the owner role" body_has 'needs the owner role'
post demo $P/transfer
is "no member chosen: 422" "$STATUS" 422
check "... the error next to the select" body_has 'id="member-id-error"'
post demo $P/transfer member_id=not-a-uuid
is "a malformed member id: 422" "$STATUS" 422
post demo $P/transfer member_id=$GLOBEX_TM confirm=1
is "another workspace's member: 404" "$STATUS" 404
post demo $P/transfer member_id=$PENDING_TM confirm=1
is "a pending invitation: 409" "$STATUS" 409
post demo $P/transfer member_id=$INACTIVE_TM confirm=1
is "an inactive member: 409" "$STATUS" 409
post demo $P/transfer member_id=10000000-0000-0000-0000-000000000001 confirm=1
is "oneself: 409" "$STATUS" 409
is "refusals change nothing" "$(roles)/$(audits)" "$before"

post demo $P/transfer member_id=$ADMIN_TM
is "transfer without confirm: the confirmation page (200)" "$STATUS" 200
check "... says who becomes owner and that I become admin" body_has 'will become owner of Acme Corp, and you will become admin'
check "... repeats member_id" body_has "name=\"member_id\" value=\"$ADMIN_TM\""
check "... the facts: who, and their role now" sh -c "grep -q '<dt>New owner</dt><dd>Admin User (admin@example.com)</dd>' '$T/body' && grep -q '<dt>Their role now</dt><dd>admin</dd>' '$T/body'"
is "... nothing changed yet" "$(roles)/$(audits)" "$before"
get demo "$P/transfer?member_id=$ADMIN_TM"
is "GET with member_id: the same confirmation (200)" "$STATUS" 200
post demo $P/transfer member_id=$ADMIN_TM confirm=1
is "transfer confirmed: 303" "$STATUS" 303
is "the admin is owner, the owner admin" \
	"$(sql "SELECT string_agg(role, ',' ORDER BY id) FROM team_members WHERE id IN ('10000000-0000-0000-0000-000000000001', '$ADMIN_TM')")" "admin,owner"
is "two audit rows, old and new roles" \
	"$(sql "SELECT string_agg((changes->>'old_role') || '>' || (changes->>'new_role'), ',' ORDER BY changes->>'new_role' DESC)
	        FROM audit_logs WHERE workspace_id = '$ACME' AND action = 'team_member.role_changed' AND changes->>'reason' = 'ownership transfer'")" "admin>owner,owner>admin"
get demo $P
check "the former owner sees the notice" body_has 'is now owner of Acme Corp; you are admin.'
post demo $P/transfer member_id=$ADMIN_TM confirm=1
is "the former owner can no longer transfer: 403" "$STATUS" 403

# The new owner may leave now that ... no: they are the only owner again.
post admin $P/leave confirm=1
is "the new (only) owner cannot leave: 409" "$STATUS" 409

# --- Race: the owner hands ownership over twice at once -------------------
sql "UPDATE team_members SET role = 'owner' WHERE id = '10000000-0000-0000-0000-000000000001';
     UPDATE team_members SET role = 'admin' WHERE id = '$ADMIN_TM'" >/dev/null
_tok_d=$(csrf demo)
for i in 1 2; do
	curl -sS -o /dev/null -w '%{http_code}\n' -b "$T/demo.jar" --data-urlencode "csrf_token=$_tok_d" \
		--data "member_id=$ADMIN_TM&confirm=1" "$BASE$P/transfer" >"$T/r$i" &
done
wait
is "two transfers at once: one acts (303), the other finds its sender no longer owner (403)" \
	"$(cat "$T/r1" "$T/r2" | sort | tr '\n' ' ')" "303 403 "
is "... and the workspace keeps exactly one active owner, the admin" \
	"$(sql "SELECT string_agg(tm.id::text, ',') FROM team_members tm WHERE workspace_id = '$ACME' AND role = 'owner' AND status = 'active' AND deleted_at IS NULL")" "$ADMIN_TM"

# --- Race: two owners leave at once: at most one goes ----------------------
sql "UPDATE team_members SET role = 'owner' WHERE id IN ('10000000-0000-0000-0000-000000000001', '$ADMIN_TM')" >/dev/null
_tok_a=$(csrf admin); _tok_d=$(csrf demo)
curl -sS -o /dev/null -w '%{http_code}\n' -b "$T/admin.jar" --data-urlencode "csrf_token=$_tok_a" \
	--data "confirm=1" "$BASE$P/leave" >"$T/r1" &
curl -sS -o /dev/null -w '%{http_code}\n' -b "$T/demo.jar" --data-urlencode "csrf_token=$_tok_d" \
	--data "confirm=1" "$BASE$P/leave" >"$T/r2" &
wait
is "two owners leaving at once: one 303, one 409" "$(cat "$T/r1" "$T/r2" | sort | tr '\n' ' ')" "303 409 "
is "... one active owner remains" \
	"$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND role = 'owner' AND status = 'active' AND deleted_at IS NULL")" 1
