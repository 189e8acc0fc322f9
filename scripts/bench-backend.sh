#!/bin/sh
# bench-backend.sh: what the PostgreSQL backend that a plain CGI process starts spends,
# case by case, against a running cluster (VAR, PGPORT: bench.sh's, or the Apache
# suite's: `sh tests/apache/run.sh sh scripts/bench-backend.sh`). For each case,
# BENCH_BACKEND_N (default 100) new connections one after another; the CPU time of the
# postmaster and its children (the backends, reaped: /proc cutime + cstime) before and
# after, divided by N:
#   - connect and SELECT 1 (Unix socket, trust: the harness's pg_hba);
#   - connect, the app's set_config (timeouts) and its session function
#     (auth_session), the first thing every signed-in page runs; and the same with
#     auth_session_once (019), the SQL-language twin a plain CGI process calls;
#   - the signed-in team page itself as plain CGI (the executable, no web server);
#   - connect and SELECT 1 over TCP: trust, scram-sha-256 (PBKDF2, 4096 iterations,
#     PostgreSQL's default), and scram-sha-256 with TLS (a self-signed certificate);
# then, inside one connection, the session function's first call against its second
# (what the first call of a new backend costs: catalog caches, PL/pgSQL compilation,
# planning), and with BENCH_BACKEND_PERF=1 (root, perf) where the backends' time goes
# while CGI team pages are served (perf record on the postmaster, whose children
# inherit it: by library, then the top symbols). The client's CPU (psql, or the CGI
# process) is shown beside the backend's.
# The cluster's pg_hba.conf and settings are put back afterwards.
set -eu
. "$(dirname "$0")/lib.sh"
N=${BENCH_BACKEND_N:-100}
URL=/w/acme/settings/team
pm=$(head -1 "$VAR/pg/postmaster.pid")
hz=$(getconf CLK_TCK)

ticks() {
	for _p in "$pm" $(pgrep -P "$pm"); do cat "/proc/$_p/stat" 2>/dev/null; done |
		awk '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
# kids: the CPU time (ms) of this shell's waited-for children so far (the shell's
# `times`, run in this shell: not in a command substitution, whose children are its own).
kids() {
	times >"$VAR/times"
	tail -1 "$VAR/times" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, m, "m"); sub(/s$/, "", m[2]); t += m[1] * 60 + m[2] }
		printf "%d", t * 1000 }'
}
# per LABEL CMD...: runs CMD N times; prints, per run, the backends' CPU, the client's
# (CMD's processes: psql, or the CGI process) and the wall time.
per() {
	_l=$1; shift
	_t0=$(ticks); kids >"$VAR/k0"; _w0=$(date +%s%N); _i=0
	while [ $_i -lt "$N" ]; do "$@" >/dev/null 2>&1 || { echo "  $_l: failed"; return 0; }; _i=$((_i + 1)); done
	_w1=$(date +%s%N); kids >"$VAR/k1"; _t1=$(ticks)
	_k0=$(cat "$VAR/k0"); _k1=$(cat "$VAR/k1")
	awk -v l="$_l" -v t=$((_t1 - _t0)) -v hz="$hz" -v n="$N" -v w=$((_w1 - _w0)) -v k=$((_k1 - _k0)) \
		'BEGIN { printf "  %-58s %5.1f  %5.1f  %5.1f\n", l, t * 1000 / hz / n, k / n, w / 1e6 / n }'
}

# A session of demo@example.com, as sign-in stores it.
token=$(printf 'benchbackend%031d' 0)
hash=$(printf %s "$token" | sha256sum | cut -d' ' -f1)
psql_super -c "DELETE FROM sessions WHERE token_hash = '$hash';
	INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at)
	VALUES ('$hash', '00000000-0000-0000-0000-000000000001', 'csrf-bench', now() + interval '1 hour')" >/dev/null
SESSION_SQL="SELECT set_config('lock_timeout', '3000', false), set_config('statement_timeout', '5000', false);
SELECT * FROM auth_session('$hash', 'acme', 1209600)"
SESSION_ONCE_SQL="SELECT set_config('lock_timeout', '3000', false), set_config('statement_timeout', '5000', false);
SELECT * FROM auth_session_once('$hash', 'acme', 1209600)"
APP="$(APP_URL)"
TCP="host=127.0.0.1 port=$PGPORT dbname=settings user=settings_app"

q() { as_user psql -X -q -d "$1" -c "$2"; }
cgi() {
	as_user env -i DATABASE_URL="${CGI_URL:-$APP}" REQUEST_METHOD=GET REQUEST_URI="$URL" GATEWAY_INTERFACE=CGI/1.1 \
		REMOTE_ADDR=127.0.0.1 HTTP_HOST=127.0.0.1 HTTP_COOKIE="session=$token" \
		SETTINGS_TEMPLATES="$ROOT/templates" "$BUILD/bin/team"
}
[ "$(cgi | sed -n 's/^Status: //p' | head -1 | cut -c1-3)" = 200 ] || { echo "the CGI team page did not answer 200"; exit 1; }

