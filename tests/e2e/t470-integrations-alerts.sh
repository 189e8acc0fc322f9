#!/bin/sh
# t470-integrations-alerts.sh: alerts recorded through alert_enqueue() are
# delivered by the worker to every enabled integration whose filters match
# (types, minimum severity, agents); rate_limit_per_minute makes the excess
# wait (never dropped); failures are retried by retry_config (408/429/5xx
# and no answer; Retry-After obeyed; other 4xx not retried) with the
# delivery id as a stable idempotency key; 20 consecutive failures disable
# the integration with a reason, an audit row and a Re-enable button; and a
# worker killed with kill -9 mid-batch loses nothing.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
receiver_start
delivery_restart
login demo demo@example.com

app_sql() { as_user psql -X -q -v ON_ERROR_STOP=1 "$(APP_URL)" -tAc "$1" 2>&1; }
enqueue() { # TYPE SEVERITY AGENT [TITLE]
	sql "SELECT alert_enqueue('$ACME', '$1', '$2', nullif('$3', ''), '${4:-Alert}', 'Details of the alert')" >/dev/null
}
# got ID: how many requests the receiver has for integration ID (webhook bodies).
got() {
	python3 - "$T/recv" "$1" <<'PY'
import json, os, sys
n = 0
for f in os.listdir(sys.argv[1]):
    if f.endswith(".json"):
        r = json.load(open(os.path.join(sys.argv[1], f)))
        try:
            if json.loads(r["body"])["integration"]["id"] == sys.argv[2]:
                n += 1
        except (ValueError, KeyError, TypeError):
            pass
print(n)
PY
}

# titles ID: how many different alert titles reached the receiver for integration ID.
titles() {
	python3 - "$T/recv" "$1" <<'PY'
import json, os, sys
ids = set()
for f in os.listdir(sys.argv[1]):
    if f.endswith(".json"):
        r = json.load(open(os.path.join(sys.argv[1], f)))
        try:
            b = json.loads(r["body"])
        except ValueError:
            continue
        if b.get("integration", {}).get("id") == sys.argv[2]:
            ids.add(b["alert"]["title"])
print(len(ids))
PY
}

# The seeded integrations have no secrets: keep them out of the way; and
# lift the plan's limit on webhook integrations (this test makes many).
sql "UPDATE integrations_config SET is_enabled = false WHERE workspace_id = '$ACME'" >/dev/null
sql "UPDATE billing_config SET custom_integrations_limit = NULL WHERE workspace_id = '$ACME'" >/dev/null

# The platform's side: alert_enqueue() is the one way in, for the application role too.
is "alert_enqueue as the application role" "$(app_sql "SELECT alert_enqueue('$ACME', 'error_spike', 'error', 'customer_support', 't', 'b') IS NOT NULL")" t
check "the application role cannot write alert_events directly" sh -c "! as_user psql -X -q '$(APP_URL)' -c \"INSERT INTO alert_events (workspace_id, alert_type, severity, title) VALUES ('$ACME', 'error_spike', 'error', 'x')\" >/dev/null 2>&1"
check "alert_enqueue refuses an unknown type" sh -c "! psql_super -c \"SELECT alert_enqueue('$ACME', 'nonsense', 'error', NULL, 't', 'b')\" >/dev/null 2>&1"
check "an alert for a workspace without integrations is fanned out to nothing" settle 20
is "…and marked done" "$(sql "SELECT count(*) FROM alert_events WHERE fanned_out_at IS NOT NULL")" 1

