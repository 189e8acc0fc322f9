#!/bin/sh
# bench.sh: `make bench`: real traffic through nginx with wrk. BENCH_SESSIONS sessions
# (default 500) over the four roles of the seeded workspace; every rendered page is
# driven with a random session per request (tests/bench/random-session.lua), beside the
# yardstick in the same run: a bare FastCGI page that runs one prepared query and writes
# the team page's very bytes, headers included (the floor of what any C page that
# queries PostgreSQL can do). For each: req/s, p50, p99, CPU microseconds per request of
# nginx, the executable and PostgreSQL (this run's own processes, from /proc), the
# ratios to the yardstick; then callgrind instructions of one request of each page as
# plain CGI. The one-cookie figure is an extra line. Then the other benchmarks.
set -eu
export VAR=${BENCH_VAR:-$(mktemp -d /tmp/settings-bench.XXXXXX)}
export PORT=${BENCH_PORT:-18900}
export PGPORT=${BENCH_PGPORT:-15900}
export PG_FSYNC=off LOGIN_RATE=100000r/s
DURATION=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNECTIONS:-64}
. "$(dirname "$0")/lib.sh"
# The delivery worker polls the database: not part of what a page costs.
WORKERS=""
STATIC_PORT=$((PORT + 1)) CG_PORT=$((PORT + 2))

