#!/bin/sh
# run.sh: start a throwaway stack (cluster, executables, nginx) and run every
# tests/e2e/t*.sh against it. Each test prints "ok - ..." / "not ok - ...".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export ROOT
export VAR=${E2E_VAR:-$(mktemp -d /tmp/settings-e2e.XXXXXX)}
export PORT=${E2E_PORT:-18080}
export PGPORT=${E2E_PGPORT:-15433}
export PG_FSYNC=off
export LOGIN_RATE=50r/s
export BCRYPT_COST=${BCRYPT_COST:-11}
export SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1
export SETTINGS_SENDMAIL="$HERE/fake-sendmail.sh"
export SETTINGS_WORKERS=2
# shellcheck source=../../scripts/lib.sh
. "$ROOT/scripts/lib.sh"

cleanup() {
	stack_stop
	pg_stop
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

if ! pg_start >"$VAR.start.log" 2>&1 || ! stack_start >>"$VAR.start.log" 2>&1; then
	cat "$VAR.start.log"; tail -20 "$VAR"/log/*.log 2>/dev/null
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f "$VAR.start.log"
psql_super -tAc "CREATE TABLE IF NOT EXISTS e2e_snapshot_marker(x int)" >/dev/null

pass=0; fail=0
for t in "$HERE"/t*.sh; do
	[ -n "${E2E_ONLY:-}" ] && case "$t" in *"$E2E_ONLY"*) ;; *) continue ;; esac
	echo "-- $(basename "$t")"
	# Every test starts from the seed: reload it into a clean schema.
	sh "$HERE/reset.sh" >/dev/null 2>&1 || echo "reset failed"
	out=$(ROOT=$ROOT VAR=$VAR PORT=$PORT PGPORT=$PGPORT sh "$t" 2>&1)
	printf '%s\n' "$out" | grep -E '^(ok|not ok|#)' | grep -v '^ok' || true
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok')
	echo "   $p passed, $f failed"
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "   (ran no assertion)"; printf '%s\n' "$out" | tail -5; fi
	pass=$((pass + p)); fail=$((fail + f))
done
if [ "$fail" -gt 0 ]; then echo "# app logs (tail):"; tail -n 15 "$VAR"/log/*.log; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
