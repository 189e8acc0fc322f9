#!/bin/sh
# t011-process.sh: pre-forked workers are replaced, shutdown is graceful, the database may come and go.
. "$ROOT/tests/e2e/lib.sh"

# A second auth server on its own socket, spoken to directly with cgi-fcgi.
sock="$VAR/run/t011.sock"
chmod 777 "$T"
spawn_bg "$T/master.pid" "$T/t011.log" env SETTINGS_SOCKET="$sock" SETTINGS_WORKERS=3 \
	SETTINGS_SOCKET_MODE=0600 "$BUILD/bin/auth"
master=$(cat "$T/master.pid")
i=0; while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
fcgi() { # fcgi METHOD URI [body]: one FastCGI request to the second server
	printf '%s' "${3:-}" | as_user env REQUEST_METHOD="$1" REQUEST_URI="$2" \
		CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH="${#3}" \
		cgi-fcgi -bind -connect "$sock"
}
check "the socket is a unix socket" test -S "$sock"
is "the socket is private to its user (mode 600)" "$(stat -c %a "$sock")" 600
fcgi GET /healthz >"$T/out"
check "the second server answers over FastCGI" grep -q '^Status: 200' "$T/out"
workers=$(pgrep -P "$master" | wc -l)
is "three workers were pre-forked" "$workers" 3
victim=$(pgrep -P "$master" | head -1)
kill -9 "$victim"
sleep 0.5
is "a killed worker is replaced" "$(pgrep -P "$master" | wc -l)" 3
check "the killed worker is gone" sh -c "! kill -0 $victim 2>/dev/null"
fcgi GET /healthz >"$T/out"
check "requests still succeed after a worker died" grep -q '^Status: 200' "$T/out"

# Graceful stop: a request whose body is still arriving finishes before exit.
( (sleep 1; printf 'email=a%%40b.co&password=x') | as_user env REQUEST_METHOD=POST REQUEST_URI=/login \
	CONTENT_TYPE=application/x-www-form-urlencoded CONTENT_LENGTH=27 \
	cgi-fcgi -bind -connect "$sock" >"$T/inflight" 2>&1 ) &
slow=$!
sleep 0.4
kill -TERM "$master"
i=0; while kill -0 "$slow" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "an in-flight request finishes during shutdown" grep -q '^Status: ' "$T/inflight"
i=0; while kill -0 "$master" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the master exits on SIGTERM" sh -c "! kill -0 $master 2>/dev/null"
check "the socket is removed on exit" test ! -e "$sock"

# The database goes away and comes back; the app is not restarted.
as_user "$PGBIN/pg_ctl" -D "$VAR/pg" -m fast -w stop >/dev/null
get a /healthz
is "healthz is 503 while the database is down" "$STATUS" 503
get a /login
is "pages answer 503 (not 502) while the database is down" "$STATUS" 503
check "the 503 page says the service is unavailable" body_has 'temporarily unavailable'
check "the 503 page has the security headers" sh -c "grep -qi '^Content-Security-Policy' '$T/headers'"
as_user "$PGBIN/pg_ctl" -D "$VAR/pg" -o "-p $PGPORT" -l "$VAR/log/postgresql.log" -w start >/dev/null
ok_after=0
for i in 1 2 3 4; do get a /healthz; [ "$STATUS" = 200 ] && ok_after=$((ok_after + 1)); done
is "after the database returns every request succeeds, without restarting the app" "$ok_after" 4
get a /login
is "pages work again" "$STATUS" 200
