#!/bin/sh
# bench-audit.sh: the audit log page with BENCH_AUDIT_ROWS (default 1,000,000) audit rows in
# the seeded workspace, beside the team page, through nginx with wrk and a random signed-in
# session per request (tests/bench/random-session.lua; the team page with every role's
# sessions, the audit log with the owners' and admins'): the first page, a page filtered by
# action, by person and by dates, a page by cursor. Each with req/s, p50, p99 and the CPU
# microseconds per request of nginx, the executable and PostgreSQL, and the ratios to the
# team page measured just before it; then the executable's and PostgreSQL's instructions
# per request (callgrind, a warm worker; BENCH_CALLGRIND=0 skips it). Then the whole log
# as CSV once: its time, size and the audit workers' peak memory (constant for any size).
set -eu
export VAR="${BENCH_VAR:-$(mktemp -d /tmp/settings-bench-audit.XXXXXX)}"
export PORT="${BENCH_PORT:-18940}"
export PGPORT="${BENCH_PGPORT:-15940}"
export PG_FSYNC=off LOGIN_RATE=100000r/s
DURATION=${BENCH_SECONDS:-8}
CONNS=${BENCH_CONNECTIONS:-64}
ROWS=${BENCH_AUDIT_ROWS:-1000000}
. "$(dirname "$0")/lib.sh"
. "$ROOT/scripts/bench-lib.sh"
# The delivery worker polls the database: not part of what a page costs.
WORKERS=""
# The audit log reads its page at every view; the team page's first page would come from
# what its worker keeps for the workspace (cgi/wscache.c). Beside a team page that reads
# its rows too, the ratio compares the two pages' work; BENCH_AUDIT_TEAM_CACHE=1 compares
# with the team page as served by default.
export SETTINGS_WORKSPACE_CACHE="${BENCH_AUDIT_TEAM_CACHE:-0}"

CG_PORT=$((PORT + 2))
cleanup() { stack_stop; pg_stop; rm -rf "$VAR"; }
trap cleanup EXIT INT TERM

pg_start >/dev/null
export SETTINGS_WORKERS="${BENCH_WORKERS:-4}"
stack_start
BASE="http://127.0.0.1:$PORT"
ACME=00000000-0000-0000-0000-000000000001

# A year of history: one row in 1,000 is a rename, one in 10 by the admin, the rest by
# the owner; every row names a person, as the team actions do.
t0=$(date +%s)
as_user psql -X -q -v ON_ERROR_STOP=1 "$(OWNER_URL)" -v rows="$ROWS" <<SQL
INSERT INTO audit_logs (workspace_id, user_id, action, resource_type, resource_id, changes,
                        ip_address, user_agent, created_at)
SELECT '$ACME',
       CASE WHEN g % 10 = 0 THEN '10000000-0000-0000-0000-000000000002'::uuid
            ELSE '00000000-0000-0000-0000-000000000001'::uuid END,
       CASE WHEN g % 1000 = 0 THEN 'workspace.renamed' ELSE 'team_member.role_changed' END,
       'team_member', '10000000-0000-0000-0000-000000000003',
       jsonb_build_object('email', 'member@example.com', 'old_role', 'member', 'new_role', 'admin',
                          'old', jsonb_build_object('name', 'Acme ' || g), 'new', jsonb_build_object('name', 'Acme ' || g + 1)),
       '127.0.0.1', 'bench', now() - g * interval '30 seconds'
  FROM generate_series(1, :rows) g;
VACUUM ANALYZE audit_logs;
SQL
echo "$ROWS audit rows loaded in $(( $(date +%s) - t0 )) s"

# 500 sessions over the four roles (scripts/bench-lib.sh); the audit log is the owners' and
# admins'. Every page below must show its 50 entries to an owner.
bench_sessions acme 125 "$VAR/sessions"
awk '{ print $2 }' "$VAR/sessions" >"$VAR/tokens-team"
awk '$1 == "owner" || $1 == "admin" { print $2 }' "$VAR/sessions" >"$VAR/tokens-audit"
OWNER=$(awk '$1 == "owner" { print $2; exit }' "$VAR/sessions")
cat >"$VAR/nginx/bench.extra" <<CONF
server {
    listen 127.0.0.1:$CG_PORT;
    access_log off;
    location / { include $ROOT/nginx/fastcgi_params; fastcgi_pass unix:$VAR/run/cg.sock; }
}
CONF
if [ "$(id -u)" -eq 0 ]; then chown -R "$RUNUSER_NAME" "$VAR/nginx"; fi
as_user nginx -p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -g "pid $VAR/run/nginx.pid;" -s reload
sleep 0.5

deep=$(curl -sS -H "Cookie: session=$OWNER" "$BASE/w/acme/settings/audit" |
	sed -n 's/.*href="[^"?]*?\(before=[^"]*\)" rel="next".*/\1/p')
