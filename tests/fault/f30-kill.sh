#!/bin/sh
# f30-kill.sh: processes killed with kill -9. A worker killed in the middle of
# a request leaves nothing behind and is replaced; a master killed while its
# worker is in a request lets that request finish (acknowledged and stored),
# its workers leave and close their connections, and `make run`'s supervision
# starts the page again: it answers within 2 s, with no orphan left.
. "$ROOT/tests/fault/lib.sh"

login owner demo@example.com
get owner "$TEAM"
is "the team page answers" "$STATUS" 200
wait_healthy
c0=$(app_connections)

# hold_team SECONDS: hold Acme's team lock (what every team change takes first).
hold_team() {
	psql_super -c "BEGIN; SELECT 1 FROM workspaces WHERE id = '$ACME' FOR NO KEY UPDATE;
		SELECT pg_sleep($1); COMMIT;" >/dev/null 2>&1 &
	holder=$!
	sleep 0.3
}
# invite_bg EMAIL: an invitation in the background; its status goes to $T/EMAIL.st
invite_bg() {
	tok=$(csrf owner)
	curl -s -o /dev/null -w '%{http_code}' -b "$T/owner.jar" --data-urlencode "csrf_token=$tok" \
		--data-urlencode "email=$1" -d role=viewer "$BASE$TEAM/invite" >"$T/$1.st" &
	inviter=$!
}
stored() {
	sql "SELECT (SELECT count(*) FROM team_members WHERE invitation_email = '$1')
	      + (SELECT count(*) FROM audit_logs WHERE action = 'team_member.invited' AND changes::text LIKE '%$1%')"
}

# 1. Workers killed (kill -9) while one of them waits in a request.
hold_team 2
invite_bg killed-worker@example.com
sleep 0.7
workers=$(pgrep -P "$(cat "$VAR/run/team.pid")")
kill -9 $workers
wait $inviter
st=$(cat "$T/killed-worker@example.com.st")
is "a request whose worker was killed answers the 503 page" "$st" 503
wait $holder
sleep 0.5
is "... and left nothing (no invitation, no audit row)" "$(stored killed-worker@example.com)" 0
get owner "$TEAM"
is "the master replaced its workers: the page answers" "$STATUS" 200
post owner "$TEAM/invite" email=after-kill@example.com role=viewer
is "... and writes are acknowledged" "$STATUS" 303
is "... and stored with their audit rows" "$(stored after-kill@example.com)" 2
gone=0
for w in $workers; do pid_alive "$w" || gone=$((gone + 1)); done
is "the killed workers are gone" "$gone" "$(echo $workers | wc -w)"
i=0; while [ "$(app_connections)" != "$c0" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "their database connections closed (back to $c0)" "$(app_connections)" "$c0"

# 2. The master killed (kill -9) while a worker is in a request.
master=$(cat "$VAR/run/team.pid")
workers=$(pgrep -P "$master")
hold_team 1.5
invite_bg master-killed@example.com
sleep 0.5
t0=$(now_ms)
kill -9 "$master"
# The page, every 50 ms, until it answers again.
first=; t1=
while [ $(($(now_ms) - t0)) -lt 10000 ]; do
	s=$(curl -s -o "$T/down" -w '%{http_code}' -b "$T/owner.jar" "$BASE$TEAM")
	[ -z "$first" ] && first=$s
	if [ "$s" = 200 ]; then t1=$(now_ms); break; fi
	case $s in 503) ;; *) notok "while the master was down the page answered $s" ;; esac
	sleep 0.05
done
wait $inviter
is "the request in flight when its master died finished: acknowledged" "$(cat "$T/master-killed@example.com.st")" 303
is "... and stored with its audit row" "$(stored master-killed@example.com)" 2
wait $holder
check "the page answers again after its master was killed" test -n "$t1"
elapsed=999999; [ -n "$t1" ] && elapsed=$((t1 - t0))
check "... within 2 s (${elapsed} ms)" test "$elapsed" -le 2000
new=$(cat "$VAR/run/team.pid" 2>/dev/null)
check "a new master runs" sh -c "[ -n '$new' ] && [ '$new' != '$master' ] && kill -0 '$new'"
left=0; i=0
while [ $i -lt 40 ]; do
	left=0; for w in $workers; do pid_alive "$w" && left=$((left + 1)); done
	[ "$left" = 0 ] && break
	sleep 0.1; i=$((i + 1))
done
is "no orphan worker of the killed master remains" "$left" 0
i=0; while [ "$(app_connections)" != "$c0" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
is "database connections back to $c0 (the orphans closed theirs)" "$(app_connections)" "$c0"
post owner "$TEAM/invite" email=after-master@example.com role=viewer
is "writes are acknowledged again" "$STATUS" 303
echo "# team master killed: answered 200 again after ${elapsed} ms; first answer meanwhile: $first; connections before/after: $c0/$(app_connections)"

# 3. Every other page's master, idle: same supervision.
for p in auth invite billing integrations general apikeys audit account password; do
	[ -f "$VAR/run/$p.pid" ] || continue
	m=$(cat "$VAR/run/$p.pid"); ws=$(pgrep -P "$m")
	t0=$(now_ms); kill -9 "$m"
	case $p in
	auth) url=/healthz ;; invite) url=/invite/accept?token=none ;;
	apikeys) url=/w/acme/settings/api-keys ;;
	account) url=/account ;; password) url=/password/forgot ;;
	*) url=/w/acme/settings/$p ;;
	esac
	want=$(case $p in invite) echo 404 ;; *) echo 200 ;; esac)
	t1=
	while [ $(($(now_ms) - t0)) -lt 10000 ]; do
		s=$(curl -s -o /dev/null -w '%{http_code}' -b "$T/owner.jar" "$BASE$url")
		if [ "$s" = "$want" ]; then t1=$(now_ms); break; fi
		sleep 0.05
	done
	el=999999; [ -n "$t1" ] && el=$((t1 - t0))
	check "$p: answers again within 2 s of its master's kill -9 (${el} ms)" test "$el" -le 2000
	sleep 0.3
	left=0; for w in $ws; do pid_alive "$w" && left=$((left + 1)); done
	is "$p: no orphan worker remains" "$left" 0
	echo "# $p master killed: answered again after ${el} ms"
done
