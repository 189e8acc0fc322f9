#!/bin/sh
# run.sh: the fault suite. Starts its own throwaway stack through `make run`'s
# own script (scripts/run.sh: cluster, executables, nginx, supervision) on
# ports of its own, then runs every tests/fault/f*.sh against it: the
# database restarted, backends terminated, processes killed, tables locked,
# slow clients. Each case counts from the database that every acknowledged
# write is there with its audit row and that every refused one left nothing.
# Ends with "N passed, N failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export ROOT
export VAR=${FAULT_VAR:-$(mktemp -d /tmp/settings-fault.XXXXXX)}
# Beside the end-to-end stack's ports unless told otherwise.
export PORT=${FAULT_PORT:-$((${E2E_PORT:-18080} + 100))}
export PGPORT=${FAULT_PGPORT:-$((${E2E_PGPORT:-15433} + 100))}
export PG_FSYNC=off
export LOGIN_RATE=100r/s
export SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1
export SETTINGS_SENDMAIL="$ROOT/tests/e2e/fake-sendmail.sh"
export SETTINGS_WORKERS=2
export SETTINGS_BASE_URL="http://127.0.0.1:$PORT"
# shellcheck source=../../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
prepare_var
RUNLOG=$VAR/log/run.log

runpid=
cleanup() {
	if [ -n "$runpid" ]; then
		kill -TERM "$runpid" 2>/dev/null
		wait "$runpid" 2>/dev/null
	fi
	# Whatever scripts/run.sh could not stop (it was told to stop, above).
	stack_stop >/dev/null 2>&1
	pg_stop
	[ -n "${FAULT_KEEP:-}" ] || rm -rf "$VAR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

sh "$ROOT/scripts/run.sh" >"$RUNLOG" 2>&1 &
runpid=$!
i=0
until curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 "$runpid" 2>/dev/null; then
		echo "the fault stack did not start:"; tail -30 "$RUNLOG"; tail -5 "$VAR"/log/*.log
		echo "0 passed, 1 failed"
		exit 1
	fi
	sleep 0.1
done

pass=0; fail=0
for t in "$HERE"/f*.sh; do
	[ -n "${FAULT_ONLY:-}" ] && case "$t" in *"$FAULT_ONLY"*) ;; *) continue ;; esac
	echo "-- $(basename "$t")"
	ROOT=$ROOT sh "$ROOT/tests/e2e/reset.sh" >/dev/null 2>&1 || echo "reset failed"
	out=$(ROOT=$ROOT VAR=$VAR PORT=$PORT PGPORT=$PGPORT sh "$t" 2>&1)
	# Failures, and the figures each case measured ("# ..." lines).
	printf '%s\n' "$out" | grep -E '^(not ok|#)' || true
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok')
	echo "   $p passed, $f failed"
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "   (ran no assertion)"; printf '%s\n' "$out" | tail -5; fi
	pass=$((pass + p)); fail=$((fail + f))
done
if [ "$fail" -gt 0 ]; then echo "# logs (tail):"; tail -n 15 "$RUNLOG" "$VAR"/log/*.log; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
