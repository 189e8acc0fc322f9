#!/bin/sh
# t503-general-purge.sh: settings-purge erases workspaces deleted 30 days ago or more, in batches, with one summary line; younger deletions and other workspaces stay.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
globex_before=$(sql "SELECT (SELECT count(*) FROM team_members WHERE workspace_id = '$GLOBEX') || '/' ||
                            (SELECT count(*) FROM integrations_config WHERE workspace_id = '$GLOBEX') || '/' ||
                            (SELECT count(*) FROM billing_config WHERE workspace_id = '$GLOBEX')")
users_before=$(sql "SELECT count(*) FROM users")

login demo demo@example.com
post demo /w/acme/settings/general/delete slug=acme password=demo-password confirm=1
is "Acme deleted: 303" "$STATUS" 303

out=$(PURGE_BATCH=2 sh "$ROOT/scripts/settings-purge" 2>&1)
is "a deletion younger than 30 days is not purged" "$out" "0 workspace(s) purged"
is "... Acme is still there" "$(sql "SELECT count(*) FROM workspaces WHERE id = '$ACME'")" 1

sql "UPDATE workspaces SET deleted_at = now() - interval '30 days 1 minute' WHERE id = '$ACME'" >/dev/null
rows=$(sql "SELECT (SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME') + (SELECT count(*) FROM api_keys WHERE workspace_id = '$ACME')
             + (SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME') + (SELECT count(*) FROM team_members WHERE workspace_id = '$ACME')")
out=$(PURGE_BATCH=2 sh "$ROOT/scripts/settings-purge" 2>&1)
check "settings-purge reports the workspace" sh -c "printf '%s' '$out' | grep -q '^purged workspace acme: [0-9]* rows$'"
check "... and the total" sh -c "printf '%s' '$out' | grep -q '^1 workspace(s) purged$'"
is "every row of Acme is gone" \
	"$(sql "SELECT (SELECT count(*) FROM workspaces WHERE id = '$ACME') + (SELECT count(*) FROM team_members WHERE workspace_id = '$ACME')
	             + (SELECT count(*) FROM audit_logs WHERE workspace_id = '$ACME') + (SELECT count(*) FROM api_keys WHERE workspace_id = '$ACME')
	             + (SELECT count(*) FROM integrations_config WHERE workspace_id = '$ACME') + (SELECT count(*) FROM billing_config WHERE workspace_id = '$ACME')")" 0
is "one summary line, with the rows counted" \
	"$(sql "SELECT count(*) || '/' || bool_and(purged_at IS NOT NULL) || '/' || bool_and(rows_deleted > $rows) FROM workspace_purges WHERE workspace_id = '$ACME'")" "1/true/true"
is "Globex is untouched" "$(sql "SELECT (SELECT count(*) FROM team_members WHERE workspace_id = '$GLOBEX') || '/' ||
                            (SELECT count(*) FROM integrations_config WHERE workspace_id = '$GLOBEX') || '/' ||
                            (SELECT count(*) FROM billing_config WHERE workspace_id = '$GLOBEX')")" "$globex_before"
is "people keep their accounts" "$(sql "SELECT count(*) FROM users")" "$users_before"
get demo /w/acme/settings/general
is "the purged workspace answers 404" "$STATUS" 404
get demo /login
check "... and is no longer offered for restore" sh -c "! grep -q 'general/restore' '$T/body'"
out=$(sh "$ROOT/scripts/settings-purge" 2>&1)
is "a second run has nothing to do" "$out" "0 workspace(s) purged"
