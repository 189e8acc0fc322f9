#!/bin/sh
# t490-integrations-stall.sh: no tenant stalls another. With 20 test events
# of one workspace in flight against an endpoint that never answers, each
# POST still answers at once, at most SETTINGS_DELIVERY_TESTS_PER_WORKSPACE
# of them hold a sender, another workspace's integrations page answers as
# it did before (generous bound: 2 s, against a 30 s stall), and that
# workspace's own test event is delivered meanwhile.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"
receiver_start
delivery_restart SETTINGS_DELIVERY_PROCESSES=4 SETTINGS_DELIVERY_TESTS_PER_WORKSPACE=2 SETTINGS_DELIVERY_LEASE_SECONDS=30
login demo demo@example.com
login globex owner@globex.example
G=/w/globex/settings/integrations

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
post globex "$G" integration_type=webhook integration_name=Fine "url=$RECV/ok" method=POST auth_type=none
GID=$(new_id "$GLOBEX")
s0=$(date +%s%N); get globex "$G"; base=$(ms "$s0")
is "baseline: Globex's page answers" "$STATUS" 200

post demo "$I" integration_type=webhook integration_name=Stalls "url=$RECV/hang" method=POST auth_type=none timeout_ms=30000
SID=$(new_id)
worst=0
for i in $(seq 1 20); do
	s0=$(date +%s%N); post demo "$I/$SID/test"; t=$(ms "$s0")
	[ "$t" -gt "$worst" ] && worst=$t
done
is "20 tests queued, each answered 303" "$(sql "SELECT count(*) FROM integration_deliveries WHERE integration_id = '$SID'")" 20
check "no test POST waited on the endpoint (slowest ${worst} ms < 2000)" test "$worst" -lt 2000
i=0; while [ "$(sql "SELECT count(*) FROM integration_deliveries WHERE integration_id = '$SID' AND status = 'sending'")" = 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
is "at most 2 of Acme's tests in flight" "$(sql "SELECT count(*) <= 2 AND count(*) >= 1 FROM integration_deliveries WHERE integration_id = '$SID' AND status = 'sending'")" t

s0=$(date +%s%N); get globex "$G"; during=$(ms "$s0")
is "during the stall: Globex's page answers" "$STATUS" 200
check "during the stall: within 2 s (baseline ${base} ms, now ${during} ms)" test "$during" -lt 2000
post globex "$G/$GID/test"
i=0; while [ "$(delivery_of "$GID" | cut -d'|' -f1)" != delivered ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
is "during the stall: Globex's test event is delivered" "$(delivery_of "$GID" | cut -d'|' -f1)" delivered
is "Acme's tests still wait their turn (none dropped)" "$(sql "SELECT count(*) FROM integration_deliveries WHERE integration_id = '$SID' AND status IN ('queued', 'sending')")" 20
# The stalled tests are not this test's business any more: stop the worker, drop them.
kill "$RECV_PID" 2>/dev/null
worker_stop delivery
sql "DELETE FROM integration_deliveries WHERE integration_id = '$SID'" >/dev/null
delivery_restart
