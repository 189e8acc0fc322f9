#!/bin/sh
# t325-billing-plan-race.sh: a downgrade that races a team change waits for it and
# counts its seats (both take the workspace's team lock first).
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/billing

login o demo@example.com
# Traces well under every limit: seats are the only thing a downgrade can exceed.
sql "UPDATE billing_config SET traces_current_month = 1000 WHERE workspace_id = '$ACME'" >/dev/null
is "the workspace starts on Professional with 5 seats in use" \
	"$(sql "SELECT plan_type, team_members_current FROM billing_config WHERE workspace_id = '$ACME'")" "professional|4"

# A team change in flight: it holds the workspace's team lock, as every team
# action does, while it adds six invitations (5 seats in use become 11, over
# Starter's 10), and commits two seconds later.
psql_super >"$T/inflight.out" 2>&1 <<SQL &
BEGIN;
SELECT 1 FROM workspaces WHERE id = '$ACME' FOR NO KEY UPDATE;
SELECT pg_sleep(2);
INSERT INTO users (email) SELECT format('racer%s@example.com', i) FROM generate_series(1, 6) i;
INSERT INTO team_members (workspace_id, user_id, role, status, invitation_email, invitation_expires_at)
SELECT '$ACME', u.id, 'member', 'pending', u.email, now() + interval '7 days'
  FROM users u WHERE u.email LIKE 'racer%@example.com';
COMMIT;
SQL
inflight=$!
sleep 0.5
t0=$(date +%s%N)
post o "$P/plan" plan_type=starter billing_interval=monthly confirm=1
t1=$(date +%s%N)
wait "$inflight"
is "the downgrade sees the invitations committed meanwhile: 409" "$STATUS" 409
check "... naming the seats now in use" body_has "Team members: 4 active and 7 pending invitations"
check "... after waiting for the team change (about 1.5 s)" test $(((t1 - t0) / 1000000)) -ge 1000
is "the plan is unchanged" "$(sql "SELECT plan_type FROM billing_config WHERE workspace_id = '$ACME'")" "professional"
is "the in-flight change committed" "$(sql "SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status = 'pending'")" 7