echo "A new backend's CPU, per connection ($N connections each, one at a time), ms:"
printf '  %-58s %5s  %5s  %5s\n' "" backend client wall
idle0=$(ticks); sleep 2; idle1=$(ticks)
echo "  (the cluster's background processes, idle: $(( (idle1 - idle0) * 1000 / hz / 2 )) ms CPU a second, included below)"
per "connect, SELECT 1 (Unix socket, trust)" q "$APP" "SELECT 1"
per "connect, set_config + auth_session (Unix socket)" q "$APP" "$SESSION_SQL"
per "connect, set_config + auth_session_once (plain CGI, 019)" q "$APP" "$SESSION_ONCE_SQL"
per "the CGI team page (Unix socket, trust)" cgi

# TCP, then SCRAM, then TLS: the authentication a shared host's database would ask for.
hba=$VAR/pg/pg_hba.conf
cp "$hba" "$VAR/pg_hba.bench"
restore() {
	cp "$VAR/pg_hba.bench" "$hba"
	psql_super -c "ALTER SYSTEM RESET ssl" -c "ALTER ROLE settings_app PASSWORD NULL" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
}
trap restore EXIT
per "connect, SELECT 1 (TCP, trust)" q "$TCP" "SELECT 1"
psql_super -c "SET password_encryption = 'scram-sha-256'" -c "ALTER ROLE settings_app PASSWORD 'bench-password'" >/dev/null
printf 'local all all trust\nhostssl settings settings_app 127.0.0.1/32 scram-sha-256\nhost settings settings_app 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n' >"$hba"
chown "$RUNUSER_NAME" "$hba" 2>/dev/null || true
psql_super -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
per "connect, SELECT 1 (TCP, scram-sha-256, 4096 iterations)" q "$TCP password=bench-password sslmode=disable" "SELECT 1"
CGI_URL="$TCP password=bench-password sslmode=disable"
per "the CGI team page (TCP, scram-sha-256)" cgi
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-keyout "$VAR/pg/server.key" -out "$VAR/pg/server.crt" >/dev/null 2>&1
	chown "$RUNUSER_NAME" "$VAR/pg/server.key" "$VAR/pg/server.crt" 2>/dev/null || true
	chmod 600 "$VAR/pg/server.key"
	psql_super -c "ALTER SYSTEM SET ssl = on" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
	per "connect, SELECT 1 (TCP, TLS 1.3, scram-sha-256)" q "$TCP password=bench-password sslmode=require sslcert=$VAR/none sslkey=$VAR/none" "SELECT 1"
	CGI_URL="$TCP password=bench-password sslmode=require sslcert=$VAR/none sslkey=$VAR/none"
	per "the CGI team page (TCP, TLS 1.3, scram-sha-256)" cgi
fi
CGI_URL=
restore
trap - EXIT

# Inside one backend: the session function's first call against its second.
echo "Inside one new backend (psql's timing, ms; the median of 5 backends):"
for _ in 1 2 3 4 5; do
	as_user psql -X -q -d "$APP" -c '\timing on' -c "SELECT 1" -c "SELECT * FROM auth_session('$hash', 'acme', 1209600)" \
		-c "SELECT * FROM auth_session('$hash', 'acme', 1209600)" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tr '\n' ' '
	echo
done | sort -t' ' -k2 -n | sed -n 3p | awk '{ printf "  SELECT 1: %s ms; auth_session, first call: %s ms; second call: %s ms\n", $1, $2, $3 }'

if [ "${BENCH_BACKEND_PERF:-0}" = 1 ] && command -v perf >/dev/null && [ "$(id -u)" -eq 0 ]; then
	echo "Where the backends' time goes, CGI team pages one after another (perf record -p postmaster, its children inherit; top symbols):"
	perf record -q -o "$VAR/perf.data" -p "$pm" -F 4999 -- sh -c '
		i=0; while [ $i -lt "$0" ]; do
			setpriv --reuid="$1" --regid="$1" --init-groups env -i REQUEST_METHOD=GET REQUEST_URI="$2" \
				GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 HTTP_HOST=127.0.0.1 HTTP_COOKIE="session=$3" \
				DATABASE_URL="$4" SETTINGS_TEMPLATES="$5" "$6" >/dev/null 2>&1
			i=$((i + 1))
		done' "$N" "$RUNUSER_NAME" "$URL" "$token" "$APP" "$ROOT/templates" "$BUILD/bin/team" >/dev/null 2>&1
	perf report -q -i "$VAR/perf.data" --sort dso --stdio 2>&1 | grep -v '^$' | head -5 | sed 's/^/  /'
	perf report -q -i "$VAR/perf.data" --sort dso,sym --percent-limit 1 --stdio 2>&1 |
		grep -v '^$' | head -25 | sed 's/^/  /'
fi
