#!/bin/sh
# bench-delivery.sh (`make bench-delivery`): the delivery worker's throughput:
# BENCH_ALERTS alerts (default 2000) fanned out to 10 webhook integrations of one
# workspace and delivered to the local receiver (tests/bench/receiver.c: keep-alive
# HTTP/1.1, checks each request's method, path and headers, counts), beside what
# the receiver alone takes from wrk sending the same kind of request
# (tests/bench/webhook-post.lua). Its own cluster.
set -eu
export VAR=${BENCH_VAR:-$(mktemp -d /tmp/settings-bench-delivery.XXXXXX)}
export PGPORT=${BENCH_PGPORT:-15960}
export PG_FSYNC=off
RPORT=${BENCH_RECEIVER_PORT:-18961}
ALERTS=${BENCH_ALERTS:-2000}
RECEIVER=$(cd "$(dirname "$0")/.." && pwd)/build/bench/receiver
. "$(dirname "$0")/lib.sh"
. "$ROOT/scripts/bench-lib.sh"

cleanup() {
	# The receiver first: stack_stop waits for every child.
	if [ -n "${RECV_PID:-}" ]; then kill "$RECV_PID" 2>/dev/null || true; fi
	stack_stop
	pg_stop; rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

pg_start >/dev/null
dev_secrets
[ -x "$RECEIVER" ] || make -s -C "$ROOT" build/bench/receiver
"$RECEIVER" "$RPORT" &
RECV_PID=$!
RECV="http://127.0.0.1:$RPORT"
i=0; until curl -fsS -o /dev/null "$RECV/_count" 2>/dev/null || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
received() { curl -fsS "$RECV/_count" | awk '{ print $2 - base, $4 }' base="${1:-0}"; }

echo "delivery: $ALERTS alerts x 10 webhook integrations, one worker (${SETTINGS_DELIVERY_PROCESSES:-4} sender processes)"
rps=$(wrk -t2 -c16 -d5s -s "$ROOT/tests/bench/webhook-post.lua" "$RECV/ok" | awk '/^Requests\/sec/ { printf "%d", $2 }')
printf '%-34s %9s req/s\n' "receiver alone (wrk, 16 connections)" "$rps"
base=$(received | awk '{ print $1 }')

psql_super >/dev/null <<SQL
UPDATE integrations_config SET is_enabled = false;
INSERT INTO integrations_config (workspace_id, integration_type, integration_name, config_data)
SELECT '00000000-0000-0000-0000-000000000001', 'webhook', 'Bench ' || n,
       jsonb_build_object('url', '$RECV/ok', 'method', 'POST', 'auth_type', 'none', 'timeout_ms', 5000)
  FROM generate_series(1, 10) n;
SQL
psql_super -c "SELECT alert_enqueue('00000000-0000-0000-0000-000000000001', 'error_spike', 'error', NULL, 'Bench ' || n, 'x') FROM generate_series(1, $ALERTS) n" >/dev/null
# CPU of the worker (its master and sender processes), PostgreSQL and the receiver.
cpu() {
	pm=$(head -1 "$VAR/pg/postmaster.pid")
	echo "$(bench_cpu_ticks $(bench_tree "$VAR/run/delivery.pid"))" \
		"$(bench_cpu_ticks $pm $(pgrep -P "$pm"))" "$(bench_cpu_ticks "$RECV_PID")"
}
pg0=$(cpu | awk '{ print $2 }') rc0=$(cpu | awk '{ print $3 }')
t0=$(date +%s%N)
worker_start delivery DATABASE_URL="$(APP_URL)" SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1
total=$((ALERTS * 10))
while [ "$(psql_super -tAc "SELECT count(*) FROM integration_deliveries WHERE status = 'delivered'")" -lt "$total" ]; do
	sleep 0.2
	if [ $(( ($(date +%s%N) - t0) / 1000000000 )) -gt 600 ]; then echo "gave up after 600 s" >&2; exit 1; fi
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
set -- $(cpu)
cpu_w=$1 cpu_pg=$(($2 - pg0)) cpu_r=$(($3 - rc0))
worker_stop delivery
set -- $(received "$base")
[ "$1" -ge "$total" ] && [ "$2" = 0 ] ||
	{ echo "the receiver counted $1 requests ($2 not in the webhook format) for $total deliveries" >&2; exit 1; }
awk -v a="$ALERTS" -v d="$total" -v ms="$ms" -v r="$rps" 'BEGIN {
	printf "%-34s %9d alerts/s (%d deliveries/s, %.1f s in all)\n", "worker: enqueue to delivered", a * 1000 / ms, d * 1000 / ms, ms / 1000
	printf "worker deliveries / receiver alone: %.2f\n", d * 1000 / ms / r
}'
awk -v d="$total" -v w="$cpu_w" -v p="$cpu_pg" -v r="$cpu_r" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	f = 1000000 / hz / d
	printf "CPU per delivery: worker %.0f us, PostgreSQL %.0f us, receiver %.0f us\n", w * f, p * f, r * f
}'
