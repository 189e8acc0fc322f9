#!/bin/sh
# t203-team-lifecycle.sh: deactivate, reactivate, remove, resend, revoke: confirmations, rules, access, counters.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
DEMO=00000000-0000-0000-0000-000000000001
ADMIN_USER=10000000-0000-0000-0000-000000000002
MEMBER_USER=10000000-0000-0000-0000-000000000003
M_OWNER=10000000-0000-0000-0000-000000000001
M_ADMIN=10000000-0000-0000-0000-000000000002
M_MEMBER=10000000-0000-0000-0000-000000000003
M_VIEWER=10000000-0000-0000-0000-000000000004
M_PENDING=10000000-0000-0000-0000-000000000005
M_FORMER=10000000-0000-0000-0000-000000000006
M_GLOBEX=10000000-0000-0000-0000-000000000007
TEAM=/w/acme/settings/team
OLD_HASH=$(printf '%s' dev-invite-token-pending-example-com | sha256sum | cut -d' ' -f1)

status_of() { sql "SELECT status, deleted_at IS NOT NULL FROM team_members WHERE id = '$1'"; }
state() { sql "SELECT md5(string_agg(concat_ws('|', t.id, t.workspace_id, t.user_id, t.role, t.status, t.invitation_email, t.invitation_token, t.invitation_expires_at, t.invited_by, t.updated_by, t.accepted_at, t.deleted_at, t.deleted_by), ',' ORDER BY t.id)) || (SELECT count(*) FROM audit_logs) FROM team_members t"; }
audit() { sql "SELECT count(*) FROM audit_logs WHERE action = '$1' AND resource_id = '$2' AND user_id IS NOT NULL"; }
counter() {
	sql "SELECT team_members_current, (SELECT count(*) FROM team_members WHERE workspace_id = '$ACME'
	       AND status = 'active' AND deleted_at IS NULL) FROM billing_config WHERE workspace_id = '$ACME'"
}

login owner demo@example.com
login admin admin@example.com
login member member@example.com
get member "$TEAM"
is "the member can see the team page" "$STATUS" 200

# --- Deactivate ----------------------------------------------------------------
s0=$(state)
get owner "$TEAM/$M_MEMBER/deactivate"
is "GET .../deactivate is the confirmation page" "$STATUS" 200
check "... saying what will happen" body_has "Member User will lose access to Acme Corp at their next request."
check "... with a confirming POST form" sh -c "grep -q 'action=\"$TEAM/$M_MEMBER/deactivate\"' '$T/body' && grep -q 'name=\"confirm\" value=\"1\"' '$T/body'"
check "... valid HTML" tidy_ok
post owner "$TEAM/$M_MEMBER/deactivate"
is "POST without confirm=1: the confirmation page again (200)" "$STATUS" 200
is "... nothing changed" "$(state)" "$s0"
post owner "$TEAM/$M_MEMBER/deactivate" "confirm=1"
is "confirmed deactivation: 303" "$STATUS" 303
is "... inactive, not deleted" "$(status_of "$M_MEMBER")" "inactive|f"
is "... audit row" "$(audit team_member.deactivated "$M_MEMBER")" 1
is "... counter is the real count (3)" "$(counter)" "3|3"
get member "$TEAM"
is "the deactivated member loses access at their next request (404)" "$STATUS" 404
post owner "$TEAM/$M_MEMBER/deactivate" "confirm=1"
is "deactivating an inactive member: 409" "$STATUS" 409
check "... saying so" body_has "is already inactive"

# --- Reactivate ----------------------------------------------------------------
post owner "$TEAM/$M_MEMBER/reactivate"
is "reactivating (not destructive, no confirmation): 303" "$STATUS" 303
is "... active again" "$(status_of "$M_MEMBER")" "active|f"
is "... audit row" "$(audit team_member.reactivated "$M_MEMBER")" 1
is "... counter 4" "$(counter)" "4|4"
get member "$TEAM"
is "the member has access again" "$STATUS" 200
post owner "$TEAM/$M_MEMBER/reactivate"
is "reactivating an active member: 409" "$STATUS" 409
used=$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status IN ('active', 'pending') AND deleted_at IS NULL")
sql "UPDATE billing_config SET team_members_limit = $used WHERE workspace_id = '$ACME'" >/dev/null
s1=$(state)
post owner "$TEAM/$M_FORMER/reactivate"
is "reactivating with every seat taken: 409" "$STATUS" 409
check "... naming the limit and pointing the owner to billing" sh -c "grep -q 'Your plan allows $used seats' '$T/body' && grep -q 'href=\"/w/acme/settings/billing\"' '$T/body'"
is "... nothing changed" "$(state)" "$s1"
sql "UPDATE billing_config SET team_members_limit = 25 WHERE workspace_id = '$ACME'" >/dev/null