# A cursor half way down the log: the row 500,000th newest (or the middle one).
mid=$(as_user psql -X -At "$(OWNER_URL)" -c "SELECT (extract(epoch FROM created_at) * 1000000)::bigint || '_' || id
	FROM audit_logs WHERE workspace_id = '$ACME' ORDER BY created_at DESC, id DESC OFFSET $((ROWS / 2)) LIMIT 1")
d1=$(date -u -d '-37 days' +%F) d2=$(date -u -d '-30 days' +%F)
AUDIT_PAGES="first|
cursor|?$deep
half|?before=$mid
action|?action=workspace.renamed
actor|?actor=10000000-0000-0000-0000-000000000002
dates|?from=$d1&to=$d2"
echo "$AUDIT_PAGES" | while IFS='|' read -r name q; do
	rows=$(curl -sS -H "Cookie: session=$OWNER" "$BASE/w/acme/settings/audit$q" | grep -c '<time datetime' || true)
	[ "$rows" = 50 ] || { echo "the audit log ($name) showed $rows entries, not 50" >&2; exit 1; }
done || exit 1

echo "wrk: 2 threads, $CONNS connections, ${DURATION}s each; $SETTINGS_WORKERS workers per page;" \
	"$(wc -l <"$VAR/sessions") sessions over 4 roles, a random one per request"
echo "each audit line's ratios are to the team page measured just before it"
rbench_header | sed 's/÷yard/÷team/'
# The team page, then an audit page, in turns (the machine's load changes over a run).
echo "$AUDIT_PAGES" | while IFS='|' read -r name q; do
	Y_RPS=0 Y_P99=0 Y_CPU=0
	rbench "team page" "$BASE/w/acme/settings/team" "$VAR/tokens-team" "$VAR/run/team.pid"
	Y_RPS=$R_RPS Y_P99=$R_P99 Y_CPU=$R_CPU
	case $name in
	first) label="audit log, first page" ;;
	cursor) label="audit log, second page" ;;
	half) label="audit log, half way down" ;;
	action) label="audit log, action (0.1%)" ;;
	actor) label="audit log, the admin's (10%)" ;;
	dates) label="audit log, a week a month ago" ;;
	esac
	rbench "$label" "$BASE/w/acme/settings/audit$q" "$VAR/tokens-audit" "$VAR/run/audit.pid"
	echo "$name $R_RPS $Y_RPS $R_CPU $Y_CPU" >>"$VAR/ratios"
done
awk '{ r[$1] = $2 / $3; c[$1] = $5 / $4 } END {
	printf "audit first page / team page:   %.2f req/s, %.2f CPU   (target: about the same)\n", r["first"], c["first"]
	printf "half way down / team page:      %.2f req/s, %.2f CPU   (keyset: no OFFSET scan)\n", r["half"], c["half"]
	printf "filtered by action / person / dates, of the team page: %.2f / %.2f / %.2f req/s, %.2f / %.2f / %.2f CPU\n",
		r["action"], r["actor"], r["dates"], c["action"], c["actor"], c["dates"]
}' "$VAR/ratios"

# Instructions per request (callgrind): the executable (a warm FastCGI worker, random
# sessions, scripts/bench-lib.sh) and the PostgreSQL backend that serves it (its CPU is
# above; its instructions would need the cluster under valgrind).
if command -v valgrind >/dev/null && [ "${BENCH_CALLGRIND:-1}" != 0 ]; then
	K=${BENCH_CALLGRIND_REQUESTS:-20}
	echo
	echo "instructions of the executable per request (callgrind, a warm worker, $K requests):"
	set -- $(bench_callgrind_warm team /w/acme/settings/team "$VAR/tokens-team" "$K")
	printf '  %-34s %12s  (%s)\n' "team page" "$1" "$2"
	echo "$AUDIT_PAGES" | while IFS='|' read -r name q; do
		case $name in first | action | actor | dates) ;; *) continue ;; esac
		set -- $(bench_callgrind_warm audit "/w/acme/settings/audit$q" "$VAR/tokens-audit" "$K")
		printf '  %-34s %12s  (%s)\n' "audit log, $name" "$1" "$2"
	done
fi
echo
t0=$(date +%s%N)
curl -sS -o "$VAR/audit.csv" -H "Cookie: session=$OWNER" "$BASE/w/acme/settings/audit.csv"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
hwm=0
for pid in $(pgrep -f "$BUILD/bin/audit" || true); do
	k=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
	[ "${k:-0}" -gt "$hwm" ] && hwm=$k
done
echo "CSV of the whole log: $(( $(wc -l <"$VAR/audit.csv") - 1 )) rows, $(( $(wc -c <"$VAR/audit.csv") / 1048576 )) MiB in $ms ms; audit workers' peak memory $((hwm / 1024)) MiB"
