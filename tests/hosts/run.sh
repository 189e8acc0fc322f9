#!/bin/sh
# run.sh: several app hosts. Two complete sets of the executables ("host a" and "host b",
# each with its own socket directory, environment and logs) against one throwaway
# cluster, behind one nginx whose upstream for each page lists both (nginx/upstreams.md
# in the README). nginx also serves each host alone on its own port. Shows: a session,
# its CSRF token and the sign-in lockout made on one host hold on the other (they live
# in PostgreSQL); killing every process of one host under load fails no GET (nginx
# passes it to the other) and applies no POST twice (nginx does not pass a POST on once
# it was sent); the daily billing job run on both hosts at once closes a cycle once; the
# delivery worker running on both hosts at once delivers every alert exactly once (counted
# at a local receiver, tests/bench/receiver.c), and the other daily jobs (settings-purge,
# the deliveries' purge, the health checks) run on both at once without doing anything
# twice. Ports: HOSTS_PORT (default 18280; +1 host a alone, +2 host b alone, +3 the
# receiver), E2E_PGPORT.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export ROOT
export VAR=${E2E_VAR:-$(mktemp -d /tmp/settings-hosts.XXXXXX)}
export PORT=${HOSTS_PORT:-18280}
export PGPORT=${E2E_PGPORT:-15433}
export PG_FSYNC=off LOGIN_RATE=1000r/s BCRYPT_COST=4
. "$ROOT/scripts/lib.sh"
. "$ROOT/tests/e2e/lib.sh"
PA=$((PORT + 1)) PB=$((PORT + 2))
passed=0 failed=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }
ACME=00000000-0000-0000-0000-000000000001
TEAM=/w/acme/settings/team

# host_start H: every executable of host H on $VAR/H/<page>.sock.
host_start() {
	mkdir -p "$VAR/$1"
	if [ "$(id -u)" -eq 0 ]; then chown "$RUNUSER_NAME" "$VAR/$1"; fi
	for p in $PAGES; do
		spawn_bg "$VAR/$1/$p.pid" "$VAR/log/$1-$p.log" env SETTINGS_SOCKET="$VAR/$1/$p.sock" \
			SETTINGS_SOCKET_MODE=0600 SETTINGS_WORKERS=2 LOGIN_MAX_FAILURES=3 \
			"$BUILD/bin/$p"
	done
}
# host_pids H: every process of host H (the masters and their workers).
host_pids() {
	for p in $PAGES; do
		m=$(cat "$VAR/$1/$p.pid" 2>/dev/null) || continue
		echo "$m"; pgrep -P "$m" || true
	done
}
host_stop() { kill $(host_pids "$1") 2>/dev/null || true; }

# nginx: the site with two servers per upstream, and each host alone.
nginx_start() {
	c=$VAR/nginx
	sed -e "s|@PORT@|$PORT|g" -e "s|@VAR@|$VAR|g" -e "s|@ROOT@|$ROOT|g" -e "s|@LOGIN_RATE@|$LOGIN_RATE|g" \
		-e 's|server unix:\([^;]*\)/run/\([a-z]*\)\.sock;|server unix:\1/a/\2.sock; server unix:\1/b/\2.sock;|' \
		"$ROOT/nginx/settings.conf.in" >"$c/settings.conf"
	for h in a b; do
		[ $h = a ] && hp=$PA || hp=$PB
		sed -e "s|@PORT@|$hp|g" -e "s|@VAR@|$VAR|g" -e "s|@ROOT@|$ROOT|g" -e '/limit_req_zone/d' -e '/limit_conn_zone/d' \
			-e "s|upstream settings_|upstream host${h}_|; s|fastcgi_pass settings_|fastcgi_pass host${h}_|g" \
			-e "s|/run/\([a-z]*\)\.sock|/$h/\1.sock|" "$ROOT/nginx/settings.conf.in" >"$c/host$h.extra"
	done
	sed -e "s|@VAR@|$VAR|g" -e "s|@ROOT@|$ROOT|g" "$ROOT/nginx/nginx-dev.conf.in" >"$c/nginx.conf"
	if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$c"; fi
	as_user nginx -p "$c" -c "$c/nginx.conf" -e "$VAR/log/nginx-error.log" -g "pid $VAR/run/nginx.pid;"
}