# --- Remove -------------------------------------------------------------------
s2=$(state)
post owner "$TEAM/$M_MEMBER/remove"
is "remove without confirm=1: 200 confirmation" "$STATUS" 200
check "... says it cannot be undone but they can be invited again" sh -c "grep -q 'This cannot be undone' '$T/body' && grep -q 'invite them again' '$T/body'"
is "... nothing changed" "$(state)" "$s2"
post owner "$TEAM/$M_MEMBER/remove" "confirm=1"
is "confirmed removal: 303" "$STATUS" 303
is "... a soft delete by the owner" \
	"$(sql "SELECT status, deleted_at IS NOT NULL, deleted_by FROM team_members WHERE id = '$M_MEMBER'")" "inactive|t|$DEMO"
is "... audit row" "$(audit team_member.removed "$M_MEMBER")" 1
is "... counter 3" "$(counter)" "3|3"
get member "$TEAM"
is "the removed member loses access at their next request (404)" "$STATUS" 404
get owner "$TEAM"
check "the removed member is no longer listed" sh -c "! grep -q member@example.com '$T/body'"
post owner "$TEAM/$M_MEMBER/reactivate"
is "acting on a removed member: 404" "$STATUS" 404
post owner "$TEAM/invite" "email=member@example.com" "role=viewer"
is "a removed person can be invited again" "$STATUS" 303
is "... a new pending row for the same account, the old one kept" \
	"$(sql "SELECT count(*) FILTER (WHERE deleted_at IS NULL AND status = 'pending'), count(*) FILTER (WHERE deleted_at IS NOT NULL)
	         FROM team_members WHERE workspace_id = '$ACME' AND user_id = '$MEMBER_USER'")" "1|1"

# --- Resend -------------------------------------------------------------------
mails0=$(ls "$VAR/mail" 2>/dev/null | wc -l)
sql "UPDATE team_members SET invitation_expires_at = now() - interval '1 day' WHERE id = '$M_PENDING'" >/dev/null
get owner "$TEAM"
check "an expired invitation is marked as expired" sh -c "sed -n '/id=\"pending-heading\"/,/<\/section>/p' '$T/body' | grep -q 'expired'"
post owner "$TEAM/$M_PENDING/resend"
is "resend: 303" "$STATUS" 303
is "... a new token hash, a new 7-day expiry" \
	"$(sql "SELECT invitation_token <> '$OLD_HASH', invitation_token ~ '^[0-9a-f]{64}$',
	               invitation_expires_at > now() + interval '6 days 23 hours', status
	          FROM team_members WHERE id = '$M_PENDING'")" "t|t|t|pending"
is "... the old link is dead: no row has its hash" "$(sql "SELECT count(*) FROM team_members WHERE invitation_token = '$OLD_HASH'")" 0
is "... audit row" "$(audit team_member.invitation_resent "$M_PENDING")" 1
is "... an email was sent" "$(( $(ls "$VAR/mail" | wc -l) - mails0 ))" 1
get owner "$TEAM"
link=$(sed -n 's|.*<code class="copy" id="invite-link">\([^<]*\)</code>.*|\1|p' "$T/body" | head -1)
token=${link#*token=}
is "the page shows the new link, whose hash is stored" \
	"$(sql "SELECT count(*) FROM team_members WHERE id = '$M_PENDING' AND invitation_token = encode(sha256(convert_to('$token', 'UTF8')), 'hex')")" 1
is "... whose Referer never carries it" "$(header Referrer-Policy)" "strict-origin"
post owner "$TEAM/$M_VIEWER/resend"
is "resending to an active member: 409" "$STATUS" 409

# --- Revoke -------------------------------------------------------------------
s3=$(state)
post owner "$TEAM/$M_PENDING/revoke"
is "revoke without confirm=1: 200 confirmation" "$STATUS" 200
check "... says the link will stop working" body_has "The invitation link will stop working"
is "... nothing changed" "$(state)" "$s3"
seats0=$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status IN ('active', 'pending') AND deleted_at IS NULL")
post owner "$TEAM/$M_PENDING/revoke" "confirm=1"
is "confirmed revoke: 303" "$STATUS" 303
is "... a soft delete" "$(status_of "$M_PENDING")" "pending|t"
is "... the seat is free again" \
	"$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status IN ('active', 'pending') AND deleted_at IS NULL")" "$((seats0 - 1))"