# Filters.
post demo "$I" integration_type=webhook integration_name=Spikes "url=$RECV/ok" method=POST auth_type=none alert_types=error_spike severity_min=error
A=$(new_id)
post demo "$I" integration_type=webhook integration_name=Support "url=$RECV/ok" method=POST auth_type=none alert_types=all agents=customer_support
B=$(new_id)
post demo "$I" integration_type=custom integration_name=Off "url=$RECV/ok" method=POST auth_type=none
C=$(new_id)
post demo "$I/$C/disable"
enqueue error_spike critical customer_support   # A, B
enqueue error_spike warning customer_support    # B (below A's minimum)
enqueue latency_high critical sales_agent       # none (A: type; B: agent)
enqueue budget_exceeded info customer_support   # B
enqueue error_spike error ''                    # A (no agent: B's agent filter says no)
check "filters: everything settled" settle 30
is "filters: Spikes got error spikes of error and above" "$(got "$A")" 2
is "filters: Support got its agent's alerts of every type" "$(got "$B")" 3
is "filters: a disabled integration gets nothing" "$(got "$C")" 0
is "filters: deliveries recorded as alerts" "$(sql "SELECT count(*) FROM integration_deliveries WHERE NOT is_test AND status = 'delivered'")" 5
r=$(python3 - "$T/recv" "$A" <<'PY'
import json, os, sys
for f in sorted(os.listdir(sys.argv[1])):
    if f.endswith(".json"):
        r = json.load(open(os.path.join(sys.argv[1], f)))
        b = json.loads(r["body"])
        if b["integration"]["id"] == sys.argv[2]:
            print(b["type"], b["test"], b["alert"]["type"], b["alert"]["severity"], r["headers"]["x-settings-event"], b["id"] == r["headers"]["x-settings-delivery"])
            break
PY
)
is "alert body: type, severity, idempotency key" "$r" "alert False error_spike critical alert True"
get demo "$I"
check "list: filters in words, not keys" sh -c "grep -qF 'Error spike; severity error and above' '$T/body' && ! grep -qF 'error_spike' '$T/body'"
check "list: no 'none backoff'" sh -c "! grep -qF 'none backoff' '$T/body'"

# Rate limit: 3 a minute; 5 alerts: 3 now, 2 wait (never dropped).
sql "UPDATE integrations_config SET is_enabled = false WHERE id IN ('$A', '$B')" >/dev/null
post demo "$I" integration_type=webhook integration_name=Limited "url=$RECV/ok" method=POST auth_type=none rate_limit_per_minute=3
L=$(new_id)
for i in 1 2 3 4 5; do enqueue agent_down warning sales_agent "Down $i"; done
i=0; while [ "$(got "$L")" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 2
is "rate limit: 3 sent within the minute" "$(got "$L")" 3
is "rate limit: 2 wait in the queue" "$(sql "SELECT count(*) FROM integration_deliveries WHERE integration_id = '$L' AND status = 'queued'")" 2
# The minute passes (moved back rather than waited for).
sql "UPDATE integration_delivery_attempts SET started_at = started_at - interval '61 seconds' WHERE integration_id = '$L'" >/dev/null
check "rate limit: the rest follow once the minute has passed" settle 20
is "rate limit: all 5 delivered" "$(got "$L")" 5
sql "UPDATE integrations_config SET is_enabled = false WHERE id = '$L'" >/dev/null

# Retries: 500, 500, then 200; one delivery id throughout; no backoff asked.
post demo "$I" integration_type=webhook integration_name=Flaky "url=$RECV/flaky" method=POST auth_type=none max_retries=3 backoff=none
F=$(new_id)
enqueue error_spike critical sales_agent
check "retries: settled" settle 30
is "retries: delivered at the third attempt" "$(delivery_of "$F" | cut -d'|' -f1,2)" "delivered|3"
is "retries: attempts recorded" "$(sql "SELECT string_agg(outcome || ':' || http_status, ',' ORDER BY attempt) FROM integration_delivery_attempts WHERE integration_id = '$F'")" "retry:500,retry:500,delivered:200"
is "retries: the same idempotency key each time" "$(python3 - "$T/recv" "$F" <<'PY'
import json, os, sys
ids = set(); n = 0
for f in os.listdir(sys.argv[1]):
    if f.endswith(".json"):
        r = json.load(open(os.path.join(sys.argv[1], f)))
        if r["path"] == "/flaky":
            n += 1; ids.add(r["headers"]["x-settings-delivery"])
print(n, len(ids))
PY
)" "3 1"
is "retries: healthy after the success" "$(sql "SELECT health_status, consecutive_failures FROM integrations_config WHERE id = '$F'")" "healthy|0"

# 429 with Retry-After: 1 is obeyed.
sql "UPDATE integrations_config SET is_enabled = false WHERE id = '$F'" >/dev/null
post demo "$I" integration_type=webhook integration_name=Busy "url=$RECV/limited" method=POST auth_type=none max_retries=2 backoff=none
R=$(new_id)
enqueue error_spike critical sales_agent
check "429: settled" settle 30
is "429: delivered at the second attempt" "$(delivery_of "$R" | cut -d'|' -f1,2)" "delivered|2"
check "429: the retry waited for Retry-After" test "$(sql "SELECT extract(epoch FROM max(started_at) - min(started_at)) >= 0.9 FROM integration_delivery_attempts WHERE integration_id = '$R'")" = t

