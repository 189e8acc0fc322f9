#!/bin/sh
# f10-db-restart.sh: PostgreSQL restarts while the workers are idle; then, for
# every executable that writes, more POSTs than it has workers (so each worker
# meets its dead connection): sign-in, sign-out, invite, role change,
# deactivate, plan change, integration create and toggle, API key create,
# workspace rename. Every acknowledged
# write (303) is in the database with its audit row; every refused one (the
# 503 page) left nothing.
. "$ROOT/tests/fault/lib.sh"

N=4                  # POSTs per action: twice the workers of each executable
SLACK=30000000-0000-0000-0000-000000000001
I=/w/acme/settings/integrations
P=/w/acme/settings/billing

# Four more members of Acme, viewers, for the role changes and deactivations.
sql "INSERT INTO users (id, email, full_name, is_verified)
     SELECT ('f1000000-0000-0000-0000-00000000000' || g)::uuid, 'fault' || g || '@example.com', 'Fault ' || g, true
     FROM generate_series(1, $N) g;
     INSERT INTO team_members (workspace_id, user_id, role, status, accepted_at)
     SELECT '$ACME', ('f1000000-0000-0000-0000-00000000000' || g)::uuid, 'viewer', 'active', now()
     FROM generate_series(1, $N) g" >/dev/null
member_id() { sql "SELECT id FROM team_members WHERE user_id = 'f1000000-0000-0000-0000-00000000000$1'"; }

login owner demo@example.com
get owner "$TEAM"
is "the team page answers before the restarts" "$STATUS" 200
total_acked=0; total_refused=0

# outcome KIND: counts this POST as acknowledged (303), refused (503) or wrong.
outcome() {
	case $STATUS in
	303) acked=$((acked + 1)); return 0 ;;
	503) refused=$((refused + 1)); check "$1: a refused POST is the 503 page" body_has 'temporarily unavailable'; return 1 ;;
	*) notok "$1 answered $STATUS (want 303 or 503)"; return 1 ;;
	esac
}
# report KIND BAD: BAD writes disagreed with their answers.
report() {
	is "$1: every acknowledged write is stored with its audit row, every refused one left nothing ($acked acknowledged, $refused refused)" "$2" 0
	echo "# $1: $acked acknowledged, $refused refused after a restart"
	total_acked=$((total_acked + acked)); total_refused=$((total_refused + refused))
}

