#!/bin/sh
# bench.sh: `make bench`: wrk through nginx against the pages, beside nginx serving
# the same bytes as a static file (the ceiling) and a bare FastCGI page that runs one
# prepared query and writes the team page's very bytes, headers included (the floor
# of what any C page that queries PostgreSQL can do). The team page is measured as
# served (page cache on) and with every view rendered. Prints req/s, p50, p99, ratios.
set -eu
export VAR=${BENCH_VAR:-$(mktemp -d /tmp/settings-bench.XXXXXX)}
export PORT=${BENCH_PORT:-18900}
export PGPORT=${BENCH_PGPORT:-15900}
export PG_FSYNC=off LOGIN_RATE=100000r/s
DURATION=${BENCH_SECONDS:-8}
CONNS=${BENCH_CONNECTIONS:-64}
. "$(dirname "$0")/lib.sh"
STATIC_PORT=$((PORT + 1))

cleanup() {
	pkill -f "$VAR/baseline" 2>/dev/null || true
	stack_stop; pg_stop; rm -rf "$VAR"
}
trap cleanup EXIT INT TERM

pg_start >/dev/null
export SETTINGS_WORKERS=${BENCH_WORKERS:-4}
stack_start
BASE="http://127.0.0.1:$PORT"

# A signed-in owner's cookie.
jar="$VAR/jar"
curl -sS -c "$jar" -b "$jar" -o "$VAR/login.html" "$BASE/login"
tok=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$VAR/login.html" | head -1)
curl -sS -c "$jar" -b "$jar" -o /dev/null --data-urlencode "csrf_token=$tok" \
	-d email=demo@example.com -d password=demo-password "$BASE/login"
session=$(awk '$6 == "session" { print $7 }' "$jar")
COOKIE="Cookie: session=$session"

# The yardsticks serve the team page's own bytes (headers too).
capture_page team "$BASE/w/acme/settings/team" -H "$COOKIE"
capture_page login "$BASE/login"
yardstick_start team
cat >"$VAR/nginx/bench.extra" <<CONF
server {
    listen 127.0.0.1:$STATIC_PORT;
    access_log off;
    location /static/ { alias $VAR/static/; }
    location = /baseline { fastcgi_pass unix:$VAR/run/yard-team.sock; }
}
CONF
if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$VAR/nginx"; fi
as_user nginx -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -g "pid $VAR/run/nginx.pid;" -s reload
sleep 0.5

# bench NAME URL [header]: prints one line and remembers req/s as R_NAME.
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
	LAST=$rps
}
echo "wrk: 2 threads, $CONNS connections, ${DURATION}s each; $SETTINGS_WORKERS workers per page"
bench "static team page (nginx file)" "http://127.0.0.1:$STATIC_PORT/static/team.html"; ceiling=$LAST
bench "bare FastCGI + 1 query (baseline)" "http://127.0.0.1:$STATIC_PORT/baseline"; floor=$LAST
bench "GET /healthz (tx + 1 query)" "$BASE/healthz"
bench "GET /w/acme/settings/team" "$BASE/w/acme/settings/team" -H "$COOKIE"; team=$LAST
page_restart team SETTINGS_PAGE_CACHE=0
bench "... every view rendered (no cache)" "$BASE/w/acme/settings/team" -H "$COOKIE"; cold=$LAST
page_restart team
bench "static login page (nginx file)" "http://127.0.0.1:$STATIC_PORT/static/login.html"; lceil=$LAST
bench "GET /login" "$BASE/login"; loginp=$LAST
for page in billing integrations; do
	[ -x "$BUILD/bin/$page" ] || continue
	bench "GET /w/acme/settings/$page" "$BASE/w/acme/settings/$page" -H "$COOKIE"
done
echo
awk -v t="$team" -v c="$ceiling" -v f="$floor" -v l="$loginp" -v lc="$lceil" -v r="$cold" 'BEGIN {
	printf "team page / static file:      %.2f\n", t / c
	printf "team page / bare FastCGI:     %.2f   (target >= 0.80)\n", t / f
	printf "... every view rendered:      %.2f   (page cache off)\n", r / f
	printf "login page / static file:     %.2f\n", l / lc
}'

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