is "... audit row" "$(audit team_member.invitation_revoked "$M_PENDING")" 1
post owner "$TEAM/$M_PENDING/revoke" "confirm=1"
is "revoking twice: 404 (it is gone)" "$STATUS" 404
post owner "$TEAM/$M_VIEWER/revoke" "confirm=1"
is "revoking an active member: 409" "$STATUS" 409
post owner "$TEAM/$M_FORMER/remove"
is "an inactive member can be removed (confirmation first)" "$STATUS" 200
pending2=$(sql "SELECT id FROM team_members WHERE workspace_id = '$ACME' AND user_id = '$MEMBER_USER' AND deleted_at IS NULL")
post owner "$TEAM/$pending2/remove" "confirm=1"
is "removing a pending invitation: 409 (revoke instead)" "$STATUS" 409
check "... saying so" body_has "revoke the invitation instead"
post owner "$TEAM/$pending2/deactivate" "confirm=1"
is "deactivating a pending invitation: 409" "$STATUS" 409

# --- Owners: only owners act on them; the last one stays ---------------------
s4=$(state)
post admin "$TEAM/$M_OWNER/deactivate" "confirm=1"
is "an admin deactivating an owner: 403" "$STATUS" 403
post admin "$TEAM/$M_OWNER/remove" "confirm=1"
is "an admin removing an owner: 403" "$STATUS" 403
post owner "$TEAM/$M_OWNER/deactivate" "confirm=1"
is "the last owner deactivating themself: 409" "$STATUS" 409
post owner "$TEAM/$M_OWNER/remove" "confirm=1"
is "the last owner removing themself: 409" "$STATUS" 409
get owner "$TEAM/$M_OWNER/remove"
is "... refused already at the confirmation step" "$STATUS" 409
is "none of that changed anything" "$(state)" "$s4"
post owner "$TEAM/invite" "email=heir@example.com" "role=owner"
heir=$(sql "SELECT id FROM team_members WHERE invitation_email = 'heir@example.com'")
post admin "$TEAM/$heir/revoke" "confirm=1"
is "an admin revoking an owner invitation: 403" "$STATUS" 403
post admin "$TEAM/$heir/resend"
is "an admin resending an owner invitation: 403" "$STATUS" 403
is "... still pending and not deleted" "$(status_of "$heir")" "pending|f"

# --- Other workspaces: every action is a 404 and changes nothing --------------
g0=$(sql "SELECT md5(concat_ws('|', t.id, t.workspace_id, t.user_id, t.role, t.status, t.invitation_email, t.invitation_token, t.invitation_expires_at, t.invited_by, t.updated_by, t.accepted_at, t.deleted_at, t.deleted_by)) FROM team_members t WHERE id = '$M_GLOBEX'")
for a in deactivate reactivate remove resend revoke; do
	post owner "$TEAM/$M_GLOBEX/$a" "confirm=1"
	is "$a on a Globex member id from Acme: 404" "$STATUS" 404
	get owner "$TEAM/$M_GLOBEX/$a"
	is "... its confirmation page too" "$STATUS" 404
done
is "the Globex member is unchanged" "$(sql "SELECT md5(concat_ws('|', t.id, t.workspace_id, t.user_id, t.role, t.status, t.invitation_email, t.invitation_token, t.invitation_expires_at, t.invited_by, t.updated_by, t.accepted_at, t.deleted_at, t.deleted_by)) FROM team_members t WHERE id = '$M_GLOBEX'")" "$g0"
for a in deactivate remove; do
	post member "$TEAM/$M_VIEWER/$a" "confirm=1"
done
is "a removed member's old session cannot act either (404)" "$STATUS" 404

# --- Leaving: an admin deactivates themself ----------------------------------
post admin "$TEAM/$M_ADMIN/deactivate"
check "deactivating yourself warns that you lose access at once" body_has "You will lose access to Acme Corp at once."
post admin "$TEAM/$M_ADMIN/deactivate" "confirm=1"
is "confirmed: 303" "$STATUS" 303
is "... to the sign-in page, since the team page is gone for them" "$(header Location)" "/login"
get admin "$TEAM"
is "... and the next request is a 404" "$STATUS" 404
is "the counter matches the real count at the end" "$(counter | awk -F'|' '{ print ($1 == $2) }')" 1
is "every action wrote one audit row by the person who did it" \
	"$(sql "SELECT count(*) FROM audit_logs WHERE action LIKE 'team_member.%' AND action <> 'team_member.invitation_accepted' AND user_id IN ('$DEMO', '$ADMIN_USER')")" \
	"$(sql "SELECT count(*) FROM audit_logs WHERE action LIKE 'team_member.%' AND action <> 'team_member.invitation_accepted'")"
