#!/bin/sh
# run.sh: the PgBouncer suite. Starts a throwaway cluster, a private PgBouncer (Debian's
# pgbouncer 1.18) in transaction pooling mode with two server connections, and the
# executables (SETTINGS_DB_STATEMENTS=unnamed) and nginx with every connection going
# through it; then runs tests/pgbouncer/t*.sh and a representative set of the
# end-to-end tests (access across workspaces, races, audit rows) against that stack.
# Ports: PGB_PORT (default E2E_PGPORT + 1), E2E_PORT, E2E_PGPORT.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export ROOT
export VAR=${E2E_VAR:-$(mktemp -d /tmp/settings-pgb.XXXXXX)}
export PORT=${E2E_PORT:-18080}
export PGPORT=${E2E_PGPORT:-15433}
export PGB_PORT=${PGB_PORT:-$((PGPORT + 1))} PGB_POOL=${PGB_POOL:-2}
export PG_FSYNC=off LOGIN_RATE=50r/s BCRYPT_COST=${BCRYPT_COST:-11}
export SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1 SETTINGS_SENDMAIL="$ROOT/tests/e2e/fake-sendmail.sh"
export SETTINGS_WORKERS=2 SETTINGS_DB_STATEMENTS=unnamed
. "$ROOT/scripts/lib.sh"
. "$ROOT/scripts/pgbouncer.sh"
E2E_TESTS=${PGB_E2E_TESTS:-"t020-signin t021-access t202-team-roles t204-team-races
t325-billing-plan-race t410-integrations-roles"}

cleanup() {
	stack_stop
	pgbouncer_stop
	pg_stop
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

if ! pg_start >"$VAR.start.log" 2>&1 || ! pgbouncer_start >>"$VAR.start.log" 2>&1; then
	cat "$VAR.start.log"; echo "0 passed, 1 failed"; exit 1
fi
export DATABASE_URL="$(PGB_URL)"
if ! stack_start >>"$VAR.start.log" 2>&1; then
	cat "$VAR.start.log"; tail -5 "$VAR"/log/*.log; echo "0 passed, 1 failed"; exit 1
fi
rm -f "$VAR.start.log"

pass=0; fail=0
for t in "$HERE"/t*.sh $(for e in $E2E_TESTS; do echo "$ROOT/tests/e2e/$e.sh"; done); do
	[ -f "$t" ] || continue
	[ -n "${E2E_ONLY:-}" ] && case "$t" in *"$E2E_ONLY"*) ;; *) continue ;; esac
	echo "-- $(basename "$t")"
	sh "$ROOT/tests/e2e/reset.sh" >/dev/null 2>&1 || echo "reset failed"
	out=$(ROOT=$ROOT VAR=$VAR PORT=$PORT PGPORT=$PGPORT sh "$t" 2>&1)
	printf '%s\n' "$out" | grep -E '^(ok|not ok|#)' | grep -v '^ok' || true
	p=$(printf '%s\n' "$out" | grep -c '^ok ')
	f=$(printf '%s\n' "$out" | grep -c '^not ok')
	echo "   $p passed, $f failed"
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "   (ran no assertion)"; printf '%s\n' "$out" | tail -5; fi
	pass=$((pass + p)); fail=$((fail + f))
done
if [ "$fail" -gt 0 ]; then echo "# logs (tail):"; tail -n 15 "$VAR"/log/*.log; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