cleanup() {
	pkill -f "$VAR/baseline" 2>/dev/null || true
	command -v pgbouncer_stop >/dev/null && pgbouncer_stop
	stack_stop; pg_stop; rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

pg_start >/dev/null
export SETTINGS_WORKERS=${BENCH_WORKERS:-4}
stack_start
BASE="http://127.0.0.1:$PORT"

# Real traffic: BENCH_SESSIONS sessions (default 500) spread evenly over the four
# active members of Acme (owner, admin, member, viewer), written the way sign-in writes
# them (scripts/bench-lib.sh). One more session signs in through /login.
. "$ROOT/scripts/bench-lib.sh"
SESSIONS=${BENCH_SESSIONS:-500}
bench_sessions acme $(((SESSIONS + 3) / 4)) "$VAR/sessions"
jar="$VAR/jar"
curl -sS -c "$jar" -b "$jar" -o "$VAR/login.html" "$BASE/login"
tok=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$VAR/login.html" | head -1)
curl -sS -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$tok" \
	-d email=demo@example.com -d password=demo-password "$BASE/login"
session=$(awk '$6 == "session" { print $7 }' "$jar")
COOKIE="Cookie: session=$session"
OWNER=$(awk '$1 == "owner" { print $2; exit }' "$VAR/sessions")
VIEWER=$(awk '$1 == "viewer" { print $2; exit }' "$VAR/sessions")

# The pages, each driven only by the sessions whose role may see it (so every request
# renders the page): name, executable, path, roles.
PAGE_TABLE="team team /w/acme/settings/team owner,admin,member,viewer
billing billing /w/acme/settings/billing owner
integrations integrations /w/acme/settings/integrations owner,admin,member,viewer
general general /w/acme/settings/general owner,admin,member,viewer
api-keys apikeys /w/acme/settings/api-keys owner,admin,member
audit audit /w/acme/settings/audit owner,admin
account account /account owner,admin,member,viewer"
echo "$PAGE_TABLE" | while read -r name exe path roles; do
	awk -v roles=",$roles," 'index(roles, "," $1 ",") { print $2 }' "$VAR/sessions" >"$VAR/tokens-$name"
done
# Every role's first session, and the one signed in through /login, answer 200.
for role in owner admin member viewer; do
	t=$(awk -v r="$role" '$1 == r { print $2; exit }' "$VAR/sessions")
	s=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: session=$t" "$BASE/w/acme/settings/team")
	[ "$s" = 200 ] || { echo "a $role session got $s on the team page" >&2; exit 1; }
done
s=$(curl -sS -o /dev/null -w '%{http_code}' -H "$COOKIE" "$BASE/w/acme/settings/team")
[ "$s" = 200 ] || { echo "the session signed in through /login got $s" >&2; exit 1; }

# The yardsticks serve the team page's own bytes (headers too).
capture_page team "$BASE/w/acme/settings/team" -H "Cookie: session=$OWNER"
yardstick_start team
cat >"$VAR/nginx/bench.extra" <<CONF
server {
    listen 127.0.0.1:$STATIC_PORT;
    access_log off;
    location /static/ { alias $VAR/static/; }
    location = /baseline { fastcgi_pass unix:$VAR/run/yard-team.sock; }
}
server {
    listen 127.0.0.1:$CG_PORT;
    access_log off;
    location / { include $ROOT/nginx/fastcgi_params; fastcgi_pass unix:$VAR/run/cg.sock; }
}
CONF
if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$VAR/nginx"; fi
as_user nginx -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -g "pid $VAR/run/nginx.pid;" -s reload
sleep 0.5

echo "wrk: 2 threads, $CONNS connections, ${DURATION}s each; $SETTINGS_WORKERS workers per page;" \
	"$(wc -l <"$VAR/sessions") sessions over 4 roles, a random one per request"
echo "CPU: utime+stime from /proc of this run's nginx, the page's master and workers" \
	"(the yardstick's for it) and the cluster's postgres processes, / requests"
rbench_header
Y_RPS=0 Y_P99=0 Y_CPU=0
rbench "yardstick: bare FastCGI+1 q" "http://127.0.0.1:$STATIC_PORT/baseline" "$VAR/tokens-team" \
	"$VAR/run/yard-team.pid"
Y_RPS=$R_RPS Y_P99=$R_P99 Y_CPU=$R_CPU
echo "$PAGE_TABLE" | while read -r name exe path roles; do
	[ -x "$BUILD/bin/$exe" ] || continue
	rbench "$name" "$BASE$path" "$VAR/tokens-$name" "$VAR/run/$exe.pid"
done
echo "$session" >"$VAR/tokens-one"
rbench "team, one cookie (extra)" "$BASE/w/acme/settings/team" "$VAR/tokens-one" "$VAR/run/team.pid"
echo "(÷yard: req/s and CPU as yardstick-relative throughput, higher is better;" \
	"p99x = p99 / the yardstick's p99)"
# Each page's workers after their run: resident memory now and at its peak (VmRSS, VmHWM).
printf 'worker memory after the runs (largest worker of each page): '
echo "$PAGE_TABLE" | while read -r name exe path roles; do
	[ -s "$VAR/run/$exe.pid" ] || continue
	pgrep -P "$(cat "$VAR/run/$exe.pid")" | while read -r w; do
		awk '/^VmRSS/ { r = $2 } /^VmHWM/ { h = $2 } END { print r + 0, h + 0 }' "/proc/$w/status" 2>/dev/null
	done | sort -n | tail -1 | awk -v n="$name" '{ printf "%s %.1f/%.1f MB  ", n, $1 / 1024, $2 / 1024 }'
done
echo "(RSS now/peak)"

# Instructions the executable spends on one rendered request of each page (callgrind):
# a warm FastCGI worker, per request, over BENCH_CALLGRIND_REQUESTS requests with random
# sessions of the roles that may see the page (scripts/bench-lib.sh); and one request as
# plain CGI with an owner's session, the whole process and inside handle() alone. Then
# what a 403 (a viewer on billing) and a redirect (no session) cost.
if command -v valgrind >/dev/null && [ "${BENCH_CALLGRIND:-1}" != 0 ]; then
	K=${BENCH_CALLGRIND_REQUESTS:-20}
	shuf -n 200 -r "$VAR/tokens-team" | awk '{ print "x" }' >"$VAR/tokens-none"
	awk '$1 == "viewer" { print $2 }' "$VAR/sessions" >"$VAR/tokens-viewer"
	echo
	echo "instructions of the executable per request (callgrind):"
	printf '  %-28s %14s  %-12s %14s %12s\n' "" "FastCGI, warm" "(statuses)" "CGI: process" "in handle()"
	{ echo "$PAGE_TABLE"
	  echo "billing-as-viewer billing /w/acme/settings/billing viewer"
	  echo "team-no-session team /w/acme/settings/team none"
	} | while read -r name exe path roles; do
		[ -x "$BUILD/bin/$exe" ] || continue
		case $name in
		billing-as-viewer) tf=$VAR/tokens-viewer t=$VIEWER label="billing as a viewer (403)" ;;
		team-no-session) tf=$VAR/tokens-none t="" label="team, no session (redirect)" ;;
		*) tf=$VAR/tokens-$name t=$OWNER label=$name ;;
		esac
		set -- $(bench_callgrind_warm "$exe" "$path" "$tf" "$K") $(bench_callgrind "$exe" "$path" "$t")
		printf '  %-28s %14s  %-12s %14s %12s\n' "$label" "$1" "($2)" "$3" "$4"
	done
