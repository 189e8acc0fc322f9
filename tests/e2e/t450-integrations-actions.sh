#!/bin/sh
# t450-integrations-actions.sh: the enable/disable toggle, delete through a
# confirmation step, and every action on another workspace's integration
# (or an unknown id) answering 404 with nothing changed.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
login demo demo@example.com

SLACK=30000000-0000-0000-0000-000000000001
SENTRY=30000000-0000-0000-0000-000000000004
FOREIGN=30000000-0000-0000-0000-000000000005
enabled() { sql "SELECT is_enabled FROM integrations_config WHERE id = '$1'"; }

# Toggle.
post demo "$I/$SLACK/disable"
is "disable: 303" "$STATUS|$(location)" "303|$I"
is "disable: stored" "$(enabled $SLACK)" f
is "disable: audited old and new" "$(sql "SELECT changes::text FROM audit_logs WHERE action = 'integration.disabled' AND resource_id = '$SLACK'")" '{"new": {"is_enabled": false}, "old": {"is_enabled": true}}'
is "disable: by whom" "$(sql "SELECT updated_by FROM integrations_config WHERE id = '$SLACK'")" 00000000-0000-0000-0000-000000000001
get demo "$I"
check "list: notice and an Enable button for it" sh -c "grep -qF '“Engineering Alerts” disabled' '$T/body' && grep -qF '$I/$SLACK/enable' '$T/body' && ! grep -qF '$I/$SLACK/disable' '$T/body'"
post demo "$I/$SLACK/disable"
is "disable twice: 303" "$STATUS" 303
is "disable twice: no second audit row" "$(audits integration.disabled "$SLACK")" 1
post demo "$I/$SLACK/enable"
is "enable: stored" "$(enabled $SLACK)" t
is "enable: audited" "$(audits integration.enabled "$SLACK")" 1
login admin admin@example.com
post admin "$I/$SENTRY/enable"
is "admin enables the disabled Sentry" "$(enabled $SENTRY)" t

# Delete: a confirmation step that needs no JavaScript.
get demo "$I/$SENTRY/delete"
is "delete confirmation page: 200" "$STATUS" 200
check "confirmation names it and posts confirm=1" sh -c "grep -qF 'Delete “Error Tracking”?' '$T/body' && grep -qF 'name=\"confirm\" value=\"1\"' '$T/body' && grep -qF 'action=\"$I/$SENTRY/delete\"' '$T/body'"
post demo "$I/$SENTRY/delete"
is "delete without confirm: the confirmation again (200)" "$STATUS" 200
is "delete without confirm: still there" "$(sql "SELECT count(*) FROM integrations_config WHERE id = '$SENTRY'")" 1
post demo "$I/$SENTRY/delete" confirm=1
is "delete confirmed: 303" "$STATUS|$(location)" "303|$I"
is "delete confirmed: gone" "$(sql "SELECT count(*) FROM integrations_config WHERE id = '$SENTRY'")" 0
is "delete: audited with the old values" "$(sql "SELECT changes->'old'->>'integration_name', changes->'old'->'config_data'->>'environment' FROM audit_logs WHERE action = 'integration.deleted' AND resource_id = '$SENTRY'")" "Error Tracking|production"
get demo "$I"
check "list: deleted notice, row gone" sh -c "grep -qF 'Sentry integration “Error Tracking” deleted.' '$T/body' && ! grep -qF 'id=\"integration-$SENTRY\"' '$T/body'"
post demo "$I/$SENTRY/delete" confirm=1
is "delete again: 404" "$STATUS" 404

# CSRF: a POST without the form's token changes nothing.
post_raw demo "$I/$SLACK/disable"
is "no CSRF token: 403" "$STATUS" 403
is "no CSRF token: still enabled" "$(enabled $SLACK)" t

# Another workspace's integration id through this workspace's address: 404, nothing changed.
state() { sql "SELECT md5(i::text) FROM integrations_config i WHERE id = '$FOREIGN'"; }
s0=$(state); a0=$(sql "SELECT count(*) FROM audit_logs")
get demo "$I/$FOREIGN"
is "foreign id: edit form 404" "$STATUS" 404
check "404 page says why" body_has "no such integration in this workspace"
get demo "$I/$FOREIGN/delete"
is "foreign id: delete page 404" "$STATUS" 404
post demo "$I/$FOREIGN" "integration_name=Hijacked" channel_id=C01234567
is "foreign id: update 404" "$STATUS" 404
for a in enable disable test; do
	post demo "$I/$FOREIGN/$a"
	is "foreign id: $a 404" "$STATUS" 404
done
post demo "$I/$FOREIGN/delete" confirm=1
is "foreign id: delete 404" "$STATUS" 404
for p in "$I/not-a-uuid" "$I/ffffffff-ffff-4fff-bfff-ffffffffffff"; do
	get demo "$p"
	is "unknown id $p: 404" "$STATUS" 404
	post demo "$p/disable"
	is "unknown id $p: disable 404" "$STATUS" 404
done
get demo "/w/globex/settings/integrations/$FOREIGN"
is "non-member workspace: 404" "$STATUS" 404
post demo "/w/globex/settings/integrations/$FOREIGN/disable"
is "non-member workspace: disable 404" "$STATUS" 404
is "the foreign integration is unchanged" "$(state)" "$s0"
is "no audit row for any refused attempt" "$(sql "SELECT count(*) FROM audit_logs")" "$a0"

# And the other way round: Globex's owner cannot reach Acme's integrations.
login globex owner@globex.example
s1=$(sql "SELECT md5(i::text) FROM integrations_config i WHERE id = '$SLACK'")
get globex "/w/globex/settings/integrations/$SLACK"
is "acme id under globex: 404" "$STATUS" 404
post globex "/w/globex/settings/integrations/$SLACK/disable"
is "acme id under globex: disable 404" "$STATUS" 404
post globex "/w/globex/settings/integrations/$SLACK/delete" confirm=1
is "acme id under globex: delete 404" "$STATUS" 404
post globex "/w/globex/settings/integrations/$SLACK" "integration_name=Hijacked" channel_id=C01234567
is "acme id under globex: update 404" "$STATUS" 404
is "acme integration unchanged" "$(sql "SELECT md5(i::text) FROM integrations_config i WHERE id = '$SLACK'")" "$s1"
post globex /w/globex/settings/integrations/$FOREIGN/disable
is "globex owner manages its own" "$(enabled $FOREIGN)" f
is "its audit row is in its own workspace" "$(sql "SELECT workspace_id FROM audit_logs WHERE action = 'integration.disabled' AND resource_id = '$FOREIGN'")" "$GLOBEX"

# Methods the routes do not take.
req demo PUT "$I"
is "PUT on the list: 405" "$STATUS" 405