# A 4xx other than 408/429 is not retried.
sql "UPDATE integrations_config SET is_enabled = false WHERE id = '$R'" >/dev/null
post demo "$I" integration_type=webhook integration_name=Refuses "url=$RECV/unauthorized" method=POST auth_type=none max_retries=3 backoff=none
U=$(new_id)
enqueue error_spike critical sales_agent
check "401: settled" settle 20
is "401: failed after one attempt" "$(delivery_of "$U" | cut -d'|' -f1,2,3)" "failed|1|401"
is "401: degraded after one failure" "$(sql "SELECT health_status FROM integrations_config WHERE id = '$U'")" degraded

# Exponential backoff: the retry is scheduled 2 s or more later.
post demo "$I/$U" integration_name=Refuses "url=$RECV/fail" method=POST auth_type=none max_retries=3 backoff=exponential
enqueue error_spike critical sales_agent
i=0; while [ "$(sql "SELECT count(*) FROM integration_delivery_attempts a JOIN integration_deliveries d ON d.id = a.delivery_id WHERE d.integration_id = '$U' AND a.outcome = 'retry'")" = 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "exponential: next try at least 2 s after the first" test "$(sql "SELECT bool_and(d.next_attempt_at >= a.started_at + interval '1.9 seconds') FROM integration_deliveries d JOIN integration_delivery_attempts a ON a.delivery_id = d.id AND a.attempt = 1 WHERE d.integration_id = '$U' AND d.status = 'queued'")" = t

# 20 consecutive failures disable the integration, with the reason, an audit row and a Re-enable button.
sql "UPDATE integrations_config SET is_enabled = false WHERE id = '$U'" >/dev/null
# (A disabled integration's pending deliveries wait for it; this one is not needed any more.)
sql "DELETE FROM integration_deliveries WHERE integration_id = '$U' AND status = 'queued'" >/dev/null
post demo "$I" integration_type=webhook integration_name=Dead "url=$RECV/unauthorized" method=POST auth_type=none
X=$(new_id)
sql "UPDATE integrations_config SET consecutive_failures = 19 WHERE id = '$X'" >/dev/null
enqueue error_spike critical sales_agent
check "auto-disable: settled" settle 20
is "auto-disable: disabled with the reason" "$(sql "SELECT is_enabled, health_status, disabled_reason LIKE 'Disabled after 20 consecutive failed deliveries%' FROM integrations_config WHERE id = '$X'")" "f|unhealthy|t"
is "auto-disable: audit row without a person" "$(sql "SELECT count(*) FROM audit_logs WHERE action = 'integration.auto_disabled' AND resource_id = '$X' AND user_id IS NULL AND changes->'new'->>'is_enabled' = 'false'")" 1
get demo "$I"
check "auto-disable: the page says why and offers Re-enable" sh -c "grep -qF 'Disabled after 20 consecutive failed deliveries' '$T/body' && grep -qF '>Re-enable<' '$T/body'"
post demo "$I/$X/enable"
is "re-enable: the reason and the streak are cleared" "$(sql "SELECT is_enabled, disabled_reason IS NULL, consecutive_failures FROM integrations_config WHERE id = '$X'")" "t|t|0"
sql "UPDATE integrations_config SET is_enabled = false WHERE id = '$X'" >/dev/null

# kill -9 mid-batch: every alert is delivered at least once.
# (One request at a time to an endpoint taking 20 ms each: the kill lands mid-batch.)
post demo "$I" integration_type=webhook integration_name=Bulk "url=$RECV/pace" method=POST auth_type=none
K=$(new_id)
delivery_restart SETTINGS_DELIVERY_BATCH=20 SETTINGS_DELIVERY_PARALLEL=1
for i in $(seq 1 300); do echo "SELECT alert_enqueue('$ACME', 'latency_high', 'warning', 'sales_agent', 'Bulk $i', 'x');"; done | psql_super >/dev/null
i=0; while [ "$(got "$K")" -lt 40 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
master=$(cat "$VAR/run/delivery.pid")
kids=$(pgrep -P "$master" | tr '\n' ' ')
kill -9 "$master" $kids 2>/dev/null
before=$(got "$K")
check "kill -9: some but not all delivered before the kill ($before)" test "$before" -lt 300
rm -f "$VAR/run/delivery.pid"
delivery_restart
check "kill -9: settled after the restart" settle 60
is "kill -9: all 300 deliveries delivered" "$(sql "SELECT count(*) FILTER (WHERE status = 'delivered'), count(*) FROM integration_deliveries WHERE integration_id = '$K'")" "300|300"
is "kill -9: every alert reached the receiver at least once" "$(titles "$K")" 300
