#!/bin/sh
# run.sh: a PostgreSQL failover under load. A primary and a streaming standby made with
# pg_basebackup (synchronous replication: a COMMIT returns once the standby has the WAL
# on disk), the executables connected to both by one libpq multi-host string with
# target_session_attrs=read-write, nginx in front. Under a steady mix of GETs and POSTs
# the standby is promoted and the primary stopped. Shows: every answer during the switch
# is a page (200, 303, or the 503 "try again" page), never a 500 or a hang past curl's
# limit; the app recovers without a restart; every POST that answered 303 is on the new
# primary. Ports: E2E_PORT + 300 (nginx), E2E_PGPORT (primary), E2E_PGPORT + 2 (standby).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export ROOT
export VAR=${E2E_VAR:-$(mktemp -d /tmp/settings-failover.XXXXXX)}
export PORT=${FAILOVER_PORT:-$(( ${E2E_PORT:-18080} + 300 ))}
export PGPORT=${E2E_PGPORT:-15433}
P2=$((PGPORT + 2))
export LOGIN_RATE=1000r/s BCRYPT_COST=4 SETTINGS_WORKERS=2
. "$ROOT/scripts/lib.sh"
. "$ROOT/tests/e2e/lib.sh"
passed=0 failed=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }
ACME=00000000-0000-0000-0000-000000000001
TEAM=/w/acme/settings/team
PG2=$VAR/pg2
on2() { as_user psql -X -q -tAc "$1" "host=$VAR/run port=$P2 dbname=settings user=postgres"; }

cleanup() {
	stack_stop
	[ -n "${LOAD_PIDS:-}" ] && kill $LOAD_PIDS 2>/dev/null
	as_user "$PGBIN/pg_ctl" -D "$PG2" -m immediate -w stop >/dev/null 2>&1
	pg_stop
	rm -rf "$T"
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

# The primary: replication connections allowed, synchronous commit to "standby1".
if ! pg_start >"$VAR/start.log" 2>&1; then cat "$VAR/start.log"; echo "0 passed, 1 failed"; exit 1; fi
printf 'local replication all trust\nhost replication all 127.0.0.1/32 trust\n' >>"$VAR/pg/pg_hba.conf"
psql_super -c "ALTER SYSTEM SET synchronous_standby_names = 'standby1'" -c "SELECT pg_reload_conf()" >/dev/null
# The standby: a base backup streaming from it; once promoted it waits for no one.
as_user "$PGBIN/pg_basebackup" -h "$VAR/run" -p "$PGPORT" -U postgres -D "$PG2" -R -X stream -c fast \
	>>"$VAR/start.log" 2>&1
cat >>"$PG2/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=$VAR/run port=$PGPORT user=postgres application_name=standby1'
synchronous_standby_names = ''
CONF
as_user "$PGBIN/pg_ctl" -D "$PG2" -o "-p $P2" -l "$VAR/log/standby.log" -w -t 60 start >>"$VAR/start.log" 2>&1
i=0
until [ "$(psql_super -tAc "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" = sync ] ||
	[ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "the standby streams synchronously from the primary" \
	"$(psql_super -tAc "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" sync
is "the standby is in recovery (read-only)" "$(on2 "SELECT pg_is_in_recovery()")" t

export DATABASE_URL="host=$VAR/run,$VAR/run port=$PGPORT,$P2 dbname=settings user=settings_app target_session_attrs=read-write connect_timeout=2"
if ! stack_start >>"$VAR/start.log" 2>&1; then cat "$VAR/start.log"; tail "$VAR"/log/*.log; echo "$passed passed, $((failed + 1)) failed"; exit 1; fi
masters_before=$(cat "$VAR"/run/*.pid | sort | tr '\n' ' ')

login o demo@example.com
is "signed in through the multi-host connection" "$STATUS" 303
sql "UPDATE billing_config SET team_members_limit = NULL WHERE workspace_id = '$ACME'" >/dev/null
session=$(awk '$6 == "session" { print $7 }' "$T/o.jar")

# Load: three clients reading the team page, one posting invitations, each answer
# kept with its status (000: no answer within curl's 20 s).
for k in 1 2 3; do
	( i=0; while [ ! -f "$T/stop" ] && [ $i -lt 3000 ]; do
		curl -sS -o /dev/null -m 20 -w '%{http_code}\n' -H "Cookie: session=$session" "$BASE$TEAM" 2>/dev/null
		i=$((i + 1)); done >"$T/gets$k" ) &
	LOAD_PIDS="${LOAD_PIDS:-} $!"
done
tok=$(csrf o)
( n=0; while [ ! -f "$T/stop" ] && [ $n -lt 400 ]; do
	n=$((n + 1))
	s=$(curl -sS -o /dev/null -m 20 -w '%{http_code}' -b "$T/o.jar" --data-urlencode "csrf_token=$tok" \
		--data-urlencode "email=fo$n@example.com" -d role=viewer "$BASE$TEAM/invite" 2>/dev/null)
	echo "$n $s"; done >"$T/posts" ) &
LOAD_PIDS="$LOAD_PIDS $!"
sleep 2
before=$(wc -l <"$T/posts")
# The switch: promote the standby, then stop the old primary.
as_user "$PGBIN/pg_ctl" -D "$PG2" -w -t 60 promote >/dev/null
pg_stop
switched=$(wc -l <"$T/posts")
sleep 4
touch "$T/stop"; wait $LOAD_PIDS; LOAD_PIDS=

is "the new primary accepts writes" "$(on2 "SELECT pg_is_in_recovery()")" f
all=$(cat "$T"/gets[1-3] | sort | uniq -c | tr -s ' ' | tr '\n' ',')
is "every GET answered 200 or the 503 page, none a 500 or a hang ($all)" \
	"$(cat "$T"/gets[1-3] | grep -Evc '^(200|503)$')" 0
pall=$(awk '{ print $2 }' "$T/posts" | sort | uniq -c | tr -s ' ' | tr '\n' ',')
is "every POST answered 303 or the 503 page, none a 500 or a hang ($pall)" \
	"$(awk '{ print $2 }' "$T/posts" | grep -Evc '^(303|503)$')" 0
check "POSTs answered 303 before the switch ($before) and after it" \
	sh -c "awk -v s=$switched '\$1 > s && \$2 == 303' '$T/posts' | grep -q ."
is "the last GETs after the switch answer 200 (recovered)" "$(tail -n 3 "$T/gets1" | sort -u)" 200
is "... with no executable restarted" "$(cat "$VAR"/run/*.pid | sort | tr '\n' ' ')" "$masters_before"
acked=$(awk '$2 == 303 { print $1 }' "$T/posts")
nacked=$(echo "$acked" | grep -c .)
present=0
for e in $acked; do
	[ "$(on2 "SELECT count(*) FROM team_members WHERE invitation_email = 'fo$e@example.com'")" = 1 ] &&
		present=$((present + 1))
done
is "every POST that answered 303 is on the new primary ($present of $nacked)" "$present" "$nacked"
is "... each with its audit row" \
	"$(on2 "SELECT count(*) FROM audit_logs WHERE action = 'team_member.invited' AND changes->>'email' LIKE 'fo%@example.com'
	        AND (changes->>'email') IN ($(for e in $acked; do printf "'fo%s@example.com'," "$e"; done | sed 's/,$//'))")" "$nacked"
get o "$TEAM"
is "the team page answers 200 on the new primary" "$STATUS" 200

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
