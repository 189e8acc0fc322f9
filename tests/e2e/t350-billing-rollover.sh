#!/bin/sh
# t350-billing-rollover.sh: an ended billing cycle closes on the next read (and with `billing --rollover`): usage_history, counter reset, next cycle, audited, once.
. "$ROOT/tests/e2e/lib.sh"

ACME=00000000-0000-0000-0000-000000000001
GLOBEX=00000000-0000-0000-0000-000000000002
P=/w/acme/settings/billing
row() { sql "SELECT $1 FROM billing_config WHERE workspace_id = '${2:-$ACME}'"; }
history() { sql "SELECT cycle_start || ' ' || cycle_end || ' ' || traces FROM usage_history WHERE workspace_id = '${1:-$ACME}' ORDER BY cycle_start"; }

login o demo@example.com
get o $P
is "a current cycle does not roll over" "$(history)" ""

sql "UPDATE billing_config SET billing_cycle_start = current_date - 40, billing_cycle_end = current_date - 10,
            next_billing_date = current_date - 9 WHERE workspace_id = '$ACME'" >/dev/null
want_hist=$(sql "SELECT (current_date - 40) || ' ' || (current_date - 10) || ' 650000'")
get o $P
is "the page still answers 200" "$STATUS" 200
is "the old figure is recorded in usage_history" "$(history)" "$want_hist"
is "the monthly counter is reset" "$(row traces_current_month)" 0
is "the cycle advanced by one month" "$(row "(billing_cycle_start = current_date - 9) || ' ' || (billing_cycle_end = (current_date - 9 + interval '1 month' - interval '1 day')::date)")" "true true"
is "next billing date is the day after the new end" "$(row "next_billing_date = billing_cycle_end + 1")" t
is "usage_reset_at is set" "$(row "usage_reset_at > now() - interval '1 minute'")" t
check "the page shows the reset counter" body_has '0 of 1,000,000 traces — 0%'
is "the rollover is audited" "$(sql "SELECT (changes->'usage_recorded'->>'traces') || ' ' || (changes->'old'->>'traces_current_month') || '>' || (changes->'new'->>'traces_current_month') FROM audit_logs WHERE action = 'billing.cycle_rolled_over' AND workspace_id = '$ACME'")" "650000 650000>0"

sql "UPDATE billing_config SET traces_current_month = 1234 WHERE workspace_id = '$ACME'" >/dev/null
get o $P
is "a second read does not roll over again" "$(sql "SELECT count(*) FROM usage_history WHERE workspace_id = '$ACME'")" 1
is "... and keeps the new cycle's counter" "$(row traces_current_month)" 1234

# Five owners' requests at the turn of the cycle: it closes once.
sql "DELETE FROM usage_history; UPDATE billing_config SET billing_cycle_start = current_date - 35, billing_cycle_end = current_date - 5,
            traces_current_month = 4321 WHERE workspace_id = '$ACME'" >/dev/null
for i in 1 2 3 4 5; do
	curl -sS -o /dev/null -w '%{http_code}\n' -b "$T/o.jar" "$BASE$P" >"$T/par$i" &
done
wait
is "five simultaneous reads after the cycle ended: all 200" "$(cat "$T"/par1 "$T"/par2 "$T"/par3 "$T"/par4 "$T"/par5 | sort -u)" 200
is "... one usage_history row with the old figure" "$(sql "SELECT count(*) || ' ' || sum(traces) FROM usage_history WHERE workspace_id = '$ACME'")" "1 4321"
is "... one rollover audit row for it" "$(sql "SELECT count(*) FROM audit_logs WHERE action = 'billing.cycle_rolled_over' AND workspace_id = '$ACME' AND changes->'usage_recorded'->>'traces' = '4321'")" 1

# Several months without a read: one history row covering the whole gap; the new cycle contains today.
sql "DELETE FROM usage_history; UPDATE billing_config SET billing_cycle_start = current_date - 100, billing_cycle_end = current_date - 70,
            traces_current_month = 777 WHERE workspace_id = '$ACME'" >/dev/null
post o $P/resume
is "a POST rolls over too (303)" "$STATUS" 303
is "one history row from the old start to the day before the new cycle" "$(sql "SELECT (cycle_start = current_date - 100) || ' ' || (cycle_end = (SELECT billing_cycle_start - 1 FROM billing_config WHERE workspace_id = '$ACME')) || ' ' || traces FROM usage_history")" "true true 777"
is "the new cycle contains today" "$(row "billing_cycle_start <= current_date AND billing_cycle_end >= current_date AND billing_cycle_end < current_date + 31")" t

# A cancellation whose date has passed takes effect at the rollover.
sql "DELETE FROM usage_history; UPDATE billing_config SET billing_cycle_start = current_date - 31, billing_cycle_end = current_date - 1,
            cancellation_requested = true, cancellation_effective_date = current_date - 1, auto_renew = false WHERE workspace_id = '$ACME'" >/dev/null
get o $P
is "the ended cancellation: canceled" "$(row "plan_status || ' ' || cancellation_requested || ' ' || coalesce(next_billing_date::text, 'none')")" "canceled false none"
check "the page says it has ended" body_has 'This subscription has ended'
is "audited as the subscription's end" "$(sql "SELECT count(*) FROM audit_logs WHERE action = 'billing.subscription_ended' AND workspace_id = '$ACME'")" 1

# Annual billing: the usage cycle is monthly; the yearly billing date moves on only when it has passed.
sql "DELETE FROM usage_history; UPDATE billing_config SET plan_status = 'active', auto_renew = true, cancellation_requested = false,
            cancellation_effective_date = NULL, billing_interval = 'annual', billing_cycle_start = current_date - 31,
            billing_cycle_end = current_date - 1, next_billing_date = current_date + 200 WHERE workspace_id = '$ACME'" >/dev/null
get o $P
is "annual: the yearly billing date is kept" "$(row "next_billing_date = current_date + 200")" t
sql "UPDATE billing_config SET billing_cycle_start = current_date - 31, billing_cycle_end = current_date - 1,
            next_billing_date = current_date WHERE workspace_id = '$ACME'" >/dev/null
get o $P
is "annual: a passed billing date moves one year on" "$(row "next_billing_date = (current_date + interval '1 year')::date")" t

# The periodic command closes cycles of workspaces nobody looks at.
sql "UPDATE billing_config SET billing_cycle_start = current_date - 45, billing_cycle_end = current_date - 15 WHERE workspace_id = '$GLOBEX'" >/dev/null
out=$(as_user env DATABASE_URL="$(APP_URL)" "$BUILD/bin/billing" --rollover 2>&1)
is "billing --rollover reports one workspace" "$out" "billing cycles rolled over: 1"
is "Globex's figure is recorded" "$(sql "SELECT traces FROM usage_history WHERE workspace_id = '$GLOBEX'")" 12500
is "Globex's counter is reset" "$(row traces_current_month $GLOBEX)" 0
out=$(as_user env DATABASE_URL="$(APP_URL)" "$BUILD/bin/billing" --rollover 2>&1)
is "a second run has nothing to do" "$out" "billing cycles rolled over: 0"
is "the app role cannot call the per-workspace function across workspaces" \
	"$(as_user psql -X -q -tA "$(APP_URL)" -c "SELECT count(*) FROM billing_rollover('$GLOBEX')" 2>&1)" 0
