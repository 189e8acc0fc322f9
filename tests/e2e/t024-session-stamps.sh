#!/bin/sh
# t024-session-stamps.sh: a GET writes nothing that is not due: the activity stamps at
# most once a minute, a billing cycle only once it has ended; a deactivated or removed
# member loses access at their very next request.
. "$ROOT/tests/e2e/lib.sh"

MEMBER_TM=10000000-0000-0000-0000-000000000003
login member member@example.com
TOKEN=$(awk '$6 == "session" { print $7 }' "$T/member.jar")
SID=$(sql "SELECT id FROM sessions WHERE token_hash = '$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)'")
check "the member's session is found" test -n "$SID"
stamp() { sql "SELECT extract(epoch FROM s.last_seen_at)::bigint || '|' || coalesce(extract(epoch FROM tm.last_active_at)::bigint, 0) FROM sessions s, team_members tm WHERE s.id = '$SID' AND tm.id = '$MEMBER_TM'"; }

# Stamped 30 seconds ago: not due, so a view writes nothing.
sql "UPDATE sessions SET last_seen_at = now() - interval '30 seconds' WHERE id = '$SID';
     UPDATE team_members SET last_active_at = now() - interval '30 seconds' WHERE id = '$MEMBER_TM'" >/dev/null
before=$(stamp)
for i in 1 2 3; do get member /w/acme/settings/team; done
is "a view within the minute answers 200" "$STATUS" 200
is "... and stamps neither the session nor the membership" "$(stamp)" "$before"

# Five minutes ago: due, so the next view stamps both (after its own transaction).
sql "UPDATE sessions SET last_seen_at = now() - interval '5 minutes' WHERE id = '$SID';
     UPDATE team_members SET last_active_at = now() - interval '5 minutes' WHERE id = '$MEMBER_TM'" >/dev/null
get member /w/acme/settings/team
is "a view when the stamps are due answers 200" "$STATUS" 200
is "... and stamps the session and the membership" \
	"$(sql "SELECT s.last_seen_at > now() - interval '1 minute', tm.last_active_at > now() - interval '1 minute' FROM sessions s, team_members tm WHERE s.id = '$SID' AND tm.id = '$MEMBER_TM'")" "t|t"
before=$(stamp)
get member /w/acme/settings/team
get member /w/acme/settings/general
is "... once: the next views leave them" "$(stamp)" "$before"

# Billing: a GET whose cycle has not ended writes nothing; one whose cycle has ended closes it.
login owner demo@example.com
ACME=00000000-0000-0000-0000-000000000001
h0=$(sql "SELECT count(*) FROM usage_history WHERE workspace_id = '$ACME'")
a0=$(sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME'")
x0=$(sql "SELECT xmin FROM billing_config WHERE workspace_id = '$ACME'")
get owner /w/acme/settings/billing
is "the billing page answers 200" "$STATUS" 200
is "... and, its cycle running, writes no row" \
	"$(sql "SELECT count(*) FROM usage_history WHERE workspace_id = '$ACME'")|$(sql "SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME'")|$(sql "SELECT xmin FROM billing_config WHERE workspace_id = '$ACME'")" "$h0|$a0|$x0"
sql "UPDATE billing_config SET billing_cycle_start = current_date - 40, billing_cycle_end = current_date - 10 WHERE workspace_id = '$ACME'" >/dev/null
get owner /w/acme/settings/billing
is "a billing page whose cycle has ended answers 200" "$STATUS" 200
is "... having closed the cycle once (usage recorded, audited)" \
	"$(sql "SELECT count(*) FROM usage_history WHERE workspace_id = '$ACME'")|$(sql "SELECT count(*) - $a0 FROM audit_logs WHERE workspace_id = '$ACME' AND action = 'billing.cycle_rolled_over'")" "$((h0 + 1))|1"
is "... and the new cycle runs to today or later" \
	"$(sql "SELECT billing_cycle_end >= current_date FROM billing_config WHERE workspace_id = '$ACME'")" "t"

# Access is checked at every request: deactivated, then removed.
get member /w/acme/settings/team
is "the member sees the team page" "$STATUS" 200
sql "UPDATE team_members SET status = 'inactive' WHERE id = '$MEMBER_TM'" >/dev/null
get member /w/acme/settings/team
is "deactivated: the very next request is 404" "$STATUS" 404
sql "UPDATE team_members SET status = 'active' WHERE id = '$MEMBER_TM'" >/dev/null
get member /w/acme/settings/team
is "reactivated: 200 again" "$STATUS" 200
sql "UPDATE team_members SET deleted_at = now(), status = 'inactive' WHERE id = '$MEMBER_TM'" >/dev/null
get member /w/acme/settings/general
is "removed: the very next request is 404" "$STATUS" 404
