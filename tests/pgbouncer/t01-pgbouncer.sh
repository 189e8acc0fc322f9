#!/bin/sh
# t01-pgbouncer.sh: through PgBouncer in transaction pooling: every executable's
# connection is pooled onto two server connections; nothing of one transaction (the
# workspace setting row-level security reads, a prepared statement) is left on a
# server connection for the next; a change and its audit row commit together.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/scripts/pgbouncer.sh"
ACME=00000000-0000-0000-0000-000000000001
M_MEMBER=10000000-0000-0000-0000-000000000003
TEAM=/w/acme/settings/team
pgb() { as_user psql -X -q -tAc "$1" "$(PGB_URL)"; }
admin() { as_user psql -X -q -tA -F' ' -c "$1" "host=$VAR/pgb port=$PGB_PORT dbname=pgbouncer user=postgres"; }

login o demo@example.com
is "signing in through PgBouncer answers 303" "$STATUS" 303
get o "$TEAM"
is "the team page answers 200" "$STATUS" 200
get o /w/globex/settings/team
is "another workspace's page is still a 404" "$STATUS" 404

clients=$(admin "SHOW CLIENTS" | grep -c '^C settings_app settings ')
check "every worker's connection is a PgBouncer client ($clients)" test "$clients" -ge 10
servers=$(sql "SELECT count(*) FROM pg_stat_activity WHERE usename = 'settings_app'")
check "... served by at most two server connections ($servers)" test "$servers" -le 2
check "PgBouncer runs in transaction pooling" sh -c "grep -q '^pool_mode = transaction' '$VAR/pgb/pgbouncer.ini'"

# After many pages for two workspaces, a fresh transaction on a pooled server
# connection sees no workspace and no prepared statement.
for i in 1 2 3 4 5 6; do get o "$TEAM"; get o /w/acme/settings/billing; done
for i in 1 2 3 4; do
	is "a pooled server connection carries no workspace setting ($i)" \
		"$(pgb "SELECT coalesce(current_setting('app.current_workspace_id', true), '')")" ""
	is "... and no prepared statement ($i)" "$(pgb "SELECT count(*) FROM pg_prepared_statements")" 0
done
is "without the setting, row-level security shows the app no team" "$(pgb "SELECT count(*) FROM team_members")" 0

# A change and its audit row, in one transaction through the pool.
post o "$TEAM/$M_MEMBER/role" "role=admin"
is "a role change answers 303" "$STATUS" 303
is "... stored with its audit row" \
	"$(sql "SELECT tm.role, (SELECT count(*) FROM audit_logs a WHERE a.resource_id = tm.id
	         AND a.action LIKE 'team_member.role%') FROM team_members tm WHERE tm.id = '$M_MEMBER'")" "admin|1"
# Prepared statements are what transaction pooling cannot carry: a worker that prepares
# them on one server connection finds them missing on the next (PgBouncer 1.18).
out=$(as_user env DATABASE_URL="$(PGB_URL)" SETTINGS_DB_STATEMENTS=bogus SETTINGS_TEMPLATES="$ROOT/templates" \
	REQUEST_METHOD=GET REQUEST_URI=/healthz "$BUILD/bin/auth" 2>&1)
check "SETTINGS_DB_STATEMENTS takes only prepared or unnamed" sh -c "echo '$out' | grep -q 'must be prepared or unnamed'"
