#!/bin/sh
# t208-workspace-cache.sh: the team, billing and integrations pages that a worker keeps
# for a workspace (cgi/wscache.c, sql/017) are never older than the last committed
# change: after every kind of change, through the application or behind its back, every
# following view shows it; under a stream of changes no view shows an older state than
# the one committed before it was asked for; what depends on the viewer still does.
. "$ROOT/tests/e2e/lib.sh"

M_MEMBER=10000000-0000-0000-0000-000000000003
TEAM=/w/acme/settings/team
VIEWS=8     # per check: every worker (SETTINGS_WORKERS=2) serves several of them

login owner demo@example.com
login viewer viewer@example.com
login globex owner@globex.example

# views JAR PATH TEXT: all VIEWS views answer 200 and show TEXT ("all" or "k of N").
views() {
	_ok=0
	for _i in $(seq 1 $VIEWS); do
		get "$1" "$2"
		[ "$STATUS" = 200 ] && body_has "$3" && _ok=$((_ok + 1))
	done
	[ "$_ok" = "$VIEWS" ] && echo all || echo "$_ok of $VIEWS"
}
# Fill every worker's copy first.
for p in "$TEAM" /w/acme/settings/billing /w/acme/settings/integrations; do
	for _i in $(seq 1 $VIEWS); do get owner "$p"; done
done

# --- Team ---------------------------------------------------------------------
post owner "$TEAM/$M_MEMBER/role" "role=admin"
is "a role change through the page: 303" "$STATUS" 303
is "... every following view shows the new role" \
	"$(views owner "$TEAM" 'aria-label="Role of member@example.com"><option>owner</option><option selected>admin</option>')" all
sql "UPDATE users SET full_name = 'Renamed Behind The Back' WHERE email = 'member@example.com'" >/dev/null
is "a name changed in the database: every view shows it" "$(views owner "$TEAM" 'Renamed Behind The Back')" all
sql "UPDATE team_members SET last_active_at = now() - interval '3 hours' WHERE id = '$M_MEMBER'" >/dev/null
is "an activity stamp: every view shows it" "$(views owner "$TEAM" '3 hours ago')" all
sql "UPDATE billing_config SET team_members_limit = 77 WHERE workspace_id = '00000000-0000-0000-0000-000000000001'" >/dev/null
is "the seat limit changed on the billing row: every team view shows it" "$(views owner "$TEAM" 'of 77')" all

# The same kept rows, drawn for each viewer: the viewer has no forms, the owner has.
get owner "$TEAM"
check "the owner's view has the role forms" grep -q "/settings/team/$M_MEMBER/role" "$T/body"
get viewer "$TEAM"
is "the viewer's view, right after, answers 200" "$STATUS" 200
check "... without any role form" sh -c "! grep -q '/role\"' '$T/body'"
check "... and without the invite form" sh -c "! grep -q 'settings/team/invite' '$T/body'"
get owner "$TEAM"
check "the owner's view after the viewer's has the role forms again" grep -q "/settings/team/$M_MEMBER/role" "$T/body"
# Another workspace never sees Acme's rows.
for _i in $(seq 1 $VIEWS); do get globex /w/globex/settings/team; done
check "Globex's team page shows Globex's owner" body_has "owner@globex.example"
check "... and none of Acme's people" sh -c "! grep -q 'Renamed Behind The Back\|demo@example.com' '$T/body'"
get globex "$TEAM"
is "Acme's page for Globex's owner: 404" "$STATUS" 404

# --- Billing ------------------------------------------------------------------
sql "UPDATE billing_config SET traces_current_month = 123457 WHERE workspace_id = '00000000-0000-0000-0000-000000000001'" >/dev/null
is "usage counted in the database: every billing view shows it" "$(views owner /w/acme/settings/billing '123,457')" all
sql "UPDATE plan_catalog SET annual_price_usd = 4321 WHERE plan_type = 'professional'" >/dev/null
is "a price in the plan catalog: every billing view shows it" "$(views owner /w/acme/settings/billing '4,321.00')" all
# The catalog is not workspace data: the reset between tests leaves it, so put it back.
sql "UPDATE plan_catalog SET annual_price_usd = 990 WHERE plan_type = 'professional'" >/dev/null
is "... and put back: every view shows the old price again" "$(views owner /w/acme/settings/billing '990.00')" all
sql "UPDATE billing_config SET billing_cycle_start = current_date - 40, billing_cycle_end = current_date - 10 WHERE workspace_id = '00000000-0000-0000-0000-000000000001'" >/dev/null
get owner /w/acme/settings/billing
is "a cycle that ended since the page was kept: the view answers 200" "$STATUS" 200
is "... and closed the cycle" \
	"$(sql "SELECT billing_cycle_end >= current_date FROM billing_config WHERE workspace_id = '00000000-0000-0000-0000-000000000001'")" t
get viewer /w/acme/settings/billing
is "the viewer still gets 403 on billing" "$STATUS" 403

# --- Integrations -------------------------------------------------------------
sql "UPDATE integrations_config SET total_events_sent = 98765 WHERE workspace_id = '00000000-0000-0000-0000-000000000001'" >/dev/null
is "delivery counters written by the worker: every view shows them" "$(views owner /w/acme/settings/integrations '98,765')" all
ID=$(sql "SELECT id FROM integrations_config WHERE workspace_id = '00000000-0000-0000-0000-000000000001' AND is_enabled ORDER BY id LIMIT 1")
NAME=$(sql "SELECT integration_name FROM integrations_config WHERE id = '$ID'")
post owner "/w/acme/settings/integrations/$ID/disable"
is "an integration disabled through the page: 303" "$STATUS" 303
is "... every following view offers to enable it" \
	"$(views owner /w/acme/settings/integrations "/integrations/$ID/enable")" all
get viewer /w/acme/settings/integrations
check "the viewer's view has no enable form" sh -c "! grep -q '/integrations/$ID/enable' '$T/body'"

# --- Under a stream of changes ------------------------------------------------
# A writer commits "Probe 1", "Probe 2", ... as the viewer's name, and notes each
# number once it is committed. Each view, asked after reading the last number noted,
# must show that number or a later one.
echo 0 >"$T/committed"
(
	for i in $(seq 1 60); do
		sql "UPDATE users SET full_name = 'Probe $i' WHERE email = 'viewer@example.com'" >/dev/null
		echo "$i" >"$T/committed.tmp" && mv "$T/committed.tmp" "$T/committed"
	done
	echo done >"$T/writer-done"
) &
writer=$!
reads=0 older=0 failed=0
while [ ! -f "$T/writer-done" ] || [ "$reads" -lt 20 ]; do
	want=$(cat "$T/committed")
	get owner "$TEAM"
	if [ "$STATUS" != 200 ]; then failed=$((failed + 1)); continue; fi
	shown=$(sed -n 's/.*Probe \([0-9][0-9]*\).*/\1/p' "$T/body" | head -1)
	reads=$((reads + 1))
	# Before the first change, the name is not a probe yet.
	if { [ -z "$shown" ] && [ "$want" != 0 ]; } || { [ -n "$shown" ] && [ "$shown" -lt "$want" ]; }; then
		older=$((older + 1))
	fi
	[ "$reads" -gt 400 ] && break
done
wait "$writer"
is "views during 60 committed changes: none older than the last change committed before it" \
	"$older older, $failed failed" "0 older, 0 failed"
check "... over at least 20 views" test "$reads" -ge 20
is "... and the last view shows the last change" "$(views owner "$TEAM" 'Probe 60')" all