fi

# Extra lines, not the headline: nginx serving the page as a file, and the health check.
echo
bench() {
	name=$1 url=$2
	shift 2
	out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url")
	rps=$(echo "$out" | awk '/^Requests\/sec/ { printf "%d", $2 }')
	p50=$(echo "$out" | awk '$1 == "50%" { print $2 }')
	p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
	non2xx=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
	printf '%-34s %9s req/s   p50 %8s   p99 %8s%s\n' "$name" "$rps" "$p50" "$p99" \
		"${non2xx:+   non-2xx: $non2xx}"
}
bench "static team page (nginx file)" "http://127.0.0.1:$STATIC_PORT/static/team.html"
bench "GET /healthz (tx + 1 query)" "$BASE/healthz"
have_pgb=0
# PgBouncer in transaction pooling (scripts/pgbouncer.sh): the team page, every view
# rendered, with unnamed statements (what PgBouncer needs), directly and through it.
if command -v pgbouncer >/dev/null && [ "${BENCH_PGBOUNCER:-1}" != 0 ]; then
	. "$ROOT/scripts/pgbouncer.sh"
	PGB_PORT=$((PORT + 3)) PGB_POOL=${BENCH_PGB_POOL:-8}
	if pgbouncer_start; then
		have_pgb=1
		echo
		echo "PgBouncer (transaction pooling), team page, random sessions" \
			"(PgBouncer's own CPU not counted):"
		rbench_header
		page_restart team SETTINGS_DB_STATEMENTS=unnamed
		rbench "unnamed statements, direct" "$BASE/w/acme/settings/team" "$VAR/tokens-team" \
			"$VAR/run/team.pid"
		page_restart team SETTINGS_DB_STATEMENTS=unnamed DATABASE_URL="$(PGB_URL)"
		rbench "through PgBouncer" "$BASE/w/acme/settings/team" "$VAR/tokens-team" "$VAR/run/team.pid"
		page_restart team
	fi
fi

# One signed-in team page as plain CGI under Apache (scripts/bench-cgi.sh).
if [ "${BENCH_CGI:-1}" != 0 ] && [ -x /usr/sbin/apache2 ]; then
	echo
	APACHE_PORT=$((PORT + 4)) BENCH_SESSION=$session sh "$ROOT/scripts/bench-cgi.sh" ||
		echo "CGI bench failed"
	[ "$have_pgb" = 1 ] && APACHE_PORT=$((PORT + 4)) PGB_PORT=$PGB_PORT BENCH_CGI_PGBOUNCER=1 \
		BENCH_SESSION=$session sh "$ROOT/scripts/bench-cgi.sh"
fi
# What the backend that a CGI process starts spends (scripts/bench-backend.sh).
if [ "${BENCH_BACKEND:-1}" != 0 ]; then
	echo
	sh "$ROOT/scripts/bench-backend.sh" || echo "backend bench failed"
fi

# The team page of a 10,000-member workspace beside the seeded one, and the audit
# log with a million rows (each on its own stack).
if [ "${BENCH_LARGE:-1}" != 0 ] || [ "${BENCH_AUDIT:-1}" != 0 ]; then
	cleanup
	trap - EXIT INT TERM
fi
if [ "${BENCH_LARGE:-1}" != 0 ]; then
	echo
	env -u DATABASE_URL -u VAR -u PORT -u PGPORT BENCH_VAR= BENCH_PORT= BENCH_PGPORT= \
		sh "$ROOT/scripts/bench-team.sh"
fi
if [ "${BENCH_AUDIT:-1}" != 0 ]; then
	echo
	env -u DATABASE_URL -u VAR -u PORT -u PGPORT BENCH_VAR= BENCH_PORT= BENCH_PGPORT= \
		sh "$ROOT/scripts/bench-audit.sh"
fi

# The delivery worker's throughput (its own cluster; BENCH_DELIVERY=0 skips it).
if [ "${BENCH_DELIVERY:-1}" != 0 ]; then
	echo
	env -u DATABASE_URL -u VAR -u PORT -u PGPORT BENCH_VAR= BENCH_PGPORT= \
		sh "$ROOT/scripts/bench-delivery.sh"
fi