# Invitations.
restart_db; acked=0; refused=0; bad=0
for i in $(seq $N); do
	post owner "$TEAM/invite" "email=restart$i@example.com" role=member
	rows=$(sql "SELECT (SELECT count(*) FROM team_members WHERE invitation_email = 'restart$i@example.com' AND status = 'pending')
	          + (SELECT count(*) FROM audit_logs WHERE action = 'team_member.invited' AND changes::text LIKE '%restart$i@%')")
	if outcome invite; then [ "$rows" = 2 ] || bad=$((bad + 1)); else [ "$rows" = 0 ] || bad=$((bad + 1)); fi
done
report invite $bad

# Role changes (viewer to member).
restart_db; acked=0; refused=0; bad=0
for i in $(seq $N); do
	m=$(member_id "$i")
	post owner "$TEAM/$m/role" role=member confirm=1
	rows=$(sql "SELECT (SELECT count(*) FROM team_members WHERE id = '$m' AND role = 'member')
	          + (SELECT count(*) FROM audit_logs WHERE action = 'team_member.role_changed' AND resource_id = '$m')")
	if outcome "role change"; then [ "$rows" = 2 ] || bad=$((bad + 1)); else [ "$rows" = 0 ] || bad=$((bad + 1)); fi
done
report "role change" $bad

# Deactivations.
restart_db; acked=0; refused=0; bad=0
for i in $(seq $N); do
	m=$(member_id "$i")
	post owner "$TEAM/$m/deactivate" confirm=1
	rows=$(sql "SELECT (SELECT count(*) FROM team_members WHERE id = '$m' AND status = 'inactive')
	          + (SELECT count(*) FROM audit_logs WHERE action = 'team_member.deactivated' AND resource_id = '$m')")
	if outcome deactivate; then [ "$rows" = 2 ] || bad=$((bad + 1)); else [ "$rows" = 0 ] || bad=$((bad + 1)); fi
done
report deactivate $bad

# Plan changes: the billing interval flips with each one.
restart_db; acked=0; refused=0; bad=0
want=$(sql "SELECT billing_interval FROM billing_config WHERE workspace_id = '$ACME'")
for i in $(seq $N); do
	if [ "$want" = monthly ]; then next=annual; else next=monthly; fi
	before=$(sql "SELECT count(*) FROM audit_logs WHERE action = 'billing.plan_changed'")
	post owner "$P/plan" plan_type=professional "billing_interval=$next" confirm=1
	after=$(sql "SELECT count(*) FROM audit_logs WHERE action = 'billing.plan_changed'")
	if outcome "plan change"; then want=$next; [ $((after - before)) = 1 ] || bad=$((bad + 1)); else [ "$after" = "$before" ] || bad=$((bad + 1)); fi
	[ "$(sql "SELECT billing_interval FROM billing_config WHERE workspace_id = '$ACME'")" = "$want" ] || bad=$((bad + 1))
done
report "plan change" $bad

# Integrations created.
restart_db; acked=0; refused=0; bad=0
for i in $(seq $N); do
	post owner "$I" integration_type=webhook "integration_name=Restart hook $i" url=https://hooks.example.com/in \
		method=POST auth_type=none timeout_ms=2000
	rows=$(sql "SELECT (SELECT count(*) FROM integrations_config WHERE integration_name = 'Restart hook $i')
	          + (SELECT count(*) FROM audit_logs a JOIN integrations_config c ON c.id = a.resource_id
	             WHERE a.action = 'integration.created' AND c.integration_name = 'Restart hook $i')")
	if outcome "integration create"; then [ "$rows" = 2 ] || bad=$((bad + 1)); else [ "$rows" = 0 ] || bad=$((bad + 1)); fi
done
report "integration create" $bad

# An integration toggled off and on.
restart_db; acked=0; refused=0; bad=0
state=$(sql "SELECT is_enabled FROM integrations_config WHERE id = '$SLACK'")
for i in $(seq $N); do
	if [ "$state" = t ]; then act=disable; next=f; else act=enable; next=t; fi
	before=$(sql "SELECT count(*) FROM audit_logs WHERE resource_id = '$SLACK' AND action = 'integration.${act}d'")
	post owner "$I/$SLACK/$act"
	after=$(sql "SELECT count(*) FROM audit_logs WHERE resource_id = '$SLACK' AND action = 'integration.${act}d'")
	if outcome "integration toggle"; then state=$next; [ $((after - before)) = 1 ] || bad=$((bad + 1)); else [ "$after" = "$before" ] || bad=$((bad + 1)); fi
	[ "$(sql "SELECT is_enabled FROM integrations_config WHERE id = '$SLACK'")" = "$state" ] || bad=$((bad + 1))
done
report "integration toggle" $bad

# API keys created.
restart_db; acked=0; refused=0; bad=0
for i in $(seq $N); do
	post owner /w/acme/settings/api-keys "name=Restart key $i" expires_in_days=30
	rows=$(sql "SELECT (SELECT count(*) FROM api_keys WHERE name = 'Restart key $i')
	          + (SELECT count(*) FROM audit_logs a JOIN api_keys k ON k.id = a.resource_id
	             WHERE a.action = 'api_key.created' AND k.name = 'Restart key $i')")
	if outcome "API key create"; then [ "$rows" = 2 ] || bad=$((bad + 1)); else [ "$rows" = 0 ] || bad=$((bad + 1)); fi
done
report "API key create" $bad

# The workspace renamed.
restart_db; acked=0; refused=0; bad=0
want=$(sql "SELECT name FROM workspaces WHERE id = '$ACME'")
for i in $(seq $N); do
	post owner /w/acme/settings/general "name=Acme Restart $i"
	rows=$(sql "SELECT count(*) FROM audit_logs WHERE action = 'workspace.renamed' AND changes::text LIKE '%Acme Restart $i\"%'")
	if outcome "workspace rename"; then want="Acme Restart $i"; [ "$rows" = 1 ] || bad=$((bad + 1)); else [ "$rows" = 0 ] || bad=$((bad + 1)); fi
	[ "$(sql "SELECT name FROM workspaces WHERE id = '$ACME'")" = "$want" ] || bad=$((bad + 1))
done
report "workspace rename" $bad

# Sign-ins: a cookie only ever names a stored session.
restart_db; acked=0; refused=0; bad=0
for i in $(seq $N); do
	rm -f "$T/in$i.jar"
	login "in$i" viewer@example.com
	h=$(session_of "in$i")
	n=0; [ -n "$h" ] && n=$(sql "SELECT count(*) FROM sessions WHERE token_hash = '$h'")
	if outcome sign-in; then [ "$n" = 1 ] || bad=$((bad + 1)); else [ -z "$h" ] || bad=$((bad + 1)); fi
done
report sign-in $bad

# Sign-outs: an acknowledged one ended its session; a refused one left it.
for i in $(seq $N); do login "out$i" member@example.com; done
restart_db; acked=0; refused=0; bad=0
for i in $(seq $N); do
	h=$(session_of "out$i")
	post "out$i" /logout
	n=$(sql "SELECT count(*) FROM sessions WHERE token_hash = '$h'")
	if outcome sign-out; then [ "$n" = 0 ] || bad=$((bad + 1)); else [ "$n" = 1 ] || bad=$((bad + 1)); fi
done
report sign-out $bad
echo "# all actions: $total_acked acknowledged, $total_refused refused"
