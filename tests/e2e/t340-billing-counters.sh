#!/bin/sh
# t340-billing-counters.sh: team_members_current and api_keys_current stay equal to the real counts after team and key changes; the page shows them.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
P=/w/acme/settings/billing
counters() { sql "SELECT team_members_current || ' ' || api_keys_current FROM billing_config WHERE workspace_id = '$ACME'"; }
real() { sql "SELECT (SELECT count(*) FROM team_members WHERE workspace_id = '$ACME' AND status = 'active' AND deleted_at IS NULL)
             || ' ' || (SELECT count(*) FROM api_keys WHERE workspace_id = '$ACME' AND revoked_at IS NULL)"; }

login o demo@example.com
is "seeded counters: 4 members, 3 keys" "$(counters)" "4 3"
is "... equal to the real counts" "$(counters)" "$(real)"

sql "UPDATE team_members SET status = 'inactive' WHERE id = '10000000-0000-0000-0000-000000000003'" >/dev/null
is "deactivating a member: 3" "$(counters)" "3 3"
get o $P
check "the page shows 4 of 25 seats (3 active, 1 pending)" body_has '4 of 25 seats — 16%'

sql "UPDATE team_members SET status = 'active', accepted_at = now() WHERE id = '10000000-0000-0000-0000-000000000005'" >/dev/null
is "accepting the pending invitation: 4" "$(counters)" "4 3"
sql "UPDATE team_members SET status = 'active' WHERE id = '10000000-0000-0000-0000-000000000006'" >/dev/null
is "reactivating the former member: 5" "$(counters)" "5 3"
sql "UPDATE team_members SET deleted_at = now() WHERE id = '10000000-0000-0000-0000-000000000004'" >/dev/null
is "removing (soft delete) the viewer: 4" "$(counters)" "4 3"
sql "INSERT INTO users (id, email) VALUES ('70000000-0000-0000-0000-000000000001', 'new@example.com');
     INSERT INTO team_members (workspace_id, user_id, role, status) VALUES ('$ACME', '70000000-0000-0000-0000-000000000001', 'member', 'active')" >/dev/null
is "adding an active member: 5" "$(counters)" "5 3"
sql "DELETE FROM team_members WHERE user_id = '70000000-0000-0000-0000-000000000001'" >/dev/null
is "deleting that row: 4" "$(counters)" "4 3"

sql "UPDATE api_keys SET revoked_at = now() WHERE id = '40000000-0000-0000-0000-000000000001'" >/dev/null
is "revoking an API key: 2" "$(counters)" "4 2"
sql "INSERT INTO api_keys (workspace_id, name, key_prefix, key_hash) VALUES ('$ACME', 'New', 'ak_live_0000', repeat('a', 64))" >/dev/null
is "adding an API key: 3" "$(counters)" "4 3"
get o $P
check "the page shows 4 of 25 seats" body_has '4 of 25 seats — 16%'
check "the page shows 3 of 10 API keys" body_has '3 of 10 API keys — 30%'

sql "UPDATE billing_config SET team_members_current = 99, api_keys_current = 99 WHERE workspace_id = '$ACME'" >/dev/null
is "a forged counter is replaced by the real count" "$(counters)" "$(real)"

sql "INSERT INTO integrations_config (workspace_id, integration_type, integration_name) VALUES ('$ACME', 'custom', 'Ops hook')" >/dev/null
get o $P
check "custom integrations count webhook and custom types: 2 of 5" body_has '2 of 5 custom integrations — 40%'

# Globex's counters are its own.
is "Globex counters untouched" "$(sql "SELECT team_members_current || ' ' || api_keys_current FROM billing_config WHERE workspace_id = '00000000-0000-0000-0000-000000000002'")" "1 0"