cleanup() {
	[ -f "$VAR/run/nginx.pid" ] && kill "$(cat "$VAR/run/nginx.pid")" 2>/dev/null
	for h in a b; do [ -f "$VAR/$h/delivery.pid" ] && kill "$(cat "$VAR/$h/delivery.pid")" 2>/dev/null; done
	[ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null
	host_stop a; host_stop b
	[ -n "${LOAD_PIDS:-}" ] && kill $LOAD_PIDS 2>/dev/null
	sleep 0.3
	pg_stop
	rm -rf "$T"
	[ -n "${E2E_KEEP:-}" ] || rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

prepare_var
dev_secrets
export DATABASE_URL="$(APP_URL)" SETTINGS_TEMPLATES="$ROOT/templates"
export SETTINGS_BASE_URL="http://127.0.0.1:$PORT"
if ! pg_start >"$VAR/log/start.log" 2>&1; then cat "$VAR/log/start.log"; echo "0 passed, 1 failed"; exit 1; fi
host_start a; host_start b; nginx_start
for u in "http://127.0.0.1:$PORT" "http://127.0.0.1:$PA" "http://127.0.0.1:$PB"; do
	i=0
	until curl -fsS -o /dev/null "$u/healthz" 2>/dev/null || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
done

# --- A session made on one host works on the other --------------------------------
BASE="http://127.0.0.1:$PA"
login o demo@example.com
is "signing in on host a answers 303" "$STATUS" 303
BASE="http://127.0.0.1:$PB"
get o "$TEAM"
is "host b opens the team page with host a's session" "$STATUS" 200
check "... and shows who is signed in" body_has 'demo@example.com'
tok=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$T/body" | head -1)
BASE="http://127.0.0.1:$PA"
post_raw o "$TEAM/invite" "csrf_token=$tok" "email=from.host.b@example.com" "role=viewer"
is "host a accepts a form carrying the CSRF token host b's page gave" "$STATUS" 303
BASE="http://127.0.0.1:$PB"
post o /logout
is "signing out on host b answers 303" "$STATUS" 303
BASE="http://127.0.0.1:$PA"
get o "$TEAM"
is "... and the session is gone on host a too" "$STATUS" 303

# Lockout: three failures on host a (LOGIN_MAX_FAILURES=3) lock the email on host b.
for i in 1 2 3; do BASE="http://127.0.0.1:$PA"; login x admin@example.com wrong-password; done
is "the third wrong password on host a answers 401" "$STATUS" 401
BASE="http://127.0.0.1:$PB"
login y admin@example.com demo-password
is "the right password on host b is refused while locked out (429)" "$STATUS" 429
sql "DELETE FROM login_attempts" >/dev/null

# --- Kill every process of host a under load ----------------------------------------
BASE="http://127.0.0.1:$PORT"
login o demo@example.com
sql "UPDATE billing_config SET team_members_limit = NULL WHERE workspace_id = '$ACME'" >/dev/null
session=$(awk '$6 == "session" { print $7 }' "$T/o.jar")
# GETs: four clients, each a sequence of team pages, every status kept.
for k in 1 2 3 4; do
	( i=0; while [ ! -f "$T/stop" ] && [ $i -lt 2000 ]; do
		curl -sS -o /dev/null -w '%{http_code}\n' -H "Cookie: session=$session" "$BASE$TEAM" 2>&1
		i=$((i + 1)); done >"$T/gets$k" ) &
	LOAD_PIDS="${LOAD_PIDS:-} $!"
done
# POSTs: invitations one after another, each with its own email and its status.
( n=0; while [ ! -f "$T/stop" ] && [ $n -lt 200 ]; do
	n=$((n + 1))
	post o "$TEAM/invite" "email=load$n@example.com" "role=viewer"
	echo "$n $STATUS"; done >"$T/posts" ) &
LOAD_PIDS="$LOAD_PIDS $!"
sleep 2
before=$(grep -c . "$T/gets1")
kill -9 $(host_pids a)
killed_at=$(wc -l <"$T/posts")
sleep 3
touch "$T/stop"; wait $LOAD_PIDS
is "the GETs went on after host a died" "$(test "$(grep -c . "$T/gets1")" -gt "$before" && echo yes)" yes
check "both hosts served the load before the kill" sh -c "grep -q 'GET $TEAM 200' '$VAR/log/a-team.log' && grep -q 'GET $TEAM 200' '$VAR/log/b-team.log'"
gets=$(cat "$T"/gets[1-4] | wc -l)
bad=$(cat "$T"/gets[1-4] | grep -vc '^200$')
is "no GET failed ($gets GETs, host a killed mid-load)" "$bad" 0
posts=$(wc -l <"$T/posts")
ok=$(grep -c ' 303$' "$T/posts")
check "POSTs were answered before and after the kill ($posts, $ok with 303, killed after $killed_at)" \
	test "$ok" -gt "$killed_at"
is "no POST was applied twice: none met its own invitation (409)" "$(grep -c ' 409$' "$T/posts")" 0
is "every POST that answered 303 is stored exactly once, with one audit row" \
	"$(for e in $(awk '$2 == 303 { print $1 }' "$T/posts"); do echo "load$e@example.com"; done | while read -r e; do
		sql "SELECT count(*) || '/' || (SELECT count(*) FROM audit_logs WHERE action = 'team_member.invited' AND changes->>'email' = '$e')
		     FROM team_members WHERE invitation_email = '$e'"; done | sort -u)" "1/1"
is "no email has two invitations or two audit rows" \
	"$(sql "SELECT count(*) FROM (SELECT changes->>'email' FROM audit_logs WHERE action = 'team_member.invited'
	        GROUP BY 1 HAVING count(*) > 1) d")" 0
others=$(grep -v ' 303$' "$T/posts" | awk '{ print $2 }' | sort -u | tr '\n' ' ')
check "a POST that did not answer 303 answered the 503 page (never retried): ${others:-none}" \
	sh -c "! grep -v ' 303\$' '$T/posts' | grep -qv ' 503\$'"
grep -q 'upstream prematurely closed\|Connection refused\|failed (111' "$VAR/log/nginx-error.log"
is "nginx saw host a fail and passed the GETs on" "$?" 0

# --- The daily billing job on both hosts at once ------------------------------------
sql "UPDATE billing_config SET billing_cycle_start = current_date - 40, billing_cycle_end = current_date - 10,
     next_billing_date = current_date - 9, traces_current_month = 777 WHERE workspace_id = '$ACME'" >/dev/null
for h in a b; do
	as_user env DATABASE_URL="$DATABASE_URL" "$BUILD/bin/billing" --rollover >"$T/roll$h" 2>&1 &
	ROLL_PIDS="${ROLL_PIDS:-} $!"
done
wait $ROLL_PIDS
is "both hosts' billing --rollover ran" "$(cat "$T/rolla" "$T/rollb" | grep -c '^billing cycles rolled over')" 2
is "... and closed the ended cycle once between them" \
	"$(sed -n 's/^billing cycles rolled over: //p' "$T/rolla" "$T/rollb" | awk '{ s += $1 } END { print s }')" 1
is "one usage_history row, one audit row, the counter reset" \
	"$(sql "SELECT (SELECT count(*) FROM usage_history WHERE workspace_id = '$ACME' AND traces = 777) || ' ' ||
	        (SELECT count(*) FROM audit_logs WHERE action = 'billing.cycle_rolled_over' AND workspace_id = '$ACME') || ' ' ||
	        (SELECT traces_current_month FROM billing_config WHERE workspace_id = '$ACME')")" "1 1 0"

# --- The delivery worker on both hosts at once ---------------------------------------
# Four webhook integrations in Acme (one takes only error spikes) and one in Globex, all
# to the local receiver; 300 alerts; each host's worker with two sender processes and
# small batches, so that the two hosts' claims interleave.
RPORT=$((PORT + 3))
RECEIVER=$ROOT/build/bench/receiver
[ -x "$RECEIVER" ] || make -s -C "$ROOT" build/bench/receiver >/dev/null
: >"$T/received"
"$RECEIVER" "$RPORT" "$T/received" &
RECV_PID=$!
RECV="http://127.0.0.1:$RPORT"
i=0; until curl -fsS -o /dev/null "$RECV/_count" 2>/dev/null || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
GLOBEX=$(sql "SELECT id FROM workspaces WHERE slug = 'globex'")
sql "UPDATE integrations_config SET is_enabled = false;
     INSERT INTO integrations_config (workspace_id, integration_type, integration_name, config_data, event_filters)
     SELECT '$ACME', 'webhook', 'Hosts ' || n,
            jsonb_build_object('url', '$RECV/ok/' || n, 'method', 'POST', 'auth_type', 'none', 'timeout_ms', 5000),
            CASE WHEN n = 4 THEN '{\"alert_types\": [\"error_spike\"]}'::jsonb ELSE '{}'::jsonb END
       FROM generate_series(1, 4) n;
     INSERT INTO integrations_config (workspace_id, integration_type, integration_name, config_data)
     VALUES ('$GLOBEX', 'webhook', 'Hosts G',
             jsonb_build_object('url', '$RECV/ok/g', 'method', 'POST', 'auth_type', 'none', 'timeout_ms', 5000))" >/dev/null
for h in a b; do
	spawn_bg "$VAR/$h/delivery.pid" "$VAR/log/$h-delivery.log" env DATABASE_URL="$DATABASE_URL" \
		SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1 SETTINGS_DELIVERY_PROCESSES=2 SETTINGS_DELIVERY_BATCH=10 \
		SETTINGS_DELIVERY_POLL_MS=200 "$BUILD/bin/delivery"
done
# 240 alerts in Acme (types in turn: 60 error spikes), 60 in Globex, in chunks.
types="error_spike budget_exceeded agent_down latency_high"
for chunk in 1 2 3 4 5 6; do
	for k in $(seq 1 50); do
		n=$(((chunk - 1) * 50 + k))
		set -- $types; shift $((n % 4)); t=$1
		if [ "$n" -le 240 ]; then ws=$ACME; else ws=$GLOBEX; fi
		echo "SELECT alert_enqueue('$ws', '$t', 'error', NULL, 'Hosts alert $n', 'x');"
	done | psql_super >/dev/null
	sleep 0.2
done
expected=$((240 * 3 + 60 + 60))
delivered() { sql "SELECT count(*) FROM integration_deliveries WHERE status = 'delivered' AND title LIKE 'Hosts alert %'"; }
i=0; while [ "$(delivered)" -lt "$expected" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
is "both hosts' workers delivered every delivery ($expected: 3 x 240 + 60 filtered + 60 in Globex)" \
	"$(sql "SELECT count(*) FILTER (WHERE status = 'delivered') || '/' || count(*) FROM integration_deliveries
	        WHERE title LIKE 'Hosts alert %'")" "$expected/$expected"
is "every alert fanned out once: one delivery per alert and integration" \
	"$(sql "SELECT count(*) FROM (SELECT alert_id, integration_id FROM integration_deliveries
	        WHERE title LIKE 'Hosts alert %' GROUP BY 1, 2 HAVING count(*) > 1) d")" 0
curl -fsS "$RECV/_count" >"$T/count"
is "the receiver took them all, each in the webhook format" "$(cat "$T/count")" "requests $expected bad 0"
is "no delivery arrived twice (idempotency keys at the receiver)" "$(sort "$T/received" | uniq -d | wc -l)" 0
sql "SELECT id FROM integration_deliveries WHERE title LIKE 'Hosts alert %' ORDER BY 1" >"$T/ids"
is "the keys received are exactly the deliveries" "$(sort "$T/received" | cmp -s - "$T/ids" && echo same)" same
is "one attempt each" "$(sql "SELECT count(*) FROM integration_delivery_attempts a JOIN integration_deliveries d
	ON d.id = a.delivery_id WHERE d.title LIKE 'Hosts alert %'")" "$expected"
is "the counters add up: every Hosts integration sent what it was given" \
	"$(sql "SELECT sum(total_events_sent) FROM integrations_config WHERE integration_name LIKE 'Hosts %'")" "$expected"
for h in a b; do
	kill "$(cat "$VAR/$h/delivery.pid")" 2>/dev/null
done
i=0; while [ $i -lt 100 ] && { kill -0 "$(cat "$VAR/a/delivery.pid")" 2>/dev/null || kill -0 "$(cat "$VAR/b/delivery.pid")" 2>/dev/null; }; do
	sleep 0.1; i=$((i + 1)); done
sent() { sed -n 's/.*stopping: \([0-9]*\) deliveries recorded.*/\1/p' "$VAR/log/$1-delivery.log" | awk '{ s += $1 } END { print s + 0 }'; }
sa=$(sent a) sb=$(sent b)
check "both hosts' workers delivered a share (host a $sa, host b $sb)" test "$sa" -gt 0 -a "$sb" -gt 0
is "... adding up to every delivery once" "$((sa + sb))" "$expected"
check "no database error in either worker's log" sh -c "! grep -qi 'error\|deadlock' '$VAR/log/a-delivery.log' '$VAR/log/b-delivery.log'"

# --- The other daily jobs on both hosts at once ----------------------------------------
# Health checks: each host's `delivery --check-health` at the same moment.
for h in a b; do
	as_user env DATABASE_URL="$DATABASE_URL" SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1 "$BUILD/bin/delivery" --check-health \
		>"$T/health$h" 2>&1 &
	HC_PIDS="${HC_PIDS:-} $!"
done
hc=0; for p in $HC_PIDS; do wait "$p" || hc=$((hc + 1)); done
is "both hosts' health checks ran to the end" "$hc" 0
is "... and every Hosts integration is checked and healthy" \
	"$(sql "SELECT count(*) FILTER (WHERE health_status = 'healthy' AND last_health_check_at > now() - interval '1 minute')
	        || '/' || count(*) FROM integrations_config WHERE integration_name LIKE 'Hosts %'")" "5/5"
is "... without a request to the receiver (connection checks only)" "$(curl -fsS "$RECV/_count")" "requests $expected bad 0"

# The deliveries' purge (each worker's first sender, at start and hourly): half of this
# run's deliveries made 31 days old; both hosts' workers started at the same moment.
sql "UPDATE integration_deliveries SET created_at = now() - interval '31 days'
     WHERE title LIKE 'Hosts alert %' AND integration_id IN
           (SELECT id FROM integrations_config WHERE integration_name IN ('Hosts 1', 'Hosts 2'))" >/dev/null
old=$(sql "SELECT count(*) FROM integration_deliveries WHERE created_at < now() - interval '30 days'")
for h in a b; do
	spawn_bg "$VAR/$h/delivery.pid" "$VAR/log/$h-delivery2.log" env DATABASE_URL="$DATABASE_URL" \
		SETTINGS_ALLOW_PRIVATE_WEBHOOKS=1 SETTINGS_DELIVERY_PROCESSES=2 "$BUILD/bin/delivery"
done
i=0; while [ "$(sql "SELECT count(*) FROM integration_deliveries WHERE created_at < now() - interval '30 days'")" != 0 ] &&
	[ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
for h in a b; do kill "$(cat "$VAR/$h/delivery.pid")" 2>/dev/null; done
is "the purge removed the $old old deliveries, with their attempts, and kept the rest" \
	"$(sql "SELECT (SELECT count(*) FROM integration_deliveries WHERE title LIKE 'Hosts alert %') || ' ' ||
	        (SELECT count(*) FROM integration_delivery_attempts a JOIN integration_deliveries d ON d.id = a.delivery_id
	          WHERE d.title LIKE 'Hosts alert %')")" "$((expected - old)) $((expected - old))"
check "no error in either worker's log" sh -c "! grep -qi 'error\|deadlock' '$VAR/log/a-delivery2.log' '$VAR/log/b-delivery2.log'"
is "and nothing was sent again" "$(curl -fsS "$RECV/_count")" "requests $expected bad 0"

# settings-purge on both hosts at once, in small steps: Globex, deleted 31 days ago, is
# erased once, with one summary line.
sql "UPDATE workspaces SET deleted_at = now() - interval '31 days' WHERE id = '$GLOBEX'" >/dev/null
for h in a b; do
	PURGE_BATCH=3 sh "$ROOT/scripts/settings-purge" >"$T/purge$h" 2>&1 &
	PURGE_PIDS="${PURGE_PIDS:-} $!"
done
pf=0; for p in $PURGE_PIDS; do wait "$p" || pf=$((pf + 1)); done
is "both hosts' settings-purge ran to the end" "$pf" 0
is "... and between them purged one workspace" \
	"$(sed -n 's/^\([0-9]*\) workspace(s) purged$/\1/p' "$T/purgea" "$T/purgeb" | awk '{ s += $1 } END { print s }')" 1
is "one summary line, finished; the workspace and its rows gone" \
	"$(sql "SELECT (SELECT count(*) FROM workspace_purges WHERE workspace_id = '$GLOBEX') || ' ' ||
	        (SELECT count(*) FROM workspace_purges WHERE workspace_id = '$GLOBEX' AND purged_at IS NOT NULL) || ' ' ||
	        (SELECT count(*) FROM workspaces WHERE id = '$GLOBEX') || ' ' ||
	        (SELECT count(*) FROM integrations_config WHERE workspace_id = '$GLOBEX') || ' ' ||
	        (SELECT count(*) FROM integration_deliveries WHERE workspace_id = '$GLOBEX')")" "1 1 0 0 0"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
