#!/bin/sh
# t410-integrations-roles.sh: the integrations list for every role; management
# only for owners and admins (403 for members and viewers on every management
# GET and POST, with nothing changed); other workspaces stay invisible.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"

SLACK=30000000-0000-0000-0000-000000000001
HOOK=30000000-0000-0000-0000-000000000003

get anon "$I"
is "no session: 303" "$STATUS" 303
case "$(location)" in /login\?next=*integrations*) ok "no session: to the sign-in page with next" ;; *) notok "no session: to the sign-in page with next" "$(location)" ;; esac

for who in demo admin member viewer; do
	login "$who" "$who@example.com"
	get "$who" "$I"
	is "$who: list 200" "$STATUS" 200
	check "$who: seeded integrations listed" sh -c "grep -qF 'Engineering Alerts' '$T/body' && grep -qF 'Production Incidents' '$T/body' && grep -qF 'Custom Analytics Endpoint' '$T/body' && grep -qF 'Error Tracking' '$T/body'"
	check "$who: not another workspace's" sh -c "! grep -qF 'Globex Alerts' '$T/body'"
	is "$who: no-store" "$(header Cache-Control)" "no-store"
done

# What everybody sees: health with its message, errors, counts, times relative and absolute.
get viewer "$I"
check "health and its message" sh -c "grep -qF 'Health: degraded' '$T/body' && grep -qF 'Intermittent timeouts detected (3/10 recent requests)' '$T/body'"
check "health of the others: unknown without their secrets, and why" sh -c "grep -qF 'Health: unknown' '$T/body' && grep -qF 'No bot token set: nothing can be delivered until it is.' '$T/body' && ! grep -qF 'Health: healthy' '$T/body'"
check "last error and its message" body_has "Request timeout after 5000ms"
check "events sent and errors, grouped" sh -c "grep -qF '1,247' '$T/body' && grep -qF '892' '$T/body' && grep -qF '<dd>23</dd>' '$T/body'"
check "enabled and disabled shown" sh -c "grep -qF '>Enabled<' '$T/body' && grep -qF '>Disabled<' '$T/body'"
check "times are <time datetime> elements" grep -qE '<time datetime="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z">' "$T/body"
check "relative time (last sync 5 minutes ago)" body_has "5 minutes ago</time>"
check "absolute time in words, in UTC, beside it" grep -qE '</time> \([0-9]{1,2} [A-Z][a-z]+ [0-9]{4}, [0-9]{2}:[0-9]{2} UTC\)' "$T/body"
check "never-checked shows Never" body_has "<dt>Last health check</dt><dd>Never</dd>"
check "secrets: not set" body_has "Bot token: not set"
check "viewer: no controls" sh -c "! grep -qE 'Send test event|/disable\"|/enable\"|Add an integration|>Edit<' '$T/body'"
check "viewer: told who may manage" body_has "only an owner or admin can"
get member "$I"
check "member: no controls" sh -c "! grep -qE 'Send test event|/disable\"|Add an integration' '$T/body'"
for who in demo admin; do
	get "$who" "$I"
	check "$who: controls" sh -c "grep -qF 'Send test event' '$T/body' && grep -qF '/$HOOK/disable' '$T/body' && grep -qF '/30000000-0000-0000-0000-000000000004/enable' '$T/body' && grep -qF 'Add an integration' '$T/body' && grep -qF '/$SLACK/delete' '$T/body'"
	check "$who: plan limit shown" body_has "1 in use of 5 allowed by the plan"
done

# Members and viewers: 403 on every management route, nothing changed.
before=$(sql "SELECT md5(string_agg(i::text, '' ORDER BY id)) FROM integrations_config i")
audits_before=$(sql "SELECT count(*) FROM audit_logs")
for who in member viewer; do
	for p in "$I/new?type=slack" "$I/new" "$I/$SLACK" "$I/$SLACK/delete"; do
		get "$who" "$p"
		is "$who: GET $p is 403" "$STATUS" 403
	done
	check "$who: the 403 names the roles needed" body_has "owner or admin"
	post "$who" "$I" integration_type=slack integration_name=Sneaky channel_id=C01234567 bot_token=xoxb-1234567890-abcdef
	is "$who: create 403" "$STATUS" 403
	post "$who" "$I/$SLACK" integration_name=Renamed channel_id=C01234567
	is "$who: update 403" "$STATUS" 403
	for a in enable disable test; do
		post "$who" "$I/$HOOK/$a"
		is "$who: $a 403" "$STATUS" 403
	done
	post "$who" "$I/$SLACK/delete" confirm=yes
	is "$who: delete 403" "$STATUS" 403
done
is "403s changed no integration" "$(sql "SELECT md5(string_agg(i::text, '' ORDER BY id)) FROM integrations_config i")" "$before"
is "403s wrote no audit row" "$(sql "SELECT count(*) FROM audit_logs")" "$audits_before"

# The forms for owners and admins.
for who in demo admin; do
	get "$who" "$I/new?type=webhook"
	is "$who: new form 200" "$STATUS" 200
	get "$who" "$I/$SLACK"
	is "$who: edit form 200" "$STATUS" 200
	check "$who: edit form filled from the database" sh -c "grep -qF 'value=\"C01234567\"' '$T/body' && grep -qF 'value=\"#agent-alerts\"' '$T/body'"
done
get demo "$I/new"
is "new without a type: the chooser" "$STATUS" 200
check "chooser lists every type" sh -c "for t in slack pagerduty webhook sentry datadog custom; do grep -qF \"new?type=\$t\" '$T/body' || exit 1; done"
get demo "$I/new?type=nonsense"
is "new with an unknown type: 400 with the chooser" "$STATUS" 400

# Another workspace: not a member → 404; its owner sees only its own.
get demo /w/globex/settings/integrations
is "non-member workspace: 404" "$STATUS" 404
login globex owner@globex.example
get globex /w/globex/settings/integrations
is "globex owner: 200" "$STATUS" 200
check "globex owner sees Globex Alerts only" sh -c "grep -qF 'Globex Alerts' '$T/body' && ! grep -qF 'Engineering Alerts' '$T/body'"
check "globex: starter limit shown" body_has "0 in use of 2 allowed by the plan"
get globex "$I"
is "globex owner on acme: 404" "$STATUS" 404
