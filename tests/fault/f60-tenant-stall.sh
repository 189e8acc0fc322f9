#!/bin/sh
# f60-tenant-stall.sh: no tenant stalls another. With 20 test events of one
# workspace in flight against an endpoint that never answers, each POST still
# answers at once, at most SETTINGS_DELIVERY_TESTS_PER_WORKSPACE of them hold
# a sender, another workspace's integrations page answers within its normal
# p99 (measured in this run before the stall; a generous factor, since the
# machine may be loaded, against a 30 s stall), and that workspace's own test
# event is delivered meanwhile.
. "$ROOT/tests/fault/lib.sh"
. "$ROOT/tests/e2e/integrations-lib.sh"

SAMPLES=40           # page views timed before and during the stall
FACTOR=5             # during-stall p99 may be at most FACTOR x the normal p99 ...
FLOOR_MS=200         # ... taking the normal p99 as at least this (a loaded machine's hiccups; a stall is 30 s)

# delivery_swap [NAME=value...]: restart the delivery worker with this
# environment. The pid file goes first, so that the stack's supervision
# (scripts/run.sh) never starts a second one with the default environment.
delivery_swap() {
	_dp=$(cat "$VAR/run/delivery.pid" 2>/dev/null)
	rm -f "$VAR/run/delivery.pid"
	if [ -n "$_dp" ]; then
		kill "$_dp" 2>/dev/null
		_i=0; while pid_alive "$_dp" && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	fi
	worker_start delivery SETTINGS_INTEGRATION_ENDPOINT_OVERRIDE="${RECV:-}" \
		SETTINGS_DELIVERY_POLL_MS=200 "$@"
}
# p99 JAR PATH: views the page SAMPLES times; prints the p99 in ms, then how
# many views did not answer 200.
p99() {
	: >"$T/times"
	for _k in $(seq 1 "$SAMPLES"); do
		curl -sS -o /dev/null -b "$T/$1.jar" -w '%{http_code} %{time_total}\n' "$BASE$2" >>"$T/times"
	done
	_i=$(( (SAMPLES * 99 + 99) / 100 ))
	echo "$(awk '{ print int($2 * 1000) }' "$T/times" | sort -n | sed -n "${_i}p") $(grep -vc '^200 ' "$T/times")"
}

receiver_start
delivery_swap SETTINGS_DELIVERY_PROCESSES=4 SETTINGS_DELIVERY_TESTS_PER_WORKSPACE=2 SETTINGS_DELIVERY_LEASE_SECONDS=30
login demo demo@example.com
login globex owner@globex.example
G=/w/globex/settings/integrations

post globex "$G" integration_type=webhook integration_name=Fine "url=$RECV/ok" method=POST auth_type=none
GID=$(new_id "$GLOBEX")
get globex "$G"
is "baseline: Globex's page answers" "$STATUS" 200
base=$(p99 globex "$G")
is "baseline: $SAMPLES views of Globex's page all answer 200" "${base#* }" 0
base=${base%% *}

post demo "$I" integration_type=webhook integration_name=Stalls "url=$RECV/hang" method=POST auth_type=none timeout_ms=30000
SID=$(new_id)
worst=0
for i in $(seq 1 20); do
	t0=$(now_ms); post demo "$I/$SID/test"; t=$(($(now_ms) - t0))
	[ "$t" -gt "$worst" ] && worst=$t
done
is "20 tests queued, each answered 303" "$(sql "SELECT count(*) FROM integration_deliveries WHERE integration_id = '$SID'")" 20
echo "# the slowest of the 20 test POSTs: $worst ms"
i=0; while [ "$(sql "SELECT count(*) FROM integration_deliveries WHERE integration_id = '$SID' AND status = 'sending'")" = 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
is "Acme's tests are in flight, at most 2 at once" "$(sql "SELECT count(*) <= 2 AND count(*) >= 1 FROM integration_deliveries WHERE integration_id = '$SID' AND status = 'sending'")" t

during=$(p99 globex "$G")
is "during the stall: $SAMPLES views of Globex's page all answer 200" "${during#* }" 0
during=${during%% *}
norm=$base; [ "$norm" -lt "$FLOOR_MS" ] && norm=$FLOOR_MS
echo "# Globex's integrations page, p99 of $SAMPLES views: $base ms before the stall, $during ms during it"
check "during the stall: Globex's p99 ($during ms) within ${FACTOR}x its normal p99 ($base ms, at least $FLOOR_MS)" \
	test "$during" -le $((FACTOR * norm))
is "... and Acme's tests were still in flight meanwhile" "$(sql "SELECT count(*) >= 1 FROM integration_deliveries WHERE integration_id = '$SID' AND status = 'sending'")" t
post globex "$G/$GID/test"
i=0; while [ "$(delivery_of "$GID" | cut -d'|' -f1)" != delivered ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
is "during the stall: Globex's test event is delivered" "$(delivery_of "$GID" | cut -d'|' -f1)" delivered
is "Acme's tests still wait their turn (none dropped)" "$(sql "SELECT count(*) FROM integration_deliveries WHERE integration_id = '$SID' AND status IN ('queued', 'sending')")" 20
# The stalled tests are not this test's business any more: stop the worker, drop them.
kill "$RECV_PID" 2>/dev/null
_dp=$(cat "$VAR/run/delivery.pid" 2>/dev/null); rm -f "$VAR/run/delivery.pid"
[ -n "$_dp" ] && kill "$_dp" 2>/dev/null
i=0; while [ -n "$_dp" ] && pid_alive "$_dp" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sql "DELETE FROM integration_deliveries WHERE integration_id = '$SID'" >/dev/null
worker_start delivery
